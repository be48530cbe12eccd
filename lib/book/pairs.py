"""The book's main comparison: the same encoder before (PLM) and after unsupervised SimCSE (CL).

Chapters name the PLM (``plm``) and either a finished contrastive model (``cl``) or, with ``cl`` empty, the SimCSE
parameters: the run is then trained through the engine once and reused (:mod:`lib.book.training_runs`), and its
``best`` checkpoint -- SimCSE's ``--load_best_model_at_end`` -- is the CL model.
"""

from __future__ import annotations

from ..science import models
from . import training_runs

TRAINING_PARAMS = ("temperature", "pooling", "batch_size", "lr", "max_steps", "dropout")


def simcse_params(scale: str, plm: str, data_dir: str, device: str, seed: int, **knobs) -> dict:
    """The SimCSE run's parameters: the scale's preset, from ``plm``, with the chapter's knobs."""
    return dict(scale=scale, model=plm, data_dir=data_dir, device=device, seed=seed,
                **{k: v for k, v in knobs.items() if k in TRAINING_PARAMS})


def contrastive(plm: str, cl: str, params: dict, progress: bool = True) -> tuple[models.ModelSpec, dict | None]:
    """``(spec of the CL model, its training record or None)``: ``cl`` when given, else SimCSE from ``plm``."""
    if cl:
        return models.resolve(cl), None
    folder, record = training_runs.ensure("simcse", params, progress=progress)
    return models.resolve(str(folder / "best")), record
