"""The book's chapters: their sources, declared parameters, scale presets and CI scale.

A chapter is a py:percent source ``book/NN_name.py`` paired with its executed ``book/NN_name.ipynb``. Its metadata
(``srl`` in the jupytext header) holds ``scales`` (the parameter preset for each of smoke / pocket / paper) and
``ci_scale`` (the scale CI executes it at; defaults to the published one). Its findings come from the registry
(:mod:`lib.book.findings`), not from the chapter.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..science.params import SCALES, ParameterError
from ..science.provenance import REPO_ROOT
from . import findings

BOOK = REPO_ROOT / "book"
PUBLISHED = BOOK / "results"
PATH_PARAMS = ("out_dir", "data_dir")


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
    def scales(self) -> dict[str, dict]:
        return self.meta.get("scales", {})

    @property
    def published_scale(self) -> str:
        return self.declared()["scale"]

    @property
    def ci_scale(self) -> str:
        scale = self.meta.get("ci_scale", self.published_scale)
        if scale not in SCALES or scale not in self.scales:
            raise ValueError(f"{self.source.name}: ci_scale {scale!r} must be one of its scales {list(self.scales)}")
        return scale

    def declared(self) -> dict[str, object]:
        """Name -> default value of the chapter's ``parameters`` cell (a plain-literal cell, evaluated safely)."""
        cells = [c for c in self.notebook.cells if "parameters" in c.metadata.get("tags", [])]
        if len(cells) != 1:
            raise ValueError(f"{self.source.name}: a chapter needs exactly one cell tagged `parameters`")
        out = {}
        for node in ast.parse(cells[0].source).body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                out[node.target.id] = ast.literal_eval(node.value)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                out[node.targets[0].id] = ast.literal_eval(node.value)
        return out

    def parameters(self, scale: str | None, overrides: dict) -> dict:
        """Parameters to inject: the scale's preset, then ``overrides``; each checked against the parameters cell
        (name and type) before anything runs."""
        declared = self.declared()
        params: dict = {}
        if scale is not None:
            if scale not in SCALES:
                raise ParameterError("scale", scale, "expected one of " + ", ".join(map(repr, SCALES)))
            params.update(self.scales.get(scale, {}), scale=scale)
        params.update(overrides)
        for name, value in params.items():
            if name not in declared:
                raise ParameterError(name, value, "this chapter has no such parameter; it has " + ", ".join(declared))
            if not _same_kind(declared[name], value):
                raise ParameterError(name, value, f"expected a {type(declared[name]).__name__} like the default "
                                                  f"{declared[name]!r}")
            if name in PATH_PARAMS and value:
                params[name] = str(Path(value).expanduser().resolve())
        for name in ("model", "plm", "cl"):
            if name in params and isinstance(params[name], str) and Path(params[name]).expanduser().is_dir():
                params[name] = str(Path(params[name]).expanduser().resolve())
        return params

    def effective(self, params: dict) -> dict:
        """Every parameter the run will see: the defaults, then ``params``."""
        return {**self.declared(), **params}


def _same_kind(default, value) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


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
    parameter's default is a string, which keeps the text as typed (so ``model=yes`` stays ``'yes'``)."""
    if "=" not in text:
        raise ParameterError("-p", text, "expected name=value, e.g. -p seeds=[0,1,2]")
    name, raw = text.split("=", 1)
    name = name.strip()
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
