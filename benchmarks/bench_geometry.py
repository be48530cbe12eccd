"""Chapter 1's analysis, timed against a straightforward per-token loop implementation in the same process.

    make bench          # or: python benchmarks/bench_geometry.py [--sentences N] [--data-dir DIR]

Both sides start from the same loaded model and sentences (STS-B test `sentence1`, all-MiniLM-L6-v2) and compute
everything Chapter 1 reports, for all layers: anisotropy (5 seeds x 1,000 tokens), self-similarity, rogue-dimension
contributions, intra-sentence similarity and norms.

- *ours*: lib.geometry.analyse -- length-sorted batches, streamed running sums.
- *loop*: the authors' layout and loops (tests/loop_reference.py): one corpus-wide padded id matrix encoded in
  batches of 64, first occurrences found with ``list.index``, a cosine matrix per token id and per sample,
  Python loops over sentences.

It prints both times, the ratio, peak memory and the largest difference between the two sets of numbers; the last
line is one JSON object with keys ours_s, loop_s, speedup, peak_rss_mb, max_abs_diff.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.science import data, encode, geometry, models, occurrences  # noqa: E402
from tests.loop_reference import loop_metrics, pad_matrix  # noqa: E402

SEEDS, N_SAMPLES = [0, 1, 2, 3, 4], 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def ours(encoder, texts, n_samples=N_SAMPLES):
    geo = geometry.analyse(encoder, texts, SEEDS, n_samples=n_samples, batch_size=64, progress=False)
    geo.per_layer()  # the table, incl. rogue-dimension summaries
    return geo


def loop(encoder, texts):
    token_ids = encode.tokenize(encoder.tokenizer, texts)
    ids = pad_matrix(token_ids, encoder.pad_id)
    lengths = [len(t) for t in token_ids]
    mask = (np.arange(ids.shape[1])[None, :] < np.array(lengths)[:, None]).astype(np.int64)
    chunks = []
    with torch.inference_mode():
        for i in range(0, len(ids), 64):
            out = encoder.model(
                input_ids=torch.as_tensor(ids[i : i + 64]),
                attention_mask=torch.as_tensor(mask[i : i + 64]),
                output_hidden_states=True,
            )
            chunks.append([h.numpy() for h in out.hidden_states])
    hidden = [np.concatenate(layer) for layer in zip(*chunks)]
    samples = [occurrences.sample_tokens(np.array(lengths), min(N_SAMPLES, len(texts)), len(hidden), s) for s in SEEDS]
    return loop_metrics(hidden, ids, lengths, samples)


def max_abs_diff(geo, ref) -> float:
    diffs = [
        np.abs(geo.intra_sim - ref["intra_sim"]).max(),
        np.abs(geo.norm - ref["norm"]).max(),
        np.abs(geo.anisotropy_per_seed - np.array(ref["anisotropy_per_seed"])).max(),
    ]
    for layer in range(geo.n_states):
        for w, v in ref["self_sim_per_id"][layer].items():
            k = int(np.searchsorted(geo.vocab_ids, w))
            row = int(np.searchsorted(geo.vocab_ids[geo.measured], w))
            diffs.append(abs(geo.self_sim_per_id[layer, k] - v))
            diffs.append(np.nanmax(np.abs(geo.contributions(layer)[row] - ref["contributions"][layer][w])))
    return float(max(diffs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=0, help="first N sentences only (0: all 1,379)")
    parser.add_argument("--data-dir", default="", help="data mirror (default: $SRL_DATA_DIR, else the hub)")
    args = parser.parse_args()

    torch.manual_seed(0)
    texts = data.sentences(data.load("stsb", "test", args.data_dir), "sentence1", args.sentences)
    encoder = models.load("all-MiniLM-L6-v2", "cpu")
    ours(encoder, texts[:64], n_samples=32)  # warm-up, so neither side pays for first-call initialisation
    print(f"{len(texts)} sentences, all-MiniLM-L6-v2, {torch.get_num_threads()} threads")

    t0 = time.perf_counter()
    geo = ours(encoder, texts, min(N_SAMPLES, len(texts)))
    ours_s = time.perf_counter() - t0
    peak = peak_rss_mb()  # before the loop version runs: ours' peak, with the model and libraries loaded
    print(f"ours: {ours_s:.2f} s (peak RSS {peak:.0f} MB)")

    t0 = time.perf_counter()
    ref = loop(encoder, texts)
    loop_s = time.perf_counter() - t0
    print(f"loop: {loop_s:.2f} s (peak RSS {peak_rss_mb():.0f} MB)")

    diff = max_abs_diff(geo, ref)
    print(f"speedup {loop_s / ours_s:.1f}x; largest difference between the two: {diff:.2e}")
    print(
        json.dumps(
            dict(
                ours_s=round(ours_s, 3),
                loop_s=round(loop_s, 3),
                speedup=round(loop_s / ours_s, 2),
                peak_rss_mb=round(peak, 1),
                max_abs_diff=diff,
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
