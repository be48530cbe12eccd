"""Run identity: the same result gets the same name on every machine, and different parameter sets never share one.

A run is named ``<scale>-<hash>``, where the hash is over a *canonical description* of what determines its
numbers: every parameter, except that

- a model name (``model``, ``plm``, ``cl``, ``models``, ...) becomes the fingerprint of its weights (so a local
  folder is identified by its content, not its path);
- ``data_dir`` becomes the identity of the data mirror (the sha256 of its ``SHA256SUMS``), or ``hub``;
- ``device`` becomes the kind of device that computes (``cpu`` / ``cuda``), since that changes the floating point;
- ``out_dir`` is left out (it is where the run goes, not what it is).

Runs live under ``$SRL_OUT_DIR`` when it is set, else under ``runs/`` in the checkout:
``<root>/<chapter>/<scale>-<hash>`` for chapters, ``<root>/train/<objective>-<scale>-<hash>`` for training runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from ..science import data, devices, models
from ..science.files import json_safe
from ..science.provenance import REPO_ROOT

ENV_OUT_DIR = "SRL_OUT_DIR"
MODEL_PARAMS = ("model", "plm", "cl", "init", "models", "extra_models")
DROPPED = ("out_dir",)


@functools.lru_cache(maxsize=64)
def _fingerprint(name: str, stamp: tuple) -> str:
    return models.fingerprint(name)


def model_identity(name: str) -> str:
    """The weights' fingerprint (memoised per folder state), or the name for what cannot be resolved (so that a
    bad name still gets a run name and fails with its own clear error inside the run)."""
    if not isinstance(name, str) or not name:
        return str(name)
    try:
        spec = models.resolve(name)
    except Exception:
        return f"unresolved:{name}"
    files = models.weight_files(spec.path) if spec.path else []
    stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    return _fingerprint(name if spec.kind in ("builtin", "hub") else spec.path, stamp)


def canonical(params: dict) -> dict:
    """What determines a run's numbers, with machine-specific names replaced by content identities."""
    out = {}
    for key, value in sorted(params.items()):
        if key in DROPPED:
            continue
        if key in MODEL_PARAMS:
            value = [model_identity(v) for v in value] if isinstance(value, (list, tuple)) else model_identity(value)
        elif key == "data_dir":
            try:
                value = data.mirror_identity(value)
            except Exception:
                value = f"unresolved:{value}"
        elif key == "device":
            try:
                value = devices.device_kind(devices.resolve_device(value))
            except Exception:
                value = f"unresolved:{value}"
        out[key] = json_safe(value)
    return out


def digest(params: dict, length: int = 12) -> str:
    blob = json.dumps(canonical(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def runs_root() -> Path:
    env = os.environ.get(ENV_OUT_DIR)
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "runs"


def run_name(params: dict) -> str:
    return f"{params.get('scale', 'run')}-{digest(params)}"


def run_dir(chapter: str, params: dict, out_dir: str = "") -> Path:
    """Where a chapter run with ``params`` goes: ``out_dir`` when given, else ``<root>/<chapter>/<scale>-<hash>``."""
    if out_dir:
        return Path(out_dir).expanduser().resolve()
    return runs_root() / chapter / run_name(params)


def train_dir(objective: str, params: dict) -> Path:
    """Where the training run with these parameters lives (and is reused from): ``<root>/train/...``."""
    return runs_root() / "train" / f"{objective}-{run_name(params)}"
