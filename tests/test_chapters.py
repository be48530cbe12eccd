"""Chapters as a user reruns them: lib.run's parameter handling, smoke runs through papermill, bad parameters
failing in the first cells, and the published notebooks staying paired with their sources."""

import json

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError

from lib import models, run
from lib.params import ParameterError
from lib.results import REPO_ROOT
from tests.helpers import write_mirror

PER_LAYER_KEYS = {"layer", "anisotropy", "anisotropy_sd", "self_sim", "self_sim_adj", "intra_sim", "intra_sim_adj",
                  "norm"}
CHAPTERS = run.chapters()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    return write_mirror(tmp_path_factory.mktemp("data") / "mirror")


# --------------------------------------------------------------------------------------------- parameters
def test_chapter_names_resolve():
    assert run.find_chapter("01").stem == "01_geometry_table"
    assert run.find_chapter("book/01_geometry_table.py").stem == "01_geometry_table"
    with pytest.raises(ParameterError, match="`chapter` = '99'"):
        run.find_chapter("99")


def test_scale_presets_and_overrides_are_checked():
    nb = run.read_chapter(run.find_chapter("01"))
    params = run.build_parameters(nb, "smoke", {"seeds": [4, 5]})
    assert params["model"] == "tiny-random-bert" and params["scale"] == "smoke" and params["seeds"] == [4, 5]
    assert run.build_parameters(nb, None, {}) == {}
    with pytest.raises(ParameterError, match="`temperature` .* no such parameter; it has model, device"):
        run.build_parameters(nb, None, {"temperature": 0.05})
    with pytest.raises(ParameterError, match="`n_samples` = 'many' .* expected a int"):
        run.build_parameters(nb, None, {"n_samples": "many"})
    with pytest.raises(ParameterError, match="`pad_in_vocab` = 1"):
        run.build_parameters(nb, None, {"pad_in_vocab": 1})
    with pytest.raises(ParameterError, match="`scale` = 'huge'"):
        run.build_parameters(nb, "huge", {})


def test_assignments_parse_as_yaml():
    assert run.parse_assignment("seeds=[0, 1]") == ("seeds", [0, 1])
    assert run.parse_assignment("special_in_vocab=false") == ("special_in_vocab", False)
    assert run.parse_assignment("model=sentence-transformers/all-MiniLM-L6-v2") == \
        ("model", "sentence-transformers/all-MiniLM-L6-v2")
    assert run.parse_assignment("out_dir=") == ("out_dir", "")
    with pytest.raises(ParameterError, match="name=value"):
        run.parse_assignment("seeds")


def test_command_line_reports_bad_parameters_before_running(capsys):
    assert run.main(["01", "-p", "temperature=1"]) == 2
    assert "`temperature`" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- runs
def _results(out_dir):
    return json.loads((out_dir / "results.json").read_text())


def test_smoke_run_writes_results_and_notebook(mirror, tmp_path):
    out = run.run("01", "smoke", {"data_dir": str(mirror), "out_dir": str(tmp_path / "smoke"), "n_samples": 20},
                  progress=False)
    doc = _results(out)
    assert doc["finding"] == "F0" and doc["params"]["scale"] == "smoke" and doc["params"]["model"] == "tiny-random-bert"
    assert [r["layer"] for r in doc["metrics"]["per_layer"]] == [0, 1, 2]
    assert all(PER_LAYER_KEYS <= r.keys() for r in doc["metrics"]["per_layer"])
    prov = doc["provenance"]
    assert {"model", "data", "libraries", "git", "device", "wall_time_s"} <= prov.keys()
    assert prov["data"]["source"] == "mirror:sts/test.tsv" and prov["libraries"]["torch"]
    assert doc["checks"] == []  # a random tiny model is not compared with the paper
    executed = nbformat.read(out / "01_geometry_table.ipynb", 4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    again = run.run("01", "smoke", {"data_dir": str(mirror), "out_dir": str(tmp_path / "again"), "n_samples": 20},
                    progress=False)
    assert _results(again)["metrics"] == doc["metrics"]  # same parameters, same numbers


def test_an_mpnet_style_local_model_runs_unchanged(mirror, tmp_path):
    enc = models.load("tiny-random-mpnet", "cpu")
    enc.model.save_pretrained(tmp_path / "mpnet")
    enc.tokenizer.save_pretrained(tmp_path / "mpnet")
    out = run.run("01", "smoke", {"model": str(tmp_path / "mpnet"), "data_dir": str(mirror),
                                  "out_dir": str(tmp_path / "out"), "n_samples": 20, "special_in_vocab": False},
                  progress=False)
    doc = _results(out)
    assert doc["provenance"]["model"]["pad_id"] == 1 and doc["provenance"]["model"]["kind"] == "local"
    assert str(tmp_path) not in doc["provenance"]["model"]["source"]
    assert len(doc["metrics"]["per_layer"]) == 3


@pytest.mark.parametrize("override,needle", [
    ({"seeds": []}, "`seeds` = []"),
    ({"n_samples": -3}, "`n_samples` = -3"),
    ({"column": "sentence3"}, "`column` = 'sentence3'"),
    ({"model": "no-such-org/no-such-model"}, "`model` = 'no-such-org/no-such-model'"),
    ({"device": "cuda:7"}, "`device` = 'cuda:7'"),
])
def test_bad_parameters_fail_in_the_checking_cell(mirror, tmp_path, override, needle):
    with pytest.raises(PapermillExecutionError) as err:
        run.run("01", "smoke", {"data_dir": str(mirror), "out_dir": str(tmp_path / "bad"), **override},
                progress=False)
    assert err.value.ename == "ParameterError" and needle in err.value.evalue
    executed = nbformat.read(tmp_path / "bad" / "01_geometry_table.ipynb", 4)
    failed = [c for c in executed.cells if c.cell_type == "code" and any(o.get("output_type") == "error"
                                                                         for o in c.get("outputs", []))]
    assert len(failed) == 1 and "P.seeds(" in failed[0].source  # the checking cell, before any encoding
    assert not (tmp_path / "bad" / "results.json").exists()


# --------------------------------------------------------------------------------------------- the published book
@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_published_notebook_is_paired_executed_and_clean(source):
    notebook = source.with_suffix(".ipynb")
    assert notebook.exists() and run.in_sync(source, notebook), f"run `jupytext --sync {source.name}`"
    nb = nbformat.read(notebook, 4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(c.get("execution_count") for c in code), "every cell was executed"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert "papermill" not in nb.metadata
    text = notebook.read_text()
    assert str(REPO_ROOT) not in text and "cdn.jsdelivr" not in text


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_published_results_json(source):
    doc = json.loads((run.PUBLISHED / source.stem / "results.json").read_text())
    meta = run.read_chapter(source).metadata["srl"]
    assert doc["finding"] == meta["finding"] and {"params", "metrics", "provenance"} <= doc.keys()
    assert doc["params"] == run.declared_parameters(run.read_chapter(source))  # published = the chapter's defaults
    assert doc["provenance"]["git"]["commit"] != "unknown"
    if doc["finding"] == "F0":
        assert all(PER_LAYER_KEYS <= r.keys() for r in doc["metrics"]["per_layer"])
