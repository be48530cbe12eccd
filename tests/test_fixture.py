"""The fixture mirror committed in tests/fixture_data: what a fresh clone tests with when no data mirror is at hand."""

import gzip
import sys
from pathlib import Path

import pytest

from lib.book import declarations
from lib.science import data
from lib.science.training import config
from tests.helpers import FIXTURE_DIR, REFERENCE_MIRROR, data_dir_for_tests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import make_fixture  # noqa: E402

PUBLISHED_STSB_TEST = "75c745693e674dd09b627096c223b53798a63290e8de3366db436c43bee02849"  # book/results/01_*


def test_every_fixture_file_is_listed_and_matches_its_checksum():
    listed = data.expected_sums(FIXTURE_DIR)
    present = {p.relative_to(FIXTURE_DIR).as_posix() for p in FIXTURE_DIR.rglob("*") if p.is_file()}
    assert set(listed) == present - {"SHA256SUMS"}
    for relpath in listed:
        data.verified(FIXTURE_DIR, relpath)  # raises on a mismatch


def test_the_fixture_loads_through_the_loaders_in_the_mirror_formats():
    test = data.load("stsb", "test", FIXTURE_DIR)
    assert len(test) == 1379 and test.sha256 == PUBLISHED_STSB_TEST  # whole: chapter 1 compares with the pages
    for name in ("sts12", "sts13", "sts14", "sts15", "sts16"):
        table = data.load(name, "test", FIXTURE_DIR)
        assert list(table.columns) == ["subset", "score", "sentence1", "sentence2"]
        assert len(set(table.columns["subset"])) >= 3  # every subset of the year is kept
    sick = data.load("sickr", "test", FIXTURE_DIR)
    assert all(1 <= s <= 5 for s in sick.columns["score"]) and "entailment_label" in sick.columns
    corpus = data.load("wiki", "train", FIXTURE_DIR)
    assert len(corpus) == make_fixture.CORPUS_LINES and all(line.strip() for line in corpus.columns["text"])
    with gzip.open(FIXTURE_DIR / "corpus" / "wiki_sentences.txt.gz", "rb") as handle:
        assert b"\r" not in handle.read()
    with pytest.raises(data.DataUnavailable, match="sts/train.tsv"):  # not in the fixture: named, not guessed
        data.load("stsb", "train", FIXTURE_DIR)


def test_the_fixture_holds_what_every_ci_scale_preset_reads():
    """Raising a smoke preset beyond the fixture fails here, not as a silently shorter run."""
    for cls in config.CONFIGS.values():
        smoke = config.resolve(cls.OBJECTIVE, {"scale": "smoke"})
        assert 0 < smoke.n_sentences <= make_fixture.CORPUS_LINES
        assert 0 < smoke.eval_pairs <= make_fixture.DEV_PAIRS
        assert smoke.snapshot_sentences <= 1379
    for name, declaration in declarations.CHAPTERS.items():
        preset = {**declaration.defaults(), **declaration.scales[declaration.ci_scale]}
        assert preset.get("max_sentences", 0) <= 1379, name  # 0: all of STS-B test, which the fixture has whole


def test_the_fixture_is_small():
    assert sum(p.stat().st_size for p in FIXTURE_DIR.rglob("*") if p.is_file()) < 1_500_000


def test_which_mirror_the_tests_read(tmp_path):
    repo = tmp_path / "clone"
    repo.mkdir()
    assert data_dir_for_tests({}, repo) == (str(FIXTURE_DIR), "the fixture: no SRL_DATA_DIR, no ../shared/data")
    assert data_dir_for_tests({"SRL_DATA_DIR": ""}, repo)[0] == str(FIXTURE_DIR)  # make exports it empty
    shared = tmp_path / "shared" / "data"
    shared.mkdir(parents=True)
    assert data_dir_for_tests({}, repo)[0] == str(FIXTURE_DIR)  # a folder without SHA256SUMS is no mirror
    (shared / "SHA256SUMS").write_text("")
    assert data_dir_for_tests({}, repo)[0] == str(shared.resolve())
    assert data_dir_for_tests({"SRL_DATA_DIR": "/elsewhere"}, repo)[0] == "/elsewhere"


def test_the_fixture_is_recomputed_from_the_reference_mirror(tmp_path):
    if data.mirror_identity() != REFERENCE_MIRROR:
        pytest.skip(f"rebuilding the fixture needs the reference mirror ({REFERENCE_MIRROR}) as SRL_DATA_DIR")
    make_fixture.write(data.mirror_dir(), tmp_path)
    assert make_fixture.differences(tmp_path, FIXTURE_DIR) == []
