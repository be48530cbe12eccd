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
#     title: The pocket pre-trained BERT
# ---

# %% [markdown]
# # 2 · The pocket pre-trained BERT
#
# The paper compares a pre-trained masked-language-model encoder (the *PLM*) with the same encoder after
# unsupervised contrastive training (*CL*). At paper scale the PLM is `bert-base-uncased` {cite}`devlin2019bert`,
# downloaded from the Hugging Face hub. Offline no pre-contrastive English encoder exists, so the project makes its
# own: **pocket-bert**, a 6-layer, 384-dimensional BERT (the shape of all-MiniLM-L6-v2) pre-trained from scratch by
# masked language modelling on the mirror's 1M-sentence Wikipedia corpus, with bert-base-uncased's WordPiece
# vocabulary. It is committed in `models/pocket-bert` next to its record, and every chapter accepts it as
# `pocket-bert`.
#
# This chapter shows where it comes from: the recipe, its learning curve, how much better than a unigram guess it
# predicts masked tokens, the small grid that chose the recipe, and its per-layer geometry beside a contrastive
# model's. With `source = "committed"` (the published page) it reads the committed record; with
# `source = "train"` it pre-trains a model through the project's engine at the page's scale (CI does this at smoke
# scale, in seconds); with `source = "none"` it only analyses `plm` (e.g. `bert-base-uncased` at paper scale).

# %% tags=["parameters"]
source: str = "committed"  # committed | train | none: the committed pocket PLM, a fresh one, or `plm` as given
plm: str = "pocket-bert"  # the PLM analysed when source is committed or none
compare: str = "all-MiniLM-L6-v2"  # a contrastive model for the geometry comparison
grid_lrs: list = [3e-05, 0.0001, 0.0003]  # the SimCSE schedule grid: learning rates
grid_dropouts: list = [0.1, 0.2]  # the SimCSE schedule grid: dropout (the augmentation's strength)
grid_steps: int = 250  # the SimCSE schedule grid: steps per run
simcse: dict = {}  # other SimCSE parameters of the grid's runs, over the scale's preset
run_missing: bool = True  # train the grid's missing runs (False: show the finished ones)
seeds: list = [0, 1, 2]  # one anisotropy (and IsoScore) sample per seed
n_samples: int = 1000  # sentences drawn per anisotropy sample
max_sentences: int = 0  # analysis sentences: the first of STS-B test sentence1 (0: all)
device: str = "auto"  # auto | cpu | cuda | cuda:N
data_dir: str = ""  # the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)
out_dir: str = ""  # where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)
scale: str = "pocket"  # smoke | pocket | paper: which scale produced this page

# %% tags=["hide-input"]
import json

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import chapters, charts, datafiles, literate, selection, tables, training_runs
from lib.science import data, devices, geometry, models, movement, training
from lib.science.params import ParameterError
from lib.science.provenance import REPO_ROOT

params, run = chapters.begin("02_pocket_plm", globals())
used_device = devices.resolve_device(device)
compare_spec = models.resolve(compare)
texts = data.sentences(data.load("stsb", "test", data_dir), "sentence1", max_sentences)
if n_samples > len(texts):
    raise ParameterError("n_samples", n_samples, f"at most the {len(texts)} analysis sentences")
if source == "train":  # the engine's MLM run at this scale (reused when it exists)
    plm_dir, record = training_runs.ensure(training.resolve("mlm", dict(scale=scale, data_dir=data_dir, device=device)))
    plm_name = str(plm_dir / "last")
elif source == "committed":
    if plm != "pocket-bert":
        raise ParameterError("plm", plm, "with source = 'committed' the PLM is the committed 'pocket-bert'")
    record = json.loads((REPO_ROOT / "models" / "pocket-bert" / "record.json").read_text())
    plm_name = plm
else:
    record, plm_name = None, plm
plm_spec = models.resolve(plm_name)

