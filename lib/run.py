"""Rerun a chapter with other parameters, in one command.

    python -m lib.run 01 --scale smoke
    python -m lib.run 01_geometry_table -p model=bert-base-uncased -p seeds=[0,1,2] -p device=cuda
    python -m lib.run 01 --publish          # refresh the published page and its results.json
    python -m lib.run --list                # chapters, their findings, scales and parameters

``--scale`` first applies the chapter's preset for that scale; ``-p`` values override it (read as YAML, except for
string parameters, which keep the text as typed). Parameter names and types are checked against the chapter's
parameters cell before anything runs. Each run writes, into its folder (``runs/<chapter>/<scale>-<hash>``, or
``$SRL_OUT_DIR/<chapter>/<scale>-<hash>``, or ``-p out_dir=...``; the hash identifies what determines the
numbers, see lib/book/identity.py), the executed notebook -- saved after every cell, so an interrupted run keeps
what it did -- and the chapter's ``results.json``.
"""

from __future__ import annotations

import argparse
import sys

from papermill.exceptions import PapermillExecutionError

from .book import chapters, execute
from .science.params import SCALES, ParameterError
from .science.provenance import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.run",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("chapter", nargs="?", help="chapter number or name, e.g. 01 or 01_geometry_table")
    parser.add_argument("--scale", choices=SCALES, help="apply the chapter's preset for this scale first")
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter (value read as YAML); repeatable",
    )
    parser.add_argument("--publish", action="store_true", help="rerun with defaults and refresh the published page")
    parser.add_argument("--list", action="store_true", help="list the chapters and their parameters")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        if args.list or not args.chapter:
            for chapter in chapters.all_chapters():
                print(
                    f"{chapter.stem}  findings {', '.join(chapter.findings)}  scales: {', '.join(chapter.scales)}"
                    f"  (published: {chapter.published_scale}, CI: {chapter.ci_scale})"
                )
                for name, p in chapter.declaration.params.items():
                    print(f"    {name} = {p.default!r}  # {p.help}")
            return 0
        chapter = chapters.find(args.chapter)
        if args.publish:
            if args.param or args.scale:
                raise ParameterError(
                    "--publish",
                    " ".join(args.param),
                    "publishing runs the chapter's defaults; "
                    "drop -p/--scale, or change the defaults in the chapter itself",
                )
            print(f"published {execute.publish(chapter, progress=not args.quiet).relative_to(REPO_ROOT)}")
            return 0
        declared = chapter.declared()
        overrides = chapters.merge_assignments([chapters.parse_assignment(p, declared) for p in args.param])
        out_dir = execute.run(chapter, args.scale, overrides, progress=not args.quiet)
        print(f"results: {out_dir / 'results.json'}")
        return 0
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except PapermillExecutionError as err:  # names the failing cell; the notebook is saved up to it
        print(
            f"error: the chapter failed: {err.ename}: {err.evalue}\n"
            f"the notebook, executed up to the failing cell: {getattr(err, 'notebook', '?')}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
