"""lib.models: names users give, tokenizer ids (not just shapes), devices, clear errors."""

import pytest
import torch

from lib.science import devices, models, tiny
from lib.science.params import ParameterError


def test_builtin_bert_tokenizer_has_the_real_wordpiece_ids():
    enc = models.load("tiny-random-bert", "cpu")
    assert len(enc.tokenizer) == 30522
    assert enc.tokenizer("Hello, world!")["input_ids"] == [101, 7592, 1010, 2088, 999, 102]
    assert enc.pad_id == 0 and {100, 101, 102, 103, 0} <= set(enc.special_ids)
    assert enc.n_layers == 2 and enc.hidden_size == 32


def test_builtin_mpnet_style_tokenizer_pads_with_one():
    enc = models.load("tiny-random-mpnet", "cpu")
    ids = enc.tokenizer("Hello, world!")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and ids[1:-1] == [7596, 1014, 2092, 1003]  # WordPiece ids shifted by 4
    assert enc.pad_id == 1 and enc.tokenizer.convert_ids_to_tokens(1) == "<pad>"


def test_builtin_weights_are_seeded():
    assert models.load("tiny-random-bert", "cpu").fingerprint == models.load("tiny-random-bert", "cpu").fingerprint


def test_packaged_minilm_loads_offline_by_short_name_and_hub_id():
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        assert models.resolve(name).kind == "package"
    enc = models.load("all-MiniLM-L6-v2", "cpu")
    assert len(enc.tokenizer) == 30522 and enc.tokenizer("hello world")["input_ids"] == [101, 7592, 2088, 102]
    assert enc.n_layers == 6 and enc.hidden_size == 384


def test_local_folder_round_trip(tmp_path):
    enc = models.load("tiny-random-mpnet", "cpu")
    enc.model.save_pretrained(tmp_path / "m")
    enc.tokenizer.save_pretrained(tmp_path / "m")
    local = models.load(str(tmp_path / "m"), "cpu")
    assert local.spec.kind == "local" and local.pad_id == 1
    batch = enc.tokenizer(["a small test"], return_tensors="pt")
    with torch.inference_mode():
        a = enc.model(**batch).last_hidden_state
        b = local.model(**local.tokenizer(["a small test"], return_tensors="pt")).last_hidden_state
    assert torch.allclose(a, b)


def test_bad_names_name_the_parameter(tmp_path):
    with pytest.raises(ParameterError, match="`model` = ''"):
        models.resolve("")
    with pytest.raises(ParameterError, match="no such folder"):
        models.resolve("./no/such/folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="config.json"):
        models.resolve(str(tmp_path / "empty"))


def test_unknown_hub_id_offline_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ParameterError) as err:
        models.resolve("no-such-org/no-such-model")
    assert "`model`" in str(err.value) and "HF_HUB_OFFLINE" in str(err.value) and "local" in str(err.value)


def test_devices_and_precisions():
    assert devices.resolve_device("cpu") == "cpu"
    assert devices.resolve_device("auto") in {"cpu", "cuda"}
    with pytest.raises(ParameterError, match="`device` = 'gpu'"):
        devices.resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="no CUDA GPU"):
            devices.resolve_device("cuda")
    assert devices.resolve_precision("auto", "cpu") == "fp32" and devices.resolve_precision("auto", "cuda") == "fp16"
    with pytest.raises(ParameterError, match="`precision` = 'fp16'"):
        devices.resolve_precision("fp16", "cpu")
    with pytest.raises(ParameterError, match="`precision` = 'half'"):
        devices.resolve_precision("half", "cpu")


def test_half_precision_checkpoints_load_as_float32(tmp_path):
    enc = models.load("tiny-random-bert", "cpu")
    enc.model.half().save_pretrained(tmp_path / "m")
    enc.tokenizer.save_pretrained(tmp_path / "m")
    local = models.load(str(tmp_path / "m"), "cpu")
    assert all(p.dtype == torch.float32 for p in local.model.parameters())
    assert local.fingerprint == models.fingerprint(str(tmp_path / "m"))  # the same hash, with or without loading


def test_fingerprints_identify_weights_not_places(tmp_path):
    import shutil

    enc = models.load("tiny-random-bert", "cpu")
    enc.model.save_pretrained(tmp_path / "a")
    enc.tokenizer.save_pretrained(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert models.fingerprint(str(tmp_path / "a")) == models.fingerprint(str(tmp_path / "b"))
    assert models.fingerprint("tiny-random-bert") == enc.fingerprint != models.fingerprint("tiny-random-mpnet")


def test_loading_changes_no_process_wide_logging():
    from transformers.utils import logging as hf_logging

    before = hf_logging.is_progress_bar_enabled()
    models.load("tiny-random-bert", "cpu")
    assert hf_logging.is_progress_bar_enabled() == before


def test_wordpiece_tokenizer_from_the_vocabulary_has_real_ids():
    tok = tiny.bert_tokenizer()
    assert len(tok) == 30522 and tok.pad_token_id == 0 and tok.mask_token_id == 103
    assert tok("Hello, world!")["input_ids"] == [101, 7592, 1010, 2088, 999, 102]


def test_pocket_bert_loads_as_float32_everywhere():
    """The committed weights stay float16 on disk (their hash identifies runs), but the config says float32, so a
    plain transformers or sentence-transformers load -- what a baseline or a reader does -- gives float32."""
    import json

    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    from lib.science.files import sha256_file

    folder = models.resolve("pocket-bert").path
    record = json.loads((models.POCKET["pocket-bert"] / "record.json").read_text())
    assert sha256_file(models.POCKET["pocket-bert"] / "model.safetensors") == record["weights_file_sha256"]
    assert json.loads((models.POCKET["pocket-bert"] / "config.json").read_text())["dtype"] == "float32"
    plain = AutoModel.from_pretrained(folder)
    assert {p.dtype for p in plain.parameters()} == {torch.float32}
    st = SentenceTransformer(folder, device="cpu")
    assert {p.dtype for p in st.parameters()} == {torch.float32}
    ours = models.load("pocket-bert", "cpu")
    assert {p.dtype for p in ours.model.parameters()} == {torch.float32}
    batch = ours.tokenizer(["a small test"], return_tensors="pt")
    with torch.inference_mode():  # the same float32 numbers as the library's own loader
        assert torch.equal(plain.eval()(**batch).last_hidden_state, ours.model(**batch).last_hidden_state)
