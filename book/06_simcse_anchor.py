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
#     title: The SimCSE anchor on seven STS tasks
# ---

# %% [markdown]
# # 6 · The SimCSE anchor on seven STS tasks (F13)
#
# The paper's analysis rests on SimCSE {cite}`gao2021simcse` working: unsupervised contrastive training turns a
# pre-trained encoder into a much better sentence encoder. This chapter measures that premise at the page's scale
# with the project's evaluator (`python -m lib.sts`): Spearman ×100 of cosine similarity on STS12–16 (every subset
# of a year in one correlation, SimCSE's "all" setting), STS-B test and SICK-R test.
#
# The anchor (F13) is SimCSE's published BERT-base numbers; they apply only at paper scale. At every scale the
# **premise** is tested the way SimCSE's own Table 5 states it: the contrastive model against its PLM **at the
# PLM's best pooling** (for BERT-base, the first-last average: 56.70 → 76.25, +19.6), for each SimCSE pooling and
# over the training seeds.

# %% tags=["parameters"]
plm: str = "pocket-bert"  # the pre-trained encoder
cl: str = ""  # a finished contrastive model (empty: SimCSE from `plm`, per pooling and training seed, trained once and reused)
poolings: list = ["cls", "avg"]  # SimCSE runs per pooling: cls is SimCSE's default, avg the pooling of the contrastive models the paper analysed
train_seeds: list = [0, 1, 2]  # one SimCSE run per seed and pooling: the noise behind every margin
simcse: dict = {}  # SimCSE parameters over the scale's preset, e.g. {'lr': 1e-4} (lib.science.training)
extra_models: list = ["all-MiniLM-L6-v2"]  # evaluated with mean pooling (how sentence-transformers uses them)
plm_poolings: list = ["cls", "avg", "avg_first_last"]  # the PLM's poolings; the premise is judged against its best
tasks: list = ["STS12", "STS13", "STS14", "STS15", "STS16", "STSB", "SICKR"]  # the STS tasks
device: str = "auto"  # auto | cpu | cuda | cuda:N
data_dir: str = ""  # the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)
out_dir: str = ""  # where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)
scale: str = "pocket"  # smoke | pocket | paper: which scale produced this page

# %% tags=["hide-input"]
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import charts, explain, literate, pairs, parameters, reference, tables
from lib.book.chapter_run import ChapterRun
from lib.science import devices, models, sts
from lib.science.params import ParameterError

CHAPTER = "06_simcse_anchor"
params = parameters.collect(CHAPTER, globals())
if any(t not in sts.TASKS for t in tasks):
    raise ParameterError("tasks", tasks, "expected a non-empty list drawn from " + ", ".join(sts.TASKS))
run = ChapterRun(CHAPTER, params)
plm_spec = models.resolve(plm)
anchor_applies = plm_spec.name == "bert-base-uncased" and set(tasks) == set(sts.TASKS)
if not anchor_applies:
    run.not_comparable(f"the anchor's numbers are SimCSE's for BERT-base on all seven tasks; this run evaluates "
                       f"{plm_spec.label} on {', '.join(tasks)}")
used_device = devices.resolve_device(device)
charts.enable_offline()

# %% [markdown]
# ## Scoring, and the code that does it
#
# A pair's score is the cosine of its two sentence vectors; a task's score is Spearman's rank correlation between
# those cosines and the gold similarities, ×100. Every sentence is encoded once:

# %% tags=["remove-input"]
literate.show(sts.spearman_x100)

# %% tags=["hide-input"]
cl_runs = pairs.contrastive_runs(params)
# (role, variant, seed) -> spec; a CL run is scored with its own pooling (a given model with cls, as SimCSE's)
evaluated = {("PLM", p_, None): plm_spec for p_ in plm_poolings}
evaluated |= {("CL", r.variant, r.seed): r.spec for r in cl_runs}
evaluated |= {(models.resolve(m).label, "avg", None): models.resolve(m) for m in extra_models}
scores = {}
for (role, variant, seed), spec in evaluated.items():
    enc = models.load(spec, used_device)
    how = "cls" if variant == pairs.GIVEN else variant
    scores[role, variant, seed] = sts.evaluate(enc.model, enc.tokenizer, how, data_dir, tasks, progress=False)
    enc.model.to("cpu")


def label(role, how, seed):
    name = f"SimCSE({plm_spec.label})" if role == "CL" and not cl else role
    return f"{name} · {how}" + (f" · seed {seed}" if seed is not None else "")


table = pd.DataFrame({label(*k): v for k, v in scores.items()}).T[[*tasks, "avg"]]
ref = pd.DataFrame(reference.SIMCSE_STS).T
ref = ref[[*tasks]].assign(avg=ref[[*tasks]].mean(1) if len(tasks) < 7 else ref["avg"])
ref.index = [f"SimCSE Table 5: {i}" for i in ref.index]
tables.show(pd.concat([table, ref]).reset_index(names="model"),
            caption=f"Spearman ×100 (cosine similarity); ours ({scale} scale) above, SimCSE's published BERT-base "
                    "numbers (Gao et al., 2021, Table 5) below")

