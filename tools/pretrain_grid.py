"""The small grid behind pocket-bert's recipe, written to models/pocket-bert/grid.json.

    python tools/pretrain_grid.py [--session runs/device-session-1/session.json]

CPU rows: one lever at a time (dropout, peak learning rate) around a base recipe (a 4-layer, 256-dimensional
BERT; 300 steps of 128 sentences; peak lr 1e-3, 6 % warm-up, no dropout, sentences of at most 64 tokens, bf16
autocast), each trained through the engine (runs/train/..., reused when present) and measured the same way:
held-out masked-token accuracy (2,000 held-out sentences) and STS-B dev. GPU rows: the runs of the lent H100
(tools/device_session.sh), read from its session bundle, and the committed pocket-bert record.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.book import training_runs  # noqa: E402
from lib.science.files import atomic_write_text  # noqa: E402

BASE = dict(
    scale="pocket",
    model="L4-H256-A4-I1024",
    batch_size=128,
    max_steps=300,
    eval_steps=300,
    heldout=2000,
    checkpoint_steps=300,
    lr=1e-3,
    dropout=0.0,
    max_len=64,
    device="cpu",
)
LEVERS = [
    ("base (L4/H256, lr 1e-3, no dropout, 64 tokens)", {}),
    ("dropout 0.1 during pre-training", dict(dropout=0.1)),
    ("peak lr 5e-4", dict(lr=5e-4)),
]
# (the shape lever is measured on the GPU rows: pocket-bert's L6/H384; a CPU run of it costs 3x the base's)


def row(name: str, where: str, record: dict) -> dict:
    last = (record.get("curve") or record["evals"])[-1]
    p, sched = record["params"], record["schedule"]
    return dict(
        run=name,
        device=where,
        shape=p["model"],
        lr=p["lr"],
        dropout=p["dropout"],
        max_len=p["max_len"],
        batch=sched["global_batch"],
        steps=sched["max_steps"],
        sentences_seen=sched["max_steps"] * sched["global_batch"],
        heldout_accuracy=last["heldout_accuracy"],
        stsb_dev=last["stsb_dev"],
        stsb_dev_cls=last["stsb_dev_cls"],
        train_seconds=record["throughput"]["seconds"],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--session", default=str(ROOT / "runs" / "device-session-1" / "session.json"))
    args = parser.parse_args()
    rows = []
    session = Path(args.session)
    if session.is_file():
        runs = json.loads(session.read_text())["runs"]
        for name, label in (("A", "H100: peak lr 1e-3, equal budget"), ("B", "H100: peak lr 5e-4, equal budget")):
            if name in runs:
                rows.append(row(label, "H100 (two runs at once)", runs[name]))
    record = json.loads((ROOT / "models" / "pocket-bert" / "record.json").read_text())
    rows.append(row("H100: lr 1e-3, 7,000 steps = pocket-bert", "H100", record))
    for label, change in LEVERS:
        _, rec = training_runs.ensure("mlm", dict(BASE, **change), progress=True)
        rows.append(row(f"CPU: {label}", "CPU (2 cores)", rec))
        print(rows[-1], flush=True)
    out = ROOT / "models" / "pocket-bert" / "grid.json"
    atomic_write_text(out, json.dumps(dict(made_by="tools/pretrain_grid.py", runs=rows), indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
