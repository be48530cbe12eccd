"""The verdict rule (lib.book.results): effects with intervals, direction and size apart, the default setting first,
raw beside adjusted, controls; and results.json files that cannot be read."""

import json
import math

import numpy as np
import pytest

from lib.book import results as R
from lib.science import stats


def test_the_t_interval_over_three_seeds_is_mean_plus_minus_4_30_standard_errors():
    est = stats.t_interval([1.0, 2.0, 3.0])
    assert est["mean"] == 2.0 and est["sd"] == 1.0 and est["n"] == 3
    assert est["high"] - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert math.isnan(stats.t_interval([1.0])["low"])  # one seed: no interval


def test_one_seed_against_three_is_a_prediction_interval():
    d = stats.difference_interval([5.0], [1.0, 2.0, 3.0])
    assert d["mean"] == 3.0 and d["df"] == 2
    assert d["high"] - 3.0 == pytest.approx(4.302653 * math.sqrt(1 + 1 / 3), rel=1e-6)
    both = stats.difference_interval([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    assert both["df"] == 4 and both["low"] > 0


@pytest.mark.parametrize(
    "interval, sign, word",
    [((0.1, 0.3), 1, "supported"), ((0.1, 0.3), -1, "contradicted"), ((-0.1, 0.3), 1, "inconclusive"),
     ((-0.3, -0.1), -1, "supported"), ((float("nan"), 1.0), 1, "inconclusive")],
)  # fmt: skip
def test_direction_is_the_interval_against_zero_read_with_the_papers_sign(interval, sign, word):
    assert R.direction_of(interval, sign) == word


def test_a_hairline_no_longer_decides_all_positive_seeds_with_an_interval_above_zero_support():
    """The case the old '3 sd' margin got wrong: three positive seeds, tiny spread (F4 under cls)."""
    c = R.direction("F4", "semantic Δ SelfSim*", {0: 0.0049, 1: 0.0051, 2: 0.0053}, +1, variant="cls", primary=True)
    assert c["direction"] == "supported" and c["interval"][0] > 0 and c["n_seeds"] == 3
    noisy = R.direction("F4", "semantic Δ SelfSim*", [0.01, -0.002, 0.004], +1, variant="cls", primary=True)
    assert noisy["direction"] == "inconclusive"
    with pytest.raises(ValueError, match="expected_sign"):
        R.direction("F4", "x", [1, 2, 3], 0, variant="cls")


def test_size_is_judged_apart_and_only_a_whole_interval_reaches_it():
    assert R.size_of((0.01, 0.015), 0.02, "<=") == "reached"
    assert R.size_of((0.01, 0.03), 0.02, "<=") == "not reached"
    assert R.size_of((0.3, 0.4), 0.28, ">=") == "reached"
    assert R.size_of((0.3, 0.4), 0.28, ">=", reachable=False) == "beyond budget"
    c = R.size("F1", "CL's last-layer A", [0.05, 0.051, 0.049], 0.02, "<=", variant="cls", primary=True)
    assert c["size"] == "not reached" and c["measured"] == pytest.approx(0.05)


def test_an_adjusted_effect_whose_raw_effect_does_not_follow_is_confounded():
    adjusted = R.direction("F5", "functional Δ SelfSim*", [-0.03, -0.031, -0.029], -1, variant="cls", primary=True)
    raw = R.direction("F5", "functional Δ raw SelfSim", [0.004, 0.005, 0.003], -1, variant="cls", role="raw")
    R.confound(adjusted, raw)
    assert adjusted["confounded"] and R.word_of(adjusted) == "confounded"
    assert R.assess([adjusted, raw], "F5")["direction"] == "confounded"  # the raw check is not a claim
    follows = R.direction("F5", "functional Δ raw SelfSim", [-0.01, -0.011, -0.009], -1, variant="cls", role="raw")
    assert not R.confound(dict(adjusted), follows)["confounded"]


def _d(fid, values, sign, **kw):
    return R.direction(fid, "claim", values, sign, **kw)


UP, DOWN, FLAT = [0.1, 0.11, 0.12], [-0.1, -0.11, -0.12], [0.1, -0.1, 0.0]


def test_the_headline_is_the_primary_setting_and_other_settings_are_never_merged_into_it():
    checks = [
        _d("F1", DOWN, -1, variant="cls", checkpoint="end", primary=True),
        _d("F1", UP, -1, variant="avg", checkpoint="end"),
        _d("F1", DOWN, -1, variant="cls", checkpoint="best"),
    ]
    a = R.assess(checks, "F1")
    assert a["direction"] == "supported" and a["robust"] is False
    assert a["settings"] == {"avg · end": "contradicted", "cls · best": "supported"}
    assert R.assess(checks[:1] + checks[2:], "F1")["robust"] is True
    assert R.assess(checks[:1], "F1")["robust"] is None  # no other setting: robustness is not claimed


def test_several_primary_checks_combine_without_hiding_a_contradiction():
    assert R.combine(["supported", "supported"]) == "supported"
    assert R.combine(["supported", "contradicted"]) == "mixed"
    assert R.combine(["supported", "inconclusive"]) == "inconclusive"
    assert R.combine(["contradicted", "contradicted"]) == "contradicted"
    assert R.combine([]) is None


def test_a_direction_the_null_control_also_supports_is_no_evidence():
    claim = _d("F1", DOWN, -1, variant="cls", checkpoint="end", primary=True)
    control = _d("F1", DOWN, -1, variant="control", checkpoint="end", role="null control")
    quiet = _d("F1", FLAT, -1, variant="control", checkpoint="end", role="null control")
    assert R.assess([claim, control], "F1")["evidence"] is False
    a = R.assess([claim, quiet], "F1")
    assert a["evidence"] is True and a["control"] == "inconclusive"


def test_the_primary_size_verdict_and_agreement_findings():
    checks = [
        _d("F7", DOWN, -1, variant="cls", checkpoint="end", primary=True),
        R.size("F7", "relative norm change", [-0.01] * 3, -0.1, "<=", variant="cls", primary=True),
        R.size("F7", "relative norm change", [-0.01] * 3, -0.1, "<=", variant="cls", checkpoint="best",
               reachable=False, reason="Σ lr allows 2.5 %"),
    ]  # fmt: skip
    a = R.assess(checks, "F7")
    assert a["direction"] == "supported" and a["size"] == "not reached"
    assert R.assess([R.within("F0", "x", 0.9551, 0.955, 0.002)], "F0")["agreement"] == "reproduced"
    assert R.assess([R.within("F0", "x", 0.96, 0.955, 0.002)], "F0")["agreement"] == "not reproduced"


def test_a_chapter_records_only_its_own_findings_and_writes_a_results_file(tmp_path):
    res = R.ChapterResults("03_plm_vs_cl", dict(scale="smoke", out_dir=str(tmp_path)))
    res.add(_d("F1", DOWN, -1, variant="cls", checkpoint="end", primary=True))
    with pytest.raises(ValueError, match="does not test F4"):
        res.add(_d("F4", UP, 1, variant="cls"))
    path = res.save(dict(x=np.float32(1.5)))
    doc = R.read(path)
    assert doc["checks"][0]["direction"] == "supported" and doc["metrics"]["x"] == 1.5


def test_a_corrupt_results_file_gets_one_message_naming_it(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text('{"chapter": ', encoding="utf-8")
    with pytest.raises(R.ResultsError, match="results.json cannot be read .* republish"):
        R.read(bad)
    bad.write_text(json.dumps({"chapter": "x"}), encoding="utf-8")
    with pytest.raises(R.ResultsError, match="lacks"):
        R.read(bad)
