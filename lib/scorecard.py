"""The reproduction scorecard: one page built from every published ``results.json``.

    python -m lib.scorecard            # writes book/scorecard.md (run by `make book`)

Each finding gets a row: the chapter and scale of its published run, how many of its checks hold, its largest
deviation from the paper relative to the tolerance, and the run's model, commit and date. The checks follow in
full. Findings with no published run yet are listed as such; nothing is filled in by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .reference import FINDINGS
from .results import REPO_ROOT, atomic_write_text, read

PUBLISHED = REPO_ROOT / "book" / "results"
PAGE = REPO_ROOT / "book" / "scorecard.md"


def collect(root: Path = PUBLISHED) -> list[tuple[str, dict]]:
    """``(chapter, results)`` for every published run, in chapter order."""
    return [(p.parent.name, read(p)) for p in sorted(root.glob("*/results.json"))]


def _fmt(x, spec=".4f"):
    return "—" if x is None else format(x, spec)


def status(doc: dict) -> str:
    checks = doc.get("checks", [])
    if not checks:
        return "no checks recorded"
    passed = sum(c["passed"] for c in checks)
    return f"{'✓' if passed == len(checks) else '✗'} {passed}/{len(checks)} checks hold"


def render(runs: list[tuple[str, dict]]) -> str:
    by_finding = {doc["finding"]: (chapter, doc) for chapter, doc in runs}
    lines = ["# Reproduction scorecard", "",
             "Built by `lib/scorecard.py` from the `results.json` of every published run (`book/results/`). "
             "A check compares one measured number with the paper's, within the tolerance its chapter states; "
             "the worst check is shown as |Δ| / tolerance (≤ 1 holds).", "",
             "| finding | claim | status | worst | run: chapter · scale · model · commit · date |",
             "|---|---|---|---|---|"]
    for fid, (claim, _) in FINDINGS.items():
        if fid not in by_finding:
            lines.append(f"| {fid} | {claim} | not yet reproduced | — | — |")
            continue
        chapter, doc = by_finding[fid]
        prov = doc["provenance"]
        ratios = [abs(c["difference"]) / c["tolerance"] for c in doc.get("checks", [])
                  if c.get("difference") is not None and c["tolerance"] > 0]
        commit = (prov.get("git", {}).get("commit") or "unknown")[:10]
        lines.append(f"| {fid} | {claim} | {status(doc)} | {_fmt(max(ratios) if ratios else None, '.2f')} | "
                     f"[{chapter}]({chapter}) · {prov.get('scale', '?')} · `{prov['model']['name']}` · "
                     f"`{commit}` · {prov.get('started_at', '?')[:10]} |")
    for fid, (chapter, doc) in by_finding.items():
        checks = doc.get("checks", [])
        lines += ["", f"## {fid} · {FINDINGS.get(fid, ('?',))[0]}", "",
                  f"From [{chapter}]({chapter}), {doc['provenance'].get('scale', '?')} scale, "
                  f"wall time {doc['provenance'].get('wall_time_s', '?')} s.", ""]
        if not checks:
            lines.append("This run recorded no checks against the paper.")
            continue
        lines += ["| claim | ours | paper | Δ | tolerance | holds |", "|---|---|---|---|---|---|"]
        for c in checks:
            lines.append(f"| {c['claim']} | {_fmt(c['measured'])} | {_fmt(c['reference'], '.3f')} | "
                         f"{_fmt(c['difference'], '+.4f')} | {_fmt(c['tolerance'])} | "
                         f"{'✓' if c['passed'] else '✗'} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    runs = collect()
    atomic_write_text(PAGE, render(runs))
    print(f"scorecard: {len(runs)} published run(s) -> {PAGE.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
