"""The built book, opened in headless Chromium with every outside host unresolvable: charts must draw offline.

Run after `make book` (`make check-book`; CI does both). Needs Debian's `chromium` (or $CHROMIUM). Screenshots
of each chapter go to _build/screenshots/ for a human to look at.
"""

import functools
import http.server
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
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--virtual-time-budget=20000"]


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("no headless browser: install Debian's `chromium` (apt-get install chromium) or set CHROMIUM")
    return found


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("no built book: run `make book` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def browse(url: str, *extra: str, tmp: Path) -> str:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={tmp}", *extra, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_charts_draw_offline(server, chapter, tmp_path):
    url = f"{server}/book/{chapter}.html"
    dom = browse(url, "--dump-dom", tmp=tmp_path / "profile")
    charts = re.findall(r'<div id="(srl-chart-[0-9a-f]+)" class="srl-chart[^"]*"', dom)
    assert charts, "the page has no chart"
    for div in charts:
        body = dom.split(f'id="{div}"', 1)[1][:200_000]
        assert re.search(r'<svg[^>]*class="marks"', body.split('<div id="srl-chart-', 1)[0]), f"{div} did not draw"
    # neither the error nor the no-vega fallback was drawn (their text also sits, quoted, in the inline script)
    assert '<pre class="srl-chart-error">' not in dom and not re.search(r'class="srl-chart[^"]*"><p><em>', dom)
    assert re.search(r'<g class="mark-text role-axis-title"', dom), "no axis title was drawn by vega"
    if "\\(" in dom or 'class="math' in (HTML / "book" / f"{chapter}.html").read_text():
        assert "<mjx-container" in dom and "<svg" in dom.split("<mjx-container", 1)[1][:2000], \
            "the page has math, but MathJax (vendored) did not typeset it"
    SHOTS.mkdir(parents=True, exist_ok=True)
    browse(url, f"--screenshot={SHOTS / (chapter + '.png')}", "--window-size=1300,4200", tmp=tmp_path / "shot")
    assert (SHOTS / f"{chapter}.png").stat().st_size > 10_000
