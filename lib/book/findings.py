"""The findings the book reproduces: the one registry.

Every other list of findings is generated from :data:`FINDINGS`: the table in the book's introduction
(:func:`table_markdown`), the scorecard's rows, and what a chapter's ``results.json`` may name. A test checks the
registry against ``_toc.yml``: every chapter named here is in the book, and every chapter in the book names its
findings here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    id: str
    claim: str
    expected: str  # what the paper (or SimCSE) leads one to expect, in words
    chapter: str | None  # the chapter stem that tests it; None while no chapter does


FINDINGS: dict[str, Finding] = {f.id: f for f in [
    Finding("F0", "The authors' per-layer geometry table reproduces",
            "their released output for all-MiniLM-L6-v2 (R2): deterministic columns to ±0.002", "01_geometry_table"),
    Finding("F1", "Contrastive learning brings isotropy",
            "last-layer anisotropy of CL ≪ PLM; CL ≈ 0.01–0.02", "03_plm_vs_cl"),
    Finding("F2", "High intra-sentence similarity",
            "adjusted intra-sentence similarity jumps at CL's last layer", "03_plm_vs_cl"),
    Finding("F3", "Function tokens move toward the content tokens of their sentence",
            "cos(function token, content tokens of its sentence) rises after CL", "04_contextualization"),
    Finding("F4", "Spurious contextualization falls for semantic tokens",
            "adjusted self-similarity of semantic tokens rises (Δ > 0)", "04_contextualization"),
    Finding("F5", "… and rises for functional tokens",
            "adjusted self-similarity of functional tokens falls (Δ < 0)", "04_contextualization"),
    Finding("F6", "Whole-vocabulary self-similarity at the last layer",
            "raw self-similarity falls at CL's last layer", "04_contextualization"),
    Finding("F7", "The space moves toward the origin",
            "CL's last-layer token norm is much smaller; it falls during training", "03_plm_vs_cl"),
    Finding("F8", "Fewer rogue dimensions",
            "top-k dimension share of self-similarity falls; IsoScore rises", "03_plm_vs_cl"),
    Finding("F9", "Learning dynamics under default SimCSE",
            "anisotropy ↓, intra-sentence similarity ↑, norm ↓, functional self-similarity ↓, mostly early",
            "05_learning_dynamics"),
    Finding("F10", "Temperature changes the dynamics", "not published; SimCSE: τ = 1 hurts STS badly",
            "07_temperature"),
    Finding("F11", "Batch size changes the dynamics",
            "not published; SimCSE: final STS insensitive once the learning rate is tuned", "08_batch_size"),
    Finding("F12", "Pooling changes the dynamics", "not published", "09_pooling"),
    Finding("F13", "The SimCSE anchor reproduces (7 STS tasks)",
            "unsupervised SimCSE-BERT-base: STS-B 76.85, average 76.25", "06_simcse_anchor"),
]}


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
        raise ValueError(f"unknown finding id(s) {unknown}; the registry (lib/book/findings.py) has "
                         + ", ".join(FINDINGS))
    return list(ids)


def table_markdown(link=lambda chapter: chapter) -> str:
    """The introduction's findings table (id, claim, what to expect, chapter), generated from the registry."""
    lines = ["| id | claim | expected | chapter |", "|---|---|---|---|"]
    for f in FINDINGS.values():
        where = f"[{f.chapter}]({link(f.chapter)})" if f.chapter else "planned"
        lines.append(f"| {f.id} | {f.claim} | {f.expected} | {where} |")
    return "\n".join(lines) + "\n"
