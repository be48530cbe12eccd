"""Training runs that chapters and sweeps need, trained once and reused.

A run is its resolved configuration (a :class:`~lib.science.training.TrainConfig`, built once by the chapter that
needs it). Its folder is named by its identity (:mod:`lib.book.identity`): the same objective and parameters --
with the initial model identified by its weights and the data by its mirror -- always map to the same folder under
``runs/train`` (or ``$SRL_OUT_DIR/train``). :func:`ensure` returns the finished run's record, training it first
when it is missing and resuming it when it was interrupted; :func:`work` trains a list of them with other workers.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..science import training
from ..science.training import TrainConfig
from . import identity


def run_dir(cfg: TrainConfig) -> Path:
    return identity.train_dir(cfg.OBJECTIVE, cfg.as_dict())


def ensure(cfg: TrainConfig, progress: bool = True, wait: bool = True) -> tuple[Path, dict]:
    """``(folder, train.json)`` of the finished run of ``cfg`` (trained or resumed if needed). While another process
    trains it, wait for it (or, with ``wait=False``, raise :class:`~lib.science.training.TrainingError`)."""
    folder = run_dir(cfg)
    record = training.train(
        cfg.OBJECTIVE, cfg, folder, progress=progress, cache_dir=identity.runs_root() / "cache", wait=wait
    )
    return folder, record


def status(cfg: TrainConfig) -> dict | None:
    """The record of the run of ``cfg`` if it exists (finished or not), without training anything."""
    return training.read_status(run_dir(cfg))


def work(configs: list[TrainConfig], poll_s: float = 30.0, progress: bool = True) -> None:
    """Train every run of ``configs`` (in order), skipping those another process trains and coming back to them,
    until all have finished: several workers (one per core) share one list."""
    unique = list({run_dir(c): c for c in configs}.values())
    while True:
        busy = 0
        for cfg in unique:
            try:
                ensure(cfg, progress=progress, wait=False)
            except training.TrainingError:
                busy += 1
        if not busy:
            return
        time.sleep(poll_s)
