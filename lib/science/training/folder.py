"""A training run's folder: its lock, its record (``train.json``), its checkpoint and its model folders.

- ``train.json`` is rewritten (atomically) as the run goes: status, step, params, schedule, evaluations,
  snapshots, final, throughput, provenance.
- ``checkpoint.pt`` holds everything a resume needs (model, optimiser, scheduler, gradient scaler, the
  :class:`~lib.science.training.loop.TrainState`), written atomically: a half-written one is never read.
- ``best/`` and ``last/`` are ``save_pretrained`` folders, replaced atomically.
- ``.lock``: one process trains a folder at a time. A second one waits for it (and then finds the run finished
  or resumes it) or, with ``wait=False``, stops with a message naming the process that holds it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

import torch

from .. import files

STATUS_FILE, CHECKPOINT, LOCK = "train.json", "checkpoint.pt", ".lock"


class TrainingError(RuntimeError):
    """The run cannot go on (another process holds the folder; it holds a run with other parameters)."""


def read_status(out_dir: str | os.PathLike) -> dict | None:
    path = Path(out_dir) / STATUS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_status(out_dir: Path, doc: dict) -> None:
    files.atomic_write_text(out_dir / STATUS_FILE, json.dumps(files.json_safe(doc), indent=1) + "\n")


def load_checkpoint(out_dir: Path) -> dict | None:
    """The folder's checkpoint, None without one; a checkpoint that cannot be read (truncated, corrupt) stops with
    one :class:`TrainingError` naming it and what to do."""
    path = out_dir / CHECKPOINT
    if not path.is_file():
        return None
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError ... for a damaged file
        raise TrainingError(
            f"{path} cannot be read ({err.__class__.__name__}: {str(err).splitlines()[0] if str(err) else 'empty'}); "
            f"it was damaged after it was written (checkpoints are written atomically). Delete it to train this "
            f"run again from step 0, or restore it from a copy"
        ) from None
    if not isinstance(checkpoint, dict) or "step" not in checkpoint:
        raise TrainingError(f"{path} is not a checkpoint of this engine; delete it to train the run from step 0")
    return checkpoint


def save_checkpoint(out_dir: Path, checkpoint: dict) -> None:
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    files.atomic_write_bytes(out_dir / CHECKPOINT, buffer.getvalue())


def export(save, target: Path) -> Path:
    """``save(folder)`` into a staging folder, then atomically in place of ``target``."""
    from ..models import quiet_progress

    staged = files.staging_dir(target)
    with quiet_progress():
        save(staged)
    return files.atomic_replace_dir(staged, target)


@contextlib.contextmanager
def locked(out_dir: Path, wait: bool = True, say=None):
    """Hold ``out_dir``'s lock inside the block (creating the folder). Another holder makes this wait, or raise
    :class:`TrainingError` when ``wait`` is False. A folder this call created is removed again when the block
    fails before anything but the lock was written."""
    import fcntl

    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    handle = open(out_dir / LOCK, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            if not wait:
                raise TrainingError(f"{out_dir} is being trained by {holder}; wait for it, or use another out_dir")
            (say or (lambda m: print(m, file=sys.stderr)))(
                f"{out_dir.name}: {holder} is training this run; waiting for it to finish"
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        try:
            yield out_dir
        except BaseException:
            if created and {p.name for p in out_dir.iterdir()} <= {LOCK}:
                shutil.rmtree(out_dir, ignore_errors=True)
            raise
    finally:
        handle.close()
