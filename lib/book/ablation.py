"""Ablations: one SimCSE knob varied over a grid, every other parameter at the scale's preset (chapters 7-9).

One body, three pages: a chapter names its knob in :data:`CHAPTER_KNOB`; everything that differs between the
knobs -- the finding, labels, SimCSE's published numbers, the end-point claim SimCSE makes, how a setting is
turned into training parameters -- lives in its :class:`Knob`. A fourth knob is one entry in :data:`KNOBS`.

Each setting is one training run through the engine (:mod:`lib.book.training_runs`), shared with every chapter
and sweep that asks for the same parameters. The noise behind every margin comes from the default setting
trained with every seed of ``train_seeds`` (the runs chapters 3-5 use for ``cls``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..science import params as P
from ..science import training
from ..science.params import ParameterError
from ..science.pooling import POOLINGS
from . import dynamics, parameters, reference, training_runs

TRACKED = {
    "anisotropy": "anisotropy A",
    "intra_sim_adj": "IntraSim*",
    "norm": "mean token norm",
    "self_sim_functional_adj": "functional SelfSim*",
}


@dataclass(frozen=True)
class Knob:
    name: str  # the SimCSE parameter varied
    finding: str
    title: str
    label: Callable[[Any], str]
    check_value: Callable[[str, Any], Any]
    reference: dict = field(default_factory=dict)  # label -> SimCSE's STS-B dev for that setting
    reference_source: str = ""
    ordered: bool = True  # ordered settings get a sequential colour scale, in numeric order
    # the training overrides of one setting, given the default configuration (e.g. batch size with its lr rule)
    overrides: Callable[[Any, training.SimCSEConfig], dict] = None
    code: str = ""  # the library function where the knob acts, shown on the page ("module:function")


def scaled_lr(batch_size: int, base: training.SimCSEConfig) -> float:
    """The learning rate of a batch size: the default's, times sqrt(batch / default batch)."""
    return base.lr * math.sqrt(batch_size / base.batch_size)


def _batch_overrides(value, base: training.SimCSEConfig) -> dict:
    """Batch size with the learning rate scaled by sqrt(batch / default batch): the square-root rule for Adam
    (Malladi et al., 2022), so that each batch size runs at a rate tuned the same way as the default's."""
    return dict(batch_size=value, lr=scaled_lr(value, base))


KNOBS: dict[str, Knob] = {
    k.name: k
    for k in [
        Knob(
            "temperature",
            "F10",
            "temperature",
            lambda v: f"τ = {v:g}",
            lambda n, v: P.number(n, v, above=0),
            reference={f"τ = {k:g}": v for k, v in reference.SIMCSE_TEMPERATURE_DEV.items()},
            reference_source="SimCSE (Gao et al., 2021), supervised BERT-base, STS-B dev",
            code="lib.science.simcse:contrastive_loss",
        ),
        Knob(
            "batch_size",
            "F11",
            "batch size",
            lambda v: f"batch {v}",
            lambda n, v: P.integer(n, v, minimum=2),
            overrides=_batch_overrides,
            code="lib.book.ablation:scaled_lr",
        ),
        Knob(
            "pooling",
            "F12",
            "pooling",
            lambda v: v,
            lambda n, v: P.choice(n, v, POOLINGS),
            overrides=lambda v, base: dict(pooling=v, lr=base.lr, dropout=base.dropout, max_steps=base.max_steps),
            reference={
                "cls": reference.SIMCSE_POOLING_DEV["cls (MLP at train time only)"],
                "cls_before_pooler": reference.SIMCSE_POOLING_DEV["cls_before_pooler (no MLP)"],
                "avg_first_last": reference.SIMCSE_POOLING_DEV["avg_first_last"],
            },
            reference_source="SimCSE (Gao et al., 2021), unsupervised BERT-base, STS-B dev",
            ordered=False,
            code="lib.science.pooling:pool",
        ),
    ]
}
CHAPTER_KNOB = {"07_temperature": "temperature", "08_batch_size": "batch_size", "09_pooling": "pooling"}


