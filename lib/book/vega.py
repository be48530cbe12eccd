"""Altair that stays interactive offline, and the conventions every chart of the book shares.

altair's default renderer loads vega from a CDN. :func:`enable_offline` registers a renderer whose HTML calls the
page's own ``vegaEmbed``: the built book ships vega, vega-lite and vega-embed from ``book/_static/vega`` (see
``_config.yml``), so charts render with no network. The same output also carries the Vega-Lite JSON, which
JupyterLab renders natively.

The conventions: grids are concatenations of one chart per panel (not wrapped facets), so no grid has an empty
frame (:func:`grid`, :func:`fit_columns`); step axes end at the last step with readable log ticks
(:func:`step_axis`); colours compare honestly across the book (:func:`series_color`):

- a model or a pooling has one colour on every page (:data:`SERIES_COLOURS`: the PLM grey, ``cls`` blue, ``avg``
  orange, ...), found in labels such as ``cls · seed 1`` or ``SimCSE · avg (mean of 3)``; several labels of one
  family in a chart (the seeds of ``cls``) get shades of its colour;
- ordered settings (τ, batch size) get colours in numeric order from a ramp whose neighbours differ in hue as well
  as lightness (:func:`ordered_colours`), so τ = 0.05 and τ = 0.1 can be told apart;
- a quantity that barely moves (the mean token norm, 18.78 to 18.84) is drawn as its change from a baseline
  (:func:`relative_change`), on an axis that says so, rather than on an axis that magnifies a 0.3 % wiggle.
"""

from __future__ import annotations

import json
import math
import re
import uuid

import altair as alt
import pandas as pd

EMBED_OPTIONS = {"renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False}}
RENDERER = "srl-offline"
PANEL_WIDTH, PANEL_HEIGHT = 200, 150
REFERENCE_COLOUR = "#222222"
# One colour per model and per pooling, on every page. The PLM (whatever its name at a scale) is the neutral grey;
# the two poolings the chapters train are blue and orange; the other poolings and the released models are the
# remaining clearly distinct hues.
PLM_COLOUR = "#6f6f6f"
SERIES_COLOURS = {
    "PLM": PLM_COLOUR,
    "pocket-bert": PLM_COLOUR,
    "bert-base-uncased": PLM_COLOUR,
    "roberta-base": PLM_COLOUR,
    "cls": "#3a6fb0",
    "avg": "#f08a1c",
    "cls_before_pooler": "#2aa198",
    "avg_first_last": "#d6404e",
    "avg_top2": "#8e5bb5",
    "all-MiniLM-L6-v2": "#4e9f3d",
    "all-mpnet-base-v2": "#9c6b3e",
}
# labels that name none of the above, in first-seen order: hues none of the reserved colours is near
OTHER_COLOURS = ["#e377c2", "#17becf", "#bcbd22", "#1f3b73", "#ff9896", "#7f3c8d", "#c49c94", "#9edae5"]
# token classes (the token explorer)
CLASS_COLOURS = {"functional": "#c2185b", "semantic": "#00897b"}
# ordered settings: plasma (dark blue, purple, magenta, salmon, orange), stopping before its yellow end, which does
# not read on white; its deciles, interpolated
PLASMA = ["#0d0887", "#41049d", "#6a00a8", "#8f0da4", "#b12a90", "#cc4778", "#e16462", "#f2844b", "#fca636",
          "#fcce25", "#f0f921"]  # fmt: skip
ORDERED_EXTENT = (0.0, 0.8)
# step labels: 1, 10, 250, 1k, 2.5k, 10k
STEP_LABEL = "datum.value >= 1000 ? format(datum.value / 1000, '~g') + 'k' : format(datum.value, '~g')"


def offline_html(spec: dict, div_id: str | None = None) -> str:
    """HTML drawing ``spec`` with a ``vegaEmbed`` already on the page (no script is fetched from anywhere)."""
    div_id = div_id or f"srl-chart-{uuid.uuid4().hex[:12]}"
    return f"""<div id="{div_id}" class="srl-chart"></div>
<script type="text/javascript">
(function () {{
  var el = document.getElementById("{div_id}");
  var spec = {json.dumps(spec)};
  if (typeof window.vegaEmbed === "function") {{
    window.vegaEmbed(el, spec, {json.dumps(EMBED_OPTIONS)}).catch(function (err) {{
      el.innerHTML = "<pre class='srl-chart-error'>chart error: " + err.message + "</pre>";
    }});
  }} else {{
    el.innerHTML = "<p><em>Interactive chart: view it in the built book (bundling vega) or in JupyterLab.</em></p>";
  }}
}})();
</script>"""


def _render(spec: dict, **_) -> dict:
    return {"application/vnd.vegalite.v6+json": spec, "text/html": offline_html(spec)}


def enable_offline() -> None:
    """Make every chart in this kernel render through :func:`offline_html`."""
    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, _render)
    alt.renderers.enable(RENDERER)


