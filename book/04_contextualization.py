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
#     title: 'Spurious contextualization: semantic vs functional tokens'
# ---

# %% [markdown]
# # 4 · Spurious contextualization: semantic vs functional tokens (F3–F6)
#
# A token's *self-similarity* is how much its vectors agree across the sentences it appears in; low
# self-similarity is strong *contextualization* {cite}`ethayarajh2019contextual`. The paper argues that
# contrastive learning changes *which* tokens are contextualized {cite}`xiao2023isotropy`: for semantically
# meaningful tokens the spurious part of the contextualization falls — their adjusted self-similarity rises
# (**F4**) — while functional tokens (stopwords, punctuation, special tokens) become *more* contextualized
# (**F5**): they follow whichever content their sentence has, moving toward its content tokens (**F3**). Averaged
# over the whole vocabulary, raw self-similarity falls at the contrastive model's last layer (**F6**).
#
# **Our operational definitions** (the paper publishes no token lists; `lib/science/tokens.py`):
#
# * *functional* = the tokenizer's special tokens, whole-word tokens that are English stopwords (scikit-learn's
#   list, 318 words), and tokens made only of punctuation or symbols; *semantic* = every other token, numbers
#   included. Word pieces: a continuation piece (`##ing`) is semantic — every stopword the vocabulary holds is a
#   single whole-word token, so pieces only ever come from content words. A second, broader list (the
#   `stop-words` package, 1,333 words) checks how much the verdicts depend on the list.
# * **F4/F5** compare the *same token ids* in both models (paired), at the last layer, using adjusted
#   self-similarity SelfSim* = SelfSim − A, for each SimCSE pooling (`cls`, `avg`) and training seed.
# * **F3**: per sentence, the mean cosine between each functional token and the mean vector of the sentence's
#   semantic tokens, averaged over sentences holding both classes, adjusted by A.
# * **F6**: the whole vocabulary's mean raw self-similarity at the last layer, as Chapter 1 computes it.

# %% tags=["parameters"]
plm: str = "pocket-bert"  # the pre-trained encoder
cl: str = ""  # a finished contrastive model (empty: SimCSE from `plm`, per pooling and training seed, trained once and reused)
poolings: list = ["cls", "avg"]  # SimCSE runs per pooling: cls is SimCSE's default, avg the pooling of the contrastive models the paper analysed
train_seeds: list = [0, 1, 2]  # one SimCSE run per seed and pooling: the noise behind every margin
simcse: dict = {}  # SimCSE parameters over the scale's preset, e.g. {'lr': 1e-4} (lib.science.training)
extra_models: list = ["all-MiniLM-L6-v2"]  # contrastive models at scale, for context
stopwords: str = "sklearn"  # sklearn | stop-words: the functional-token list
alt_stopwords: str = "stop-words"  # the sensitivity check's list
bootstrap: int = 2000  # bootstrap resamples over token ids
seeds: list = [0, 1, 2, 3, 4]  # one anisotropy (and IsoScore) sample per seed
n_samples: int = 1000  # sentences drawn per anisotropy sample
max_sentences: int = 0  # analysis sentences: the first of STS-B test sentence1 (0: all)
device: str = "auto"  # auto | cpu | cuda | cuda:N
data_dir: str = ""  # the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)
out_dir: str = ""  # where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)
scale: str = "pocket"  # smoke | pocket | paper: which scale produced this page

# %% tags=["hide-input"]
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import explain, literate, pairs, reference, tables
from lib.science import probes, tokens
from lib.science.params import ParameterError
from lib.science.stats import bootstrap_mean

study = pairs.start("04_contextualization", globals())  # every parameter checked, every SimCSE run's too
run, texts = study.run, study.texts

# %% [markdown]
# ## The token classes, and the code that draws the line
#
# Which ids are *functional* is decided once per tokenizer by the library's function below; a token's
# self-similarity is equation (3.1) of Chapter 3 over its occurrences, and the per-class, paired comparison is a
# difference of those per-id values:
#
# $$\Delta_w = \big(\mathrm{SelfSim}_{\mathrm{CL}}(w) - A^{\mathrm{CL}}_L\big) -
#   \big(\mathrm{SelfSim}_{\mathrm{PLM}}(w) - A^{\mathrm{PLM}}_L\big). \tag{4.1}$$

# %% tags=["remove-input"]
literate.show(tokens.functional_mask)