# %% [markdown]
# ## The recipe
#
# A small model trained for minutes has to spend its compute where it counts. The levers that matter for small
# budgets, and what the recipe does with each ({cite}`geiping2023cramming` studies them at a larger scale):
#
# * **Loss only at the masked positions.** The stock `BertForMaskedLM` computes vocabulary logits for every
#   token; our step gathers the ~15 % selected positions first (`lib/science/mlm.py`). Same loss and gradients
#   (a test checks it), about 4× the tokens per second on a CPU (`benchmarks/bench_pretrain.py`).
# * **No dropout during pre-training** (restored to 0.1 in the saved config, which SimCSE's augmentation needs):
#   with under ten passes over the data there is no over-fitting for dropout to prevent.
# * **A high peak learning rate** (1e-3) with 6 % warm-up and linear decay to zero, gradient clipping at 1.
# * **Large batches of similar-length sentences** (1,024 sentences of at most 64 tokens, length-bucketed):
#   little padding, and on a GPU the step is limited by launches, not arithmetic, so a larger batch is nearly free.
# * **bf16 autocast** for the matrix products, float32 weights and optimiser.

# %% tags=["hide-input"]
if record is not None:
    shown = {k: record["params"][k] for k in ("model", "batch_size", "lr", "warmup", "weight_decay", "adam_beta2",
                                              "dropout", "save_dropout", "mask_prob", "max_len", "precision", "seed")}
    sched = record["schedule"]
    where = record.get("device") or record["provenance"]["device"]
    shown.update(steps=sched["max_steps"], sentences_seen=sched["max_steps"] * sched["global_batch"],
                 training_sentences=sched["n_train_sentences"], device=where.get("gpu", where["device"]),
                 wall_time_s=record.get("wall_time_s"))
    display(pd.Series(shown, name="value").to_frame())
else:
    display(Markdown(f"`{plm}` is analysed as given: it has no pre-training record in this project."))

# %% [markdown]
# ## Learning curve
#
# Held-out masked-token accuracy (5,000 sentences the model never trained on, masked once with a fixed seed) and
# loss, and the STS-B dev Spearman correlation of the PLM's sentence vectors (mean pooling and [CLS]) along the
# way. The dashed line is the **unigram baseline**: always predicting the training corpus's most frequent token.

# %% tags=["hide-input"]
if record is not None:
    curve = pd.DataFrame(record.get("curve") or record["evals"])
    baseline = record.get("unigram_baseline") or record["baseline"]
    long = curve.melt(id_vars="step", value_vars=["heldout_accuracy", "heldout_loss", "stsb_dev", "stsb_dev_cls"],
                      var_name="metric").assign(series="pocket-bert" if source == "committed" else "this run")
    long = pd.concat([long, pd.DataFrame(dict(step=curve.step, metric="heldout_accuracy", value=baseline["accuracy"],
                                              series=f"unigram baseline ('{baseline['token']}')"))])
    long["metric"] = long.metric.map({"heldout_accuracy": "held-out masked-token accuracy",
                                      "heldout_loss": "held-out MLM loss",
                                      "stsb_dev": "STS-B dev ×100, mean pooling",
                                      "stsb_dev_cls": "STS-B dev ×100, [CLS]"})
    display(charts.over_steps(long.dropna(subset=["value"]), "MLM pre-training", log_x=False, columns=2))
    final = curve.iloc[-1]
    ratio = final.heldout_accuracy / baseline["accuracy"]
    display(Markdown(
        f"After **{int(final.step):,}** steps the held-out masked-token accuracy is **{final.heldout_accuracy:.1%}**, "
        f"{ratio:.1f}× the unigram baseline ({baseline['accuracy']:.1%}, always '{baseline['token']}'); the "
        f"mean-pooled "
        f"sentence vectors reach **{final.stsb_dev:.1f}** on STS-B dev (the randomly initialised model: "
        f"{curve.iloc[0].stsb_dev:.1f})."))

# %% [markdown]
# ## The grid that chose the recipe
#
# Each row is one pre-training run of the engine, measured the same way (held-out accuracy, STS-B dev). The GPU
# rows come from a lent H100 (the session script in `tools/`): two peak learning rates at an equal budget, then
# the chosen one for longer. The CPU rows hold everything but one lever fixed, at a budget a laptop can afford.

