"""One chapter execution, seen from inside its notebook: where it writes, what it checks, what it records.

    run = ChapterRun("01_geometry_table", params)      # params: every parameter of the chapter
    run.not_comparable("another model than the authors'")   # when the reference does not apply
    run.within("F0", "self_sim layer 0 vs R2", 0.9551, 0.955, 0.002)
    run.save(metrics, models=[encoder], data=data_info)      # results.json first, so a failing run is recorded
    run.assert_checks()                                      # then the claims are asserted

The run's folder comes from :mod:`lib.book.identity`; the findings it may check from the registry.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..science.provenance import Clock, environment
from . import findings, identity, records

RUN_DIR_ENV = "SRL_RUN_DIR"  # set by lib.book.execute.publish: the folder a published run writes into


class ChapterRun:
    def __init__(self, chapter: str, params: dict):
        self.chapter, self.params = chapter, dict(params)
        self.findings = [f.id for f in findings.for_chapter(chapter)]
        if not self.findings and chapter not in findings.SUPPORT:
            raise ValueError(
                f"chapter {chapter!r} tests no finding in the registry (lib/book/findings.py) and is "
                f"not listed there as a supporting chapter"
            )
        self.clock = Clock()
        # resolved once, by whoever runs the chapter: `out_dir` (lib.run / sweeps), $SRL_RUN_DIR (publish), or
        # here from the run's identity when the notebook is run by hand
        self.out_dir: Path = identity.run_dir(
            chapter, self.params, self.params.get("out_dir", "") or os.environ.get(RUN_DIR_ENV, "")
        )
        self.checks: list[dict] = []
        self.comparable, self.comparable_reason = True, ""

    @property
    def scale(self) -> str:
        return self.params.get("scale", "?")

    # ------------------------------------------------------------------------------------------ comparability
    def not_comparable(self, reason: str) -> None:
        """The reference numbers do not apply to this run (said on the page and in results.json)."""
        self.comparable = False
        self.comparable_reason = "; ".join(filter(None, [self.comparable_reason, reason]))

    # ------------------------------------------------------------------------------------------ checks
    def within(self, finding, claim, measured, reference, tolerance, variant=None, margin="") -> dict:
        return self._add(records.within(finding, claim, measured, reference, tolerance, variant, margin))

    def above(self, finding, claim, measured, bound, variant=None, margin="") -> dict:
        return self._add(records.above(finding, claim, measured, bound, variant, margin))

    def below(self, finding, claim, measured, bound, variant=None, margin="") -> dict:
        return self._add(records.below(finding, claim, measured, bound, variant, margin))

    def untestable(self, finding, claim, reason, measured=None, variant=None, margin="") -> dict:
        return self._add(records.untestable(finding, claim, reason, measured, variant, margin))

    def verdict(self, finding: str, variant: str | None = None) -> str:
        """The verdict word over this run's checks of ``finding`` (of one ``variant`` when given)."""
        return records.verdict(
            [c for c in self.checks if c["finding"] == finding and (variant is None or c.get("variant") == variant)]
        )

    def _add(self, check: dict) -> dict:
        if check["finding"] not in self.findings:
            raise ValueError(f"{self.chapter} does not test {check['finding']} (it tests {self.findings})")
        self.checks.append(check)
        return check

    def failed(self) -> list[str]:
        return records.failures(self.checks)

    # ------------------------------------------------------------------------------------------ recording
    def save(
        self, metrics: dict, models: list = (), data: dict | None = None, device: str = "cpu", extra: dict | None = None
    ) -> Path:
        """Write results.json (atomically) with the provenance of ``models`` (loaded encoders) and ``data``."""
        provenance = dict(
            scale=self.scale,
            models=[m.describe() for m in models],
            data=data or {},
            **environment(models[0].device if models else device, self.clock),
            **(extra or {}),
        )
        return records.write(
            self.out_dir,
            self.chapter,
            self.findings,
            self.params,
            metrics,
            provenance,
            self.checks,
            self.comparable,
            self.comparable_reason,
        )

    def assert_checks(self) -> None:
        failed = self.failed()
        assert not failed, f"{len(failed)} of {len(self.checks)} claims fail: {failed}"