# %% tags=["hide-input"]
results = study.measure(functional=lambda tokenizer: tokens.functional_mask(tokenizer, stopwords))
cl_runs, encoders, variants = study.cl_runs, study.encoders, study.variants
for r in cl_runs:
    if encoders[r.label].tokenizer.get_vocab() != encoders["PLM"].tokenizer.get_vocab():
        raise ParameterError("cl", cl, "the PLM and the CL model must share a tokenizer for a paired comparison")
runs_of = {v: study.runs_of(v) for v in variants}
masks = {name: tokens.functional_mask(encoders["PLM"].tokenizer, name) for name in (stopwords, alt_stopwords)}
plm_geo = results["PLM"]
display(Markdown(f"{len(texts)} sentences; {len(plm_geo.vocab_ids)} ids counted ≥ 5 times, "
                 f"{int(plm_geo.measured.sum())} in ≥ 2 sentences; "
                 f"{int(masks[stopwords][plm_geo.vocab_ids[plm_geo.measured]].sum())} of those functional "
                 f"(`{stopwords}` list)."))

# %% [markdown]
# ## Self-similarity by token class, layer by layer
#
# Adjusted self-similarity SelfSim* of each class's ids (ids in at least two sentences), per layer; the CL curves
# are averaged over the training seeds of each pooling.

# %% tags=["hide-input"]
def class_self_sim(geo, functional_mask, adjusted=True):
    out = {}
    for name, keep in (("functional", functional_mask), ("semantic", ~functional_mask)):
        out[name] = geo.self_sim(ids=np.flatnonzero(keep)) - (geo.anisotropy if adjusted else 0)
    out["all"] = geo.self_sim() - (geo.anisotropy if adjusted else 0)
    return out


rows = []
for role, geo in results.items():
    mask = tokens.functional_mask(encoders[role].tokenizer, stopwords)
    for cls_name, values in class_self_sim(geo, mask).items():
        rows += [dict(model=study.group(role), layer=layer, metric=f"SelfSim* · {cls_name}", value=v)
                 for layer, v in enumerate(values)]
    rows += [dict(model=study.group(role), layer=layer, metric="function → content cos*",
                  value=f - geo.anisotropy[layer]) for layer, f in enumerate(geo.func_to_content)]
study.curves(rows)

# %% [markdown]
# ## How far the contrastive runs moved
#
# As in Chapter 3: how far each CL model is from the PLM, and how far its schedule let it move.

# %% tags=["hide-input"]
movement_table = study.movement()
tables.show(movement_table.set_index("run").T, caption="Relative weight change per layer, last LayerNorm gain, summed learning rate "
            "to the best checkpoint against SimCSE's epoch, sentences seen")

# %% [markdown]
# ## F4 and F5: the same tokens, before and after
#
# For every id measured in both models (the same tokenizer, the same sentences), Δ of equation (4.1) at the last
# layer. Per pooling: the class means of each training seed, their mean and sd over the seeds, and a 95 %
# bootstrap interval over ids of the seed-averaged Δ. F5 leads with the **adjustment-free** measure — the gap
# between the semantic and the functional ids' raw self-similarity — because the adjusted one moves with the
# anisotropy $A_L$ that is subtracted from both classes.

# %% tags=["hide-input"]
def per_id_delta(cl_geo, adjusted=True):
    both = plm_geo.measured & cl_geo.measured
    a_cl, a_plm = (cl_geo.anisotropy[-1], plm_geo.anisotropy[-1]) if adjusted else (0.0, 0.0)
    return (cl_geo.self_sim_per_id[-1] - a_cl) - (plm_geo.self_sim_per_id[-1] - a_plm), both


def raw_gap(geo, mask, both):
    functional = mask[plm_geo.vocab_ids] & both
    return float(geo.self_sim_per_id[-1][~functional & both].mean() - geo.self_sim_per_id[-1][functional].mean())


def class_stats(mask, seed):
    out = {}
    for v in variants:
        per_seed = {}
        deltas = []
        for r in runs_of[v]:
            delta, both = per_id_delta(results[r.label])
            functional = mask[plm_geo.vocab_ids] & both
            semantic = ~mask[plm_geo.vocab_ids] & both
            per_seed[r.seed if r.seed is not None else 0] = dict(
                functional=float(delta[functional].mean()), semantic=float(delta[semantic].mean()),
                gap_change=raw_gap(results[r.label], mask, both) - raw_gap(plm_geo, mask, both),
                f2c=float(results[r.label].func_to_content[-1] - results[r.label].anisotropy[-1]),
                raw_all=float(results[r.label].self_sim()[-1]))
            deltas.append(np.where(both, delta, np.nan))
        seed_mean = np.nanmean(np.stack(deltas), 0)
        stats = {k: pairs.seed_stats({v: {s: d[k] for s, d in per_seed.items()}})[v] for k in per_seed[
            next(iter(per_seed))]}
        both = np.isfinite(seed_mean)
        for name, keep in (("functional", mask[plm_geo.vocab_ids] & both), ("semantic", ~mask[plm_geo.vocab_ids] & both)):
            stats[name]["bootstrap"] = bootstrap_mean(seed_mean[keep], bootstrap, seed)
        out[v] = stats
    return out


