"""lib.data: the mirror layout, checksums, and one clear error when data is nowhere to be had."""

import gzip

import pytest

from lib.science import data
from lib.science.params import ParameterError
from tests.helpers import SENTENCES, write_mirror


@pytest.fixture
def mirror(tmp_path):
    return write_mirror(tmp_path / "mirror")


def test_loads_a_split_from_the_mirror(mirror):
    table = data.load("stsb", "test", mirror)
    assert len(table) == 60 and table.source == "mirror:sts/test.tsv"
    assert table.columns["sentence1"][0] == "A man is playing a guitar. (0)"
    assert isinstance(table.columns["score"][1], float) and table.columns["score"][1] == pytest.approx(0.9)
    assert table.sha256 == data.sha256_file(mirror / "sts" / "test.tsv")
    assert data.sentences(table, "sentence2", limit=3) == table.columns["sentence2"][:3]


def test_validation_is_an_alias_of_dev(mirror):
    assert data.load("stsb", "validation", mirror).columns == data.load("stsb", "dev", mirror).columns


def test_environment_variable_and_parameter(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_DATA_DIR, str(mirror))
    assert data.load("stsb", "test").source.startswith("mirror:")
    other = write_mirror(tmp_path / "other", rows=5)
    assert len(data.load("stsb", "test", other)) == 5  # the parameter wins over the environment


def test_corpus_reads_gzip_with_a_limit(mirror):
    table = data.load("wiki", "train", mirror, limit=4)
    assert table.columns["text"] == [f"{s} Line {i}." for i, s in enumerate(SENTENCES[:4])]


def test_a_corrupted_file_is_reported_not_used(mirror):
    path = mirror / "sts" / "test.tsv"
    path.write_text(path.read_text().replace("guitar", "guitaR", 1))
    with pytest.raises(data.ChecksumMismatch, match="corrupted"):
        data.load("stsb", "test", mirror)


def test_a_corrupted_gzip_is_reported(mirror):
    with gzip.open(mirror / "corpus" / "wiki_sentences.txt.gz", "wt") as handle:
        handle.write("tampered\n")
    with pytest.raises(data.ChecksumMismatch):
        data.load("wiki", "train", mirror)


def test_missing_file_and_missing_sums_are_named(mirror):
    (mirror / "sts" / "dev.tsv").unlink()
    with pytest.raises(data.DataUnavailable, match="sts/dev.tsv"):
        data.load("stsb", "dev", mirror)
    (mirror / "SHA256SUMS").unlink()
    with pytest.raises(data.DataUnavailable, match="SHA256SUMS"):
        data.load("stsb", "test", mirror)


def test_a_data_dir_that_is_not_a_folder(tmp_path):
    with pytest.raises(data.DataUnavailable, match="data_dir"):
        data.load("stsb", "test", tmp_path / "nowhere")


def test_offline_without_mirror_fails_at_once_naming_both_ways(monkeypatch):
    monkeypatch.delenv(data.ENV_DATA_DIR, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(data.DataUnavailable) as err:
        data.load("sts12", "test")
    message = str(err.value)
    for needle in ("sts12", data.ENV_DATA_DIR, "data_dir", "HF_HUB_OFFLINE", "mteb/sts12-sts"):
        assert needle in message


def test_unknown_dataset_split_and_column(mirror):
    with pytest.raises(ParameterError, match="`dataset` = 'stsx'"):
        data.load("stsx", "test", mirror)
    with pytest.raises(ParameterError, match="`split` = 'train'"):
        data.load("sts12", "train", mirror)
    table = data.load("stsb", "test", mirror)
    with pytest.raises(ParameterError, match="`column` = 'sentence3'.*sentence1"):
        data.sentences(table, "sentence3")


def test_hub_path_maps_splits_and_scores(monkeypatch):
    """With no mirror and the hub reachable, STS-B comes from sentence-transformers/stsb, scores rescaled to 0-5."""
    import datasets

    calls = []

    class Fake:
        column_names = ["sentence1", "sentence2", "score"]

        def __getitem__(self, name):
            return {"sentence1": ["a"], "sentence2": ["b"], "score": [0.5]}[name]

    monkeypatch.delenv(data.ENV_DATA_DIR, raising=False)
    monkeypatch.setattr(data, "hub_unreachable_reason", lambda: None)
    monkeypatch.setattr(datasets, "load_dataset", lambda hub_id, split: calls.append((hub_id, split)) or Fake())
    table = data.load("stsb", "dev")
    assert calls == [("sentence-transformers/stsb", "validation")]
    assert table.columns["score"] == [2.5] and table.source.startswith("hub:") and len(table.sha256) == 64


def test_texts_hash_depends_on_every_sentence():
    assert data.texts_sha256(["a", "b"]) != data.texts_sha256(["a", "b "])
    assert data.texts_sha256(["a", "b"]) == data.texts_sha256(["a", "b"])


def test_hub_reachability_check(monkeypatch):
    import socket

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "HF_HUB_OFFLINE" in data.hub_unreachable_reason()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    asked = []

    def refuse(address, timeout):
        asked.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.internal:8080")
    assert "hub.internal:8080" in data.hub_unreachable_reason() and asked == [("hub.internal", 8080)]
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    assert data.hub_unreachable_reason() is None  # behind a proxy the libraries report for themselves


def test_mirror_identity_names_content_not_place(mirror, tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "elsewhere" / "mirror"
    shutil.copytree(mirror, copy)
    assert data.mirror_identity(mirror) == data.mirror_identity(copy) != "hub"
    (copy / "SHA256SUMS").chmod(0o644)
    (copy / "SHA256SUMS").write_text((copy / "SHA256SUMS").read_text() + "\n")
    assert data.mirror_identity(mirror) != data.mirror_identity(copy)
    monkeypatch.delenv(data.ENV_DATA_DIR, raising=False)
    assert data.mirror_identity("") == "hub"
