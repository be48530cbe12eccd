"""The built book, opened in headless Chromium with every outside host unresolvable, in a 1,400 px wide window.

Run after `make book` (`make check-book`; CI does both). Needs Debian's `chromium` (or $CHROMIUM). Every page is
checked for:

- charts that draw offline (vendored vega) and math that MathJax typesets;
- tables that fit the text column (no table wider than the article's content box);
- chart panels that have marks (no frame or facet axis without data drawn in it);
- no internal labels in the text a reader sees (``R2``/``R3``/``R4``, "brief", "device_session");
- links to a chapter's data files (``results/<chapter>/<file>``) that resolve in the built book.

A page is measured by an audit script (:data:`AUDIT_JS`) that the test server adds to each page it serves (the
built files are not changed). Its detection is itself tested on small constructed pages, good and bad
(``test_the_audit_*``). Full-page screenshots of every page go to ``_build/screenshots/`` (the path is printed at
the end) for a human to look at.
"""

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.py"))
PAGES = ["intro", *CHAPTERS, "scorecard", "learned", "references"]
WIDTH = 1400
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=20000",
]
# internal labels a reader must not meet in the page text (case-sensitive; "brief" the adjective is caught too:
# write "short")
INTERNAL = [r"\bR[234]\b", r"\bbrief\b", r"\bBRIEF\b", r"device_session"]
AUDIT_PATH = "/__srl_audit.js"

# Runs in the page once it has loaded and its charts have drawn; writes its findings as JSON into
# <pre id="srl-audit"> (serialised, escaped, by --dump-dom).
AUDIT_JS = r"""
(function () {
  var INTERNAL = %(internal)s;
  function box(el) { var r = el.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom,
                                                                  w: r.width, h: r.height}; }
  function drawn(group) {            // a vega mark group with at least one visible item
    var items = group.querySelectorAll("path, line, rect, circle, ellipse, polygon, text, image");
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      if (it.tagName.toLowerCase() === "text") { if (it.textContent.trim()) return true; continue; }
      var b = it.getBBox();
      if (b.width > 0 || b.height > 0) return true;
    }
    return false;
  }
  function hasMarks(item) {
    var groups = item.querySelectorAll("g");
    for (var i = 0; i < groups.length; i++) {
      var cls = " " + (groups[i].getAttribute("class") || "") + " ";
      if (cls.indexOf(" role-mark ") >= 0 && drawn(groups[i])) return true;
    }
    return false;
  }
  function chartName(svg, k) {
    var div = svg.closest(".srl-chart") || svg.parentElement;
    return (div && div.id) || ("chart " + k);
  }
  function audit() {
    var out = {tables: [], panels: [], labels: [], column: 0, height: 0, charts: 0};
    var article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
    var cs = getComputedStyle(article), a = box(article);
    var left = a.l + parseFloat(cs.paddingLeft), right = a.r - parseFloat(cs.paddingRight);
    out.column = Math.round(right - left);
    out.height = Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);
    // (a) tables wider than the text column
    var tables = article.querySelectorAll("table");
    for (var i = 0; i < tables.length; i++) {
      var t = tables[i], b = box(t), w = Math.max(b.w, t.scrollWidth);
      if (w > (right - left) + 1 || b.r > right + 1 || b.l < left - 1) {
        out.tables.push({index: i, width: Math.round(w), column: out.column,
                         text: (t.innerText || "").replace(/\s+/g, " ").slice(0, 90)});
      }
    }
    // (b) chart panels without marks
    var svgs = article.querySelectorAll("svg.marks");
    out.charts = svgs.length;
    for (var k = 0; k < svgs.length; k++) {
      var svg = svgs[k], frames = [];
      var scopes = svg.querySelectorAll("g.role-scope");
      for (var s = 0; s < scopes.length; s++) {
        if (scopes[s].closest(".role-legend")) continue;
        var items = scopes[s].children;
        for (var j = 0; j < items.length; j++) {
          var item = items[j], axis = item.querySelector("g.role-axis");
          var bg = item.querySelector(":scope > path.background");
          var framed = bg && (bg.getBBox().width > 0 && bg.getBBox().height > 0);
          if (framed) frames.push(box(bg));
          if ((axis || framed) && !hasMarks(item)) {
            out.panels.push({chart: chartName(svg, k), kind: "panel without marks",
                             at: [Math.round(box(item).l - box(svg).l), Math.round(box(item).t - box(svg).t)]});
          }
        }
      }
      // facet headers/footers: an axis drawn where no panel is (a wrapped facet's missing cells)
      var guides = svg.querySelectorAll("g.role-column-footer > g, g.role-column-header > g, " +
                                        "g.role-row-header > g, g.role-row-footer > g");
      for (var g = 0; g < guides.length; g++) {
        var ax = guides[g].querySelector("g.role-axis");
        if (!ax) continue;
        var ab = box(ax), horizontal = ab.w >= ab.h, found = false;
        for (var f = 0; f < frames.length && !found; f++) {
          var fb = frames[f];
          if (horizontal) {
            var ov = Math.min(ab.r, fb.r) - Math.max(ab.l, fb.l);
            var gap = Math.min(Math.abs(ab.t - fb.b), Math.abs(fb.t - ab.b));
            found = ov > 0.5 * Math.min(ab.w, fb.w) && gap < 25;
          } else {
            var ovv = Math.min(ab.b, fb.b) - Math.max(ab.t, fb.t);
            var gapv = Math.min(Math.abs(fb.l - ab.r), Math.abs(ab.l - fb.r));
            found = ovv > 0.5 * Math.min(ab.h, fb.h) && gapv < 25;
          }
        }
        if (!found) {
          out.panels.push({chart: chartName(svg, k), kind: "axis with no panel",
                           at: [Math.round(ab.l - box(svg).l), Math.round(ab.t - box(svg).t)]});
        }
      }
    }
    // (c) internal labels in the text a reader sees: prose, tables, chart text, and what collapsed <details>
    // show when opened; not code (listings, code cells) nor MathJax's internal copies of formulas
    var SKIP = "script, style, noscript, pre, .cell_input, .highlight, mjx-container, #srl-audit";
    var walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: function (n) {
      var parent = n.parentElement;
      return parent && !parent.closest(SKIP) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT; }});
    var parts = [];
    while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
    var text = parts.join(" ").replace(/\s+/g, " ");
    INTERNAL.forEach(function (pattern) {
      var re = new RegExp(pattern, "g"), m;
      while ((m = re.exec(text)) !== null) {
        out.labels.push({pattern: pattern, context: text.slice(Math.max(0, m.index - 50), m.index + 50)});
      }
    });
    var pre = document.createElement("pre");
    pre.id = "srl-audit";
    pre.style.display = "none";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener("load", function () { setTimeout(audit, 8000); });
})();
""" % {"internal": json.dumps(INTERNAL)}


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("no headless browser: install Debian's `chromium` (apt-get install chromium) or set CHROMIUM")
    return found


class AuditingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; adds the audit script to every HTML page it serves."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == AUDIT_PATH:
            return self._send(AUDIT_JS.encode(), "text/javascript")
        local = Path(self.translate_path(path))
        if local.is_dir():
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file():
            page = local.read_text(encoding="utf-8")
            tag = f'<script src="{AUDIT_PATH}"></script>'
            page = page.replace("</body>", tag + "</body>", 1) if "</body>" in page else page + tag
            return self._send(page.encode("utf-8"), "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, body: bytes, kind: str):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(folder: Path):
    handler = functools.partial(AuditingHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture(scope="module")
def server(request):
    if not (HTML / "index.html").exists():
        pytest.fail("no built book: run `make book` first")
    httpd, url = serve(HTML)
    yield url
    httpd.shutdown()
    if SHOTS.exists() and any(SHOTS.glob("*.png")):
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(
                f"\nscreenshots ({WIDTH} px wide, full page): {SHOTS.relative_to(ROOT)}/ "
                f"({len(list(SHOTS.glob('*.png')))} pages)"
            )


def browse(url: str, *extra: str, tmp: Path, height: int = 2000) -> str:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={tmp}", f"--window-size={WIDTH},{height}", *extra, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def audited(dom: str) -> dict:
    m = re.search(r'<pre id="srl-audit"[^>]*>(.*?)</pre>', dom, re.S)
    assert m, "the audit script did not run (no <pre id=srl-audit> in the page)"
    return json.loads(html.unescape(m.group(1)))


_PAGES: dict[str, tuple[str, dict]] = {}


def load(server: str, page: str, tmp: Path) -> tuple[str, dict]:
    """The page's DOM after its scripts ran, and the audit's findings; a full-page screenshot saved. Once a page."""
    if page not in _PAGES:
        url = f"{server}/book/{page}.html"
        dom = browse(url, "--dump-dom", tmp=tmp / "profile")
        found = audited(dom)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"{page}.png"
        browse(url, f"--screenshot={shot}", tmp=tmp / "shot", height=min(max(int(found["height"]), 800), 16000))
        _PAGES[page] = (dom, found)
    return _PAGES[page]


# --------------------------------------------------------------------------------------------- the book
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_charts_draw_offline(server, chapter, tmp_path):
    dom, _ = load(server, chapter, tmp_path)
    charts = re.findall(r'<div id="(srl-chart-[0-9a-f]+)" class="srl-chart[^"]*"', dom)
    assert charts, "the page has no chart"
    for div in charts:
        body = dom.split(f'id="{div}"', 1)[1][:200_000]
        assert re.search(r'<svg[^>]*class="marks"', body.split('<div id="srl-chart-', 1)[0]), f"{div} did not draw"
    # neither the error nor the no-vega fallback was drawn (their text also sits, quoted, in the inline script)
    assert '<pre class="srl-chart-error">' not in dom and not re.search(r'class="srl-chart[^"]*"><p><em>', dom)
    assert re.search(r'<g class="mark-text role-axis-title"', dom), "no axis title was drawn by vega"
    if "\\(" in dom or 'class="math' in (HTML / "book" / f"{chapter}.html").read_text():
        assert "<mjx-container" in dom and "<svg" in dom.split("<mjx-container", 1)[1][:2000], (
            "the page has math, but MathJax (vendored) did not typeset it"
        )
    assert (SHOTS / f"{chapter}.png").stat().st_size > 10_000


@pytest.mark.parametrize("page", PAGES)
def test_tables_fit_the_text_column(server, page, tmp_path):
    _, found = load(server, page, tmp_path)
    wide = [
        f"table {t['index']}: {t['width']} px in a {t['column']} px column ({t['text']!r}…)" for t in found["tables"]
    ]
    assert not wide, f"{page}: tables wider than the text column at {WIDTH} px:\n" + "\n".join(wide)


@pytest.mark.parametrize("page", PAGES)
def test_every_chart_panel_has_marks(server, page, tmp_path):
    _, found = load(server, page, tmp_path)
    empty = [f"{p['chart']}: {p['kind']} at {p['at']}" for p in found["panels"]]
    assert not empty, f"{page}: chart panels with nothing drawn in them:\n" + "\n".join(empty)


@pytest.mark.parametrize("page", PAGES)
def test_no_internal_labels_in_the_text(server, page, tmp_path):
    _, found = load(server, page, tmp_path)
    hits = [f"{h['pattern']}: …{h['context']}…" for h in found["labels"]]
    assert not hits, f"{page}: internal labels in the page text:\n" + "\n".join(hits)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_links_to_the_data_files_resolve(chapter):
    """A page's "Data" section links ``results/<chapter>/<file>``; the build copies those files beside the page
    (lib/book/datafiles.py). Every such link must reach a file, and that file must be the published one."""
    from lib.science.files import sha256_file

    page = HTML / "book" / f"{chapter}.html"
    if not page.is_file():
        pytest.fail("no built book: run `make book` first")
    links = sorted(set(re.findall(r'href="(results/[^"#?]+)"', page.read_text(encoding="utf-8"))))
    broken = [link for link in links if not (page.parent / link).is_file()]
    assert not broken, f"{chapter}: links to data files that the built book lacks: {broken}"
    for link in links:
        assert sha256_file(page.parent / link) == sha256_file(ROOT / "book" / link), f"{link} is not the published file"


# --------------------------------------------------------------------------------------------- the audit itself
VEGA = ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"]


def _chart(spec: dict) -> str:
    from lib.book.vega import offline_html

    return offline_html(spec)


def _facet_spec(panels: int, columns: int) -> dict:
    rows = [{"metric": f"m{i}", "x": x, "y": (i + 1) * x} for i in range(panels) for x in range(4)]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": rows},
        "columns": columns,
        "facet": {"field": "metric", "type": "nominal"},
        "spec": {
            "mark": "line",
            "width": 120,
            "height": 80,
            "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}},
        },
        "resolve": {"scale": {"y": "independent"}},
    }


def _filtered_spec() -> dict:
    """Two concatenated panels, the second filtered to nothing: a frame with axes and no line."""
    rows = [{"x": x, "y": x * x} for x in range(4)]
    unit = {
        "mark": "line",
        "width": 150,
        "height": 80,
        "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": rows},
        "hconcat": [unit, dict(unit, transform=[{"filter": "datum.x > 100"}])],
    }


