# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: srl
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   srl:
#     title: The learning dynamics of SimCSE
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
# `eval_steps`. This chapter reads those snapshots — training the runs first if they are missing — for each
# pooling (`cls`, SimCSE's default; `avg`, the analysed models' pooling) and every training seed, to tell movements
# from seed noise. With `runs` it shows any other finished runs instead.

# %% tags=["parameters"]
plm: str = "pocket-bert"  # SimCSE starts from this model
runs: list = []  # finished training folders (with train.json) to show instead of training from `plm`
poolings: list = ["cls", "avg"]  # SimCSE runs per pooling: cls is SimCSE's default, avg the pooling of the contrastive models the paper analysed
train_seeds: list = [0, 1, 2]  # one SimCSE run per seed and pooling: the noise behind every margin
simcse: dict = {}  # SimCSE parameters over the scale's preset, e.g. {'lr': 1e-4} (lib.science.training)
early_share: float = 0.1  # early: the first tenth of the steps
device: str = "auto"  # auto | cpu | cuda | cuda:N
data_dir: str = ""  # the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)
out_dir: str = ""  # where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)
scale: str = "pocket"  # smoke | pocket | paper: which scale produced this page

# %% tags=["hide-input"]
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import charts, dynamics, explain, literate, parameters, tables, training_runs
from lib.book.chapter_run import ChapterRun
from lib.science import devices, movement, training
from lib.science.params import ParameterError

CHAPTER = "05_learning_dynamics"
params = parameters.collect(CHAPTER, globals())
for folder in runs:
    if training.read_status(folder) is None:
        raise ParameterError("runs", runs, f"{folder} holds no train.json")
plans = {} if runs else {key: cfg.as_dict() for key, cfg in parameters.simcse_configs(params).items()}
run = ChapterRun(CHAPTER, params)
if scale == "smoke":
    run.not_comparable("smoke scale: a few SimCSE steps of a tiny random encoder say nothing about the paper's claims")
charts.enable_offline()

# %% tags=["hide-input"]
records = {}  # {(variant, seed): train.json}
if runs:
    for folder in runs:
        records[Path(folder).parent.name + "/" + Path(folder).name, None] = training.read_status(folder)
else:
    for (pooling, seed), p_ in plans.items():
        records[pooling, seed] = training_runs.ensure("simcse", p_)[1]
for (name, seed), rec in records.items():
    if rec["status"] != "finished" or len(rec["snapshots"]) < 3:
        raise ParameterError("runs", name, "each run must be finished and hold at least 3 geometry snapshots")
variants = list(dict.fromkeys(v for v, _ in records))
first = next(iter(records.values()))
n_layers = len(first["snapshots"][0]["per_layer"])
rows = [dict(run=f"{v}" + (f" · seed {s}" if s is not None else ""), steps=r["schedule"]["max_steps"],
             batch=r["schedule"]["global_batch"], lr=r["params"]["lr"], dropout=r["params"]["dropout"],
             τ=r["params"]["temperature"], pooling=r["params"]["pooling"],
             snapshots=", ".join(str(s["step"]) for s in r["snapshots"]))
        for (v, s), r in records.items()]
tables.show(pd.DataFrame(rows), caption=f"{len(records)} SimCSE run(s) from `{first['params']['model']}`")

# %% [markdown]
# ## The curves
#
# Pick the layer with the selector (the last layer by default); hover a point for its value. Step 0 is drawn at 1
# on the log axis. Each line is one run (pooling · seed). SelfSim of a class is the mean self-similarity of its ids
# (functional: stopwords, punctuation, special tokens; Chapter 4); the function → content cosine is Chapter 4's
# F3 measure; the top-1 share is Chapter 1's rogue-dimension measure.

# %% tags=["hide-input"]
named = {f"{v} · seed {s}" if s is not None else v: r for (v, s), r in records.items()}
charts.over_steps(dynamics.curves(named), "SimCSE's learning dynamics (pick a layer)", series="series",
                  layer_select=True)

# %% [markdown]
# ## How far the runs could move
#
# The summed learning rate up to each step bounds how far any weight has travelled (Chapter 3); SimCSE's
# BERT-base epoch allows about 0.23. The library's schedule sum:

# %% tags=["remove-input"]
literate.show(movement.summed_lr)

# %% tags=["hide-input"]
simcse_sum = movement.summed_lr(movement.SIMCSE_BERT_BASE["lr"], movement.SIMCSE_BERT_BASE["steps"])
reach = []
for (v, s), r in records.items():
    sch = r["schedule"]
    total = movement.summed_lr(r["params"]["lr"], sch["max_steps"], sch["warmup_steps"])
    reach.append({"run": f"{v}" + (f" · seed {s}" if s is not None else ""), "Σ lr": total,
                  "vs SimCSE's epoch": total / simcse_sum,
                  "sentences seen / 1M": sch["max_steps"] * sch["global_batch"] / 1e6,
                  "final training loss": r["final"]["loss"]})
tables.show(pd.DataFrame(reach), caption="How far each run could move, and how hard its last steps still were")

