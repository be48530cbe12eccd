"""A whole pocket SimCSE run (250 steps with its STS-B dev evaluations and geometry snapshots, as the chapters
train it), before and after the engine's speed-ups, in one command.

    python benchmarks/bench_pocket_run.py                      # the baseline commit vs this checkout
    python benchmarks/bench_pocket_run.py --baseline 0123abc   # any other commit as the baseline

*before*: ``python -m lib.train simcse --scale pocket`` from a temporary git worktree at ``--baseline`` (default:
the last commit before the speed-ups); *after*: the same command from this checkout. Both run one after the other
on the same machine, same seed, same data. The ratio is after / before wall time of the whole command.

The speed-ups change the dropout masks' random stream (:mod:`lib.science.dropout`), so the two runs differ as two
training seeds do. The tolerances were stated before measuring, as three times the seed-0 vs seed-1 difference of
the published pocket runs (chapter 5, commit cca2a35): best STS-B dev 0.34 -> 1.0 point; at the last snapshot's
last layer, anisotropy 0.0035 -> 0.0105, IntraSim* 0.0017 -> 0.005, mean norm 0.0013 -> 0.004, functional
SelfSim* 0.0019 -> 0.006. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "c86abd0"  # the engine before lib.science.dropout, the allocator setting and the cheaper evaluations
TOLERANCES = {
    "best_stsb_dev": 1.0,
    "anisotropy": 0.0105,
    "intra_sim_adj": 0.005,
    "norm": 0.004,
    "self_sim_functional_adj": 0.006,
}


def train(checkout: Path, out_dir: Path, extra: list[str]) -> tuple[float, dict]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(checkout))
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "lib.train",
            "simcse",
            "--scale",
            "pocket",
            "--quiet",
            "--out_dir",
            str(out_dir),
            "--cache_dir",
            str(out_dir.parent / "cache"),
            *extra,
        ],
        cwd=checkout,
        env=env,
        check=True,
    )
    seconds = time.perf_counter() - t0
    return seconds, json.loads((out_dir / "train.json").read_text())


def summary(record: dict) -> dict:
    snap = record["snapshots"][-1]
    last = snap["per_layer"][-1]
    return dict(
        best_stsb_dev=record["best"]["stsb_dev"],
        anisotropy=last["anisotropy"],
        intra_sim_adj=last["intra_sim_adj"],
        norm=last["norm"],
        self_sim_functional_adj=snap["self_sim_functional"][-1] - last["anisotropy"],
        train_seconds=record["throughput"]["seconds"],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="the commit whose engine is timed as 'before'")
    parser.add_argument("-p", "--param", action="append", default=[], help="passed to both runs (NAME=VALUE)")
    args = parser.parse_args()
    extra = [x for p in args.param for x in ("-p", p)]
    with tempfile.TemporaryDirectory(prefix="bench-pocket-") as tmp:
        tmp = Path(tmp)
        worktree = tmp / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            before_s, before = train(worktree, tmp / "before" / "run", extra)
            after_s, after = train(ROOT, tmp / "after" / "run", extra)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False, capture_output=True
            )
    b, a = summary(before), summary(after)
    print(f"{'':28s} {'before':>10s} {'after':>10s} {'|diff|':>8s} {'tolerance':>9s}")
    print(f"{'wall time (s)':28s} {before_s:10.1f} {after_s:10.1f}")
    print(f"{'of which training steps (s)':28s} {b['train_seconds']:10.1f} {a['train_seconds']:10.1f}")
    within = {}
    for key, tol in TOLERANCES.items():
        diff = abs(a[key] - b[key])
        within[key] = diff <= tol
        print(f"{key:28s} {b[key]:10.4f} {a[key]:10.4f} {diff:8.4f} {tol:9.4f} {'ok' if within[key] else 'OUT'}")
    ratio = after_s / before_s
    print(f"after / before wall time: {ratio:.3f} ({before_s / after_s:.2f}x faster)")
    print(
        json.dumps(
            dict(
                before_s=round(before_s, 1),
                after_s=round(after_s, 1),
                ratio=round(ratio, 3),
                baseline=args.baseline,
                within_tolerances=all(within.values()),
                before=b,
                after=a,
            )
        )
    )
    return 0 if all(within.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
