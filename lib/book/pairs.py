"""The book's main comparison: the same encoder before (PLM) and after unsupervised SimCSE (CL), for each pooling
and training seed.

A pair chapter names the PLM (``plm``) and either a finished contrastive model (``cl``: one variant, ``given``) or,
with ``cl`` empty, SimCSE's parameters (its ``simcse`` overrides over the scale's preset): one run per pooling
and training seed, each trained through the engine once and reused (:mod:`lib.book.training_runs`); a run's
``best`` checkpoint -- SimCSE's ``--load_best_model_at_end`` -- is its CL model. The seeds give the noise every
margin is stated from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..science import models
from . import parameters, training_runs

GIVEN = "given"


@dataclass
class ContrastiveRun:
    variant: str  # the pooling of the SimCSE run, or "given"
    seed: int | None
    spec: models.ModelSpec
    record: dict | None = None  # the run's train.json (None for a given model)

    @property
    def label(self) -> str:
        return self.variant if self.seed is None else f"{self.variant} · seed {self.seed}"


def variants(params: dict) -> list[str]:
    return [GIVEN] if params.get("cl") else list(params["poolings"])


def contrastive_runs(params: dict, progress: bool = True) -> list[ContrastiveRun]:
    """Every CL model of a pair chapter, trained first where missing (in pooling, then seed order)."""
    if params.get("cl"):
        return [ContrastiveRun(GIVEN, None, models.resolve(params["cl"]))]
    out = []
    for (pooling, seed), cfg in parameters.simcse_configs(params).items():
        folder, record = training_runs.ensure("simcse", cfg.as_dict(), progress=progress)
        out.append(ContrastiveRun(pooling, seed, models.resolve(str(folder / "best")), record))
    return out


def seed_stats(values: dict) -> dict[str, dict]:
    """``{variant: {seed: value}}`` -> ``{variant: {mean, sd, n, values}}`` (sd over seeds, ddof 1; 0 with one)."""
    out = {}
    for variant, by_seed in values.items():
        v = np.array(list(by_seed.values()), dtype=float)
        out[variant] = dict(mean=float(v.mean()), sd=float(v.std(ddof=1)) if len(v) > 1 else 0.0, n=len(v),
                            values=[float(x) for x in v])
    return out
