"""How far a run moved and could move (lib.science.movement), the grid's rule (lib.book.selection), the generated
verdict sentences (lib.book.explain) and the claimed-direction early share (lib.book.dynamics)."""

import math

import numpy as np
import pytest
import torch

from lib.book import dynamics, explain, results, selection
from lib.science import models, movement


def test_summed_lr_of_the_linear_schedule():
    assert movement.summed_lr(1.0, 4) == pytest.approx(1 + 0.75 + 0.5 + 0.25)
    assert movement.summed_lr(3e-5, 250) == pytest.approx(3e-5 * 251 / 2)  # about 0.0038: the old pocket run
    assert movement.summed_lr(3e-5, 15625) == pytest.approx(0.2344, abs=1e-4)  # SimCSE's epoch
    assert movement.summed_lr(1.0, 10, warmup=5) == pytest.approx(
        sum(t / 5 for t in range(5)) + sum((10 - t) / 5 for t in range(5, 10))
    )
    assert movement.summed_lr(1.0, 100, upto=10) == pytest.approx(sum((100 - t) / 100 for t in range(10)))


def test_relative_change_and_the_last_layernorm():
    before = models.load("tiny-random-bert", "cpu").model
    after = models.load("tiny-random-bert", "cpu").model
    with torch.no_grad():
        after.encoder.layer[1].output.dense.weight.mul_(1.5)
        after.encoder.layer[1].output.LayerNorm.weight.fill_(2.0)
    change = movement.relative_change(before, after)
    assert list(change) == ["embeddings", "layer 1", "layer 2"]
    assert change["embeddings"] == 0 and change["layer 1"] == 0 and change["layer 2"] > 0.1
    gamma, beta = movement.last_layernorm(after)
    assert np.allclose(gamma, 2.0) and beta.shape == gamma.shape
    # a 10 % norm change needs the gains to move by ~10 % of their mean: 2 x 0.004 / 0.95 is far below it
    assert movement.norm_change_bound(0.004, np.full(384, 0.95)) == pytest.approx(2 * 0.004 / 0.95)
    assert movement.ADAM_STEP_BOUND == pytest.approx(0.1 / math.sqrt(0.001))


def _run(best):
    return {"status": "finished", "best": {"stsb_dev": best, "step": 25}, "evals": [{"stsb_dev": 50.0}], "params": {}}


def test_the_grid_picks_by_stsb_dev_per_pooling():
    grid = selection.Grid(
        lrs=(1e-4, 3e-4), dropouts=(0.1, 0.2), steps=10, poolings=("cls", "avg"), model="tiny-random-bert"
    )
    configs = grid.configs()
    assert len(configs) == 8 and {c.max_steps for c in configs} == {10}
    scores = {
        (c.pooling, c.lr, c.dropout): 60.0 + (c.lr == 3e-4) + (c.dropout == 0.2) * (c.pooling == "avg") for c in configs
    }
    done = {selection.key(c): _run(scores[c.pooling, c.lr, c.dropout]) for c in configs}
    chosen = grid.chosen(done)
    assert (chosen["cls"]["lr"], chosen["cls"]["dropout"]) == (3e-4, 0.1)  # a tie on dropout: the first stated
    assert (chosen["avg"]["lr"], chosen["avg"]["dropout"], chosen["avg"]["best_stsb_dev"]) == (3e-4, 0.2, 62.0)
    assert grid.chosen(dict(list(done.items())[:-1]))["avg"] is None  # not every run has finished


def test_the_closing_paragraph_says_what_the_rule_found_with_its_numbers():
    kw = dict(variant="cls", checkpoint="end")
    checks = [
        results.direction("F1", "last-layer A, CL − PLM", [0.03, 0.034, 0.036], -1, primary=True, **kw),
        results.size("F1", "CL's A", [0.16, 0.17, 0.165], 0.02, "<=", primary=True, **kw),
        results.direction("F1", "last-layer A, CL − PLM", [-0.05, -0.06, -0.055], -1, variant="avg", checkpoint="end"),
        results.direction("F1", "last-layer A, CL − PLM", [0.001, -0.002, 0.0], -1, variant="control",
                          checkpoint="end", role="null control"),
    ]  # fmt: skip
    text = explain.finding_paragraph(checks, "F1", "isotropy")
    assert text.startswith("**F1 (isotropy) is contradicted** at SimCSE's default setting (`cls · end`)")
    assert "Δ +0.0333 [+0.0257, +0.0409]" in text and "**not reached**" in text
    assert (
        "`avg · end` supported — not robust" in text
        and "null control (the PLM moved as far, at random) is inconclusive" in text
    )
    assert "how sure: **qualified**" in text
    table = explain.checks_table(checks)
    assert list(table.columns) == [
        "finding",
        "setting",
        "role",
        "claim",
        "effect [95 % interval]",
        "n",
        "verdict",
        "notes",
    ]
    assert table.loc[0, "verdict"] == "contradicted (paper: −)" and table.loc[1, "notes"] == "target ≤ 0.02"


def _record(values):
    return {"snapshots": [{"step": s, "per_layer": [{"anisotropy": v}]} for s, v in values]}


def test_the_early_share_counts_only_movement_in_the_claimed_direction():
    falls_early = _record([(0, 1.0), (10, 0.2), (100, 0.0)])
    assert dynamics.early_share([falls_early], "anisotropy", 0.1, sign=-1) == (10, pytest.approx(0.8))
    overshoots = _record([(0, 1.0), (10, -0.5), (100, 0.5)])  # past the end early: counts as all of it
    assert dynamics.early_share([overshoots], "anisotropy", 0.1, sign=-1)[1] == pytest.approx(1.0)
    wrong_way = _record([(0, 1.0), (10, 1.5), (100, 2.0)])  # rose where a fall is claimed: no claimed movement
    assert np.isnan(dynamics.early_share([wrong_way], "anisotropy", 0.1, sign=-1)[1])
