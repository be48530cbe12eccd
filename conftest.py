"""Test-session settings shared by the unit tests (tests/) and the executed chapters (book/, via nbval).

- The hub is switched off: no test may wait on the network.
- The data mirror is ``$SRL_DATA_DIR``, else ``../shared/data`` beside the checkout, else the small mirror committed
  in ``tests/fixture_data``: a fresh clone tests itself. Tests that need a full mirror skip on the fixture.
- Runs (chapters and the training runs they reuse) go under a temporary SRL_OUT_DIR, never onto the published
  results in book/results or the runs/ cache of the checkout.
- Chapters are collected through their py:percent sources and executed by nbval at their declared CI scale:
  the paired notebook itself when that is the published scale, else the notebook with the CI scale's preset
  injected after its parameters cell, exactly as papermill would run it. Each is marked with its scale.
- Tests marked ``gpu`` are skipped where no CUDA device is visible.
"""

import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.helpers import data_dir_for_tests

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("SRL_OUT_DIR", tempfile.mkdtemp(prefix="srl-test-runs-"))

ROOT = Path(__file__).resolve().parent
# the data: $SRL_DATA_DIR, else ../shared/data, else the small mirror committed for the tests (tests/fixture_data)
os.environ["SRL_DATA_DIR"], DATA_ORIGIN = data_dir_for_tests(os.environ, ROOT)
BOOK = ROOT / "book"
collect_ignore_glob = ["book/*.ipynb"]  # chapters are collected through their sources (below)


def pytest_report_header(config):
    return [f"data mirror: {os.environ['SRL_DATA_DIR']} ({DATA_ORIGIN})", f"runs go to: {os.environ['SRL_OUT_DIR']}"]


def pytest_collect_file(file_path, parent):
    if file_path.parent != BOOK or file_path.suffix != ".py" or not re.match(r"\d\d_", file_path.name):
        return None
    import nbformat
    from nbval.plugin import IPyNbFile

    from lib.book.chapters import Chapter
    from lib.book.execute import parameterized

    chapter = Chapter(file_path)
    scale = chapter.ci_scale
    if scale == chapter.published_scale:
        path = chapter.notebook_path
    else:
        folder = Path(os.environ["SRL_OUT_DIR"]) / "ci-notebooks"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{chapter.stem}.ipynb"
        nbformat.write(parameterized(chapter, scale), str(path))
    item = IPyNbFile.from_parent(parent, path=path)
    item.add_marker(getattr(pytest.mark, scale))
    return item


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
