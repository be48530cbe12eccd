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
#     title: "PLM vs CL: isotropy, intra-sentence similarity, norms, rogue dimensions"
#     ci_scale: smoke
#     scales:
#       smoke:
#         plm: tiny-random-bert
#         extra_models: []
#         max_sentences: 200
#         n_samples: 100
#         seeds: [0, 1, 2]
#       pocket: {}
#       paper:
#         plm: bert-base-uncased
#         cl: princeton-nlp/unsup-simcse-bert-base-uncased
#         extra_models: [sentence-transformers/all-MiniLM-L6-v2]
# ---

# %% [markdown]
# # 3 · What contrastive learning does to the token space: isotropy, intra-sentence similarity, norms, rogue dimensions (F1, F2, F7, F8)
#
# The paper's first claims compare one encoder before and after unsupervised contrastive learning
# {cite}`xiao2023isotropy`: contrastive learning (CL) makes the token space **isotropic** (F1), pulls the tokens
# of a sentence together — **high intra-sentence similarity** (F2) — moves the space **towards the origin** (F7),
# and leaves **fewer rogue dimensions** dominating it (F8). We measure all four with Chapter 1's protocol on STS-B
# test `sentence1`, layer by layer, for
#
# * the **PLM** (`plm`): at pocket scale, `pocket-bert` (Chapter 2);
# * the **CL** model (`cl`): unsupervised SimCSE {cite}`gao2021simcse` from that PLM, trained through the
#   project's engine with the parameters below (SimCSE's defaults at the page's scale) and reused once trained;
#   its best STS-B dev checkpoint, as SimCSE keeps;
# * for context, contrastive models **at scale** (`extra_models`): all-MiniLM-L6-v2 ships offline; any local
#   folder (all-mpnet-base-v2, a hub SimCSE) can be added.
#
# At paper scale the pair is `bert-base-uncased` → `princeton-nlp/unsup-simcse-bert-base-uncased`, one parameter
# set away (`--scale paper`, a GPU and the hub).

# %% tags=["parameters"]
plm: str = "pocket-bert"  # the pre-trained encoder
cl: str = ""  # a contrastive model; empty: SimCSE from `plm` with the parameters below (trained once, reused)
extra_models: list = ["all-MiniLM-L6-v2"]  # contrastive models at scale, for context
temperature: float = 0.05  # SimCSE's parameters (used when cl is empty)
pooling: str = "cls"
batch_size: int = 64
lr: float = 3e-05
max_steps: int = 0  # 0: the scale's schedule
dropout: float = 0.1
train_seed: int = 0
seeds: list = [0, 1, 2, 3, 4]  # anisotropy and IsoScore samples
n_samples: int = 1000
max_sentences: int = 0  # analysis sentences: STS-B test sentence1 (0: all)
device: str = "auto"
data_dir: str = ""
out_dir: str = ""
scale: str = "pocket"

# %% tags=["hide-input"]
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import charts, pairs, tables
from lib.book.chapter_run import ChapterRun
from lib.science import data, geometry, models
from lib.science import params as P

P.scale(scale)
seeds = P.seeds("seeds", seeds, minimum_count=2)
P.integer("n_samples", n_samples, minimum=2)
P.integer("max_sentences", max_sentences, minimum=0)
used_device, plm_spec, extra_specs, train_params = pairs.check(
    scale, plm, cl, extra_models, train_seed, device, data_dir, temperature=temperature, pooling=pooling,
    batch_size=batch_size, lr=lr, max_steps=max_steps, dropout=dropout)
texts = data.sentences(data.load("stsb", "test", data_dir), "sentence1", max_sentences)
P.integer("n_samples", n_samples, minimum=2, maximum=len(texts))
params = dict(plm=plm, cl=cl, extra_models=extra_models, temperature=temperature, pooling=pooling,
              batch_size=batch_size, lr=lr, max_steps=max_steps, dropout=dropout, train_seed=train_seed, seeds=seeds,
              n_samples=n_samples, max_sentences=max_sentences, device=device, data_dir=data_dir, out_dir=out_dir,
              scale=scale)
run = ChapterRun("03_plm_vs_cl", params)
if scale == "smoke":
    run.not_comparable("smoke scale: a tiny random encoder and 20 SimCSE steps say nothing about the paper's claims; "
                       "the page only checks that the chapter runs")
charts.enable_offline()

# %% [markdown]
# ## The contrastive model
#
# Trained once through the engine (`python -m lib.train simcse`, here called from the page) and reused by every
# chapter that asks for the same parameters; a rerun with other parameters trains its own.

