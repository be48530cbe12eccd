"""STS evaluation sets and the Wikipedia sentence corpus: from a local mirror first, else from the hub.

A *mirror* is a folder with the layout of the project's shared data folder (``sts/test.tsv``,
``sts12-16/STS12.tsv``, ``sickr/test.tsv``, ``corpus/wiki_sentences.txt.gz`` ... and a ``SHA256SUMS`` file).
It is chosen by the ``data_dir`` parameter, else by the environment variable ``SRL_DATA_DIR``; with neither,
data comes from the Hugging Face hub. Every mirror file is checked against ``SHA256SUMS`` before it is used.
When the data is neither in a mirror nor reachable on the hub, one error says so at once, naming both ways to
provide it -- there is no hub retry loop. ``python -m lib.data_mirror`` builds a mirror from the hub
(:func:`write_sums`, :func:`write_lines_gz` write its checksums and corpus); ``tests/fixture_data`` is a small one
for the tests.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlparse

from .files import sha256_file, texts_sha256  # noqa: F401  (texts_sha256: re-exported for chapters)
from .params import ParameterError

ENV_DATA_DIR = "SRL_DATA_DIR"


class DataUnavailable(RuntimeError):
    """The requested data is in no configured mirror and the hub cannot be reached."""


class ChecksumMismatch(RuntimeError):
    """A mirror file does not match its ``SHA256SUMS`` entry."""


@dataclass(frozen=True)
class Source:
    """Where one dataset lives: its mirror files per split, and its hub counterpart."""

    mirror: dict[str, str]  # split -> path inside the mirror
    hub_id: str
    hub_splits: dict[str, str]  # our split name -> the hub's split name (or file name, for the corpus)
    score_scale: float = 1.0  # multiply the hub's score by this to match the mirror (0-5 scale)
    description: str = ""


def _sts(year: int) -> Source:
    return Source(
        {"test": f"sts12-16/STS{year}.tsv"},
        f"mteb/sts{year}-sts",
        {"test": "test"},
        description=f"SemEval STS 20{year} English test sets (all subsets)",
    )


DATASETS: dict[str, Source] = {
    "stsb": Source(
        {s: f"sts/{s}.tsv" for s in ("train", "dev", "test")},
        "sentence-transformers/stsb",
        {"train": "train", "dev": "validation", "test": "test"},
        score_scale=5.0,
        description="STS Benchmark (raw text)",
    ),
    **{f"sts{y}": _sts(y) for y in (12, 13, 14, 15, 16)},
    "sickr": Source(
        {s: f"sickr/{s}.tsv" for s in ("train", "dev", "test")},
        "mteb/sickr-sts",
        {"test": "test"},
        description="SICK relatedness",
    ),
    "wiki": Source(
        {"train": "corpus/wiki_sentences.txt.gz"},
        "princeton-nlp/datasets-for-simcse",
        {"train": "wiki1m_for_simcse.txt"},
        description="English Wikipedia sentences, one per line (SimCSE's wiki1m; the mirror holds a "
        "same-size stand-in)",
    ),
}
SPLIT_ALIASES = {"validation": "dev", "valid": "dev"}


@dataclass
class Table:
    """A loaded split: its columns, where it came from and a hash of the exact file or rows used."""

    dataset: str
    split: str
    columns: dict[str, list] = field(repr=False)
    source: str
    sha256: str

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


# --------------------------------------------------------------------------------------------- where is data
def mirror_dir(data_dir: str | os.PathLike | None = "") -> Path | None:
    """The mirror folder chosen by ``data_dir``, else ``$SRL_DATA_DIR``; ``None`` means "use the hub"."""
    chosen, origin = (data_dir, "data_dir") if data_dir else (os.environ.get(ENV_DATA_DIR, ""), ENV_DATA_DIR)
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        what = (
            f"parameter `data_dir` = {str(chosen)!r}"
            if origin == "data_dir"
            else f"environment variable {ENV_DATA_DIR} = {str(chosen)!r}"
        )
        raise DataUnavailable(
            f"{what} is not a folder (working directory: {Path.cwd()}). Give the path of a "
            f"data mirror with the layout of shared/data (it holds SHA256SUMS, sts/, "
            f"sts12-16/, sickr/, corpus/), preferably as an absolute path, or leave it empty "
            f"to load from the Hugging Face hub."
        )
    return path.resolve()


def hub_offline() -> bool:
    """Whether the user switched the hub off (``HF_HUB_OFFLINE``): then only the local HF cache may be used."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_unreachable_reason() -> str | None:
    """Why the hub cannot be reached right now, or ``None`` when it can (one 3-second check, no retry loop).

    Behind a proxy the check is skipped (the libraries then go through the proxy and report their own errors).
    """
    if hub_offline():
        return "the Hugging Face hub is switched off (HF_HUB_OFFLINE is set)"
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as err:
        return f"the Hugging Face hub ({host}:{port}) cannot be reached ({err.__class__.__name__})"
    return None


