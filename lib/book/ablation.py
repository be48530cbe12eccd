"""Ablations: one SimCSE knob varied over a grid, every other parameter at the scale's preset (chapters 7-9).

What the three pages share: the knob's declaration (:class:`Knob`: the finding, labels, how a setting becomes
training parameters, SimCSE's published numbers), the runs (:func:`plans`: one run per setting, the default setting
with every training seed), the table and the curves, and the exploratory effects of a setting against the default
(:meth:`Study.effects`). What each page claims -- SimCSE's end point for its knob -- is written on the page.

Each setting is one training run through the engine (:mod:`lib.book.training_runs`), shared with every chapter
and sweep that asks for the same parameters.
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
from .labels import label

TRACKED = {k: label(k) for k in ("anisotropy", "intra_sim_adj", "norm", "self_sim_functional_adj")}


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
        ),
        Knob(
            "batch_size",
            "F11",
            "batch size",
            lambda v: f"batch {v}",
            lambda n, v: P.integer(n, v, minimum=2),
            overrides=_batch_overrides,
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
        ),
    ]
}
CHAPTER_KNOB = {"07_temperature": "temperature", "08_batch_size": "batch_size", "09_pooling": "pooling"}


def trained(record: dict) -> bool:
    """Whether a run learned at all: its training loss over the last evaluation window is below 90 % of the first
    window's (a τ = 1 run whose loss stays at log(2 × batch) did not)."""
    losses = [e["loss"] for e in record["evals"] if e.get("loss") is not None]
    return len(losses) >= 2 and losses[-1] < 0.9 * losses[0]


