"""Every chapter's parameters, declared once: name, default, help, the rules that check it, and the presets of
each scale.

A chapter's papermill ``parameters`` cell is *generated* from its declaration (:mod:`lib.book.chapters`: ``python -m
lib.book.chapters --write-cells``; a test checks that they match), so the cell is never a second source. Everything
else reads the declaration: the checks made before a chapter starts and again in its first cell (:func:`collect`),
``python -m lib.run --list``, the presets of ``--scale``, the run identity and the sweeps.

SimCSE's own parameters are declared once too, in :class:`lib.science.training.SimCSEConfig`: a chapter that
trains contrastive models takes a ``simcse`` dict of overrides (empty: the scale's preset), set from the command
line as ``-p simcse.temperature=0.1``.
"""

from __future__ import annotations

from ..science import params as P
from ..science.params import ParameterError
from .declarations import CHAPTERS, Declaration, Param

__all__ = [
    "CHAPTERS",
    "Declaration",
    "Param",
    "ParameterError",
    "check",
    "collect",
    "declaration",
    "model_params",
    "simcse_overrides",
]


MODEL_KINDS = ("model", "models")


def declaration(chapter: str) -> Declaration:
    """A book chapter's declaration (a chapter outside the book declares its parameters in its own parameters
    cell: :meth:`lib.book.chapters.Chapter.declaration`)."""
    if chapter not in CHAPTERS:
        raise ParameterError("chapter", chapter, "expected one of " + ", ".join(CHAPTERS))
    return CHAPTERS[chapter]


def model_params(chapter: str) -> list[str]:
    """The parameters that name models (identified by their weights in a run's name); none outside the book."""
    if chapter not in CHAPTERS:
        return []
    return [n for n, p in declaration(chapter).params.items() if p.kind in MODEL_KINDS]


# --------------------------------------------------------------------------------------------- checking
def check(chapter: str | Declaration, values: dict, full: bool = True) -> dict:
    """Check names and types (and, with ``full``, every rule: ranges, model names, SimCSE overrides) of a
    chapter's parameters; returns them with ints coerced where floats are declared."""
    decl = chapter if isinstance(chapter, Declaration) else declaration(chapter)
    out = {}
    for name, value in values.items():
        if name not in decl.params:
            raise ParameterError(name, value, "this chapter has no such parameter; it has " + ", ".join(decl.params))
        p = decl.params[name]
        out[name] = p.check(name, value) if full else P.coerce(name, p.default, value)
    return out


def simcse_overrides(params: dict, *layers: dict, **knobs) -> dict:
    """A SimCSE run's overrides, later ones winning: the chapter's scale, PLM, data and device; each of ``layers``
    (e.g. a named schedule); the chapter's ``simcse`` dict; then ``knobs`` (the pooling and seed of one run, an
    ablation's setting). :func:`lib.science.training.resolve` turns them into the run's configuration."""
    out = dict(scale=params["scale"], model=params["plm"], data_dir=params["data_dir"], device=params["device"])
    for layer in (*layers, params.get("simcse", {}), knobs):
        out.update(layer)
    return out


def collect(chapter: str, namespace: dict) -> dict:
    """The chapter's parameters as the notebook sees them (its globals after the parameters cell and papermill's
    injected one), every rule checked: the first thing a chapter does, before any compute."""
    decl = declaration(chapter)
    return check(chapter, {name: namespace[name] for name in decl.params})
