"""Run identity: the same result gets the same name on every machine, and different parameter sets never share one.

A run is named ``<scale>-<hash>``, where the hash is over a *canonical description* of what determines its
numbers: every parameter, except that

- a model name (a training run's ``model``; a chapter's parameters declared as models in
  :mod:`lib.book.parameters`) becomes the fingerprint of its weights (a local folder is identified by its
  content, not its path; a hub id by its id);
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
DROPPED = ("out_dir",)
# parameters declared after runs were first named: left out at these values, so those runs keep their names
LATER_DEFAULTS = {"stop_step": 0}


@functools.lru_cache(maxsize=64)
def _identify(name: str, stamp: tuple) -> str:
    return models.identify(name)


def model_identity(name: str) -> str:
    """The weights' fingerprint (memoised per folder state; no network: :func:`lib.science.models.identify`)."""
    if not isinstance(name, str) or not name:
        return str(name)
    folder = Path(name).expanduser()
    files = models.weight_files(folder) if folder.is_dir() else []
    stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    return _identify(str(folder.resolve()) if folder.is_dir() else name, stamp)


def canonical(params: dict, model_keys=("model",)) -> dict:
    """What determines a run's numbers, with machine-specific names replaced by content identities: the models
    named by ``model_keys`` by their weights, ``data_dir`` by the mirror, ``device`` by its kind. A value that
    cannot be identified (a data folder that is no mirror, an absent GPU) raises the parameter's error: runs are
    named after their parameters are checked."""
    out = {}
    for key, value in sorted(params.items()):
        if key in DROPPED or (key in LATER_DEFAULTS and value == LATER_DEFAULTS[key]):
            continue
        if key in model_keys:
            value = [model_identity(v) for v in value] if isinstance(value, (list, tuple)) else model_identity(value)
        elif key == "data_dir":
            value = data.mirror_identity(value)
        elif key == "device":
            value = devices.device_kind(devices.resolve_device(value))
        out[key] = json_safe(value)
    return out


def digest(params: dict, model_keys=("model",), length: int = 12) -> str:
    blob = json.dumps(canonical(params, model_keys), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def runs_root() -> Path:
    env = os.environ.get(ENV_OUT_DIR)
    return Path(env).expanduser().resolve() if env else REPO_ROOT / "runs"


def run_name(params: dict, model_keys=("model",)) -> str:
    return f"{params.get('scale', 'run')}-{digest(params, model_keys)}"


def run_dir(chapter: str, params: dict, out_dir: str = "") -> Path:
    """Where a chapter run with ``params`` (all of them) goes: ``out_dir`` when given, else
    ``<root>/<chapter>/<scale>-<hash>``, the models named by the chapter's declaration."""
    from .parameters import model_params

    if out_dir:
        return Path(out_dir).expanduser().resolve()
    return runs_root() / chapter / run_name(params, model_params(chapter))


def train_dir(objective: str, params: dict) -> Path:
    """Where the training run with these (resolved) parameters lives and is reused from: ``<root>/train/...``."""
    return runs_root() / "train" / f"{objective}-{run_name(params)}"
