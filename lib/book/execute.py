"""Executing chapters: papermill runs with parameters, the CI notebook of each chapter, and publishing.

The chapter's py:percent source is read with jupytext (papermill cannot read ``.py``) and executed by papermill
with the parameters injected after its ``parameters`` cell. Papermill never writes onto the paired notebook in
``book/``: :func:`publish` executes into a temporary file, checks that no parameter was injected, strips
papermill's bookkeeping, and only then replaces the paired ``.ipynb`` and ``book/results/<chapter>/results.json``
with the page's data files (copied from the folder it handed the run, ``$SRL_RUN_DIR``; see
:mod:`lib.book.datafiles`; training runs the chapter reuses stay cached under ``runs/``). A run's folder is
resolved once, here, and handed down: the chapter never names it again.
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
from pathlib import Path

from ..science.files import atomic_write_text
from ..science.provenance import git_state
from . import datafiles, identity, parameters, plan
from .chapters import BOOK, PUBLISHED, Chapter


def execute(nb, output: Path, parameters: dict, env: dict | None = None, progress: bool = True, cwd: Path = BOOK):
    """Execute ``nb`` with papermill in ``cwd``; save it to ``output`` after every cell."""
    import papermill as pm

    output.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        return pm.execute_notebook(
            copy.deepcopy(nb),
            str(output),
            parameters=parameters or None,
            cwd=str(cwd),
            kernel_name="python3",
            language="python",
            progress_bar=progress,
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(chapter: Chapter, scale: str | None = None, overrides: dict | None = None, progress: bool = True) -> Path:
    """Run a chapter; return its ``out_dir`` (holding the executed notebook and ``results.json``).

    The run folder is named from the run's identity (:mod:`lib.book.identity`) unless ``out_dir`` is given.
    """
    params = chapter.parameters(scale, dict(overrides or {}))
    if chapter.stem in parameters.CHAPTERS:  # every rule, every SimCSE run: refused here, before any folder exists
        plan.check(chapter.stem, chapter.effective(params))
    out_dir = identity.run_dir(chapter.stem, chapter.effective(params), params.get("out_dir", ""))
    params["out_dir"] = str(out_dir)
    try:
        execute(chapter.notebook, out_dir / f"{chapter.stem}.ipynb", params, progress=progress)
    except Exception as err:
        err.notebook = out_dir / f"{chapter.stem}.ipynb"  # saved up to the failing cell
        raise
    return out_dir


def parameterized(chapter: Chapter, scale: str):
    """The chapter's notebook with the ``scale`` preset injected after its parameters cell, as papermill would run
    it (the notebook nbval executes when a chapter's CI scale differs from its published one)."""
    from papermill.parameterize import parameterize_notebook

    params = chapter.parameters(scale, {})
    nb = copy.deepcopy(chapter.notebook)
    nb.metadata.setdefault("papermill", {"default_parameters": {}, "parameters": {}, "environment_variables": {}})
    for cell in nb.cells:  # what papermill's loader adds before parameterising
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    return parameterize_notebook(nb, params, report_mode=False)


def strip_papermill(nb):
    """Drop papermill's bookkeeping so the notebook pairs cleanly with its py:percent source, and stderr streams
    (progress bars and library warnings, which the book does not show and which name paths of this machine)."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            cell.metadata.pop("tags")
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    return nb


def in_sync(source: Path, notebook: Path) -> bool:
    """Whether a paired ``.py`` and ``.ipynb`` hold the same cells (types and sources)."""
    import jupytext

    def cells(nb):
        return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]

    return cells(jupytext.read(source)) == cells(jupytext.read(notebook))


def publish(chapter: Chapter, progress: bool = True, published: Path = PUBLISHED) -> Path:
    """Execute a chapter with its defaults and make the result its published page and results.json.

    The run goes to a temporary folder; the page and ``<published>/<chapter>/results.json`` are replaced only
    once it has finished, injected no parameter and still pairs with its source.
    """
    import nbformat

    if git_state().get("dirty"):
        print(
            "warning: the working tree has uncommitted changes; commit the chapter's source first so the "
            "page's provenance names a clean commit",
            file=sys.stderr,
        )
    from .results import RUN_DIR_ENV

    target = chapter.notebook_path
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"  # the known folder the chapter writes its results.json into
        executed = execute(
            chapter.notebook,
            Path(tmp) / "executed.ipynb",
            {},
            env={RUN_DIR_ENV: str(run_dir)},
            progress=progress,
            cwd=chapter.source.parent,
        )
        if any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells):
            raise RuntimeError("a published run must use the chapter's own defaults (no injected parameters)")
        staged = Path(tmp) / f"{chapter.stem}.ipynb"
        nbformat.write(strip_papermill(executed), str(staged))
        if not in_sync(chapter.source, staged):
            raise RuntimeError(f"the executed notebook no longer pairs with {chapter.source.name}")
        if not (run_dir / "results.json").is_file():
            raise RuntimeError(f"the run wrote no results.json into {run_dir}")
        atomic_write_text(published / chapter.stem / "results.json", (run_dir / "results.json").read_text("utf-8"))
        datafiles.publish(run_dir, published / chapter.stem)  # the page's data files, listed in its data.json
        atomic_write_text(target, staged.read_text(encoding="utf-8"))
    return target
