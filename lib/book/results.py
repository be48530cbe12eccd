"""A chapter's results: its checks, the one rule that turns them into verdicts, and its ``results.json``.

**The rule** (written once, here, before the measurements it judges; every chapter and the scorecard use it):

1. *Effects, not badges.* A claim is an effect Δ measured once per training seed on the same tokens and sentences
   (e.g. CL seed s minus the PLM). Its estimate is the mean over seeds; its interval the 95 % Student-t interval
   over seeds, ``mean ± t(0.975, n-1) sd / sqrt(n)`` (:func:`lib.science.stats.t_interval`). The seeds are the
   random part of a run (dropout masks, data order); with three of them the sd is itself uncertain, which the t
   quantile (4.30 for n = 3) carries and a fixed "3 sd" does not. A setting trained with one seed is compared with
   the default's seeds by the pooled two-sample t interval (:func:`lib.science.stats.difference_interval`).
2. *Direction*, against the paper's sign: **supported** when the interval excludes 0 on the paper's side,
   **contradicted** when it excludes 0 on the other side, **inconclusive** otherwise.
3. *Size*, only where the paper states one, judged apart: **reached** when the whole interval lies on the target's
   side of it, **beyond budget** when the run's own movement bound (computed from its schedule) cannot reach the
   target, **not reached** otherwise.
4. *Raw beside adjusted.* An adjusted metric (minus the layer's anisotropy A) is checked beside its raw metric; an
   adjusted effect whose raw counterpart does not support the same direction is **confounded** by the change of A
   and is not counted as support.
5. *The default setting first.* A finding's headline is the verdict of its primary setting (SimCSE's default
   pooling ``cls``, at the end of the full-budget run); every other setting (``avg``, the kept "best" checkpoint, a
   second stop-word list) is a sensitivity row: **robust** only when each agrees with the headline. Settings are
   never merged: each is shown.
6. *Controls.* The **null control** (the PLM moved by random noise of the primary model's size, tensor by tensor)
   is measured by the same checks; a direction the null control also supports is no evidence about contrastive
   learning. The **frequency control** compares token classes within frequency bins.
7. *Exploratory* findings (the ablations, where the paper publishes no numbers) report effects with intervals and
   are counted apart from the reproduction.

A finding's combined direction over several primary checks (F8: top-1 share, top-3 share, IsoScore) is
*supported* or *contradicted* only when every check says so, *mixed* when some support and some contradict,
*confounded* when the only support is confounded, else *inconclusive*.

``results.json``: ``chapter``, ``findings``, ``comparable`` (and ``comparable_reason``), ``params``, ``metrics``,
``checks`` (the records built below) and ``provenance``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ..science import stats
from ..science.files import atomic_write_text, json_safe
from ..science.provenance import Clock, environment
from . import findings as registry
from .datafiles import RUN_DIR_ENV  # set by lib.book.execute.publish: the folder a published run writes into

REQUIRED = {"chapter", "findings", "comparable", "params", "metrics", "checks", "provenance"}
LEVEL = 0.95
DIRECTIONS = ("supported", "contradicted", "inconclusive")
SIZES = ("reached", "not reached", "beyond budget")
COMBINED = ("supported", "contradicted", "mixed", "confounded", "inconclusive")
ROLES = ("claim", "raw", "null control", "frequency control", "exploratory")
PRIMARY_SETTING = "cls · end"


class ResultsError(ValueError):
    """A results.json that cannot be read: the message names the file and what to do."""


# --------------------------------------------------------------------------------------------- the rule
def direction_of(interval: tuple[float, float], expected_sign: int) -> str:
    """Rule 2: the interval against 0, read with the paper's sign."""
    low, high = interval
    if not (math.isfinite(low) and math.isfinite(high)):
        return "inconclusive"
    if low > 0 or high < 0:
        return "supported" if (low > 0) == (expected_sign > 0) else "contradicted"
    return "inconclusive"


def size_of(interval: tuple[float, float], target: float, side: str, reachable: bool = True) -> str:
    """Rule 3: ``side`` ``">="`` (the quantity must reach at least ``target``) or ``"<="``."""
    if not reachable:
        return "beyond budget"
    low, high = interval
    ok = low >= target if side == ">=" else high <= target
    return "reached" if math.isfinite(low) and math.isfinite(high) and ok else "not reached"


