"""Altair charts that stay interactive offline.

altair's default renderer loads vega from a CDN. :func:`enable_offline` registers a renderer whose HTML calls the
page's own ``vegaEmbed``: the built book ships vega, vega-lite and vega-embed from ``book/_static/vega`` (see
``_config.yml``), so charts render with no network. The same output also carries the Vega-Lite JSON, which
JupyterLab renders natively.
"""

from __future__ import annotations

import json
import uuid

import altair as alt
import pandas as pd

EMBED_OPTIONS = {"renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False}}
RENDERER = "srl-offline"


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
    el.innerHTML = "<p><em>Interactive chart: view it in the built book (which bundles vega) or in JupyterLab.</em></p>";
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


# --------------------------------------------------------------------------------------------- chapter charts
def per_layer_lines(long: pd.DataFrame, title: str) -> alt.Chart:
    """Per-layer curves. ``long`` has columns layer, metric, variant, source, value (and optional sd).

    One panel per ``variant`` (raw / adjusted), one colour per metric, one dash style per ``source`` (ours, a
    reference). Click a legend entry to highlight a metric; hover a point for its numbers.
    """
    pick = alt.selection_point(fields=["metric"], bind="legend")
    tooltip = [alt.Tooltip("metric:N"), alt.Tooltip("variant:N"), alt.Tooltip("source:N"),
               alt.Tooltip("layer:O"), alt.Tooltip("value:Q", format=".4f")]
    if "sd" in long:
        tooltip.append(alt.Tooltip("sd:Q", format=".4f", title="sd over seeds"))
    base = alt.Chart(long).encode(
        x=alt.X("layer:O", title="layer (0 = embeddings)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title="cosine similarity"),
        color=alt.Color("metric:N", title="metric"),
        strokeDash=alt.StrokeDash("source:N", title="numbers from"),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=tooltip,
    )
    lines = base.mark_line(point=alt.OverlayMarkDef(size=45)).add_params(pick)
    return (lines.properties(width=250, height=230)
            .facet(column=alt.Column("variant:N", title=None, sort=["raw", "adjusted"]))
            .properties(title=title)
            .configure_legend(orient="bottom", direction="horizontal", columns=3))


def differences(diff: pd.DataFrame, tolerance: float, title: str, reference: str = "released") -> alt.LayerChart:
    """Ours minus a reference per layer and metric, with the tolerance band. ``diff``: layer, metric, difference."""
    band = alt.Chart(pd.DataFrame({"lo": [-tolerance], "hi": [tolerance]})).mark_rect(opacity=0.15).encode(
        y="lo:Q", y2="hi:Q")
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="gray").encode(y="y:Q")
    points = alt.Chart(diff).mark_point(filled=True, size=70).encode(
        x=alt.X("layer:O", title="layer", axis=alt.Axis(labelAngle=0)),
        xOffset="metric:N",
        y=alt.Y("difference:Q", title=f"ours − {reference}"),
        color=alt.Color("metric:N"),
        tooltip=[alt.Tooltip("metric:N"), alt.Tooltip("layer:O"),
                 alt.Tooltip("difference:Q", format="+.4f")],
    )
    return (band + zero + points).properties(width=520, height=180, title=title)


def seed_spread(per_seed: pd.DataFrame, released: pd.DataFrame, title: str, k: float = 3.0) -> alt.LayerChart:
    """A per-seed estimate against one released value: dots = seeds, bar = mean ± k sd, black tick = released.

    ``per_seed``: layer, seed, anisotropy; ``released``: layer, anisotropy.
    """
    x = alt.X("layer:O", title="layer", axis=alt.Axis(labelAngle=0))
    dots = alt.Chart(per_seed).mark_circle(size=35, opacity=0.6).encode(
        x=x, y=alt.Y("anisotropy:Q", title="A (mean pairwise cosine)"),
        tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("seed:O"), alt.Tooltip("anisotropy:Q", format=".4f")])
    spread = alt.Chart(per_seed).transform_aggregate(
        mean="mean(anisotropy)", sd="stdev(anisotropy)", groupby=["layer"]
    ).transform_calculate(lo=f"datum.mean - {k} * datum.sd", hi=f"datum.mean + {k} * datum.sd")
    bars = spread.mark_rule(strokeWidth=2, opacity=0.5).encode(
        x=x, y="lo:Q", y2="hi:Q",
        tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("mean:Q", format=".4f"), alt.Tooltip("sd:Q", format=".4f")])
    ticks = alt.Chart(released).mark_tick(color="black", thickness=2, size=18).encode(
        x=x, y="anisotropy:Q", tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("anisotropy:Q", title="released")])
    return (bars + dots + ticks).properties(width=520, height=180, title=title)


