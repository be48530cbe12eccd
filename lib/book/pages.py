"""Pages generated from the registry and the published runs, written before every book build.

    python -m lib.book.pages      # book/scorecard.md and book/_findings.md (run by `make book`)

``book/intro.md`` includes ``_findings.md``, the findings table generated from :mod:`lib.book.findings`.
"""

from __future__ import annotations

import sys

from ..science.files import atomic_write_text
from ..science.provenance import REPO_ROOT
from . import findings, scorecard
from .chapters import BOOK

SCORECARD, FINDINGS_TABLE = BOOK / "scorecard.md", BOOK / "_findings.md"


def main() -> int:
    runs = scorecard.collect()
    atomic_write_text(SCORECARD, scorecard.render(runs))
    atomic_write_text(FINDINGS_TABLE, findings.table_markdown())
    print(f"scorecard: {len(runs)} published run(s) -> {SCORECARD.relative_to(REPO_ROOT)}; "
          f"findings table -> {FINDINGS_TABLE.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
