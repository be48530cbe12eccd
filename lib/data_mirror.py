"""Build a data mirror from the Hugging Face hub, in one command.

    python -m lib.data_mirror --out DIR        # then: export SRL_DATA_DIR=DIR  (or make mirror DIR=...)

It downloads what the loaders know (:data:`lib.science.data.DATASETS`): STS-B from ``sentence-transformers/stsb``,
STS12-16 from ``mteb/sts12-sts`` ... ``mteb/sts16-sts``, SICK-R from ``mteb/sickr-sts``, SimCSE's corpus
``wiki1m_for_simcse.txt`` from ``princeton-nlp/datasets-for-simcse``, and ``bert-base-uncased``'s vocabulary; and
writes them in the mirror's layout and formats: UTF-8, ``\\n`` line endings, TSV with a header line and no quoting,
scores as ``repr(float(score))``, STS12-16 with a ``subset`` column, pairs with an empty gold score dropped, the
corpus gzipped, and a ``SHA256SUMS`` over every file.

Two steps: :func:`fetch` talks to the hub (through a :class:`Hub`), :func:`convert` is a pure function of what was
fetched (the tests feed it local stand-ins shaped like the hub's files). :func:`build` writes into a staging folder
beside ``DIR``, loads every file back through :func:`lib.science.data.load` (which checks it against
``SHA256SUMS``), and only then moves the folder into place: a failure leaves nothing behind.

The corpus is SimCSE's real wiki1m, not the same-size stand-in of the mirror the published pages used, and MTEB's
copies of the STS sets are not SentEval's files row for row: numbers, and run names (which hash ``SHA256SUMS``),
differ from the published pages.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .science import data
from .science.files import staging_dir

VOCAB_REPO, VOCAB_FILE, VOCAB_PATH = "bert-base-uncased", "vocab.txt", "tokenizer/bert-base-uncased-vocab.txt"
SPECIAL_IDS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}
VOCAB_SIZE = 30522
SHUFFLE_SEED = 42
ALTERNATIVES = (
    "Nothing was written. Other ways to the data: copy an existing data mirror (such as the project's shared/data) "
    "and set SRL_DATA_DIR to it, or run this command where huggingface.co is reachable, with HF_HUB_OFFLINE unset; "
    "`make test` needs no "
    "mirror (it uses the fixture in tests/fixture_data)."
)


class MirrorError(RuntimeError):
    """The mirror cannot be built; the message says why and what to do."""


@dataclass
class Fetched:
    """What the hub gave: each table's columns as the hub names them, the corpus and vocabulary files, and the
    revision (commit) of each repository read."""

    tables: dict[tuple[str, str], dict[str, list]]  # (dataset, split) -> columns
    corpus: Path
    vocab: Path
    revisions: dict[str, str] = field(default_factory=dict)


class Hub:
    """The three hub calls :func:`fetch` makes (a test replaces them with local stand-ins)."""

    def revision(self, repo: str, repo_type: str) -> str:
        from huggingface_hub import HfApi

        return HfApi().repo_info(repo, repo_type=repo_type).sha

    def table(self, repo: str, split: str, revision: str) -> dict[str, list]:
        import datasets

        return columns(datasets.load_dataset(repo, split=split, revision=revision))

    def file(self, repo: str, filename: str, repo_type: str, revision: str) -> Path:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo, filename, repo_type=repo_type, revision=revision))


def columns(dataset) -> dict[str, list]:
    """A ``datasets.Dataset``'s columns as plain lists."""
    return {name: list(dataset[name]) for name in dataset.column_names}


def fetch(hub: Hub) -> Fetched:
    """Every table and file the mirror holds, from the hub, each repository at one resolved revision."""
    tables, revisions, corpus = {}, {}, None
    for name, src in data.DATASETS.items():
        revisions[src.hub_id] = revision = hub.revision(src.hub_id, "dataset")
        if name == "wiki":
            corpus = hub.file(src.hub_id, src.hub_splits["train"], "dataset", revision)
            continue
        for split, hub_split in src.hub_splits.items():
            tables[(name, split)] = hub.table(src.hub_id, hub_split, revision)
    revisions[VOCAB_REPO] = revision = hub.revision(VOCAB_REPO, "model")
    return Fetched(tables, corpus, hub.file(VOCAB_REPO, VOCAB_FILE, "model", revision), revisions)


# --------------------------------------------------------------------------------------------- conversion
def cell(value) -> str:
    """A sentence as one TSV cell: tabs and line breaks become spaces (the files are unquoted), ends trimmed."""
    text = str(value)
    for char in "\t\r\n":
        text = text.replace(char, " ")
    return text.strip()


