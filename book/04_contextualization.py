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
# The models are Chapter 3's: the PLM, and SimCSE from it per pooling and training seed — the **end** of the
# full-budget run (with `cls`, SimCSE's default pooling, the primary model: the claims ask what contrastive
# training does, which a model kept after 1 % of SimCSE's budget cannot show) and the **best** STS-B dev checkpoint
# SimCSE would keep — and the **null control** (the PLM moved at random as far as each primary model).
#
# **Our operational definitions** (the paper publishes no token lists; `lib/science/tokens.py`):
#
# * *functional* = the tokenizer's special tokens, whole-word tokens that are English stopwords (scikit-learn's
#   list, 318 words), and tokens made only of punctuation or symbols; *semantic* = every other token, numbers
#   included. A continuation piece (`##ing`) is semantic: every stopword the vocabulary holds is a single
#   whole-word token. A second, broader list (the `stop-words` package, 1,333 words) is a sensitivity setting.
# * **F4/F5** compare the *same token ids* in both models (paired), at the last layer, with adjusted
#   self-similarity SelfSim* = SelfSim − A beside raw SelfSim: an adjusted effect the raw one does not follow is
#   the anisotropy change, not the token's (*confounded*).
# * **F3**: per sentence, the mean cosine between each functional token and the mean vector of the sentence's
#   semantic tokens, averaged over sentences holding both classes, adjusted by A (raw beside it).
# * **F6**: the whole vocabulary's mean raw self-similarity at the last layer, as Chapter 1 computes it.
# * **Frequency control**: function words are the most frequent tokens, so a class difference can be a frequency
#   difference. The classes are also compared *within frequency bins* (quintiles of the functional ids' counts).

# %% tags=["parameters"]
plm: str = "pocket-bert"  # the pre-trained encoder
cl: str = ""  # a finished contrastive model (empty: SimCSE from `plm` per pooling and training seed, with the scale's schedule and the full budget, trained once and reused)
poolings: list = ["cls", "avg"]  # SimCSE runs per pooling: cls is SimCSE's default, avg the pooling of the contrastive models the paper analysed
train_seeds: list = [0, 1, 2]  # SimCSE runs per seed and pooling: the noise behind every interval
simcse: dict = {}  # SimCSE parameters over both schedules, e.g. {'temperature': 0.1} (lib.science.training)
extra_models: list = ["all-MiniLM-L6-v2"]  # contrastive models at scale, for context
stopwords: str = "sklearn"  # sklearn | stop-words: the functional-token list
alt_stopwords: str = "stop-words"  # the sensitivity check's list
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

from lib.book import charts, datafiles, explain, explore, literate, pairs, reference, tables
from lib.book.results import confound, direction
from lib.science import probes, tokens
from lib.science.params import ParameterError

study = pairs.start("04_contextualization", globals())  # every parameter checked, every SimCSE run resolved
res = study.results

# %% [markdown]
# ## What this chapter trains and measures
#
# The same SimCSE runs as Chapter 3, trained once and reused:

# %% tags=["hide-input"]
tables.show(study.plan_table(), caption="The SimCSE runs this page needs (Σ lr: the summed learning rate)")
cl_models = study.train()

# %% [markdown]
# Which ids are *functional* is decided once per tokenizer by the library's function below; a token's
# self-similarity is equation (3.1) of Chapter 3 over its occurrences, and the paired comparison is a difference
# of those per-id values:
#
# $$\Delta_w = \big(\mathrm{SelfSim}_{\mathrm{CL}}(w) - A^{\mathrm{CL}}_L\big) -
#   \big(\mathrm{SelfSim}_{\mathrm{PLM}}(w) - A^{\mathrm{PLM}}_L\big). \tag{4.1}$$

# %% tags=["remove-input"]
literate.show(tokens.functional_mask)
literate.show(tokens.frequency_matched)

# %% tags=["hide-input"]
measured = study.measure(cl_models, functional=lambda tokenizer: tokens.functional_mask(tokenizer, stopwords))
geo, plm_geo = measured.geometry, measured.geometry["PLM"]
if any(measured.encoders[m.label].tokenizer.get_vocab() != measured.encoders["PLM"].tokenizer.get_vocab()
       for m in cl_models):
    raise ParameterError("cl", cl, "the PLM and the CL model must share a tokenizer for a paired comparison")
