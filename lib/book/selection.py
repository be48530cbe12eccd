"""Choosing the pocket SimCSE schedule the way SimCSE chooses its own: by STS-B dev only.

SimCSE tunes its unsupervised runs on STS-B dev and keeps the best dev checkpoint; it never looks at the geometry
this book measures. The pocket schedule is chosen the same way, by a grid stated before any run: for each pooling
(``cls``, SimCSE's default, and ``avg``, the pooling of the contrastive models the paper analysed), every learning
rate and every dropout of the grid (dropout is SimCSE's only augmentation: its strength sets how hard the positive
pairs are), 250 steps each, seed 0. **Rule:** per pooling, the setting with the best STS-B dev at its best
checkpoint. Every other parameter is SimCSE's default (batch 64, max_len 32, temperature 0.05) from the PLM.

The grid chooses the *short* schedule only. The full-budget schedule of chapters 3-5 is not chosen: it spends
SimCSE's summed learning rate (:attr:`lib.science.training.SimCSEConfig.SCHEDULES`).

    python -m lib.book.plan 02 --train     # train the grid's missing runs (resumable), then print the table
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import training_runs


@dataclass(frozen=True)
class Grid:
    poolings: tuple = ("cls", "avg")
    lrs: tuple = (3e-5, 1e-4, 3e-4)
    dropouts: tuple = (0.1, 0.2)
    steps: int = 250
    scale: str = "pocket"
    model: str = "pocket-bert"
    data_dir: str = ""
    device: str = "auto"
    extra: tuple = ()  # other SimCSE parameters, as (name, value) pairs

    def params(self, pooling: str, lr: float, dropout: float) -> dict:
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
            max_steps=self.steps,
        )

    def configs(self) -> list:
        """Every run of the grid, resolved (so checked) once."""
        from ..science import training

        return [
            training.resolve("simcse", self.params(pool, lr, d))
            for pool in self.poolings
            for lr in self.lrs
            for d in self.dropouts
        ]

    def records(self, train_missing: bool = False, progress: bool = True) -> dict[tuple, dict]:
        """``{(pooling, lr, dropout, max_steps): train.json}`` of every run of the grid that exists (trained first
        when ``train_missing``)."""
        records = {}
        for cfg in self.configs():
            if train_missing:
                records[key(cfg)] = training_runs.ensure(cfg, progress=progress)[1]
            elif (record := training_runs.status(cfg)) is not None:
                records[key(cfg)] = record
        return records

    def chosen(self, records: dict[tuple, dict]) -> dict[str, dict | None]:
        """Per pooling, the winning setting under the rule (None while its runs are not all finished)."""
        out = {}
        for pool in self.poolings:
            runs = [(k, best_dev(r)) for k, r in records.items() if k[0] == pool]
            if len(runs) < len(self.lrs) * len(self.dropouts) or any(v is None for _, v in runs):
                out[pool] = None
                continue
            (p, lr, d, steps), dev = max(runs, key=lambda kv: kv[1])
            out[pool] = dict(pooling=p, lr=lr, dropout=d, max_steps=steps, best_stsb_dev=dev)
        return out


def from_params(params: dict) -> Grid:
    """Chapter 2's grid from its parameters."""
    return Grid(
        lrs=tuple(params["grid_lrs"]),
        dropouts=tuple(params["grid_dropouts"]),
        steps=params["grid_steps"],
        scale=params["scale"],
        model=params["plm"],
        data_dir=params["data_dir"],
        device=params["device"],
        extra=tuple(sorted(params["simcse"].items())),
    )


def configs(params: dict) -> list:
    """The training runs of chapter 2's grid (``lib.book.plan``)."""
    return from_params(params).configs()


def key(cfg) -> tuple:
    return cfg.pooling, cfg.lr, cfg.dropout, cfg.max_steps


def best_dev(record: dict | None) -> float | None:
    """The best STS-B dev of a finished run during training (the start excluded), else None."""
    if not record or record.get("status") != "finished":
        return None
    return (record.get("best") or {}).get("stsb_dev")


def table(records: dict[tuple, dict]) -> pd.DataFrame:
    """One row per run: pooling, lr, dropout, steps, STS-B dev at the start, best (and its step), at the end."""
    rows = []
    for (pool, lr, d, steps), rec in sorted(records.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        evals = rec.get("evals") or []
        rows.append(
            dict(
                pooling=pool,
                lr=lr,
                dropout=d,
                steps=steps,
                status=rec.get("status"),
                start=evals[0]["stsb_dev"] if evals else None,
                best=best_dev(rec),
                best_step=(rec.get("best") or {}).get("step"),
                end=evals[-1]["stsb_dev"] if evals and rec.get("status") == "finished" else None,
            )
        )
    return pd.DataFrame(rows)
