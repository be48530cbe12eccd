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
# log-spaced steps of every SimCSE run, in eval mode, and STS-B dev every `eval_steps`. This chapter follows the
# **full-budget** runs of Chapter 3 — SimCSE's summed learning rate (0.234), spent as 3e-4 decaying over 1,563
# steps — for each pooling (`cls`, SimCSE's default and the primary setting; `avg`) and training seed.
#
# **Does the path matter?** The full budget is spent in a tenth of SimCSE's steps, at ten times its learning rate.
# The runs of SimCSE's *literal* schedule (3e-5 decaying over 15,625 steps, its first 1,500 steps) test how much
# that changes the trajectory: at equal summed learning rate (the literal run's step 10k has spent what the
# full-budget run's step k has), the two are compared metric by metric.

# %% tags=["parameters"]
plm: str = "pocket-bert"  # SimCSE starts from this model
runs: list = []  # finished training folders (with train.json) to show instead of training from `plm`
poolings: list = ["cls", "avg"]  # SimCSE runs per pooling: cls is SimCSE's default, avg the pooling of the contrastive models the paper analysed
train_seeds: list = [0, 1, 2]  # full-budget runs per seed and pooling: the noise behind every interval
literal_seeds: list = [0]  # runs of SimCSE's literal schedule (its first steps) per pooling, for the path comparison
simcse: dict = {}  # SimCSE parameters over both schedules, e.g. {'temperature': 0.1} (lib.science.training)
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

from lib.book import chapters, charts, datafiles, dynamics, explain, explore, labels, literate, tables, training_runs
from lib.book.results import confound, direction
from lib.science import devices, movement, training
from lib.science.params import ParameterError

params, res = chapters.begin("05_learning_dynamics", globals())
for folder in runs:
    if training.read_status(folder) is None:
        raise ParameterError("runs", runs, f"{folder} holds no train.json")
plans = dynamics.configs(params)  # every run resolved (and so checked) before any compute

# %% [markdown]
# ## What this chapter trains

# %% tags=["hide-input"]
def describe(cfg):
    steps = cfg.stop_step or cfg.max_steps
    schedule = "literal" if cfg.stop_step else "full"
    return dict(pooling=cfg.pooling, seed=cfg.seed, schedule=schedule, steps=steps, of=cfg.max_steps, lr=cfg.lr,
                **{"Σ lr": movement.summed_lr(cfg.lr, cfg.max_steps, upto=steps)},
                status=(training_runs.status(cfg) or {}).get("status", "to train"), run=training_runs.run_dir(cfg).name)


if plans:
    tables.show(pd.DataFrame([describe(c) for c in plans]), caption="The SimCSE runs this page follows: the full "
                "budget per pooling and seed, and SimCSE's literal schedule (its first steps) for the path comparison")
records, literal, names = {}, {}, {}  # {(setting, seed): train.json}, ..., {(setting, seed): run folder}
for cfg in plans:
    folder, record = training_runs.ensure(cfg)
    (literal if cfg.stop_step else records)[cfg.pooling, cfg.seed] = record
    names.setdefault((cfg.pooling, cfg.seed), folder.name)
for folder in runs:
    records[Path(folder).name, None] = training.read_status(folder)
    names[Path(folder).name, None] = Path(folder).name
for (name, seed), rec in {**records, **literal}.items():
    if rec["status"] != "finished" or len(rec["snapshots"]) < 3:
        raise ParameterError("runs", name, "each run must be finished and hold at least 3 geometry snapshots")
settings = list(dict.fromkeys(v for v, _ in records))
n_layers = len(next(iter(records.values()))["snapshots"][0]["per_layer"])

# %% [markdown]
# ## The curves
#
# Pick the layer with the selector (the last layer by default); hover a point for its value. Step 0 is drawn at 1
# on the log axis. Each line is one run (pooling · seed). SelfSim of a class is the mean self-similarity of its ids
# (functional: stopwords, punctuation, special tokens; Chapter 4); \* marks a metric adjusted by the layer's
# anisotropy.

# %% tags=["hide-input"]
named = {f"{v} · seed {s}" if s is not None else v: r for (v, s), r in records.items()}
steps = dynamics.curves(named)
charts.over_steps(steps, "SimCSE's learning dynamics over the full budget: mean over seeds, band from the lowest to "
                  "the highest (pick a layer)", series="series", layer_select=True, seed="seed")

# %% [markdown]
# ## Watch it move
#
# One slider for every panel: drag it through the snapshot steps and watch each metric's per-layer profile (top)
# and its place on the training curve (bottom) move together.

# %% tags=["remove-input"]
explore.scrubber(steps, [labels.label(k) for k in ("anisotropy", "intra_sim_adj", "norm", "self_sim_functional_adj",
                                                   "isoscore", "stsb_dev")],
                 "SimCSE's geometry through training (drag the step)", seed="seed")