# --------------------------------------------------------------------------------------------- comparisons
def per_layer_models(long: pd.DataFrame, title: str, columns: int = 3, independent: bool = True) -> alt.FacetChart:
    """One panel per metric, one line per model, layer on x. ``long``: model, metric, layer, value (optional sd).

    Click a legend entry to highlight a model; hover a point for its value.
    """
    pick = alt.selection_point(fields=["model"], bind="legend")
    tooltip = [alt.Tooltip("model:N"), alt.Tooltip("metric:N"), alt.Tooltip("layer:O"),
               alt.Tooltip("value:Q", format=".4f")]
    if "sd" in long:
        tooltip.append(alt.Tooltip("sd:Q", format=".4f", title="sd over seeds"))
    chart = alt.Chart(long).mark_line(point=alt.OverlayMarkDef(size=40)).encode(
        x=alt.X("layer:O", title="layer (0 = embeddings)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", title="model"),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=tooltip,
    ).add_params(pick).properties(width=210, height=170)
    facet = chart.facet(facet=alt.Facet("metric:N", title=None), columns=columns).properties(title=title)
    if independent:
        facet = facet.resolve_scale(y="independent")
    return facet.configure_legend(orient="bottom", direction="horizontal", columns=4)


def over_steps(long: pd.DataFrame, title: str, series: str = "series", columns: int = 3,
               log_x: bool = True, layer_select: bool = False) -> alt.FacetChart:
    """Curves against the training step. ``long``: step, metric, value, ``series`` (and ``layer`` when
    ``layer_select``: a dropdown then picks the layer shown). Hover a point for its value."""
    data = long.assign(step_plot=long["step"].clip(lower=1) if log_x else long["step"])
    base = alt.Chart(data)
    tooltip = [alt.Tooltip(f"{series}:N"), alt.Tooltip("metric:N"), alt.Tooltip("step:Q"),
               alt.Tooltip("value:Q", format=".4f")]
    if layer_select and "layer" in data:
        layers = sorted(data["layer"].dropna().unique().tolist())
        choose = alt.param(name="layer_shown", value=int(max(layers)),
                           bind=alt.binding_select(options=[int(v) for v in layers], name="layer "))
        base = base.add_params(choose).transform_filter("datum.layer == layer_shown || !isValid(datum.layer)")
        tooltip.append(alt.Tooltip("layer:O"))
    pick = alt.selection_point(fields=[series], bind="legend")
    chart = base.mark_line(point=alt.OverlayMarkDef(size=30)).encode(
        x=alt.X("step_plot:Q", title="training step" + (" (log; step 0 drawn at 1)" if log_x else ""),
                scale=alt.Scale(type="log") if log_x else alt.Undefined),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color(f"{series}:N", title=series),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=tooltip,
    ).add_params(pick).properties(width=210, height=170)
    return (chart.facet(facet=alt.Facet("metric:N", title=None), columns=columns)
            .resolve_scale(y="independent").properties(title=title)
            .configure_legend(orient="bottom", direction="horizontal", columns=4))
