"""Charts a reader explores, rather than reads once: every token of Chapter 4's analysis, and Chapter 5's training
snapshots under one step slider. Both are Vega-Lite specs with their data inline and their inputs bound in
``params``, so they work offline in the built book like every other chart (:mod:`lib.book.vega`).

- :func:`token_table` -- the long table behind the token explorer: one row per token id, layer and pooling, with
  the PLM's and the CL model's self-similarity, raw and adjusted (also the page's data file);
- :func:`token_explorer` -- one point per token at the chosen layer, PLM (x) against CL (y), with a layer slider,
  a raw/adjusted switch, a pooling menu and a search box;
- :func:`scrubber` -- one step slider driving every panel: per-layer profiles at the chosen snapshot and, per
  metric, its curve over training with the chosen step marked.

The explorer's spec carries one row per token and layer (the poolings side by side as columns, the adjusted value
computed in the browser from each model's anisotropy), values rounded to 4 significant digits: about 3,200 rows
and 0.5 MB at pocket scale (454 ids x 7 layers, two poolings).
"""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd

from .vega import (
    CLASS_COLOURS,
    PANEL_HEIGHT,
    PANEL_WIDTH,
    configure,
    fit_columns,
    grid,
    over_seeds,
    relative_change,
    series_color,
    split_seeds,
    step_axis,
    wants_relative,
)

TOKEN_COLUMNS = [
    "token", "id", "class", "count", "contexts", "layer", "variant", "seeds",
    "plm_raw", "cl_raw", "plm_adj", "cl_adj", "delta_raw", "delta_adj",
]  # fmt: skip


# --------------------------------------------------------------------------------------------- the tokens
def _per_id(geo, ids: np.ndarray) -> np.ndarray:
    """``[n_states, len(ids)]``: the geometry's per-id self-similarity, in the order of ``ids``."""
    where = {int(t): i for i, t in enumerate(geo.vocab_ids)}
    return geo.self_sim_per_id[:, [where[int(t)] for t in ids]]


def token_table(plm, cls_by_variant: dict[str, list], tokenizer, functional_mask: np.ndarray) -> pd.DataFrame:
    """Every token id measured (in >= 2 sentences) by the PLM and by every CL geometry, per layer and pooling.

    ``plm``: the PLM's :class:`lib.science.geometry.Geometry`; ``cls_by_variant``: ``{pooling: [Geometry, ...]}``,
    one per training seed, all over the same sentences and tokenizer; ``functional_mask``: a boolean array over the
    tokenizer's ids (:func:`lib.science.tokens.functional_mask`).

    Columns: ``token``, ``id``, ``class`` (functional / semantic), ``count`` (occurrences) and ``contexts``
    (sentences holding it), ``layer`` (0 = embeddings), ``variant`` (the pooling), ``seeds`` (CL runs averaged),
    ``plm_raw``, ``cl_raw`` (the CL value is the mean over the pooling's training seeds), ``plm_adj``, ``cl_adj``
    (raw minus that model's anisotropy A at that layer; for CL the mean over seeds of each run's own adjusted
    value) and ``delta_raw``, ``delta_adj`` (CL − PLM). The ids are the same for every pooling (measured in all
    geometries), so switching pooling compares the same tokens.
    """
    if not cls_by_variant or any(not runs for runs in cls_by_variant.values()):
        raise ValueError("cls_by_variant needs at least one geometry per pooling")
    geos = [g for runs in cls_by_variant.values() for g in runs]
    if any(g.n_states != plm.n_states for g in geos):
        raise ValueError(f"every geometry must have the PLM's {plm.n_states} states (layers)")
    measured = set(plm.vocab_ids[plm.measured].tolist())
    for g in geos:
        measured &= set(g.vocab_ids[g.measured].tolist())
    ids = np.array(sorted(measured), dtype=np.int64)
    if not len(ids):
        raise ValueError("no token id is measured (>= 2 sentences) by the PLM and every CL geometry")
    where = {int(t): i for i, t in enumerate(plm.vocab_ids)}
    rows = [where[int(t)] for t in ids]
    base = pd.DataFrame(
        {
            "token": tokenizer.convert_ids_to_tokens(ids.tolist()),
            "id": ids,
            "class": np.where(np.asarray(functional_mask)[ids], "functional", "semantic"),
            "count": plm.counts[rows].astype(np.int64),
            "contexts": plm.contexts[rows].astype(np.int64),
        }
    )
    plm_raw = _per_id(plm, ids)
    frames = []
    for variant, runs in cls_by_variant.items():
        cl_raw = np.mean([_per_id(g, ids) for g in runs], axis=0)
        cl_a = np.mean([g.anisotropy for g in runs], axis=0)
        for layer in range(plm.n_states):
            part = base.assign(layer=layer, variant=variant, seeds=len(runs))
            part["plm_raw"], part["cl_raw"] = plm_raw[layer], cl_raw[layer]
            part["plm_adj"] = plm_raw[layer] - plm.anisotropy[layer]
            part["cl_adj"] = cl_raw[layer] - cl_a[layer]
            frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    table["delta_raw"] = table["cl_raw"] - table["plm_raw"]
    table["delta_adj"] = table["cl_adj"] - table["plm_adj"]
    return table[TOKEN_COLUMNS]