@dataclass
class Study:
    """One ablation chapter's runs: ``records`` per setting label, ``noise`` records of the default setting per
    seed, the knob, the chapter run and its parameters."""

    knob: Knob
    run: Any  # ChapterRun
    params: dict
    base: training.SimCSEConfig
    records: dict[str, dict]
    noise: dict[int, dict]

    @property
    def default_label(self) -> str:
        return self.knob.label(getattr(self.base, self.knob.name))

    def final(self, record: dict, key: str) -> float:
        return dynamics.start_end(record, key)[1]

    def seed_sd(self, key: str) -> float:
        """The sd over the default setting's training seeds of a final last-layer metric (``stsb_dev``: the best
        STS-B dev); NaN with fewer than 2 seeds."""
        values = [dynamics.best_stsb(r) if key == "stsb_dev" else self.final(r, key) for r in self.noise.values()]
        return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")

    def default_best(self) -> float:
        return float(np.mean([dynamics.best_stsb(r) for r in self.noise.values()]))

    # -------------------------------------------------------------------------------------------- tables
    def table(self) -> pd.DataFrame:
        """Per setting: best STS-B dev (and its step), SimCSE's number where published, and each tracked metric at
        the start and the end (last layer)."""
        rows = {}
        for name, rec in self.records.items():
            row = {"best STS-B dev": dynamics.best_stsb(rec), "at step": (rec.get("best") or {}).get("step")}
            if self.knob.reference:
                row["SimCSE"] = self.knob.reference.get(name)
            for key, label in TRACKED.items():
                start, end = dynamics.start_end(rec, key)
                row[f"{label} (end)"] = end
                row[f"{label} (start)"] = start
            rows[name] = row
        out = pd.DataFrame(rows).T
        starts = [c for c in out if c.endswith("(start)")]
        if all(out[c].nunique() == 1 for c in starts):  # one PLM: the start is one number per metric, said once
            out = out.drop(columns=starts)
        return out

    # -------------------------------------------------------------------------------------------- checks
    def check(self) -> None:
        """SimCSE's end-point claim for this knob, then: the knob changes the dynamics (the final last-layer
        anisotropy and IntraSim* span more than 3 sd of the seed noise across the settings). Shows the checks."""
        knob, run = self.knob, self.run
        bests = {k: dynamics.best_stsb(r) for k, r in self.records.items()}
        sd = self.seed_sd("stsb_dev")
        margin = f"3 sd of the best STS-B dev over the default setting's seeds {list(self.noise)}"
        if knob.name == "temperature" and "τ = 1" in bests:
            run.below(
                knob.finding,
                "best STS-B dev at τ = 1 vs the default's minus 3 sd (SimCSE: τ = 1 hurts)",
                bests["τ = 1"],
                self.default_best() - 3 * sd,
                margin=margin,
            )
        elif knob.name == "batch_size":
            worst = max(bests, key=lambda k: abs(bests[k] - self.default_best()))
            run.below(
                knob.finding,
                f"largest |best STS-B dev − default's| across batch sizes ({worst}) vs "
                "max(2, 3 sd) (SimCSE: insensitive once the lr is tuned)",
                abs(bests[worst] - self.default_best()),
                max(2.0, 3 * sd),
                margin="2 points (SimCSE's pooling range is 1.6) or " + margin + ", whichever is larger",
            )
        elif knob.name == "pooling":
            run.below(
                knob.finding,
                "spread of the best STS-B dev across poolings vs 3 points (SimCSE: 1.6)",
                max(bests.values()) - min(bests.values()),
                3.0,
                margin="3 points, about twice SimCSE's own range over its poolings (80.9-82.5)",
            )
        for key in ("anisotropy", "intra_sim_adj"):
            ends = [self.final(r, key) for r in self.records.values()]
            noise = self.seed_sd(key)
            run.above(
                knob.finding,
                f"range of final {TRACKED[key]} across settings vs 3 sd of the seed noise",
                float(np.ptp(ends)),
                3 * noise if noise == noise else 0.0,
                margin="3 sd of the final value over the default setting's seeds " + str(list(self.noise)),
            )
        self.show_checks()

    def directions(self) -> str:
        """Which way the last-layer anisotropy and norm move under each setting, in words."""
        parts = []
        for name, rec in self.records.items():
            a0, a1 = dynamics.start_end(rec, "anisotropy")
            n0, n1 = dynamics.start_end(rec, "norm")
            parts.append(
                f"{name}: A {a0:.3f} → {a1:.3f} ({'falls' if a1 < a0 else 'rises'}), norm {n0:.2f} → "
                f"{n1:.2f} ({'falls' if n1 < n0 else 'rises'})"
            )
        return "; ".join(parts)

    # -------------------------------------------------------------------------------------------- the page
    def chart(self) -> None:
        """The library code where the knob acts, then the dynamics per setting and the settings' table."""
        import importlib

        from IPython.display import display

        from . import charts, literate, tables

        module, name = self.knob.code.split(":")
        literate.show(getattr(importlib.import_module(module), name))
        charts.enable_offline()
        display(
            charts.over_steps(
                dynamics.curves(self.records, series="setting"),
                f"SimCSE's dynamics by {self.knob.title}",
                series="setting",
                layer_select=True,
            )
        )
        tables.show(
            self.table().rename_axis(self.knob.title),
            transpose_if_wider_than=6,  # a column per setting: the table fits the text column
            caption="Per setting: best STS-B dev (Spearman × 100), last-layer metrics at the end of training"
            + (f"; SimCSE's numbers: {self.knob.reference_source}" if self.knob.reference else ""),
        )

    def show_checks(self) -> None:
        """The checks made, as a table."""
        from . import explain, tables

        tables.show(explain.checks_table(self.run.checks), caption="Every check")

    def finish(self) -> None:
        """Save results.json, say what the numbers show, and assert what the page promises."""
        from IPython.display import Markdown, display

        from . import explain

        self.saved = self.save()
        bests = {k: dynamics.best_stsb(r) for k, r in self.records.items()}
        reason = (
            f"best STS-B dev per setting: {', '.join(f'{k} {v:.1f}' for k, v in bests.items())} (default "
            f"{self.default_label}: {self.default_best():.1f} ± {self.seed_sd('stsb_dev'):.1f} over seeds "
            f"{list(self.noise)}); at the last layer {self.directions()}"
        )
        display(
            Markdown(
                (f"**Not comparable:** {self.run.comparable_reason}. " if not self.run.comparable else "")
                + f"At {self.params['scale']} scale: "
                + explain.paragraph(self.run.checks, [self.knob.finding], {self.knob.finding: reason})
            )
        )
        assert all(r["status"] == "finished" and len(r["snapshots"]) >= 3 for r in self.records.values())
        assert len(self.run.checks) >= 2 and all(c["finding"] == self.knob.finding for c in self.run.checks)

    def provenance(self):
        from . import tables

        return tables.provenance(
            self.saved,
            self.params["scale"],
            settings=", ".join(self.records),
            seed_noise_from=f"the default setting ({self.default_label}), seeds {list(self.noise)}",
        )

    def save(self):
        from ..science import devices

        word = self.run.verdict(self.knob.finding)
        bests = {k: dynamics.best_stsb(r) for k, r in self.records.items()}
        headline = (
            f"best STS-B dev {', '.join(f'{k}: {v:.1f}' for k, v in bests.items())}; final A "
            f"{', '.join(format(self.final(r, 'anisotropy'), '.3f') for r in self.records.values())}"
        )
        metrics = dict(
            table=self.table().reset_index(names="setting").to_dict("records"),
            seed_noise={k: self.seed_sd(k) for k in ("stsb_dev", *TRACKED)},
            noise_seeds=list(self.noise),
            runs={
                k: dict(params=r["params"], best=r.get("best"), final=r.get("final")) for k, r in self.records.items()
            },
            headlines={self.knob.finding: headline},
            verdict=word,
            directions=self.directions(),
            why={self.knob.finding: self.directions()},
        )
        return self.run.save(metrics, device=devices.resolve_device(self.params["device"]))


