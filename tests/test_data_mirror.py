"""lib.data_mirror: a mirror built from the hub, tested on local stand-ins shaped like the hub's files (parquet for
sentence-transformers/stsb, gzipped JSON lines for MTEB's sets, SimCSE's plain-text corpus, bert's vocab.txt)."""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib import data_mirror
from lib.science import data, tiny

ROOT = Path(__file__).resolve().parent.parent
STSB = {  # the hub's STS-B scores are the original 0-5 scores divided by 5
    "train": [("A man plays.", "A man is playing.", 0.76), ("Cats.", "Dogs.", 0.0)],
    "validation": [("One.", "Two.", 0.5), ("Three.", "Four.", 1.0)],
    "test": [
        ('A "quoted" man.', "A man\twith a tab.", 0.76),
        ("  Padded.  ", "Line\nbreak.", 0.0666666666666667),
        ("Same.", "Same.", 1.0),
    ],
}
STS = [("He left.", "He went away.", 4.4), ("Empty gold.", "Dropped.", None), ("Red.", "Blue.", 0.8)]
SICK = [("A boy runs.", "A kid is running.", 4.5), ("A dog.", "A car.", 1.2)]
WIKI = "First sentence.\r\nSecond one.  \r\n\r\nThird, after an empty line.\r\n" + "".join(
    f"Sentence {i} of an article.\r\n" for i in range(40)
)


class LocalHub(data_mirror.Hub):
    """The hub's three calls answered from files in a folder, read through `datasets` as the real ones are."""

    def __init__(self, folder: Path):
        self.folder = folder

    def revision(self, repo, repo_type):
        return f"{repo_type}-{repo.replace('/', '-')}-rev"

    def table(self, repo, split, revision):
        import datasets

        (path,) = (self.folder / repo).glob(f"{split}.*")
        kind = "parquet" if path.suffix == ".parquet" else "json"
        cache = self.folder / "datasets-cache"
        return data_mirror.columns(datasets.load_dataset(kind, data_files=str(path), split="train", cache_dir=cache))

    def file(self, repo, filename, repo_type, revision):
        return self.folder / repo / filename