# %% [markdown]
# ## The claims, and the margins stated before measuring
#
# At the **last layer**, between the first snapshot (step 0) and the last, for each pooling, averaged over the
# training seeds:
#
# * **directions** (F9): anisotropy falls, adjusted intra-sentence similarity rises, the mean token norm falls,
#   functional tokens' adjusted self-similarity falls — each by more than **3 sd of its end value over the training
#   seeds** (a movement smaller than that is seed noise);
# * **mostly early**: over the metrics that moved the claimed way, the mean share of that movement already reached
#   at `early_share` of the steps (the first snapshot at or after it) is at least one half. Movement the wrong way
#   counts for nothing; with no metric moving the claimed way the check cannot be made.

# %% tags=["hide-input"]
DIRECTIONS = {"anisotropy": -1, "intra_sim_adj": +1, "norm": -1, "self_sim_functional_adj": -1}
NAMES = {"anisotropy": "anisotropy", "intra_sim_adj": "IntraSim*", "norm": "mean token norm",
         "self_sim_functional_adj": "functional SelfSim*"}
movement_rows, summary = [], {}
for v in variants:
    recs = [r for (vv, _), r in records.items() if vv == v]
    seeds_of = [s for (vv, s) in records if vv == v]
    margin = f"3 sd of the end value over the training seeds {seeds_of}" if len(recs) > 1 else "one run: any amount"
    shares = {}
    for key, sign in DIRECTIONS.items():
        ends = [dynamics.start_end(rec, key) for rec in recs]
        start, end = float(np.mean([e[0] for e in ends])), float(np.mean([e[1] for e in ends]))
        sd = float(np.std([e[1] for e in ends], ddof=1)) if len(ends) > 1 else 0.0
        early_step, shares[key] = dynamics.early_share(recs, key, early_share, sign)
        claim = f"{NAMES[key]} {'falls' if sign < 0 else 'rises'} (last layer, start → end)"
        (run.below if sign < 0 else run.above)("F9", claim, end, start + sign * 3 * sd, variant=v, margin=margin)
        movement_rows.append({"pooling": v, "metric": NAMES[key], "start": start, "end": end, "change": end - start,
                              "sd over seeds": sd, f"share by step {early_step}": shares[key]})
    moved = {k: x for k, x in shares.items() if x == x}
    if moved:
        run.above("F9", f"mean share of the claimed movement reached by step {early_step} ({early_share:.0%} of the "
                  f"steps), over {len(moved)} metric(s) that moved the claimed way", float(np.mean(list(moved.values()))),
                  0.5, variant=v, margin="one half: 'most of it'")
    else:
        run.untestable("F9", f"mean share of the claimed movement reached by step {early_step}",
                       f"with `{v}` no metric moved the claimed way, so there is no claimed movement to time",
                       variant=v)
    summary[v] = dict(shares=shares, early_step=early_step)
movement_table = pd.DataFrame(movement_rows)
tables.show(movement_table, caption="Last layer, step 0 → last step, mean over seeds")
tables.show(explain.checks_table(run.checks), caption="Every check, per pooling")

# %% tags=["hide-input"]
def sentence(v):
    m = movement_table[movement_table.pooling == v].set_index("metric")
    parts = [f"{name} {explain.direction(m.loc[name, 'start'], m.loc[name, 'end'], '.2f' if key == 'norm' else '.3f')}"
             for key, name in NAMES.items()]
    return f"with `{v}`, " + ", ".join(parts)


reasons = {"F9": "; ".join(sentence(v) for v in variants)}
metrics = dict(movement=movement_rows, early=summary, variants=variants, reach=reach,
               training_seeds=sorted({s for _, s in records if s is not None}),
               runs={f"{v} · seed {s}": dict(params=r["params"], schedule=r["schedule"], best=r.get("best"),
                                            final=r.get("final")) for (v, s), r in records.items()},
               headlines={"F9": reasons["F9"]}, why=reasons)
saved = run.save(metrics, device=devices.resolve_device(device))

# %% [markdown]
# ## The paper beside ours
#
# The snapshots measure one anisotropy sample (seed 0) on the model *at that step*; Chapter 3 measures five
# samples on each run's *best* checkpoint. The same quantity can therefore differ slightly between the two
# pages: by the sampling noise of A (about 0.002) and by the distance between the best and the last step.

# %% tags=["hide-input"]
tables.show(explain.paper_vs_ours(["F9"], lambda fid, v: sentence(v).split(", ", 1)[1], run.checks, variants),
            caption="The paper's learning dynamics beside ours (last layer, start → end, mean over seeds)")

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
display(Markdown((f"**Not comparable:** {run.comparable_reason}. " if not run.comparable else "")
                 + f"At {scale} scale: " + explain.paragraph(run.checks, ["F9"], reasons)))

# %% [markdown]
# What the page asserts: every check was made for every pooling, every snapshot holds every layer, and the early
# step lies inside the runs.

# %% tags=["hide-input"]
assert len(run.checks) == 5 * len(variants)
assert all(len(s["per_layer"]) == n_layers for rec in records.values() for s in rec["snapshots"])
assert all(0 < summary[v]["early_step"] <= first["schedule"]["max_steps"] for v in variants)

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
tables.provenance(saved, scale, runs="; ".join(
    f"{v}" + (f" · seed {s}" if s is not None else "") + f": commit {r['provenance']['git']['commit'][:12]}, "
    f"{r['wall_time_s']:.0f} s" for (v, s), r in records.items()))
