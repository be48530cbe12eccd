"""The data behind every page: the tables a chapter draws and checks, as files a reader can load.

A chapter writes each table beside its ``results.json`` and ends its page with a "Data" section linking them::

    datafiles.write(run.out_dir, "tokens", table, "one token id at one layer, for one CL pooling")
    display(Markdown(datafiles.section(run.out_dir, "04_contextualization")))

:func:`write` writes Parquet (CSV below :data:`CSV_BELOW` rows, which any spreadsheet opens), atomically, and
records the file in the folder's manifest ``data.json`` (file, format, rows, columns, what a row is, sha256).
Publishing a chapter copies the manifest and its files with ``results.json`` into ``book/results/<chapter>/``
(:func:`publish`), and the book build copies that folder to the same place under ``_build/html`` (this module
is the Sphinx extension that does it: :func:`setup`, registered in ``_config.yml``). A page ``book/<chapter>``
therefore links its files as ``results/<chapter>/<file>`` (:func:`href`): the same relative link resolves from
the notebook in ``book/`` and from the built page ``_build/html/book/<chapter>.html``. A run outside publishing
writes its notebook into its own folder, beside the files, and links them by name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path

from ..science.files import atomic_write_bytes, atomic_write_text, sha256_file

MANIFEST = "data.json"
RESULTS = "results.json"
CSV_BELOW = 2000  # rows: smaller tables are written as CSV, larger ones as Parquet
PUBLISHED = Path("book") / "results"  # relative to the book's root, in the sources and in the built HTML alike
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# set while a chapter is executed for publishing (lib.book.execute.publish): the folder the run writes into. Declared
# here, where lib.book.results reads it, so that the book build (which loads this module as a Sphinx extension)
# imports nothing heavy
RUN_DIR_ENV = "SRL_RUN_DIR"


# --------------------------------------------------------------------------------------------- writing
def _encode(df, fmt: str) -> bytes:
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()


def read_manifest(folder: str | os.PathLike) -> dict:
    path = Path(folder) / MANIFEST
    return json.loads(path.read_text("utf-8")) if path.is_file() else {"files": []}


def write(out_dir: str | os.PathLike, name: str, df, what_a_row_is: str, fmt: str | None = None) -> Path:
    """Write ``df`` as ``<out_dir>/<name>.parquet`` (or ``.csv``: below :data:`CSV_BELOW` rows, or ``fmt="csv"``)
    and record it in the folder's ``data.json``; return the file's path. ``what_a_row_is``: the sentence the page
    shows beside the link ("one token id at one layer, for one CL pooling"). Writing a name again replaces it."""
    if not NAME.match(name):
        raise ValueError(f"data file name {name!r}: use lower-case letters, digits, '_' and '-'")
    if not str(what_a_row_is).strip():
        raise ValueError(f"data file {name!r}: say what one row is")
    fmt = fmt or ("csv" if len(df) < CSV_BELOW else "parquet")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt = {fmt!r}; expected 'csv' or 'parquet'")
    out_dir = Path(out_dir)
    payload = _encode(df, fmt)
    path = atomic_write_bytes(out_dir / f"{name}.{fmt}", payload)
    manifest = read_manifest(out_dir)
    for old in [f for f in manifest["files"] if f["name"] == name and f["file"] != path.name]:
        (out_dir / old["file"]).unlink(missing_ok=True)  # the same table in the other format
    entry = {
        "name": name,
        "file": path.name,
        "format": fmt,
        "rows": int(len(df)),
        "columns": [str(c) for c in df.columns],
        "row": str(what_a_row_is).strip(),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    manifest["files"] = [f for f in manifest["files"] if f["name"] != name] + [entry]
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return path


def read(folder: str | os.PathLike, name: str):
    """A table written by :func:`write`, checked against its manifest's sha256."""
    import pandas as pd

    entry = next((f for f in read_manifest(folder)["files"] if f["name"] == name), None)
    if entry is None:
        raise FileNotFoundError(f"{Path(folder) / MANIFEST} lists no table {name!r}")
    path = Path(folder) / entry["file"]
    if sha256_file(path) != entry["sha256"]:
        raise ValueError(f"{path} does not match its sha256 in {MANIFEST}")
    return pd.read_csv(path) if entry["format"] == "csv" else pd.read_parquet(path)


