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
        out[variant] = dict(
            mean=float(v.mean()), sd=float(v.std(ddof=1)) if len(v) > 1 else 0.0, n=len(v), values=[float(x) for x in v]
        )
    return out


SMOKE_REASON = (
    "smoke scale: a tiny random encoder and a few SimCSE steps say nothing about the paper's claims; "
    "the page only checks that the chapter runs"
)


@dataclass
class PairStudy:
    """A pair chapter's shared part: its checked parameters, analysis sentences, chapter run, and -- once
    :meth:`measure` ran -- every model's encoder and geometry (roles: ``PLM``, each CL run's label, the extras)."""

    params: dict
    run: object  # ChapterRun
    texts: list
    device: str
    cl_runs: list = None
    encoders: dict = None
    results: dict = None

    @property
    def variants(self) -> list[str]:
        return variants(self.params)

    def runs_of(self, variant: str) -> list[ContrastiveRun]:
        return [r for r in self.cl_runs if r.variant == variant]

    def group(self, role: str) -> str:
        """``PLM``, the variant of a CL run (its pooling), or the role itself (a model at scale)."""
        return "PLM" if role == "PLM" else next((r.variant for r in self.cl_runs if r.label == role), role)

    def measure(self, functional=None, progress: bool = True) -> dict:
        """Train (or reuse) the CL runs, then Chapter 1's protocol for every model; ``functional(tokenizer)`` gives
        the functional-token mask for the class metrics. Returns ``{role: Geometry}``."""
        from ..science import geometry

        p = self.params
        self.cl_runs = contrastive_runs(p, progress)
        roles = {
            "PLM": models.resolve(p["plm"]),
            **{r.label: r.spec for r in self.cl_runs},
            **{models.resolve(m).label: models.resolve(m) for m in p["extra_models"]},
        }
        self.encoders, self.results = {}, {}
        for role, spec in roles.items():
            enc = models.load(spec, self.device)
            mask = functional(enc.tokenizer) if functional else None
            self.results[role] = geometry.analyse(
                enc, self.texts, p["seeds"], n_samples=p["n_samples"], progress=False, functional=mask
            )
            self.encoders[role] = enc
            enc.model.to("cpu")
        return self.results

    def curves(self, rows: list[dict]):
        """Per-layer curves (CL averaged over seeds) and, under them, CL − PLM per pooling."""
        import pandas as pd
        from IPython.display import display

        from . import charts

        long = pd.DataFrame(rows).groupby(["model", "layer", "metric"], as_index=False)["value"].mean()
        display(
            charts.per_layer_models(
                long,
                f"PLM vs CL per layer, CL averaged over training seeds ({len(self.texts)} STS-B test sentences)",
                columns=3,
            )
        )
        plm = long[long.model == "PLM"].set_index(["layer", "metric"])["value"]
        delta = long[long.model.isin(self.variants)].assign(
            value=lambda d: d["value"].to_numpy() - plm.loc[list(zip(d.layer, d.metric))].to_numpy()
        )
        display(charts.per_layer_models(delta, "CL − PLM per layer, per pooling (0: no change)", columns=3))

    def save(self, metrics: dict):
        """Write the chapter's results.json with every model's provenance and the analysis sentences' hash."""
        from ..science import data

        return self.run.save(
            metrics,
            models=list(self.encoders.values()),
            data=dict(
                dataset="stsb",
                split="test",
                column="sentence1",
                n_sentences=len(self.texts),
                sentences_sha256=data.texts_sha256(self.texts),
            ),
        )

    def movement(self) -> "pd.DataFrame":  # noqa: F821
        """How far each CL model is from the PLM (:mod:`lib.science.movement`): relative weight change per layer,
        the last LayerNorm's gain, the summed learning rate up to its best checkpoint against SimCSE's epoch,
        sentences seen, and the largest relative change of the last-layer norm Adam's strict bound allows."""
        import numpy as np
        import pandas as pd

        from ..science import movement

        plm_model = self.encoders["PLM"].model
        gamma_plm, _ = movement.last_layernorm(plm_model)
        simcse_sum = movement.summed_lr(movement.SIMCSE_BERT_BASE["lr"], movement.SIMCSE_BERT_BASE["steps"])
        rows = []
        for r in self.cl_runs:
            gamma, _ = movement.last_layernorm(self.encoders[r.label].model)
            row = {
                "run": r.label,
                **{
                    f"Δ‖W‖/‖W‖ {k}": v
                    for k, v in movement.relative_change(plm_model, self.encoders[r.label].model).items()
                },
                "last LayerNorm gain (mean)": float(np.mean(gamma)),
            }
            if r.record is not None:
                sch, best = r.record["schedule"], r.record["best"]["step"]
                summed = movement.summed_lr(r.record["params"]["lr"], sch["max_steps"], sch["warmup_steps"], upto=best)
                row.update(
                    {
                        "Σ lr to the best step": summed,
                        "vs SimCSE's epoch": summed / simcse_sum,
                        "sentences seen / 1M": best * sch["global_batch"] / 1e6,
                        "max relative norm change allowed": movement.norm_change_bound(
                            summed, gamma_plm, movement.ADAM_STEP_BOUND
                        ),
                    }
                )
            rows.append(row)
        self.plm_gain, self.simcse_sum = float(np.mean(gamma_plm)), simcse_sum
        self.simcse_bound = movement.norm_change_bound(simcse_sum, gamma_plm, movement.ADAM_STEP_BOUND)
        return pd.DataFrame(rows)


def start(chapter: str, namespace: dict) -> PairStudy:
    """Check a pair chapter's parameters (every SimCSE run's too), read its analysis sentences, open its run."""
    from ..science import data, devices
    from ..science.params import ParameterError
    from . import charts
    from .chapter_run import ChapterRun

    params = parameters.collect(chapter, namespace)
    texts = data.sentences(data.load("stsb", "test", params["data_dir"]), "sentence1", params["max_sentences"])
    if params["n_samples"] > len(texts):
        raise ParameterError("n_samples", params["n_samples"], f"at most the {len(texts)} analysis sentences")
    run = ChapterRun(chapter, params)
    if params["scale"] == "smoke":
        run.not_comparable(SMOKE_REASON)
    charts.enable_offline()
    return PairStudy(params, run, texts, devices.resolve_device(params["device"]))
