"""The paper path runs: every chapter's *paper* preset, end to end, on the CPU, with local stand-ins for the hub.

A GPU user reaches the paper path with ``--scale paper``: hub model ids (``bert-base-uncased``,
``princeton-nlp/unsup-simcse-bert-base-uncased``, ...), SimCSE's one-epoch schedule, the full analysis protocol.
Here each of those hub ids is a small seeded random encoder saved into a temporary Hugging Face cache, in the
cache's own layout, so the chapters resolve and load them through the same code as real downloads (with the hub
switched off). Only what makes the run small is overridden: a handful of sentences, samples and steps.
"""

import json
import os

import pytest

from lib.book import chapters, execute, parameters

REVISION = "0" * 40
STAND_INS = {  # hub id -> the built-in shape it stands in with
    "bert-base-uncased": "tiny-random-bert",
    "princeton-nlp/unsup-simcse-bert-base-uncased": "tiny-random-bert",
    "sentence-transformers/all-MiniLM-L6-v2": "tiny-random-bert",
    "sentence-transformers/all-mpnet-base-v2": "tiny-random-mpnet",
}
SMALL_SIMCSE = dict(
    max_steps=12, n_sentences=200, eval_pairs=40, eval_steps=6, snapshot_sentences=40, checkpoint_steps=12
)  # 12 steps: snapshots at 0, 10 and 12
SMALL = {
    "01_geometry_table": dict(max_sentences=40, n_samples=20, seeds=[0, 1]),
    "02_pocket_plm": dict(
        max_sentences=40,
        n_samples=20,
        seeds=[0, 1],
        grid_lrs=[1e-4],
        grid_dropouts=[0.1],
        grid_steps=3,
        simcse=dict(n_sentences=200, eval_pairs=40, snapshot_sentences=40),
    ),
    "03_plm_vs_cl": dict(max_sentences=40, n_samples=20, seeds=[0, 1, 2]),
    "04_contextualization": dict(max_sentences=40, n_samples=20, seeds=[0, 1, 2]),
    "05_learning_dynamics": dict(train_seeds=[0], poolings=["cls"], simcse=SMALL_SIMCSE),
    "06_simcse_anchor": dict(tasks=["STSB"]),
    "07_temperature": dict(values=[0.05, 1.0], train_seeds=[0], simcse=SMALL_SIMCSE),
    "08_batch_size": dict(values=[64, 8], train_seeds=[0], simcse=SMALL_SIMCSE),
    "09_pooling": dict(values=["cls", "avg"], train_seeds=[0], simcse=SMALL_SIMCSE),
}


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory):
    """A Hugging Face cache holding a stand-in for every hub id the paper presets name."""
    from lib.science import tiny

    root = tmp_path_factory.mktemp("hf") / "hub"
    for repo, shape in STAND_INS.items():
        folder = root / f"models--{repo.replace('/', '--')}"
        snapshot = folder / "snapshots" / REVISION
        model, tokenizer = tiny.build(shape)
        model.save_pretrained(snapshot)
        tokenizer.save_pretrained(snapshot)
        (folder / "refs").mkdir(parents=True)
        (folder / "refs" / "main").write_text(REVISION)
    return root


def test_every_chapter_has_a_paper_preset_and_a_small_override():
    assert set(SMALL) == set(parameters.CHAPTERS)
    for name in SMALL:
        assert "paper" in parameters.declaration(name).scales


@pytest.mark.parametrize("name", list(SMALL))
def test_the_paper_preset_runs_end_to_end(name, hub_cache, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))  # for the chapter's kernel
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub_cache))  # for the checks at the door
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SRL_OUT_DIR", str(tmp_path / "runs"))
    assert os.environ.get("SRL_DATA_DIR"), "the paper path reads the data mirror here (the hub is off)"
    chapter = chapters.find(name)
    out = execute.run(chapter, "paper", dict(SMALL[name], device="cpu", out_dir=str(tmp_path / "run")), progress=False)
    doc = json.loads((out / "results.json").read_text())
    assert doc["params"]["scale"] == "paper" and doc["chapter"] == name
    named = json.dumps(doc["provenance"].get("models", [])) + json.dumps(doc["params"])
    preset = chapter.scales["paper"]
    for key in ("plm", "model", "cl"):
        if key in preset:
            assert preset[key] in named  # the hub id the paper path names is the one that ran
