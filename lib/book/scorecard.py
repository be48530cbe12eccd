"""The reproduction scorecard, generated from every published ``results.json`` (nothing is filled in by hand).

Every verdict comes from :func:`lib.book.results.assess`, the rule the chapters use. Findings are counted in
three groups that never mix: the **reproduction** (F1-F9 and F13: effects whose direction the paper states, with
a size where it gives one), the **agreement** with the authors' released table (F0), and the **exploratory**
ablations (F10-F12, where the paper publishes no numbers). For a reproduction finding the page shows its headline
at SimCSE's default setting, its size against the paper's, every other setting separately (never merged: *robust*
only when all agree) and the null control. Runs at smoke scale are not counted: they say nothing about the paper.
"""

from __future__ import annotations

import html
from pathlib import Path

from . import explain
from . import findings as registry
from .chapters import BOOK, PUBLISHED, Chapter
from .results import assess, read

EXPLORATORY = ("F10", "F11", "F12")
AGREEMENT = ("F0",)
WORDS = ("supported", "contradicted", "mixed", "confounded", "inconclusive", "not yet run")
SYMBOLS = {
    "supported": "✓",
    "contradicted": "✗",
    "mixed": "◐",
    "confounded": "≈",
    "inconclusive": "?",
    "not yet run": "…",
    "reproduced": "✓",
    "not reproduced": "✗",
    "reached": "✓",
    "not reached": "✗",
    "beyond budget": "⊘",
    "exploratory": "◇",
}


def published_runs(root: Path = PUBLISHED) -> list[dict]:
    """Every published run, in chapter order."""
    return [read(p) for p in sorted(root.glob("*/results.json"))]


def counted(runs: list[dict]) -> list[dict]:
    """The runs whose checks count: not at smoke scale."""
    return [doc for doc in runs if doc["provenance"].get("scale") != "smoke"]


def checks_of(fid: str, runs: list[dict]) -> list[dict]:
    return [c for doc in counted(runs) for c in doc["checks"] if c["finding"] == fid]


def verdict(fid: str, runs: list[dict]) -> dict:
    """The finding's assessment over every counted run's checks, with ``word``: its headline (the direction at
    the primary setting; ``reproduced`` / ``not reproduced`` for F0; ``exploratory`` for F10-F12; ``not yet run``
    without checks)."""
    checks = checks_of(fid, runs)
    a = assess(checks, fid)
    if not checks:
        word = "not yet run"
    elif fid in AGREEMENT:
        word = a.get("agreement", "not yet run")
    elif fid in EXPLORATORY:
        word = "exploratory"
    else:
        word = a["direction"] or "not yet run"
    return dict(a, word=word, checks=checks)


def badge(word: str | None) -> str:
    """A verdict as a coloured label that also reads without colour (symbol and word)."""
    word = word or "—"
    slug = word.replace(" ", "-")
    return f'<span class="verdict verdict-{slug}">{SYMBOLS.get(word, "")} {html.escape(word)}</span>'


def tally(runs: list[dict]) -> dict[str, int]:
    """Headline words of the reproduction findings (F1-F9, F13)."""
    counts = dict.fromkeys(WORDS, 0)
    for fid in registry.FINDINGS:
        if fid not in EXPLORATORY + AGREEMENT:
            counts[verdict(fid, runs)["word"]] += 1
    return counts


BR = "<br>"


def robustness(v: dict, sep: str = "; ") -> str:
    if v["robust"] is None:
        return "—"
    if v["robust"]:
        return "robust (" + ", ".join(v["settings"]) + ")"
    return sep.join(f"{s}: {w}" for s, w in v["settings"].items())


def control_text(v: dict) -> str:
    if not v["control"]:
        return "—"
    return v["control"] + ("" if v["evidence"] else " — also shows it: no evidence")


def ours(fid: str, v: dict) -> str:
    """Our primary effect in words (the first primary direction check), or an agreement/exploratory summary."""
    primary = [c for c in v["checks"] if c["kind"] == "direction" and c.get("primary") and c.get("role") == "claim"]
    if primary:
        return "; ".join(f"{c['claim']}: {explain.effect(c)}" for c in primary[:3])
    within = [c for c in v["checks"] if c["kind"] == "within"]
    if within:
        held = sum(c["passed"] for c in within)
        return f"{held}/{len(within)} released numbers agree within their tolerance"
    effects = [c for c in v["checks"] if c["kind"] in ("effect", "direction")]
    return f"{len(effects)} effects against the default setting (see the chapter)" if effects else "—"


def titles() -> dict[str, str]:
    """Chapter stem -> its title (``srl.title`` in the chapter's metadata), for every chapter with a source."""
    out = {}
    for stem in registry.chapters():
        source = BOOK / f"{stem}.py"
        if source.exists():
            out[stem] = Chapter(source).meta.get("title") or stem
    return out


def _link(stem: str, names: dict[str, str]) -> str:
    return f"[{names.get(stem, stem)}]({stem}.ipynb)"


