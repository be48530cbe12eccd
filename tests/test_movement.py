"""How far a run moved and could move (lib.science.movement), the grid's rule (lib.book.selection), the generated
verdict sentences (lib.book.explain) and the claimed-direction early share (lib.book.dynamics)."""

import math

import numpy as np
import pytest
import torch

from lib.book import dynamics, explain, records, selection
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


def _run(pooling, lr, dropout, steps, best):
    return {"status": "finished", "best": {"stsb_dev": best, "step": 25}, "evals": [{"stsb_dev": 50.0}], "params": {}}


def test_the_grid_picks_by_stsb_dev_per_pooling_and_prefers_the_shorter_run_on_ties():
    grid = selection.Grid(lrs=(1e-4, 3e-4), dropouts=(0.1,), steps=(10, 40), keep=1, poolings=("cls", "avg"))
    stage1 = {
        selection.key(p): _run(p["pooling"], p["lr"], p["dropout"], 10, {1e-4: 60.0, 3e-4: 61.0}[p["lr"]])
        for p in grid.stage1()
    }
    assert grid.chosen(stage1) == {"cls": None, "avg": None}  # stage 2 has not run
    stage2 = grid.stage2(stage1)
    assert [(p["pooling"], p["lr"], p["max_steps"]) for p in stage2] == [("cls", 3e-4, 40), ("avg", 3e-4, 40)]
    done = {
        **stage1,
        **{
            selection.key(p): _run(p["pooling"], p["lr"], p["dropout"], 40, 61.0 if p["pooling"] == "cls" else 62.5)
            for p in stage2
        },
    }
    chosen = grid.chosen(done)
    assert (chosen["cls"]["max_steps"], chosen["cls"]["lr"]) == (10, 3e-4)  # a tie: the shorter run
    assert (chosen["avg"]["max_steps"], chosen["avg"]["best_stsb_dev"]) == (40, 62.5)


def test_verdicts_per_variant_and_the_generated_sentence():
    checks = [
        records.above("F1", "a", 1, 0, variant="avg"),
        records.above("F1", "b", 1, 0, variant="avg"),
        records.above("F1", "a", 0, 1, variant="cls"),
        records.untestable("F7", "norm", "the schedule cannot move it", variant="cls"),
    ]
    assert explain.verdicts(checks, "F1") == {"avg": "reproduced", "cls": "not"}
    assert explain.verdicts(checks, "F7") == {"cls": "untestable"}
    text = explain.paragraph(checks, ["F1", "F7"], {"F1": "anisotropy falls with avg"})
    assert "F1 reproduces with `avg` pooling; it does not reproduce with `cls` pooling." in text
    assert "Anisotropy falls with avg." in text and "The schedule cannot move it." in text
    assert records.verdict([records.untestable("F7", "x", "why")]) == "untestable"
    assert list(explain.checks_table(checks).columns) == ["finding", "pooling", "claim", "measured", "bound", "verdict"]


def _record(values):
    return {"snapshots": [{"step": s, "per_layer": [{"anisotropy": v}]} for s, v in values]}


def test_the_early_share_counts_only_movement_in_the_claimed_direction():
    falls_early = _record([(0, 1.0), (10, 0.2), (100, 0.0)])
    assert dynamics.early_share([falls_early], "anisotropy", 0.1, sign=-1) == (10, pytest.approx(0.8))
    overshoots = _record([(0, 1.0), (10, -0.5), (100, 0.5)])  # past the end early: counts as all of it
    assert dynamics.early_share([overshoots], "anisotropy", 0.1, sign=-1)[1] == pytest.approx(1.0)
    wrong_way = _record([(0, 1.0), (10, 1.5), (100, 2.0)])  # rose where a fall is claimed: no claimed movement
    assert np.isnan(dynamics.early_share([wrong_way], "anisotropy", 0.1, sign=-1)[1])