# --------------------------------------------------------------------------------------------- checksums
_VERIFIED: dict[tuple, str] = {}


def expected_sums(root: Path) -> dict[str, str]:
    """The mirror's ``SHA256SUMS`` as ``{relative path: hex digest}``."""
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        raise DataUnavailable(
            f"the data mirror {root} has no SHA256SUMS file, so its files cannot be checked; "
            f"add one (`sha256sum` lines, paths relative to the mirror) or use the hub."
        )
    out = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.strip().lstrip("*").removeprefix("./")] = digest.lower()
    return out


def write_sums(root: Path) -> Path:
    """Write ``root/SHA256SUMS`` over every other file under ``root`` (``sha256sum`` lines, ``./``-relative paths,
    sorted by path): the file :func:`expected_sums` reads and :func:`mirror_identity` hashes."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{sha256_file(root / name)}  ./{name}\n" for name in files]
    (root / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return root / "SHA256SUMS"


def verified(root: Path, relpath: str) -> tuple[Path, str]:
    """Path and hash of a mirror file after checking it against ``SHA256SUMS`` (memoised per file state)."""
    path = root / relpath
    if not path.is_file():
        raise DataUnavailable(
            f"the data mirror {root} has no file {relpath}. Repair the mirror (it should have "
            f"the layout of shared/data), or unset {ENV_DATA_DIR} / data_dir to load from the "
            f"Hugging Face hub."
        )
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        expected = expected_sums(root).get(relpath)
        if expected is None:
            raise DataUnavailable(f"{relpath} is not listed in {root / 'SHA256SUMS'}; cannot check it.")
        actual = sha256_file(path)
        if actual != expected:
            raise ChecksumMismatch(
                f"{path} is corrupted: its sha256 is {actual}, SHA256SUMS says {expected}. "
                f"Restore the file from the original mirror; it was not used."
            )
        _VERIFIED[key] = actual
    return path, _VERIFIED[key]


# --------------------------------------------------------------------------------------------- readers
def read_tsv(path: Path) -> dict[str, list]:
    """A header-first, tab-separated, unquoted file as columns; ``score`` becomes float."""
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in handle if line.strip("\n")]
    cols = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    if "score" in cols:
        cols["score"] = [float(v) for v in cols["score"]]
    return cols


def read_lines(path: Path, limit: int | None = None) -> list[str]:
    """One sentence per line (gzip or plain text); the first ``limit`` lines when given."""
    opener: Callable = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(out) >= limit:
                break
            out.append(line.rstrip("\n"))
    return out


def write_lines_gz(path: Path, lines: Iterable[str]) -> Path:
    """One line per item, UTF-8, ``\\n``-terminated, gzip-compressed reproducibly (no name or time in the header,
    level 9): the same lines give the same bytes, and so the same ``SHA256SUMS``, with the same zlib."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as out:
        for line in lines:
            out.write(line.encode("utf-8") + b"\n")
    return path


def _rows_sha256(columns: dict[str, list]) -> str:
    digest = hashlib.sha256()
    for name in sorted(columns):
        digest.update(name.encode())
        for value in columns[name]:
            digest.update(b"\x1f" + str(value).encode("utf-8"))
    return digest.hexdigest()


def _from_hub(name: str, src: Source, split: str, limit: int | None) -> tuple[dict[str, list], str]:
    import datasets  # imported lazily: loading from the mirror does not need it

    hub_split = src.hub_splits[split]
    if name == "wiki":
        from huggingface_hub import hf_hub_download

        path = Path(hf_hub_download(src.hub_id, hub_split, repo_type="dataset"))
        return {"text": read_lines(path, limit)}, f"hub:{src.hub_id}/{hub_split}"
    ds = datasets.load_dataset(src.hub_id, split=hub_split)
    cols = {c: list(ds[c]) for c in ds.column_names}
    if "score" in cols and src.score_scale != 1.0:
        cols["score"] = [float(v) * src.score_scale for v in cols["score"]]
    return cols, f"hub:{src.hub_id}[{hub_split}]"