masks = {name: tokens.functional_mask(measured.encoders["PLM"].tokenizer, name)[plm_geo.vocab_ids]
         for name in (stopwords, alt_stopwords)}
display(Markdown(f"{len(study.texts)} sentences; {len(plm_geo.vocab_ids)} ids counted ≥ 5 times, "
                 f"{int(plm_geo.measured.sum())} in ≥ 2 sentences; "
                 f"{int((masks[stopwords] & plm_geo.measured).sum())} of those functional (`{stopwords}` list)."))

# %% [markdown]
# ## Self-similarity by token class, layer by layer
#
# Adjusted self-similarity SelfSim* of each class's ids (ids in at least two sentences), per layer, and the
# function → content cosine; CL curves are averaged over the training seeds of each setting.

# %% tags=["hide-input"]
def class_curves(g, tokenizer):
    mask, a = tokens.functional_mask(tokenizer, stopwords)[g.vocab_ids], g.anisotropy
    return {"SelfSim* · functional": g.self_sim(ids=g.vocab_ids[mask]) - a,
            "SelfSim* · semantic": g.self_sim(ids=g.vocab_ids[~mask]) - a,
            "function → content cos*": g.func_to_content - a}


seed_of = {role: seed for setting in measured.by_setting().values() for seed, role in setting}
rows = [dict(model=measured.group(role), seed=seed_of.get(role, 0), layer=layer, metric=name, value=v)
        for role, g in geo.items() for name, values in class_curves(g, measured.encoders[role].tokenizer).items()
        for layer, v in enumerate(values)]
display(charts.per_layer_models(pd.DataFrame(rows), "Token classes per layer: mean over training seeds, band from the "
                                "lowest to the highest seed", columns=3, seed="seed"))

# %% [markdown]
# ## Every token, before and after
#
# One point per token id measured in both models (in at least two sentences): its self-similarity in the PLM (x)
# against the CL model (y), averaged over the training seeds, at the layer of the slider. Points above the diagonal
# gained self-similarity (less contextualized), points below lost it. Switch raw / adjusted, pick the pooling
# (the end of the full-budget run), search a token; hover for its counts and values.

# %% tags=["remove-input"]
explorer_models = {s: [geo[role] for _, role in members] for s, members in measured.by_setting().items()
                   if s.endswith("· end") and not s.startswith(pairs.CONTROL)}
token_rows = explore.token_table(plm_geo, explorer_models or {s: [geo[r] for _, r in m]
                                                              for s, m in measured.by_setting().items()},
                                 measured.encoders["PLM"].tokenizer,
                                 tokens.functional_mask(measured.encoders["PLM"].tokenizer, stopwords))
display(explore.token_explorer(token_rows, "Every token: PLM against CL self-similarity (pick the layer, the "
                               "pooling, raw or adjusted; search a token)"))

# %% [markdown]
# ## The claims, and the rule stated before measuring
#
# Every claim is a paired effect at the **last layer**, CL − PLM on the same ids, measured per training seed, with
# a 95 % Student-t interval over the seeds (`lib/book/results.py`): *supported* when the interval excludes 0 on the
# paper's side, *contradicted* when on the other, *inconclusive* otherwise. The paper gives no sizes for F3–F6.
#
# * **F3**: Δ function → content cos* > 0 (raw cosine beside it).
# * **F4**: Δ SelfSim* of the semantic ids > 0 (raw beside it; the `stop-words` list as a sensitivity setting;
#   within frequency bins as the frequency control).
# * **F5**: the semantic − functional gap of *raw* self-similarity widens (> 0: adjustment-free), and Δ SelfSim* of
#   the functional ids < 0 (raw beside it; the `stop-words` list; within frequency bins: functional − semantic < 0).
# * **F6**: Δ whole-vocabulary raw SelfSim < 0 (frequency control: every frequency quintile weighing the same).
#
# The headline is `cls · end`; the other settings are sensitivity rows; the null control takes the same checks.

