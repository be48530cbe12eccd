"""Sweeps: grids, points in their own folders, reuse of finished points, failures recorded, the submitit engine's
local mode, and the command line's last line."""

import json

import jupytext
import pytest

from lib import sweep as command
from lib.book import chapters, sweep
from lib.science.params import ParameterError

DEMO = """# %% tags=["parameters"]
value: int = 3
label: str = "a"
out_dir: str = ""
scale: str = "smoke"

# %%
from lib.book import identity, results
params = dict(value=value, label=label, out_dir=out_dir, scale=scale)
folder = identity.run_dir("01_demo", params, out_dir)
results.write(folder, dict(chapter="01_demo", findings=["F0"], comparable=True, params=params,
                           metrics={"headlines": {"F0": f"value {value}"}}, checks=[], provenance={}))
assert value != 13, "thirteen is unlucky"
"""


@pytest.fixture
def demo(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    source = book / "01_demo.py"
    source.write_text(DEMO)
    jupytext.write(jupytext.read(source), book / "01_demo.ipynb")
    return chapters.Chapter(source)


def test_grids_are_parsed_and_checked(demo):
    declared = demo.declared()
    assert sweep.parse_grid(["value=1,2", "label=x"], declared) == {"value": [1, 2], "label": ["x"]}
    assert sweep.parse_grid(["value=[1, 2]"], declared) == {"value": [1, 2]}
    assert sweep.points({"a": [1, 2], "b": ["x", "y"]}) == [
        dict(a=1, b="x"),
        dict(a=1, b="y"),
        dict(a=2, b="x"),
        dict(a=2, b="y"),
    ]
    with pytest.raises(ParameterError, match="name=v1,v2"):
        sweep.parse_grid(["value"], declared)
    with pytest.raises(ParameterError, match="given twice"):
        sweep.parse_grid(["value=1", "value=2"], declared)
    with pytest.raises(ParameterError, match="`temperature`"):
        sweep.sweep(demo, None, {"temperature": [0.1]})  # checked before anything runs
    with pytest.raises(ParameterError, match="`value` = 'x'"):
        sweep.sweep(demo, None, {"value": ["x"]})


def test_points_run_once_in_their_own_folders_and_failures_do_not_stop_the_rest(demo):
    first = sweep.sweep(demo, None, {"value": [1, 13, 2]}, workers=2, log=lambda *a: None)
    assert [p.status for p in first] == ["ran", "failed", "ran"]
    assert len({p.folder for p in first}) == 3
    assert "thirteen is unlucky" in first[1].error
    assert first[0].headlines == {"F0": "value 1"}
    again = sweep.sweep(demo, None, {"value": [1, 13, 2]}, workers=2, log=lambda *a: None)
    assert [p.status for p in again] == ["reused", "failed", "reused"]  # only the failed point runs again
    assert sweep.summary(again) == dict(points=3, ran=0, reused=2, failed=1)
    (first[2].folder / sweep.POINT_FILE).unlink()  # an interrupted point (no marker) runs again
    assert [p.status for p in sweep.sweep(demo, None, {"value": [2]}, log=lambda *a: None)] == ["ran"]


def test_the_submitit_engine_runs_points_as_local_jobs(demo):
    pytest.importorskip("submitit")
    done = sweep.sweep(
        demo, None, {"label": ["b", "c"]}, workers=2, engine="submitit", cluster="local", log=lambda *a: None
    )
    assert [p.status for p in done] == ["ran", "ran"]
    assert all(
        json.loads((p.folder / "results.json").read_text())["params"]["label"] == p.overrides["label"] for p in done
    )


def test_the_command_line_on_a_real_chapter(capsys):
    args = ["06", "--scale", "smoke", "--grid", "tasks=[[STSB]]", "--workers", "1"]
    assert command.main(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1]) == dict(points=1, ran=1, reused=0, failed=0)
    assert command.main(args) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == dict(points=1, ran=0, reused=1, failed=0)
    assert command.main(["06", "--grid", "pooling"]) == 2
