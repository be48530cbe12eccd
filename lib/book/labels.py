"""How the book names its metrics, once: every table, chart and sentence takes its labels from here."""

METRICS = {
    "anisotropy": "anisotropy A",
    "self_sim": "SelfSim",
    "self_sim_adj": "SelfSim*",
    "intra_sim": "IntraSim",
    "intra_sim_adj": "IntraSim*",
    "norm": "mean token norm",
    "rogue_top1_share": "top-1 dimension share",
    "rogue_top3_share": "top-3 dimension share",
    "isoscore": "IsoScore",
    "self_sim_functional": "functional SelfSim",
    "self_sim_functional_adj": "functional SelfSim*",
    "self_sim_semantic": "semantic SelfSim",
    "self_sim_semantic_adj": "semantic SelfSim*",
    "func_to_content": "function → content cos",
    "func_to_content_adj": "function → content cos*",
    "stsb_dev": "STS-B dev ×100",
}
ADJUSTED = "* marks a metric adjusted by the layer's anisotropy (raw − A)"


def label(key: str) -> str:
    return METRICS.get(key, key)