@dataclass
class Study:
    """One ablation chapter's runs: ``records`` per setting label, ``noise`` records of the default setting per
    seed, the knob and the chapter's parameters and results."""

    knob: Knob
    results: Any  # ChapterResults
    params: dict
    base: training.SimCSEConfig
    records: dict[str, dict]
    noise: dict[int, dict]
    runs: dict[str, str]  # setting label (or "seed s") -> its training folder's name

    @property
    def default_label(self) -> str:
        return self.knob.label(getattr(self.base, self.knob.name))

    def value(self, record: dict, key: str) -> float:
        """``stsb_dev``: the best STS-B dev during training; otherwise a last-layer metric at the last step."""
        return dynamics.best_stsb(record) if key == "stsb_dev" else dynamics.start_end(record, key)[1]

    def default_values(self, key: str) -> list[float]:
        return [self.value(r, key) for r in self.noise.values()]

    def table(self) -> pd.DataFrame:
        """Per setting: best STS-B dev (and its step), SimCSE's number where published, whether it trained, and each
        tracked metric at the end (last layer); the default setting as mean ± sd over its seeds."""
        rows = {}
        for name, rec in self.records.items():
            row = {"best STS-B dev": dynamics.best_stsb(rec), "at step": (rec.get("best") or {}).get("step")}
            if self.knob.reference:
                row["SimCSE"] = self.knob.reference.get(name)
            row["trained"] = "yes" if trained(rec) else "no"
            for key, name_ in TRACKED.items():
                row[f"{name_} (end)"] = dynamics.start_end(rec, key)[1]
            rows[name] = row
        out = pd.DataFrame(rows).T
        sd = {key: np.std(self.default_values(key), ddof=1) if len(self.noise) > 1 else np.nan for key in TRACKED}
        sd["stsb_dev"] = np.std(self.default_values("stsb_dev"), ddof=1) if len(self.noise) > 1 else np.nan
        out.loc[f"{self.default_label}: sd over seeds {list(self.noise)}"] = {
            "best STS-B dev": sd["stsb_dev"],
            **{f"{label} (end)": sd[k] for k, label in TRACKED.items()},
        }
        return out

    def effects(self, keys=("stsb_dev", *TRACKED)) -> list[dict]:
        """Every other setting against the default (rule 7 of :mod:`lib.book.results`): per key, the setting's value
        minus the default's mean over its seeds, with the pooled two-sample interval; a setting that did not train
        gets one untestable check instead, with its losses."""
        from .results import effect, untestable

        out = []
        for name, rec in self.records.items():
            if name == self.default_label:
                continue
            if not trained(rec):
                losses = [e["loss"] for e in rec["evals"] if e.get("loss") is not None]
                out.append(dict(untestable(self.knob.finding, f"{name} against {self.default_label}",
                                           f"{name} did not train: its loss went {losses[0]:.3f} → {losses[-1]:.3f}"),
                                exploratory=True, setting=name))  # fmt: skip
                continue
            for key in keys:
                label = "best STS-B dev" if key == "stsb_dev" else f"last-layer {TRACKED[key]} at the end"
                out.append(
                    effect(self.knob.finding, f"{label}: {name} − {self.default_label}", [self.value(rec, key)],
                           baseline=self.default_values(key), setting=name, note=key)
                )  # fmt: skip
        return out

    def bests(self) -> dict[str, float]:
        """The best STS-B dev of every setting (the default's first seed for the default)."""
        return {k: dynamics.best_stsb(r) for k, r in self.records.items()}

    def tracking(self, keys=TRACKED) -> dict[str, dict]:
        """How each end-of-run metric tracks the best STS-B dev across the settings that trained: Spearman's rho
        over them and their number (few settings: no interval is claimed, the sign is read as exploratory)."""
        from scipy.stats import spearmanr

        names = [k for k, r in self.records.items() if trained(r)]
        out = {}
        for key in keys:
            if len(names) < 3:
                out[key] = dict(rho=float("nan"), n=len(names))
                continue
            rho = spearmanr([self.bests()[k] for k in names], [self.value(self.records[k], key) for k in names])
            out[key] = dict(rho=float(rho.statistic), n=len(names))
        return out

    def tracking_sentence(self) -> str:
        """How the end-of-run metrics track STS-B dev across the trained settings, in words ('' with fewer than
        three)."""
        t = {k: v for k, v in self.tracking().items() if v["rho"] == v["rho"]}
        if not t:
            return ""
        n = next(iter(t.values()))["n"]
        return (
            " Across the settings that trained, the end-of-run metrics track the best STS-B dev with Spearman ρ: "
            + ", ".join(f"{TRACKED[k]} {v['rho']:+.2f}" for k, v in t.items())
            + f" (n = {n} settings: a sign, not an interval)."
        )

    def trained_bests(self) -> dict[str, float]:
        return {k: v for k, v in self.bests().items() if trained(self.records[k])}

    def budget(self) -> str:
        """What each setting's run spent, against SimCSE's epoch and the full budget of chapters 3-5, in words."""
        from ..science import movement

        simcse = movement.summed_lr(movement.SIMCSE_BERT_BASE["lr"], movement.SIMCSE_BERT_BASE["steps"])
        spent = {k: dynamics.summed_lr_at(r, r["final"]["step"]) for k, r in self.records.items()}
        lo, hi = min(spent.values()), max(spent.values())
        span = f"{lo:.4f}" if abs(hi - lo) < 1e-9 else f"{lo:.4f} to {hi:.4f}"
        return (
            f"Each run spends a summed learning rate of {span} — {lo / simcse:.1%}"
            + ("" if abs(hi - lo) < 1e-9 else f" to {hi / simcse:.1%}")
            + f" of SimCSE's BERT-base epoch ({simcse:.3f}), which chapters 3–5 spend in full: these settings are "
            "compared on the short schedule, so their geometry has moved far less than the full-budget runs'."
        )

    def chart(self, code=None) -> None:
        """The library code where the knob acts (``code``), then the dynamics per setting and the settings' table."""
        from IPython.display import Markdown, display

        from . import charts, literate, tables

        if code is not None:
            literate.show(code)
        display(
            charts.over_steps(
                dynamics.curves(self.records, series="setting"),
                f"SimCSE's dynamics by {self.knob.title}",
                series="setting",
                layer_select=True,
            )
        )
        display(Markdown(self.budget()))
        tables.show(
            self.table().rename_axis(self.knob.title),
            transpose_if_wider_than=6,
            caption="Per setting: best STS-B dev (Spearman × 100), whether the run trained, last-layer metrics at the "
            "end; the last row: the default setting's sd over its seeds"
            + (f"; SimCSE's numbers: {self.knob.reference_source}" if self.knob.reference else ""),
        )

    def save(self, metrics: dict | None = None):
        from ..science import devices

        summary = dict(
            table=self.table().reset_index(names="setting").to_dict("records"),
            noise_seeds=list(self.noise),
            default=self.default_label,
            runs={
                k: dict(params=r["params"], best=r.get("best"), final=r.get("final"), trained=trained(r))
                for k, r in self.records.items()
            },
        )
        models = [
            dict(name=self.runs[k], kind="local", source=f"SimCSE training run ({k})",
                 weights_sha256=r["final"]["weights_sha256"])
            for k, r in [*self.records.items(), *((f"seed {s}", r) for s, r in self.noise.items())]
        ]  # fmt: skip
        return self.results.save(
            dict(summary, **(metrics or {})), models=models, device=devices.resolve_device(self.params["device"])
        )

    def data(self) -> str:
        """Write the page's tables beside its results.json and return its "Data" section (markdown)."""
        from . import datafiles

        out = self.results.out_dir
        settings = "one setting (the last row: the default's sd over its seeds): best STS-B dev, last-layer metrics"
        datafiles.write(out, "settings", self.table().reset_index(names="setting"), settings)
        snapshots = "one setting at one training step and layer: one metric (STS-B dev: layer empty)"
        datafiles.write(out, "snapshots", dynamics.curves(self.records, series="setting"), snapshots)
        return datafiles.section(out, self.results.chapter)

    def provenance(self, saved):
        from . import tables

        return tables.provenance(
            saved,
            self.params["scale"],
            settings=", ".join(self.records),
            seed_noise_from=f"the default setting ({self.default_label}), seeds {list(self.noise)}",
        )


