"""Masked-language-model pre-training as a training objective: a BERT from a shape (or a model to continue), the
tokenised corpus in length buckets, BERT's masking, held-out accuracy and STS-B dev, and the export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import data, files, models
from ..mlm import parse_shape
from ..params import ParameterError
from .config import MLMConfig
from .objective import Objective, set_dropout, step_seed, stsb_dev
from .processes import Processes


class MLMModule(nn.Module):
    """A ``BertForMaskedLM`` whose ``forward`` returns the loss at the selected positions (what DDP wraps)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs, mask, selected, labels):
        from ..mlm import masked_lm_loss

        return masked_lm_loss(self.model, inputs, mask, selected, labels)[0]


class MLMObjective(Objective):
    eps = 1e-6

    def __init__(self, cfg: MLMConfig, device: str, progress: bool = True, cache_dir: Path | None = None):
        from transformers import BertConfig, BertForMaskedLM

        from .. import corpus
        from ..tiny import bert_tokenizer, vocab_file

        super().__init__(cfg, device)
        self.betas = (0.9, cfg.adam_beta2)
        root = data.mirror_dir(cfg.data_dir)
        vocab = (
            data.verified(root, "tokenizer/bert-base-uncased-vocab.txt")[0]
            if root is not None and (root / "tokenizer" / "bert-base-uncased-vocab.txt").is_file()
            else vocab_file()
        )
        self.tokenizer = bert_tokenizer(vocab, model_max_length=512)
        self.corpus_sha256 = data.source_identity("wiki", "train", cfg.data_dir)
        self.corpus = corpus.tokenized(
            lambda: data.load("wiki", "train", cfg.data_dir, limit=cfg.n_sentences or None).columns["text"],
            self.tokenizer,
            cfg.max_len,
            self.corpus_sha256,
            files.sha256_file(vocab),
            cfg.n_sentences,
            cache_dir,
            progress,
        )
        if len(self.corpus) <= cfg.heldout + cfg.batch_size:
            raise ParameterError("heldout", cfg.heldout, f"the corpus has only {len(self.corpus)} sentences")
        self.n_train = len(self.corpus) - cfg.heldout  # the last `heldout` sentences are never trained on
        self.lengths = self.corpus.lengths[: self.n_train]
        shape = parse_shape(cfg.model)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            if shape is not None:
                config = BertConfig(
                    vocab_size=len(self.tokenizer),
                    pad_token_id=self.tokenizer.pad_token_id,
                    max_position_embeddings=512,
                    hidden_dropout_prob=cfg.dropout,
                    attention_probs_dropout_prob=cfg.dropout,
                    **shape,
                )
                model = BertForMaskedLM(config)
            else:
                model, _ = models.load_pretrained(models.resolve(cfg.model), BertForMaskedLM)
                set_dropout(model, cfg.dropout)
        self.model = self.fast_dropout(model).to(device)
        self.module = MLMModule(self.model)
        self.special = torch.tensor(sorted(self.tokenizer.all_special_ids), device=device)
        self._epoch, self._batches = -1, []
        self.stsb = stsb_dev(cfg)
        self.heldout = self._heldout_batches()
        self.baseline = self._unigram_baseline()

    def encoder(self):
        return self.model.bert

    def final_weights(self):
        return self.model

    def _select(self, ids, mask, seed: int):
        from ..mlm import select

        gen = torch.Generator(device=ids.device).manual_seed(seed)
        return select(
            ids, mask, self.special, len(self.tokenizer), self.tokenizer.mask_token_id, self.cfg.mask_prob, gen
        )

    def _batch(self, index):
        ids, mask = self.corpus.batch(index)
        return ids.to(self.device), mask.to(self.device)

    def loss(self, trained, step: int, procs: Processes, global_batch: int):
        from ..corpus import bucketed_batches

        n_batches = self.n_train // global_batch
        epoch, k = divmod(step, n_batches)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, bucketed_batches(self.lengths, global_batch, self.cfg.seed, epoch)
        index = self._batches[k]
        per = len(index) // procs.world
        ids, mask = self._batch(index[procs.rank * per : (procs.rank + 1) * per])
        inputs, selected, labels = self._select(ids, mask, step_seed(self.cfg.seed, step, procs.rank))
        return trained(inputs, mask, selected, labels), dict(tokens=int(mask.sum()), sentences=len(ids))

    def _heldout_batches(self):
        """The held-out sentences, masked once with a fixed seed: the same positions at every evaluation."""
        out = []
        for k, start in enumerate(range(self.n_train, len(self.corpus), 256)):
            ids, mask = self._batch(np.arange(start, min(start + 256, len(self.corpus))))
            out.append((ids, mask, *self._select(ids, mask, step_seed(12345, k, 0))))
        return out

    def _unigram_baseline(self) -> dict:
        """The accuracy of always predicting the training portion's most frequent non-special token."""
        counts = np.bincount(
            self.corpus.ids[: self.corpus.offsets[self.n_train]].astype(np.int64), minlength=len(self.tokenizer)
        )
        counts[sorted(self.tokenizer.all_special_ids)] = 0
        top = int(counts.argmax())
        labels = np.concatenate([b[-1].cpu().numpy() for b in self.heldout])
        return dict(token=self.tokenizer.convert_ids_to_tokens(top), accuracy=float((labels == top).mean()))

    def evaluate(self) -> dict:
        from ..encode import eval_mode
        from ..mlm import masked_lm_loss
        from ..sts import spearman_x100

        total = correct = n = 0
        with eval_mode(self.model), torch.inference_mode():
            for ids, mask, inputs, selected, labels in self.heldout:
                loss, right = masked_lm_loss(self.model, inputs, mask, selected, labels)
                total += float(loss) * len(labels)
                correct += int(right)
                n += len(labels)
        sts = spearman_x100(self.model.bert, self.tokenizer, self.stsb, ["avg", "cls"])
        return dict(heldout_loss=total / n, heldout_accuracy=correct / n, stsb_dev=sts["avg"], stsb_dev_cls=sts["cls"])

    def record(self) -> dict:
        return dict(baseline=self.baseline)

    def model_provenance(self) -> dict:
        source = "initialised from the seed" if parse_shape(self.cfg.model) else models.resolve(self.cfg.model).source
        return dict(init=self.cfg.model, source=source, weights_sha256=None)

    def export(self, folder: Path) -> None:
        model = self.model
        model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = self.cfg.save_dropout
        model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = self.cfg.dropout
