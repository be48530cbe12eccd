"""Ablations: one SimCSE knob varied over a grid, every other parameter at its default (chapters 7-9).

Each setting is one training run through the engine (:mod:`lib.book.training_runs`), shared with every chapter
and sweep that asks for the same parameters. Seed noise comes from the default setting trained with two seeds
(the runs the dynamics chapter uses).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..science.params import ParameterError
from . import dynamics, pairs, training_runs

DEFAULT_KNOBS = dict(temperature=0.05, pooling="cls", batch_size=64, lr=3e-5, max_steps=0, dropout=0.1)
TRACKED = {"anisotropy": "anisotropy A", "intra_sim_adj": "IntraSim*", "norm": "mean token norm",
           "self_sim_functional_adj": "functional SelfSim*"}


def _record(params: dict, run_missing: bool) -> dict | None:
    """The run's train.json: trained (or resumed) when ``run_missing``, else whatever is on disk (None if nothing)."""
    return training_runs.ensure("simcse", params)[1] if run_missing else training_runs.status("simcse", params)


def runs(knob: str, values: list, scale: str, plm: str, data_dir: str, device: str, seed: int, knobs: dict,
         run_missing: bool, label=lambda v: str(v)) -> dict[str, dict]:
    """``{label(value): train.json}`` for every value of ``knob`` (missing runs trained when ``run_missing``)."""
    out = {}
    for value in values:
        params = pairs.simcse_params(scale, plm, data_dir, device, seed, **{**knobs, knob: value})
        record = _record(params, run_missing)
        if run_missing or (record and record.get("status") == "finished"):
            out[label(value)] = record
    if not out:
        raise ParameterError("run_missing", run_missing, "no setting has a finished run; set run_missing=True to "
                             "train them (or run the sweep first)")
    return out


def seed_spread(scale: str, plm: str, data_dir: str, device: str, knobs: dict, run_missing: bool) -> dict | None:
    """Per tracked metric, |seed 0 - seed 1| of the final last-layer value at ``knobs`` (None without both runs)."""
    records = []
    for seed in (0, 1):
        params = pairs.simcse_params(scale, plm, data_dir, device, seed, **knobs)
        rec = _record(params, run_missing)
        if not rec or rec.get("status") != "finished":
            return None
        records.append(rec)
    spread = {key: abs(dynamics.start_end(records[0], key)[1] - dynamics.start_end(records[1], key)[1])
              for key in TRACKED}
    spread["stsb_dev"] = abs(dynamics.best_stsb(records[0]) - dynamics.best_stsb(records[1]))
    return spread


def table(records: dict[str, dict]) -> pd.DataFrame:
    """Per setting: best STS-B dev (and its step), and each tracked metric at the start and end (last layer)."""
    rows = {}
    for name, rec in records.items():
        row = {"best STS-B dev": dynamics.best_stsb(rec), "best step": (rec.get("best") or {}).get("step")}
        for key, label in TRACKED.items():
            start, end = dynamics.start_end(rec, key)
            row[f"{label}: start"], row[f"{label}: end"] = start, end
        rows[name] = row
    return pd.DataFrame(rows).T


def dynamics_differ(run, finding: str, records: dict[str, dict], spread: dict | None) -> None:
    """The knob changes the dynamics: the final last-layer anisotropy and IntraSim* span, across the settings,
    more than 3 times the seed-to-seed difference at the default setting (more than 0 without a seed pair)."""
    for key in ("anisotropy", "intra_sim_adj"):
        ends = [dynamics.start_end(rec, key)[1] for rec in records.values()]
        noise = 3 * spread[key] if spread else 0.0
        run.above(finding, f"range of final {TRACKED[key]} across settings vs 3x seed spread ({noise:.4f})",
                  float(np.ptp(ends)), noise)


def start(chapter: str, knob: str, values, check_value, params: dict, label) -> tuple:
    """Check a chapter's parameters (every setting's training parameters included) before any compute, then
    collect the settings' runs. The fixed knobs are the chapter's own parameters where it has them, SimCSE's
    defaults (``DEFAULT_KNOBS``) otherwise. Returns ``(chapter run, {setting: train.json}, seed spread)``."""
    from ..science import devices, models, training
    from ..science import params as P
    from .chapter_run import ChapterRun

    scale, plm, device, data_dir = params["scale"], params["plm"], params["device"], params["data_dir"]
    knobs = {k: params.get(k, default) for k, default in DEFAULT_KNOBS.items()}
    P.scale(scale)
    P.flag("run_missing", params["run_missing"])
    if not isinstance(values, list) or len(values) < 2:
        raise ParameterError("values", values, f"expected a list of at least two {knob} settings")
    for value in values:
        check_value("values", value)
    devices.resolve_device(device)
    models.resolve(plm)
    for value in values:
        training.resolve_params("simcse", pairs.simcse_params(scale, plm, data_dir, device, params["train_seed"],
                                                              **{**knobs, knob: value}))
    run = ChapterRun(chapter, params)
    if scale == "smoke":
        run.not_comparable("smoke scale: 20 SimCSE steps of a tiny random encoder say nothing about the paper's "
                           "claims")
    records = runs(knob, values, scale, plm, data_dir, device, params["train_seed"], knobs, params["run_missing"],
                   label)
    spread = seed_spread(scale, plm, data_dir, device, knobs, params["run_missing"])
    return run, records, spread


def finish(run, finding: str, records: dict[str, dict], spread: dict | None, summary: pd.DataFrame):
    """Record the chapter's results (after its checks), show the checks and the verdict; returns the results path."""
    from IPython.display import Markdown, display

    from ..science import devices

    held = [c["passed"] for c in run.checks]
    word = "reproduces" if all(held) else "does not reproduce" if not any(held) else "partly reproduces"
    best = summary["best STS-B dev"].astype(float)
    headline = (f"best STS-B dev {', '.join(f'{k}: {v:.1f}' for k, v in best.items())}; final A "
                f"{', '.join(f'{v:.3f}' for v in summary['anisotropy A: end'])}")
    metrics = dict(table=summary.reset_index(names="setting").to_dict("records"), seed_spread=spread,
                   runs={k: dict(params=r["params"], best=r.get("best"), final=r.get("final"))
                         for k, r in records.items()},
                   headlines={finding: headline})
    saved = run.save(metrics, device=devices.resolve_device(run.params["device"]))
    display(pd.DataFrame([dict(claim=c["claim"], measured=c["measured"], bound=c["reference"],
                               holds="✓" if c["passed"] else "✗") for c in run.checks])
            .style.format({"measured": "{:.4f}", "bound": "{:.4f}"}).hide(axis="index"))
    display(Markdown((f"**Not comparable:** {run.comparable_reason}. " if not run.comparable else "")
                     + f"**{finding} {word} at {run.scale} scale:** {headline}."))
    return saved