def combine(words: list[str]) -> str | None:
    """Several checks' directions (a confounded check counts as ``confounded``) as one word; None without any."""
    s = set(words)
    if not s:
        return None
    if s == {"supported"}:
        return "supported"
    if s == {"contradicted"}:
        return "contradicted"
    if {"supported", "contradicted"} <= s:
        return "mixed"
    if s <= {"supported", "confounded"}:
        return "confounded"
    return "inconclusive"


def word_of(check: dict) -> str:
    """A check's word: its direction (``confounded`` when rule 4 says so), its size, or its agreement."""
    if check["kind"] == "direction":
        return "confounded" if check.get("confounded") else check["direction"]
    if check["kind"] == "size":
        return check["size"]
    if check["kind"] == "within":
        return "holds" if check["passed"] else "fails"
    if check["kind"] == "effect":
        return check["sign"]
    return "untestable"


def setting_of(check: dict) -> str:
    return check.get("setting") or " · ".join(str(x) for x in (check.get("variant"), check.get("checkpoint")) if x)


def assess(checks: list[dict], finding: str) -> dict:
    """One finding's verdict under the rule, from its checks (one chapter's, or every published one's):

    ``direction`` (the primary setting's combined direction), ``size`` (its size checks: ``reached`` only when all
    are), ``settings`` (``{setting: combined direction}`` of every other setting), ``robust`` (each setting agrees
    with the headline; None without other settings), ``control`` and ``frequency`` (the controls' combined
    directions), ``evidence`` (False when the null control supports the headline too), ``exploratory`` and, for
    agreement findings (F0), ``agreement`` (``reproduced`` / ``not reproduced``)."""
    mine = [c for c in checks if c["finding"] == finding]
    out = dict(finding=finding, exploratory=any(c.get("exploratory") for c in mine))
    within = [c for c in mine if c["kind"] == "within"]
    if within:
        out["agreement"] = "reproduced" if all(c["passed"] for c in within) else "not reproduced"
    claims = [c for c in mine if c["kind"] == "direction" and c.get("role", "claim") in ("claim", "exploratory")]
    primary = [c for c in claims if c.get("primary")]
    out["direction"] = combine([word_of(c) for c in primary])
    sizes = [c["size"] for c in mine if c["kind"] == "size" and c.get("primary")]
    out["size"] = (
        None
        if not sizes
        else "reached"
        if all(s == "reached" for s in sizes)
        else "beyond budget"
        if "beyond budget" in sizes
        else "not reached"
    )
    settings: dict[str, list[str]] = {}
    for c in claims:
        if not c.get("primary"):
            settings.setdefault(setting_of(c), []).append(word_of(c))
    out["settings"] = {k: combine(v) for k, v in settings.items()}
    out["robust"] = (
        None
        if not out["settings"] or out["direction"] is None
        else all(w == out["direction"] for w in out["settings"].values())
    )
    for role, key in (("null control", "control"), ("frequency control", "frequency")):
        out[key] = combine([word_of(c) for c in mine if c["kind"] == "direction" and c.get("role") == role])
    out["evidence"] = not (out["direction"] == "supported" and out["control"] == "supported")
    out["untestable"] = [c.get("reason", "") for c in mine if c["kind"] == "untestable"]
    return out


# --------------------------------------------------------------------------------------------- checks
def _base(finding, claim, kind, variant, checkpoint, primary, role, setting, exploratory, note) -> dict:
    registry.check_ids([finding])
    if role not in ROLES:
        raise ValueError(f"role = {role!r}; expected one of {ROLES}")
    return dict(
        finding=finding,
        claim=claim,
        kind=kind,
        variant=variant,
        checkpoint=checkpoint,
        primary=bool(primary),
        role=role,
        setting=setting or " · ".join(str(x) for x in (variant, checkpoint) if x),
        exploratory=bool(exploratory),
        note=note,
    )


def direction(
    finding: str,
    claim: str,
    per_seed,
    expected_sign: int,
    *,
    variant: str | None,
    checkpoint: str | None = None,
    primary: bool = False,
    role: str = "claim",
    setting: str = "",
    baseline=None,
    exploratory: bool = False,
    note: str = "",
) -> dict:
    """A direction check (rules 1-2). ``per_seed``: the effect per training seed (``{seed: Δ}`` or a list); with
    ``baseline`` (values of a reference setting, e.g. the default's seeds), the effect is ``mean(per_seed) -
    mean(baseline)`` with the pooled two-sample interval."""
    if expected_sign not in (-1, 1):
        raise ValueError(f"expected_sign = {expected_sign!r}; expected +1 or -1")
    values, est, how = _estimate(per_seed, baseline)
    interval = [est["low"], est["high"]]
    return dict(
        _base(finding, claim, "direction", variant, checkpoint, primary, role, setting, exploratory, note),
        expected_sign=int(expected_sign),
        delta=est["mean"],
        interval=interval,
        interval_kind=how,
        n_seeds=int(len(values)),
        per_seed=[float(v) for v in values],
        sd=est["sd"],
        direction=direction_of(tuple(interval), expected_sign),
        confounded=False,
    )


