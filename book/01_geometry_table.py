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
#     title: Reproducing the authors' geometry table
# ---

# %% [markdown]
# # 1 · Reproducing the authors' geometry table (F0)
#
# Before asking *why* contrastive learning reshapes a sentence encoder's token space, we check that we measure
# that space exactly as the authors did {cite}`xiao2023isotropy`. They released their analysis code (not their
# training code) together with one output: the per-layer geometry of
# [`sentence-transformers/all-MiniLM-L6-v2`](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2),
# a contrastively trained MiniLM, over the `sentence1` strings of the STS-B test split. That output — *the
# authors' released MiniLM table* below — is what their released code prints, not a table from the paper. This
# chapter recomputes it with the project's library and puts our numbers next to the released ones.
#
# The protocol, in the authors' terms, following {cite}`ethayarajh2019contextual`:
#
# * **Anisotropy baseline** $A_\ell$ — how much *random* tokens point the same way at layer $\ell$: the mean
#   pairwise cosine between one random non-pad token from each of `n_samples` random sentences.
# * **Self-similarity** — how much *one* token id keeps its direction across contexts: for every id counted at
#   least 5 times, the mean pairwise cosine between its first occurrences in the sentences that contain it,
#   averaged over ids. Low self-similarity means strong contextualization.
# * **Intra-sentence similarity** — how close the tokens of a sentence sit to their own mean (the sentence
#   vector), averaged over sentences.
# * **Adjusted** values (marked \*) subtract $A_\ell$, so a layer where *everything* is similar gets no credit.
#
# All of it rests on one identity. For unit vectors $u_1, \dots, u_n$ with sum $s$, the sum of all pairwise
# cosines is $\lVert s \rVert^2$, so the mean off-diagonal cosine is
#
# $$\frac{1}{n(n-1)} \sum_{j \neq l} \cos(u_j, u_l) = \frac{\lVert s \rVert^2 - n}{n(n-1)} .$$
#
# In `lib/science/geometry.py` that is the whole function:
#
# ```{literalinclude} ../lib/science/geometry.py
# :pyobject: mean_offdiag_from_sum
# ```
#
# Hidden states therefore stream through *running sums of unit vectors* batch by batch; nothing quadratic in the
# number of occurrences is ever built.

# %% tags=["parameters"]
model: str = "all-MiniLM-L6-v2"  # short name, hub id or local folder (lib.science.models)
seeds: list = [0, 1, 2, 3, 4]  # one anisotropy sample per seed
dataset: str = "stsb"  # stsb | sts12..sts16 | sickr | wiki
split: str = "test"  # the split of the dataset
column: str = "sentence1"  # the column of sentences: sentence1 | sentence2
max_sentences: int = 0  # 0: all sentences of the split
n_samples: int = 1000  # sentences drawn per anisotropy sample
batch_size: int = 64  # sentences per encoding batch
pad_in_vocab: bool = True  # quirk of the released code: the pad id enters the self-similarity vocabulary
special_in_vocab: bool = True  # [CLS]/[SEP] (<s>/</s>) are in it too
rogue: str = "mean_vector"  # mean_vector | per_token: how rogue-dimension shares are aggregated
device: str = "auto"  # auto | cpu | cuda | cuda:N
data_dir: str = ""  # the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)
out_dir: str = ""  # where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)
scale: str = "pocket"  # smoke | pocket | paper: which scale produced this page

# %% [markdown]
# ## Checking the parameters
#
# Every parameter is checked before any weights are loaded or sentences encoded; a bad value stops here with a
# message naming the parameter and what it may be. This cell also decides whether the run can be held against
# the released numbers: only the authors' protocol can — their model, every STS-B test `sentence1` (pinned by
# the sha256 of the sentences, not just their count) and the released vocabulary quirks. A run with other
# parameters says so on this page and in its `results.json`. A run with the *default* parameters must be
# comparable: if the data it reads is not the authors' sentences, it stops here rather than skip its checks.

# %% tags=["hide-input"]
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from lib.book import chapters, charts, datafiles, parameters, reference, tables
from lib.book.results import read, within
from lib.science import data, devices, geometry, models

params, run = chapters.begin("01_geometry_table", globals())  # every parameter checked against its declaration
spec = models.resolve(model)
used_device = devices.resolve_device(device)  # "auto" resolved to the device actually used
table = data.load(dataset, split, data_dir)
texts = data.sentences(table, column, max_sentences)