# --------------------------------------------------------------------------------------------- the page
def href(chapter: str, file: str, published: bool | None = None) -> str:
    """The link a chapter's page uses for one of its files: ``results/<chapter>/<file>`` on a published page
    (``book/<chapter>`` beside ``book/results/<chapter>/``), the bare file name on a page executed into its run
    folder. ``published``: None = whether this process runs the chapter for publishing (``$SRL_RUN_DIR`` set)."""
    if published is None:
        published = bool(os.environ.get(RUN_DIR_ENV))
    return f"{PUBLISHED.name}/{chapter}/{file}" if published else file


def section(out_dir: str | os.PathLike, chapter: str, published: bool | None = None) -> str:
    """The page's "Data" section (Markdown): one line per file of ``out_dir``'s manifest, its link, size and what
    a row is, then ``results.json``."""
    files = read_manifest(out_dir)["files"]
    lines = [
        "The numbers behind this page, as files (Parquet: `pandas.read_parquet`; CSV: any spreadsheet):",
        "",
    ]
    for f in files:
        rows, cols = f["rows"], len(f["columns"])
        size = f"{rows:,} row{'s' * (rows != 1)} × {cols} column{'s' * (cols != 1)}"
        lines.append(f"- [{f['file']}]({href(chapter, f['file'], published)}) — {size}; a row is {f['row']}")
    lines.append(
        f"- [{RESULTS}]({href(chapter, RESULTS, published)}) — the run's parameters, metrics, checks and provenance"
    )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- publishing
def listed(folder: str | os.PathLike) -> list[str]:
    """The files a results folder publishes: ``results.json``, the manifest and every file it lists."""
    folder = Path(folder)
    names = [RESULTS] if (folder / RESULTS).is_file() else []
    if (folder / MANIFEST).is_file():
        names += [MANIFEST] + [f["file"] for f in read_manifest(folder)["files"]]
    return names


def publish(run_dir: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """Copy a run's data files and manifest into its chapter's published folder (atomically, file by file),
    checking each against the manifest; files an earlier publication listed and this one does not are removed."""
    run_dir, target = Path(run_dir), Path(target)
    before = {f["file"] for f in read_manifest(target)["files"]}
    manifest = read_manifest(run_dir)
    written = []
    for f in manifest["files"]:
        src = run_dir / f["file"]
        if sha256_file(src) != f["sha256"]:
            raise ValueError(f"{src} does not match its sha256 in {MANIFEST}")
        written.append(atomic_write_bytes(target / f["file"], src.read_bytes()))
    if manifest["files"]:
        written.append(atomic_write_text(target / MANIFEST, (run_dir / MANIFEST).read_text("utf-8")))
    else:
        (target / MANIFEST).unlink(missing_ok=True)
    for stale in before - {f["file"] for f in manifest["files"]}:
        (target / stale).unlink(missing_ok=True)
    return written


def copy_published(src_root: str | os.PathLike, out_root: str | os.PathLike) -> list[Path]:
    """Copy every chapter's published files (:func:`listed`) from ``<src_root>/book/results/`` to the same path
    under ``out_root`` (the built HTML), so a page's ``results/<chapter>/<file>`` links resolve."""
    copied = []
    for folder in sorted((Path(src_root) / PUBLISHED).glob("*/")):
        for name in listed(folder):
            dest = Path(out_root) / PUBLISHED / folder.name / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / name, dest)
            copied.append(dest)
    return copied


def _build_finished(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_published(app.srcdir, app.outdir)


def setup(app):
    """The Sphinx extension (``_config.yml``: ``sphinx: local_extensions``): after an HTML build, the published
    results folders are copied into the built book."""
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
