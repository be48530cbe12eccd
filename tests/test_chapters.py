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


def test_assignments_parse_as_yaml_except_for_strings():
    declared = run.declared_parameters(run.read_chapter(run.find_chapter("01")))
    assert run.parse_assignment("model=yes", declared) == ("model", "yes")
    assert run.parse_assignment("column=1234", declared) == ("column", "1234")
    assert run.parse_assignment("seeds=[2,3]", declared) == ("seeds", [2, 3])
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
    metrics = doc["metrics"]
    assert len(metrics["per_layer"]) == 3 and metrics["pad_in_vocabulary"]  # pad id 1 counted like pad id 0
    # special_in_vocab=False is honoured: the headline differs from the as-released vocabulary
    headline = [r["self_sim"] for r in metrics["per_layer"]]
    assert headline != pytest.approx(metrics["self_sim_variants"]["as released"], abs=1e-6)


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
    assert not [o for c in code for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    text = notebook.read_text()
    assert str(REPO_ROOT) not in text and "site-packages" not in text and "cdn.jsdelivr" not in text


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_published_results_json(source):
    doc = json.loads((run.PUBLISHED / source.stem / "results.json").read_text())
    meta = run.read_chapter(source).metadata["srl"]
    assert doc["finding"] == meta["finding"] and {"params", "metrics", "provenance"} <= doc.keys()
    assert doc["params"] == run.declared_parameters(run.read_chapter(source))  # published = the chapter's defaults
    assert doc["provenance"]["git"]["commit"] != "unknown"
    assert doc["checks"] and all(c["passed"] for c in doc["checks"])
    if doc["finding"] == "F0":
        assert all(PER_LAYER_KEYS <= r.keys() for r in doc["metrics"]["per_layer"])
    # the page shows this very run: its provenance cell prints the run's start time
    assert doc["provenance"]["started_at"] in source.with_suffix(".ipynb").read_text()


def test_publish_replaces_page_and_results_only_after_a_clean_run(tmp_path, monkeypatch):
    """publish() on a throwaway book: the page and results.json change together, and only when the run passed."""
    import jupytext

    book = tmp_path / "book"
    book.mkdir()
    source = book / "01_demo.py"
    text = ('# %% tags=["parameters"]\nvalue: int = 3\nout_dir: str = ""\n\n'
            '# %%\nfrom lib import results\n'
            'results.write(results.resolve_out_dir(out_dir, "01_demo", {}), "F0", {"value": value}, {"x": value},'
            ' {"started_at": "t"}, [results.within("x", value, 3, 0)])\nassert value == 3\n')
    source.write_text(text)
    jupytext.write(jupytext.read(source), book / "01_demo.ipynb")  # the old, unexecuted page
    monkeypatch.setattr(run, "BOOK", book)
    monkeypatch.setattr(run, "PUBLISHED", book / "results")
    page = run.publish("01", progress=False)
    doc = json.loads((book / "results" / "01_demo" / "results.json").read_text())
    assert doc["metrics"] == {"x": 3} and run.in_sync(source, page)
    executed = nbformat.read(page, 4)
    assert all(c.get("execution_count") for c in executed.cells) and "papermill" not in executed.metadata
    # a failing chapter leaves the published page and results untouched
    before = (page.read_text(), (book / "results" / "01_demo" / "results.json").read_text())
    source.write_text(text.replace("value: int = 3", "value: int = 4"))
    with pytest.raises(PapermillExecutionError):
        run.publish("01", progress=False)
    assert (page.read_text(), (book / "results" / "01_demo" / "results.json").read_text()) == before
