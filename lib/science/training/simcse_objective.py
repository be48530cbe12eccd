"""Unsupervised SimCSE as a training objective: the encoder (and, with ``cls`` pooling, the train-time MLP), the
shuffled Wikipedia sentences, the contrastive loss over two dropout views, STS-B dev, and SimCSE's export."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import torch
from torch import nn

from .. import data, models
from .config import SimCSEConfig
from .objective import Objective, set_dropout, stsb_dev
from .processes import Processes


class SimCSEModule(nn.Module):
    """The encoder and (with ``cls`` pooling) the train-time MLP; ``forward`` returns the contrastive loss."""

    def __init__(self, encoder, mlp, cfg: SimCSEConfig):
        super().__init__()
        self.encoder, self.mlp, self.pooling, self.temperature = encoder, mlp, cfg.pooling, cfg.temperature

    def forward(self, ids, mask):
        from ..simcse import contrastive_loss, views

        z1, z2 = views(self.encoder, ids, mask, self.pooling, self.mlp if self.pooling == "cls" else None)
        return contrastive_loss(z1, z2, self.temperature)


class SimCSEObjective(Objective):
    def __init__(self, cfg: SimCSEConfig, device: str, progress: bool = True, cache_dir: Path | None = None):
        from ..simcse import MLP

        super().__init__(cfg, device)
        self.spec = models.resolve(cfg.model)
        self.init_fingerprint = models.fingerprint(self.spec)
        encoder, self.tokenizer = models.load_pretrained(self.spec)
        set_dropout(encoder, cfg.dropout)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            mlp = MLP(encoder.config.hidden_size, getattr(encoder.config, "initializer_range", 0.02))
        table = data.load("wiki", "train", cfg.data_dir, limit=cfg.n_sentences or None)
        self.sentences, self.corpus_sha256 = table.columns["text"], table.sha256
        self.n_train = len(self.sentences)
        self.fast_dropout(encoder)
        self.module = SimCSEModule(encoder, mlp if cfg.pooling == "cls" else nn.Identity(), cfg).to(device)
        self.stsb = stsb_dev(cfg)
        self._epoch, self._batches = -1, []

    def encoder(self):
        return self.module.encoder

    def loss(self, trained, step: int, procs: Processes, global_batch: int):
        from ..corpus import shuffled_batches

        n_batches = math.ceil(self.n_train / global_batch) if procs.world == 1 else self.n_train // global_batch
        epoch, k = divmod(step, n_batches)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, shuffled_batches(self.n_train, global_batch, self.cfg.seed, epoch)
        index = self._batches[k]
        per = len(index) // procs.world
        mine = index[procs.rank * per : (procs.rank + 1) * per]
        batch = self.tokenizer(
            [self.sentences[i] for i in mine],
            padding=True,
            truncation=True,
            max_length=self.cfg.max_len,
            return_tensors="pt",
        )
        ids, mask = batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)
        return trained(ids, mask), dict(tokens=int(mask.sum()), sentences=len(mine))

    def evaluate(self) -> dict:
        from ..sts import spearman_x100

        return dict(stsb_dev=spearman_x100(self.module.encoder, self.tokenizer, self.stsb, self.cfg.pooling))

    def model_provenance(self) -> dict:
        return dict(init=self.cfg.model, source=self.spec.source, weights_sha256=self.init_fingerprint)

    def export(self, folder: Path) -> None:
        encoder = self.module.encoder
        pooler = getattr(encoder, "pooler", None)
        if self.cfg.pooling == "cls" and pooler is not None and hasattr(pooler, "dense"):
            # SimCSE's converter stores the train-time MLP as the BERT pooler: pooler_output = MLP([CLS])
            encoder = copy.deepcopy(encoder)
            with torch.no_grad():
                encoder.pooler.dense.load_state_dict(self.module.mlp.dense.state_dict())
        encoder.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
