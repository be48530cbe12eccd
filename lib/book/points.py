"""Charts of single values: :func:`bars` (one value per category, with reference marks) and :func:`scatter`
(points on axes fitted to the bulk of the data). :mod:`lib.book.charts` re-exports both."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .vega import REFERENCE_COLOUR, series_color, series_order

# a bar's value label: about this many pixels per character at the label's font size, and the gap before it
LABEL_CHAR_PX, LABEL_GAP_PX = 5.6, 3


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
    2021), Table 5"). Ordered categories (every label names a number) get a sequential colour scale. A bar's value
    label sits after its bar, or after the reference mark when the mark would cross the label.
    """
    cats, is_ordered = series_order(df[category], order, ordered)
    refs = _reference_per_row(df, group, reference)
    df = df.assign(_label_x=_label_positions(df[value], refs, fmt, width, domain))
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
    text = base.mark_text(align="left", dx=LABEL_GAP_PX + 1, fontSize=9, color="#333333").encode(
        x=alt.X("_label_x:Q", title=value_title or value),
        text=alt.Text(f"{value}:Q", format=fmt),
        color=alt.value("#333333"),
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
    subtitle = subtitle or alt.Undefined
    chart = chart.properties(title=alt.TitleParams(title, subtitle=subtitle, anchor="start", fontSize=13))
    return chart.configure_legend(orient="bottom", direction="horizontal", columns=4, labelLimit=260).configure_axis(
        labelFontSize=10, titleFontSize=11
    )


def _reference_per_row(df: pd.DataFrame, group: str | None, reference) -> list[float | None]:
    if reference is None:
        return [None] * len(df)
    if isinstance(reference, (int, float)):
        return [float(reference)] * len(df)
    ref = {g: (None if v is None else float(v)) for g, v in dict(reference).items()}
    return [ref.get(g) for g in df[group]] if group else [None] * len(df)


def _label_positions(values, refs, fmt: str, width: int, domain) -> list[float]:
    """Where each bar's value label starts: after the bar, unless a reference mark falls where the label would be
    written (between the bar's end and the label's end), then after the mark. The label's width in data units is
    estimated from the chart's width and the x domain (zero-based, as vega draws bars)."""
    vals = [float(v) for v in values]
    known = [r for r in refs if r is not None]
    lo, hi = (domain[0], domain[1]) if domain else (min([0.0, *vals, *known]), max([0.0, *vals, *known]))
    per_px = 1.15 * ((hi - lo) or 1.0) / width  # vega's nice domain is a little wider than the data's
    out = []
    for v, r in zip(vals, refs):
        try:
            text = format(v, fmt)
        except ValueError:
            text = f"{v:.4g}"
        end = v + (LABEL_GAP_PX + LABEL_CHAR_PX * len(text)) * per_px
        out.append(r if r is not None and v <= r <= end else v)
    return out


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
    title = alt.TitleParams(title, subtitle=subtitle or alt.Undefined, anchor="start", fontSize=13)
    chart = alt.layer(*layers).properties(width=width, height=height, title=title)
    return chart.configure_legend(orient="bottom", direction="horizontal", columns=4)