def _short_link(stem: str) -> str:
    """``[chapter 3](03_plm_vs_cl.ipynb)``: a narrow link (the full titles are in the table of contents)."""
    return f"[chapter {int(stem[:2])}]({stem}.ipynb)"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def tally_html(runs: list[dict]) -> str:
    """The reproduction tally as one line of labels, then the two groups counted apart."""
    items = "".join(
        f'<span class="srl-tally-item">{badge(w)} <b>{n}</b></span>'
        for w, n in tally(runs).items()
        if n or w != "not yet run"
    )
    agreement = verdict("F0", runs)["word"]
    n = len(registry.FINDINGS) - len(EXPLORATORY) - len(AGREEMENT)
    return (
        f'<div class="srl-tally"><span class="srl-tally-total">{n} reproduction findings</span>{items}</div>'
        f'<div class="srl-tally"><span class="srl-tally-total">F0, the released table</span>{badge(agreement)}'
        f'<span class="srl-tally-total">F10–F12</span>{badge("exploratory")} counted apart</div>'
    )


def summary_sentence(runs: list[dict]) -> str:
    """Which findings hold at the default setting, which reverse, which are open: one generated sentence."""
    groups: dict[str, list[str]] = {}
    for fid in registry.FINDINGS:
        if fid not in EXPLORATORY + AGREEMENT:
            groups.setdefault(verdict(fid, runs)["word"], []).append(fid)
    phrases = {
        "supported": "supported at SimCSE's default setting",
        "contradicted": "contradicted there (the effect goes the other way)",
        "mixed": "mixed (their measures disagree)",
        "confounded": "confounded by the anisotropy change",
        "inconclusive": "inconclusive",
        "not yet run": "not yet run",
    }
    parts = [f"{', '.join(fids)} {phrases[w]}" for w in WORDS if (fids := groups.get(w))]
    if not parts:
        return "No reproduction finding has a published run yet."
    scales = sorted({doc["provenance"].get("scale", "?") for doc in counted(runs) if doc["findings"]})
    return (
        "Of the reproduction findings: "
        + "; ".join(parts)
        + ". "
        + (f"Every counted run is at {' and '.join(scales)} scale." if scales else "")
    )


def render(runs: list[dict], names: dict[str, str] | None = None) -> str:
    """The scorecard page (MyST markdown). ``names``: chapter stem -> title (default: :func:`titles`)."""
    names = titles() if names is None else names
    lines = [
        "# Reproduction scorecard",
        "",
        tally_html(runs),
        "",
        summary_sentence(runs),
        "",
        "How to read it (the rule, `lib/book/results.py`): each claim is an effect measured per training seed with "
        "a 95 % Student-t interval over the seeds. **Direction**: *supported* when the interval excludes 0 on the "
        "paper's side, *contradicted* when on the other, *inconclusive* otherwise; an adjusted effect whose raw "
        "effect does not follow is *confounded*. **Size**, where the paper gives one, is judged apart. The headline "
        "is SimCSE's default setting (`cls`, the end of the full-budget run; for F13 the checkpoint SimCSE keeps); "
        "every other setting is shown on its own, and the **null control** (the PLM moved as far at random) says "
        "whether a change is specific to contrastive learning.",
        "",
        ":::{container} srl-scorecard",
        "| finding | the paper reports | ours at the default setting | verdict | other settings; null control |",
        "|---|---|---|---|---|",
    ]
    details = ["## Every check", ""]
    for fid, finding in registry.FINDINGS.items():
        v = verdict(fid, runs)
        if fid in EXPLORATORY:
            continue
        where = f"<br>{_short_link(finding.chapter)}" if finding.chapter else ""
        size = f"<br>size: {badge(v['size'])}" if v["size"] else ""
        control = f"<br>null control: {_cell(control_text(v))}" if v["control"] else ""
        lines.append(
            f"| **{fid}** {_cell(finding.claim)}{where} | {_cell(finding.paper or finding.expected)} | "
            f"{_cell(ours(fid, v))} | {badge(v['word'])}{size} | {_cell(robustness(v, BR))}{control} |"
        )
    lines += [":::", "", "## Exploratory: the ablations (F10–F12)", ""]
    lines += [
        "The paper publishes no numbers for them; each chapter reports what its sweep shows, every setting against "
        "the default with an interval. They are not counted in the tally above.",
        "",
        "| finding | what the sweep shows | chapter |",
        "|---|---|---|",
    ]
    for fid in EXPLORATORY:
        finding = registry.FINDINGS[fid]
        shown = [doc for doc in counted(runs) if fid in doc["findings"]]
        text = "; ".join(doc["metrics"].get("shows", {}).get(fid, "") for doc in shown) or "not yet run"
        lines.append(f"| **{fid}** {_cell(finding.claim)} | {_cell(text)} | {_link(finding.chapter, names)} |")
    for fid, finding in registry.FINDINGS.items():
        v = verdict(fid, runs)
        if not v["checks"]:
            continue
        details += [
            "<details>",
            f"<summary><b>{fid}</b> · {html.escape(finding.claim)} — {badge(v['word'])} · {len(v['checks'])} "
            "checks</summary>",
            "",
            ":::{container} srl-checks",
            _markdown_table(explain.checks_table(v["checks"])),
            ":::",
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines + [""] + details).rstrip("\n") + "\n"


def _markdown_table(df) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    rows = [
        "| " + " | ".join(_cell("" if x is None or x != x else x) for x in row) + " |" for row in df.itertuples(False)
    ]
    return "\n".join([head, "|" + "---|" * len(df.columns), *rows])