def round_sig(values, digits: int = 4) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (what a chart's data needs; JSON then writes 0.1234)."""
    x = np.asarray(values, dtype=float)
    mag = np.floor(np.log10(np.abs(x), out=np.zeros_like(x), where=(x != 0) & np.isfinite(x)))
    factor = 10.0 ** (digits - 1 - mag)
    return np.round(x * factor) / factor


def _domain(values, pad: float = 0.03) -> list[float]:
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    span = (hi - lo) or 1.0
    return [round(lo - pad * span, 4), round(hi + pad * span, 4)]


def token_explorer(table: pd.DataFrame, title: str, values: str = "adjusted", size: int = 430) -> alt.LayerChart:
    """One point per token at the chosen layer: the PLM's self-similarity (x) against the CL model's (y), y = x
    drawn. Inputs under the chart: a layer slider (the last layer first), raw or adjusted values (``values``
    first), the pooling, and a search box that highlights a token (the others dimmed; ``##`` pieces match
    without their prefix). Colour: the token's class; size: its occurrences. Hover a point for its token, counts
    and values.

    ``table``: :func:`token_table`'s. The axes keep one range per kind of value across layers and poolings, so a
    point's movement when the slider moves is the token's, not the axis's."""
    variants = list(dict.fromkeys(table["variant"]))
    layers = sorted(int(v) for v in table["layer"].unique())
    keys = ["id", "layer"]
    wide = table[table["variant"] == variants[0]][["token", "id", "class", "count", "contexts", "layer", "plm_raw"]]
    wide = wide.rename(columns={"plm_raw": "p"}).reset_index(drop=True)
    anisotropy = {"plm": _anisotropy(table[table["variant"] == variants[0]], "plm")}
    for i, v in enumerate(variants):
        part = table[table["variant"] == v]
        wide = wide.merge(part[keys + ["cl_raw"]].rename(columns={"cl_raw": f"c{i}"}), on=keys, how="left")
        anisotropy[f"c{i}"] = _anisotropy(part, "cl")
    value_cols = ["p"] + [f"c{i}" for i in range(len(variants))]
    for c in value_cols:
        wide[c] = round_sig(wide[c])
    raw = _domain(table[["plm_raw", "cl_raw"]].to_numpy())
    adj = _domain(table[["plm_adj", "cl_adj"]].to_numpy())
    seeds = sorted(set(table["seeds"]))

    layer = alt.param(
        name="layer", value=layers[-1], bind=alt.binding_range(min=layers[0], max=layers[-1], step=1, name="layer ")
    )
    mode = alt.param(
        name="mode", value=values, bind=alt.binding_radio(options=["raw", "adjusted"], name="self-similarity ")
    )
    pooling = alt.param(
        name="pooling",
        value=0,
        bind=alt.binding_select(options=list(range(len(variants))), labels=variants, name="CL pooling "),
    )
    search = alt.param(name="search", value="", bind=alt.binding(input="search", placeholder="e.g. the", name="find "))
    a = alt.param(name="A", value={k: [round(float(x), 4) for x in v] for k, v in anisotropy.items()})
    adjusted = "(mode == 'adjusted')"
    scale = alt.Scale(
        domainMin=alt.ExprRef(f"{adjusted} ? {adj[0]} : {raw[0]}"),
        domainMax=alt.ExprRef(f"{adjusted} ? {adj[1]} : {raw[1]}"),
        nice=False,
        zero=False,
    )
    points = (
        alt.Chart(wide)
        .transform_filter("datum.layer == layer")
        .transform_calculate(
            x=f"datum.p - ({adjusted} ? A.plm[datum.layer] : 0)",
            y=f"datum['c' + pooling] - ({adjusted} ? A['c' + pooling][datum.layer] : 0)",
            hit="search != '' && (lower(datum.token) == lower(trim(search)) || "
            "lower(datum.token) == '##' + lower(trim(search)))",
        )
        .transform_calculate(delta="datum.y - datum.x", shade="search == '' ? 0.55 : (datum.hit ? 1 : 0.08)")
    )
    x = alt.X("x:Q", title="PLM self-similarity", scale=scale)
    y = alt.Y("y:Q", title="CL self-similarity", scale=scale)
    dots = points.mark_circle(stroke="#111111").encode(
        x=x,
        y=y,
        color=alt.Color(
            "class:N",
            title="token class",
            scale=alt.Scale(domain=list(CLASS_COLOURS), range=list(CLASS_COLOURS.values())),
            legend=alt.Legend(symbolOpacity=0.8),
        ),
        size=alt.Size("count:Q", title="occurrences", scale=alt.Scale(type="log", range=[12, 320])),
        opacity=alt.Opacity("shade:Q", scale=None, legend=None),
        strokeWidth=alt.condition("datum.hit", alt.value(1.5), alt.value(0)),
        tooltip=[
            alt.Tooltip("token:N"),
            alt.Tooltip("class:N"),
            alt.Tooltip("count:Q", title="occurrences"),
            alt.Tooltip("contexts:Q", title="sentences"),
            alt.Tooltip("layer:O"),
            alt.Tooltip("x:Q", format=".4f", title="PLM"),
            alt.Tooltip("y:Q", format=".4f", title="CL"),
            alt.Tooltip("delta:Q", format="+.4f", title="CL − PLM"),
        ],
    )
    labels = (
        points.transform_filter("datum.hit")
        .mark_text(align="left", dx=7, dy=-7, fontSize=12, fontWeight="bold", color="#111111")
        .encode(x=x, y=y, text="token:N")
    )
    edge = [min(raw[0], adj[0]), max(raw[1], adj[1])]
    diagonal = (
        alt.Chart(pd.DataFrame({"v": edge}))
        .mark_line(color="#888888", strokeDash=[5, 4], clip=True)
        .encode(x=alt.X("v:Q", scale=scale, title="PLM self-similarity"), y=alt.Y("v:Q", scale=scale))
    )
    runs = "one training run" if seeds == [1] else f"the mean over {' or '.join(map(str, seeds))} training seeds"
    subtitle = [
        f"{table['id'].nunique()} tokens measured in ≥ 2 sentences by both models; CL: {runs} of the pooling chosen.",
        "Above the diagonal, a token's vectors agree more across its sentences in CL than in the PLM.",
        "Adjusted: minus the model's anisotropy at that layer. Size: the token's occurrences.",
    ]
    chart = (
        alt.layer(diagonal, dots, labels)
        .add_params(layer, mode, pooling, search, a)
        .properties(width=size, height=size, title=alt.TitleParams(title, subtitle=subtitle, anchor="start"))
    )
    return configure(chart, legend_columns=2)


def _anisotropy(part: pd.DataFrame, model: str) -> list[float]:
    """Per layer, raw − adjusted: the anisotropy that ``model``'s adjusted values subtract."""
    a = (part[f"{model}_raw"] - part[f"{model}_adj"]).groupby(part["layer"]).mean()
    return [float(a.get(layer, np.nan)) for layer in range(int(part["layer"].max()) + 1)]


def spec_bytes(chart) -> int:
    """The size of ``chart``'s Vega-Lite JSON, data included (what a page carries)."""
    return len(json.dumps(chart.to_dict()).encode("utf-8"))


# --------------------------------------------------------------------------------------------- training steps
def _snapshot_ranges(data: pd.DataFrame, series: str, steps: list) -> pd.DataFrame:
    """Each row's slider positions: from its step's index to (not including) the index of its series' next
    snapshot, so a series that stopped earlier keeps showing its last snapshot."""
    index = {s: i for i, s in enumerate(steps)}
    nxt = {}
    for name, part in data.groupby(series, sort=False):
        own = sorted(part["step"].unique())
        nxt.update({(name, s): index[t] for s, t in zip(own, own[1:])})
        nxt[(name, own[-1])] = len(steps)
    return data.assign(
        i_from=data["step"].map(index).astype(int),
        i_to=[nxt[(n, s)] for n, s in zip(data[series], data["step"])],
    )


def scrubber(
    curves: pd.DataFrame,
    metrics: list[str],
    title: str,
    series: str = "series",
    layer: int | None = None,
    log_x: bool = True,
    columns: int = 3,
    seed: str | None = None,
    relative="auto",
) -> alt.VConcatChart:
    """One step slider for every panel: for each of ``metrics``, its per-layer profile at the chosen snapshot
    (x = layer, one line per series; the y range fixed over training, so the lines move, not the axis) above its
    curve over the training steps at ``layer`` (default: the last) with the chosen step marked. A metric without
    layers (STS-B dev) has the curve only.

    ``curves``: :func:`lib.book.dynamics.curves`'s long table (series, step, layer, metric, value). The slider
    moves through the snapshot steps of all series (by index: steps are log-spaced); a series whose run has no
    snapshot at the chosen step shows its latest one before it. ``seed``: the column (or ``· seed n`` labels)
    naming training seeds, averaged into one line per setting. ``relative``: as in
    :func:`lib.book.charts.over_steps` (a metric that barely moves is drawn as % change from the first step)."""
    data = curves[curves["metric"].isin(metrics)].copy()
    missing = [m for m in metrics if m not in set(data["metric"])]
    if missing:
        raise ValueError(f"no rows for metrics {missing}; the table has {sorted(set(curves['metric']))}")
    if seed is not None:
        data = over_seeds(split_seeds(data, series, seed), [series, "metric", "step", "layer"])
    steps = sorted(float(s) for s in data["step"].unique())
    steps = [int(s) if s.is_integer() else s for s in steps]
    data = _snapshot_ranges(data, series, steps).assign(step_plot=lambda d: d["step"].clip(lower=1))
    last = int(data["layer"].max()) if data["layer"].notna().any() else 0
    layer = last if layer is None else layer
    snapshot = alt.param(
        name="snapshot",
        value=len(steps) - 1,
        bind=alt.binding_range(min=0, max=len(steps) - 1, step=1, name="training snapshot "),
    )
    chosen = f"{json.dumps(steps)}[snapshot]"
    late = f"snapshot > {(len(steps) - 1) / 2}"  # the step's label goes left of its rule in the later half
    color = series_color(series, data[series], title=series)
    tooltip = [alt.Tooltip(f"{series}:N"), alt.Tooltip("step:Q"), alt.Tooltip("value:Q", format=".4f")]
    x_step = step_axis(data["step"], log_x)
    panels = []
    bands = seed is not None and bool((data["seeds"] > 1).any())
    marker = alt.Chart(pd.DataFrame({"_": [0]})).transform_calculate(
        step=chosen, step_plot=f"max(1, {chosen})" if log_x else chosen
    )
    rule = marker.mark_rule(color="#222222", strokeDash=[3, 3]).encode(x=x_step)
    label = marker.mark_text(
        align=alt.ExprRef(f"{late} ? 'right' : 'left'"),
        dx=alt.ExprRef(f"{late} ? -3 : 3"),
        baseline="top",
        fontSize=10,
        color="#222222",
    ).encode(x=x_step, y=alt.value(2), text=alt.Text("step:Q", format=","))
    panels = []
    for metric in metrics:
        part, name = data[data["metric"] == metric], str(metric)
        if wants_relative(relative, metric, part):
            part = relative_change(part, [series, "layer"], also=("lo", "hi"))
            name = f"{metric}: % change from step {steps[0]}"
        stack = []
        if part["layer"].notna().any():
            lo, hi = _domain(part[[c for c in ("value", "lo", "hi") if c in part]].to_numpy(), pad=0.05)
            base = alt.Chart(part, title=alt.TitleParams(name, fontSize=11)).transform_filter(
                "datum.i_from <= snapshot && snapshot < datum.i_to"
            )
            x = alt.X("layer:O", title="layer (0 = embeddings)", axis=alt.Axis(labelAngle=0))
            scale = alt.Scale(domain=[lo, hi], nice=False)
            profile = base.mark_line(point=alt.OverlayMarkDef(size=30)).encode(
                x=x,
                y=alt.Y("value:Q", title=None, scale=scale),
                color=color,
                tooltip=[*tooltip, alt.Tooltip("layer:O")],
            )
            profile = _banded(profile, base, x, scale, color, bands)
            stack.append(profile.properties(width=PANEL_WIDTH, height=PANEL_HEIGHT))
            at_layer, curve_title = part[part["layer"] == layer], f"at layer {layer}, over training"
        else:
            at_layer, curve_title = part, f"{name}, over training"
        base = alt.Chart(at_layer)
        scale = alt.Scale(zero=False)
        line = base.mark_line(point=alt.OverlayMarkDef(size=18), clip=True).encode(
            x=x_step, y=alt.Y("value:Q", title=None, scale=scale), color=color, tooltip=tooltip
        )
        curve = alt.layer(_banded(line, base, x_step, scale, color, bands), rule, label)
        stack.append(
            curve.properties(
                width=PANEL_WIDTH, height=PANEL_HEIGHT * 2 // 3, title=alt.TitleParams(curve_title, fontSize=10)
            )
        )
        # the curve keeps its own y range (one layer's values over training), the profile its range over all
        panels.append(alt.vconcat(*stack, spacing=8).resolve_scale(y="independent") if len(stack) > 1 else stack[0])
    chart = grid(panels, fit_columns(len(panels), columns)).add_params(snapshot)
    return configure(chart, title, legend_columns=4)


def _banded(lines, base: alt.Chart, x, scale: alt.Scale, color, bands: bool):
    """``lines`` over the seeds' spread (``lo`` to ``hi``, in the line's colour) when there are several seeds."""
    if not bands:
        return lines
    area = base.mark_area(opacity=0.18, clip=True).encode(
        x=x, y=alt.Y("lo:Q", title=None, scale=scale), y2="hi:Q", color=color
    )
    return alt.layer(area, lines)
