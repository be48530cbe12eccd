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
#     title: 'Ablation: batch size'
# ---

# %% [markdown]
# # 8 · Ablation: batch size (F11)
#
# In unsupervised SimCSE the other sentences of the batch are the negatives {cite}`gao2021simcse`: a larger batch
# gives each sentence more (and harder) negatives, and sees more sentences per step. The paper studies how the
# batch size changes the learning dynamics {cite}`xiao2023isotropy` but publishes no numbers for it (F11); SimCSE
# reports that its final STS score is insensitive to the batch size *once the learning rate is tuned*.
#
# **How the learning rate follows the batch size:** the default batch's rate was chosen on STS-B dev (Chapter 2);
# every other batch size scales it by the square root of the batch ratio, the scaling rule for Adam
# {cite}`malladi2022sde`, instead of a grid per batch size that two CPU cores cannot afford. Every setting keeps the
# same number of steps (the scale's short schedule: the budget each run spends is printed below the curves), so a larger batch also sees more sentences.

# %% tags=["parameters"]
plm: str = "pocket-bert"  # SimCSE starts from this model
values: list = [16, 32, 64, 128]  # the batch sizes (sentences per step)
simcse: dict = {}  # the other SimCSE parameters, over the scale's preset (lib.science.training)
train_seeds: list = [0, 1, 2]  # seeds of the default setting: the seed noise behind every margin
run_missing: bool = True  # train the settings that have no finished run (False: show the finished ones)
device: str = "auto"  # auto | cpu | cuda | cuda:N
data_dir: str = ""  # the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)
out_dir: str = ""  # where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)
scale: str = "pocket"  # smoke | pocket | paper: which scale produced this page

# %% tags=["hide-input"]
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import ablation, explain, tables

study = ablation.start("08_batch_size", globals())  # every setting's run checked, then trained or reused
res = study.results

# %% [markdown]
# The learning rate each batch size trains with:

# %% tags=["hide-input"]
tables.show(pd.DataFrame([{"batch size": b, "learning rate": ablation.scaled_lr(b, study.base)} for b in values]),
            caption="The square-root rule: the default's learning rate × sqrt(batch / default batch)")

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

# **SimCSE's end point, as an exploratory equivalence check:** the best STS-B dev of every trained batch size lies
# within ±2 points of the default's (SimCSE's own range over its poolings is 1.6): *equivalent* only when the whole
# interval of the difference lies inside ±2.

# %% tags=["hide-input"]
effects = study.effects()  # every trained setting against the default, with intervals; untrained ones said so
res.add(*effects)
bests, default = study.bests(), study.default_values("stsb_dev")
tracking = study.tracking()
for c in effects:
    if c.get("note") == "stsb_dev" and c["kind"] == "effect":
        lo, hi = c["interval"]
        c["equivalence"], c["equivalent"] = 2.0, bool(-2.0 <= lo <= hi <= 2.0)
tables.show(explain.checks_table(res.checks), caption="Every check (exploratory): each setting minus the default, "
            "with the pooled two-sample 95 % interval (one run against the default's seeds)")

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
eq = [c for c in effects if c.get("note") == "stsb_dev" and c["kind"] == "effect"]
untrained = [c["setting"] for c in res.checks if c["kind"] == "untestable"]
shows = (f"against the default {study.default_label} ({np.mean(default):.1f} ± {np.std(default, ddof=1):.1f} over "
         "its seeds), the best STS-B dev of "
         + ("; ".join(f"{c['setting']} differs by {explain.effect(c)} ({'within' if c['equivalent'] else 'not shown'}"
                      " within ±2)" for c in eq) if eq else "no other batch size could be compared")
         + (f"; {', '.join(untrained)} did not train" if untrained else "") + "." + study.tracking_sentence())
saved = study.save(dict(shows={"F11": shows}, tracking=tracking, bests=bests))
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
