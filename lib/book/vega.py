"""Altair that stays interactive offline, and the conventions every chart of the book shares.

altair's default renderer loads vega from a CDN. :func:`enable_offline` registers a renderer whose HTML calls the
page's own ``vegaEmbed``: the built book ships vega, vega-lite and vega-embed from ``book/_static/vega`` (see
``_config.yml``), so charts render with no network. The same output also carries the Vega-Lite JSON, which
JupyterLab renders natively.

The conventions: grids are concatenations of one chart per panel (not wrapped facets), so no grid has an empty
frame (:func:`grid`, :func:`fit_columns`); ordered settings (τ, batch size) get a sequential colour scale in
numeric order (:func:`series_color`); step axes end at the last step with readable log ticks (:func:`step_axis`).
"""

from __future__ import annotations

import json
import math
import re
import uuid

import altair as alt

EMBED_OPTIONS = {"renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False}}
RENDERER = "srl-offline"
PANEL_WIDTH, PANEL_HEIGHT = 200, 150
# ordered settings: a sequential scale whose lightest end still reads on white
SEQUENTIAL = {"name": "viridis", "extent": [0.0, 0.82]}
REFERENCE_COLOUR = "#222222"
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


def series_color(
    field: str,
    values,
    title: str | None = None,
    order: list | None = None,
    ordered: bool | None = None,
    legend: bool = True,
    symbol: str = "stroke",
) -> alt.Color:
    """Colour by ``field``: for ordered settings (τ, batch size: see :func:`series_order`) a sequential scale in
    numeric order, else the categorical palette in ``order`` (or first-seen order). ``symbol``: the legend's
    symbol (``stroke`` for lines, ``square`` for bars, ``circle`` for points)."""
    order, ordered = series_order(values, order, ordered)
    leg = None
    if legend:
        leg = alt.Legend(
            title=title if title is not None else field,
            symbolType=symbol,
            **({"symbolStrokeWidth": 3} if symbol == "stroke" else {}),
        )
    if ordered:
        return alt.Color(f"{field}:O", sort=order, scale=alt.Scale(scheme=SEQUENTIAL, domain=order), legend=leg)
    return alt.Color(f"{field}:N", sort=order, scale=alt.Scale(domain=order), legend=leg)


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
