"""The book's charts (each returns an altair chart; a cell's last expression displays it), drawn with the shared
conventions of :mod:`lib.book.vega` and rendered offline:

- :func:`per_layer_lines` -- ours vs a reference per layer (raw and adjusted panels);
- :func:`per_layer_models` -- one panel per metric, one line per model; ``delta=("CL", "PLM")`` adds a CL − PLM
  panel under each metric, so lines that lie on top of each other still show their difference;
- :func:`over_steps` -- curves against the training step, one panel per metric; the step axis ends at the last
  step, log ticks at powers of ten; ordered settings (τ, batch size) get ordered colours whose neighbours differ;
- :func:`differences`, :func:`seed_spread` -- ours minus a reference, per-seed estimates against a released value;
- :func:`bars` -- horizontal bars with a legend and optional reference marks (a published value, labelled);
- :func:`scatter` -- points on axes fitted to the bulk of the data; outliers drawn at the edge and counted (these
  two live in :mod:`lib.book.points`).

Where a chart averages over training seeds (``seed=``), it draws the mean as the line and the seeds' spread as a
band around it, so a reader sees whether two lines differ by more than their noise. A model or pooling has the
same colour in every chart (:data:`lib.book.vega.SERIES_COLOURS`). The interactive explorers (a token's
self-similarity, a training-step scrubber) are in :mod:`lib.book.explore`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .points import bars, clip_range, scatter
from .vega import (
    PANEL_HEIGHT,
    PANEL_WIDTH,
    enable_offline,
    fit_columns,
    grid,
    over_seeds,
    relative_change,
    series_color,
    split_seeds,
    step_axis,
    wants_relative,
)
from .vega import configure as _configure

__all__ = [
    "bars",
    "clip_range",
    "differences",
    "enable_offline",
    "over_steps",
    "per_layer_lines",
    "per_layer_models",
    "scatter",
    "seed_spread",
]


# --------------------------------------------------------------------------------------------- chapter charts
def per_layer_lines(long: pd.DataFrame, title: str) -> alt.Chart:
    """Per-layer curves. ``long`` has columns layer, metric, variant, source, value (and optional sd).

    One panel per ``variant`` (raw / adjusted), one colour per metric, one dash style per ``source`` (ours, a
    reference). Click a legend entry to highlight a metric; hover a point for its numbers.
    """
    pick = alt.selection_point(fields=["metric"], bind="legend", name="pick_metric")
    tooltip = [
        alt.Tooltip("metric:N"),
        alt.Tooltip("variant:N"),
        alt.Tooltip("source:N"),
        alt.Tooltip("layer:O"),
        alt.Tooltip("value:Q", format=".4f"),
    ]
    if "sd" in long:
        tooltip.append(alt.Tooltip("sd:Q", format=".4f", title="sd over seeds"))
    variants = [v for v in ["raw", "adjusted"] if v in set(long["variant"])] + [
        v for v in dict.fromkeys(long["variant"]) if v not in ("raw", "adjusted")
    ]
    panels = []
    for v in variants:
        part = long[long["variant"] == v]
        chart = (
            alt.Chart(part, title=alt.TitleParams(str(v), fontSize=11))
            .mark_line(point=alt.OverlayMarkDef(size=40))
            .encode(
                x=alt.X("layer:O", title="layer (0 = embeddings)", axis=alt.Axis(labelAngle=0)),
                y=alt.Y("value:Q", title="cosine similarity", scale=alt.Scale(zero=False)),
                color=alt.Color("metric:N", title="metric"),
                strokeDash=alt.StrokeDash("source:N", title="numbers from"),
                opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
                tooltip=tooltip,
            )
            .properties(width=280, height=220)
        )
        panels.append(chart.add_params(pick) if not panels else chart)
    return _configure(grid(panels, columns=len(panels), independent_y=False), title, legend_columns=3)


def differences(diff: pd.DataFrame, tolerance: float, title: str, reference: str = "released") -> alt.LayerChart:
    """Ours minus a reference per layer and metric, with the tolerance band. ``diff``: layer, metric, difference."""
    band = (
        alt.Chart(pd.DataFrame({"lo": [-tolerance], "hi": [tolerance]}))
        .mark_rect(opacity=0.15)
        .encode(y=alt.Y("lo:Q", title=f"ours − {reference}"), y2="hi:Q")
    )
    zero = (
        alt.Chart(pd.DataFrame({"y": [0.0]}))
        .mark_rule(color="gray")
        .encode(y=alt.Y("y:Q", title=f"ours − {reference}"))
    )
    points = (
        alt.Chart(diff)
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("layer:O", title="layer", axis=alt.Axis(labelAngle=0)),
            xOffset="metric:N",
            y=alt.Y("difference:Q", title=f"ours − {reference}"),
            color=alt.Color("metric:N"),
            tooltip=[alt.Tooltip("metric:N"), alt.Tooltip("layer:O"), alt.Tooltip("difference:Q", format="+.4f")],
        )
    )
    return (band + zero + points).properties(width=520, height=180, title=title)


def seed_spread(
    per_seed: pd.DataFrame, released: pd.DataFrame, title: str, k: float = 3.0, relative: bool = True
) -> alt.LayerChart:
    """A per-seed estimate against one released value: dots = seeds, bar = mean ± k sd, black tick = released.

    ``per_seed``: layer, seed, anisotropy; ``released``: layer, anisotropy. With ``relative`` (the default) every
    value is drawn minus the released one, so the axis spans the spread and the bars are visible however small the
    values (the released value is the zero line); ``relative=False`` draws the values themselves on an axis fitted
    to them (not from 0).
    """
    per_seed, released = per_seed.copy(), released.copy()
    ref = dict(zip(released["layer"], released["anisotropy"]))
    if relative:
        per_seed["anisotropy"] = per_seed["anisotropy"] - per_seed["layer"].map(ref)
        released["anisotropy"] = 0.0
    ytitle = "ours − released A" if relative else "A (mean pairwise cosine)"
    x = alt.X("layer:O", title="layer", axis=alt.Axis(labelAngle=0))
    y = alt.Y("anisotropy:Q", title=ytitle, scale=alt.Scale(zero=False))
    dots = (
        alt.Chart(per_seed)
        .mark_circle(size=35, opacity=0.6)
        .encode(
            x=x, y=y, tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("seed:O"), alt.Tooltip("anisotropy:Q", format=".4f")]
        )
    )
    spread = (
        alt.Chart(per_seed)
        .transform_aggregate(mean="mean(anisotropy)", sd="stdev(anisotropy)", groupby=["layer"])
        .transform_calculate(lo=f"datum.mean - {k} * datum.sd", hi=f"datum.mean + {k} * datum.sd")
    )
    bars = spread.mark_rule(strokeWidth=3, opacity=0.55).encode(
        x=x,
        y=alt.Y("lo:Q", title=ytitle, scale=alt.Scale(zero=False)),
        y2="hi:Q",
        tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("mean:Q", format=".4f"), alt.Tooltip("sd:Q", format=".4f")],
    )
    ticks = (
        alt.Chart(released)
        .mark_tick(color="black", thickness=2, size=18)
        .encode(
            x=x,
            y=alt.Y("anisotropy:Q", title=ytitle),
            tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("anisotropy:Q", title="released")],
        )
    )
    layers = [bars, dots, ticks]
    if relative:
        layers.insert(
            0,
            alt.Chart(pd.DataFrame({"y": [0.0]}))
            .mark_rule(color="black", strokeWidth=1)
            .encode(y=alt.Y("y:Q", title=ytitle)),
        )
    return alt.layer(*layers).properties(width=520, height=180, title=title)


# --------------------------------------------------------------------------------------------- comparisons
def _spread(data: pd.DataFrame, field: str, seed: str | None, keys: list[str], band: str):
    """``(data, has_band)``: per-seed rows reduced to their mean (``value``) and band (``lo``, ``hi``)."""
    if seed is None:
        return data, False
    data = over_seeds(split_seeds(data, field, seed), [field, *keys], seed, band)
    return data, bool((data["seeds"] > 1).any())


def _band(base: alt.Chart, x, color, pick) -> alt.Chart:
    """The seeds' spread around a mean line, in the line's colour."""
    return base.mark_area(opacity=0.18, clip=True).encode(
        x=x,
        y=alt.Y("lo:Q", title=None, scale=alt.Scale(zero=False)),
        y2="hi:Q",
        color=color,
        opacity=alt.condition(pick, alt.value(0.2), alt.value(0.04)),
    )


def _seed_tooltip(band: str) -> list:
    spread = "min" if band == "range" else "mean − sd"
    return [
        alt.Tooltip("lo:Q", format=".4f", title=spread),
        alt.Tooltip("hi:Q", format=".4f", title="max" if band == "range" else "mean + sd"),
        alt.Tooltip("seeds:Q", title="seeds"),
    ]


def per_layer_models(
    long: pd.DataFrame,
    title: str,
    columns: int = 3,
    independent: bool = True,
    delta: tuple[str, str] | None = None,
    order: list | None = None,
    seed: str | None = None,
    band: str = "range",
):
    """One panel per metric, one line per model, layer on x. ``long``: model, metric, layer, value (optional sd).

    ``delta=("CL", "PLM")`` puts under each metric a small panel of CL − PLM per layer (zero line drawn), for
    models whose lines lie on top of each other. ``columns``: panels per row at most (a count that fills every row
    is preferred). ``seed``: the column naming a row's training seed (or labels ``cls · seed 1``): the line is the
    mean over seeds and a band shows their spread (``band="range"``: min to max; ``"sd"``: ± one sd); the delta
    panel then compares means. Click a legend entry to highlight a model; hover a point for its value.
    """
    long, has_band = _spread(long, "model", seed, ["metric", "layer"], band)
    pick = alt.selection_point(fields=["model"], bind="legend", name="pick_model")
    tooltip = [
        alt.Tooltip("model:N"),
        alt.Tooltip("metric:N"),
        alt.Tooltip("layer:O"),
        alt.Tooltip("value:Q", format=".4f", title="mean over seeds" if has_band else "value"),
    ]
    if has_band:
        tooltip += _seed_tooltip(band)
    elif "sd" in long:
        tooltip.append(alt.Tooltip("sd:Q", format=".4f", title="sd over seeds"))
    color = series_color("model", long["model"], title="model", order=order, ordered=False)
    x = alt.X("layer:O", title="layer (0 = embeddings)", axis=alt.Axis(labelAngle=0))
    panels = []
    for metric in dict.fromkeys(long["metric"]):
        part = long[long["metric"] == metric]
        base = alt.Chart(part, title=alt.TitleParams(str(metric), fontSize=11))
        px = x if delta is None else x.axis(labelAngle=0, title=None)
        lines = base.mark_line(point=alt.OverlayMarkDef(size=36)).encode(
            x=px,
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=color,
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=tooltip,
        )
        if has_band:
            lines = alt.layer(_band(base, px, color, pick), lines)
        lines = lines.properties(width=PANEL_WIDTH, height=PANEL_HEIGHT if delta is None else 125)
        lines = lines if panels else lines.add_params(pick)  # one selection, defined once, read by every panel
        if delta is not None:
            panels.append(alt.vconcat(lines, _delta_panel(part, *delta, x), spacing=4).resolve_scale(y="independent"))
        else:
            panels.append(lines)
    chart = grid(panels, fit_columns(len(panels), columns), independent_y=independent)
    return _configure(chart, title, legend_columns=4)


def _delta_panel(part: pd.DataFrame, a: str, b: str, x: alt.X) -> alt.LayerChart:
    wide = part.pivot_table(index="layer", columns="model", values="value", aggfunc="first")
    if a not in wide or b not in wide:
        raise ValueError(f"delta=({a!r}, {b!r}): the frame has models {sorted(set(part['model']))}")
    d = pd.DataFrame({"layer": wide.index, "delta": (wide[a] - wide[b]).to_numpy()})
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="gray").encode(y=alt.Y("y:Q", title=None))
    bars = (
        alt.Chart(d)
        .mark_bar(color="#555555", size=9)
        .encode(
            x=x,
            y=alt.Y("delta:Q", title=None, axis=alt.Axis(tickCount=3)),
            tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("delta:Q", format="+.4f", title=f"{a} − {b}")],
        )
    )
    # named above the panel: a vertical axis title longer than the 55 px panel would run into the panel above
    name = alt.TitleParams(f"{a} − {b}", fontSize=10, fontWeight="normal", anchor="start")
    return alt.layer(zero, bars).properties(width=PANEL_WIDTH, height=55, title=name)


def over_steps(
    long: pd.DataFrame,
    title: str,
    series: str = "series",
    columns: int = 3,
    log_x: bool = True,
    layer_select: bool = False,
    order: list | None = None,
    ordered: bool | None = None,
    seed: str | None = None,
    band: str = "range",
    relative="auto",
):
    """Curves against the training step. ``long``: step, metric, value, ``series`` (and ``layer`` when
    ``layer_select``: a dropdown then picks the layer shown). Hover a point for its value.

    One panel per metric (rows of at most ``columns``, preferring full rows). The step axis ends at the last step;
    on the log scale its ticks are powers of ten. Series that name numbers ("τ = 0.01", "batch 16") are ordered
    settings: ordered colours, legend in numeric order (``ordered`` forces it on or off; ``order`` gives the legend
    order). ``seed``: the column naming a row's training seed (or series labels ``cls · seed 1``): one mean line
    per setting with the seeds' spread as a band (``band``: ``range`` or ``sd``). ``relative``: metrics drawn as
    the % change from each line's first step -- ``"auto"`` (the default) for those that barely move
    (:func:`lib.book.vega.barely_moves`), ``True``/``False`` for all or none, or a list of metric names; such a
    panel's title says so."""
    keys = ["metric", "step"] + (["layer"] if "layer" in long else [])
    data, has_band = _spread(long, series, seed, keys, band)
    data = data.assign(step_plot=data["step"].clip(lower=1) if log_x else data["step"], raw=data["value"])
    tooltip = [
        alt.Tooltip(f"{series}:N"),
        alt.Tooltip("metric:N"),
        alt.Tooltip("step:Q"),
        alt.Tooltip("raw:Q", format=".4f", title="mean over seeds" if has_band else "value"),
    ]
    if has_band:
        tooltip += _seed_tooltip(band)
    choose = None
    if layer_select and "layer" in data:
        layers = sorted(int(v) for v in data["layer"].dropna().unique())
        choose = alt.param(
            name="layer_shown", value=max(layers), bind=alt.binding_select(options=layers, name="layer ")
        )
        tooltip.append(alt.Tooltip("layer:O"))
    pick = alt.selection_point(fields=[series], bind="legend", name="pick_series")
    color = series_color(series, data[series], title=series, order=order, ordered=ordered)
    x = step_axis(data["step"], log_x)
    panels = []
    for metric in dict.fromkeys(data["metric"]):
        part, name = data[data["metric"] == metric], str(metric)
        if wants_relative(relative, metric, part):
            by = [series] + (["layer"] if "layer" in part else [])
            part = relative_change(part, by, also=("lo", "hi"))
            name = f"{metric} (% change from step {int(part['step'].min())})"
        base = alt.Chart(part, title=alt.TitleParams(name, fontSize=11))
        if choose is not None:
            base = base.transform_filter("datum.layer == layer_shown || !isValid(datum.layer)")
        panel = base.mark_line(point=alt.OverlayMarkDef(size=26), clip=True).encode(
            x=x,
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=color,
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=tooltip + ([alt.Tooltip("value:Q", format="+.3f", title="% change")] if name != metric else []),
        )
        if has_band:
            panel = alt.layer(_band(base, x, color, pick), panel)
        panel = panel.properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
        panels.append(panel if panels else panel.add_params(pick))  # one selection, read by every panel
    chart = grid(panels, fit_columns(len(panels), columns))
    if choose is not None:
        chart = chart.add_params(choose)
    return _configure(chart, title, legend_columns=6)
