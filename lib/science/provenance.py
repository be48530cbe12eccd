"""What a result was computed with: library versions, the git commit, the device, the wall clock.

Nothing here names a path of the machine it ran on.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("torch", "transformers", "tokenizers", "numpy", "scipy", "datasets", "altair", "papermill", "jupytext")


# what publishing writes (see git_state); everything else tracked is an input
OUTPUTS = ("book/*.ipynb", "book/results", "book/scorecard.md", "book/_findings.md")


def git_state() -> dict:
    """The checkout's commit and whether tracked files have uncommitted changes. The book's published outputs (the
    executed notebooks, their results.json and the generated pages) are products, not inputs, so publishing one
    chapter does not make the next one's provenance dirty. Where the code runs from a copy of the checkout (a lent
    GPU machine), ``SRL_GIT_COMMIT`` names the commit the copy was made from."""
    if os.environ.get("SRL_GIT_COMMIT"):  # a copy's own .git, if it has one, may be stale
        return dict(commit=os.environ["SRL_GIT_COMMIT"], dirty=None)

    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", *(f":!{p}" for p in OUTPUTS))
    except (OSError, subprocess.SubprocessError):
        return dict(commit="unknown", dirty=None)
    if head.returncode != 0:
        return dict(commit="unknown", dirty=None)
    return dict(commit=head.stdout.strip(), dirty=bool(dirty.stdout.strip()))


def version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def library_versions() -> dict:
    return {"python": platform.python_version(), **{name: version(name) for name in LIBRARIES}}


def device_info(device: str) -> dict:
    import torch

    info = dict(
        device=device, torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count(), machine=platform.machine()
    )
    if str(device).startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


class Clock:
    """Wall time of a run, from when it was created."""

    def __init__(self):
        self.started = datetime.now(timezone.utc)
        self._t0 = time.perf_counter()

    @property
    def started_at(self) -> str:
        return self.started.isoformat(timespec="seconds")

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0


def environment(device: str, clock: Clock | None = None) -> dict:
    """Libraries, commit, device and (with a clock) start time and wall time, as recorded in every result."""
    out = dict(libraries=library_versions(), git=git_state(), device=device_info(device))
    if clock is not None:
        out.update(started_at=clock.started_at, wall_time_s=round(clock.elapsed(), 2))
    return out
