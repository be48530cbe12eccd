"""The data behind every page: files written beside results.json with their manifest, published with the chapter,
copied into the built book where the page's links point."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lib.book import datafiles
from lib.science.files import sha256_file
from lib.science.provenance import REPO_ROOT


def test_a_table_is_written_with_its_manifest_and_read_back(tmp_path):
    small = pd.DataFrame({"token": ["the", "##s"], "value": [0.25, 0.5]})
    big = pd.DataFrame({"id": range(datafiles.CSV_BELOW), "value": [0.5] * datafiles.CSV_BELOW})
    assert datafiles.write(tmp_path, "classes", small, "one token class").name == "classes.csv"
    assert datafiles.write(tmp_path, "tokens", big, "one token id at one layer").name == "tokens.parquet"
    manifest = datafiles.read_manifest(tmp_path)
    entry = next(f for f in manifest["files"] if f["name"] == "tokens")
    assert entry == {
        "name": "tokens",
        "file": "tokens.parquet",
        "format": "parquet",
        "rows": datafiles.CSV_BELOW,
        "columns": ["id", "value"],
        "row": "one token id at one layer",
        "sha256": sha256_file(tmp_path / "tokens.parquet"),
    }
    pd.testing.assert_frame_equal(datafiles.read(tmp_path, "tokens"), big)
    pd.testing.assert_frame_equal(datafiles.read(tmp_path, "classes"), small)
    # written again as Parquet: the CSV goes, the manifest keeps one entry per name
    datafiles.write(tmp_path, "classes", small, "one token class", fmt="parquet")
    assert not (tmp_path / "classes.csv").exists()
    assert [f["file"] for f in datafiles.read_manifest(tmp_path)["files"]] == ["tokens.parquet", "classes.parquet"]
    (tmp_path / "tokens.parquet").write_bytes(b"changed")
    with pytest.raises(ValueError, match="sha256"):
        datafiles.read(tmp_path, "tokens")
    with pytest.raises(ValueError, match="lower-case"):
        datafiles.write(tmp_path, "Tokens.v2", small, "x")
    with pytest.raises(ValueError, match="what one row is"):
        datafiles.write(tmp_path, "t", small, " ")


def test_the_data_section_links_each_file_where_the_page_will_find_it(tmp_path, monkeypatch):
    datafiles.write(tmp_path, "tokens", pd.DataFrame({"a": [1]}), "one token id at one layer")
    published = datafiles.section(tmp_path, "04_contextualization", published=True)
    assert "- [tokens.csv](results/04_contextualization/tokens.csv) — 1 row × 1 column; a row is one token id" in (
        published
    )
    assert "[results.json](results/04_contextualization/results.json)" in published
    assert "[tokens.csv](tokens.csv)" in datafiles.section(tmp_path, "04_contextualization", published=False)
    # publishing is what sets the run folder variable (lib.book.execute.publish); the two modules agree on its name
    monkeypatch.setenv(datafiles.RUN_DIR_ENV, str(tmp_path))
    assert datafiles.href("04_contextualization", "tokens.csv") == "results/04_contextualization/tokens.csv"
    monkeypatch.delenv(datafiles.RUN_DIR_ENV)
    assert datafiles.href("04_contextualization", "tokens.csv") == "tokens.csv"


def test_publishing_copies_the_listed_files_and_drops_stale_ones(tmp_path):
    run, target = tmp_path / "run", tmp_path / "book" / "results" / "04_x"
    datafiles.write(target, "old", pd.DataFrame({"a": [1]}), "a row of an earlier publication")
    datafiles.write(run, "tokens", pd.DataFrame({"a": [1, 2]}), "one token")
    (run / "scratch.tmp").write_text("not listed")
    datafiles.publish(run, target)
    assert sorted(p.name for p in target.iterdir()) == ["data.json", "tokens.csv"]
    assert datafiles.read_manifest(target) == datafiles.read_manifest(run)


def _page_link_target(out_root: Path, chapter: str, link: str) -> Path:
    """Where a browser resolves ``link`` from the built page of ``chapter`` (``<out>/book/<chapter>.html``)."""
    return (out_root / "book" / f"{chapter}.html").parent / link


def test_the_built_book_holds_each_file_where_the_page_links_it(tmp_path):
    src, out = tmp_path / "src", tmp_path / "html"
    folder = src / "book" / "results" / "04_x"
    datafiles.write(folder, "tokens", pd.DataFrame({"a": [1, 2]}), "one token")
    (folder / "results.json").write_text("{}")
    (folder / ".results.json.123.tmp").write_text("an interrupted write")
    datafiles.copy_published(src, out)
    link = datafiles.href("04_x", "tokens.csv", published=True)
    assert sha256_file(_page_link_target(out, "04_x", link)) == sha256_file(folder / "tokens.csv")
    assert _page_link_target(out, "04_x", datafiles.href("04_x", "results.json", published=True)).is_file()
    assert sorted(p.name for p in (out / "book" / "results" / "04_x").iterdir()) == [
        "data.json",
        "results.json",
        "tokens.csv",
    ]


def test_the_book_build_ships_the_data_files(tmp_path):
    """A real jupyter-book build (seconds: one page) with the book's own extension settings from _config.yml."""
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"] == {"lib.book.datafiles": "."}
    (tmp_path / "_config.yml").write_text(
        yaml.safe_dump(
            {
                "title": "t",
                "only_build_toc_files": True,
                "execute": {"execute_notebooks": "off"},
                "sphinx": {"local_extensions": config["sphinx"]["local_extensions"]},
            }
        )
    )
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n- file: book/04_x\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    folder = tmp_path / "book" / "results" / "04_x"
    datafiles.write(folder, "tokens", pd.DataFrame({"a": [1, 2]}), "one token")
    (folder / "results.json").write_text("{}")
    import nbformat

    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    cell = nbformat.v4.new_code_cell("display(Markdown(datafiles.section(...)))")
    markdown = datafiles.section(folder, "04_x", published=True)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": markdown, "text/plain": "-"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Chapter 4"), cell]
    nbformat.write(nb, tmp_path / "book" / "04_x.ipynb")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))  # this checkout's lib, whichever one is installed
    cli = Path(sys.executable).parent / "jupyter-book"
    done = subprocess.run(
        [str(cli), "build", str(tmp_path), "--warningiserror", "--quiet"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = tmp_path / "_build" / "html"
    page = (out / "book" / "04_x.html").read_text()
    assert 'href="results/04_x/tokens.csv"' in page
    assert sha256_file(_page_link_target(out, "04_x", "results/04_x/tokens.csv")) == sha256_file(folder / "tokens.csv")