main = class_stats(masks[stopwords], 0)
alt_list = class_stats(masks[alt_stopwords], 1)
plm_gap = raw_gap(plm_geo, masks[stopwords], plm_geo.measured)
rows = []
for name, res in ((stopwords, main), (alt_stopwords, alt_list)):
    for v in variants:
        for c in ("semantic", "functional"):
            b = res[v][c]["bootstrap"]
            rows.append({"list": name, "pooling": v, "class": c, "mean Δ SelfSim*": res[v][c]["mean"],
                         "sd over seeds": res[v][c]["sd"], "95 % interval over ids": f"[{b['low']:+.4f}, {b['high']:+.4f}]",
                         "ids": b["n"]})
        rows.append({"list": name, "pooling": v, "class": "raw gap change (adjustment-free)",
                     "mean Δ SelfSim*": res[v]["gap_change"]["mean"], "sd over seeds": res[v]["gap_change"]["sd"],
                     "95 % interval over ids": "—", "ids": None})
tables.show(pd.DataFrame(rows), caption="Last layer, CL − PLM: the change of adjusted self-similarity per class, "
            f"and of the semantic − functional raw self-similarity gap (the PLM's gap: {plm_gap:+.4f})")

# %% [markdown]
# ## The paper's probes, beside ours
#
# The paper illustrates the effect with three probes on all-mpnet-base-v2's last layer. We compute them for every
# model here; the paper's values apply to all-mpnet-base-v2 (pass a local copy in `extra_models` to compare like
# with like).

# %% tags=["hide-input"]
probe_rows = []
for role, enc in encoders.items():
    for p_ in probes.R3_PROBES:
        probe_rows.append(dict(model=role, probe=p_.describe(), cosine=probes.probe(enc.model, enc.tokenizer, p_)))
probe_table = pd.DataFrame(probe_rows).pivot(index="probe", columns="model", values="cosine")
probe_table.insert(0, "the paper (all-mpnet-base-v2)",
                   [next(r["value"] for r, p_ in zip(reference.R3, probes.R3_PROBES) if p_.describe() == probe)
                    for probe in probe_table.index])
tables.show(probe_table.reset_index(), caption="Cosine between a word's vectors in two contexts, last layer")

# %% [markdown]
# ## The claims, and the margins stated before measuring
#
# For each pooling, the CL runs' mean over training seeds against the PLM; a measurement must clear **3 standard
# deviations over the training seeds** (with a given CL model, over the anisotropy samples):
#
# * **F4**: the semantic ids' mean Δ SelfSim* is above 3 sd.
# * **F5** (adjustment-free first): the semantic − functional gap of *raw* self-similarity widens by more than
#   3 sd; and the functional ids' mean Δ SelfSim* is below −3 sd.
# * **F6**: the whole vocabulary's raw self-similarity at the last layer is lower for CL by more than 3 sd.
# * **F3**: the adjusted function → content cosine at the last layer is higher for CL by more than 3 sd.
#
# Every check compares CL with its own PLM, so the unchanged PLM fails each one (its differences are 0). The
# second stopword list's verdicts are reported beside them.

# %% tags=["hide-input"]
MARGIN = ("3 sd over the training seeds " + str(list(train_seeds)) if not cl
          else "3 sd over the anisotropy samples " + str(list(seeds)))
