"""Memory of the self-similarity sums at bert-base shape (random weights), against the previous layout.

    make bench          # or: python benchmarks/bench_geometry_memory.py [--sentences N] [--corpus wiki]

A seeded, randomly initialised BertModel with bert-base's shape (12 layers, 768 dimensions, 30,522 WordPiece ids)
is analysed over STS-B test `sentence1` (or the first N corpus sentences with ``--corpus wiki``: a larger
vocabulary). Reported, for the arrays an analysis keeps:

- *ours*: float64 sums of unit vectors for the ids that enter a layer mean (>= 5 counts and >= 2 contexts);
  contributions are derived from them on demand;
- *before*: the previous layout, float64 sums for every id counted >= 5 times plus a float32 contributions array
  of the same shape (``n_states x V x d`` each), computed from the same plan.

The process's peak RSS during the analysis is measured too. The last line is one JSON object with keys ours_mb,
before_mb, ratio, peak_rss_mb, n_measured, n_counted.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.science import data, encode, geometry, occurrences, tiny  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=0, help="first N sentences only (0: all)")
    parser.add_argument("--corpus", choices=["stsb", "wiki"], default="stsb")
    parser.add_argument("--data-dir", default="")
    args = parser.parse_args()

    from transformers import BertConfig, BertModel

    if args.corpus == "stsb":
        texts = data.sentences(data.load("stsb", "test", args.data_dir), "sentence1", args.sentences)
    else:
        texts = data.load("wiki", "train", args.data_dir, limit=args.sentences or 10_000).columns["text"]
    tokenizer = tiny.bert_tokenizer()
    torch.manual_seed(0)
    model = BertModel(BertConfig(), add_pooling_layer=False).eval()  # bert-base shape, random weights
    before_rss = peak_rss_mb()
    geo = geometry.analyse_model(
        model, tokenizer, texts, [0], n_samples=min(1000, len(texts)), batch_size=32, max_length=128, progress=False
    )
    peak = peak_rss_mb()
    plan = occurrences.plan_tokens(encode.tokenize(tokenizer, texts, 128), tokenizer.pad_token_id)
    n_states, d = geo.n_states, model.config.hidden_size
    ours = geo.unit_sum.nbytes / 2**20
    before = n_states * len(plan.vocab_ids) * d * (8 + 4) / 2**20
    print(f"{len(texts)} {args.corpus} sentences, bert-base shape ({n_states} states x {d} dims), random weights")
    print(f"ids counted >= 5 times: {len(plan.vocab_ids)}; entering a mean: {int(plan.measured.sum())}")
    print(
        f"sums kept: ours {ours:.1f} MB, before {before:.1f} MB (x{before / ours:.2f}); "
        f"peak RSS {peak:.0f} MB (model and libraries loaded: {before_rss:.0f} MB)"
    )
    print(
        json.dumps(
            dict(
                ours_mb=round(ours, 2),
                before_mb=round(before, 2),
                ratio=round(before / ours, 2),
                peak_rss_mb=round(peak, 1),
                n_measured=int(plan.measured.sum()),
                n_counted=len(plan.vocab_ids),
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