# --------------------------------------------------------------------------------------------- layout helpers
def fit_columns(n: int, max_columns: int = 3) -> int:
    """Columns for ``n`` panels: the fewest rows that ``max_columns`` allow, and among the column counts giving
    that many rows the one leaving the fewest gaps in the last row (4 -> 2 x 2, 9 -> 3 x 3, 10 -> 3 + 3 + 3 + 1;
    panels are concatenated, so a short last row has no empty frame)."""
    if n <= max_columns:
        return max(n, 1)
    rows = -(-n // max_columns)
    best = max_columns
    for c in range(max_columns, 1, -1):
        if -(-n // c) == rows and c * rows - n < best * rows - n:
            best = c
    return best


def grid(panels: list, columns: int | None = None, max_columns: int = 3, independent_y: bool = True):
    """Panels (one chart each) in rows of ``columns``: a concatenation, so a short last row leaves no empty frame
    (a wrapped facet draws the axes of the cells it lacks). Each panel keeps its own y scale (``independent_y``);
    colours and their legend are shared."""
    columns = columns or fit_columns(len(panels), max_columns)
    rows = [panels[i : i + columns] for i in range(0, len(panels), columns)]
    y = "independent" if independent_y else "shared"
    hrows = [alt.hconcat(*row, spacing=18).resolve_scale(y=y, color="shared") for row in rows]
    if len(hrows) == 1:
        return hrows[0]
    return alt.vconcat(*hrows, spacing=14).resolve_scale(y=y, color="shared")


def _number(label) -> float | None:
    if isinstance(label, (int, float)) and not isinstance(label, bool):
        return float(label)
    m = re.search(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", str(label))
    return float(m.group()) if m else None


def numeric_order(labels) -> list | None:
    """``labels`` sorted by the number each one names ("batch 16" < "batch 128"; "τ = 0.001" < "τ = 1"), or None
    when some label names no number or two name the same one."""
    labels = list(dict.fromkeys(labels))
    numbers = [_number(v) for v in labels]
    if not labels or any(n is None for n in numbers) or len(set(numbers)) < len(numbers):
        return None
    return [v for _, v in sorted(zip(numbers, labels), key=lambda t: t[0])]


def series_order(values, order: list | None = None, ordered: bool | None = None) -> tuple[list, bool]:
    """``(legend order, ordered?)`` of a series: ordered settings (``ordered``, or None = more than two labels that
    each name a distinct number) in numeric order, others in ``order`` or first-seen order."""
    values = list(dict.fromkeys(values))
    numeric = numeric_order(values)
    if ordered is None:
        ordered = numeric is not None and len(values) > 2
    return list(order or (numeric if ordered and numeric else values)), bool(ordered)


# --------------------------------------------------------------------------------------------- colours
def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgb)


def _mix(hex_colour: str, amount: float) -> str:
    """Towards white (``amount`` > 0) or black (< 0) by ``|amount|``."""
    target = 1.0 if amount > 0 else 0.0
    return _hex(c + (target - c) * abs(amount) for c in _rgb(hex_colour))


def colour_key(label) -> str | None:
    """The model or pooling a series label names (the first word of it that :data:`SERIES_COLOURS` knows):
    ``cls · seed 1`` -> ``cls``; ``PLM · avg`` -> ``PLM``; ``SimCSE · avg (mean of 3)`` -> ``avg``."""
    text = str(label)
    if text in SERIES_COLOURS:
        return text
    for word in re.split(r"[\s·,;:()\[\]/=]+", text):
        if word in SERIES_COLOURS:
            return word
    return None


def colours_for(labels) -> list[str]:
    """One colour per label: its model's or pooling's (:func:`colour_key`); several labels of one family get
    shades of it, darkest first (the middle one the colour itself); labels naming none get :data:`OTHER_COLOURS`
    in turn."""
    labels = list(dict.fromkeys(labels))
    keys = [colour_key(v) for v in labels]
    family = {k: [i for i, key in enumerate(keys) if key == k] for k in dict.fromkeys(keys) if k is not None}
    out, others = [], iter(OTHER_COLOURS * (1 + len(labels) // len(OTHER_COLOURS)))
    for i, key in enumerate(keys):
        if key is None:
            out.append(next(others))
            continue
        members = family[key]
        mid = (len(members) - 1) / 2  # the middle member keeps the colour itself, the others darker or lighter
        shade = 0.0 if not mid else (members.index(i) - mid) / mid * (0.3 if members.index(i) < mid else 0.45)
        out.append(_mix(SERIES_COLOURS[key], shade) if shade else SERIES_COLOURS[key])
    return out


def _lab(rgb) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour: distances in it are what the eye tells apart (ΔE)."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    xyz = (
        (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047,
        0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2],
        (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883,
    )
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _plasma(t: float) -> tuple[float, float, float]:
    t = min(max(t, 0.0), 1.0) * (len(PLASMA) - 1)
    j = min(int(t), len(PLASMA) - 2)
    a, b = _rgb(PLASMA[j]), _rgb(PLASMA[j + 1])
    return tuple(x + (y - x) * (t - j) for x, y in zip(a, b))


def ordered_colours(n: int) -> list[str]:
    """``n`` colours for ordered settings along the plasma ramp (:data:`ORDERED_EXTENT`): dark blue through
    magenta to orange, spaced evenly in perceived colour (CIELAB distance along the ramp), so every pair of
    neighbours is as far apart as ``n`` allows (plasma's dark end changes slowly: evenly spaced positions would
    make its first two colours hard to tell apart)."""
    if n <= 1:
        return [_hex(_plasma(sum(ORDERED_EXTENT) / 2))][:n]
    lo, hi = ORDERED_EXTENT
    ts = [lo + (hi - lo) * i / 400 for i in range(401)]
    labs = [_lab(_plasma(t)) for t in ts]
    walked = [0.0]
    for a, b in zip(labs, labs[1:]):
        walked.append(walked[-1] + sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5)
    out, j = [], 0
    for i in range(n):
        target = walked[-1] * i / (n - 1)
        while j < len(walked) - 1 and walked[j] < target:
            j += 1
        out.append(_hex(_plasma(ts[j])))
    return out


def series_color(
    field: str,
    values,
    title: str | None = None,
    order: list | None = None,
    ordered: bool | None = None,
    legend: bool = True,
    symbol: str = "stroke",
) -> alt.Color:
    """Colour by ``field``: for ordered settings (τ, batch size: see :func:`series_order`) :func:`ordered_colours`
    in numeric order, else each label's own colour (:func:`colours_for`), the legend in ``order`` (or first-seen
    order). ``symbol``: the legend's symbol (``stroke`` for lines, ``square`` for bars, ``circle`` for points)."""
    order, ordered = series_order(values, order, ordered)
    leg = None
    if legend:
        leg = alt.Legend(
            title=title if title is not None else field,
            symbolType=symbol,
            symbolOpacity=1,  # a line's legend entry at full strength, whatever the bands' opacity
            **({"symbolStrokeWidth": 3} if symbol == "stroke" else {}),
        )
    if ordered:
        scale = alt.Scale(domain=order, range=ordered_colours(len(order)))
        return alt.Color(f"{field}:O", sort=order, scale=scale, legend=leg)
    return alt.Color(f"{field}:N", sort=order, scale=alt.Scale(domain=order, range=colours_for(order)), legend=leg)


def configure(chart, title: str | None = None, legend_columns: int = 6):
    if title:
        chart = chart.properties(title=alt.TitleParams(title, anchor="start", fontSize=13))
    return (
        chart.configure_legend(
            orient="bottom", direction="horizontal", columns=legend_columns, labelLimit=260, titleLimit=260
        )
        .configure_axis(labelFontSize=10, titleFontSize=11)
        .configure_title(fontSize=12)
    )


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten in [lo, hi], plus ``hi`` itself when it is far enough from the last power to keep labels apart."""
    ticks = [
        10.0**k
        for k in range(math.floor(math.log10(max(lo, 1e-12))), math.ceil(math.log10(hi)) + 1)
        if lo <= 10.0**k <= hi
    ]
    if not ticks or hi / ticks[-1] >= 2.0:
        ticks.append(hi)
    return ticks


def step_axis(steps, log_x: bool = True, title: str = "training step") -> alt.X:
    """The training-step axis fitted to the run: it ends at the last step; on a log scale (step 0 drawn at 1) its
    ticks are powers of ten and the last step, so labels never collide."""
    hi = float(max(steps)) if len(steps) else 1.0
    if log_x:
        hi = max(hi, 10.0)
        return alt.X(
            "step_plot:Q",
            title=title + " (log; step 0 drawn at 1)",
            scale=alt.Scale(type="log", domain=[1, hi], nice=False),
            axis=alt.Axis(values=log_ticks(1.0, hi), labelExpr=STEP_LABEL, grid=True, labelOverlap=True),
        )
    return alt.X(
        "step_plot:Q",
        title=title,
        scale=alt.Scale(domain=[0, max(hi, 1.0)], nice=False),
        axis=alt.Axis(tickCount=5, labelExpr=STEP_LABEL, labelOverlap=True),
    )


# --------------------------------------------------------------------------------------------- honest comparisons
SEED_LABEL = re.compile(r"^(?P<series>.*?)\s*·\s*seed\s+(?P<seed>-?\d+)$")


def split_seeds(df: pd.DataFrame, field: str, seed: str = "seed") -> pd.DataFrame:
    """``df`` with a ``seed`` column: kept when present, else read from labels ``<setting> · seed <n>`` in
    ``field`` (which then keeps the setting alone)."""
    if seed in df:
        return df
    found = df[field].astype(str).str.extract(SEED_LABEL)
    if found["series"].isna().any():
        bad = sorted(set(df.loc[found["series"].isna(), field].astype(str)))[:3]
        raise ValueError(f"no {seed!r} column, and labels such as {bad} do not read '<setting> · seed <n>'")
    return df.assign(**{field: found["series"].to_numpy(), seed: found["seed"].astype(int).to_numpy()})


def over_seeds(df: pd.DataFrame, keys: list[str], seed: str = "seed", band: str = "range") -> pd.DataFrame:
    """One row per ``keys``: ``value`` = the mean over seeds, ``lo``/``hi`` = the band drawn around it (``range``:
    min to max; ``sd``: mean ± one sd), ``sd`` and ``seeds`` (how many)."""
    if band not in ("range", "sd"):
        raise ValueError(f"band = {band!r}; expected 'range' or 'sd'")
    out = (
        df.groupby(keys, dropna=False, sort=False)["value"]
        .agg(value="mean", lo="min", hi="max", sd="std", seeds="count")
        .reset_index()
    )
    out["sd"] = out["sd"].fillna(0.0)
    if band == "sd":
        out["lo"], out["hi"] = out["value"] - out["sd"], out["value"] + out["sd"]
    return out


def barely_moves(values, threshold: float = 0.01) -> bool:
    """Whether ``values`` span less than ``threshold`` of their largest magnitude (18.78 to 18.84: 0.3 %): drawn
    on an axis fitted to them, such a wiggle would fill the panel as if it were a large change."""
    v = pd.Series(values, dtype=float).dropna()
    top = float(v.abs().max()) if len(v) else 0.0
    return bool(len(v) > 1 and top > 0 and float(v.max() - v.min()) < threshold * top)


def wants_relative(relative, metric, part: pd.DataFrame) -> bool:
    """Whether a panel of ``metric`` (rows ``part``) is drawn as % change: ``relative`` is ``"auto"`` (when at every
    layer its values, all lines together, barely move), a bool, or a list of the metrics to draw so."""
    if relative == "auto":
        if "layer" not in part:
            return barely_moves(part["value"])
        return all(barely_moves(v) for _, v in part.groupby("layer", dropna=False)["value"])
    if isinstance(relative, (list, tuple, set)):
        return metric in relative
    return bool(relative)


def relative_change(
    df: pd.DataFrame, by: list[str], along: str = "step", value: str = "value", also: tuple[str, ...] = ()
) -> pd.DataFrame:
    """``df`` with ``value`` (and the columns ``also``, e.g. a band's ``lo``/``hi``) as the % change from the first
    row's ``value`` along ``along``, within each group of ``by``."""
    first = df.sort_values(along).groupby(by, dropna=False, sort=False)[value].transform("first").reindex(df.index)
    return df.assign(**{c: (df[c] / first - 1.0) * 100.0 for c in (value, *also) if c in df})