# %% tags=["hide-input"]
L = -1
both = plm_geo.measured
plm_ss, a_plm = plm_geo.self_sim_per_id[L], plm_geo.anisotropy[L]
counts = plm_geo.counts


def per_model(g, mask):
    """The last-layer quantities of one model, against the PLM, on the ids measured in both."""
    ok = both & g.measured
    raw = g.self_sim_per_id[L] - plm_ss
    adj = raw - (g.anisotropy[L] - a_plm)
    gap = lambda ss: np.nanmean(ss[ok & ~mask]) - np.nanmean(ss[ok & mask])  # noqa: E731
    fm = tokens.frequency_matched(np.where(ok, adj, np.nan), counts, mask)
    return dict(
        semantic_adj=np.nanmean(adj[ok & ~mask]), semantic_raw=np.nanmean(raw[ok & ~mask]),
        functional_adj=np.nanmean(adj[ok & mask]), functional_raw=np.nanmean(raw[ok & mask]),
        gap_change=gap(g.self_sim_per_id[L]) - gap(plm_ss),
        f2c_adj=(g.func_to_content[L] - g.anisotropy[L]) - (plm_geo.func_to_content[L] - a_plm),
        f2c_raw=g.func_to_content[L] - plm_geo.func_to_content[L],
        vocab_raw=g.self_sim()[L] - plm_geo.self_sim()[L],
        freq_semantic=fm["semantic"], freq_gap=fm["gap"],
        freq_vocab=tokens.binned_mean(np.where(ok, raw, np.nan), counts))


def add_checks(members, mask, kw, lists_only=False):
    v = {seed: per_model(geo[role], mask) for seed, role in members}
    d = lambda key: {seed: x[key] for seed, x in v.items()}  # noqa: E731
    raw_kw = dict(kw, role="raw")
    f4 = direction("F4", "semantic ids' SelfSim*, CL − PLM", d("semantic_adj"), +1, **kw)
    f4_raw = direction("F4", "semantic ids' raw SelfSim, CL − PLM", d("semantic_raw"), +1, **raw_kw)
    f5 = direction("F5", "functional ids' SelfSim*, CL − PLM", d("functional_adj"), -1, **kw)
    f5_raw = direction("F5", "functional ids' raw SelfSim, CL − PLM", d("functional_raw"), -1, **raw_kw)
    res.add(confound(f4, f4_raw), f4_raw, confound(f5, f5_raw), f5_raw,
            direction("F5", "semantic − functional gap of raw SelfSim, CL − PLM (adjustment-free)", d("gap_change"), +1, **kw))
    if lists_only:
        return v
    f3 = direction("F3", "function → content cos*, CL − PLM", d("f2c_adj"), +1, **kw)
    f3_raw = direction("F3", "function → content raw cos, CL − PLM", d("f2c_raw"), +1, **raw_kw)
    res.add(confound(f3, f3_raw), f3_raw,
            direction("F6", "whole-vocabulary raw SelfSim, CL − PLM", d("vocab_raw"), -1, **kw))
    if kw.get("primary"):
        freq = dict(kw, role="frequency control", primary=False)
        res.add(direction("F4", "semantic ids' SelfSim* within the functional ids' frequency bins, CL − PLM",
                          d("freq_semantic"), +1, **freq),
                direction("F5", "functional − semantic change of SelfSim* within frequency bins", d("freq_gap"), -1, **freq),
                direction("F6", "raw SelfSim with every frequency quintile weighing the same, CL − PLM", d("freq_vocab"), -1,
                          **freq))
    return v


by_setting = {}
for setting, members in measured.by_setting().items():
    kw = pairs.check_args(setting, cl_models)
    by_setting[setting] = add_checks(members, masks[stopwords], kw)
    if kw["primary"]:  # the second stop-word list, at the primary setting: a sensitivity setting of its own
        add_checks(members, masks[alt_stopwords], dict(kw, primary=False, setting=f"{setting} · {alt_stopwords} list"),
                   lists_only=True)
tables.show(explain.checks_table(res.checks), caption="Every check: the paired effect (mean over seeds) with its "
            "95 % interval, per setting; raw checks beside the adjusted ones they can confound")

