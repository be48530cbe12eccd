"""Run a chapter over the product of parameter grids, resumably, in one command.

    python -m lib.sweep 05_learning_dynamics --scale pocket --grid simcse.temperature=0.001,0.01,0.05,0.1,1 \\
        --grid 'train_seeds=[[0]]' --workers 1
    python -m lib.sweep 03 --scale smoke --grid 'poolings=[[cls],[avg]]' --grid 'train_seeds=[[0],[1]]' --workers 2
    python -m lib.sweep 05 --scale paper --grid simcse.batch_size=64,128,256,512 --engine submitit --cluster slurm

Each point is one papermill run of the chapter with its own run folder and results.json (named by the run's
identity, under $SRL_OUT_DIR when it is set). Re-issuing the command reuses finished points and resumes the others
(training runs resume from their checkpoints); a failing point is reported with its log and does not stop the
rest. Prints a summary table; the last line is one JSON object with keys points, ran, reused, failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .book import chapters
from .book import sweep as sweeps
from .science.params import SCALES, ParameterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.sweep",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("chapter", help="chapter number or name, e.g. 05 or 05_learning_dynamics")
    parser.add_argument("--scale", choices=SCALES, help="the chapter's preset for this scale, under every point")
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="values of one parameter; repeatable (the sweep is the product of the grids)",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="points run at once (default: one per two CPU cores, or one per GPU)"
    )
    parser.add_argument("--engine", default="local", choices=sweeps.ENGINES)
    parser.add_argument("--cluster", default="local", help="submitit's cluster: slurm, local or debug")
    args = parser.parse_args(argv)
    try:
        chapter = chapters.find(args.chapter)
        if not args.grid:
            raise ParameterError("--grid", "", "give at least one grid, e.g. --grid temperature=0.05,0.1")
        grid = sweeps.parse_grid(args.grid, chapter.declared())
        workers = args.workers or default_workers()
        if workers < 1:
            raise ParameterError("--workers", workers, "expected a positive number")
        result = sweeps.sweep(chapter, args.scale, grid, workers, args.engine, args.cluster)
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    names = list(grid)
    print()
    print(" | ".join([*names, "status", "seconds", "headline"]))
    for p in result:
        headline = (
            "; ".join(p.headlines.values())[:90] if p.headlines else p.error.splitlines()[0][:90] if p.error else ""
        )
        print(" | ".join([*(json.dumps(p.overrides[n]) for n in names), p.status, f"{p.seconds:.0f}", headline]))
    print(json.dumps(sweeps.summary(result)))
    return 1 if any(p.status == "failed" for p in result) else 0


def default_workers() -> int:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.device_count()
    except ImportError:  # pragma: no cover
        pass
    return max(1, (os.cpu_count() or 2) // 2)


if __name__ == "__main__":
    sys.exit(main())
