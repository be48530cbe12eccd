"""bf16 autocast against fp32 for pocket SimCSE on the CPU: the speed gained and how far the results move.

    python benchmarks/bench_precision.py [--steps 100] [--eval-steps 25]

Two SimCSE runs of the engine from pocket-bert with the pocket preset and the same seed, one in fp32 and one with
bf16 autocast (weights and optimiser in float32 either way), each into a temporary folder. Compared: STS-B dev at
every evaluation, and at the last step the last layer's anisotropy, adjusted intra-sentence similarity and mean
norm on the analysis sentences. The tolerance the pocket preset's bf16 is held to (stated before measuring): STS-B
dev within 1.0 point at every evaluation and the last-layer geometry within 0.02 (cosines) and 2 % (norm).
The last line is one JSON object with keys fp32_sps, bf16_sps, ratio, max_stsb_diff, geometry_diff, within.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.science import training  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--eval-steps", type=int, default=25)
    parser.add_argument("--model", default="pocket-bert")
    args = parser.parse_args()
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision in ("fp32", "bf16"):
            runs[precision] = training.train(
                "simcse",
                dict(
                    scale="pocket",
                    model=args.model,
                    precision=precision,
                    max_steps=args.steps,
                    eval_steps=args.eval_steps,
                    snapshot_steps=[args.steps],
                    checkpoint_steps=10**6,
                ),
                Path(tmp) / precision,
                progress=False,
            )
    sps = {k: r["throughput"]["sentences_per_s"] for k, r in runs.items()}
    stsb = {k: [e["stsb_dev"] for e in r["evals"]] for k, r in runs.items()}
    max_stsb = max(abs(a - b) for a, b in zip(stsb["fp32"], stsb["bf16"]))
    last = {k: r["snapshots"][-1]["per_layer"][-1] for k, r in runs.items()}
    geometry = {m: abs(last["fp32"][m] - last["bf16"][m]) for m in ("anisotropy", "intra_sim_adj")}
    geometry["norm_relative"] = abs(last["fp32"]["norm"] - last["bf16"]["norm"]) / last["fp32"]["norm"]
    within = (
        max_stsb <= 1.0
        and geometry["anisotropy"] <= 0.02
        and geometry["intra_sim_adj"] <= 0.02
        and geometry["norm_relative"] <= 0.02
    )
    print(
        f"SimCSE from {args.model}, {args.steps} steps: fp32 {sps['fp32']:.1f} sentences/s, bf16 {sps['bf16']:.1f} "
        f"(x{sps['bf16'] / sps['fp32']:.2f})"
    )
    print(f"STS-B dev fp32 {[round(v, 2) for v in stsb['fp32']]}")
    print(f"STS-B dev bf16 {[round(v, 2) for v in stsb['bf16']]}")
    print(
        f"largest STS-B dev difference {max_stsb:.2f}; last-layer geometry differences {geometry}; "
        f"{'within' if within else 'OUTSIDE'} the stated tolerance"
    )
    print(
        json.dumps(
            dict(
                fp32_sps=round(sps["fp32"], 2),
                bf16_sps=round(sps["bf16"], 2),
                ratio=round(sps["bf16"] / sps["fp32"], 3),
                max_stsb_diff=round(max_stsb, 3),
                geometry_diff={k: round(v, 5) for k, v in geometry.items()},
                within=within,
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