# %% [markdown]
# The snapshots measure the anisotropy with one sample of 1,000 tokens (seed 0) of the model *at that step*;
# Chapters 3 and 4 average five samples on each final model. The same quantity can therefore differ between pages by
# the sampling noise of A, whose spread over samples Chapter 1 measures (the PLM's step-0 value here against
# Chapter 3's PLM value is one example).

# %% [markdown]
# ## How far the runs could move
#
# The summed learning rate up to each step bounds how far any weight has travelled (Chapter 3); SimCSE's
# BERT-base epoch spends 0.234. The library's schedule sum:

# %% tags=["remove-input"]
literate.show(movement.summed_lr)

# %% tags=["hide-input"]
simcse_sum = movement.summed_lr(movement.SIMCSE_BERT_BASE["lr"], movement.SIMCSE_BERT_BASE["steps"])
cl_runs = []
for (v, s), r in records.items():
    end = r["final"]["step"]
    cl_runs.append(dict(pooling=v, seed=s, checkpoint="end", step=end, summed_lr=dynamics.summed_lr_at(r, end),
                        stsb_dev=r["final"]["stsb_dev"], schedule="full", run=names[v, s]))
reach = pd.DataFrame([dict(run=f"{c['pooling']} · seed {c['seed']}", steps=c["step"], **{"Σ lr": c["summed_lr"]},
                           **{"share of SimCSE's Σ lr": c["summed_lr"] / simcse_sum},
                           **{"final training loss": records[c["pooling"], c["seed"]]["final"]["loss"]})
                      for c in cl_runs])
tables.show(reach, caption="How far each run could move, and how hard its last steps still were")

# %% [markdown]
# ## The claims, and the rule stated before measuring
#
# At the **last layer**, between step 0 and the last step, per training seed, with a 95 % Student-t interval over
# the seeds (`lib/book/results.py`): *supported* when the interval excludes 0 on the paper's side, *contradicted*
# when on the other, *inconclusive* otherwise.
#
# * **directions** (F9): the anisotropy falls, IntraSim* rises (raw IntraSim beside it), the mean token norm
#   falls, functional tokens' SelfSim* falls (raw beside it: an adjusted movement the raw one does not follow is
#   the anisotropy's, *confounded*);
# * **mostly early**: per seed, over the metrics whose direction is supported, the mean share of the claimed
#   movement already reached at `early_share` of the steps (the first snapshot at or after it), minus one half:
#   supported when the interval lies above 0.
#
# `cls` is the primary setting; `avg` a sensitivity row.

# %% tags=["hide-input"]
CLAIMS = {"anisotropy": -1, "intra_sim_adj": +1, "norm": -1, "self_sim_functional_adj": -1}
RAW = {"intra_sim_adj": "intra_sim", "self_sim_functional_adj": "self_sim_functional"}
early_rows = []
for v in settings:
    recs = {s: r for (vv, s), r in records.items() if vv == v}
    kw = dict(variant=v, checkpoint="end", primary=v == "cls")
    supported = []
    for key, sign in CLAIMS.items():
        change = {s: dynamics.start_end(r, key)[1] - dynamics.start_end(r, key)[0] for s, r in recs.items()}
        claim = f"last-layer {labels.label(key)}, last step − step 0"
        check = direction("F9", claim, change, sign, **kw)
        if key in RAW:
            raw_change = {s: dynamics.start_end(r, RAW[key])[1] - dynamics.start_end(r, RAW[key])[0]
                          for s, r in recs.items()}
            raw = direction("F9", f"last-layer {labels.label(RAW[key])}, last step − step 0", raw_change, sign,
                            **dict(kw, role="raw"))
            res.add(confound(check, raw), raw)
        else:
            res.add(check)
        if check["direction"] == "supported" and not check["confounded"]:
            supported.append((key, sign))
    shares = {}
    for s, r in recs.items():
        per_metric = [dynamics.early_share([r], key, early_share, sign) for key, sign in supported]
        values = [x for _, x in per_metric if x == x]
        shares[s] = float(np.mean(values)) - 0.5 if values else float("nan")
        early_rows += [dict(setting=v, seed=s, metric=labels.label(key), early_step=st, share=x)
                       for (key, _), (st, x) in zip(supported, per_metric)]
    if supported:
        step = dynamics.early_share(list(recs.values()), supported[0][0], early_share, supported[0][1])[0]
        res.add(direction("F9", f"share of the supported movement reached by step {step} (the first snapshot at or "
                          f"after {early_share:.0%} of the steps), minus one half", shares, +1, **kw))
tables.show(explain.checks_table(res.checks), caption="Every check, per setting")

# %% [markdown]
# ## Does the path matter? The literal schedule at equal summed learning rate
#
# **The rule, stated before the runs finished:** at each step of the literal run where a metric was measured, take
# the full-budget step with the nearest summed learning rate; the two paths **agree** there when the literal run
# lies inside the 95 % prediction interval of one more full-budget seed (`lib.book.dynamics.path_comparison`).