R2 = reference.R2_DATA
sentences_sha256 = data.texts_sha256(texts)
departures = {  # how this run departs from the authors' protocol, if it does
    "model": spec.name.lower() not in models.PACKAGED,
    "data": (dataset, split, column) != (R2["dataset"], R2["split"], R2["column"]),
    "max_sentences (a subset)": max_sentences != 0,
    "pad_in_vocab / special_in_vocab (not the released quirks)": not (pad_in_vocab and special_in_vocab),
}
if any(departures.values()):
    run.not_comparable("this run departs from the authors' protocol in: "
                       + ", ".join(k for k, v in departures.items() if v))
elif sentences_sha256 != R2["sentences_sha256"]:
    raise ValueError(f"the default run must be comparable with the released table, but the {len(texts)} sentences "
                     f"read from {table.source} are not the authors' STS-B test `sentence1` ({R2['n_sentences']} "
                     f"sentences, sha256 {R2['sentences_sha256'][:16]}…; these: {sentences_sha256[:16]}…). "
                     f"Check the data mirror (`data_dir` / SRL_DATA_DIR) or the hub copy.")
if n_samples > len(texts):
    raise parameters.ParameterError("n_samples", n_samples, f"at most the {len(texts)} sentences read")
charts.enable_offline()
print(f"{len(texts)} sentences from {table.source}; model {spec.name} ({spec.kind}); device {used_device}; "
      f"scale {scale}; results -> {run.out_dir.name}/results.json")

# %% [markdown]
# ## Encoding and measuring
#
# All sentences are tokenised at once (special tokens included, truncated to the model's maximum) to fix the
# vocabulary and the padded length the authors' layout would have; then hidden states of every layer, 0
# (embeddings) to L, stream through the metrics in batches of similar length.

# %%
encoder = models.load(spec, used_device)
geo = geometry.analyse(encoder, texts, seeds, n_samples=n_samples, batch_size=batch_size)
per_layer = geo.per_layer(pad_in_vocab, special_in_vocab, rogue)
ours = pd.DataFrame(per_layer).set_index("layer")
tables.show(ours[["self_sim", "intra_sim", "anisotropy", "anisotropy_sd", "self_sim_adj", "intra_sim_adj", "norm"]]
            .reset_index(), caption=f"Our per-layer geometry of {spec.name}")

# %% [markdown]
# ## Side by side with the released numbers
#
# The released table is a single run of the authors' code: their anisotropy sample was drawn without a seed, and
# their code rounds exactly two things to 3 decimals — each layer's anisotropy value, and each token id's
# self-similarity before the layer mean; the table prints everything to 3 decimals. Self-similarity and
# intra-sentence similarity involve no randomness, so they must agree to that printing (we allow ±0.002). The
# anisotropy baseline is a random estimate: we draw it with several seeds and ask the released value to lie
# within 3 standard deviations of our mean (plus its rounding).

# %% tags=["hide-input"]
METRICS = ("self_sim", "intra_sim", "anisotropy", "self_sim_adj", "intra_sim_adj")
SHOWN = {"self_sim": "SelfSim", "intra_sim": "IntraSim", "anisotropy": "A"}
DETERMINISTIC, TOLERANCE = ("self_sim", "intra_sim"), 0.002
compare = tables.side_by_side(per_layer, reference.R2, METRICS)
wide = compare[compare.metric.isin(SHOWN)].pivot(index="layer", columns="metric",
                                                  values=["ours", "reference", "difference"])
wide = wide.swaplevel(axis=1)[list(SHOWN)].rename(columns=SHOWN, level=0).rename(
    columns={"reference": "released", "difference": "Δ"}, level=1)
wide[("A", "ours")] = [f"{a:.4f} ± {e:.4f}" for a, e in zip(ours["anisotropy"], ours["anisotropy_sd"])]
wide = wide.drop(columns=[("A", "Δ")]).rename_axis(columns=[None, None])
numbers = [c for c in wide.columns if c != ("A", "ours")]
display(wide.style.format("{:.4f}", subset=[c for c in numbers if c[1] == "ours"])
        .format("{:.3f}", subset=[c for c in numbers if c[1] == "released"])
        .format("{:+.4f}", subset=[c for c in numbers if c[1] == "Δ"])
        .set_caption(f"Ours ({scale} scale, {spec.name}; A as mean ± sd over {len(seeds)} seeds) beside the "
                     f"authors' released output for {reference.R2_MODEL}"))
