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


def provenance(saved, scale: str, **rows):
    """The table every chapter ends with, read back from the ``results.json`` it wrote: the scale, the models
    (name, source, weights fingerprint), the chapter's own ``rows`` (keyword = row label, underscores as spaces),
    the device, the commit (flagged when the tree had uncommitted changes), when it started and how long it took."""
    import pandas as pd

    from . import records

    prov = records.read(saved)["provenance"]
    models = "; ".join(f"{m['name']} ({m['source']}, weights {m['weights_sha256'][:12]}…)" for m in prov["models"])
    device = prov["device"]
    table = {"scale": scale, **({"models": models} if models else {}),
             **{k.replace("_", " "): v for k, v in rows.items()},
             "device": f"{device['device']} ({device['torch_threads']} threads)"
                       + (f", {device['gpu']}" if device.get("gpu") else ""),
             "git commit": prov["git"]["commit"][:12] + (" (uncommitted changes)" if prov["git"]["dirty"] else ""),
             "started": prov["started_at"], "wall time": f"{prov['wall_time_s']:.1f} s"}
    return pd.Series(table, name="value").to_frame()
