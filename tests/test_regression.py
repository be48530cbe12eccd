"""Real numbers, recomputed on every test run without the data mirror: all-MiniLM-L6-v2 (shipped offline) over
40 fixed sentences (tests/data/sentences.txt).

Two independent checks of lib.science.geometry on a real model:
1. against the plain per-token loop reference (tests/loop_reference.py), on the same hidden states, to 1e-5;
2. against pinned per-layer values (tests/data/minilm_regression.json). They were produced by the loop reference
   (not by lib.science.geometry) with `python tests/test_regression.py --pin`, on CPU, torch 2.13.0,
   transformers 5.24.0; the tolerance 1e-4 covers float32 differences across CPUs and library versions while
   catching any change of the protocol (which moves these values by 1e-3 or more).
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.science import encode, geometry, models, occurrences  # noqa: E402
from tests.loop_reference import loop_metrics, pad_matrix  # noqa: E402

SENTENCES = (ROOT / "tests" / "data" / "sentences.txt").read_text(encoding="utf-8").splitlines()
PINNED = ROOT / "tests" / "data" / "minilm_regression.json"
SEEDS, N_SAMPLES = [0, 1], 30


def reference_numbers(encoder) -> dict:
    """The loop reference's per-layer numbers on the authors' padded layout."""
    token_ids = encode.tokenize(encoder.tokenizer, SENTENCES)
    ids = pad_matrix(token_ids, encoder.pad_id)
    lengths = [len(t) for t in token_ids]
    mask = (np.arange(ids.shape[1])[None, :] < np.array(lengths)[:, None]).astype(np.int64)
    with torch.inference_mode():
        out = encoder.model(
            input_ids=torch.as_tensor(ids), attention_mask=torch.as_tensor(mask), output_hidden_states=True
        )
    hidden = [h.numpy() for h in out.hidden_states]
    samples = [occurrences.sample_tokens(np.array(lengths), N_SAMPLES, len(hidden), s) for s in SEEDS]
    ref = loop_metrics(hidden, ids, lengths, samples)
    self_sim = [float(np.mean(list(layer.values()))) for layer in ref["self_sim_per_id"]]
    return dict(
        self_sim=self_sim,
        intra_sim=ref["intra_sim"],
        norm=ref["norm"],
        anisotropy=np.mean(ref["anisotropy_per_seed"], axis=0).tolist(),
    )


@pytest.fixture(scope="module")
def minilm():
    return models.load("all-MiniLM-L6-v2", "cpu")


def test_geometry_matches_the_loop_reference_on_minilm(minilm):
    geo = geometry.analyse(minilm, SENTENCES, SEEDS, n_samples=N_SAMPLES, batch_size=7, progress=False)
    ref = reference_numbers(minilm)
    for key, ours in (
        ("self_sim", geo.self_sim()),
        ("intra_sim", geo.intra_sim),
        ("norm", geo.norm),
        ("anisotropy", geo.anisotropy),
    ):
        assert np.allclose(ours, ref[key], atol=1e-5, rtol=1e-6), key


def test_minilm_per_layer_values_are_pinned(minilm):
    geo = geometry.analyse(minilm, SENTENCES, SEEDS, n_samples=N_SAMPLES, batch_size=16, progress=False)
    pinned = json.loads(PINNED.read_text())
    assert len(pinned["self_sim"]) == minilm.n_layers + 1
    for key, ours in (
        ("self_sim", geo.self_sim()),
        ("intra_sim", geo.intra_sim),
        ("norm", geo.norm),
        ("anisotropy", geo.anisotropy),
    ):
        assert np.allclose(ours, pinned[key], atol=1e-4, rtol=0), (key, ours, pinned[key])


if __name__ == "__main__" and "--pin" in sys.argv:
    numbers = reference_numbers(models.load("all-MiniLM-L6-v2", "cpu"))
    PINNED.write_text(json.dumps({k: [round(v, 7) for v in vals] for k, vals in numbers.items()}, indent=1) + "\n")
    print(f"pinned {PINNED}")