# %% tags=["hide-input"]
grid_file = REPO_ROOT / "models" / "pocket-bert" / "grid.json"
if source == "committed" and grid_file.is_file():
    grid = pd.DataFrame(json.loads(grid_file.read_text())["runs"]).set_index("run")
    grid = grid.rename(columns={"heldout_accuracy": "held-out acc.", "stsb_dev": "STS-B dev (avg)",
                                "stsb_dev_cls": "STS-B dev (cls)", "sentences_seen": "sentences", "train_seconds": "s"})
    tables.show(grid[["shape", "lr", "dropout", "batch", "steps", "held-out acc.", "STS-B dev (avg)",
                      "STS-B dev (cls)"]], formats={"lr": "g", "held-out acc.": 3, "STS-B dev (avg)": 1, "STS-B dev (cls)": 1},
                caption="The pre-training grid (sentences of at most 64 tokens): held-out "
                "masked-token accuracy and STS-B dev (× 100) per run")
else:
    display(Markdown("The grid is shown with the committed record (`source = \"committed\"`)."))

# %% [markdown]
# ## Does it look like an MLM model?
#
# The paper's story needs a PLM whose token space is what masked-language models are known for: anisotropic
# (random tokens share a direction) and contextualised. Chapter 1's protocol on STS-B test `sentence1`, for the
# PLM and for a contrastive model, layer by layer.

# %% tags=["hide-input"]
plm_encoder = models.load(plm_spec, used_device)
compare_encoder = models.load(compare_spec, used_device)
rows = []
per_model = {}
for name, enc in ((plm_spec.name if source != "train" else "this run's PLM", plm_encoder),
                  (compare_spec.name, compare_encoder)):
    geo = geometry.analyse(enc, texts, seeds, n_samples=n_samples, progress=False)
    per_model[name] = geo.per_layer()
    for r in per_model[name]:
        for m, label in (("anisotropy", "anisotropy A"), ("intra_sim_adj", "IntraSim*"), ("self_sim_adj", "SelfSim*"),
                         ("norm", "mean token norm"), ("isoscore", "IsoScore")):
            rows.append(dict(model=name, layer=r["layer"], metric=label, value=r[m],
                             sd=r["anisotropy_sd"] if m == "anisotropy" else np.nan))
long = pd.DataFrame(rows)
charts.per_layer_models(long, f"Geometry per layer on STS-B test sentence1 ({len(texts)} sentences)")

# %% [markdown]
# **Claims, with the tolerances stated before measuring.** At pocket scale the PLM must (1) predict masked tokens
# at least 3× as often as the unigram baseline — a model that has learnt its language, not just its word
# frequencies — and (2) have a last-layer anisotropy at least 3× the contrastive model's and at least 0.05 — the
# paper's starting point, an anisotropic PLM (BERT-base: 0.48 at its last layer, in Ethayarajh's released
# statistics). At smoke scale (a 30-step model) only the protocol's invariants are checked. The results go to
# `results.json` first.

# %% tags=["hide-input"]
a_plm = per_model[list(per_model)[0]][-1]["anisotropy"]
a_cl = per_model[compare_spec.name][-1]["anisotropy"]
metrics = dict(per_layer=per_model, anisotropy_last={"plm": a_plm, "compare": a_cl})  # the grid's added below
if record is not None:
    metrics.update(heldout_accuracy=float(final.heldout_accuracy), unigram_baseline=baseline,
                   stsb_dev=float(final.stsb_dev), stsb_dev_cls=float(final.stsb_dev_cls))
analysed = dict(dataset="stsb", split="test", column="sentence1", n_sentences=len(texts),
                sentences_sha256=data.texts_sha256(texts))
saved = run.save(metrics, models=[plm_encoder, compare_encoder], data=analysed)
if scale == "pocket" and record is not None:
    assert final.heldout_accuracy >= 3 * baseline["accuracy"], (final.heldout_accuracy, baseline)
    assert a_plm >= max(0.05, 3 * a_cl), (a_plm, a_cl)
for layers in per_model.values():  # invariants
    assert all(np.isfinite(r["anisotropy"]) and -1 <= r["anisotropy"] <= 1 and r["norm"] > 0 for r in layers)
display(Markdown(
    f"Last-layer anisotropy: **{a_plm:.3f}** for the PLM, **{a_cl:.3f}** for `{compare_spec.name}` "
    f"({a_plm / max(a_cl, 1e-9):.0f}×)."))