def _estimate(per_seed, baseline) -> tuple[list, dict, str]:
    """The values per seed, their mean with its 95 % interval, and which interval: Student-t over the seeds, or,
    with ``baseline``, the pooled two-sample interval of the difference from it."""
    values = list(per_seed.values()) if isinstance(per_seed, dict) else list(per_seed)
    if baseline is None:
        est = stats.t_interval(values, LEVEL)
        return values, est, f"95 % Student-t interval over {est['n']} training seeds"
    est = stats.difference_interval(values, list(baseline), LEVEL)
    return values, est, f"95 % pooled two-sample t interval ({len(values)} vs {len(list(baseline))} seeds)"


def effect(
    finding: str,
    claim: str,
    per_seed,
    *,
    baseline=None,
    setting: str = "",
    variant: str | None = None,
    equivalence: float | None = None,
    note: str = "",
) -> dict:
    """An exploratory effect (rule 7): no direction is claimed, so its word is the interval's sign (``positive``,
    ``negative``, ``inconclusive``); with ``equivalence`` a margin ``m``, ``equivalent`` says whether the whole
    interval lies within ±m (a claim of insensitivity, e.g. SimCSE's on the batch size)."""
    values, est, how = _estimate(per_seed, baseline)
    low, high = est["low"], est["high"]
    word = direction_of((low, high), +1)
    out = dict(
        _base(finding, claim, "effect", variant, None, False, "exploratory", setting, True, note),
        delta=est["mean"],
        interval=[low, high],
        interval_kind=how,
        n_seeds=int(len(values)),
        per_seed=[float(v) for v in values],
        sign={"supported": "positive", "contradicted": "negative"}.get(word, "inconclusive"),
    )
    if equivalence is not None:
        out["equivalence"] = float(equivalence)
        out["equivalent"] = bool(
            math.isfinite(low) and math.isfinite(high) and -equivalence <= low <= high <= equivalence
        )
    return out


def size(
    finding: str,
    claim: str,
    per_seed,
    target: float,
    side: str,
    *,
    variant: str | None,
    checkpoint: str | None = None,
    primary: bool = False,
    reachable: bool = True,
    reason: str = "",
    setting: str = "",
    note: str = "",
) -> dict:
    """A size check (rule 3) of a quantity measured per seed against the paper's ``target`` (``side``: ``">="`` or
    ``"<="``); ``reachable=False`` (with the computed ``reason``) when the run could not move that far."""
    if side not in (">=", "<="):
        raise ValueError(f"side = {side!r}; expected '>=' or '<='")
    values = list(per_seed.values()) if isinstance(per_seed, dict) else list(per_seed)
    est = stats.t_interval(values, LEVEL)
    interval = [est["low"], est["high"]] if est["n"] > 1 else [est["mean"], est["mean"]]
    return dict(
        _base(finding, claim, "size", variant, checkpoint, primary, "claim", setting, False, note),
        measured=est["mean"],
        interval=interval,
        n_seeds=int(len(values)),
        per_seed=[float(v) for v in values],
        target=float(target),
        side=side,
        size=size_of(tuple(interval), target, side, reachable),
        reason=reason,
    )


def within(finding: str, claim: str, measured: float, reference: float, tolerance: float, note: str = "") -> dict:
    """An agreement check (F0): ``measured`` equals a released ``reference`` to ``tolerance``."""
    diff = float(measured) - float(reference)
    return dict(
        _base(finding, claim, "within", None, None, False, "claim", "", False, note),
        measured=float(measured),
        reference=float(reference),
        difference=diff,
        tolerance=float(tolerance),
        passed=abs(diff) <= tolerance,
    )


def untestable(finding: str, claim: str, reason: str, *, variant: str | None = None, checkpoint=None) -> dict:
    """A claim this run cannot test, with the reason measured from the run."""
    return dict(
        _base(finding, claim, "untestable", variant, checkpoint, False, "claim", "", False, ""),
        reason=reason,
    )


