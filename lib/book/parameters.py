"""Every chapter's parameters, declared once: name, default, help, the rules that check it, and the presets of
each scale.

A chapter's papermill ``parameters`` cell is *generated* from its declaration (``python -m lib.book.parameters
--write`` rewrites the cells; a test checks that they match), so the cell is never a second source. Everything
else reads the declaration: the checks a chapter makes in its first cell (:func:`collect`), ``python -m lib.run
--list``, the presets of ``--scale``, the run identity and the sweeps.

SimCSE's own parameters are declared once too, in :class:`lib.science.training.SimCSEConfig`: a chapter that
trains contrastive models takes a ``simcse`` dict of overrides (empty: the scale's preset), set from the command
line as ``-p simcse.temperature=0.1``.
"""

from __future__ import annotations

import sys

from ..science import params as P
from ..science.params import ParameterError
from .declarations import CHAPTERS, Declaration, Param

__all__ = [
    "CHAPTERS",
    "Declaration",
    "Param",
    "ParameterError",
    "cell_source",
    "check",
    "collect",
    "declaration",
    "model_params",
    "simcse_configs",
    "simcse_overrides",
    "write_cells",
]


MODEL_KINDS = ("model", "models")


def declaration(chapter: str, notebook=None) -> Declaration:
    """The book chapter's declaration; a chapter outside the book (a user's own notebook, a test's) declares its
    parameters in its parameters cell (defaults only) and its presets in its ``srl`` metadata."""
    if chapter in CHAPTERS:
        return CHAPTERS[chapter]
    if notebook is None:
        raise ParameterError("chapter", chapter, "expected one of " + ", ".join(CHAPTERS))
    import ast

    out = {}
    for node in ast.parse(parameters_cell(notebook).source).body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else node.targets[0]
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            else None
        )
        if isinstance(target, ast.Name):
            out[target.id] = Param(ast.literal_eval(node.value), "", kind="path" if target.id.endswith("_dir") else "")
    meta = notebook.metadata.get("srl", {})
    scales = meta.get("scales", {out.get("scale", Param("smoke", "")).default: {}})
    return Declaration(out, scales, meta.get("ci_scale", next(iter(scales))))


def model_params(chapter: str) -> list[str]:
    """The parameters that name models (identified by their weights in a run's name); none outside the book."""
    if chapter not in CHAPTERS:
        return []
    return [n for n, p in declaration(chapter).params.items() if p.kind in MODEL_KINDS]


# --------------------------------------------------------------------------------------------- checking
def check(chapter: str, values: dict, full: bool = True, notebook=None) -> dict:
    """Check names and types (and, with ``full``, every rule: ranges, model names, SimCSE overrides) of a
    chapter's parameters; returns them with ints coerced where floats are declared."""
    decl = declaration(chapter, notebook)
    out = {}
    for name, value in values.items():
        if name not in decl.params:
            raise ParameterError(name, value, "this chapter has no such parameter; it has " + ", ".join(decl.params))
        p = decl.params[name]
        out[name] = p.check(name, value) if full else P.coerce(name, p.default, value)
    if full and "simcse" in out:
        simcse_configs(out)  # every SimCSE run the chapter would train, checked before any compute
    return out


def simcse_configs(params: dict) -> dict[tuple[str, int], object]:
    """``{(pooling, seed): SimCSEConfig}`` of the SimCSE runs a pair chapter trains (none when ``cl`` is given)."""
    from ..science import training

    if params.get("cl"):
        return {}
    out = {}
    for pooling in params.get("poolings", ["cls"]):
        for seed in params.get("train_seeds", [0]):
            out[pooling, seed] = training.resolve("simcse", simcse_overrides(params, pooling=pooling, seed=seed))
    return out


def simcse_overrides(params: dict, **knobs) -> dict:
    """The SimCSE run's overrides: the chapter's scale, PLM, data and device, its ``simcse`` dict, ``knobs``."""
    return dict(
        scale=params["scale"],
        model=params["plm"],
        data_dir=params["data_dir"],
        device=params["device"],
        **params.get("simcse", {}),
        **knobs,
    )


def collect(chapter: str, namespace: dict) -> dict:
    """The chapter's parameters as the notebook sees them (its globals after the parameters cell and papermill's
    injected one), every rule checked: the first thing a chapter does, before any compute."""
    decl = declaration(chapter)
    return check(chapter, {name: namespace[name] for name in decl.params})


# --------------------------------------------------------------------------------------------- the cells
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
    for name, p in declaration(chapter).params.items():
        lines.append(f"{name}: {type(p.default).__name__} = {_literal(p.default)}  # {p.help}")
    return "\n".join(lines)


def parameters_cell(nb):
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError("a chapter needs exactly one cell tagged `parameters`")
    return cells[0]


def write_cells(book=None) -> list[str]:
    """Rewrite every chapter's parameters cell (source and paired notebook) from its declaration."""
    import jupytext
    import nbformat

    from .chapters import all_chapters

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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--write" in argv:
        print("rewrote:", ", ".join(write_cells()) or "nothing")
        return 0
    for name in CHAPTERS:
        print(f"{name}\n" + "\n".join("    " + line for line in cell_source(name).splitlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