# %% tags=["hide-input"]
cl_spec, record = pairs.contrastive(plm, cl, train_params)
if record is not None:
    curve = pd.DataFrame(record["evals"])
    best = record["best"]
    display(Markdown(
        f"SimCSE from `{plm_spec.label}`: {record['schedule']['max_steps']} steps of {record['schedule']['global_batch']} "
        f"sentences, τ = {temperature}, `{pooling}` pooling, lr {lr}, dropout {dropout}. STS-B dev ×100 "
        f"({pooling} pooling): **{curve.stsb_dev.iloc[0]:.1f}** before, **{best['stsb_dev']:.1f}** at its best "
        f"step ({best['step']}), the checkpoint used below."))
else:
    display(Markdown(f"The contrastive model is `{cl_spec.label}`, as given."))

# %% [markdown]
# ## Measuring
#
# Chapter 1's protocol for every model: hidden states of all layers for all analysis sentences, anisotropy from
# `len(seeds)` samples of `n_samples` tokens, and, from the same sampled tokens, IsoScore {cite}`rudman2022isoscore`.

# %% tags=["hide-input"]
roles = {"PLM": plm_spec, "CL": cl_spec, **{s.label: s for s in extra_specs}}
encoders, results = {}, {}
for role, spec in roles.items():
    encoders[role] = models.load(spec, used_device)
    results[role] = geometry.analyse(encoders[role], texts, seeds, n_samples=n_samples, progress=False)
    if role not in ("PLM", "CL"):
        encoders[role].model.to("cpu")
per_layer = {role: geo.per_layer() for role, geo in results.items()}
METRICS = {"anisotropy": "anisotropy A", "intra_sim": "IntraSim", "intra_sim_adj": "IntraSim* (adjusted)",
           "norm": "mean token norm", "rogue_top1_share": "top-1 dimension share", "rogue_top3_share":
           "top-3 dimension share", "isoscore": "IsoScore", "self_sim": "SelfSim", "self_sim_adj": "SelfSim*"}
rows = []
for role, layers in per_layer.items():
    iso_sd = results[role].isoscore_per_seed().std(0, ddof=1)
    for r in layers:
        for m, label in METRICS.items():
            sd = r["anisotropy_sd"] if m == "anisotropy" else iso_sd[r["layer"]] if m == "isoscore" else np.nan
            rows.append(dict(model=role, layer=r["layer"], metric=label, value=r[m], sd=sd))
long = pd.DataFrame(rows)
charts.per_layer_models(long, f"PLM vs CL, layer by layer ({len(texts)} STS-B test sentences)", columns=3)

# %% [markdown]
# ## The last layer, side by side
#
# Anisotropy and IsoScore are random estimates (mean ± sd over the seeds); the others are deterministic.

# %% tags=["hide-input"]
def last(role, key):
    return per_layer[role][-1][key]


table = pd.DataFrame({role: {label: last(role, m) for m, label in METRICS.items()} for role in per_layer})
for role in per_layer:
    table.loc["anisotropy sd", role] = last(role, "anisotropy_sd")
    table.loc["IsoScore sd", role] = results[role].isoscore_per_seed()[:, -1].std(ddof=1)
table.style.format("{:.4f}")

# %% [markdown]
# ## The claims, and the tolerances stated before measuring
#
# Each claim is a direction at the **last layer**, CL against its own PLM, with a margin that a measurement must
# clear:
#
# * **F1**, isotropy: CL's anisotropy is below the PLM's by more than 3 standard deviations of the seed noise, and
#   it is at most half of it (the paper's "≪": BERT-base 0.48 against SimCSE's 0.01–0.02).
# * **F2**, intra-sentence similarity: adjusted IntraSim* of CL exceeds the PLM's by at least 0.05 (MiniLM's
#   jump at its last layer is 0.28; intra-sentence similarity is deterministic, so 0.05 is far above its noise);
#   and CL's last layer is where its IntraSim* jumps (higher than at its previous layer).
# * **F7**, towards the origin: CL's mean token norm is at least 10 % below the PLM's.
# * **F8**, rogue dimensions: the top-1 and top-3 dimensions' share of self-similarity (the mean-vector reading,
#   Chapter 1) are lower for CL, and IsoScore is higher by more than 3 sd of its seed noise.
#
# These are directions, testable at any scale, so a pocket run is comparable with the paper's claims; the
# numbers themselves are not (other model, other data size), and the page says so where it shows them.

# %% tags=["hide-input"]
pool_sd = lambda role: float(np.hypot(last("PLM", role), last("CL", role)))  # noqa: E731
a_plm, a_cl = last("PLM", "anisotropy"), last("CL", "anisotropy")
a_sd = float(np.hypot(last("PLM", "anisotropy_sd"), last("CL", "anisotropy_sd")))
run.below("F1", "last-layer anisotropy, CL vs PLM minus 3 sd", a_cl, a_plm - 3 * a_sd)
run.below("F1", "last-layer anisotropy, CL at most half of PLM's", a_cl, 0.5 * a_plm)
jump = last("CL", "intra_sim_adj") - last("PLM", "intra_sim_adj")
run.above("F2", "last-layer IntraSim*, CL minus PLM", jump, 0.05)
run.above("F2", "CL's IntraSim* rises at its last layer", last("CL", "intra_sim_adj"),
          per_layer["CL"][-2]["intra_sim_adj"])