def _record(params: dict, run_missing: bool) -> dict | None:
    """A run's train.json: trained (or resumed) when ``run_missing``, else whatever is on disk (None if nothing)."""
    return training_runs.ensure("simcse", params)[1] if run_missing else training_runs.status("simcse", params)


def plans(chapter: str, params: dict) -> tuple[training.SimCSEConfig, dict[str, dict], dict[int, dict]]:
    """``(default configuration, {setting label: training parameters}, {seed: the default's parameters})`` of an
    ablation chapter, every setting checked."""
    knob = KNOBS[CHAPTER_KNOB[chapter]]
    values = params["values"]
    if not isinstance(values, list) or len(values) < 2:
        raise ParameterError("values", values, f"expected a list of at least two {knob.title} settings")
    for value in values:
        knob.check_value("values", value)
    seeds = params["train_seeds"]
    base = training.resolve("simcse", parameters.simcse_overrides(params, seed=seeds[0]))
    settings = {}
    for value in values:
        extra = knob.overrides(value, base) if knob.overrides else {knob.name: value}
        settings[knob.label(value)] = training.resolve(
            "simcse", dict(parameters.simcse_overrides(params, seed=seeds[0]), **extra)
        ).as_dict()
    noise = {s: training.resolve("simcse", parameters.simcse_overrides(params, seed=s)).as_dict() for s in seeds}
    return base, settings, noise


def start(chapter: str, namespace: dict) -> Study:
    """Check a chapter's parameters (every setting's training parameters included) before any compute, then
    collect (or train) the settings' runs and the default setting's seeds."""
    from .chapter_run import ChapterRun

    params = parameters.collect(chapter, namespace)
    base, settings, noise_plans = plans(chapter, params)
    run = ChapterRun(chapter, params)
    if params["scale"] == "smoke":
        run.not_comparable(
            "smoke scale: a few SimCSE steps of a tiny random encoder say nothing about the paper's claims"
        )
    records = _finished(settings, params["run_missing"])
    if len(records) < 2:
        raise ParameterError(
            "run_missing",
            params["run_missing"],
            "fewer than two settings have a finished run; set run_missing=True to train them (or run the sweep first)",
        )
    return Study(
        KNOBS[CHAPTER_KNOB[chapter]], run, params, base, records, _finished(noise_plans, params["run_missing"])
    )


def _finished(plans: dict, run_missing: bool) -> dict:
    """``{key: train.json}`` of the plans' finished runs (trained first when ``run_missing``)."""
    out = {}
    for k, p in plans.items():
        record = _record(p, run_missing)
        if record and record.get("status") == "finished":
            out[k] = record
    return out