def _page(body: str, width: int = 700) -> str:
    scripts = "".join(f'<script src="vega/{name}"></script>' for name in VEGA)
    return (
        f'<!doctype html><html><head><meta charset="utf-8">{scripts}<style>body{{margin:0}} '
        f"article.bd-article{{width:{width}px;padding:0 20px;margin-left:300px}} "
        f"td,th{{padding:4px 8px;white-space:nowrap}}</style></head>"
        f'<body><main><article class="bd-article">{body}</article></main></body></html>'
    )


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(ROOT / "book" / "_static" / "vega", site / "vega")
    narrow = "<table><tr><th>a</th><td>0.955</td><td>0.903</td></tr></table>"
    wide = "<table><tr>" + "".join(f"<td>column{i}_{'x' * 12}</td>" for i in range(12)) + "</tr></table>"
    pages = {
        "good.html": _page(
            "<h1>A good page</h1><p>The authors' released MiniLM table (R23 is no label).</p>"
            + narrow
            + _chart(_facet_spec(4, 2))
            + _chart(_facet_spec(3, 3))
        ),
        "wide_table.html": _page("<h1>Wide</h1>" + wide),
        "empty_facet.html": _page("<h1>Facets</h1>" + _chart(_facet_spec(4, 3))),
        "empty_panel.html": _page("<h1>Filtered</h1>" + _chart(_filtered_spec())),
        "labels.html": _page(
            "<h1>Labels</h1><p>As in R2, see the BRIEF and tools/device_session.sh.</p>"
            "<details><summary>checks</summary><p>What the brief says.</p></details>"
            "<pre>reference.R3  # code is not page text</pre>"
        ),
    }
    for name, text in pages.items():
        (site / name).write_text(text, encoding="utf-8")
    httpd, url = serve(site)
    yield url
    httpd.shutdown()