run.below("F7", "last-layer mean token norm, CL vs 0.9 x PLM", last("CL", "norm"), 0.9 * last("PLM", "norm"))
run.below("F8", "last-layer top-1 dimension share, CL vs PLM", last("CL", "rogue_top1_share"),
          last("PLM", "rogue_top1_share"))
run.below("F8", "last-layer top-3 dimension share, CL vs PLM", last("CL", "rogue_top3_share"),
          last("PLM", "rogue_top3_share"))
iso = {role: results[role].isoscore_per_seed()[:, -1] for role in ("PLM", "CL")}
iso_sd = float(np.hypot(iso["PLM"].std(ddof=1), iso["CL"].std(ddof=1)))
run.above("F8", "last-layer IsoScore, CL vs PLM plus 3 sd", iso["CL"].mean(), iso["PLM"].mean() + 3 * iso_sd)

verdict = {c["finding"]: [] for c in run.checks}
for c in run.checks:
    verdict[c["finding"]].append(c["passed"])
headlines = {
    "F1": f"last-layer A: PLM {a_plm:.3f} → CL {a_cl:.3f}",
    "F2": f"last-layer IntraSim*: PLM {last('PLM', 'intra_sim_adj'):.3f} → CL {last('CL', 'intra_sim_adj'):.3f}",
    "F7": f"last-layer norm: PLM {last('PLM', 'norm'):.2f} → CL {last('CL', 'norm'):.2f}",
    "F8": f"top-1 share PLM {last('PLM', 'rogue_top1_share'):.3f} → CL {last('CL', 'rogue_top1_share'):.3f}; "
          f"IsoScore {iso['PLM'].mean():.3f} → {iso['CL'].mean():.3f}",
}
metrics = dict(per_layer=per_layer, isoscore_per_seed={r: results[r].isoscore_per_seed() for r in per_layer},
               anisotropy_per_seed={r: results[r].anisotropy_per_seed for r in per_layer}, headlines=headlines,
               training=None if record is None else dict(best=record["best"], evals=record["evals"],
                                                         schedule=record["schedule"]),
               n_sentences=len(texts))
saved = run.save(metrics, models=list(encoders.values()),
                 data=dict(dataset="stsb", split="test", column="sentence1", n_sentences=len(texts),
                           sentences_sha256=data.texts_sha256(texts)))
summary = pd.DataFrame([dict(finding=c["finding"], claim=c["claim"], measured=c["measured"],
                             bound=c["reference"], holds="✓" if c["passed"] else "✗") for c in run.checks])
display(summary.style.format({"measured": "{:.4f}", "bound": "{:.4f}"}).hide(axis="index"))

# %% tags=["remove-input"]
words = {True: "reproduces", False: "does not reproduce"}
display(Markdown(
    (f"**Not comparable:** {run.comparable_reason}. " if not run.comparable else "")
    + f"**At {scale} scale ({plm_spec.label} → its SimCSE run):** "
    + "; ".join(f"{fid} {words[all(v)] if all(v) or not any(v) else 'partly reproduces'} ({headlines[fid]})"
                for fid, v in verdict.items()) + "."))

# %% [markdown]
# Every check is recorded whether it holds or not: a claim that does not reproduce is a result, reported here, in
# `results.json` and in the scorecard as *not* or *partly*. What the page asserts is that each verdict is decided
# by the measurement and not by its noise: at pocket and paper scale the last layer's seed-to-seed sd must stay
# below 0.01 for anisotropy and 0.02 for IsoScore (a tenth of the F1/F8 effects the paper reports), and every
# check must have been made (eight of them). The protocol's invariants hold at every scale.
#
# The CL model here is SimCSE with its default `cls` pooling. Chapter 9 trains the same run with the other
# poolings, including the mean pooling of the contrastive models the paper analysed, and reports for each whether
# anisotropy and norm fall.

# %% tags=["hide-input"]
if scale != "smoke":
    assert a_sd < 0.01 and iso_sd < 0.02, (a_sd, iso_sd)
for role, layers in per_layer.items():
    assert len(layers) == encoders[role].n_layers + 1
    for r in layers:
        assert -1 <= r["anisotropy"] <= 1 and r["norm"] > 0 and 0 <= r["isoscore"] <= 1 + 1e-9
        assert 0 < r["rogue_top1_share"] <= r["rogue_top3_share"] <= 1 + 1e-9
assert len(run.checks) == 8 and {c["finding"] for c in run.checks} == {"F1", "F2", "F7", "F8"}

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
pd.set_option("display.max_colwidth", None)
tables.provenance(saved, scale, data=f"STS-B test sentence1, {len(texts)} sentences")