if not run.comparable:
    display(Markdown(f"**Not comparable:** {run.comparable_reason}. The released numbers are shown for "
                     f"orientation only; no agreement is claimed or checked."))

# %% [markdown]
# The authors also released the same run at full precision (their `analysis_output` file), where each token id's
# self-similarity had been rounded to 3 decimals before averaging. Redoing that rounding, our layer means must
# match theirs to 1e-5 — tight enough that switching off either vocabulary quirk (which moves a layer by up to
# 0.002) would fail.
#
# The run's numbers, parameters and these checks go to `results.json` *first*, so that a failing run is recorded
# too; then the claims are asserted. A comparable run must carry all of them: five checks per layer (four with a
# single seed, whose anisotropy has no measured spread).

# %% tags=["hide-input"]
sd = ours["anisotropy_sd"]
released_rounding = geo.self_sim(pad_in_vocab, special_in_vocab, decimals=3)
if run.comparable:
    for r, full in zip(reference.R2, reference.R2_FULL):
        l = r["layer"]
        for m in DETERMINISTIC:
            run.add(within("F0", f"{m} layer {l} vs the released table", ours.loc[l, m], r[m], TOLERANCE,
                           note="±0.002: the table prints 3 decimals"))
        if len(seeds) >= 2:  # a spread needs at least two samples
            run.add(within("F0", f"anisotropy layer {l} vs the released table (3 sd over {len(seeds)} seeds)",
                           ours.loc[l, "anisotropy"], r["anisotropy"], 3 * sd[l] + reference.R2_ROUNDING,
                           note=f"3 sd over the anisotropy seeds {list(seeds)}, plus the printing's rounding"))
        run.add(within("F0", f"self_sim layer {l} vs full precision (ids rounded as released)", released_rounding[l],
                       full["self_sim"], 1e-5),
                within("F0", f"intra_sim layer {l} vs full precision", ours.loc[l, "intra_sim"], full["intra_sim"],
                       1e-5))

det = compare[compare.metric.isin(DETERMINISTIC)]
ani = compare[compare.metric == "anisotropy"].set_index("layer")
max_sd_away = float((ani.difference.abs() / sd).max()) if len(seeds) >= 2 else None
headline = (f"SelfSim, IntraSim within {det.difference.abs().max():.4f} of the released table; released A at most "
            f"{max_sd_away:.1f} sd from our {len(seeds)}-seed mean" if run.comparable and max_sd_away is not None
            else "not comparable" if not run.comparable else "")
metrics = dict(
    per_layer=per_layer,
    anisotropy_per_seed={str(s): geo.anisotropy_per_seed[i] for i, s in enumerate(seeds)},
    self_sim_variants={"as released": geo.self_sim(True, True), "pad excluded": geo.self_sim(False, True),
                       "pad and special excluded": geo.self_sim(False, False),
                       "ids rounded to 3 decimals": released_rounding},
    rogue_readings={r_: {"top1": geo.rogue_shares(1, r_, pad_in_vocab, special_in_vocab),
                         "top3": geo.rogue_shares(3, r_, pad_in_vocab, special_in_vocab)}
                    for r_ in geometry.ROGUE_READINGS},
    n_sentences=len(texts), vocab_counted=len(geo.vocab_ids),
    vocab_size=int(geo.vocabulary_mask(pad_in_vocab, special_in_vocab).sum()),
    pad_in_vocabulary=bool(geo.pad_id in geo.vocab_ids), headlines={"F0": headline},
)
data_info = dict(dataset=dataset, split=split, column=column, source=table.source, file_sha256=table.sha256,
                 sentences_sha256=sentences_sha256, n_sentences=len(texts))
saved = run.save(metrics, models=[encoder], data=data_info)

failed = [c["claim"] for c in run.checks if not c["passed"]]
assert not failed, f"{len(failed)} of {len(run.checks)} agreement checks fail: {failed}"
if run.comparable:  # the checks cannot silently disappear from a comparable run
    assert len(run.checks) == (5 if len(seeds) >= 2 else 4) * len(reference.R2), len(run.checks)

