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
#     title: 'Ablation: pooling'
# ---

# %% [markdown]
# # 9 · Ablation: pooling (F12)
#
# How a sentence vector is read from the token vectors decides where the contrastive loss pushes
# {cite}`gao2021simcse`: `cls` takes the [CLS] vector through a train-time MLP (SimCSE's unsupervised default),
# `cls_before_pooler` the [CLS] vector as is, `avg` the mean of the last layer's tokens, `avg_first_last` the mean of
# the first and last layers', `avg_top2` of the last two layers'. The paper studies how the pooling changes the
# learning dynamics {cite}`xiao2023isotropy` but publishes no numbers for it (F12). SimCSE's own ablation
# (unsupervised BERT-base, STS-B dev): [CLS] with the MLP at train time only 82.5, with the MLP 81.7, without it
# 80.9, first-last average 81.2 — all within 1.6 points.
#
# Each setting is evaluated with its own pooling (for `cls`, the [CLS] vector without the train-time MLP), with every
# other parameter at the scale's preset *for `cls`* (the scale's short schedule: the budget each run spends is
# printed below the curves): the ablation varies the pooling alone, so `avg` here trains with `cls`'s dropout (0.1), not with
# the dropout chosen for `avg` in Chapter 2 that Chapters 3–5 use. By default the page trains three of the five
# poolings (`values`); `avg_first_last` and `avg_top2` are one parameter away (`-p 'values=[cls,
# cls_before_pooler, avg, avg_first_last, avg_top2]'`; the paper preset has all five). The poolers run in
# `lib.science.pooling.pool`.

# %% tags=["parameters"]
plm: str = "pocket-bert"  # SimCSE starts from this model
values: list = ["cls", "cls_before_pooler", "avg"]  # the poolings
simcse: dict = {}  # the other SimCSE parameters, over the scale's preset (lib.science.training)
train_seeds: list = [0, 1, 2]  # seeds of the default setting: the seed noise behind every margin
run_missing: bool = True  # train the settings that have no finished run (False: show the finished ones)
device: str = "auto"  # auto | cpu | cuda | cuda:N
data_dir: str = ""  # the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)
out_dir: str = ""  # where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)
scale: str = "pocket"  # smoke | pocket | paper: which scale produced this page

# %% tags=["hide-input"]
import numpy as np
from IPython.display import Markdown, display

from lib.book import ablation, dynamics, explain, tables

study = ablation.start("09_pooling", globals())  # every setting's run checked, then trained or reused
res = study.results

# %% [markdown]
# ## The dynamics per setting
#
# Chapter 5's curves, one line per setting (pick the layer with the selector; hover for values), then each
# setting's end point.

# %% tags=["remove-input"]
study.chart()

# %% [markdown]
# ## What the sweep shows, against the default setting
#
# The paper publishes no numbers for this ablation, so every check here is **exploratory** and counted apart from
# the reproduction. Each trained setting is held against the default setting — its value minus the mean of the
# default's training seeds, with the pooled two-sample 95 % t interval, which for one run against three seeds is
# the prediction interval of one more default seed (`lib/book/results.py`). A setting whose training loss did not
# fall (below 90 % of its first window's) did not train: it is reported as such, not compared.

# **What the paper's geometry does under each pooling:** the change of the last-layer anisotropy from step 0 to the
# end, per setting (its sign is the question: does the space become more isotropic?).

# %% tags=["hide-input"]
effects = study.effects()  # every trained setting against the default, with intervals; untrained ones said so
res.add(*effects)
bests, default = study.bests(), study.default_values("stsb_dev")
tracking = study.tracking()
a_change = {k: float(np.subtract(*reversed(dynamics.start_end(r, "anisotropy")))) for k, r in
            study.records.items()}
tables.show(explain.checks_table(res.checks), caption="Every check (exploratory): each setting minus the default, "
            "with the pooled two-sample 95 % interval (one run against the default's seeds)")

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
shows = ("the last-layer anisotropy changes from step 0 to the end by "
         + ", ".join(f"{k} {v:+.3f}" for k, v in a_change.items())
         + f"; best STS-B dev {', '.join(f'{k} {v:.1f}' for k, v in bests.items())} (default {study.default_label}: "
         f"{np.mean(default):.1f} ± {np.std(default, ddof=1):.1f} over its seeds; SimCSE's poolings span 1.6 points).")
saved = study.save(dict(shows={"F12": shows}, tracking=tracking, bests=bests))
display(Markdown((f"**Not comparable:** {res.comparable_reason}.\n\n" if not res.comparable else "")
                 + f"At {scale} scale (exploratory: the paper publishes no numbers for this ablation): " + shows))

# %% [markdown]
# What the page asserts: every setting finished with its snapshots, and every check is marked exploratory.

# %% tags=["hide-input"]
assert all(r["status"] == "finished" and len(r["snapshots"]) >= 3 for r in study.records.values())
assert res.checks and all(c["exploratory"] for c in res.checks)

# %% [markdown]
# ## Data
#
# The numbers behind this page, to load into your own analysis:

# %% tags=["remove-input"]
display(Markdown(study.data()))

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
study.provenance(saved)