# %% [markdown]
# ## The premise: SimCSE against the PLM's best pooling

# %% tags=["hide-input"]
variants = pairs.variants(params)
plm_avg = {how: scores["PLM", how, None]["avg"] for how in plm_poolings}
best_plm = max(plm_avg, key=plm_avg.get)
cl_avg = pairs.seed_stats({v: {seed or 0: scores["CL", v, seed]["avg"] for (role, vv, seed) in scores
                               if role == "CL" and vv == v} for v in variants})
bars = pd.DataFrame([dict(model=f"PLM · {h}", score=a) for h, a in plm_avg.items()]
                    + [dict(model=f"SimCSE · {v} (mean of {cl_avg[v]['n']})", score=cl_avg[v]["mean"])
                       for v in variants]
                    + [dict(model=models.resolve(m).label + " · avg", score=scores[models.resolve(m).label, "avg",
                                                                                    None]["avg"])
                       for m in extra_models])
charts.bars(bars, "score", "model", "The premise: every SimCSE pooling against the PLM's best",
            reference=plm_avg[best_plm], reference_label=f"the PLM's best pooling ({best_plm})",
            value_title=f"mean Spearman ×100 over {len(tasks)} task(s)")

# %% [markdown]
# ## The claims, and the margins stated before measuring
#
# * **The premise** (F13, at every scale), for each SimCSE pooling: the seven-task average, mean over the training
#   seeds, beats the PLM's **best** pooling by more than 3 sd over the seeds (and by more than 1 point when there is
#   one run). SimCSE's own margin at BERT-base is 19.6 points.
# * **The anchor** (F13, BERT-base on all seven tasks only): STS-B and the seven-task average within 1.0 point of
#   SimCSE's published 76.85 and 76.25.

# %% tags=["hide-input"]
for v in variants:
    gain = cl_avg[v]["mean"] - plm_avg[best_plm]
    margin = 3 * cl_avg[v]["sd"] if cl_avg[v]["n"] > 1 else 1.0
    run.above("F13", f"premise: SimCSE's 7-task average minus the PLM's best pooling ({best_plm})", gain, margin,
              variant=v, margin=f"3 sd over the training seeds {list(train_seeds)}" if cl_avg[v]["n"] > 1
              else "1 point (one run)")
if anchor_applies:
    anchor = reference.SIMCSE_STS["unsup-SimCSE-BERT-base"]
    cls_scores = next(scores[k] for k in scores if k[0] == "CL")
    run.within("F13", "STS-B test vs SimCSE-BERT-base (76.85)", cls_scores["STSB"], anchor["STSB"], 1.0)
    run.within("F13", "7-task average vs SimCSE-BERT-base (76.25)", cls_scores["avg"], anchor["avg"], 1.0)
tables.show(explain.checks_table(run.checks), caption="Every check")

# %% tags=["hide-input"]
gains = {v: cl_avg[v]["mean"] - plm_avg[best_plm] for v in variants}
reasons = {"F13": f"against the PLM's best pooling (`{best_plm}`, {plm_avg[best_plm]:.2f}), SimCSE gains "
                  + ", ".join(f"{g:+.2f} with `{v}`" for v, g in gains.items())
                  + " (SimCSE at BERT-base: +19.55)"}
headline = (f"7-task avg: PLM best pooling ({best_plm}) {plm_avg[best_plm]:.2f}; SimCSE "
            + ", ".join(f"{v} {cl_avg[v]['mean']:.2f}" for v in variants))
metrics = dict(sts={label(*k): v for k, v in scores.items()}, plm_avg=plm_avg, best_plm_pooling=best_plm,
               cl_avg=cl_avg, gains=gains, variants=variants, training_seeds=list(train_seeds) if not cl else [],
               headlines={"F13": headline}, why=reasons)
saved = run.save(metrics, device=used_device)

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
display(Markdown((f"**Not comparable with the anchor:** {run.comparable_reason}. " if not run.comparable else "")
                 + f"At {scale} scale, the premise: " + explain.paragraph(run.checks, ["F13"], reasons)))

# %% [markdown]
# What the page asserts: every requested task was scored for every model, each score is a correlation ×100, and
# the averages are the mean of the tasks.

# %% tags=["hide-input"]
assert all(set(v) == {*tasks, "avg"} and all(-100 <= x <= 100 for x in v.values()) for v in scores.values())
assert all(abs(v["avg"] - np.mean([v[t] for t in tasks])) < 1e-9 for v in scores.values())
assert len([c for c in run.checks if c["claim"].startswith("premise")]) == len(variants)

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
tables.provenance(saved, scale, evaluated=", ".join(dict.fromkeys(s.label for s in evaluated.values())),
                  data="STS12-16, STS-B test and SICK-R test of the mirror")