# %% tags=["remove-input"]
literate.show(dynamics.path_comparison)

# %% tags=["hide-input"]
PATH_KEYS = ["anisotropy", "intra_sim_adj", "norm", "self_sim_functional_adj", "stsb_dev"]
path = pd.DataFrame()
for (v, s), lit in literal.items():
    full = [r for (vv, _), r in records.items() if vv == v]
    part = dynamics.path_comparison(full, lit, PATH_KEYS).assign(pooling=v, literal_seed=s)
    path = pd.concat([path, part], ignore_index=True)
if len(path):
    path["metric"] = path["metric"].map(labels.label)
    path["in sd of the full runs"] = path["difference"] / path["full_sd"].where(path["full_sd"] > 0)
    tables.show(path[["pooling", "metric", "literal_step", "full_step", "summed_lr_literal", "literal", "full_mean",
                      "full_sd", "difference", "in sd of the full runs", "agree"]],
                caption="SimCSE's literal schedule (3e-5 over 15,625 steps, its first 1,500) against the full-budget "
                "runs (3e-4 over 1,563 steps) at equal Σ lr: the literal run, the full runs' mean and sd over seeds")
    agree_share = float(path["agree"].mean())
    worst = path.loc[path["in sd of the full runs"].abs().idxmax()]
    path_sentence = (
        f"The paths agree at {int(path['agree'].sum())} of {len(path)} matched points ({agree_share:.0%}). The "
        f"largest gap: {worst['metric']} with `{worst['pooling']}` at the literal step {int(worst['literal_step'])} "
        f"(Σ lr {worst['summed_lr_literal']:.3f}): {worst['literal']:.4g} against {worst['full_mean']:.4g} ± "
        f"{worst['full_sd']:.2g}, {worst['in sd of the full runs']:+.1f} sd of the full runs. Where the paths differ, "
        "the full-budget schedule stays the book's, and these numbers say by how much its trajectory departs from "
        "SimCSE's own over the budget both share.")
else:
    path_sentence = "No literal-schedule run was trained (`literal_seeds` is empty): the path was not compared."
display(Markdown(path_sentence))

# %% [markdown]
# ## The paper beside ours

# %% tags=["hide-input"]
tables.show(explain.paper_vs_ours(res.checks, ["F9"]),
            caption="The paper's learning dynamics beside ours (last layer, step 0 → last step)")
metrics = dict(cl_runs=cl_runs, early=early_rows, settings=settings, reach=reach.to_dict("records"),
               training_seeds=sorted({s for _, s in records if s is not None}),
               literal_runs=[dict(pooling=v, seed=s, steps=r["final"]["step"], of=r["schedule"]["max_steps"])
                             for (v, s), r in literal.items()],
               path=path.to_dict("records"), path_sentence=path_sentence,
               runs={f"{v} · seed {s}": dict(params=r["params"], schedule=r["schedule"], best=r.get("best"),
                                            final=r.get("final")) for (v, s), r in records.items()})
saved = res.save(metrics, device=devices.resolve_device(device), models=[
    dict(name=names[k], kind="local", source=f"SimCSE training run ({k[0]} · seed {k[1]})",
         weights_sha256=r["final"]["weights_sha256"]) for k, r in {**records, **literal}.items()])

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
display(Markdown(explain.closing(res.checks, {"F9": "the learning dynamics of default SimCSE"}, scale,
                                 res.comparable_reason) + "\n\n" + path_sentence))

# %% [markdown]
# What the page asserts: F9 has its primary direction checks, every snapshot holds every layer, and every
# full-budget run spent at least the summed learning rate it declares.

# %% tags=["hide-input"]
assert runs or any(c["primary"] and c["kind"] == "direction" for c in res.checks)
assert all(len(s["per_layer"]) == n_layers for rec in records.values() for s in rec["snapshots"])
assert all(c["summed_lr"] > 0 for c in cl_runs)

# %% [markdown]
# ## Data
#
# The numbers behind this page, to load into your own analysis (`pandas.read_parquet` / `read_csv`):

# %% tags=["remove-input"]
datafiles.write(res.out_dir, "snapshots", steps, "one run (pooling · seed) at one training step and layer: one "
                "metric (STS-B dev: layer empty)")
datafiles.write(res.out_dir, "checks", explain.checks_table(res.checks), "one check: the effect (mean over seeds) "
                "with its 95 % interval and its verdict under the rule")
if len(path):
    datafiles.write(res.out_dir, "path", path, "one metric at one matched step: SimCSE's literal schedule against "
                    "the full-budget runs at equal summed learning rate")
display(Markdown(datafiles.section(res.out_dir, "05_learning_dynamics")))

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
tables.provenance(saved, scale, runs="; ".join(
    f"{v}" + (f" · seed {s}" if s is not None else "") + f": commit {r['provenance']['git']['commit'][:12]}, "
    f"{r['wall_time_s']:.0f} s" for (v, s), r in {**records, **literal}.items()))
