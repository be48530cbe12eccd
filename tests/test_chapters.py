"""Chapters as a user reruns them: lib.run's parameter handling, smoke runs through papermill, bad parameters
failing in the first cells, and the published notebooks staying paired with their sources."""

import json

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError

from lib import run as command
from lib.book import chapters, execute
from lib.science import models
from lib.science.params import ParameterError
from lib.science.provenance import REPO_ROOT
from tests.helpers import PER_LAYER_KEYS, write_mirror

CHAPTERS = chapters.sources()


def run(name, scale=None, overrides=None):
    return execute.run(chapters.find(name), scale, overrides, progress=False)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    return write_mirror(tmp_path_factory.mktemp("data") / "mirror")


# --------------------------------------------------------------------------------------------- parameters
def test_chapter_names_resolve():
    assert chapters.find("01").stem == "01_geometry_table"
    assert chapters.find("book/01_geometry_table.py").stem == "01_geometry_table"
    with pytest.raises(ParameterError, match="`chapter` = '99'"):
        chapters.find("99")


def test_scale_presets_and_overrides_are_checked():
    chapter = chapters.find("01")
    params = chapter.parameters("smoke", {"seeds": [4, 5]})
    assert params["model"] == "tiny-random-bert" and params["scale"] == "smoke" and params["seeds"] == [4, 5]
    assert chapter.parameters(None, {}) == {}
    with pytest.raises(ParameterError, match="`temperature` .* no such parameter; it has model, seeds"):
        chapter.parameters(None, {"temperature": 0.05})
    with pytest.raises(ParameterError, match="`n_samples` = 'many' .* expected a int"):
        chapter.parameters(None, {"n_samples": "many"})
    with pytest.raises(ParameterError, match="`pad_in_vocab` = 1"):
        chapter.parameters(None, {"pad_in_vocab": 1})
    with pytest.raises(ParameterError, match="`scale` = 'huge'"):
        chapter.parameters("huge", {})


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_declares_its_scales_and_ci_scale(source):
    chapter = chapters.Chapter(source)
    assert chapter.published_scale in chapter.scales and chapter.ci_scale in chapter.scales
    assert {"smoke", "pocket", "paper"} <= set(chapter.scales)
    nb = execute.parameterized(chapter, "smoke")
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'scale = "smoke"' in injected[0].source


def test_assignments_parse_as_yaml_except_for_strings():
    declared = chapters.find("01").declared()
    parse = chapters.parse_assignment
    assert parse("model=yes", declared) == ("model", "yes")
    assert parse("column=1234", declared) == ("column", "1234")
    assert parse("seeds=[2,3]", declared) == ("seeds", [2, 3])
    assert parse("seeds=[0, 1]") == ("seeds", [0, 1])
    assert parse("special_in_vocab=false") == ("special_in_vocab", False)
    assert parse("model=sentence-transformers/all-MiniLM-L6-v2") == ("model", "sentence-transformers/all-MiniLM-L6-v2")
    assert parse("out_dir=") == ("out_dir", "")
    assert parse("lr=3e-05") == ("lr", 3e-05) and parse("lr=1e-3") == ("lr", 0.001) and parse("n=7") == ("n", 7)
    with pytest.raises(ParameterError, match="name=value"):
        parse("seeds")


def test_command_line_reports_bad_parameters_before_running(capsys):
    assert command.main(["01", "-p", "temperature=1"]) == 2
    assert "`temperature`" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- runs
def _results(out_dir):
    return json.loads((out_dir / "results.json").read_text())


