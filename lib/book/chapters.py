"""The book's chapters: their sources, declared parameters, scale presets and CI scale.

A chapter is a py:percent source ``book/NN_name.py`` paired with its executed ``book/NN_name.ipynb``. Its metadata
(``srl`` in the jupytext header) holds its ``title``; its parameters, their presets per scale and the scale CI
executes it at are declared in :mod:`lib.book.parameters`, its findings in the registry (:mod:`lib.book.findings`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..science import params as P
from ..science.params import SCALES, ParameterError
from ..science.provenance import REPO_ROOT
from . import findings, parameters

BOOK = REPO_ROOT / "book"
PUBLISHED = BOOK / "results"


def sources(book: Path | None = None) -> list[Path]:
    """The chapters' py:percent sources, in book order."""
    return sorted((book or BOOK).glob("[0-9][0-9]_*.py"))


@dataclass(frozen=True)
class Chapter:
    source: Path

    @property
    def stem(self) -> str:
        return self.source.stem

    @property
    def notebook_path(self) -> Path:
        return self.source.with_suffix(".ipynb")

    @functools.cached_property
    def notebook(self):
        import jupytext

        return jupytext.read(self.source)

    @property
    def meta(self) -> dict:
        return self.notebook.metadata.get("srl", {})

    @property
    def findings(self) -> list[str]:
        return [f.id for f in findings.for_chapter(self.stem)]

    @property
    def declaration(self) -> parameters.Declaration:
        """Its parameters, their rules and presets (:mod:`lib.book.declarations`); a chapter outside the book (a
        user's own notebook, a test's) declares them in its parameters cell (defaults only) and its presets in its
        ``srl`` metadata."""
        if self.stem in parameters.CHAPTERS:
            return parameters.declaration(self.stem)
        return declaration_from_cell(self.notebook)

    @property
    def scales(self) -> dict[str, dict]:
        return self.declaration.scales

    @property
    def published_scale(self) -> str:
        return self.declared()["scale"]

    @property
    def ci_scale(self) -> str:
        scale = self.declaration.ci_scale
        if scale not in SCALES or scale not in self.scales:
            raise ValueError(f"{self.source.name}: ci_scale {scale!r} must be one of its scales {list(self.scales)}")
        return scale

    def declared(self) -> dict[str, object]:
        """Name -> default of every parameter (the declaration; the notebook's parameters cell is generated
        from it)."""
        return self.declaration.defaults()

    def parameters(self, scale: str | None, overrides: dict) -> dict:
        """Parameters to inject: the scale's preset, then ``overrides``; names and types checked before anything
        runs (the chapter checks every rule in its first cell)."""
        params: dict = {}
        if scale is not None:
            P.scale(scale)
            params.update(self.scales.get(scale, {}), scale=scale)
        params.update(overrides)
        params = parameters.check(self.declaration, params, full=False)
        for name, p in self.declaration.params.items():
            value = params.get(name)
            if p.kind == "path" and value:
                params[name] = str(Path(value).expanduser().resolve())
            elif p.kind == "model" and isinstance(value, str) and value and Path(value).expanduser().is_dir():
                params[name] = str(Path(value).expanduser().resolve())  # a local model folder by its path
        return params

    def effective(self, params: dict) -> dict:
        """Every parameter the run will see: the defaults, then ``params``."""
        return {**self.declared(), **params}


def all_chapters(book: Path | None = None) -> list[Chapter]:
    return [Chapter(s) for s in sources(book)]


def find(name: str, book: Path | None = None) -> Chapter:
    stem = Path(name).stem
    found = [c for c in all_chapters(book) if c.stem == stem or c.stem.split("_", 1)[0] == stem]
    if len(found) != 1:
        raise ParameterError("chapter", name, "expected one of " + ", ".join(c.stem for c in all_chapters(book)))
    return found[0]


