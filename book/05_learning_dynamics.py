# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   srl:
#     title: The learning dynamics of SimCSE
#     ci_scale: smoke
#     scales:
#       smoke:
#         plm: tiny-random-bert
#       pocket: {}
#       paper:
#         plm: bert-base-uncased
# ---

# %% [markdown]
# # 5 · The learning dynamics of SimCSE (F9)
#
# Chapters 3 and 4 compare the encoder before and after contrastive learning. The paper also follows the path
# between them {cite}`xiao2023isotropy`: under SimCSE's default setting, the anisotropy falls, intra-sentence
# similarity rises, the space moves toward the origin and functional tokens lose self-similarity — and *most of
# it happens early* in training.
#
# The training engine measures Chapter 1's geometry on the analysis sentences (STS-B test `sentence1`) at
# log-spaced steps of every SimCSE run (0, 10, 25, 50, 100, 250, …, the last), in eval mode, and STS-B dev every
# `eval_steps`. This chapter reads those snapshots — training the runs first if they are missing — for two seeds,
# to tell movements from seed noise. With `runs` it shows any other finished runs instead.

# %% tags=["parameters"]
plm: str = "pocket-bert"  # SimCSE starts from this model
runs: list = []  # finished training folders (with train.json) to show instead of training from `plm`
train_seeds: list = [0, 1]  # one SimCSE run per seed
temperature: float = 0.05
pooling: str = "cls"
batch_size: int = 64
lr: float = 3e-05
max_steps: int = 0
dropout: float = 0.1
early_share: float = 0.1  # early: the first tenth of the steps
device: str = "auto"
data_dir: str = ""
out_dir: str = ""
scale: str = "pocket"

# %% tags=["hide-input"]
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import charts, dynamics, pairs, tables, training_runs
from lib.book.chapter_run import ChapterRun
from lib.science import devices, models, training
from lib.science import params as P

P.scale(scale)
train_seeds = P.seeds("train_seeds", train_seeds, minimum_count=1)
P.number("early_share", early_share, above=0, maximum=1)
if not isinstance(runs, list) or not all(isinstance(r, str) for r in runs):
    raise P.ParameterError("runs", runs, "expected a list of training folders, each holding a train.json")
for folder in runs:
    if training.read_status(folder) is None:
        raise P.ParameterError("runs", runs, f"{folder} holds no train.json")
devices.resolve_device(device)
if not runs:
    models.resolve(plm)
    knobs = dict(temperature=temperature, pooling=pooling, batch_size=batch_size, lr=lr, max_steps=max_steps,
                 dropout=dropout)
    plans = {seed: pairs.simcse_params(scale, plm, data_dir, device, seed, **knobs) for seed in train_seeds}
    for p_ in plans.values():
        training.resolve_params("simcse", p_)
params = dict(plm=plm, runs=runs, train_seeds=train_seeds, temperature=temperature, pooling=pooling,
              batch_size=batch_size, lr=lr, max_steps=max_steps, dropout=dropout, early_share=early_share,
              device=device, data_dir=data_dir, out_dir=out_dir, scale=scale)
run = ChapterRun("05_learning_dynamics", params)
if scale == "smoke":
    run.not_comparable("smoke scale: 20 SimCSE steps of a tiny random encoder say nothing about the paper's claims")
charts.enable_offline()

# %% tags=["hide-input"]
records = {}
if runs:
    for folder in runs:
        records[Path(folder).parent.name + "/" + Path(folder).name] = training.read_status(folder)
else:
    for seed, p_ in plans.items():
        records[f"seed {seed}"] = training_runs.ensure("simcse", p_)[1]
for name, rec in records.items():
    if rec["status"] != "finished" or len(rec["snapshots"]) < 3:
        raise P.ParameterError("runs", name, "each run must be finished and hold at least 3 geometry snapshots")
first = next(iter(records.values()))
n_layers = len(first["snapshots"][0]["per_layer"])
max_steps_run = first["schedule"]["max_steps"]
display(Markdown(
    f"{len(records)} SimCSE run(s) from `{first['params']['model']}`: {max_steps_run} steps of "
    f"{first['schedule']['global_batch']} sentences, τ = {first['params']['temperature']}, "
    f"`{first['params']['pooling']}` pooling; snapshots at steps "
    f"{', '.join(str(s['step']) for s in first['snapshots'])}."))

# %% [markdown]
# ## The curves
#
# Pick the layer with the selector (the last layer by default); hover a point for its value. Step 0 is drawn at 1
# on the log axis. SelfSim of a class is the mean self-similarity of its ids (functional: stopwords, punctuation,
# special tokens; Chapter 4); the function → content cosine is Chapter 4's F3 measure; the top-1 share is Chapter
# 1's rogue-dimension measure (mean-vector reading).

