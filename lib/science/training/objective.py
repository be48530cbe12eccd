"""What an objective owns, so that the loop (:mod:`lib.science.training.loop`) never asks which one it runs.

An objective builds its model and tokenizer, deals out its batches, computes the loss of a step, evaluates,
says what it records and exports its model. :class:`~lib.science.training.simcse_objective.SimCSEObjective`
and :class:`~lib.science.training.mlm_objective.MLMObjective` are the two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import devices, dropout
from .config import TrainConfig
from .processes import Processes


def step_seed(seed: int, step: int, rank: int) -> int:
    """The seed of every random choice of ``step`` on process ``rank``: a resumed run draws the same ones."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1)[0])


def set_dropout(module: nn.Module, probability: float) -> None:
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.p = probability


def stsb_dev(cfg: TrainConfig):
    from ..sts import load_pairs

    return load_pairs("STSB dev", "stsb", "dev", cfg.data_dir, cfg.eval_pairs)


class Objective:
    """The base: a model (``module``, what the optimiser updates and DDP wraps), a tokenizer, ``n_train``."""

    module: nn.Module
    tokenizer = None
    n_train: int = 0
    # AdamW's betas and epsilon (SimCSE keeps transformers' defaults; BERT pre-training its own)
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    masks: dropout.MaskSource | None = None

    def __init__(self, cfg: TrainConfig, device: str):
        self.cfg, self.device = cfg, device

    # -------------------------------------------------------------------------------------------- the model
    def encoder(self) -> nn.Module:
        """The encoder that snapshots measure and whose weights identify the result."""
        raise NotImplementedError

    def fast_dropout(self, model: nn.Module) -> nn.Module:
        """On the CPU, ``model``'s dropout masks come from :mod:`lib.science.dropout` (about 3x faster)."""
        if devices.device_kind(self.device) == "cpu":
            self.masks = dropout.MaskSource()
            dropout.install(model, self.masks)
        return model

    def reseed(self, seed: int) -> None:
        """Every random choice of a step (dropout included) from the step's seed."""
        torch.manual_seed(seed)
        if self.masks is not None:
            self.masks.seed(seed)

    # -------------------------------------------------------------------------------------------- a step
    def loss(self, trained: nn.Module, step: int, procs: Processes, global_batch: int):
        """``(loss, dict(tokens=..., sentences=...))`` of this process's slice of step ``step``'s batch."""
        raise NotImplementedError

    def evaluate(self) -> dict:
        """What the run follows (at least ``stsb_dev``), measured without gradients."""
        raise NotImplementedError

    # -------------------------------------------------------------------------------------------- the record
    def record(self) -> dict:
        """What the objective adds to ``train.json`` (e.g. MLM's unigram baseline)."""
        return {}

    def model_provenance(self) -> dict:
        raise NotImplementedError

    corpus_sha256: str = ""

    def final_weights(self) -> nn.Module:
        """The module whose state dict's sha256 identifies the trained weights."""
        return self.encoder()

    def export(self, folder: Path) -> None:
        """Save the trained model as a ``save_pretrained`` folder (with its tokenizer)."""
        raise NotImplementedError
