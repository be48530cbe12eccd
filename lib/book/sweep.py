"""Sweeps: one chapter over the product of parameter grids, each point a papermill run in its own folder.

A point's folder is the chapter run's identity (:mod:`lib.book.identity`), so a point means the same run on every
machine and two points never share a folder. A point is *finished* when its folder holds ``sweep-point.json``
with status ``finished`` (written after the chapter ran to the end); re-issuing a sweep reuses finished points and
runs the others again -- the training runs a chapter needs resume from their checkpoints. A failing point is
recorded with its log and does not stop the others.

Engines: ``local`` runs up to ``workers`` points at once on this machine (each point's kernel and training are
processes of their own); ``submitit`` hands each point to submitit's executor -- a SLURM job array on a cluster
(``--cluster slurm``), or local processes (``--cluster local``, what the tests exercise).
"""

from __future__ import annotations

import itertools
import json
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..science.files import atomic_write_text
from ..science.params import ParameterError
from . import chapters, execute, identity

POINT_FILE = "sweep-point.json"
ENGINES = ("local", "submitit")


def parse_grid(texts: list[str], declared: dict) -> dict[str, list]:
    """``["temperature=0.05,0.1", "train_seeds=[[0],[1]]"]`` -> ``{"temperature": [0.05, 0.1], ...}``.

    Values are comma-separated and read like ``-p`` values; a value part that starts with ``[`` is read as a YAML
    list of values (for values that are lists themselves). Names and types are checked against the chapter.
    """
    grid = {}
    for text in texts:
        if "=" not in text:
            raise ParameterError("--grid", text, "expected name=v1,v2,..., e.g. --grid temperature=0.05,0.1")
        name, raw = (part.strip() for part in text.split("=", 1))
        if raw.startswith("["):
            values = yaml.safe_load(raw)
            if not isinstance(values, list):
                raise ParameterError("--grid", text, "a value part in brackets must be a YAML list of values")
        else:
            values = [chapters.parse_assignment(f"{name}={v}", declared)[1] for v in raw.split(",")]
        if "." in name:  # simcse.temperature=0.1,1: each value is a one-key dict, merged into the point's simcse
            values = [v if isinstance(v, dict) else {name.split(".", 1)[1]: v} for v in values]
        if not values:
            raise ParameterError("--grid", text, "expected at least one value")
        if name in grid:
            raise ParameterError("--grid", text, f"{name} is given twice")
        grid[name] = values
    return grid


def points(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values; ``simcse.*`` axes merge into one ``simcse`` dict per point."""
    names = list(grid)
    out = []
    for combo in itertools.product(*(grid[n] for n in names)):
        out.append(chapters.merge_assignments([(n.split(".", 1)[0], v) for n, v in zip(names, combo)]))
    return out


@dataclass
class Point:
    overrides: dict
    folder: Path
    status: str = "pending"  # pending | reused | ran | failed
    seconds: float = 0.0
    error: str = ""
    headlines: dict = field(default_factory=dict)


def point_folder(chapter: chapters.Chapter, scale: str | None, overrides: dict) -> Path:
    params = chapter.parameters(scale, overrides)
    return identity.run_dir(chapter.stem, chapter.effective(params))


def finished(folder: Path) -> dict | None:
    """The point's marker record when the point finished, else None."""
    marker = folder / POINT_FILE
    doc = json.loads(marker.read_text()) if marker.is_file() else {}
    return doc if doc.get("status") == "finished" else None


def run_point(source: str, scale: str | None, overrides: dict) -> dict:
    """Run one point (in this process): the chapter with ``overrides``; returns its marker record."""
    chapter = chapters.Chapter(Path(source))
    t0 = time.perf_counter()
    folder = point_folder(chapter, scale, overrides)
    try:
        out = execute.run(chapter, scale, overrides, progress=False)
        results = json.loads((out / "results.json").read_text())
        record = dict(
            status="finished",
            overrides=overrides,
            seconds=round(time.perf_counter() - t0, 1),
            headlines=results["metrics"].get("headlines", {}),
        )
    except Exception as err:  # recorded, not raised: one failing point must not stop the sweep
        log = getattr(err, "evalue", "") or traceback.format_exc(limit=3)
        record = dict(
            status="failed",
            overrides=overrides,
            seconds=round(time.perf_counter() - t0, 1),
            error=f"{err.__class__.__name__}: {log}"[-4000:],
            notebook=str(getattr(err, "notebook", folder / f"{chapter.stem}.ipynb")),
        )
    atomic_write_text(folder / POINT_FILE, json.dumps(record, indent=1) + "\n")
    return record


def sweep(
    chapter: chapters.Chapter,
    scale: str | None,
    grid: dict[str, list],
    workers: int = 1,
    engine: str = "local",
    cluster: str = "local",
    log=print,
) -> list[Point]:
    """Run every point of the grid that is not finished; return every point with its status."""
    if engine not in ENGINES:
        raise ParameterError("--engine", engine, "expected one of " + ", ".join(ENGINES))
    todo, out = [], []
    for overrides in points(grid):
        folder = point_folder(chapter, scale, overrides)  # checks names and types before anything runs
        point = Point(overrides, folder)
        doc = finished(folder)
        if doc:
            point.status = "reused"
            point.seconds, point.headlines = doc.get("seconds", 0.0), doc.get("headlines", {})
        else:
            todo.append(point)
        out.append(point)
    log(
        f"{chapter.stem}: {len(out)} point(s), {len(out) - len(todo)} finished before, {len(todo)} to run "
        f"({engine} engine, {workers} at a time)"
    )

    def settle(point: Point, record: dict):
        point.status = "ran" if record["status"] == "finished" else "failed"
        point.seconds, point.error = record["seconds"], record.get("error", "")
        point.headlines = record.get("headlines", {})
        log(
            f"  {point.status:>6}  {point.overrides}  {point.seconds:.0f} s"
            + (
                f"\n          {point.error.splitlines()[0] if point.error else ''}\n          log: "
                f"{record.get('notebook')}"
                if point.status == "failed"
                else ""
            )
        )

    if engine == "local":
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {pool.submit(run_point, str(chapter.source), scale, p.overrides): p for p in todo}
            for future, point in futures.items():
                settle(point, future.result())
    else:
        import submitit

        executor = submitit.AutoExecutor(folder=identity.runs_root() / "submitit" / chapter.stem, cluster=cluster)
        if cluster == "slurm":
            executor.update_parameters(slurm_array_parallelism=max(1, workers), timeout_min=24 * 60)
        jobs = [executor.submit(run_point, str(chapter.source), scale, p.overrides) for p in todo]
        for job, point in zip(jobs, todo):
            try:
                settle(point, job.result())
            except Exception as err:  # the job itself failed (not the chapter): record it the same way
                settle(
                    point,
                    dict(
                        status="failed",
                        seconds=0.0,
                        error=f"{err.__class__.__name__}: {err}"[-4000:],
                        notebook=str(point.folder),
                    ),
                )
    return out


def summary(points_: list[Point]) -> dict:
    return dict(
        points=len(points_),
        ran=sum(p.status == "ran" for p in points_),
        reused=sum(p.status == "reused" for p in points_),
        failed=sum(p.status == "failed" for p in points_),
    )
