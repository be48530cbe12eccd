"""Rerun a chapter with other parameters, in one command.

    python -m lib.run 01 --scale smoke
    python -m lib.run 01_geometry_table -p model=bert-base-uncased -p seeds=[0,1,2] -p device=cuda
    python -m lib.run 01 --publish          # refresh the published page and its results.json

The chapter's py:percent source is read with jupytext (papermill cannot read ``.py``) and executed by papermill
with the parameters injected after its ``parameters`` cell. ``--scale`` first applies the chapter's preset for that
scale (kept in the chapter's metadata under ``srl.scales``); ``-p`` values override it. Parameter names and types
are checked against the chapter's parameters cell before anything runs. Each run writes, into its ``out_dir``
(default ``runs/<chapter>/<scale>-<hash of parameters>``), the executed notebook -- saved after every cell, so an
interrupted run keeps what it did -- and the chapter's ``results.json``. Papermill never writes onto the paired
notebook in ``book/``: ``--publish`` executes into a temporary file, checks that no parameter was injected, strips
papermill's bookkeeping, and only then replaces the paired ``.ipynb``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

import yaml

from .params import SCALES, ParameterError
from .results import ENV_OUT_DIR, REPO_ROOT, resolve_out_dir

BOOK = REPO_ROOT / "book"
PUBLISHED = BOOK / "results"
PATH_PARAMS = ("out_dir", "data_dir")


# --------------------------------------------------------------------------------------------- chapters
def chapters() -> list[Path]:
    """The chapters' py:percent sources, in book order."""
    return sorted(p for p in BOOK.glob("[0-9][0-9]_*.py"))


def find_chapter(name: str) -> Path:
    stem = Path(name).stem
    found = [p for p in chapters() if p.stem == stem or p.stem.split("_", 1)[0] == stem]
    if len(found) != 1:
        raise ParameterError("chapter", name, "expected one of " + ", ".join(p.stem for p in chapters()))
    return found[0]


def read_chapter(source: Path):
    import jupytext

    return jupytext.read(source)


def declared_parameters(nb) -> dict[str, object]:
    """Name -> default value of the chapter's ``parameters`` cell (a plain-literal cell, evaluated safely)."""
    import ast

    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError("a chapter needs exactly one cell tagged `parameters`")
    out = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def _same_kind(default, value) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def build_parameters(nb, scale: str | None, overrides: dict) -> dict:
    """Parameters to inject: the scale's preset, then ``overrides``; each checked against the parameters cell."""
    declared = declared_parameters(nb)
    params: dict = {}
    if scale is not None:
        if scale not in SCALES:
            raise ParameterError("scale", scale, "expected one of " + ", ".join(map(repr, SCALES)))
        params.update(nb.metadata.get("srl", {}).get("scales", {}).get(scale, {}), scale=scale)
    params.update(overrides)
    for name, value in params.items():
        if name not in declared:
            raise ParameterError(name, value, "this chapter has no such parameter; it has " +
                                 ", ".join(declared))
        if not _same_kind(declared[name], value):
            raise ParameterError(name, value, f"expected a {type(declared[name]).__name__} like the default "
                                              f"{declared[name]!r}")
        if name in PATH_PARAMS and value:
            params[name] = str(Path(value).expanduser().resolve())
    if "model" in params and Path(str(params["model"])).expanduser().is_dir():
        params["model"] = str(Path(params["model"]).expanduser().resolve())
    return params


def parse_assignment(text: str, declared: dict | None = None) -> tuple[str, object]:
    """``name=value``. The value is read as YAML (``seeds=[0,1]``, ``special_in_vocab=false``) unless the
    parameter's default is a string, which keeps the text as typed (so ``model=yes`` stays ``'yes'``)."""
    if "=" not in text:
        raise ParameterError("-p", text, "expected name=value, e.g. -p seeds=[0,1,2]")
    name, raw = text.split("=", 1)
    name = name.strip()
    if declared is not None and isinstance(declared.get(name), str):
        return name, raw
    value = yaml.safe_load(raw) if raw.strip() else ""
    return name, raw if value is None else value


