"""Every CPU benchmark of the project, one after another, then ONE table of their ratios.

    make bench                                  # or: python benchmarks/run_all.py
    python benchmarks/run_all.py --quick        # skip the slow ones (whole training runs)
    python benchmarks/run_all.py --only pretrain --only training --threads 1

Each benchmark runs as its own process (its output streams through as it runs); its last line is one JSON object,
from which the table takes the ratio (ours over the compared side: higher is better) and any check the benchmark
states (results within its tolerance). A ratio passes when it reaches the benchmark's target; a benchmark without
a target is reported, not judged. The ratios are measured on this machine as it is: a background load makes them
noisy (each step benchmark alternates its sides in rounds and prints the per-round ratios; read those for the
noise). The last line is one JSON object: the table's rows. Exit status: 0 when every benchmark ran and met its
target and checks, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Bench:
    name: str
    script: str
    compares: str
    args: list = field(default_factory=list)
    key: str = "ratio"  # the JSON key holding the ratio (higher is better), or a function of the JSON
    target: float | None = None
    check: str | None = None  # a JSON key that must be true (results within the stated tolerance)
    slow: bool = False
    threads: bool = False  # takes --threads


BENCHMARKS = [
    Bench(
        "geometry",
        "bench_geometry.py",
        "Chapter 1's analysis, lib.geometry vs the per-token loops (time)",
        key="speedup",
    ),
    Bench(
        "geometry memory",
        "bench_geometry_memory.py",
        "self-similarity sums kept at bert-base shape, previous layout / ours (MB)",
    ),
    Bench(
        "pretrain fp32",
        "bench_pretrain.py",
        "MLM step vs BertForMaskedLM + collator, L6/H384 (tokens/s)",
        ["--precision", "fp32"],
        target=3.0,
        threads=True,
    ),
    Bench(
        "pretrain bf16",
        "bench_pretrain.py",
        "the same in bf16 autocast (tokens/s)",
        ["--precision", "bf16"],
        target=3.0,
        threads=True,
    ),
    Bench(
        "training fp32",
        "bench_training.py",
        "SimCSE step vs sentence-transformers, pocket-bert (sentences/s)",
        ["--precision", "fp32"],
        target=1.5,
        threads=True,
    ),
    Bench(
        "training bf16",
        "bench_training.py",
        "the same in bf16 autocast (sentences/s)",
        ["--precision", "bf16"],
        target=2.0,
        threads=True,
    ),
    Bench(
        "precision",
        "bench_precision.py",
        "pocket SimCSE run, bf16 vs fp32 (sentences/s); results within tolerance",
        check="within",
        slow=True,
    ),
    Bench(
        "pocket run",
        "bench_pocket_run.py",
        "whole pocket SimCSE run, before / after the engine's speed-ups (wall time); results within tolerance",
        key="before_over_after",
        check="within_tolerances",
        slow=True,
    ),
]


def last_json(lines: list[str]) -> dict | None:
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def run(bench: Bench, python: str, threads: int = 0) -> dict:
    """Run one benchmark (its output streamed through); its row of the table."""
    command = [python, str(HERE / bench.script), *bench.args]
    if threads and bench.threads:
        command += ["--threads", str(threads)]
    print(f"\n=== {bench.name}: {' '.join([Path(command[1]).name, *command[2:]])}", flush=True)
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=HERE.parent) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
    seconds = time.perf_counter() - t0
    row = dict(
        name=bench.name, compares=bench.compares, target=bench.target, seconds=round(seconds), exit_code=proc.returncode
    )
    result = last_json(lines)
    if result is None:
        return dict(row, ratio=None, result="error", why=f"exit {proc.returncode}, no JSON line")
    if bench.key == "before_over_after":
        ratio = result["before_s"] / result["after_s"]
    else:
        ratio = result.get(bench.key)
    row["ratio"] = None if ratio is None else round(float(ratio), 3)
    checks = []
    if bench.target is not None and ratio is not None:
        checks.append(ratio >= bench.target)
    if bench.check:
        checks.append(bool(result.get(bench.check)))
    if ratio is None:
        row.update(result="error", why=f"no '{bench.key}' in its JSON line")
    elif proc.returncode != 0 and not bench.check:  # (a checked benchmark exits 1 when its check fails)
        row.update(result="error", why=f"exit {proc.returncode}")
    else:
        row["result"] = ("pass" if all(checks) else "FAIL") if checks else "-"
        if bench.check:
            row[bench.check] = bool(result.get(bench.check))
    for extra in ("cpu_ratio", "round_ratios"):
        if extra in result:
            row[extra] = result[extra]
    return row


def table(rows: list[dict]) -> str:
    head = f"{'benchmark':16s} {'compared':86s} {'ratio':>7s} {'target':>7s}  result"
    out = [head, "-" * len(head)]
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if r.get("ratio") is not None else "-"
        target = f">={r['target']:g}x" if r.get("target") is not None else "-"
        result = r["result"] + (f" ({r['why']})" if r.get("why") else "")
        out.append(f"{r['name']:16s} {r['compares'][:86]:86s} {ratio:>7s} {target:>7s}  {result}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the slow benchmarks (whole training runs)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only the benchmarks whose name contains NAME (repeatable)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads for the step benchmarks (default: torch's; on a machine with a background "
        "load, 1 keeps OpenMP's threads from waiting on each other)",
    )
    args = parser.parse_args()
    chosen = [
        b for b in BENCHMARKS if not (args.quick and b.slow) and (not args.only or any(o in b.name for o in args.only))
    ]
    skipped = [b.name for b in BENCHMARKS if b not in chosen]
    rows = [run(b, sys.executable, args.threads) for b in chosen]
    print("\n" + table(rows))
    if skipped:
        print(f"not run: {', '.join(skipped)}")
    print(
        "ratio: ours over the compared side (higher is better); measured on this machine as it is, so a "
        "background load makes it noisy -- see each benchmark's per-round ratios above."
    )
    print(json.dumps(dict(rows=rows, skipped=skipped)))
    return 0 if all(r["result"] in ("pass", "-") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
