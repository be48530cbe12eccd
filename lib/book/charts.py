"""The book's charts (each returns an altair chart; a cell's last expression displays it), drawn with the shared
conventions of :mod:`lib.book.vega` and rendered offline:

- :func:`per_layer_lines` -- ours vs a reference per layer (raw and adjusted panels);
- :func:`per_layer_models` -- one panel per metric, one line per model; ``delta=("CL", "PLM")`` adds a CL − PLM
  panel under each metric, so lines that lie on top of each other still show their difference;
- :func:`over_steps` -- curves against the training step, one panel per metric; the step axis ends at the last
  step, log ticks at powers of ten; ordered settings (τ, batch size) get a sequential colour scale in numeric order;
- :func:`differences`, :func:`seed_spread` -- ours minus a reference, per-seed estimates against a released value;
- :func:`bars` -- horizontal bars with a legend and optional reference marks (a published value, labelled);
- :func:`scatter` -- points on axes fitted to the bulk of the data; outliers drawn at the edge and counted.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .vega import (
    PANEL_HEIGHT,
    PANEL_WIDTH,
    REFERENCE_COLOUR,
    enable_offline,
    fit_columns,
    grid,
    series_color,
    series_order,
    step_axis,
)
from .vega import configure as _configure

__all__ = [
    "bars",
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
def per_layer_models(
    long: pd.DataFrame,
    title: str,
    columns: int = 3,
    independent: bool = True,
    delta: tuple[str, str] | None = None,
    order: list | None = None,
):
    """One panel per metric, one line per model, layer on x. ``long``: model, metric, layer, value (optional sd).

    ``delta=("CL", "PLM")`` puts under each metric a small panel of CL − PLM per layer (zero line drawn), for
    models whose lines lie on top of each other. ``columns``: panels per row at most (a count that fills every row
    is preferred). Click a legend entry to highlight a model; hover a point for its value.
    """
    pick = alt.selection_point(fields=["model"], bind="legend", name="pick_model")
    tooltip = [
        alt.Tooltip("model:N"),
        alt.Tooltip("metric:N"),
        alt.Tooltip("layer:O"),
        alt.Tooltip("value:Q", format=".4f"),
    ]
    if "sd" in long:
        tooltip.append(alt.Tooltip("sd:Q", format=".4f", title="sd over seeds"))
    color = series_color("model", long["model"], title="model", order=order, ordered=False)
    x = alt.X("layer:O", title="layer (0 = embeddings)", axis=alt.Axis(labelAngle=0))
    panels = []
    for metric in dict.fromkeys(long["metric"]):
        part = long[long["metric"] == metric]
        lines = (
            alt.Chart(part, title=alt.TitleParams(str(metric), fontSize=11))
            .mark_line(point=alt.OverlayMarkDef(size=36))
            .encode(
                x=x if delta is None else x.axis(labelAngle=0, title=None),
                y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                color=color,
                opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
                tooltip=tooltip,
            )
            .properties(width=PANEL_WIDTH, height=PANEL_HEIGHT if delta is None else 125)
        )
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
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="gray").encode(y=alt.Y("y:Q", title=f"{a} − {b}"))
    bars = (
        alt.Chart(d)
        .mark_bar(color="#555555", size=9)
        .encode(
            x=x,
            y=alt.Y("delta:Q", title=f"{a} − {b}", axis=alt.Axis(titleFontSize=10, tickCount=3)),
            tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("delta:Q", format="+.4f", title=f"{a} − {b}")],
        )
    )
    return alt.layer(zero, bars).properties(width=PANEL_WIDTH, height=55)


def over_steps(
    long: pd.DataFrame,
    title: str,
    series: str = "series",
    columns: int = 3,
    log_x: bool = True,
    layer_select: bool = False,
    order: list | None = None,
    ordered: bool | None = None,
):
    """Curves against the training step. ``long``: step, metric, value, ``series`` (and ``layer`` when
    ``layer_select``: a dropdown then picks the layer shown). Hover a point for its value.

    One panel per metric (rows of at most ``columns``, preferring full rows). The step axis ends at the last step;
    on the log scale its ticks are powers of ten. Series that name numbers ("τ = 0.01", "batch 16") are ordered
    settings: a sequential colour scale, legend in numeric order (``ordered`` forces it on or off; ``order`` gives
    the legend order)."""
    data = long.assign(step_plot=long["step"].clip(lower=1) if log_x else long["step"])
    tooltip = [
        alt.Tooltip(f"{series}:N"),
        alt.Tooltip("metric:N"),
        alt.Tooltip("step:Q"),
        alt.Tooltip("value:Q", format=".4f"),
    ]
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
        base = alt.Chart(data[data["metric"] == metric], title=alt.TitleParams(str(metric), fontSize=11))
        if choose is not None:
            base = base.transform_filter("datum.layer == layer_shown || !isValid(datum.layer)")
        panel = (
            base.mark_line(point=alt.OverlayMarkDef(size=26), clip=True)
            .encode(
                x=x,
                y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                color=color,
                opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
                tooltip=tooltip,
            )
            .properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
        )
        panels.append(panel if panels else panel.add_params(pick))  # one selection, read by every panel
    chart = grid(panels, fit_columns(len(panels), columns))
    if choose is not None:
        chart = chart.add_params(choose)
    return _configure(chart, title, legend_columns=6)


# --------------------------------------------------------------------------------------------- bars, scatter
def bars(
    df: pd.DataFrame,
    value: str,
    category: str,
    title: str,
    group: str | None = None,
    reference=None,
    reference_label: str = "published",
    order: list | None = None,
    group_order: list | None = None,
    ordered: bool | None = None,
    value_title: str | None = None,
    fmt: str = ".2f",
    width: int = 520,
    bar_height: int = 11,
    domain: list | None = None,
):
    """Horizontal bars (labels never overlap), coloured by ``category`` with a legend.

    ``group``: one band per group (e.g. the STS task), the categories' bars inside it. ``reference``: a number (a
    rule across the chart) or a mapping group -> number (a mark at that value in each group's band), drawn black
    and labelled with its value; ``reference_label`` names its source in the legend line (e.g. "SimCSE (Gao et al.
    2021), Table 5"). Ordered categories (every label names a number) get a sequential colour scale.
    """
    cats, is_ordered = series_order(df[category], order, ordered)
    color = series_color(category, cats, title=category, order=cats, ordered=is_ordered, symbol="square")
    vx = alt.X(f"{value}:Q", title=value_title or value, scale=alt.Scale(domain=domain) if domain else alt.Undefined)
    tooltip = (
        [alt.Tooltip(f"{category}:N")]
        + ([alt.Tooltip(f"{group}:N")] if group else [])
        + [alt.Tooltip(f"{value}:Q", format=fmt)]
    )
    if group:
        groups = group_order or list(dict.fromkeys(df[group]))
        y = alt.Y(f"{group}:N", sort=groups, title=None, axis=alt.Axis(labelLimit=200))
        base = alt.Chart(df).encode(
            x=vx, y=y, yOffset=alt.YOffset(f"{category}:N", sort=cats), color=color, tooltip=tooltip
        )
        height = max(60, len(groups) * (len(cats) * bar_height + 10))
    else:
        y = alt.Y(f"{category}:N", sort=cats, title=None, axis=alt.Axis(labelLimit=260))
        base = alt.Chart(df).encode(x=vx, y=y, color=color, tooltip=tooltip)
        height = max(40, len(cats) * (bar_height + 8))
    layers = [base.mark_bar()]
    text = base.mark_text(align="left", dx=3, fontSize=9, color="#333333").encode(
        text=alt.Text(f"{value}:Q", format=fmt), color=alt.value("#333333")
    )
    layers.append(text)
    subtitle = None
    if reference is not None:
        subtitle = f"black marks: {reference_label}"
        if isinstance(reference, (int, float)):
            ref = pd.DataFrame({"ref": [float(reference)], "label": [f"{reference_label}: {reference:{fmt}}"]})
            layers.append(
                alt.Chart(ref)
                .mark_rule(color=REFERENCE_COLOUR, strokeDash=[4, 3], strokeWidth=1.5)
                .encode(x="ref:Q", tooltip=[alt.Tooltip("label:N", title="reference")])
            )
            layers.append(
                alt.Chart(ref)
                .mark_text(align="left", baseline="bottom", dx=3, dy=-2, fontSize=10, color=REFERENCE_COLOUR)
                .encode(x="ref:Q", y=alt.value(0), text="label:N")
            )
        else:
            ref = pd.DataFrame(
                [
                    {group: g, "ref": float(v), "label": f"{v:{fmt}}"}
                    for g, v in dict(reference).items()
                    if v is not None
                ]
            )
            band = len(cats) * bar_height + 6
            layers.append(
                alt.Chart(ref)
                .mark_tick(color=REFERENCE_COLOUR, thickness=2.5, size=band)
                .encode(
                    x="ref:Q",
                    y=alt.Y(f"{group}:N", sort=groups),
                    tooltip=[alt.Tooltip(f"{group}:N"), alt.Tooltip("ref:Q", format=fmt, title=reference_label)],
                )
            )
    chart = alt.layer(*layers).properties(width=width, height=height)
    chart = chart.properties(title=alt.TitleParams(title, subtitle=subtitle, anchor="start", fontSize=13))
    return chart.configure_legend(orient="bottom", direction="horizontal", columns=4, labelLimit=260).configure_axis(
        labelFontSize=10, titleFontSize=11
    )


def clip_range(values, quantiles: tuple[float, float] = (0.01, 0.99), pad: float = 0.08) -> tuple[float, float]:
    """An axis range holding the bulk of ``values``: the quantiles, widened by ``pad`` of their span, and never
    cutting off what lies within 1.5 spans."""
    s = pd.Series(values, dtype=float).dropna()
    lo, hi = float(s.quantile(quantiles[0])), float(s.quantile(quantiles[1]))
    span = (hi - lo) or (abs(hi) or 1.0)
    lo2, hi2 = lo - pad * span, hi + pad * span
    # keep the true extremes when they are close to the bulk (nothing to gain from clipping them)
    if s.min() >= lo - 0.5 * span:
        lo2 = min(lo2, float(s.min()) - pad * span)
    if s.max() <= hi + 0.5 * span:
        hi2 = max(hi2, float(s.max()) + pad * span)
    return lo2, hi2


def scatter(
    df: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    color: str | None = None,
    tooltip=None,
    log_x: bool = False,
    clip: tuple[float, float] | None = (0.01, 0.99),
    zero_rule: bool = True,
    x_title: str | None = None,
    y_title: str | None = None,
    width: int = 540,
    height: int = 260,
    order: list | None = None,
):
    """Points on a y axis fitted to the bulk of the data: values beyond the ``clip`` quantiles (widened a little)
    are drawn as triangles at the axis edge, and their count is written under the title, so one outlier does not
    squash the rest. ``clip=None`` keeps the full range. ``zero_rule`` draws y = 0."""
    data = df.copy()
    subtitle = None
    ydomain = alt.Undefined
    data["_shape"] = "point"
    if clip is not None and len(data):
        lo, hi = clip_range(data[y], clip)
        out_lo, out_hi = data[y] < lo, data[y] > hi
        n_out = int(out_lo.sum() + out_hi.sum())
        if n_out:
            data["_y"] = data[y].clip(lo, hi)
            data.loc[out_lo, "_shape"] = "below the axis"
            data.loc[out_hi, "_shape"] = "above the axis"
            subtitle = (
                f"{n_out} of {len(data)} points lie beyond the y range shown; drawn as triangles at its edge "
                "(hover for their values)"
            )
            ydomain = [lo, hi]
    ycol = "_y" if "_y" in data else y
    tips = tooltip or [c for c in df.columns][:6]
    tips = [t if isinstance(t, alt.Tooltip) else alt.Tooltip(t) for t in tips]
    xs = data[x].astype(float)
    if log_x:
        xs = xs[xs > 0]
        xscale = alt.Scale(type="log", domain=[float(xs.min()) / 1.25, float(xs.max()) * 1.25], nice=False)
    else:
        xscale = alt.Scale(zero=False)
    enc = dict(
        x=alt.X(f"{x}:Q", title=x_title or x, scale=xscale),
        y=alt.Y(
            f"{ycol}:Q",
            title=y_title or y,
            scale=alt.Scale(domain=ydomain, nice=False) if ydomain is not alt.Undefined else alt.Scale(zero=False),
        ),
        shape=alt.Shape(
            "_shape:N",
            title="",
            scale=alt.Scale(
                domain=["point", "below the axis", "above the axis"], range=["circle", "triangle-down", "triangle-up"]
            ),
            legend=alt.Legend(values=["below the axis", "above the axis"]) if subtitle else None,
        ),
        tooltip=tips,
    )
    if color:
        enc["color"] = series_color(color, data[color], title=color, order=order, ordered=False, symbol="circle")
    points = alt.Chart(data).mark_point(filled=True, opacity=0.55, size=28).encode(**enc)
    layers = [points]
    if zero_rule:
        layers.insert(
            0,
            alt.Chart(pd.DataFrame({"y0": [0.0]})).mark_rule(color="gray").encode(y=alt.Y("y0:Q", title=y_title or y)),
        )
    chart = alt.layer(*layers).properties(
        width=width, height=height, title=alt.TitleParams(title, subtitle=subtitle, anchor="start", fontSize=13)
    )
    return chart.configure_legend(orient="bottom", direction="horizontal", columns=4)
