"""lib.params errors, lib.results files and checks, lib.scorecard rendering."""

import json
import os

import pytest

from lib import params as P
from lib import results, scorecard


def test_parameter_errors_name_parameter_value_and_allowed():
    with pytest.raises(P.ParameterError, match=r"`seeds` = \[\] is not allowed: expected at least 1"):
        P.seeds("seeds", [])
    for bad in ([1, -2], [1, 1], [True], "0,1", [0.5]):
        with pytest.raises(P.ParameterError, match="`seeds`"):
            P.seeds("seeds", bad)
    assert P.seeds("seeds", (3, 1)) == [3, 1]
    with pytest.raises(P.ParameterError, match="`n_samples` = -5 .* >= 2"):
        P.integer("n_samples", -5, minimum=2)
    with pytest.raises(P.ParameterError, match="expected an integer"):
        P.integer("batch_size", True)
    with pytest.raises(P.ParameterError, match="'smoke', 'pocket', 'paper'"):
        P.scale("huge")
    with pytest.raises(P.ParameterError, match="True or False"):
        P.flag("pad_in_vocab", "yes")


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    results.atomic_write_text(target, "old")

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        results.atomic_write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_results_are_readable_like_any_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = results.atomic_write_text(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_results_json_round_trip_with_nan(tmp_path):
    path = results.write(tmp_path / "run", "F0", {"seeds": (0, 1)}, {"x": float("nan"), "y": [1.5]}, {"p": 1},
                         [results.within("c", 1.001, 1.0, 0.002)])
    doc = results.read(path)
    assert doc["metrics"] == {"x": None, "y": [1.5]} and doc["params"] == {"seeds": [0, 1]}
    assert doc["checks"][0]["passed"] and doc["checks"][0]["difference"] == pytest.approx(0.001)
    (tmp_path / "bad.json").write_text(json.dumps({"finding": "F0"}))
    with pytest.raises(ValueError, match="lacks"):
        results.read(tmp_path / "bad.json")


def test_within():
    assert results.within("a", 0.5, 0.5015, 0.002)["passed"]
    assert not results.within("a", 0.5, 0.503, 0.002)["passed"]
    assert not results.within("a", 0.5, None, 0.002)["passed"]


def test_out_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(results.ENV_OUT_DIR, str(tmp_path / "env"))
    assert results.resolve_out_dir(str(tmp_path / "x"), "01_c", {}) == tmp_path / "x"
    assert results.resolve_out_dir("", "01_c", {}) == tmp_path / "env" / "01_c"
    monkeypatch.delenv(results.ENV_OUT_DIR)
    a = results.resolve_out_dir("", "01_c", {"scale": "smoke", "seeds": [0]})
    assert a.parent == results.REPO_ROOT / "runs" / "01_c" and a.name.startswith("smoke-")
    assert a != results.resolve_out_dir("", "01_c", {"scale": "smoke", "seeds": [1]})


def _doc(passed=True):
    checks = [results.within("self_sim layer 0", 0.955, 0.955, 0.002),
              results.within("self_sim layer 1", 0.903 if passed else 0.95, 0.903, 0.002)]
    prov = {"scale": "pocket", "model": {"name": "all-MiniLM-L6-v2"}, "git": {"commit": "abc123def4567"},
            "started_at": "2026-11-27T00:00:00+00:00", "wall_time_s": 12.0}
    return {"finding": "F0", "params": {}, "metrics": {}, "checks": checks, "provenance": prov}


def test_scorecard_lists_every_finding_and_the_checks():
    page = scorecard.render([("01_geometry_table", _doc())])
    assert "| F0 |" in page and "✓ 2/2 checks hold" in page and "`abc123def4`" in page
    assert page.count("not yet reproduced") == 13  # F1..F13
    assert "| self_sim layer 1 | 0.9030 | 0.903 | +0.0000 | 0.0020 | ✓ |" in page
    failing = scorecard.render([("01_geometry_table", _doc(passed=False))])
    assert "✗ 1/2 checks hold" in failing


def test_scorecard_reads_the_published_runs():
    runs = scorecard.collect()
    assert [c for c, _ in runs] == ["01_geometry_table"]
    doc = runs[0][1]
    assert doc["finding"] == "F0" and doc["checks"] and all(c["passed"] for c in doc["checks"])