def plans(chapter: str, params: dict) -> tuple[training.SimCSEConfig, dict[str, training.SimCSEConfig], dict]:
    """``(default configuration, {setting label: configuration}, {seed: the default's configuration})`` of an
    ablation chapter, every setting resolved (so checked) once."""
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
            "simcse", parameters.simcse_overrides(params, seed=seeds[0], **extra)
        )
    noise = {s: training.resolve("simcse", parameters.simcse_overrides(params, seed=s)) for s in seeds}
    return base, settings, noise


def configs(chapter: str, params: dict) -> list[training.SimCSEConfig]:
    """The runs of an ablation chapter (``lib.book.plan``): every setting, then the default's other seeds."""
    _, settings, noise = plans(chapter, params)
    return list({training_runs.run_dir(c): c for c in [*settings.values(), *noise.values()]}.values())


def start(chapter: str, namespace: dict) -> Study:
    """Check a chapter's parameters (every setting's run included) before any compute, then collect (or train) the
    settings' runs and the default setting's seeds."""
    from .chapters import begin

    params, res = begin(chapter, namespace)
    base, settings, noise_plans = plans(chapter, params)
    records = _finished(settings, params["run_missing"])
    if len(records) < 2:
        raise ParameterError(
            "run_missing",
            params["run_missing"],
            "fewer than two settings have a finished run; set run_missing=True to train them (or run the sweep first)",
        )
    noise = _finished(noise_plans, params["run_missing"])
    runs = {k: training_runs.run_dir(c).name for k, c in settings.items()}
    runs |= {f"seed {s}": training_runs.run_dir(c).name for s, c in noise_plans.items()}
    return Study(KNOBS[CHAPTER_KNOB[chapter]], res, params, base, records, noise, runs)


def _finished(plans: dict, run_missing: bool) -> dict:
    """``{key: train.json}`` of the plans' finished runs (trained first when ``run_missing``)."""
    out = {}
    for k, cfg in plans.items():
        record = training_runs.ensure(cfg)[1] if run_missing else training_runs.status(cfg)
        if record and record.get("status") == "finished":
            out[k] = record
    return out
