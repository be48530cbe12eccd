"""``results.json``: what a chapter run measured, with its parameters, checks and provenance, written atomically.

Top-level keys:

- ``chapter`` and ``findings`` (the registry ids the chapter tests);
- ``comparable`` (whether the run can be held against the reference numbers: the authors' protocol, model and
  data) and ``comparable_reason`` (why, or why not);
- ``params``, ``metrics``;
- ``checks``: one record per claim, each with its own ``finding`` id: ``kind`` (``within`` a tolerance of a
  reference, ``above`` or ``below`` a bound), ``measured``, ``reference`` (the reference value or the bound),
  ``difference``, ``tolerance``, ``passed`` (None when untestable), ``verdict`` (``holds`` / ``fails`` /
  ``untestable``), ``variant`` (which contrastive run it measures, e.g. its pooling ``cls`` / ``avg``; None when
  the chapter has one), ``margin`` (how the bound's margin was set, stated before measuring) and, for an
  untestable check, ``reason`` (computed from the run);
- ``provenance``: scale, models, data hashes, library versions, git commit, device, wall time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..science.files import atomic_write_text, json_safe
from . import findings as registry

REQUIRED = {"chapter", "findings", "comparable", "params", "metrics", "checks", "provenance"}
CHECK_VERDICTS = ("holds", "fails", "untestable")
# a finding's (or one variant's) verdict over its checks; "not comparable" and "not yet run" come from the runs
VERDICTS = ("reproduced", "partly", "not", "untestable", "not comparable", "not yet run")


# --------------------------------------------------------------------------------------------- checks
def _check(
    finding: str,
    claim: str,
    kind: str,
    measured: float,
    reference,
    difference,
    tolerance,
    passed: bool,
    variant: str | None,
    margin: str,
) -> dict:
    registry.check_ids([finding])
    return dict(
        finding=finding,
        claim=claim,
        kind=kind,
        measured=float(measured),
        reference=reference,
        difference=difference,
        tolerance=tolerance,
        passed=bool(passed),
        verdict="holds" if passed else "fails",
        variant=variant,
        margin=margin,
    )


def within(
    finding: str,
    claim: str,
    measured: float,
    reference: float | None,
    tolerance: float,
    variant: str | None = None,
    margin: str = "",
) -> dict:
    """``measured`` agrees with ``reference`` to ``tolerance``."""
    diff = None if reference is None else float(measured) - float(reference)
    return _check(
        finding,
        claim,
        "within",
        measured,
        reference,
        diff,
        float(tolerance),
        diff is not None and abs(diff) <= tolerance,
        variant,
        margin,
    )


def above(
    finding: str, claim: str, measured: float, bound: float, variant: str | None = None, margin: str = ""
) -> dict:
    """``measured`` > ``bound`` (a direction claim; the bound carries any margin stated before measuring)."""
    return _check(
        finding,
        claim,
        "above",
        measured,
        float(bound),
        float(measured) - float(bound),
        None,
        float(measured) > bound,
        variant,
        margin,
    )


def below(
    finding: str, claim: str, measured: float, bound: float, variant: str | None = None, margin: str = ""
) -> dict:
    """``measured`` < ``bound``."""
    return _check(
        finding,
        claim,
        "below",
        measured,
        float(bound),
        float(measured) - float(bound),
        None,
        float(measured) < bound,
        variant,
        margin,
    )


def untestable(
    finding: str, claim: str, reason: str, measured: float | None = None, variant: str | None = None, margin: str = ""
) -> dict:
    """A claim this run cannot test, and why (a reason computed from the run, e.g. how far it could move)."""
    registry.check_ids([finding])
    return dict(
        finding=finding,
        claim=claim,
        kind="untestable",
        measured=None if measured is None else float(measured),
        reference=None,
        difference=None,
        tolerance=None,
        passed=None,
        verdict="untestable",
        variant=variant,
        margin=margin,
        reason=reason,
    )


def verdict(checks: list[dict]) -> str:
    """The one verdict word over checks (of one finding, or one finding and variant): ``reproduced`` when every
    testable check holds, ``partly`` when some do, ``not`` when none does, ``untestable`` when no check could be
    made at this scale; ``not yet run`` without checks. Untestable checks count for neither side."""
    if not checks:
        return "not yet run"
    testable = [c for c in checks if c.get("verdict", "holds" if c["passed"] else "fails") != "untestable"]
    if not testable:
        return "untestable"
    held = sum(bool(c["passed"]) for c in testable)
    return "reproduced" if held == len(testable) else "partly" if held else "not"


def by_variant(checks: list[dict]) -> dict[str | None, list[dict]]:
    """Checks grouped by ``variant`` (None first), in the order they were made."""
    out: dict = {}
    for c in checks:
        out.setdefault(c.get("variant"), []).append(c)
    return out


def failures(checks: list[dict]) -> list[str]:
    return [
        f"{c['finding']}: {c['claim']} (measured {c['measured']:.4g}, {c['kind']} {c['reference']})"
        for c in checks
        if c.get("verdict") == "fails" or (c.get("verdict") is None and not c["passed"])
    ]


# --------------------------------------------------------------------------------------------- files
def write(
    out_dir: str | os.PathLike,
    chapter: str,
    findings: list[str],
    params: dict,
    metrics: dict,
    provenance: dict,
    checks: list[dict] | None = None,
    comparable: bool = True,
    comparable_reason: str = "",
) -> Path:
    """Write ``results.json`` into ``out_dir`` (atomically) and return its path."""
    registry.check_ids(findings)
    checks = checks or []
    stray = sorted({c["finding"] for c in checks} - set(findings))
    if stray:
        raise ValueError(f"checks name findings {stray} that chapter {chapter} does not declare ({findings})")
    doc = dict(
        chapter=chapter,
        findings=list(findings),
        comparable=bool(comparable),
        comparable_reason=comparable_reason,
        params=params,
        metrics=metrics,
        checks=checks,
        provenance=provenance,
    )
    return atomic_write_text(Path(out_dir) / "results.json", json.dumps(json_safe(doc), indent=1) + "\n")


def read(path: str | os.PathLike) -> dict:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    missing = REQUIRED - set(doc)
    if missing:
        raise ValueError(f"{path} is not a results.json: it lacks {sorted(missing)}")
    return doc
