"""Sentences and tables generated from a chapter's checks and the verdict rule (:mod:`lib.book.results`).

Every sentence is chosen by the verdict it states and carries the measured numbers, so a rerun at any scale prints
true sentences: what was tested, what was found at SimCSE's default setting, whether the other settings and the
controls agree, what it means for the paper's explanation and how sure we are.
"""

from __future__ import annotations

from . import results
from .tables import fmt

LEAD = {
    "supported": "is supported",
    "contradicted": "is contradicted",
    "inconclusive": "is inconclusive",
    "mixed": "is mixed",
    "confounded": "is confounded by the anisotropy change",
    None: "was not measured",
}
WHY = {
    "supported": "the interval excludes zero on the paper's side",
    "contradicted": "the interval excludes zero on the other side: the effect goes against the paper",
    "inconclusive": "the interval includes zero",
    "mixed": "its measures disagree",
    "confounded": "the adjusted measure moves the paper's way but the raw one does not, so the adjusted support "
    "comes from the change of anisotropy that is subtracted",
}
WHY_SEVERAL = {
    "supported": "every interval excludes zero on the paper's side",
    "contradicted": "every interval excludes zero on the other side: the effects go against the paper",
    "inconclusive": "its checks are not all decided the paper's way (each below)",
    "mixed": "some of its checks support the paper and some contradict it",
    "confounded": "its adjusted checks move the paper's way only through the change of anisotropy",
}
MEANING = {
    "supported": "the run is consistent with the paper's explanation at this scale",
    "contradicted": "at this scale the paper's explanation does not describe what SimCSE's default setting does",
    "inconclusive": "this run cannot decide it",
    "mixed": "the paper's single direction does not describe this run",
    "confounded": "the run gives no support to the paper's explanation beyond the anisotropy change",
}
SIDE = {">=": "≥", "<=": "≤"}


def number(x, digits: int = 3, sign: bool = True) -> str:
    return fmt(x, digits, sign=sign)


def effect(check: dict, digits: int = 3) -> str:
    """``Δ −0.081 [−0.085, −0.077]`` (a direction check) or ``0.19 [0.18, 0.20]`` (a size check's quantity)."""
    low, high = check["interval"]
    sign = check["kind"] in ("direction", "effect")
    value = check["delta"] if sign else check["measured"]
    head = "Δ " if sign else ""
    if low != low:  # NaN: one seed
        return f"{head}{number(value, digits, sign)} (one seed: no interval)"
    return f"{head}{number(value, digits, sign)} [{number(low, digits, sign)}, {number(high, digits, sign)}]"


def _checks_text(checks: list[dict]) -> str:
    parts = []
    for c in checks:
        text = f"{c['claim']}: {effect(c)}"
        if c.get("confounded"):
            text += f" (raw: {effect(dict(c['raw'], kind='direction'))})"
        parts.append(text)
    return "; ".join(parts)


def certainty(a: dict) -> str:
    """How sure the headline is, in words: firm when the direction is clear, every other setting agrees and the
    null control does not show it; qualified when one of those fails; weak otherwise."""
    if a["direction"] in ("supported", "contradicted"):
        if a["robust"] is not False and a["evidence"] and a["control"] != a["direction"]:
            return "firm"
        return "qualified"
    return "weak"


