"""The reproduction scorecard, generated from every published ``results.json`` (nothing is filled in by hand).

On top, a tally of the verdicts and a paragraph generated from them (what reproduces, what does not, and why where
a run records a reason: ``metrics["why"]``, untestable checks' ``reason``, a run's ``comparable_reason``). Then one
row per finding of the registry: what the paper reports (:attr:`lib.book.findings.Finding.paper`), what we
measured (the run's ``metrics["headlines"]``), the verdict -- one per variant when the checks carry variants (e.g.
the pooling of the contrastive run they measure) -- and the chapter. Each finding's checks follow, collapsed.

Verdicts come from :func:`lib.book.records.verdict` over the finding's checks of comparable runs:

- **reproduced**: every testable check holds; **partly**: some do; **not**: none does; **untestable**: no check
  could be made at this scale (its reason is shown);
- **not comparable**: the only runs that name it say they cannot be held against the reference;
- **not yet run**: no published run names it.
"""

from __future__ import annotations

import html
from pathlib import Path

from . import findings as registry
from . import records
from .chapters import BOOK, PUBLISHED, Chapter
from .records import read
from .tables import fmt

VERDICTS = records.VERDICTS
SYMBOLS = {"reproduced": "✓", "partly": "◐", "not": "✗", "untestable": "?", "not comparable": "≠", "not yet run": "…"}
CHECK_SYMBOLS = {"holds": "✓ holds", "fails": "✗ fails", "untestable": "? untestable"}
NO_VARIANT = "all"  # how checks without a variant are labelled beside variants


def collect(root: Path = PUBLISHED) -> list[dict]:
    """Every published run, in chapter order."""
    return [read(p) for p in sorted(root.glob("*/results.json"))]


# --------------------------------------------------------------------------------------------- verdicts
def check_verdict(check: dict) -> str:
    """``holds`` / ``fails`` / ``untestable``; results.json files written before checks carried ``verdict`` give it
    through ``passed``."""
    v = check.get("verdict")
    if v:
        return v
    return "untestable" if check.get("passed") is None else "holds" if check["passed"] else "fails"


def verdict(fid: str, runs: list[dict]) -> tuple[str, list[dict], list[dict]]:
    """``(verdict, runs naming the finding, its checks in comparable runs)``."""
    named = [doc for doc in runs if fid in doc["findings"]]
    comparable = [doc for doc in named if doc["comparable"]]
    checks = [c for doc in comparable for c in doc["checks"] if c["finding"] == fid]
    if not named:
        return "not yet run", named, checks
    if not comparable:
        return "not comparable", named, checks
    return records.verdict(checks), named, checks


def variant_verdicts(checks: list[dict]) -> list[tuple[str, str]]:
    """``[(variant, verdict)]`` when the checks carry variants (checks without one are labelled ``all``); [] when
    none does."""
    groups = records.by_variant(checks)
    if list(groups) in ([], [None]):
        return []
    return [(NO_VARIANT if v is None else str(v), records.verdict(cs)) for v, cs in groups.items()]


def badge(word: str) -> str:
    """A verdict as a coloured label that also reads without colour (symbol and word)."""
    slug = word.replace(" ", "-")
    return f'<span class="verdict verdict-{slug}">{SYMBOLS.get(word, "")} {html.escape(word)}</span>'


def check_badge(word: str) -> str:
    return f'<span class="check check-{word}">{CHECK_SYMBOLS.get(word, word)}</span>'


def verdict_html(fid: str, runs: list[dict]) -> str:
    """The finding's verdict, and one per variant when its checks have variants ("avg: ✓ reproduced")."""
    word, _, checks = verdict(fid, runs)
    per = variant_verdicts(checks) if word not in ("not comparable", "not yet run") else []
    if not per:
        return badge(word)
    return badge(word) + "".join(
        f'<br><span class="verdict-variant">{html.escape(v)}:</span> {badge(w)}' for v, w in per
    )


def verdict_text(fid: str, runs: list[dict]) -> str:
    """The same in words: ``partly (avg: reproduced; cls: not)``."""
    word, _, checks = verdict(fid, runs)
    per = variant_verdicts(checks) if word not in ("not comparable", "not yet run") else []
    return word + (" (" + "; ".join(f"{v}: {w}" for v, w in per) + ")" if per else "")


