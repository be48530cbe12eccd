"""Docs that run: every ``python -m lib...`` command in the README, the book's hand-written pages and the library's
docstrings names a command that exists, chapters that exist, and parameters the chapter (or the training engine)
declares, with values of the declared type. Nothing is trained or executed: the commands are parsed and checked
against the declarations."""

import re
import shlex

import pytest

from lib.book import chapters, sweep
from lib.science import training
from lib.science.params import SCALES
from lib.science.provenance import REPO_ROOT

COMMAND = re.compile(r"python -m (lib(?:\.[a-z_]+)+)((?:[ \t]+[^\s#`]+)*)")
SOURCES = [
    REPO_ROOT / "README.md",
    *sorted((REPO_ROOT / "book").glob("*.md")),
    *sorted((REPO_ROOT / "lib").rglob("*.py")),
]


def commands() -> list[tuple[str, str, list[str]]]:
    out = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8").replace("\\\\\n", " ").replace("\\\n", " ")
        for line in text.splitlines():
            if "prog=" in line or 'f"' in line or "f'" in line:
                continue
            for module, rest in COMMAND.findall(line):
                try:
                    args = shlex.split(rest)
                except ValueError:
                    args = rest.split()
                out.append((path.relative_to(REPO_ROOT).as_posix(), module, args))
    return out


COMMANDS = commands()


def test_the_docs_have_commands_to_check():
    modules = {m for _, m, _ in COMMANDS}
    assert {"lib.run", "lib.train", "lib.sweep", "lib.sts", "lib.book.plan", "lib.data_mirror"} <= modules


def _options(args: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    positional, options, i = [], {}, 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and "=" in a:
            options.setdefault(a.split("=")[0], []).append(a.split("=", 1)[1])
        elif a.startswith("-") and i + 1 < len(args) and not args[i + 1].startswith("-"):
            options.setdefault(a, []).append(args[i + 1])
            i += 1
        elif a.startswith("-"):
            options.setdefault(a, []).append("")
        else:
            positional.append(a)
        i += 1
    return positional, options


@pytest.mark.parametrize("where,module,args", COMMANDS, ids=[f"{w}: {m} {' '.join(a)}" for w, m, a in COMMANDS])
def test_every_documented_command_parses_against_the_declarations(where, module, args):
    import importlib

    mod = importlib.import_module(module)
    assert hasattr(mod, "main"), f"{where}: `python -m {module}` has no main()"
    if not args:
        return  # the command named in prose
    positional, options = _options(args)
    for scale in options.get("--scale", []):
        assert scale in SCALES, f"{where}: --scale {scale}"
    if module in ("lib.run", "lib.sweep"):
        if not positional:
            return  # --list
        chapter = chapters.find(positional[0])
        declared = chapter.declared()
        pairs = [chapters.parse_assignment(p, declared) for p in options.get("-p", [])]
        chapter.parameters(None, chapters.merge_assignments(pairs))  # names and types
        if module == "lib.sweep":
            grid = sweep.parse_grid(options.get("--grid", []), declared)
            assert grid, f"{where}: a sweep without a grid"
    elif module == "lib.train":
        assert positional and positional[0] in training.OBJECTIVES, f"{where}: {positional}"
        known = {name for name, _, _ in training.describe(positional[0])}
        for assignment in options.get("-p", []):
            name = assignment.split("=", 1)[0]
            assert name in known, f"{where}: {name} is not a {positional[0]} parameter"
        assert "--out_dir" in options or "--list" in options, f"{where}: lib.train needs --out_dir"
    elif module == "lib.book.plan":
        for name in positional:
            chapters.find(name)
    elif module == "lib.sts":
        assert "--model" in options and "--pooling" in options
    elif module == "lib.data_mirror":
        assert "--out" in options
