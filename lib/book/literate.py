"""The science on the page: a chapter shows the library's own source next to the paragraph and equation it
implements, so page and library cannot drift apart.

    from lib.book import literate
    from lib.science import simcse, geometry

    literate.show(simcse.contrastive_loss)                       # the function, with its docstring
    literate.show(geometry.intra_similarity, docstring=False)    # without the docstring
    literate.show(geometry.Geometry, part="per_layer")           # one method (or nested def / assignment) only
    literate.show("lib.science.geometry.mean_pairwise_cosine")   # by dotted name

The output is markdown: a caption naming the file (relative to the repository, e.g. ``lib/science/simcse.py``) and
the line numbers, then a ``python`` code fence that the book highlights. :func:`listing` returns the same as an
IPython ``Markdown`` object, :func:`source` the text and where it lives.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..science.provenance import REPO_ROOT


@dataclass(frozen=True)
class Source:
    qualname: str  # e.g. "contrastive_loss", "Geometry.per_layer"
    path: str  # relative to the repository (a module name when the file lies elsewhere)
    first: int  # first and last line shown, 1-based, in the file
    last: int
    code: str  # dedented, as shown
    docstring_removed: bool = False

    @property
    def caption(self) -> str:
        lines = f"line {self.first}" if self.first == self.last else f"lines {self.first}–{self.last}"
        note = ", docstring omitted" if self.docstring_removed else ""
        return f"`{self.path}`, {lines}: `{self.qualname}`{note}"

    def markdown(self, caption: str | None = None) -> str:
        fence = "````" if "```" in self.code else "```"
        head = f"*{caption}* — {self.caption}" if caption else self.caption
        return f"{head}\n\n{fence}python\n{self.code.rstrip()}\n{fence}\n"


def resolve(obj):
    """``obj`` itself, or the object a dotted name (``lib.science.simcse.contrastive_loss``) names."""
    if not isinstance(obj, str):
        return obj
    parts = obj.split(".")
    for i in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            target = getattr(target, attr)
        return target
    raise ImportError(f"nothing importable in {obj!r}")


def _relative(path: str, module: str) -> str:
    p = Path(path).resolve()
    try:
        return p.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return module  # never an absolute path of this machine


def _docstring_lines(node) -> tuple[int, int] | None:
    """1-based line span (relative to the parsed text) of ``node``'s docstring, or None."""
    body = getattr(node, "body", None)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return body[0].lineno, body[0].end_lineno
    return None


def _find_part(node, name: str):
    for child in getattr(node, "body", []):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child.name == name:
            return child
        if isinstance(child, (ast.Assign, ast.AnnAssign)):
            targets = child.targets if isinstance(child, ast.Assign) else [child.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return child
    raise ValueError(
        f"{getattr(node, 'name', '?')} has no part named {name!r} (a method, nested def or assignment in its body)"
    )


def source(obj, docstring: bool = True, part: str | None = None) -> Source:
    """The source of a function, class, method or module (or a dotted name); ``part``: only the method, nested
    def/class or assignment of that name in its body; ``docstring=False`` drops the (shown object's) docstring."""
    obj = resolve(obj)
    target = inspect.unwrap(obj)
    lines, start = inspect.getsourcelines(target)
    if start == 0:  # a module
        start = 1
    module = getattr(inspect.getmodule(target), "__name__", "?")
    path = _relative(inspect.getsourcefile(target) or "", module)
    text = textwrap.dedent("".join(lines))
    tree = ast.parse(text)
    node = tree if inspect.ismodule(target) else tree.body[0]
    qualname = getattr(target, "__qualname__", module)
    # decorators belong to what is shown, and getsourcelines already includes them
    first_rel, last_rel = 1, len(text.splitlines())
    if part is not None:
        node = _find_part(node, part)
        decorators = getattr(node, "decorator_list", [])
        first_rel = min([node.lineno] + [d.lineno for d in decorators])
        last_rel = node.end_lineno
        qualname = f"{qualname}.{part}"
    shown = text.splitlines()[first_rel - 1 : last_rel]
    removed = False
    if not docstring:
        span = _docstring_lines(node)
        if span:
            lo, hi = span[0] - first_rel, span[1] - first_rel
            shown = shown[:lo] + shown[hi + 1 :]
            removed = True
    code = textwrap.dedent("\n".join(shown))
    return Source(
        qualname=qualname,
        path=path,
        first=start + first_rel - 1,
        last=start + last_rel - 1,
        code=code,
        docstring_removed=removed,
    )


def markdown(obj, docstring: bool = True, part: str | None = None, caption: str | None = None) -> str:
    """The listing as markdown text: caption line, then a ``python`` fence."""
    return source(obj, docstring, part).markdown(caption)


def listing(obj, docstring: bool = True, part: str | None = None, caption: str | None = None):
    """The listing as an IPython ``Markdown`` object (a cell's last expression displays it)."""
    from IPython.display import Markdown

    return Markdown(markdown(obj, docstring, part, caption))


def show(obj, docstring: bool = True, part: str | None = None, caption: str | None = None) -> None:
    """Display the listing in the page: the library's real implementation, with file and line numbers.
    ``caption``: a few words saying what the reader is looking at (e.g. "Eq. 1, the InfoNCE loss")."""
    from IPython.display import display

    display(listing(obj, docstring, part, caption))