def finding_paragraph(checks: list[dict], finding: str, topic: str) -> str:
    """One finding's paragraph: the headline at the primary setting with its effects, the size against the paper's,
    the other settings, the controls, what it means and how sure it is. ``topic``: the claim in a few words."""
    a = results.assess(checks, finding)
    mine = [c for c in checks if c["finding"] == finding]
    primary = [c for c in mine if c["kind"] == "direction" and c.get("primary") and c.get("role") == "claim"]
    if not primary:
        return f"**{finding}** ({topic}) was not measured at a primary setting."
    setting = results.setting_of(primary[0])
    why = (WHY if len(primary) == 1 else WHY_SEVERAL)[a["direction"]]
    if a["direction"] == "inconclusive" and any(c.get("n_seeds", 0) < 2 for c in primary):
        why = "one training seed gives no interval"
    out = [
        f"**{finding} ({topic}) {LEAD[a['direction']]}** at SimCSE's default setting (`{setting}`): "
        f"{why} — {_checks_text(primary)}."
    ]
    for c in [c for c in mine if c["kind"] == "size" and c.get("primary")]:
        word = c["size"]
        text = (
            f"Its size — {c['claim']} — is {effect(c)} against the target {SIDE[c['side']]} "
            f"{number(c['target'], 4, False)}: **{word}**"
        )
        out.append(text + (f" ({c['reason']})." if word == "beyond budget" and c.get("reason") else "."))
    if a["settings"]:
        if a["robust"]:
            out.append(f"Every other setting agrees ({', '.join(f'`{s}`' for s in a['settings'])}).")
        else:
            out.append(
                "The other settings: " + "; ".join(f"`{s}` {w}" for s, w in a["settings"].items()) + " — not robust."
            )
    if a["control"]:
        text = f"The null control (the PLM moved as far, at random) is {a['control']}"
        if not a["evidence"]:
            text += ": it shows the same change, so the change follows from moving the weights at all and is no "
            text += "evidence about contrastive learning"
        out.append(text + ".")
    if a["frequency"]:
        out.append(f"Compared within frequency bins, the classes' difference is {a['frequency']}.")
    out.append(f"What it means: {MEANING[a['direction']]}; how sure: **{certainty(a)}**.")
    return " ".join(out)


def closing(checks: list[dict], topics: dict[str, str], scale: str, comparable_reason: str = "") -> str:
    """A chapter's "What this shows": one paragraph per finding (``topics``: finding -> the claim in words)."""
    head = f"**Not comparable:** {comparable_reason}.\n\n" if comparable_reason else ""
    body = "\n\n".join(finding_paragraph(checks, fid, topic) for fid, topic in topics.items())
    return head + f"At {scale} scale, with the rule of `lib/book/results.py` (95 % t intervals over seeds):\n\n" + body


def checks_table(checks: list[dict]):
    """Every check as a row: finding, setting, role, claim, the effect with its interval, n, the verdict word
    (direction, size, agreement), and notes (confounded, untestable reasons)."""
    import pandas as pd

    rows = []
    for c in checks:
        kind = c["kind"]
        row = dict(finding=c["finding"], setting=results.setting_of(c) or "—", role=c.get("role", "claim"))
        row["claim"] = c["claim"]
        if kind in ("direction", "size", "effect"):
            row["effect [95 % interval]"] = effect(c)
            row["n"] = c.get("n_seeds")
        elif kind == "within":
            row["effect [95 % interval]"] = f"{number(c['measured'], 4, False)} vs {number(c['reference'], 4, False)}"
            row["n"] = None
        else:
            row["effect [95 % interval]"] = "—"
            row["n"] = None
        row["verdict"] = results.word_of(c) + {1: " (paper: +)", -1: " (paper: −)"}.get(c.get("expected_sign"), "")
        notes = []
        if c.get("confounded"):
            notes.append("raw " + c["raw"]["direction"])
        if kind == "size":
            notes.append(f"target {SIDE[c['side']]} {number(c['target'], 3, False)}")
        if c.get("reason"):
            notes.append(c["reason"])
        if c.get("note"):
            notes.append(c["note"])
        row["notes"] = "; ".join(notes)
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df) and (df["role"] == "claim").all():
        df = df.drop(columns="role")
    return df


def paper_vs_ours(checks: list[dict], findings: list[str]):
    """One row per finding: what the paper reports (the registry's words) beside our primary effect, the verdict,
    the other settings and the null control."""
    import pandas as pd

    from .findings import FINDINGS

    rows = []
    for fid in findings:
        a = results.assess(checks, fid)
        primary = [c for c in checks if c["finding"] == fid and c["kind"] == "direction" and c.get("primary")]
        primary = [c for c in primary if c.get("role") == "claim"]
        rows.append(
            {
                "finding": fid,
                "the paper": FINDINGS[fid].paper,
                "ours (cls · end)": _checks_text(primary[:1]) if primary else "—",
                "direction": a["direction"] or "—",
                "size": a["size"] or "—",
                "other settings": "; ".join(f"{s}: {w}" for s, w in a["settings"].items()) or "—",
                "null control": a["control"] or "—",
            }
        )
    return pd.DataFrame(rows)