def _jsonl_gz(path: Path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for s1, s2, score in rows:
            handle.write(json.dumps({"sentence1": s1, "sentence2": s2, "score": score}) + "\n")


@pytest.fixture
def hub(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "hub"
    for split, rows in STSB.items():
        (folder / "sentence-transformers" / "stsb").mkdir(parents=True, exist_ok=True)
        s1, s2, score = map(list, zip(*rows))
        table = pa.table({"sentence1": s1, "sentence2": s2, "score": pa.array(score, pa.float64())})
        pq.write_table(table, folder / "sentence-transformers" / "stsb" / f"{split}.parquet")
    for year in (12, 13, 14, 15, 16):
        _jsonl_gz(folder / "mteb" / f"sts{year}-sts" / "test.jsonl.gz", STS)
    _jsonl_gz(folder / "mteb" / "sickr-sts" / "test.jsonl.gz", SICK)
    (folder / "princeton-nlp" / "datasets-for-simcse").mkdir(parents=True)
    (folder / "princeton-nlp" / "datasets-for-simcse" / "wiki1m_for_simcse.txt").write_bytes(WIKI.encode())
    (folder / "bert-base-uncased").mkdir()
    (folder / "bert-base-uncased" / "vocab.txt").write_bytes(tiny.vocab_file().read_bytes())
    return LocalHub(folder)


def test_scores_are_written_as_the_mirror_writes_them():
    import numpy as np

    assert data_mirror.score("4.400") == "4.4" and data_mirror.score(5) == "5.0"
    assert data_mirror.score(0.76, 5.0) == "3.8"  # not 3.8000000000000003
    assert data_mirror.score(np.float32(0.76), 5.0) == "3.8"  # nor 3.799999952316284
    assert data_mirror.score(0.0666666666666667, 5.0) == "0.333333"
    assert [data_mirror.score(v) for v in (None, "", " ", float("nan"))] == [None] * 4


def test_a_mirror_built_from_hub_shaped_files_loads_and_verifies(hub, tmp_path):
    out = tmp_path / "mirror"
    counts = data_mirror.build(out, hub)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub", "mirror"]  # no staging folder left behind
    for name, src in data.DATASETS.items():
        for split in src.hub_splits:
            table = data.load(name, split, out)  # checked against SHA256SUMS on the way
            assert len(table) and table.source == f"mirror:{src.mirror[split]}"
    assert set(data.expected_sums(out)) == {p.relative_to(out).as_posix() for p in out.rglob("*")} - {
        "SHA256SUMS",
        "sts",
        "sts12-16",
        "sickr",
        "corpus",
        "tokenizer",
    }
    # STS-B: rescaled to 0-5, unquoted, tabs and line breaks inside a sentence become spaces, ends trimmed
    assert (out / "sts" / "test.tsv").read_text(encoding="utf-8") == (
        'score\tsentence1\tsentence2\n3.8\tA "quoted" man.\tA man with a tab.\n'
        "0.333333\tPadded.\tLine break.\n5.0\tSame.\tSame.\n"
    )
    assert data.load("stsb", "dev", out).columns["score"] == [2.5, 5.0]
    # STS12-16: a subset column, and the pair with an empty gold score dropped
    sts12 = (out / "sts12-16" / "STS12.tsv").read_text(encoding="utf-8")
    assert sts12 == "subset\tscore\tsentence1\tsentence2\nall\t4.4\tHe left.\tHe went away.\nall\t0.8\tRed.\tBlue.\n"
    assert counts["sts12-16/STS12.tsv"] == 2 and "1 dropped: empty gold score" in (out / "README.md").read_text()
    # the corpus: every non-empty line, \n-terminated, trailing spaces dropped, in the fixed shuffled order
    lines = data.load("wiki", "train", out).columns["text"]
    expected = [line.rstrip() for line in WIKI.split("\r\n") if line.strip()]
    assert sorted(lines) == sorted(expected) and lines != expected and len(lines) == 43
    assert b"\r" not in gzip.decompress((out / "corpus" / "wiki_sentences.txt.gz").read_bytes())
    assert (out / data_mirror.VOCAB_PATH).read_bytes() == tiny.vocab_file().read_bytes()
    readme = (out / "README.md").read_text()
    for repo in ("sentence-transformers/stsb", "mteb/sts16-sts", "mteb/sickr-sts", "princeton-nlp/datasets-for-simcse"):
        assert f"`{repo}` @ {hub.revision(repo, 'dataset')}" in readme
    assert "SimCSE's real wiki1m" in readme and "run names differ" in readme


def test_the_same_hub_files_give_the_same_mirror(hub, tmp_path):
    data_mirror.build(tmp_path / "a", hub)
    data_mirror.build(tmp_path / "b", hub)
    assert (tmp_path / "a" / "SHA256SUMS").read_bytes() == (tmp_path / "b" / "SHA256SUMS").read_bytes()
    assert data.mirror_identity(tmp_path / "a") == data.mirror_identity(tmp_path / "b")


def test_a_failure_leaves_nothing_behind(hub, tmp_path):
    vocab = hub.folder / "bert-base-uncased" / "vocab.txt"
    vocab.write_text("[PAD]\n" * 30522)  # the right size, the wrong tokens
    parent = tmp_path / "place"
    parent.mkdir()
    with pytest.raises(data_mirror.MirrorError, match=r"vocab\.txt is not bert-base-uncased's.*\[UNK\], \[CLS\]"):
        data_mirror.build(parent / "mirror", hub)
    assert list(parent.iterdir()) == []


def test_a_mirror_that_does_not_verify_is_not_moved_into_place(hub, tmp_path, monkeypatch):
    convert = data_mirror.convert

    def corrupting(fetched, out):
        counts = convert(fetched, out)
        with open(out / "sts" / "test.tsv", "a", encoding="utf-8") as handle:  # after SHA256SUMS was written
            handle.write("1.0\tlate\trow\n")
        return counts

    monkeypatch.setattr(data_mirror, "convert", corrupting)
    parent = tmp_path / "place"
    parent.mkdir()
    with pytest.raises(data.ChecksumMismatch, match="sts/test.tsv"):
        data_mirror.build(parent / "mirror", hub)
    assert list(parent.iterdir()) == []


def test_a_hub_table_without_the_expected_columns_is_named(hub, tmp_path):
    for year in (12, 13, 14, 15, 16):
        path = hub.folder / "mteb" / f"sts{year}-sts" / "test.jsonl.gz"
        path.write_bytes(gzip.compress(b'{"sentence1": "a", "sentence2": "b", "label": 1.0}\n'))
    with pytest.raises(data_mirror.MirrorError, match="no column 'score'.*label"):
        data_mirror.build(tmp_path / "mirror", hub)
    assert not (tmp_path / "mirror").exists()


def test_an_existing_folder_is_never_overwritten(hub, tmp_path):
    out = tmp_path / "mirror"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(data_mirror.MirrorError, match="already exists"):
        data_mirror.build(out, hub)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "keep.txt").unlink()
    data_mirror.build(out, hub)  # an empty folder is fine
    assert (out / "SHA256SUMS").is_file()


def test_offline_the_command_stops_at_once_with_one_clear_error(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = tmp_path / "mirror"
    done = subprocess.run(
        [sys.executable, "-m", "lib.data_mirror", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1
    for needle in ("hub", "HF_HUB_OFFLINE", "SRL_DATA_DIR", "shared/data", "tests/fixture_data", "Nothing was written"):
        assert needle in message
    assert not out.exists() and list(tmp_path.iterdir()) == []