# invariants of the protocol, at every scale
assert len(ours) == encoder.n_layers + 1
assert (ours[["self_sim", "intra_sim", "anisotropy"]].abs() <= 1 + 1e-9).all().all()
assert (ours.norm > 0).all() and np.isfinite(ours[["anisotropy_sd", "intra_sim", "self_sim", "norm"]]).all().all()
assert metrics["vocab_size"] > 0, "no token id occurs in two sentences: too few sentences for self-similarity"
assert np.all(np.abs(geo.self_sim_per_id[:, geo.measured]) <= 1 + 1e-6)  # unit vectors in float32

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
full_gap = max(max(abs(released_rounding[r["layer"]] - r["self_sim"]), abs(ours.loc[r["layer"], "intra_sim"] -
               r["intra_sim"])) for r in reference.R2_FULL) if run.comparable else None
spread = (f"the released anisotropy lies at most **{max_sd_away:.1f} sd** from our {len(seeds)}-seed mean "
          f"(largest |Δ| {ani.difference.abs().max():.4f})" if max_sd_away is not None else
          "with a single seed the anisotropy has no measured spread, so it is not checked")
display(Markdown(
    f"**Numbers on this page:** {scale} scale, `{spec.name}`, {len(texts)} sentences of {dataset} {split} "
    f"`{column}`, {len(seeds)} anisotropy seed(s) of {n_samples} tokens, device `{used_device}`. "
    + (f"Against the released table, self- and intra-sentence similarity differ by at most "
       f"**{det.difference.abs().max():.4f}** (mean |Δ| {det.difference.abs().mean():.4f}); against the "
       f"full-precision release, by at most **{full_gap:.1e}**; {spread}. All {len(run.checks)} claims hold: "
       f"F0 reproduces, so the metrics the later chapters rest on are the authors' own, on the authors' data. "
       f"The one random quantity, the anisotropy baseline, is an estimate with a seed-to-seed spread of at most "
       f"{sd.max():.4f} here; the later chapters measure every model over the same anisotropy samples, so this "
       f"noise sits inside their intervals over training seeds rather than beside them."
       if run.comparable else f"Not comparable with the released table ({run.comparable_reason}), so no "
                              f"agreement is claimed.")))

# %% [markdown]
# ## Per-layer curves
#
# Solid lines are ours, dashed lines the released values; the left panel shows raw cosines, the right panel the
# anisotropy-adjusted ones. Click a legend entry to highlight one metric; hover a point for its value.

# %% tags=["remove-input"]
last = encoder.n_layers
display(Markdown(
    f"The story the paper tells starts here. In this run the anisotropy baseline goes from "
    f"**{ours.loc[last - 1, 'anisotropy']:.2f}** at layer {last - 1} to **{ours.loc[last, 'anisotropy']:.2f}** at "
    f"the last layer, so the last layer's raw intra-sentence similarity ({ours.loc[last, 'intra_sim']:.2f}) is "
    f"almost all *genuine* closeness of a sentence's tokens ({ours.loc[last, 'intra_sim_adj']:.2f} after "
    f"adjustment), while at layer {last - 1} {ours.loc[last - 1, 'anisotropy'] / ours.loc[last - 1, 'intra_sim']:.0%} "
    f"of it is the direction all tokens share."))

# %% tags=["hide-input"]
names = {"self_sim": "SelfSim", "intra_sim": "IntraSim", "anisotropy": "A (baseline)",
         "self_sim_adj": "SelfSim", "intra_sim_adj": "IntraSim"}  # the adjusted ones get their own panel
long = compare.melt(id_vars=["layer", "metric"], value_vars=["ours", "reference"], var_name="source")
long["variant"] = np.where(long.metric.str.endswith("_adj"), "adjusted", "raw")
long["source"] = long.source.map({"ours": f"ours ({scale})", "reference": "the authors' released table"})
long["sd"] = np.where((long.metric == "anisotropy") & long.source.str.startswith("ours"),
                      long.layer.map(sd), np.nan)
long["metric"] = long.metric.map(names)
charts.per_layer_lines(long.dropna(subset=["value"]), f"Geometry per layer: {spec.name} on {dataset} {split}")

# %% [markdown]
# How far off are we? The top panel shows our self- and intra-sentence similarity minus the released values (the
# band is our ±0.002 tolerance). For the anisotropy baseline each dot is one seed's sample; the bar spans our
# mean ± 3 sd and the black tick is the released value — one more draw from the same distribution.

# %% tags=["hide-input"]
deterministic = compare[compare.metric.isin(DETERMINISTIC)].assign(metric=lambda d: d.metric.map(SHOWN))
per_seed = pd.DataFrame([dict(layer=l, seed=s, anisotropy=geo.anisotropy_per_seed[i, l])
                         for i, s in enumerate(seeds) for l in range(geo.n_states)])
