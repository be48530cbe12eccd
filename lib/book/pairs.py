"""The book's main comparison: the same encoder before (PLM) and after unsupervised SimCSE (CL).

Chapters name the PLM (``plm``) and either a finished contrastive model (``cl``) or, with ``cl`` empty, the SimCSE
parameters: the run is then trained through the engine once and reused (:mod:`lib.book.training_runs`), and its
``best`` checkpoint -- SimCSE's ``--load_best_model_at_end`` -- is the CL model.
"""

from __future__ import annotations

from ..science import devices, models, training
from ..science import params as P
from . import training_runs

TRAINING_PARAMS = ("temperature", "pooling", "batch_size", "lr", "max_steps", "dropout")


def simcse_params(scale: str, plm: str, data_dir: str, device: str, seed: int, **knobs) -> dict:
    """The SimCSE run's parameters: the scale's preset, from ``plm``, with the chapter's knobs."""
    return dict(scale=scale, model=plm, data_dir=data_dir, device=device, seed=seed,
                **{k: v for k, v in knobs.items() if k in TRAINING_PARAMS})


def check(scale: str, plm: str, cl: str, extra_models: list, train_seed: int, device: str, data_dir: str,
          **knobs) -> tuple[str, models.ModelSpec, list[models.ModelSpec], dict]:
    """Check a pair chapter's shared parameters before any compute.

    Returns ``(device used, the PLM's spec, the specs of the context models, the SimCSE run's parameters)``; with
    ``cl`` empty every training parameter is checked too, so a bad knob fails here and not minutes into training.
    """
    P.integer("train_seed", train_seed, minimum=0)
    if not isinstance(extra_models, list) or not all(isinstance(m, str) for m in extra_models):
        raise P.ParameterError("extra_models", extra_models,
                               "expected a list of model names, e.g. ['all-MiniLM-L6-v2']")
    used_device = devices.resolve_device(device)
    plm_spec = models.resolve(plm)
    extra_specs = [models.resolve(m) for m in extra_models]
    train_params = simcse_params(scale, plm, data_dir, device, train_seed, **knobs)
    if not cl:
        training.resolve_params("simcse", train_params)
    return used_device, plm_spec, extra_specs, train_params


def contrastive(plm: str, cl: str, params: dict, progress: bool = True) -> tuple[models.ModelSpec, dict | None]:
    """``(spec of the CL model, its training record or None)``: ``cl`` when given, else SimCSE from ``plm``."""
    if cl:
        return models.resolve(cl), None
    folder, record = training_runs.ensure("simcse", params, progress=progress)
    return models.resolve(str(folder / "best")), record
