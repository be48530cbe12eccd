"""``results.json``: what a chapter run measured, with its parameters, checks and provenance, written atomically.

Top-level keys:

- ``chapter`` and ``findings`` (the registry ids the chapter tests);
- ``comparable`` (whether the run can be held against the reference numbers: the authors' protocol, model and
  data) and ``comparable_reason`` (why, or why not);
- ``params``, ``metrics``;
- ``checks``: one record per claim, each with its own ``finding`` id: ``kind`` (``within`` a tolerance of a
  reference, ``above`` or ``below`` a bound), ``measured``, ``reference`` (the reference value or the bound),
  ``difference``, ``tolerance``, ``passed``;
- ``provenance``: scale, models, data hashes, library versions, git commit, device, wall time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..science.files import atomic_write_text, json_safe
from . import findings as registry

REQUIRED = {"chapter", "findings", "comparable", "params", "metrics", "checks", "provenance"}


# --------------------------------------------------------------------------------------------- checks
def within(finding: str, claim: str, measured: float, reference: float | None, tolerance: float) -> dict:
    """``measured`` agrees with ``reference`` to ``tolerance``."""
    registry.check_ids([finding])
    diff = None if reference is None else float(measured) - float(reference)
    passed = diff is not None and abs(diff) <= tolerance
    return dict(finding=finding, claim=claim, kind="within", measured=float(measured), reference=reference,
                difference=diff, tolerance=float(tolerance), passed=bool(passed))


def above(finding: str, claim: str, measured: float, bound: float) -> dict:
    """``measured`` > ``bound`` (a direction claim; the bound carries any margin stated before measuring)."""
    registry.check_ids([finding])
    return dict(finding=finding, claim=claim, kind="above", measured=float(measured), reference=float(bound),
                difference=float(measured) - float(bound), tolerance=None, passed=bool(float(measured) > bound))


def below(finding: str, claim: str, measured: float, bound: float) -> dict:
    """``measured`` < ``bound``."""
    registry.check_ids([finding])
    return dict(finding=finding, claim=claim, kind="below", measured=float(measured), reference=float(bound),
                difference=float(measured) - float(bound), tolerance=None, passed=bool(float(measured) < bound))


def failures(checks: list[dict]) -> list[str]:
    return [f"{c['finding']}: {c['claim']} (measured {c['measured']:.4g}, {c['kind']} {c['reference']})"
            for c in checks if not c["passed"]]


# --------------------------------------------------------------------------------------------- files
def write(out_dir: str | os.PathLike, chapter: str, findings: list[str], params: dict, metrics: dict,
          provenance: dict, checks: list[dict] | None = None, comparable: bool = True,
          comparable_reason: str = "") -> Path:
    """Write ``results.json`` into ``out_dir`` (atomically) and return its path."""
    registry.check_ids(findings)
    checks = checks or []
    stray = sorted({c["finding"] for c in checks} - set(findings))
    if stray:
        raise ValueError(f"checks name findings {stray} that chapter {chapter} does not declare ({findings})")
    doc = dict(chapter=chapter, findings=list(findings), comparable=bool(comparable),
               comparable_reason=comparable_reason, params=params, metrics=metrics, checks=checks,
               provenance=provenance)
    return atomic_write_text(Path(out_dir) / "results.json", json.dumps(json_safe(doc), indent=1) + "\n")


def read(path: str | os.PathLike) -> dict:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    missing = REQUIRED - set(doc)
    if missing:
        raise ValueError(f"{path} is not a results.json: it lacks {sorted(missing)}")
    return doc