plm_f2c = float(plm_geo.func_to_content[-1] - plm_geo.anisotropy[-1])
plm_raw = float(plm_geo.self_sim()[-1])
for v in variants:
    s = main[v]
    noise = {k: s[k]["sd"] for k in s} if not cl else {k: float(results[runs_of[v][0].label].anisotropy_sd[-1])
                                                       for k in s}
    run.above("F4", "semantic ids: mean Δ SelfSim* (CL − PLM)", s["semantic"]["mean"], 3 * noise["semantic"],
              variant=v, margin=MARGIN)
    run.above("F5", "semantic − functional raw SelfSim gap: CL's minus the PLM's (adjustment-free)",
              s["gap_change"]["mean"], 3 * noise["gap_change"], variant=v, margin=MARGIN)
    run.below("F5", "functional ids: mean Δ SelfSim* (CL − PLM)", s["functional"]["mean"], -3 * noise["functional"],
              variant=v, margin=MARGIN)
    run.below("F6", "whole-vocabulary raw SelfSim at the last layer, CL vs PLM", s["raw_all"]["mean"],
              plm_raw - 3 * noise["raw_all"], variant=v, margin=MARGIN)
    run.above("F3", "function → content cos* at the last layer, CL vs PLM", s["f2c"]["mean"],
              plm_f2c + 3 * noise["f2c"], variant=v, margin=MARGIN)
alt_agrees = {v: dict(F4=alt_list[v]["semantic"]["mean"] > 3 * alt_list[v]["semantic"]["sd"],
                      F5=alt_list[v]["functional"]["mean"] < -3 * alt_list[v]["functional"]["sd"]) for v in variants}
tables.show(explain.checks_table(run.checks), caption="Every check, per pooling")

# %% [markdown]
# ## The paper beside ours

# %% tags=["hide-input"]
ours = {"F3": lambda v: f"{plm_f2c:.3f} → {main[v]['f2c']['mean']:.3f}",
        "F4": lambda v: f"Δ {main[v]['semantic']['mean']:+.4f} ± {main[v]['semantic']['sd']:.4f}",
        "F5": lambda v: f"gap {main[v]['gap_change']['mean']:+.4f}; Δ functional {main[v]['functional']['mean']:+.4f}",
        "F6": lambda v: f"{plm_raw:.3f} → {main[v]['raw_all']['mean']:.3f}"}
tables.show(explain.paper_vs_ours(["F3", "F4", "F5", "F6"], lambda fid, v: ours[fid](v), run.checks, variants),
            caption="The paper beside ours (last layer, mean over training seeds ± sd)")

# %% tags=["hide-input"]
reasons = {fid: "; ".join(f"with `{v}`: {ours[fid](v)}" for v in variants) for fid in ("F3", "F4", "F5", "F6")}
reasons["F5"] += (" (the adjusted Δ subtracts each model's anisotropy; where the raw gap and the adjusted Δ "
                  "disagree, the anisotropy change decides the adjusted one)")
metrics = dict(classes={stopwords: main, alt_stopwords: alt_list}, alt_list_agrees=alt_agrees, plm_gap=plm_gap,
               plm_func_to_content_adj=plm_f2c, plm_raw_self_sim=plm_raw, probes=probe_rows,
               headlines={fid: "; ".join(f"{v}: {ours[fid](v)}" for v in variants) for fid in ours},
               why=reasons, variants=variants, movement=movement_table.to_dict("records"), training_seeds=list(train_seeds) if not cl else [],
               per_layer={role: geo.per_layer() for role, geo in results.items()}, n_sentences=len(texts))
saved = study.save(metrics)

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
agree = "; ".join(f"with `{v}` F4's direction {'holds' if a['F4'] else 'does not hold'} and F5's "
                  f"{'holds' if a['F5'] else 'does not hold'}" for v, a in alt_agrees.items())
display(Markdown((f"**Not comparable:** {run.comparable_reason}. " if not run.comparable else "")
                 + f"At {scale} scale: " + explain.paragraph(run.checks, ["F3", "F4", "F5", "F6"], reasons)
                 + f" With the broader `{alt_stopwords}` list: {agree}."))

# %% [markdown]
# What the page asserts: every check was made for every pooling, each class holds ids, the bootstrap intervals
# contain their means, and the probes are cosines.

# %% tags=["hide-input"]
assert len(run.checks) == 5 * len(variants) and {c["variant"] for c in run.checks} == set(variants)
for res in (main, alt_list):
    for v in variants:
        for c in ("functional", "semantic"):
            b = res[v][c]["bootstrap"]
            assert b["n"] > 0 and b["low"] <= b["mean"] <= b["high"], b
assert all(-1 - 1e-6 <= x <= 1 + 1e-6 for x in pd.DataFrame(probe_rows).cosine)

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
tables.provenance(saved, scale, data=f"STS-B test sentence1, {len(texts)} sentences",
                  stopword_lists=f"{stopwords}; {alt_stopwords}")