# %% [markdown]
# ## The paper's probes, beside ours
#
# The paper illustrates the effect with three probes on all-mpnet-base-v2's last layer. We compute them for every
# model; the paper's values apply to all-mpnet-base-v2 (pass a local copy in `extra_models` to compare like with
# like). CL settings: mean ± sd over the training seeds.

# %% tags=["hide-input"]
probe_rows = [dict(model=measured.group(role), probe=p_.describe(), cosine=probes.probe(enc.model, enc.tokenizer, p_))
              for role, enc in measured.encoders.items() for p_ in probes.R3_PROBES]
probe_long = pd.DataFrame(probe_rows)
summary = probe_long.groupby(["probe", "model"], sort=False)["cosine"].agg(["mean", "std"]).reset_index()
summary["cosine"] = [f"{m:.3f}" + (f" ± {s:.3f}" if s == s else "") for m, s in zip(summary["mean"], summary["std"])]
probe_table = summary.pivot(index="probe", columns="model", values="cosine")
probe_table.insert(0, "the paper (all-mpnet-base-v2)",
                   [f"{next(r['value'] for r, p_ in zip(reference.R3, probes.R3_PROBES) if p_.describe() == probe):.3f}"
                    for probe in probe_table.index])
tables.show(probe_table.reset_index(), caption="Cosine between a word's vectors in two contexts, last layer")

# %% [markdown]
# ## The paper beside ours

# %% tags=["hide-input"]
FINDINGS = {"F3": "function tokens move toward their sentence's content", "F4": "semantic tokens lose spurious "
            "contextualization", "F5": "functional tokens gain it", "F6": "whole-vocabulary self-similarity falls"}
tables.show(explain.paper_vs_ours(res.checks, list(FINDINGS)), caption="The paper beside ours: our paired effect at "
            "the primary setting (cls · end), last layer")
metrics = dict(per_setting={s: {str(k): v for k, v in x.items()} for s, x in by_setting.items()},
               probes=probe_rows, training_seeds=list(train_seeds) if not cl else [],
               settings=list(measured.by_setting()), n_sentences=len(study.texts),
               per_layer=measured.per_layer(), stopword_lists=[stopwords, alt_stopwords])
saved = study.save(metrics, measured)

# %% [markdown]
# ## What this shows

# %% tags=["remove-input"]
display(Markdown(explain.closing(res.checks, FINDINGS, scale, res.comparable_reason)))

# %% [markdown]
# What the page asserts: each finding has its primary direction check and a null-control check, the second
# stop-word list was checked, and the probes are cosines.

# %% tags=["hide-input"]
for fid in FINDINGS:
    mine = [c for c in res.checks if c["finding"] == fid]
    assert any(c["primary"] and c["kind"] == "direction" for c in mine), fid
    assert cl or any(c["variant"] == "control" for c in mine), fid
assert any(alt_stopwords in c["setting"] for c in res.checks)
assert all(-1 - 1e-6 <= x <= 1 + 1e-6 for x in probe_long.cosine)

# %% [markdown]
# ## Data
#
# The numbers behind this page, to load into your own analysis (`pandas.read_parquet` / `read_csv`):

# %% tags=["remove-input"]
datafiles.write(res.out_dir, "tokens", token_rows, "one token id at one layer, for one CL setting (CL values: the "
                "mean over its training seeds): counts, class, raw and adjusted self-similarity of the PLM and CL")
datafiles.write(res.out_dir, "classes", pd.DataFrame(rows), "one model and training seed at one layer: a token "
                "class's adjusted self-similarity or the function → content cosine")
datafiles.write(res.out_dir, "checks", explain.checks_table(res.checks), "one check: the paired effect (mean over "
                "seeds) with its 95 % interval and its verdict under the rule")
datafiles.write(res.out_dir, "probes", probe_long, "one model and probe: the cosine of a word's two vectors")
display(Markdown(datafiles.section(res.out_dir, "04_contextualization")))

# %% [markdown]
# ## Provenance

# %% tags=["hide-input"]
tables.provenance(saved, scale, data=f"STS-B test sentence1, {len(study.texts)} sentences",
                  stopword_lists=f"{stopwords}; {alt_stopwords}")
