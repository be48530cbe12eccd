"""Pages generated from the registry and the published runs, written before every book build.

    python -m lib.book.pages      # book/scorecard.md and book/_findings.md (run by `make book`)

``book/intro.md`` includes ``_findings.md``: the findings table generated from :mod:`lib.book.findings`, with each
finding's verdict from the published runs and its chapter linked under the chapter's title.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..science.files import atomic_write_text
from ..science.provenance import REPO_ROOT
from . import findings, scorecard
from .chapters import BOOK

SCORECARD, FINDINGS_TABLE = BOOK / "scorecard.md", BOOK / "_findings.md"


def findings_page(runs: list[dict], names: dict[str, str] | None = None) -> str:
    """``_findings.md``: the tally, the summary sentence and the registry's table with a verdict column (the
    intro includes it)."""
    names = scorecard.titles() if names is None else names
    tally = scorecard.tally_html(runs) + "\n\n"
    verdicts = {fid: scorecard.badge(scorecard.verdict(fid, runs)["word"]) for fid in findings.FINDINGS}
    return (
        tally
        + scorecard.summary_sentence(runs)
        + "\n\n:::{container} srl-findings\n"
        + findings.table_markdown(verdicts=verdicts, titles=names)
        + ":::\n"
    )


def render_all(runs: list[dict] | None = None) -> dict[Path, str]:
    """Every generated page and its text."""
    runs = scorecard.published_runs() if runs is None else runs
    names = scorecard.titles()
    return {SCORECARD: scorecard.render(runs, names), FINDINGS_TABLE: findings_page(runs, names)}


def main() -> int:
    from .results import ResultsError

    try:
        runs = scorecard.published_runs()
    except ResultsError as err:  # a damaged results.json: one message naming it, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path, text in render_all(runs).items():
        atomic_write_text(path, text)
    print(
        f"scorecard: {len(runs)} published run(s) -> {SCORECARD.relative_to(REPO_ROOT)}; "
        f"findings table -> {FINDINGS_TABLE.relative_to(REPO_ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
