"""Reading training runs' geometry snapshots and evaluations as curves (the dynamics and ablation chapters).

A record is a training run's ``train.json``: ``snapshots`` (``{step, per_layer, self_sim_functional, ...}``) and
``evals`` (``{step, stsb_dev, ...}``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .labels import label

LAYER_KEYS = ("anisotropy", "intra_sim", "intra_sim_adj", "norm", "rogue_top1_share", "isoscore")
CLASS_KEYS = ("self_sim_functional", "self_sim_semantic", "func_to_content")  # drawn adjusted (key + "_adj")
LAYER_METRICS = {k: label(k) for k in LAYER_KEYS}
CLASS_METRICS = {k: label(k + "_adj") for k in CLASS_KEYS}


def curves(records: dict[str, dict], series: str = "series") -> pd.DataFrame:
    """Long table ``series, step, layer, metric, value`` of every snapshot metric (class metrics adjusted by the
    layer's anisotropy, as marked *) and STS-B dev (``layer`` NaN)."""
    rows = []
    for name, rec in records.items():
        for snap in rec["snapshots"]:
            for r in snap["per_layer"]:
                layer, a = r["layer"], r["anisotropy"]
                for key, metric in LAYER_METRICS.items():
                    rows.append({series: name, "step": snap["step"], "layer": layer, "metric": metric, "value": r[key]})
                for key, metric in CLASS_METRICS.items():
                    if snap.get(key) is not None:
                        rows.append(
                            {
                                series: name,
                                "step": snap["step"],
                                "layer": layer,
                                "metric": metric,
                                "value": snap[key][layer] - a,
                            }
                        )
        for e in rec["evals"]:
            rows.append(
                {series: name, "step": e["step"], "layer": np.nan, "metric": label("stsb_dev"), "value": e["stsb_dev"]}
            )
    return pd.DataFrame(rows)


def last_layer(record: dict, key: str) -> list[tuple[int, float]]:
    """``(step, value)`` of one metric at the last layer, for every snapshot. ``key`` is a per-layer key, or a
    class metric (``self_sim_functional`` ...) with ``_adj`` for the anisotropy-adjusted value."""
    out = []
    for snap in record["snapshots"]:
        r = snap["per_layer"][-1]
        base = key[:-4] if key.endswith("_adj") and key[:-4] in CLASS_METRICS else key
        if base in CLASS_METRICS:
            value = snap[base][-1] - (r["anisotropy"] if key.endswith("_adj") else 0.0)
        else:
            value = r[key]
        out.append((snap["step"], value))
    return out


def start_end(record: dict, key: str) -> tuple[float, float]:
    series = last_layer(record, key)
    return series[0][1], series[-1][1]


def best_stsb(record: dict) -> float:
    """The best STS-B dev during training (what SimCSE keeps), the start excluded."""
    during = [e["stsb_dev"] for e in record["evals"] if e["step"] > 0]
    return max(during) if during else float("nan")


def early_share(records: list[dict], key: str, share: float, sign: int = 0) -> tuple[int, float]:
    """``(step, fraction)``: the first snapshot step at or after ``share`` of training, and the fraction of the
    total change (start to end, averaged over ``records``) already reached there.

    With ``sign`` (+1: the claim is a rise, -1: a fall) only movement in the claimed direction counts: the
    fraction is the claimed-direction progress at the early step (clipped to [0, total]) over the total, and NaN
    when the metric did not move the claimed way at all."""
    series = [dict(last_layer(rec, key)) for rec in records]
    steps = sorted(series[0])
    early = next(s for s in steps if s >= share * steps[-1])
    start = np.mean([s[steps[0]] for s in series])
    end = np.mean([s[steps[-1]] for s in series])
    at = np.mean([s[early] for s in series])
    if sign:
        total = (end - start) * sign
        if total <= 0:
            return early, float("nan")
        return early, float(np.clip((at - start) * sign, 0.0, total) / total)
    return early, (float((at - start) / (end - start)) if end != start else float("nan"))


# --------------------------------------------------------------------------------------------- the runs
def configs(params: dict) -> list:
    """Chapter 5's runs: the full-budget run of every pooling and training seed, then SimCSE's literal schedule
    (its first steps) for every pooling and ``literal_seeds`` (none when ``runs`` names finished folders)."""
    from ..science import training
    from . import parameters

    if params.get("runs"):
        return []
    out = []
    for name, seeds in (("full", params["train_seeds"]), ("literal", params["literal_seeds"])):
        if not seeds:
            continue
        over = training.schedule(params["scale"], name)
        for pooling in params["poolings"]:
            for seed in seeds:
                out.append(
                    training.resolve("simcse", parameters.simcse_overrides(params, over, pooling=pooling, seed=seed))
                )
    return out


def summed_lr_at(record: dict, step: int) -> float:
    from ..science import movement

    sch = record["schedule"]
    return movement.summed_lr(record["params"]["lr"], sch["max_steps"], sch["warmup_steps"], upto=step)


def value_at(record: dict, key: str, step: int) -> float:
    """A last-layer metric (``stsb_dev``: the evaluation) of a run at ``step``; NaN where not measured there."""
    if key == "stsb_dev":
        return next((e["stsb_dev"] for e in record["evals"] if e["step"] == step), float("nan"))
    return dict(last_layer(record, key)).get(step, float("nan"))


def path_comparison(full: list[dict], literal: dict, keys: list[str]) -> pd.DataFrame:
    """The literal schedule against the full-budget runs at equal summed learning rate.

    For every step ``s`` of the literal run where ``key`` was measured, the full-budget step ``t`` whose Σ lr is
    nearest (among the steps measured in every full run); the rule, stated before measuring: the paths **agree**
    when the literal run lies inside the 95 % prediction interval of one more full-budget seed at ``t``
    (:func:`lib.science.stats.difference_interval`, one run against the seeds). One row per key and step."""
    from ..science import stats

    rows = []
    for key in keys:
        lit_steps = [s for s in _steps(literal, key) if s > 0]
        common = sorted(set.intersection(*(set(_steps(r, key)) for r in full)) - {0})
        if not common:
            continue
        sums = np.array([summed_lr_at(full[0], t) for t in common])
        for s in lit_steps:
            target = summed_lr_at(literal, s)
            t = common[int(np.argmin(np.abs(sums - target)))]
            values = [value_at(r, key, t) for r in full]
            lit = value_at(literal, key, s)
            d = stats.difference_interval([lit], values)
            rows.append(
                dict(
                    metric=key,
                    literal_step=s,
                    full_step=t,
                    summed_lr_literal=target,
                    summed_lr_full=summed_lr_at(full[0], t),
                    literal=lit,
                    full_mean=float(np.mean(values)),
                    full_sd=float(np.std(values, ddof=1)) if len(values) > 1 else float("nan"),
                    difference=d["mean"],
                    low=d["low"],
                    high=d["high"],
                    agree=bool(d["low"] <= 0 <= d["high"]) if d["low"] == d["low"] else None,
                )
            )
    return pd.DataFrame(rows)


def _steps(record: dict, key: str) -> list[int]:
    if key == "stsb_dev":
        return [e["step"] for e in record["evals"]]
    return [s["step"] for s in record["snapshots"]]