# %% [markdown]
# ## What the pocket PLM lacks: BERT's geometry
#
# Two of the paper's claims are about removing something a masked-language model has: anisotropy (F1) and rogue
# dimensions that dominate the space (F8). BERT-base has both — a last-layer anisotropy of 0.48 (Ethayarajh's
# released statistics for bert-base-cased) and a few LayerNorm dimensions with outsized gains {cite}`kovaleva2021bert`.
# The literature's levers for them are many more pre-training tokens, BERT's packed multi-sentence input of 128+
# tokens, and dropout during pre-training; a CPU budget affords none of them. What the pocket PLM has:

# %% tags=["hide-input"]
gamma, beta = movement.last_layernorm(plm_encoder.model)
plm_last = per_model[list(per_model)[0]][-1]
lacks = pd.DataFrame([
    {"measure": "last-layer anisotropy A", "pocket PLM": plm_last["anisotropy"], "BERT-base": 0.477,
     "source for BERT-base": "Ethayarajh (2019), released statistics, bert-base-cased layer 12"},
    {"measure": "last-layer top-1 dimension share", "pocket PLM": plm_last["rogue_top1_share"], "BERT-base": None,
     "source for BERT-base": "not measured here (a GPU and the hub)"},
    {"measure": "last LayerNorm gain: max / median", "pocket PLM": float(np.max(gamma) / np.median(gamma)),
     "BERT-base": None, "source for BERT-base": "outlier dimensions well above the rest (Kovaleva et al., 2021)"},
    {"measure": "mean token norm, last layer", "pocket PLM": plm_last["norm"], "BERT-base": 14.2,
     "source for BERT-base": "Ethayarajh (2019), released statistics"},
])
tables.show(lacks, caption="The pocket PLM's last layer beside what is known of BERT-base's")

# %% [markdown]
# ## The contrastive schedule, chosen on STS-B dev only
#
# A pocket SimCSE run must move its PLM far enough for the paper's claims to be testable, but its schedule must be
# chosen the way SimCSE chooses its own — by STS-B dev, never by the geometry the book then measures. The grid and
# its rule were stated before any run (`lib/book/selection.py`):
#
# * **the grid**, `grid_steps` steps per run: every learning rate of `grid_lrs` × every dropout of `grid_dropouts`
#   (SimCSE's only augmentation; its strength sets how hard the positive pairs are), for `cls` (SimCSE's default)
#   and `avg` (the pooling of the models the paper analysed), seed 0;
# * **rule**: per pooling, the best STS-B dev at the best checkpoint. Every other parameter is SimCSE's default
#   (batch 64, max_len 32, τ 0.05).
#
# That is all that was run: 12 runs of 250 steps. The grid chooses the *short* schedule, the scale's SimCSE preset
# (`lib/science/training/config.py`) that chapters 3–9 use and whose best checkpoint is the model SimCSE would keep.
# It says nothing about longer schedules: the *full-budget* schedule of chapters 3–5 is not chosen on STS-B dev but
# fixed by SimCSE's own budget (its summed learning rate), and those chapters show its STS-B dev beside the
# preset's. The rule, as it runs:

# %% tags=["remove-input"]
literate.show(selection.Grid.chosen)

# %% tags=["hide-input"]
grid_spec = selection.from_params(dict(params, plm=plm_name if source != "committed" else plm))
grid_records = grid_spec.records(train_missing=run_missing)
grid_table = selection.table(grid_records)
chosen = grid_spec.chosen(grid_records)
plm_dev = {}
if grid_records:
    for pool in grid_spec.poolings:
        starts = [r["evals"][0]["stsb_dev"] for k, r in grid_records.items() if k[0] == pool and r.get("evals")]
        plm_dev[pool] = starts[0] if starts else None
tables.show(grid_table, caption="Every run of the grid: STS-B dev (× 100, the run's own pooling) before training, "
            "at its best checkpoint (and that step), and at its end")