# %% tags=["hide-input"]
charts.over_steps(dynamics.curves(records), "SimCSE's learning dynamics (pick a layer)", series="series",
                  layer_select=True)

# %% [markdown]
# ## The claims, and the tolerances stated before measuring
#
# At the **last layer**, between the first snapshot (step 0) and the last, averaged over the seeds:
#
# * **directions** (F9): anisotropy falls, adjusted intra-sentence similarity rises, the mean token norm falls,
#   functional tokens' adjusted self-similarity falls — each by more than twice the difference between the two
#   seeds at the end (a movement smaller than that is seed noise); with one seed, by any amount;
# * **mostly early**: over those four metrics, the mean share of the total change already reached at
#   `early_share` of the steps (the first snapshot at or after it) is at least one half.

# %% tags=["hide-input"]
DIRECTIONS = {"anisotropy": -1, "intra_sim_adj": +1, "norm": -1, "self_sim_functional_adj": -1}
NAMES = {"anisotropy": "anisotropy", "intra_sim_adj": "IntraSim*", "norm": "mean token norm",
         "self_sim_functional_adj": "functional SelfSim*"}
movement, shares = {}, {}
for key, sign in DIRECTIONS.items():
    ends = [dynamics.start_end(rec, key) for rec in records.values()]
    start, end = np.mean([e[0] for e in ends]), np.mean([e[1] for e in ends])
    spread = float(np.ptp([e[1] for e in ends])) if len(ends) > 1 else 0.0
    movement[key] = dict(start=start, end=end, change=end - start, seed_spread_at_end=spread)
    early_step, shares[key] = dynamics.early_share(list(records.values()), key, early_share)
    bound = start + sign * 2 * spread
    claim = (f"{NAMES[key]} {'falls' if sign < 0 else 'rises'} (last layer, step 0 → {max_steps_run}, "
             f"beyond 2x seed spread)")
    (run.below if sign < 0 else run.above)("F9", claim, end, bound)
mean_share = float(np.nanmean(list(shares.values())))
run.above("F9", f"mean share of the change reached by step {early_step} ({early_share:.0%} of training)",
          mean_share, 0.5)
table = pd.DataFrame({NAMES[k]: {**v, f"share reached by step {early_step}": shares[k]}
                      for k, v in movement.items()}).T
display(table.style.format("{:+.4f}"))
summary = pd.DataFrame([dict(claim=c["claim"], measured=c["measured"], bound=c["reference"],
                             holds="✓" if c["passed"] else "✗") for c in run.checks])
display(summary.style.format({"measured": "{:.4f}", "bound": "{:.4f}"}).hide(axis="index"))

# %% tags=["hide-input"]
held = [c["passed"] for c in run.checks]
word = "reproduces" if all(held) else "does not reproduce" if not any(held) else "partly reproduces"
headline = (f"last layer, step 0 → {max_steps_run}: A {movement['anisotropy']['start']:.3f} → "
            f"{movement['anisotropy']['end']:.3f}, IntraSim* {movement['intra_sim_adj']['start']:.3f} → "
            f"{movement['intra_sim_adj']['end']:.3f}, norm {movement['norm']['start']:.2f} → "
            f"{movement['norm']['end']:.2f}; {mean_share:.0%} of the change by step {early_step}")
metrics = dict(movement=movement, early_shares=shares, early_step=early_step, mean_early_share=mean_share,
               runs={name: dict(params=rec["params"], schedule=rec["schedule"], best=rec.get("best"),
                                final=rec.get("final")) for name, rec in records.items()},
               headlines={"F9": headline})
saved = run.save(metrics, device=devices.resolve_device(device))
display(Markdown((f"**Not comparable:** {run.comparable_reason}. " if not run.comparable else "")
                 + f"**F9 {word} at {scale} scale:** {headline}."))

# %% [markdown]
# What the page asserts: all five checks were made, every snapshot holds every layer, and the early step lies
# inside the run.

# %% tags=["hide-input"]
assert len(run.checks) == 5
assert all(len(s["per_layer"]) == n_layers for rec in records.values() for s in rec["snapshots"])
assert 0 < early_step <= max_steps_run

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
pd.set_option("display.max_colwidth", None)
tables.provenance(saved, scale, runs="; ".join(
    f"{n}: commit {r['provenance']['git']['commit'][:12]}, {r['wall_time_s']:.0f} s" for n, r in records.items()))