released_a = pd.DataFrame([dict(layer=r["layer"], anisotropy=r["anisotropy"]) for r in reference.R2
                           if r["layer"] < geo.n_states])
(charts.differences(deterministic.dropna(subset=["difference"]), TOLERANCE, "SelfSim and IntraSim: ours − released")
 & charts.seed_spread(per_seed, released_a,
                      f"Anisotropy baseline: our seeds of {n_samples} tokens (mean ± 3 sd) and the released value"))

# %% [markdown]
# ## The vocabulary quirks
#
# The released code counts tokens in the *padded* id matrix, so the pad id is counted thousands of times and
# enters the self-similarity vocabulary; its "occurrences" are the first pad position of every sentence that is
# shorter than the longest one. Special tokens ([CLS], [SEP]) are in the vocabulary too. Pad and special tokens
# are exactly the "functional" tokens whose behaviour later chapters are about, so we report each variant.

# %% tags=["hide-input"]
quirks = pd.DataFrame(metrics["self_sim_variants"]).rename_axis("layer")
if run.comparable:
    quirks["the released table"] = [r["self_sim"] for r in reference.R2]
    quirks["released, full precision"] = [r["self_sim"] for r in reference.R2_FULL]
moved = np.abs(quirks["pad and special excluded"] - quirks["as released"]).max()
display(Markdown(f"The vocabulary has **{metrics['vocab_counted']}** ids counted ≥ 5 times, **{metrics['vocab_size']}** "
                 f"of them in ≥ 2 sentences; the pad id {geo.pad_id} is "
                 f"{'in' if metrics['pad_in_vocabulary'] else 'not in'} it. Dropping pad and special tokens moves a "
                 f"layer's mean self-similarity by at most **{moved:.4f}** in this run."))
tables.show(quirks.reset_index(), caption="Mean self-similarity per layer under each vocabulary variant")

# %% [markdown]
# ## Rogue dimensions: two readings
#
# For each token id the released code splits its self-similarity into per-dimension contributions $c_k$ (they sum
# to 1); a "rogue" dimension {cite}`timkey2021rogue` takes a large share. How the paper aggregates them into one
# number per layer is not public, so this is *the project's choice*: by default (`rogue = "mean_vector"`) we
# average the contribution vectors over the vocabulary and report the share of the top-1 and top-3 dimensions of
# that mean — dimensions that dominate *consistently across tokens*. The other natural reading
# (`rogue = "per_token"`) takes each id's own top-k share, then averages — how concentrated a typical token is,
# whichever dimensions it uses. Both are shown; later chapters' claims about rogue dimensions say which they use.

# %% tags=["hide-input"]
readings = pd.DataFrame({(r_, k): metrics["rogue_readings"][r_][k] for r_ in geometry.ROGUE_READINGS
                         for k in ("top1", "top3")}).rename_axis("layer")
readings.columns = [f"{r_} · {k}" for r_, k in readings.columns]
tables.show(readings.reset_index(), caption=f"Share of the top-k dimensions in self-similarity ({spec.name})")

# %% [markdown]
# ## Data
#
# The numbers behind this page, to load into your own analysis:

# %% tags=["remove-input"]
datafiles.write(run.out_dir, "per_layer", ours.reset_index().drop(columns=["rogue_top_dims"], errors="ignore"),
                "one layer of the model: every metric of the protocol")
datafiles.write(run.out_dir, "released_vs_ours", compare, "one layer and metric: ours, the authors' released value, "
                "the difference")
display(Markdown(datafiles.section(run.out_dir, "01_geometry_table")))

# %% [markdown]
# ## Provenance
#
# `results.json` (written above, into the run's folder) holds the parameters, every per-layer number, the checks
# and this provenance.

# %% tags=["hide-input"]
pd.set_option("display.max_colwidth", None)
tables.provenance(
    saved, scale, data=f"{dataset}/{split}/{column} ({table.source}), {len(texts)} sentences",
    sentences_sha256=sentences_sha256[:16] + "…",
    comparable_with_the_released_table="yes" if run.comparable else f"no — {run.comparable_reason}",
    libraries=", ".join(f"{k} {v}" for k, v in read(saved)["provenance"]["libraries"].items() if v),
    results=f"{saved.parent.parent.name}/{saved.parent.name}/{saved.name}")