def test_smoke_run_writes_results_and_notebook(mirror, tmp_path):
    out = run("01", "smoke", {"data_dir": str(mirror), "out_dir": str(tmp_path / "smoke"), "n_samples": 20})
    doc = _results(out)
    assert doc["findings"] == ["F0"] and doc["params"]["scale"] == "smoke"
    assert doc["params"]["model"] == "tiny-random-bert"
    assert [r["layer"] for r in doc["metrics"]["per_layer"]] == [0, 1, 2]
    assert all(PER_LAYER_KEYS <= r.keys() for r in doc["metrics"]["per_layer"])
    prov = doc["provenance"]
    assert {"models", "data", "libraries", "git", "device", "wall_time_s"} <= prov.keys()
    assert prov["data"]["source"] == "mirror:sts/test.tsv" and prov["libraries"]["torch"]
    # a random tiny model on a subset is not compared with the released table, and says why
    assert doc["checks"] == [] and doc["comparable"] is False
    assert "model" in doc["comparable_reason"] and "subset" in doc["comparable_reason"]
    executed = nbformat.read(out / "01_geometry_table.ipynb", 4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    again = run("01", "smoke", {"data_dir": str(mirror), "n_samples": 20})  # named by its identity
    assert again.parent.name == "01_geometry_table" and again.name.startswith("smoke-")
    assert _results(again)["metrics"] == doc["metrics"]  # same parameters, same numbers


def test_the_default_run_fails_loudly_when_it_cannot_be_compared(mirror, tmp_path):
    """Default parameters, but a mirror whose STS-B test is not the authors': the chapter stops, it does not
    quietly skip its checks."""
    with pytest.raises(PapermillExecutionError) as err:
        run("01", None, {"data_dir": str(mirror), "out_dir": str(tmp_path / "default")})
    assert err.value.ename == "ValueError" and "must be comparable" in err.value.evalue
    assert not (tmp_path / "default" / "results.json").exists()


def test_an_mpnet_style_local_model_runs_unchanged(mirror, tmp_path):
    enc = models.load("tiny-random-mpnet", "cpu")
    enc.model.save_pretrained(tmp_path / "mpnet")
    enc.tokenizer.save_pretrained(tmp_path / "mpnet")
    out = run(
        "01",
        "smoke",
        {
            "model": str(tmp_path / "mpnet"),
            "data_dir": str(mirror),
            "out_dir": str(tmp_path / "out"),
            "n_samples": 20,
            "special_in_vocab": False,
        },
    )
    doc = _results(out)
    model = doc["provenance"]["models"][0]
    assert model["pad_id"] == 1 and model["kind"] == "local" and str(tmp_path) not in model["source"]
    metrics = doc["metrics"]
    assert len(metrics["per_layer"]) == 3 and metrics["pad_in_vocabulary"]  # pad id 1 counted like pad id 0
    # special_in_vocab=False is honoured: the headline differs from the as-released vocabulary
    headline = [r["self_sim"] for r in metrics["per_layer"]]
    assert headline != pytest.approx(metrics["self_sim_variants"]["as released"], abs=1e-6)


@pytest.mark.parametrize(
    "override,needle",
    [
        ({"seeds": []}, "`seeds` = []"),
        ({"n_samples": -3}, "`n_samples` = -3"),
        ({"column": "sentence3"}, "`column` = 'sentence3'"),
        ({"model": "no-such-org/no-such-model"}, "`model` = 'no-such-org/no-such-model'"),
        ({"device": "cuda:7"}, "`device` = 'cuda:7'"),
    ],
)
def test_bad_parameters_are_refused_before_anything_is_written(mirror, tmp_path, override, needle):
    with pytest.raises(ParameterError) as err:
        run("01", "smoke", {"data_dir": str(mirror), "out_dir": str(tmp_path / "bad"), **override})
    assert needle in str(err.value) and not (tmp_path / "bad").exists()


@pytest.mark.parametrize(
    "args,needle",
    [(["-p", "simcse.lr=abc"], "`lr` = 'abc'"), (["-p", "train_seeds=[]"], "`train_seeds` = []")],
)
def test_the_command_refuses_a_bad_simcse_knob_at_the_door(tmp_path, capsys, monkeypatch, args, needle):
    monkeypatch.setenv("SRL_OUT_DIR", str(tmp_path / "out"))
    assert command.main(["03", "--scale", "smoke", "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and needle in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_notebook_run_by_hand_checks_its_parameters_in_its_first_cell(mirror, tmp_path):
    chapter = chapters.find("01")
    params = dict(chapter.parameters("smoke", {}), data_dir=str(mirror), seeds=[])
    with pytest.raises(PapermillExecutionError) as err:
        execute.execute(chapter.notebook, tmp_path / "nb.ipynb", params, progress=False)
    assert err.value.ename == "ParameterError" and "`seeds` = []" in err.value.evalue
    executed = nbformat.read(tmp_path / "nb.ipynb", 4)
    failed = [
        c
        for c in executed.cells
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    assert len(failed) == 1 and "chapters.begin(" in failed[0].source  # the checking cell, before any encoding


# --------------------------------------------------------------------------------------------- the published book
@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_published_notebook_is_paired_executed_and_clean(source):
    notebook = source.with_suffix(".ipynb")
    assert notebook.exists() and execute.in_sync(source, notebook), f"run `jupytext --sync {source.name}`"
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
    """A publication check: the stored results.json belongs to the page and the chapter's defaults (the numbers
    themselves are recomputed by the chapter runs and tests/test_regression.py)."""
    chapter = chapters.Chapter(source)
    doc = json.loads((chapters.PUBLISHED / source.stem / "results.json").read_text())
    assert doc["findings"] == chapter.findings and doc["chapter"] == chapter.stem
    assert doc["params"] == chapter.declared()  # published = the chapter's defaults
    assert doc["provenance"]["git"]["commit"] != "unknown" and doc["provenance"]["scale"] == chapter.published_scale
    assert {c["finding"] for c in doc["checks"]} <= set(chapter.findings)
    if chapter.findings:  # every finding of the chapter was checked (a check may hold or not: that is a result)
        assert {c["finding"] for c in doc["checks"]} == set(chapter.findings)
    if not doc["comparable"]:
        assert doc["comparable_reason"], "a run that cannot be compared says why"
    if "F0" in doc["findings"]:
        assert doc["comparable"] and all(c["passed"] for c in doc["checks"])
        assert all(PER_LAYER_KEYS <= r.keys() for r in doc["metrics"]["per_layer"])
    # the page shows this very run: its provenance cell prints the run's start time
    assert doc["provenance"]["started_at"] in source.with_suffix(".ipynb").read_text()


def test_publish_replaces_page_and_results_only_after_a_clean_run(tmp_path):
    """publish() on a throwaway book: the page and results.json change together, and only when the run passed."""
    import jupytext

    book = tmp_path / "book"
    book.mkdir()
    source = book / "01_demo.py"
    text = (
        '# %% tags=["parameters"]\nvalue: int = 3\nout_dir: str = ""\n\n'
        "# %%\nimport os\nfrom lib.book import results\n"
        'results.write(os.environ["SRL_RUN_DIR"], dict(chapter="01_demo", findings=["F0"], comparable=True, '
        'params={"value": value}, metrics={"x": value}, provenance={"started_at": "t"}, '  # the folder publish hands
        'checks=[results.within("F0", "x", value, 3, 0)]))'
        "\nassert value == 3\n"
    )
    source.write_text(text)
    jupytext.write(jupytext.read(source), book / "01_demo.ipynb")  # the old, unexecuted page
    published = book / "results"
    page = execute.publish(chapters.Chapter(source), progress=False, published=published)
    doc = json.loads((published / "01_demo" / "results.json").read_text())
    assert doc["metrics"] == {"x": 3} and execute.in_sync(source, page)
    executed = nbformat.read(page, 4)
    assert all(c.get("execution_count") for c in executed.cells) and "papermill" not in executed.metadata
    # a failing chapter leaves the published page and results untouched
    before = (page.read_text(), (published / "01_demo" / "results.json").read_text())
    source.write_text(text.replace("value: int = 3", "value: int = 4"))
    with pytest.raises(PapermillExecutionError):
        execute.publish(chapters.Chapter(source), progress=False, published=published)
    assert (page.read_text(), (published / "01_demo" / "results.json").read_text()) == before


@pytest.mark.parametrize("name", ["03", "04", "06"])
def test_the_unchanged_plm_fails_every_check(name, tmp_path):
    """A claim about what contrastive learning changes is one the unchanged model fails: with the PLM itself
    given as the 'contrastive' model, no check of a pair chapter holds."""
    out = run(name, "smoke", {"cl": "tiny-random-bert", "out_dir": str(tmp_path / "same")})
    from lib.book import results

    checks = _results(out)["checks"]
    assert checks and not [c["claim"] for c in checks if results.word_of(c) in ("supported", "reached", "holds")]
