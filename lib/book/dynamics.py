"""Reading training runs' geometry snapshots and evaluations as curves (the dynamics and ablation chapters).

A record is a training run's ``train.json``: ``snapshots`` (``{step, per_layer, self_sim_functional, ...}``) and
``evals`` (``{step, stsb_dev, ...}``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LAYER_METRICS = {
    "anisotropy": "anisotropy A",
    "intra_sim": "IntraSim",
    "intra_sim_adj": "IntraSim*",
    "norm": "mean token norm",
    "rogue_top1_share": "top-1 dimension share",
    "isoscore": "IsoScore",
}
CLASS_METRICS = {
    "self_sim_functional": "SelfSim* functional",
    "self_sim_semantic": "SelfSim* semantic",
    "func_to_content": "function → content cos*",
}


def curves(records: dict[str, dict], series: str = "series") -> pd.DataFrame:
    """Long table ``series, step, layer, metric, value`` of every snapshot metric (class metrics adjusted by the
    layer's anisotropy, as marked *) and STS-B dev (``layer`` NaN)."""
    rows = []
    for name, rec in records.items():
        for snap in rec["snapshots"]:
            for r in snap["per_layer"]:
                layer, a = r["layer"], r["anisotropy"]
                for key, label in LAYER_METRICS.items():
                    rows.append({series: name, "step": snap["step"], "layer": layer, "metric": label, "value": r[key]})
                for key, label in CLASS_METRICS.items():
                    if snap.get(key) is not None:
                        rows.append(
                            {
                                series: name,
                                "step": snap["step"],
                                "layer": layer,
                                "metric": label,
                                "value": snap[key][layer] - a,
                            }
                        )
        for e in rec["evals"]:
            rows.append(
                {series: name, "step": e["step"], "layer": np.nan, "metric": "STS-B dev ×100", "value": e["stsb_dev"]}
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
