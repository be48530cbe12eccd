"""Training runs that chapters and sweeps need, trained once and reused.

A run's folder is named by its identity (:mod:`lib.book.identity`): the same objective and parameters -- with the
initial model identified by its weights and the data by its mirror -- always map to the same folder under
``runs/train`` (or ``$SRL_OUT_DIR/train``). :func:`ensure` returns the finished run's record, training it first
when it is missing and resuming it when it was interrupted.
"""

from __future__ import annotations

from pathlib import Path

from ..science import training
from . import identity


def run_dir(objective: str, params: dict) -> Path:
    return identity.train_dir(objective, training.resolve_params(objective, params))


def ensure(objective: str, params: dict, progress: bool = True, wait: bool = True) -> tuple[Path, dict]:
    """``(folder, train.json)`` of the finished run with these parameters (trained or resumed if needed). While
    another process trains it, wait for it (or, with ``wait=False``, raise
    :class:`~lib.science.training.TrainingError`)."""
    cfg = training.resolve(objective, params)
    folder = identity.train_dir(objective, cfg.as_dict())
    record = training.train(
        objective, cfg, folder, progress=progress, cache_dir=identity.runs_root() / "cache", wait=wait
    )
    return folder, record


def status(objective: str, params: dict) -> dict | None:
    """The record of the run with these parameters if it exists (finished or not), without training anything."""
    return training.read_status(run_dir(objective, params))