# --------------------------------------------------------------------------------------------- running
def execute(nb, output: Path, parameters: dict, env: dict | None = None, progress: bool = True):
    """Execute ``nb`` with papermill in ``book/`` (so relative paths behave as in the book); save to ``output``."""
    import papermill as pm

    output.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        return pm.execute_notebook(copy.deepcopy(nb), str(output), parameters=parameters or None, cwd=str(BOOK),
                                   kernel_name="python3", progress_bar=progress)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(chapter: str, scale: str | None = None, overrides: dict | None = None, progress: bool = True) -> Path:
    """Run a chapter; return its ``out_dir`` (holding the executed notebook and ``results.json``)."""
    source = find_chapter(chapter)
    nb = read_chapter(source)
    params = build_parameters(nb, scale, dict(overrides or {}))
    defaults = declared_parameters(nb)
    effective = {**defaults, **params}
    out_dir = resolve_out_dir(params.get("out_dir", ""), source.stem, effective)
    params["out_dir"] = str(out_dir)
    try:
        execute(nb, out_dir / f"{source.stem}.ipynb", params, progress=progress)
    except Exception as err:
        err.notebook = out_dir / f"{source.stem}.ipynb"  # saved up to the failing cell
        raise
    return out_dir


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


def publish(chapter: str, progress: bool = True) -> Path:
    """Execute a chapter with its defaults and make the result its published page and results.json.

    The run goes to a temporary folder; the page and ``book/results/<chapter>/results.json`` are replaced only
    once it has finished, injected no parameter and still pairs with its source.
    """
    import nbformat

    from .results import atomic_write_text, git_state

    source = find_chapter(chapter)
    if git_state().get("dirty"):
        print("warning: the working tree has uncommitted changes; commit the chapter's source first so the "
              "page's provenance names a clean commit", file=sys.stderr)
    nb = read_chapter(source)
    target, published = source.with_suffix(".ipynb"), PUBLISHED / source.stem / "results.json"
    with tempfile.TemporaryDirectory() as tmp:
        executed = execute(nb, Path(tmp) / "executed.ipynb", {}, env={ENV_OUT_DIR: tmp}, progress=progress)
        if any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells):
            raise RuntimeError("a published run must use the chapter's own defaults (no injected parameters)")
        staged = Path(tmp) / f"{source.stem}.ipynb"
        nbformat.write(strip_papermill(executed), str(staged))
        if not in_sync(source, staged):
            raise RuntimeError(f"the executed notebook no longer pairs with {source.name}")
        atomic_write_text(published, (Path(tmp) / source.stem / "results.json").read_text(encoding="utf-8"))
        atomic_write_text(target, staged.read_text(encoding="utf-8"))
    return target


# --------------------------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.run", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter", nargs="?", help="chapter number or name, e.g. 01 or 01_geometry_table")
    parser.add_argument("--scale", choices=SCALES, help="apply the chapter's preset for this scale first")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="set a parameter (value read as YAML); repeatable")
    parser.add_argument("--publish", action="store_true", help="rerun with defaults and refresh the published page")
    parser.add_argument("--list", action="store_true", help="list the chapters and their parameters")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        if args.list or not args.chapter:
            for src in chapters():
                nb = read_chapter(src)
                meta = nb.metadata.get("srl", {})
                print(f"{src.stem}  ({meta.get('finding', '?')})  scales: {', '.join(meta.get('scales', {}))}")
                for name, default in declared_parameters(nb).items():
                    print(f"    {name} = {default!r}")
            return 0
        if args.publish:
            if args.param or args.scale:
                raise ParameterError("--publish", " ".join(args.param), "publishing runs the chapter's defaults; "
                                     "drop -p/--scale, or change the defaults in the chapter itself")
            print(f"published {publish(args.chapter, progress=not args.quiet).relative_to(REPO_ROOT)}")
            return 0
        declared = declared_parameters(read_chapter(find_chapter(args.chapter)))
        overrides = dict(parse_assignment(p, declared) for p in args.param)
        out_dir = run(args.chapter, args.scale, overrides, progress=not args.quiet)
        print(f"results: {out_dir / 'results.json'}")
        return 0
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # papermill's execution errors name the failing cell and the notebook it saved
        if err.__class__.__name__ == "PapermillExecutionError":
            print(f"error: the chapter failed: {err.ename}: {err.evalue}\n"
                  f"the notebook, executed up to the failing cell: {getattr(err, 'notebook', '?')}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
