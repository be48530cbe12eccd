"""Reference numbers, kept apart from ours: shown *beside* measured values, never instead of them.

Each constant says where its numbers come from: the authors' *released* analysis output (R2: the output of their
published code, not a table printed in the paper), the paper's probes (R3), Ethayarajh's released statistics (R4),
and SimCSE's published scores (Gao et al., 2021).
"""

from __future__ import annotations

# R2 -- the authors' released analysis output for sentence-transformers/all-MiniLM-L6-v2 on STS-B test `sentence1`
# (the output of their analysis_pipeline.py, printed to 3 decimals). Their code rounds exactly two things: each
# token id's self-similarity (before the layer mean) and each layer's anisotropy value; intra-sentence similarity
# is not rounded by their code, only printed to 3 decimals here. Columns: layer, SelfSim raw, IntraSim raw,
# anisotropy baseline A, SelfSim adjusted, IntraSim adjusted.
R2_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# What makes a run comparable with R2: these sentences exactly (pinned by their sha256, not only their count).
R2_DATA = dict(
    dataset="stsb",
    split="test",
    column="sentence1",
    n_sentences=1379,
    sentences_sha256="574bd257692b5236329e1c227b081da20df2e1467167010bfce5862bbd934c49",
)
_R2_ROWS = [
    (0, 0.955, 0.365, 0.067, 0.888, 0.298),
    (1, 0.903, 0.463, 0.131, 0.772, 0.332),
    (2, 0.840, 0.509, 0.164, 0.676, 0.345),
    (3, 0.799, 0.561, 0.165, 0.634, 0.396),
    (4, 0.794, 0.580, 0.168, 0.626, 0.412),
    (5, 0.812, 0.580, 0.208, 0.604, 0.372),
    (6, 0.644, 0.663, 0.012, 0.632, 0.651),
]
R2 = [
    dict(zip(("layer", "self_sim", "intra_sim", "anisotropy", "self_sim_adj", "intra_sim_adj"), row))
    for row in _R2_ROWS
]
R2_ROUNDING = 0.0005  # the released values are printed to 3 decimals

# The same run at full precision: the authors' released `analysis_output` file (their repository
# gowitheflow-1998/on-isotropy-of-contrastive-SRL @ 024882a2899f192130904ca281050ef780f36186). Its self-similarity is
# the mean of per-id values that their code rounded to 3 decimals; it lists the *adjusted* intra-sentence similarity,
# so the raw one is adjusted + A (A as listed, 3 decimals).
_R2_FULL_SELF_SIM = [
    0.9550198237885461,
    0.903136563876652,
    0.839909691629956,
    0.7988105726872248,
    0.7935132158590308,
    0.8115176211453744,
    0.6442709251101321,
]
_R2_FULL_INTRA_ADJ = [
    0.2981348650455475,
    0.332085800409317,
    0.3454491839408874,
    0.3962680315971374,
    0.41152958345413204,
    0.37206811141967777,
    0.6513656024932861,
]
R2_FULL = [
    dict(layer=r["layer"], self_sim=ss, intra_sim=adj + r["anisotropy"])
    for r, ss, adj in zip(R2, _R2_FULL_SELF_SIM, _R2_FULL_INTRA_ADJ)
]

# R3 -- the paper's probes on all-mpnet-base-v2, last layer ("NLP" = the mean of its word pieces).
R3_MODEL = "sentence-transformers/all-mpnet-base-v2"
R3 = [
    dict(probe="'NLP' in 'NLP is about' vs in 'What is NLP?'", value=0.821),
    dict(probe="'NLP' vs 'is' within 'NLP is about'", value=0.818),
    dict(probe="'is' in 'NLP is good' vs in 'the album is fire'", value=0.142),
]

# R4 -- Ethayarajh (2019), released statistics for pre-trained bert-base-cased (small STS sample, [CLS]/[SEP]
# excluded): random-word cosine per layer, mean cos(sentence, word), mean norm at layer 12.
R4 = dict(
    model="bert-base-cased", random_word_cosine={11: 0.675, 12: 0.477}, sentence_word_cosine_12=0.776, mean_norm_12=14.2
)

# SimCSE (Gao et al., 2021): test Spearman x 100, "all" setting. Table 5 of their paper.
STS_TASKS = ("STS12", "STS13", "STS14", "STS15", "STS16", "STSB", "SICKR")
SIMCSE_STS = {
    "unsup-SimCSE-BERT-base": dict(
        STS12=68.40, STS13=82.41, STS14=74.38, STS15=80.91, STS16=78.56, STSB=76.85, SICKR=72.23, avg=76.25
    ),
    "BERT-base (first-last avg.)": dict(
        STS12=39.70, STS13=59.38, STS14=49.67, STS15=66.03, STS16=66.19, STSB=53.87, SICKR=62.06, avg=56.70
    ),
}
# SimCSE's ablations on STS-B dev (Spearman x 100): pooling (unsupervised) and temperature (supervised).
SIMCSE_POOLING_DEV = {
    "cls (MLP at train time only)": 82.5,
    "cls (MLP)": 81.7,
    "cls_before_pooler (no MLP)": 80.9,
    "avg_first_last": 81.2,
}
SIMCSE_TEMPERATURE_DEV = {0.001: 84.9, 0.01: 85.4, 0.05: 86.2, 0.1: 82.0, 1.0: 64.0}
