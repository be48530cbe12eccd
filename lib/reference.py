"""The paper's published numbers, kept apart from ours: shown *beside* measured values, never instead of them.

Sources are in the project's paper brief (BRIEF.md); each constant says where its numbers come from.
"""

from __future__ import annotations

# R2 -- the authors' released analysis output for sentence-transformers/all-MiniLM-L6-v2 on STS-B test `sentence1`
# (their analysis_pipeline.py; values rounded to 3 decimals by their code). Columns: layer, SelfSim raw,
# IntraSim raw, anisotropy baseline A, SelfSim adjusted, IntraSim adjusted.
R2_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
R2_DATA = dict(dataset="stsb", split="test", column="sentence1", n_sentences=1379)
_R2_ROWS = [
    (0, 0.955, 0.365, 0.067, 0.888, 0.298),
    (1, 0.903, 0.463, 0.131, 0.772, 0.332),
    (2, 0.840, 0.509, 0.164, 0.676, 0.345),
    (3, 0.799, 0.561, 0.165, 0.634, 0.396),
    (4, 0.794, 0.580, 0.168, 0.626, 0.412),
    (5, 0.812, 0.580, 0.208, 0.604, 0.372),
    (6, 0.644, 0.663, 0.012, 0.632, 0.651),
]
R2 = [dict(zip(("layer", "self_sim", "intra_sim", "anisotropy", "self_sim_adj", "intra_sim_adj"), row))
      for row in _R2_ROWS]
R2_ROUNDING = 0.0005  # the released values are rounded to 3 decimals

# The same run at full precision: the authors' released `analysis_output` file (their repository
# gowitheflow-1998/on-isotropy-of-contrastive-SRL @ 024882a2899f192130904ca281050ef780f36186). Its self-similarity is
# the mean of per-id values that their code rounded to 3 decimals; it lists the *adjusted* intra-sentence similarity,
# so the raw one is adjusted + A (A as listed, 3 decimals).
_R2_FULL_SELF_SIM = [0.9550198237885461, 0.903136563876652, 0.839909691629956, 0.7988105726872248,
                     0.7935132158590308, 0.8115176211453744, 0.6442709251101321]
_R2_FULL_INTRA_ADJ = [0.2981348650455475, 0.332085800409317, 0.3454491839408874, 0.3962680315971374,
                      0.41152958345413204, 0.37206811141967777, 0.6513656024932861]
R2_FULL = [dict(layer=r["layer"], self_sim=ss, intra_sim=adj + r["anisotropy"])
           for r, ss, adj in zip(R2, _R2_FULL_SELF_SIM, _R2_FULL_INTRA_ADJ)]

# The findings the book reproduces, with the chapter that shows each (None: a later chapter).
FINDINGS = {
    "F0": ("The authors' per-layer geometry table reproduces", "01_geometry_table"),
    "F1": ("Contrastive learning brings isotropy", None),
    "F2": ("High intra-sentence similarity", None),
    "F3": ("Function tokens move toward the content tokens of their sentence", None),
    "F4": ("Spurious contextualization falls for semantic tokens", None),
    "F5": ("... and rises for functional tokens", None),
    "F6": ("Whole-vocabulary self-similarity at the last layer", None),
    "F7": ("The space moves toward the origin", None),
    "F8": ("Fewer rogue dimensions", None),
    "F9": ("Learning dynamics under default SimCSE", None),
    "F10": ("Temperature changes the dynamics", None),
    "F11": ("Batch size changes the dynamics", None),
    "F12": ("Pooling changes the dynamics", None),
    "F13": ("The SimCSE anchor reproduces (7 STS tasks)", None),
}


def side_by_side(ours: list[dict], reference: list[dict], metrics: tuple[str, ...]):
    """A long table: layer, metric, ours, paper, difference (ours - paper), one row per layer and metric."""
    import pandas as pd

    paper = {(r["layer"], m): r[m] for r in reference for m in metrics if m in r}
    rows = [dict(layer=r["layer"], metric=m, ours=r[m], paper=paper.get((r["layer"], m)))
            for r in ours for m in metrics]
    df = pd.DataFrame(rows)
    df["difference"] = df["ours"] - df["paper"].astype(float)
    return df
