"""Files that are never half-written, and hashes that identify what was read.

- :func:`atomic_write_text` / :func:`atomic_write_bytes`: readers see the old file or the whole new one.
- :func:`atomic_replace_dir`: a folder (a ``save_pretrained`` model) is swapped in whole, never left half-copied.
- :func:`sha256_file`, :func:`sha256_files`, :func:`state_dict_sha256`: content hashes of data and weights.
- :func:`json_safe`: numpy values to plain JSON values (NaN/inf to ``None``).
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable


# --------------------------------------------------------------------------------------------- writing
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` through a synced temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared like any file
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) so that readers see the old file or the whole new one, never half of it."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def staging_dir(target: str | os.PathLike) -> Path:
    """A fresh, empty folder beside ``target`` to write into before :func:`atomic_replace_dir`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent))
    staged.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; a model folder is meant to be shared like any folder
    return staged


def atomic_replace_dir(staged: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Make the fully written folder ``staged`` become ``target``.

    The old ``target`` is first renamed aside (``.<name>.old``), then ``staged`` renamed into place, then the old
    copy removed. A crash between the two renames leaves ``.<name>.old``, which :func:`recover_dir` puts back.
    """
    staged, target = Path(staged), Path(target)
    for f in staged.iterdir():  # the folder's files reach the disk before the rename makes them visible
        if f.is_file():
            with open(f, "rb") as handle:
                os.fsync(handle.fileno())
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def recover_dir(target: str | os.PathLike) -> None:
    """Undo what an interrupted :func:`atomic_replace_dir` or staging left beside ``target``."""
    target = Path(target)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        if target.exists():
            shutil.rmtree(old)
        else:
            os.replace(old, target)
    for staged in target.parent.glob(f".{target.name}.*.staging"):
        shutil.rmtree(staged, ignore_errors=True)


# --------------------------------------------------------------------------------------------- hashing
def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_files(paths: Iterable[str | os.PathLike]) -> str:
    """One hash over several files, by name and content (order-independent: sorted by name)."""
    digest = hashlib.sha256()
    for p in sorted(Path(p) for p in paths):
        digest.update(p.name.encode() + b"\0" + sha256_file(p).encode())
    return digest.hexdigest()


def state_dict_sha256(model) -> str:
    """A hash of a model's parameters and buffers, by name and exact bytes."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        digest.update(key.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def texts_sha256(texts: Iterable[str]) -> str:
    """A hash of exactly these sentences, in order (independent of where they were loaded from)."""
    digest = hashlib.sha256()
    for t in texts:
        digest.update(t.encode("utf-8") + b"\n")
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------- JSON
def json_safe(value):
    """JSON-safe: numpy scalars/arrays to Python, tuples to lists, NaN/inf to ``None``."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