def score(value, scale: float = 1.0) -> str | None:
    """A gold score as the mirror writes it, ``repr(float(value))``, or ``None`` when it is empty. A rescaled score
    (STS-B's hub copy is on 0-1) is rounded to 6 significant digits first, which undoes the division's float error:
    0.76 * 5 is written 3.8, not 3.8000000000000003."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = float(value)
    if math.isnan(number):
        return None
    if scale != 1.0:
        number = float(f"{number * scale:.6g}")
    return repr(number)


def pairs_tsv(cols: dict[str, list], scale: float, subset: bool) -> tuple[str, int, int]:
    """A table of pairs as mirror TSV text (``[subset,] score, sentence1, sentence2``), with the rows written and
    the rows dropped for an empty gold score."""
    for needed in ("sentence1", "sentence2", "score"):
        if needed not in cols:
            raise MirrorError(f"a hub table has no column {needed!r} (it has {', '.join(cols)}); nothing was written")
    n = len(cols["score"])
    subsets = cols.get("subset") or ["all"] * n  # the hub's STS12-16 do not say which subset a pair comes from
    lines = ["\t".join((["subset"] if subset else []) + ["score", "sentence1", "sentence2"])]
    dropped = 0
    for i in range(n):
        gold = score(cols["score"][i], scale)
        if gold is None:
            dropped += 1
            continue
        lines.append(
            "\t".join(
                ([cell(subsets[i])] if subset else []) + [gold] + [cell(cols[c][i]) for c in ("sentence1", "sentence2")]
            )
        )
    return "\n".join(lines) + "\n", len(lines) - 1, dropped


def corpus_lines(path: Path, seed: int = SHUFFLE_SEED) -> list[str]:
    """The corpus's non-empty lines (line breaks normalised, trailing whitespace dropped), in a fixed shuffled order:
    line i goes to the rank of ``sha256(f"{seed}:{i}")``, the same on every machine and Python. The loaders read the
    first lines as a random sample (smoke runs) and hold out the last ones (MLM); wiki1m runs article by article."""
    with open(path, encoding="utf-8") as handle:  # universal newlines: \r\n and \r end a line too
        lines = [line.rstrip() for line in handle]
    lines = [line for line in lines if line]
    order = sorted(range(len(lines)), key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).digest())
    return [lines[i] for i in order]


def check_vocab(path: Path) -> None:
    """Stop unless ``path`` is bert-base-uncased's vocabulary: its size and its special tokens' ids."""
    words = path.read_text(encoding="utf-8").splitlines()
    wrong = {w: i for w, i in SPECIAL_IDS.items() if len(words) <= i or words[i] != w}
    if len(words) != VOCAB_SIZE or wrong:
        raise MirrorError(
            f"{path} is not bert-base-uncased's vocabulary ({len(words)} entries, expected {VOCAB_SIZE}; "
            f"{', '.join(wrong) or 'special tokens in place'}{' misplaced' if wrong else ''}); nothing was written"
        )


def convert(fetched: Fetched, out: Path) -> dict[str, int]:
    """Write the mirror into the empty folder ``out`` from what was fetched; rows per file."""
    check_vocab(fetched.vocab)  # first: the corpus takes the time
    counts, dropped = {}, {}
    for (name, split), cols in sorted(fetched.tables.items()):
        src = data.DATASETS[name]
        text, counts[src.mirror[split]], dropped[src.mirror[split]] = pairs_tsv(
            cols, src.score_scale, subset=name.startswith("sts1")
        )
        (out / src.mirror[split]).parent.mkdir(parents=True, exist_ok=True)
        (out / src.mirror[split]).write_bytes(text.encode("utf-8"))
    lines = corpus_lines(fetched.corpus)
    corpus = out / data.DATASETS["wiki"].mirror["train"]
    corpus.parent.mkdir(parents=True, exist_ok=True)
    data.write_lines_gz(corpus, lines)
    counts[corpus.relative_to(out).as_posix()] = len(lines)
    (out / VOCAB_PATH).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fetched.vocab, out / VOCAB_PATH)
    counts[VOCAB_PATH] = VOCAB_SIZE
    (out / "README.md").write_text(readme(fetched.revisions, counts, dropped), encoding="utf-8")
    data.write_sums(out)
    return counts


def readme(revisions: dict[str, str], counts: dict[str, int], dropped: dict[str, int]) -> str:
    def at(repo):
        return f"`{repo}` @ {revisions.get(repo, 'unknown revision')}"

    rows = {
        "sts/{train,dev,test}.tsv": (
            "STS Benchmark: `score` (0–5: the hub's 0–1 score × 5, rounded to 6 significant digits), `sentence1`, "
            "`sentence2`",
            at("sentence-transformers/stsb") + " (splits train, validation, test)",
            "scores CC BY-SA 4.0; each sentence source has its own licence (see the dataset card)",
        ),
        "sts12-16/STS1{2..6}.tsv": (
            "STS 2012–2016 English test sets: `subset` (`all`: the hub's copies do not name a pair's subset, so only "
            "SimCSE's 'all' setting can be computed), `score`, `sentence1`, `sentence2`",
            ", ".join(at(f"mteb/sts{y}-sts") for y in (12, 13, 14, 15, 16)) + " (split test)",
            "mixed, one licence per subset (see the SemEval task pages)",
        ),
        "sickr/test.tsv": (
            "SICK relatedness: `score` (1–5), `sentence1`, `sentence2`. MTEB's SICK-R, which is larger than "
            "SentEval's 4,927-pair test split",
            at("mteb/sickr-sts") + " (split test)",
            "CC BY-NC-SA 3.0 (SICK)",
        ),
        "corpus/wiki_sentences.txt.gz": (
            f"SimCSE's wiki1m, one sentence per line: non-empty lines, in a fixed shuffled order (line i goes to the "
            f"rank of sha256('{SHUFFLE_SEED}:i')), gzip level 9 with no name or time in the header",
            at("princeton-nlp/datasets-for-simcse") + " : `wiki1m_for_simcse.txt`",
            "English Wikipedia, CC BY-SA 3.0 (and GFDL)",
        ),
        VOCAB_PATH: (
            "the bert-base-uncased WordPiece vocabulary, verbatim",
            at(VOCAB_REPO) + " : `vocab.txt`",
            "Apache-2.0",
        ),
    }
    table = "\n".join(f"| `{path}` | {what} | {source} | {licence} |" for path, (what, source, licence) in rows.items())
    tally = "\n".join(
        f"- `{path}`: {n:,} rows" + (f" ({dropped[path]} dropped: empty gold score)" if dropped.get(path) else "")
        for path, n in sorted(counts.items())
    )
    return (
        "# A data mirror built from the Hugging Face hub by `python -m lib.data_mirror`\n\n"
        "All files are UTF-8 with `\\n` line endings. TSV files have a header line, are tab-separated and use no "
        "quoting (tabs and line breaks inside a sentence became spaces). Scores are `repr(float(score))`. "
        "`SHA256SUMS` lists a hash for every file. Point the project at this folder with `SRL_DATA_DIR`.\n\n"
        "| path | what | source (repo @ revision) | licence as stated by source |\n|---|---|---|---|\n"
        f"{table}\n\n## Rows\n\n{tally}\n\n## Not the mirror of the published pages\n\n"
        "The published pages were computed on a mirror whose corpus is a same-size stand-in for wiki1m and whose STS "
        "files are SentEval's; this one has SimCSE's real wiki1m and MTEB's copies, so numbers and run names differ. "
        "It has no `sts/senteval_tok/`, `sickr/train.tsv`, `sickr/dev.tsv` or `licenses/` (the hub does not carry "
        "them): see each dataset's card on the hub for its licence terms.\n"
    )


# --------------------------------------------------------------------------------------------- building
def build(out: str | os.PathLike, hub: Hub | None = None) -> dict[str, int]:
    """Fetch, convert and verify a mirror in a staging folder beside ``out``, then move it to ``out`` (which must not
    exist, or be empty). ``hub=None`` is the real hub, checked first: unreachable, it stops before writing."""
    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MirrorError(
            f"--out {out} already exists and is not an empty folder: give a new one. Nothing was written."
        )
    if hub is None:
        reason = data.hub_unreachable_reason()
        if reason:
            raise MirrorError(f"cannot build a data mirror: {reason}. {ALTERNATIVES}")
        hub = Hub()
    staged = staging_dir(out)
    try:
        counts = convert(fetch(hub), staged)
        for name, src in data.DATASETS.items():  # each file read back and checked against SHA256SUMS
            for split, relpath in src.mirror.items():
                if (staged / relpath).is_file():
                    data.load(name, split, staged, limit=10 if name == "wiki" else None)
        if out.exists():
            out.rmdir()
        os.replace(staged, out)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.data_mirror",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, help="the new mirror's folder (must not exist, or be empty)")
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an unexpected failure")
    args = parser.parse_args(argv)
    try:
        counts = build(args.out)
    except MirrorError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:
        if args.traceback:
            raise
        print(
            f"error: building the mirror failed: {err.__class__.__name__}: {err}. Nothing was written to {args.out} "
            f"(--traceback shows where it failed).",
            file=sys.stderr,
        )
        return 1
    print("\n".join(f"{path}: {n:,} rows" for path, n in sorted(counts.items())))
    print(f"export SRL_DATA_DIR={Path(args.out).expanduser().resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