def tally(runs: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(VERDICTS, 0)
    for fid in registry.FINDINGS:
        counts[verdict(fid, runs)[0]] += 1
    return counts


# --------------------------------------------------------------------------------------------- reasons
def reasons(fid: str, runs: list[dict]) -> list[str]:
    """Why a result is what it is, as the runs record it: ``metrics["why"][fid]``, the reasons of untestable
    checks, and for a run that is not comparable its ``comparable_reason``. No repeats."""
    word, named, _ = verdict(fid, runs)
    out = []
    for doc in named:
        why = (doc.get("metrics") or {}).get("why") or {}
        if why.get(fid):
            out.append(why[fid])
        if not doc["comparable"] and doc.get("comparable_reason"):
            out.append(f"not comparable: {doc['comparable_reason']}")
        for c in doc["checks"]:
            if c["finding"] == fid and check_verdict(c) == "untestable" and c.get("reason"):
                label = f"{c['variant']}: " if c.get("variant") else ""
                out.append(f"untestable ({label}{c['claim']}): {c['reason']}")
    return list(dict.fromkeys(out))


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


# --------------------------------------------------------------------------------------------- the page
def tally_html(runs: list[dict]) -> str:
    """The verdict counts as one line of labels (symbol, word, count; "not yet run" only when there are any)."""
    items = "".join(
        f'<span class="srl-tally-item">{badge(w)} <b>{n}</b></span>'
        for w, n in tally(runs).items()
        if n or w != "not yet run"
    )
    return f'<div class="srl-tally"><span class="srl-tally-total">{len(registry.FINDINGS)} findings</span>{items}</div>'


def summary_sentence(runs: list[dict]) -> str:
    """What reproduces and what does not, in one generated sentence (per variant where checks have variants)."""
    groups: dict[str, list[str]] = {}
    for fid in registry.FINDINGS:
        groups.setdefault(verdict(fid, runs)[0], []).append(fid)
    phrases = {
        "reproduced": "{n} reproduce{s} ({ids})",
        "partly": "{n} partly ({ids})",
        "not": "{n} do{es} not ({ids})",
        "untestable": "{n} cannot be tested at the published scale ({ids})",
        "not comparable": "{n} cannot be held against {its} reference ({ids})",
        "not yet run": "{n} {has} no published run yet ({ids})",
    }
    parts = []
    for word in VERDICTS:
        fids = groups.get(word, [])
        if fids:
            one = len(fids) == 1
            ids = ", ".join(f"{fid}{_variants_in_words(fid, runs)}" for fid in fids)
            parts.append(
                phrases[word].format(
                    n=len(fids),
                    ids=ids,
                    s="s" if one else "",
                    es="es" if one else "",
                    its="its" if one else "their",
                    has="has" if one else "have",
                )
            )
    text = f"Of the {len(registry.FINDINGS)} findings, " + _join(parts) + "."
    scales = sorted({doc["provenance"].get("scale", "?") for doc in runs if doc["findings"]})
    if scales:
        text += (
            f" Every published run is at {scales[0]} scale."
            if len(scales) == 1
            else f" The published runs are at {_join(scales)} scale."
        )
    return text


def summary(runs: list[dict]) -> list[str]:
    """The tally, the summary sentence and the reasons the runs record where a result is not a reproduction."""
    lines = [tally_html(runs), "", summary_sentence(runs), ""]
    why = [
        (fid, r)
        for fid in registry.FINDINGS
        if verdict(fid, runs)[0] not in ("reproduced", "not yet run")
        for r in reasons(fid, runs)
    ]
    if why:
        lines += ["Where a result is not a reproduction, the runs record why:", ""]
        lines += [f"- **{fid}**: {r}" for fid, r in why]
        lines.append("")
    return lines


def _variants_in_words(fid: str, runs: list[dict]) -> str:
    word, _, checks = verdict(fid, runs)
    per = variant_verdicts(checks) if word not in ("not comparable", "not yet run") else []
    return " (" + "; ".join(f"{v}: {w}" for v, w in per) + ")" if per else ""


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _run_line(doc: dict, names: dict[str, str]) -> str:
    prov = doc["provenance"]
    plm = doc.get("params", {}).get("plm")  # chapters that read training runs load no model themselves
    models = ", ".join(f"`{m['name']}`" for m in prov.get("models", [])) or (
        f"SimCSE runs from `{plm}`" if plm else "—"
    )
    commit = (prov.get("git", {}).get("commit") or "unknown")[:10]
    wall = prov.get("wall_time_s")
    return (
        f"From {_link(doc['chapter'], names)}: {prov.get('scale', '?')} scale; models {models}; commit "
        f"`{commit}`" + (f"; wall time {fmt(wall, 3)} s" if isinstance(wall, (int, float)) else "") + "."
    )


def _reference(c: dict) -> str:
    if c["kind"] == "within":
        return fmt(c["reference"])
    if c["kind"] == "above":
        return f"> {fmt(c['reference'])}"
    if c["kind"] == "below":
        return f"< {fmt(c['reference'])}"
    return "—"


def _checks_table(checks: list[dict]) -> list[str]:
    with_variant = any(c.get("variant") is not None for c in checks)
    head = (["variant"] if with_variant else []) + ["claim", "ours", "reference or bound", "Δ", "tolerance", "verdict"]
    out = [":::{container} srl-checks", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in checks:
        word = check_verdict(c)
        claim = c["claim"] + (f" — {c['reason']}" if word == "untestable" and c.get("reason") else "")
        cells = ([str(c.get("variant") or NO_VARIANT)] if with_variant else []) + [
            _cell(claim),
            fmt(c.get("measured")),
            _reference(c),
            fmt(c.get("difference"), sign=True),
            fmt(c.get("tolerance")),
            check_badge(word),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out + [":::"]


def render(runs: list[dict], names: dict[str, str] | None = None) -> str:
    """The scorecard page (MyST markdown). ``names``: chapter stem -> title (default: :func:`titles`)."""
    names = titles() if names is None else names
    lines = ["# Reproduction scorecard", ""] + summary(runs)
    lines += [
        ":::{container} srl-scorecard",
        "| finding | the paper reports | we measured | verdict | chapter |",
        "|---|---|---|---|---|",
    ]
    details = [
        "## Every check",
        "",
        "Generated by `lib/book/scorecard.py` from the `results.json` of every published run "
        "(`book/results/`). Each check compares one number we measured with a reference value or a bound "
        "stated before the measurement; a finding is *reproduced* when all its testable checks hold, "
        "*partly* when some do, *not* when none does. Open a finding to see its checks.",
        "",
    ]
    for fid, finding in registry.FINDINGS.items():
        word, named, checks = verdict(fid, runs)
        headline = "; ".join(h for doc in named if (h := doc["metrics"].get("headlines", {}).get(fid))) or "—"
        where = _link(finding.chapter, names) if finding.chapter else "—"
        lines.append(
            f"| **{fid}** {_cell(finding.claim)} | {_cell(finding.paper or finding.expected)} | "
            f"{_cell(headline)} | {verdict_html(fid, runs)} | {where} |"
        )
        if not named:
            continue
        held = sum(check_verdict(c) == "holds" for c in checks)
        testable = sum(check_verdict(c) != "untestable" for c in checks)
        count = (
            f"{held}/{testable} checks hold"
            if testable
            else "no testable check"
            if checks
            else "its run's checks are shown, not counted"
            if word == "not comparable"
            else "no check"
        )
        details += [
            "<details>",
            f"<summary><b>{fid}</b> · {html.escape(finding.claim)} — {badge(word)} · {count}</summary>",
            "",
        ]
        for doc in named:
            details += [_run_line(doc, names), ""]
            if not doc["comparable"]:
                details += [f"Not comparable with the reference: {doc['comparable_reason']}", ""]
            why = (doc.get("metrics") or {}).get("why") or {}
            if why.get(fid):
                details += [f"Why: {why[fid]}", ""]
            mine = [c for c in doc["checks"] if c["finding"] == fid]
            if mine:
                details += _checks_table(mine) + [""]
        details += ["</details>", ""]
    lines += [":::", ""]
    return "\n".join(lines + details).rstrip("\n") + "\n"