def load(name: str, split: str = "test", data_dir: str | os.PathLike | None = "", limit: int | None = None) -> Table:
    """Load one split of a dataset, from the mirror when one is configured, else from the hub.

    ``limit`` keeps the first rows only (the corpus is shuffled, so its first lines are a random sample).
    """
    if name not in DATASETS:
        raise ParameterError("dataset", name, "expected one of " + ", ".join(repr(d) for d in DATASETS))
    src = DATASETS[name]
    split = SPLIT_ALIASES.get(split, split)
    if split not in src.mirror:
        raise ParameterError(
            "split", split, f"dataset {name!r} has the splits " + ", ".join(repr(s) for s in src.mirror)
        )
    root = mirror_dir(data_dir)
    if root is not None:
        path, digest = verified(root, src.mirror[split])
        cols = {"text": read_lines(path, limit)} if name == "wiki" else read_tsv(path)
        source = f"mirror:{src.mirror[split]}"
    else:
        if split not in src.hub_splits:
            raise DataUnavailable(
                f"the hub copy of {name!r} ({src.hub_id}) has no {split!r} split; use a local "
                f"mirror (set {ENV_DATA_DIR} or pass data_dir) for it."
            )
        reason = hub_unreachable_reason()
        unavailable = DataUnavailable(
            f"dataset {name!r} (split {split!r}) is not available: no local data mirror is configured and "
            f"{reason}{' and it is not in the local Hugging Face cache' if hub_offline() else ''}. Provide it "
            f"either way: (1) point the project at a local mirror with the layout of shared/data -- set the "
            f"environment variable {ENV_DATA_DIR}=/path/to/data, or pass the parameter data_dir='/path/to/data'; "
            f"`python -m lib.data_mirror --out DIR` builds one from the hub, and tests/fixture_data is a small one "
            f"for smoke runs -- or (2) go online (unset HF_HUB_OFFLINE) so that it loads from the hub as "
            f"{src.hub_id!r}."
        )
        if reason and not hub_offline():
            raise unavailable
        try:  # online; or offline with HF_HUB_OFFLINE set, where the libraries read their cache and never retry
            cols, source = _from_hub(name, src, split, limit)
        except Exception as err:
            if reason:
                raise unavailable from err
            raise
        digest = ""
    if limit is not None:
        cols = {k: v[:limit] for k, v in cols.items()}
    return Table(name, split, cols, source, digest or _rows_sha256(cols))


def sentences(table: Table, column: str, limit: int = 0) -> list[str]:
    """The strings of one column (the first ``limit`` when ``limit`` > 0)."""
    from .params import column as check_column

    check_column("column", column, table.columns)
    values = table.columns[column]
    return list(values[:limit] if limit else values)


def source_identity(name: str, split: str = "train", data_dir: str | os.PathLike | None = "") -> str:
    """What identifies one dataset file without reading it: its sha256 as the mirror's ``SHA256SUMS`` lists it
    (the file itself is checked when it is read), or its hub id."""
    src = DATASETS[name]
    root = mirror_dir(data_dir)
    if root is None:
        return f"hub:{src.hub_id}/{src.hub_splits.get(split, split)}"
    expected = expected_sums(root).get(src.mirror[split])
    if expected is None:
        raise DataUnavailable(f"{src.mirror[split]} is not listed in {root / 'SHA256SUMS'}; cannot check it.")
    return expected


def mirror_identity(data_dir: str | os.PathLike | None = "") -> str:
    """What identifies the data a run reads, independent of where the mirror lies: the sha256 of the mirror's
    ``SHA256SUMS`` (which pins every file in it), or ``hub`` when no mirror is configured."""
    root = mirror_dir(data_dir)
    if root is None:
        return "hub"
    if not (root / "SHA256SUMS").is_file():
        expected_sums(root)  # raises the clear error
    return "mirror:" + sha256_file(root / "SHA256SUMS")