def parse_assignment(text: str, declared: dict | None = None) -> tuple[str, object]:
    """``name=value``. The value is read as YAML (``seeds=[0,1]``, ``special_in_vocab=false``) unless the
    parameter's default is a string, which keeps the text as typed (so ``model=yes`` stays ``'yes'``).
    ``simcse.lr=1e-4`` sets one SimCSE parameter: it returns ``("simcse", {"lr": 1e-4})`` (merge with
    :func:`merge_assignments`)."""
    if "=" not in text:
        raise ParameterError("-p", text, "expected name=value, e.g. -p seeds=[0,1,2]")
    name, raw = text.split("=", 1)
    name = name.strip()
    if "." in name:
        group, key = name.split(".", 1)
        from ..science import training

        knobs = {n: d for n, d, _ in training.describe("simcse")}
        if declared is not None and group not in declared:
            raise ParameterError(name, raw, f"this chapter has no parameter {group!r}")
        if group != "simcse" or key not in knobs:
            raise ParameterError(name, raw, "expected simcse.<a SimCSE parameter>: " + ", ".join(knobs))
        return group, {key: parse_assignment(f"{key}={raw}", knobs)[1]}
    if declared is not None and isinstance(declared.get(name), str):
        return name, raw
    value = yaml.safe_load(raw) if raw.strip() else ""
    if isinstance(value, str):  # YAML 1.1 reads 3e-05 (no dot) as a string: numbers are numbers
        for number in (int, float):
            try:
                return name, number(raw)
            except ValueError:
                pass
    return name, raw if value is None else value


def merge_assignments(pairs: list[tuple[str, object]]) -> dict:
    """``-p`` assignments into one dict; ``simcse.*`` ones merge into one ``simcse`` dict."""
    out: dict = {}
    for name, value in pairs:
        if name == "simcse" and isinstance(value, dict):
            out["simcse"] = {**out.get("simcse", {}), **value}
        else:
            out[name] = value
    return out


# --------------------------------------------------------------------------------------------- parameter cells
def parameters_cell(nb):
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError("a chapter needs exactly one cell tagged `parameters`")
    return cells[0]


def declaration_from_cell(nb) -> parameters.Declaration:
    """A notebook's own declaration: the defaults of its parameters cell, its presets in its ``srl`` metadata."""
    import ast

    out = {}
    for node in ast.parse(parameters_cell(nb).source).body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else node.targets[0]
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            else None
        )
        if isinstance(target, ast.Name):
            kind = "path" if target.id.endswith("_dir") else ""
            out[target.id] = parameters.Param(ast.literal_eval(node.value), "", kind=kind)
    meta = nb.metadata.get("srl", {})
    scales = meta.get("scales", {out.get("scale", parameters.Param("smoke", "")).default: {}})
    return parameters.Declaration(out, scales, meta.get("ci_scale", next(iter(scales))))


def _literal(value) -> str:
    """A Python literal as a formatter writes it (double-quoted strings)."""
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def cell_source(chapter: str) -> str:
    """The chapter's ``parameters`` cell, generated from its declaration."""
    lines = []
    for name, p in parameters.declaration(chapter).params.items():
        lines.append(f"{name}: {type(p.default).__name__} = {_literal(p.default)}  # {p.help}")
    return "\n".join(lines)


def write_cells(book=None) -> list[str]:
    """Rewrite every chapter's parameters cell (source and paired notebook) from its declaration."""
    import jupytext
    import nbformat

    changed = []
    for chapter in all_chapters(book):
        for path in (chapter.source, chapter.notebook_path):
            if not path.is_file():
                continue
            nb = jupytext.read(path)
            cell = parameters_cell(nb)
            if cell.source != cell_source(chapter.stem):
                cell.source = cell_source(chapter.stem)
                if path.suffix == ".py":
                    jupytext.write(nb, path, fmt="py:percent")
                else:
                    nbformat.write(nb, str(path))
                changed.append(path.name)
    return changed


# --------------------------------------------------------------------------------------------- a chapter's opening
def begin(chapter: str, namespace: dict, smoke_reason: str = ""):
    """A chapter's first cell: every parameter checked against its declaration (before any compute), the
    chapter's :class:`~lib.book.results.ChapterResults` opened, a smoke run marked as saying nothing about the
    paper, and the charts rendered offline. Returns ``(params, results)``."""
    from . import vega
    from .results import ChapterResults

    params = parameters.collect(chapter, namespace)
    res = ChapterResults(chapter, params)
    if params.get("scale") == "smoke":
        res.not_comparable(smoke_reason or SMOKE_REASON)
    vega.enable_offline()
    return params, res


SMOKE_REASON = "smoke scale: tiny random models and a few steps say nothing about the paper's claims"


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.book.chapters --write-cells``: regenerate the parameters cells; without it, print them."""
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if "--write-cells" in argv:
        print("rewrote:", ", ".join(write_cells()) or "nothing")
        return 0
    for name in parameters.CHAPTERS:
        print(f"{name}\n" + "\n".join("    " + line for line in cell_source(name).splitlines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