def confound(adjusted: dict, raw: dict) -> dict:
    """Rule 4: mark ``adjusted`` confounded when it supports its direction and ``raw`` (the same effect without the
    anisotropy adjustment, a ``role="raw"`` check) does not. Returns ``adjusted``."""
    adjusted["raw"] = dict(delta=raw["delta"], interval=raw["interval"], direction=raw["direction"])
    adjusted["confounded"] = adjusted["direction"] == "supported" and raw["direction"] != "supported"
    return adjusted


# --------------------------------------------------------------------------------------------- a chapter's results
class ChapterResults:
    """What one execution of a chapter checks and records (``results.json`` in :attr:`out_dir`)::

    res = ChapterResults("03_plm_vs_cl", params)
    res.add(direction("F1", "last-layer A, CL − PLM", {0: -0.08, 1: -0.07, 2: -0.08}, -1, variant="cls", ...))
    res.assess("F1")["direction"]        # 'supported'
    res.save(metrics, models=[...])
    """

    def __init__(self, chapter: str, params: dict):
        from . import identity

        self.chapter, self.params = chapter, dict(params)
        self.findings = [f.id for f in registry.for_chapter(chapter)]
        if not self.findings and chapter not in registry.SUPPORT:
            raise ValueError(f"chapter {chapter!r} tests no finding in the registry (lib/book/findings.py)")
        self.clock = Clock()
        # `out_dir` (lib.run, sweeps), $SRL_RUN_DIR (publish), or the run's identity when run by hand
        self.out_dir: Path = identity.run_dir(
            chapter, self.params, self.params.get("out_dir", "") or os.environ.get(RUN_DIR_ENV, "")
        )
        self.checks: list[dict] = []
        self.comparable, self.comparable_reason = True, ""

    @property
    def scale(self) -> str:
        return self.params.get("scale", "?")

    def not_comparable(self, reason: str) -> None:
        """The reference numbers do not apply to this run (said on the page and in results.json)."""
        self.comparable = False
        self.comparable_reason = "; ".join(filter(None, [self.comparable_reason, reason]))

    def add(self, *checks: dict) -> dict | None:
        for check in checks:
            if check["finding"] not in self.findings:
                raise ValueError(f"{self.chapter} does not test {check['finding']} (it tests {self.findings})")
            self.checks.append(check)
        return checks[-1] if checks else None

    def assess(self, finding: str) -> dict:
        return assess(self.checks, finding)

    def save(
        self, metrics: dict, models: list = (), data: dict | None = None, device: str = "cpu", extra: dict | None = None
    ) -> Path:
        """Write results.json (atomically) with the provenance of ``models`` (loaded encoders, or their
        ``describe()`` dicts) and ``data``."""
        provenance = dict(
            scale=self.scale,
            models=[m.describe() if hasattr(m, "describe") else dict(m) for m in models],
            data=data or {},
            **environment(getattr(models[0], "device", device) if models else device, self.clock),
            **(extra or {}),
        )
        return write(
            self.out_dir,
            dict(
                chapter=self.chapter,
                findings=self.findings,
                comparable=self.comparable,
                comparable_reason=self.comparable_reason,
                params=self.params,
                metrics=metrics,
                checks=self.checks,
                provenance=provenance,
            ),
        )


# --------------------------------------------------------------------------------------------- files
def write(out_dir: str | os.PathLike, doc: dict) -> Path:
    """Write ``results.json`` into ``out_dir`` (atomically) and return its path."""
    registry.check_ids(doc["findings"])
    stray = sorted({c["finding"] for c in doc["checks"]} - set(doc["findings"]))
    if stray:
        raise ValueError(f"checks name findings {stray} that chapter {doc['chapter']} does not declare")
    return atomic_write_text(Path(out_dir) / "results.json", json.dumps(json_safe(doc), indent=1) + "\n")


def read(path: str | os.PathLike) -> dict:
    """A results.json, or one :class:`ResultsError` naming the file and what to do."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultsError(
            f"{path} cannot be read ({err.__class__.__name__}: {err}); restore it (git checkout -- {path.name}) or "
            "republish its chapter (make publish CHAPTER=NN)"
        ) from None
    missing = REQUIRED - set(doc) if isinstance(doc, dict) else REQUIRED
    if missing:
        raise ResultsError(f"{path} is not a results.json: it lacks {sorted(missing)}; republish its chapter")
    return doc
