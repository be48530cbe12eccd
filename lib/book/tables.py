"""Tables that put our numbers beside reference numbers (never instead of them)."""

from __future__ import annotations


def side_by_side(ours: list[dict], reference: list[dict], metrics: tuple[str, ...]):
    """A long table: layer, metric, ours, reference, difference (ours - reference), one row per layer and metric."""
    import pandas as pd

    ref = {(r["layer"], m): r[m] for r in reference for m in metrics if m in r}
    rows = [dict(layer=r["layer"], metric=m, ours=r[m], reference=ref.get((r["layer"], m)))
            for r in ours for m in metrics]
    df = pd.DataFrame(rows)
    df["difference"] = df["ours"] - df["reference"].astype(float)
    return df
