"""Choosing the pocket SimCSE schedule the way SimCSE chooses its own: by STS-B dev only.

SimCSE tunes its unsupervised runs on STS-B dev and keeps the best dev checkpoint; it never looks at the geometry
this book measures. The pocket schedule is chosen the same way, in two stages stated before any run:

1. **Stage 1** (250 steps, the length of the earlier pocket runs): for each pooling (``cls``, SimCSE's default, and
   ``avg``, the pooling of the contrastive models the paper analysed), every learning rate and every dropout of
   the grid (dropout is SimCSE's only augmentation: its strength sets how hard the positive pairs are).
2. **Stage 2** (1,000 steps): for each pooling, the ``keep`` best (learning rate, dropout) settings of stage 1.
   Stated with ``keep=2``; the four 1,000-step runs (about 25 minutes each on one core) did not fit the session
   that trained the book, so the published grid has ``keep=0``: stage 1 only (``Grid(keep=2)`` runs it).

**Rule:** per pooling, the setting with the best STS-B dev at its best checkpoint (ties: the shorter run). Every
other parameter is SimCSE's default (batch 64, max_len 32, temperature 0.05) from the PLM, seed 0.

    python -m lib.book.selection          # train every missing run of both stages (resumable), print the table
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pandas as pd

from . import training_runs


@dataclass(frozen=True)
class Grid:
    poolings: tuple = ("cls", "avg")
    lrs: tuple = (3e-5, 1e-4, 3e-4)
    dropouts: tuple = (0.1, 0.2)
    steps: tuple = (250, 1000)  # stage 1's length, stage 2's
    keep: int = 0  # settings per pooling carried into stage 2 (stated: 2; not trained yet)
    scale: str = "pocket"
    model: str = "pocket-bert"
    data_dir: str = ""
    device: str = "auto"
    extra: tuple = ()  # other SimCSE parameters, as (name, value) pairs

    def params(self, pooling: str, lr: float, dropout: float, max_steps: int) -> dict:
        return dict(
            scale=self.scale,
            model=self.model,
            seed=0,
            data_dir=self.data_dir,
            device=self.device,
            **dict(self.extra),
            pooling=pooling,
            lr=lr,
            dropout=dropout,
            max_steps=max_steps,
        )

    def stage1(self) -> list[dict]:
        return [
            self.params(pool, lr, d, self.steps[0]) for pool in self.poolings for lr in self.lrs for d in self.dropouts
        ]

    def stage2(self, records: dict[tuple, dict]) -> list[dict]:
        """The best ``keep`` stage-1 settings per pooling at the longer schedule (once stage 1 has finished)."""
        out = []
        for pool in self.poolings:
            scored = [(best_dev(records.get(key(p))), p) for p in self.stage1() if p["pooling"] == pool]
            if any(score is None for score, _ in scored):
                return []
            for _, p in sorted(scored, key=lambda sp: -sp[0])[: self.keep]:
                out.append(dict(p, max_steps=self.steps[1]))
        return out

    def collect(self, train_missing: bool = False, progress: bool = True) -> dict[tuple, dict]:
        """``{(pooling, lr, dropout, max_steps): train.json}`` of every run of both stages that exists (trained
        first when ``train_missing``)."""
        records = {}

        def visit(p):
            if train_missing:
                records[key(p)] = training_runs.ensure("simcse", p, progress=progress)[1]
            elif (record := training_runs.status("simcse", p)) is not None:
                records[key(p)] = record

        for p in self.stage1():
            visit(p)
        for p in self.stage2(records):
            visit(p)
        return records

    def chosen(self, records: dict[tuple, dict]) -> dict[str, dict | None]:
        """Per pooling, the winning setting under the rule (None while its runs are not all finished)."""
        out = {}
        for pool in self.poolings:
            runs = [(k, best_dev(r)) for k, r in records.items() if k[0] == pool]
            if len(runs) < len(self.lrs) * len(self.dropouts) + self.keep or any(v is None for _, v in runs):
                out[pool] = None
                continue
            (p, lr, d, steps), dev = max(runs, key=lambda kv: (kv[1], -kv[0][3]))
            out[pool] = dict(pooling=p, lr=lr, dropout=d, max_steps=steps, best_stsb_dev=dev)
        return out


def key(p: dict) -> tuple:
    return p["pooling"], p["lr"], p["dropout"], p["max_steps"]


def best_dev(record: dict | None) -> float | None:
    """The best STS-B dev of a finished run during training (the start excluded), else None."""
    if not record or record.get("status") != "finished":
        return None
    return (record.get("best") or {}).get("stsb_dev")


def table(records: dict[tuple, dict], grid: Grid = Grid()) -> pd.DataFrame:
    """One row per run: pooling, lr, dropout, steps, STS-B dev at the start, best (and its step), at the end."""
    rows = []
    for (pool, lr, d, steps), rec in sorted(records.items(), key=lambda kv: (kv[0][0], kv[0][3], kv[0][1], kv[0][2])):
        evals = rec.get("evals") or []
        rows.append(
            dict(
                pooling=pool,
                lr=lr,
                dropout=d,
                steps=steps,
                stage=1 if steps == grid.steps[0] else 2,
                status=rec.get("status"),
                start=evals[0]["stsb_dev"] if evals else None,
                best=best_dev(rec),
                best_step=(rec.get("best") or {}).get("step"),
                end=evals[-1]["stsb_dev"] if evals and rec.get("status") == "finished" else None,
            )
        )
    return pd.DataFrame(rows)


def work(grid: Grid, poll_s: float = 30.0) -> dict[tuple, dict]:
    """Train the grid's missing runs, skipping any run another process is training (so several workers, one per
    core, share the grid); returns when every run of both stages has finished."""
    import time

    from ..science.training import TrainingError

    while True:
        records, busy = {}, 0
        for stage in (grid.stage1, lambda: grid.stage2(records)):
            for p in stage():
                try:
                    records[key(p)] = training_runs.ensure("simcse", p, wait=False)[1]
                except TrainingError:
                    busy += 1
        if not busy and len(grid.stage2(records)) == grid.keep * len(grid.poolings):
            return records
        time.sleep(poll_s)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    grid = Grid()
    records = work(grid) if "--worker" in argv else grid.collect(train_missing=True)
    pd.set_option("display.width", 160)
    print(table(records, grid).to_string(index=False))
    print(grid.chosen(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
