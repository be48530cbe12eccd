"""The findings the book reproduces: the one registry.

Every other list of findings is generated from :data:`FINDINGS`: the table in the book's introduction
(:func:`table_markdown`), the scorecard's rows, and what a chapter's ``results.json`` may name. A test checks the
registry against ``_toc.yml``: every chapter named here is in the book, and every chapter in the book names its
findings here.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import reference as ref


@dataclass(frozen=True)
class Finding:
    id: str
    claim: str
    expected: str  # what the paper (or SimCSE) leads one to expect, in words
    chapter: str | None  # the chapter stem that tests it; None while no chapter does
    # What the published side reports, named as a reader knows the source ("the paper", "the authors' released
    # MiniLM table", "SimCSE (Gao et al. 2021), Table 5"): direction and magnitude where published. Shown beside our
    # measurement by the scorecard and the introduction; chapters may quote it (``FINDINGS["F1"].paper``).
    paper: str = ""


# Published numbers quoted below come from lib/book/reference.py (typed once there, with their sources).
_MINILM = {r["layer"]: r for r in ref.R2}
_LAST, _SIMCSE = max(_MINILM), ref.SIMCSE_STS["unsup-SimCSE-BERT-base"]
_BERT_AVG = ref.SIMCSE_STS["BERT-base (first-last avg.)"]
_ETH = ref.R4


_TEMPERATURES = ", ".join(f"τ {t:g} → {v:.1f}" for t, v in ref.SIMCSE_TEMPERATURE_DEV.items())
_POOLINGS = "; ".join(f"{k} {v:.1f}" for k, v in ref.SIMCSE_POOLING_DEV.items())
_PROBES = {p["probe"]: p["value"] for p in ref.R3}
_NLP_IS, _IS_IS = "'NLP' vs 'is' within 'NLP is about'", "'is' in 'NLP is good' vs in 'the album is fire'"

FINDINGS: dict[str, Finding] = {
    f.id: f
    for f in [
        Finding(
            "F0",
            "The authors' per-layer geometry table reproduces",
            "their released output for all-MiniLM-L6-v2: deterministic columns to ±0.002",
            "01_geometry_table",
            paper=f"the authors' released MiniLM table (STS-B test, {len(_MINILM)} layers, 3 decimals): last layer "
            f"SelfSim {_MINILM[_LAST]['self_sim']:.3f}, IntraSim {_MINILM[_LAST]['intra_sim']:.3f}, "
            f"anisotropy {_MINILM[_LAST]['anisotropy']:.3f}",
        ),
        Finding(
            "F1",
            "Contrastive learning brings isotropy",
            "last-layer anisotropy of CL ≪ PLM; CL ≈ 0.01–0.02",
            "03_plm_vs_cl",
            paper=f"pre-trained BERT-base (cased): {_ETH['random_word_cosine'][12]:.2f} at the last layer "
            "(Ethayarajh 2019); contrastive models ≈ 0.01–0.02 (the paper; the authors' released MiniLM "
            f"table: {_MINILM[_LAST]['anisotropy']:.3f})",
        ),
        Finding(
            "F2",
            "High intra-sentence similarity",
            "adjusted intra-sentence similarity jumps at CL's last layer",
            "03_plm_vs_cl",
            paper=f"the authors' released MiniLM table: adjusted IntraSim {_MINILM[_LAST - 1]['intra_sim_adj']:.2f} "
            f"(layer {_LAST - 1}) → {_MINILM[_LAST]['intra_sim_adj']:.2f} (last layer); the paper: "
            "pre-trained BERT ≈ 0.2–0.3 at its top layers",
        ),
        Finding(
            "F3",
            "Function tokens move toward the content tokens of their sentence",
            "cos(function token, content tokens of its sentence) rises after CL",
            "04_contextualization",
            paper="the paper: rises after contrastive learning (direction only); its probe on all-mpnet-base-v2: "
            f"'NLP' vs 'is' within 'NLP is about' {_PROBES[_NLP_IS]:.3f}",
        ),
        Finding(
            "F4",
            "Spurious contextualization falls for semantic tokens",
            "adjusted self-similarity of semantic tokens rises (Δ > 0)",
            "04_contextualization",
            paper="the paper: adjusted self-similarity of semantic tokens rises after contrastive learning "
            "(direction only; no per-class numbers published)",
        ),
        Finding(
            "F5",
            "… and rises for functional tokens",
            "adjusted self-similarity of functional tokens falls (Δ < 0)",
            "04_contextualization",
            paper="the paper: adjusted self-similarity of functional tokens falls (direction only); its probe on "
            "all-mpnet-base-v2: 'is' in two unrelated sentences "
            f"{_PROBES[_IS_IS]:.3f}",
        ),
        Finding(
            "F6",
            "Whole-vocabulary self-similarity at the last layer",
            "raw self-similarity falls at CL's last layer",
            "04_contextualization",
            paper=f"the authors' released MiniLM table: raw SelfSim {_MINILM[_LAST - 1]['self_sim']:.3f} "
            f"(layer {_LAST - 1}) → {_MINILM[_LAST]['self_sim']:.3f} (last layer)",
        ),
        Finding(
            "F7",
            "The space moves toward the origin",
            "CL's last-layer token norm is much smaller; it falls during training",
            "03_plm_vs_cl",
            paper="the paper: contrastive models' last-layer norm much smaller, falling during training; pre-trained "
            f"BERT-base (cased): mean norm {_ETH['mean_norm_12']:.1f} at the last layer (Ethayarajh 2019)",
        ),
        Finding(
            "F8",
            "Fewer rogue dimensions",
            "top-k dimension share of self-similarity falls; IsoScore rises",
            "03_plm_vs_cl",
            paper="the paper: \u201cmore areas better defined\u201d after contrastive learning (no numbers published)",
        ),
        Finding(
            "F9",
            "Learning dynamics under default SimCSE",
            "anisotropy ↓, intra-sentence similarity ↑, norm ↓, functional self-similarity ↓, mostly early",
            "05_learning_dynamics",
            paper="the paper: anisotropy ↓, intra-sentence similarity ↑, norm ↓, functional self-similarity ↓, "
            "mostly early in training (curves, no numbers)",
        ),
        Finding(
            "F10",
            "Temperature changes the dynamics",
            "not published; SimCSE: τ = 1 hurts STS badly",
            "07_temperature",
            paper=f"the paper: not published; SimCSE (Gao et al. 2021), supervised, STS-B dev: {_TEMPERATURES}",
        ),
        Finding(
            "F11",
            "Batch size changes the dynamics",
            "not published; SimCSE: final STS insensitive once the learning rate is tuned",
            "08_batch_size",
            paper="the paper: not published; SimCSE (Gao et al. 2021): final STS insensitive to the batch size once "
            "the learning rate is tuned",
        ),
        Finding(
            "F12",
            "Pooling changes the dynamics",
            "not published",
            "09_pooling",
            paper=f"the paper: not published; SimCSE (Gao et al. 2021), unsupervised, STS-B dev: {_POOLINGS}",
        ),
        Finding(
            "F13",
            "The SimCSE anchor reproduces (7 STS tasks)",
            "unsupervised SimCSE-BERT-base: STS-B 76.85, average 76.25",
            "06_simcse_anchor",
            paper=f"SimCSE (Gao et al. 2021), Table 5: unsupervised SimCSE-BERT-base STS-B {_SIMCSE['STSB']:.2f}, "
            f"7-task average {_SIMCSE['avg']:.2f} (BERT-base, first-last average: {_BERT_AVG['avg']:.2f})",
        ),
    ]
}


# Chapters that test no finding themselves but build what others rest on (e.g. the pocket PLM).
SUPPORT = {"02_pocket_plm": "where the pocket pre-trained BERT comes from"}


def for_chapter(chapter: str) -> list[Finding]:
    """The findings a chapter tests, in registry order."""
    return [f for f in FINDINGS.values() if f.chapter == chapter]


def chapters() -> list[str]:
    """Every chapter that tests a finding or supports others, without repeats."""
    return list(dict.fromkeys([f.chapter for f in FINDINGS.values() if f.chapter] + list(SUPPORT)))


def check_ids(ids) -> list[str]:
    unknown = [i for i in ids if i not in FINDINGS]
    if unknown:
        raise ValueError(
            f"unknown finding id(s) {unknown}; the registry (lib/book/findings.py) has " + ", ".join(FINDINGS)
        )
    return list(ids)


def table_markdown(
    link=lambda chapter: f"{chapter}.ipynb",
    verdicts: dict[str, str] | None = None,
    titles: dict[str, str] | None = None,
) -> str:
    """The introduction's findings table, generated from the registry: id, claim, what the paper reports, our
    verdict (``verdicts``: finding id -> text or HTML, e.g. from :func:`lib.book.scorecard.verdict_html`; the column
    is left out without it) and the chapter, linked under its title (``titles``: chapter stem -> title)."""
    titles = titles or {}
    head = ["id", "claim", "the paper reports"] + (["our verdict"] if verdicts is not None else []) + ["chapter"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for f in FINDINGS.values():
        where = f"[{titles.get(f.chapter, f.chapter)}]({link(f.chapter)})" if f.chapter else "planned"
        cells = [f.id, f.claim, f.paper or f.expected]
        if verdicts is not None:
            cells.append(verdicts.get(f.id, "—"))
        lines.append("| " + " | ".join(cells + [where]) + " |")
    return "\n".join(lines) + "\n"
