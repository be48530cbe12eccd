"""The hand-written "What we learned" page (``book/learned.md``) against the published ``results.json``.

The page is prose, written after the measurements; what keeps it true is this test. Every effect it quotes is
written exactly as :func:`lib.book.explain.effect` prints the published check, followed closely by the check's
verdict word; every other number it states is computed here from the published records; and no decimal number
appears on the page that is not one of these. A republished chapter whose numbers moved fails this test until the
page is rewritten.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

import pytest

from lib.book import explain, findings, results
from lib.book.chapters import BOOK, PUBLISHED
from lib.book.tables import fmt

PAGE = BOOK / "learned.md"
NEAR = 90  # characters between a quoted effect and its verdict word
RULE_WORD = re.compile(
    r"not reached|reached|beyond budget|supported|contradicted|inconclusive|confounded|positive|negative"
)


@dataclass(frozen=True)
class Stated:
    """One published check the page quotes: where it is, and which one."""

    chapter: str
    finding: str
    setting: str
    claim: str
    role: str = "claim"


def doc(chapter: str) -> dict:
    return results.read(PUBLISHED / chapter / "results.json")


def check_of(s: Stated) -> dict:
    hits = [
        c
        for c in doc(s.chapter)["checks"]
        if c["finding"] == s.finding
        and results.setting_of(c) == s.setting
        and c["claim"] == s.claim
        and c.get("role", "claim") == s.role
    ]
    assert len(hits) == 1, f"{s}: {len(hits)} published checks match"
    return hits[0]


CH3, CH4, CH5, CH6 = "03_plm_vs_cl", "04_contextualization", "05_learning_dynamics", "06_simcse_anchor"
CH7, CH8, CH9 = "07_temperature", "08_batch_size", "09_pooling"
A = "last-layer anisotropy A, CL − PLM"
INTRA = "last-layer IntraSim*, CL − PLM"
INTRA_RAW = "last-layer IntraSim (raw), CL − PLM"
NORM = "last-layer mean token norm, CL − PLM"
SEM, SEM_RAW = "semantic ids' SelfSim*, CL − PLM", "semantic ids' raw SelfSim, CL − PLM"
FUN, FUN_RAW = "functional ids' SelfSim*, CL − PLM", "functional ids' raw SelfSim, CL − PLM"
F2C, F2C_RAW = "function → content cos*, CL − PLM", "function → content raw cos, CL − PLM"
VOCAB = "whole-vocabulary raw SelfSim, CL − PLM"
EARLY = (
    "share of the supported movement reached by step 250 (the first snapshot at or after 10% of the steps), "
    "minus one half"
)
PREMISE = "7-task average, SimCSE minus the PLM's best pooling (avg_first_last)"

STATED = [
    Stated(CH3, "F1", "cls · end", A),
    Stated(CH3, "F1", "avg · end", A),
    Stated(CH3, "F1", "cls · end", "CL's last-layer anisotropy (paper ≈ 0.01–0.02)"),
    Stated(CH3, "F1", "control · end", A, "null control"),
    Stated(CH3, "F2", "cls · end", INTRA),
    Stated(CH3, "F2", "cls · end", INTRA_RAW, "raw"),
    Stated(CH3, "F2", "cls · end", "Δ IntraSim* (released MiniLM: +0.28)"),
    Stated(CH3, "F2", "cls · best", INTRA),
    Stated(CH3, "F7", "cls · end", NORM),
    Stated(CH3, "F7", "avg · end", NORM),
    Stated(CH3, "F8", "cls · end", "last-layer top-1 dimension share, CL − PLM"),
    Stated(CH3, "F8", "cls · end", "last-layer top-3 dimension share, CL − PLM"),
    Stated(CH3, "F8", "cls · end", "last-layer IsoScore, CL − PLM"),
    Stated(CH3, "F8", "avg · end", "last-layer IsoScore, CL − PLM"),
    Stated(CH3, "F8", "control · end", "last-layer IsoScore, CL − PLM", "null control"),
    Stated(CH4, "F3", "cls · end", F2C),
    Stated(CH4, "F3", "cls · end", F2C_RAW, "raw"),
    Stated(CH4, "F4", "cls · end", SEM),
    Stated(CH4, "F4", "cls · end", SEM_RAW, "raw"),
    Stated(
        CH4,
        "F4",
        "cls · end",
        "semantic ids' SelfSim* within the functional ids' frequency bins, CL − PLM",
        "frequency control",
    ),
    Stated(CH4, "F5", "cls · end", FUN),
    Stated(CH4, "F5", "cls · end", FUN_RAW, "raw"),
    Stated(
        CH4, "F5", "cls · end", "functional − semantic change of SelfSim* within frequency bins", "frequency control"
    ),
    Stated(CH4, "F6", "cls · end", VOCAB),
    Stated(CH4, "F6", "avg · end", VOCAB),
    Stated(CH4, "F6", "control · end", VOCAB, "null control"),
    Stated(CH5, "F9", "cls · end", "last-layer anisotropy A, last step − step 0"),
    Stated(CH5, "F9", "cls · end", EARLY),
    Stated(CH6, "F13", "cls · best", PREMISE),
    Stated(CH6, "F13", "cls · best", "gain over the PLM's best pooling (SimCSE at BERT-base: +19.55)"),
    Stated(CH6, "F13", "cls · end", PREMISE),
    Stated(CH7, "F10", "τ = 0.01", "best STS-B dev: τ = 0.01 − τ = 0.05", "exploratory"),
    Stated(CH7, "F10", "τ = 1", "best STS-B dev at τ = 1 − the default's (SimCSE: τ = 1 hurts)", "exploratory"),
]


def cl_runs(chapter: str, pooling: str, checkpoint: str) -> list[dict]:
    return [r for r in doc(chapter)["metrics"]["cl_runs"] if r["pooling"] == pooling and r["checkpoint"] == checkpoint]


def mean_dev(chapter: str, pooling: str, checkpoint: str) -> str:
    return fmt(statistics.mean(r["stsb_dev"] for r in cl_runs(chapter, pooling, checkpoint)), 3)


# Numbers the page states that are not a check's effect: each computed from the published records.
NUMBERS = {
    "full-budget Σ lr": lambda: fmt(cl_runs(CH3, "cls", "end")[0]["summed_lr"], 3),
    "cls end STS-B dev (mean of seeds)": lambda: mean_dev(CH3, "cls", "end"),
    "cls best STS-B dev (mean of seeds)": lambda: mean_dev(CH3, "cls", "best"),
    "avg end STS-B dev (mean of seeds)": lambda: mean_dev(CH3, "avg", "end"),
    "avg best STS-B dev (mean of seeds)": lambda: mean_dev(CH3, "avg", "best"),
    "largest Σ lr of a kept best model": lambda: fmt(
        max(r["summed_lr"] for p in ("cls", "avg") for r in cl_runs(CH3, p, "best")), 2
    ),
    "F1 size target": lambda: fmt(check_of(STATED[2])["target"], 2),
    "F2 size target": lambda: fmt(check_of(STATED[6])["target"], 2),
    "F13 size target": lambda: fmt(check_of(STATED[29])["target"], 4),
    "literal steps compared": lambda: f"{max(r['steps'] for r in doc(CH5)['metrics']['literal_runs']):,}",
    "matched points where the paths agree": lambda: f"{sum(p['agree'] for p in doc(CH5)['metrics']['path'])} of",
    "the temperature named": lambda: check_of(STATED[31])["setting"].split("= ")[1],
    "matched points": lambda: f"of {len(doc(CH5)['metrics']['path'])} matched",
}


def verdict_word(check: dict) -> str:
    """The word the rule gives a check: confounded, else its size, its sign (an exploratory effect) or direction."""
    if check.get("confounded"):
        return "confounded"
    return {"size": check.get("size"), "effect": check.get("sign")}.get(check["kind"]) or check["direction"]


@pytest.fixture(scope="module")
def page() -> str:
    assert PAGE.exists(), "book/learned.md is listed in _toc.yml"
    return PAGE.read_text()


@pytest.mark.parametrize("stated", STATED, ids=lambda s: f"{s.chapter[:2]}-{s.finding}-{s.setting}-{s.claim[:24]}")
def test_each_quoted_effect_is_the_published_one_with_its_word(page, stated):
    check = check_of(stated)
    text = explain.effect(check)
    at = page.find(text)
    assert at >= 0, f"the page should quote {stated.claim} ({stated.setting}) as {text!r}"
    word = verdict_word(check)
    after = page[at + len(text) : at + len(text) + NEAR]
    first = RULE_WORD.search(after)
    assert first and first.group(0) == word, f"{text!r}: the next verdict should be {word!r}; the page has {after!r}"


@pytest.mark.parametrize("name", list(NUMBERS))
def test_each_other_number_is_computed_from_the_records(page, name):
    value = NUMBERS[name]()
    assert re.search(rf"(?<![\d.]){re.escape(value)}(?![\d])", page), f"{name}: the page should state {value}"


def test_no_number_on_the_page_comes_from_nowhere(page):
    text = page
    for s in STATED:
        text = text.replace(explain.effect(check_of(s)), " ")
    for name, value in sorted(((n, f()) for n, f in NUMBERS.items()), key=lambda kv: -len(kv[1])):
        text = re.sub(rf"(?<![\d.]){re.escape(value)}(?![\d])", " ", text)
    stray = re.findall(r"[+\-−]?\d+\.\d+(?:e-?\d+)?", text)
    assert not stray, f"decimal numbers on the page that no published record gives: {stray}"


def test_the_comparisons_the_page_draws_hold():
    """The page's words for sizes ("a fraction of a percent", "a hundredth of", "most of the movement ... early")."""
    avg_norm, avg_vocab, control_vocab = check_of(STATED[9]), check_of(STATED[24]), check_of(STATED[25])
    assert abs(avg_norm["interval"][0]) / doc(CH3)["metrics"]["plm_last"]["norm"] < 0.01
    assert abs(control_vocab["delta"]) < 0.02 * abs(avg_vocab["delta"])
    assert check_of(STATED[27])["delta"] > 0  # more than half the movement by the first tenth of the steps
    assert check_of(STATED[26])["direction"] == "contradicted"
    # "starts less anisotropic than BERT": the PLM's last-layer A below BERT-base's as the registry quotes it
    bert = float(re.search(r"BERT-base \(cased\): ([0-9.]+) at the last layer", findings.FINDINGS["F1"].paper)[1])
    assert doc(CH3)["metrics"]["plm_last"]["anisotropy"] < bert
    # "training on moves the weights further": every end model's weights moved further than its kept one's
    moved = {r["model"]: r["Δ‖W‖/‖W‖ layer 6"] for r in doc(CH3)["metrics"]["movement"]}
    for name, distance in moved.items():
        if " · end · " in name:
            assert distance > moved[name.replace(" · end · ", " · best · ")], name


def test_the_verdict_words_are_the_rules_words(page):
    used = set(re.findall(r"\*\*(supported|contradicted|inconclusive|confounded|mixed|reached|not reached)\*\*", page))
    assert used, "the page states its verdicts in the rule's words, in bold"