# %% tags=["hide-input"]
best_plm_pool = max(plm_dev, key=lambda k: plm_dev[k] or -1e9) if plm_dev else None
lines = []
for pool, c in chosen.items():
    if c is None:
        lines.append(f"`{pool}`: not every run of the grid has finished yet.")
        continue
    gain = c["best_stsb_dev"] - plm_dev[best_plm_pool]
    lines.append(f"`{pool}`: lr {c['lr']:g}, dropout {c['dropout']}, {c['max_steps']} steps — best STS-B dev "
                 f"**{c['best_stsb_dev']:.1f}** (from {plm_dev[pool]:.1f} "
                 f"for the PLM with the same pooling; {gain:+.1f} against the PLM's better pooling of the two, `{best_plm_pool}`, "
                 f"{plm_dev[best_plm_pool]:.1f}).")
display(Markdown("**The rule's choice, per pooling:**\n\n" + "\n".join(f"* {line}" for line in lines)))
beats = {pool: c is not None and c["best_stsb_dev"] > plm_dev[best_plm_pool] for pool, c in chosen.items()}
if grid_records and not all(beats.values()):
    display(Markdown("**No setting of the grid lets " + " or ".join(f"`{p}`" for p, b in beats.items() if not b)
                     + " pooling beat the PLM's better pooling on STS-B dev** — the numbers are above."))
presets = {pool: training.resolve_params("simcse", dict(scale=scale, pooling=pool)) for pool in chosen}
mismatch = [pool for pool, c in chosen.items() if c and (presets[pool]["lr"], presets[pool]["dropout"],
            presets[pool]["max_steps"]) != (c["lr"], c["dropout"], c["max_steps"]) and not simcse]
if scale != "pocket":
    display(Markdown(f"At `{scale}` scale the grid exercises the code only; the presets are chosen at pocket scale."))
else:
    display(Markdown("The scale's SimCSE preset " + (f"**differs from the rule's choice for {mismatch}**: chapters 3–9 "
                     "do not use the chosen schedule." if mismatch else "is the rule's choice for every pooling "
                     "that finished (chapters 3–9 train with it).")))
metrics.update(grid=grid_table.to_dict("records"), chosen=chosen, plm_stsb_dev=plm_dev, lacks=lacks.to_dict("records"),
               )
saved = run.save(metrics, models=[plm_encoder, compare_encoder], data=analysed)

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
picked = "; ".join(f"`{pool}`: lr {c['lr']:g}, dropout {c['dropout']}, {c['max_steps']} steps (best STS-B dev "
                   f"{c['best_stsb_dev']:.1f})" for pool, c in chosen.items() if c)
display(Markdown(
    "The pocket PLM is a language model (held-out masked-token accuracy "
    + (f"{final.heldout_accuracy:.1%}, {ratio:.1f}× the unigram baseline" if record is not None else "not recorded")
    + f") with a last-layer anisotropy of {a_plm:.3f} — anisotropic next to a contrastive model ({a_cl:.3f}), but "
    f"far less than BERT-base (0.48), with no dominant LayerNorm dimension (max/median gain "
    f"{float(np.max(gamma) / np.median(gamma)):.2f}). Claims about removing anisotropy and rogue dimensions (F1, "
    f"F8) therefore start from less to remove than the paper's models. The SimCSE schedule the later chapters use "
    f"was chosen on STS-B dev alone: {picked or 'the grid has not finished'}."))

# %% [markdown]
# ## Data
#
# The numbers behind this page, to load into your own analysis:

# %% tags=["remove-input"]
datafiles.write(run.out_dir, "per_layer", pd.DataFrame([dict(model=name, **r) for name, rows in per_model.items()
                                                          for r in rows]).drop(columns=["rogue_top_dims"]),
                "one model (the PLM or the contrastive comparison) at one layer: every metric of Chapter 1's protocol")
if len(grid_table):
    datafiles.write(run.out_dir, "grid", grid_table, "one SimCSE run of the schedule grid: its setting and STS-B dev")
display(Markdown(datafiles.section(run.out_dir, "02_pocket_plm")))

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
pd.set_option("display.max_colwidth", None)
tables.provenance(saved, scale, source=source, pre_training_record=(
    f"models/pocket-bert/record.json, code {record.get('code_commit', '')[:12]}" if source == "committed" else
    "this page's run" if source == "train" else "—"))