def _audit_page(url: str, tmp: Path) -> dict:
    return audited(browse(url, "--dump-dom", tmp=tmp / "p"))


def test_the_audit_passes_a_good_page(synthetic, tmp_path):
    found = _audit_page(f"{synthetic}/good.html", tmp_path)
    assert found["charts"] == 2 and found["column"] == 700
    assert not found["tables"] and not found["panels"] and not found["labels"], found


def test_the_audit_catches_a_table_wider_than_the_column(synthetic, tmp_path):
    found = _audit_page(f"{synthetic}/wide_table.html", tmp_path)
    assert len(found["tables"]) == 1 and found["tables"][0]["width"] > 700


def test_the_audit_catches_the_empty_frames_of_a_wrapped_facet(synthetic, tmp_path):
    found = _audit_page(f"{synthetic}/empty_facet.html", tmp_path)
    # 4 panels in 3 columns: the second row has 1 panel, and the footers of columns 2 and 3 have no panel above
    assert [p["kind"] for p in found["panels"]] == ["axis with no panel"] * 2, found["panels"]


def test_the_audit_catches_a_panel_with_axes_and_no_marks(synthetic, tmp_path):
    found = _audit_page(f"{synthetic}/empty_panel.html", tmp_path)
    assert [p["kind"] for p in found["panels"]] == ["panel without marks"], found["panels"]


def test_the_audit_catches_internal_labels(synthetic, tmp_path):
    found = _audit_page(f"{synthetic}/labels.html", tmp_path)
    assert sorted(h["pattern"] for h in found["labels"]) == sorted(
        [r"\bR[234]\b", r"\bBRIEF\b", "device_session", r"\bbrief\b"]
    )
