"""The book layer: parameter errors, files, results.json and its checks, run identity, the findings registry,
the scorecard, and the two layers of lib/ kept apart."""

import ast
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from lib.book import chapters, findings, identity, records, scorecard
from lib.science import files
from lib.science import params as P
from lib.science.provenance import REPO_ROOT

LIB = REPO_ROOT / "lib"


# --------------------------------------------------------------------------------------------- layers
def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            out.add(base)
            out |= {f"{base}.{a.name}" if node.module else f"{base}{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize("module", sorted((LIB / "science").glob("*.py")), ids=lambda p: p.stem)
def test_science_modules_do_not_import_the_book_layer(module):
    bad = {i for i in _imports(module) if i.split(".")[0] in {"IPython", "altair", "papermill", "nbformat",
                                                              "jupytext", "nbval"}
           or i.startswith(("..book", "lib.book", "lib.run", "lib.sweep"))}
    assert not bad, f"{module.name} imports {bad}"


def test_no_module_silences_warnings_or_bars_process_wide():
    for module in LIB.rglob("*.py"):
        text = module.read_text()
        for needle in ("warnings.filterwarnings", "warnings.simplefilter", "disable_progress_bar()\n",
                       "logging.disable(", "set_verbosity_error"):
            if needle == "disable_progress_bar()\n" and "enable_progress_bar" in text:
                continue  # scoped: turned back on in the same function
            assert needle not in text, f"{module.relative_to(REPO_ROOT)} uses {needle.strip()}"


# --------------------------------------------------------------------------------------------- parameters, files
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
    files.atomic_write_text(target, "old")

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_results_are_readable_like_any_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = files.atomic_write_text(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_a_folder_is_replaced_whole_and_an_interrupted_swap_recovers(tmp_path):
    target = tmp_path / "best"
    staged = files.staging_dir(target)
    (staged / "w.bin").write_text("one")
    files.atomic_replace_dir(staged, target)
    assert (target / "w.bin").read_text() == "one"
    staged = files.staging_dir(target)
    (staged / "w.bin").write_text("two")
    files.atomic_replace_dir(staged, target)
    assert (target / "w.bin").read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["best"]
    # killed between the two renames: the old copy is aside, the target missing, a staging folder left over
    os.replace(target, tmp_path / ".best.old")
    files.staging_dir(target)
    files.recover_dir(target)
    assert (target / "w.bin").read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["best"]


# --------------------------------------------------------------------------------------------- results.json
def test_results_json_round_trip_with_finding_ids(tmp_path):
    checks = [records.within("F0", "c", 1.001, 1.0, 0.002), records.above("F0", "d", 0.3, 0.1)]
    path = records.write(tmp_path / "run", "01_geometry_table", ["F0"], {"seeds": (0, 1)},
                         {"x": float("nan"), "y": [1.5]}, {"p": 1}, checks, comparable=False,
                         comparable_reason="a subset")
    doc = records.read(path)
    assert doc["metrics"] == {"x": None, "y": [1.5]} and doc["params"] == {"seeds": [0, 1]}
    assert doc["checks"][0]["passed"] and doc["checks"][0]["difference"] == pytest.approx(0.001)
    assert doc["checks"][1]["kind"] == "above" and doc["checks"][1]["finding"] == "F0"
    assert doc["comparable"] is False and doc["comparable_reason"] == "a subset"
    (tmp_path / "bad.json").write_text(json.dumps({"chapter": "x"}))
    with pytest.raises(ValueError, match="lacks"):
        records.read(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="unknown finding"):
        records.within("F99", "c", 1, 1, 0)
    with pytest.raises(ValueError, match="does not declare"):
        records.write(tmp_path / "x", "01_geometry_table", ["F0"], {}, {}, {}, [records.above("F1", "c", 1, 0)])


def test_checks():
    assert records.within("F0", "a", 0.5, 0.5015, 0.002)["passed"]
    assert not records.within("F0", "a", 0.5, 0.503, 0.002)["passed"]
    assert not records.within("F0", "a", 0.5, None, 0.002)["passed"]
    assert records.above("F1", "a", 0.2, 0.1)["passed"] and not records.above("F1", "a", 0.1, 0.1)["passed"]
    assert records.below("F1", "a", 0.0, 0.1)["passed"] and not records.below("F1", "a", 0.2, 0.1)["passed"]


# --------------------------------------------------------------------------------------------- run identity
def _model_folder(path: Path) -> str:
    from lib.science import models

    enc = models.load("tiny-random-bert", "cpu")
    enc.model.save_pretrained(path)
    enc.tokenizer.save_pretrained(path)
    return str(path)


def test_the_same_run_has_the_same_name_from_two_places(tmp_path, monkeypatch):
    from tests.helpers import write_mirror

    mirror_a = write_mirror(tmp_path / "a" / "data")
    mirror_b = tmp_path / "b" / "data"
    shutil.copytree(mirror_a, mirror_b)
    model_a = _model_folder(tmp_path / "a" / "model")
    model_b = tmp_path / "b" / "model"
    shutil.copytree(model_a, model_b)
    common = dict(scale="smoke", seeds=[0, 1], device="cpu")
    a = dict(common, model=model_a, data_dir=str(mirror_a), out_dir="")
    b = dict(common, model=str(model_b), data_dir=str(mirror_b), out_dir="/somewhere/else")
    assert identity.run_name(a) == identity.run_name(b)
    assert identity.run_name(a) != identity.run_name(dict(a, seeds=[0, 2]))  # parameters that change numbers
    assert identity.run_name(a) != identity.run_name(dict(a, model="tiny-random-mpnet"))
    monkeypatch.setenv(identity.ENV_OUT_DIR, str(tmp_path / "out"))
    one = identity.run_dir("01_geometry_table", a)
    two = identity.run_dir("01_geometry_table", dict(a, seeds=[5]))
    assert one != two and one.parent == two.parent == tmp_path / "out" / "01_geometry_table"  # sweep points apart
    assert identity.run_dir("01_geometry_table", a, out_dir=str(tmp_path / "x")) == tmp_path / "x"
    monkeypatch.delenv(identity.ENV_OUT_DIR)
    assert identity.run_dir("01_geometry_table", a).parent == REPO_ROOT / "runs" / "01_geometry_table"
    assert identity.train_dir("simcse", a).parent == REPO_ROOT / "runs" / "train"


def test_a_changed_model_folder_changes_the_name(tmp_path):
    folder = _model_folder(tmp_path / "m")
    before = identity.run_name(dict(model=folder, scale="smoke"))
    from safetensors.torch import load_file, save_file

    weights = load_file(Path(folder) / "model.safetensors")
    key = next(iter(weights))
    weights[key] = weights[key] + 1
    save_file(weights, Path(folder) / "model.safetensors")
    assert identity.run_name(dict(model=folder, scale="smoke")) != before


# --------------------------------------------------------------------------------------------- registry
def test_the_registry_matches_the_table_of_contents():
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    in_toc = [Path(c["file"]).name for part in toc["parts"] for c in part["chapters"]]
    sources = [c.stem for c in chapters.all_chapters()]
    for chapter in findings.chapters():
        assert chapter in in_toc, f"{chapter} tests findings but is not in _toc.yml"
        assert chapter in sources, f"{chapter} tests findings but has no source in book/"
    for chapter in sources:
        assert chapter in in_toc, f"{chapter} is not in _toc.yml"
        assert findings.for_chapter(chapter) or chapter in findings.SUPPORT, \
            f"{chapter} names no finding in the registry and is not a supporting chapter there"
    assert list(findings.FINDINGS) == [f"F{i}" for i in range(14)]


def test_the_intro_shows_the_generated_table_only():
    intro = (REPO_ROOT / "book" / "intro.md").read_text()
    assert "_findings.md" in intro and "| F1 |" not in intro  # no hand-kept copy of the registry
    table = findings.table_markdown()
    assert all(f"| {fid} | {f.claim} |" in table for fid, f in findings.FINDINGS.items())


# --------------------------------------------------------------------------------------------- scorecard
def _doc(chapter="01_geometry_table", fids=("F0",), checks=(), comparable=True):
    prov = {"scale": "pocket", "models": [{"name": "all-MiniLM-L6-v2"}], "git": {"commit": "abc123def4567"},
            "wall_time_s": 12.0}
    return {"chapter": chapter, "findings": list(fids), "comparable": comparable,
            "comparable_reason": "" if comparable else "another model", "params": {},
            "metrics": {"headlines": {"F0": "within 0.0004"}}, "checks": list(checks), "provenance": prov}


def test_scorecard_verdicts_group_checks_by_finding_across_files():
    ok, bad = records.within("F0", "a", 0.955, 0.955, 0.002), records.within("F0", "b", 0.95, 0.903, 0.002)
    f1_ok = records.below("F1", "A falls", 0.02, 0.1)
    runs = [_doc(checks=[ok]), _doc("02_plm_vs_cl", ("F1", "F0"), [f1_ok, bad])]
    assert scorecard.verdict("F0", runs)[0] == "partly"
    assert scorecard.verdict("F1", runs)[0] == "reproduced"
    assert scorecard.verdict("F2", runs)[0] == "not yet run"
    assert scorecard.verdict("F0", [_doc(checks=[bad])])[0] == "not"
    assert scorecard.verdict("F0", [_doc(comparable=False)])[0] == "not comparable"
    page = scorecard.render(runs)
    assert "| F0 | The authors' per-layer geometry table reproduces | within 0.0004; within 0.0004 | **partly** | 1/2 |" in page
    assert page.count("**not yet run**") == 12
    assert "✓ 0/0" not in scorecard.render([_doc(comparable=False)])


def test_scorecard_reads_the_published_runs():
    runs = scorecard.collect()
    assert [d["chapter"] for d in runs] == [c.stem for c in chapters.all_chapters()
                                           if (chapters.PUBLISHED / c.stem / "results.json").exists()]
    assert scorecard.verdict("F0", runs)[0] == "reproduced"


def test_the_committed_pages_regenerate_identically_from_the_committed_results():
    """book/scorecard.md and book/_findings.md are generated (make book rewrites them); the committed copies must
    be exactly what the registry and the published results.json files give."""
    from lib.book import pages

    assert pages.SCORECARD.read_text() == scorecard.render(scorecard.collect()), "run `python -m lib.book.pages`"
    assert pages.FINDINGS_TABLE.read_text() == findings.table_markdown(), "run `python -m lib.book.pages`"


# --------------------------------------------------------------------------------------------- declarations
def test_a_pair_chapter_checks_every_simcse_run_before_any_compute():
    from lib.book import parameters

    good = dict(parameters.declaration("03_plm_vs_cl").defaults(), scale="smoke", plm="tiny-random-bert",
                extra_models=[], device="cpu")
    configs = parameters.simcse_configs(parameters.check("03_plm_vs_cl", good))
    assert sorted(configs) == [("avg", 0), ("avg", 1), ("avg", 2), ("cls", 0), ("cls", 1), ("cls", 2)]
    assert configs["avg", 1].model == "tiny-random-bert" and configs["avg", 1].seed == 1
    assert configs["avg", 1].max_steps == 20  # the training config's smoke preset, declared there once
    for bad, needle in [(dict(extra_models="all-MiniLM-L6-v2"), "`extra_models` = 'all-MiniLM-L6-v2'"),
                        (dict(train_seeds=[-1]), "`train_seeds`"), (dict(poolings=["max"]), "`poolings`"),
                        (dict(simcse={"temperature": -1.0}), "`temperature` = -1.0"),
                        (dict(simcse={"tau": 0.1}), "`tau` = 0.1 .* no such parameter"),
                        (dict(seeds=[0]), "`seeds`"), (dict(nope=1), "`nope` = 1 .* no such parameter")]:
        with pytest.raises(P.ParameterError, match=needle):
            parameters.check("03_plm_vs_cl", dict(good, **bad))
    # a finished contrastive model is given: no SimCSE run is planned
    assert parameters.simcse_configs(dict(good, cl="tiny-random-bert")) == {}


def test_every_parameters_cell_is_generated_from_its_declaration():
    import jupytext

    from lib.book import chapters, parameters

    for chapter in chapters.all_chapters():
        for path in (chapter.source, chapter.notebook_path):
            cell = parameters.parameters_cell(jupytext.read(path))
            assert cell.source == parameters.cell_source(chapter.stem), \
                f"{path.name}: run `python -m lib.book.parameters --write`"
    assert set(parameters.CHAPTERS) == {c.stem for c in chapters.all_chapters()}


def test_simcse_knobs_are_set_one_at_a_time_from_the_command_line():
    from lib.book import chapters

    declared = chapters.find("03").declared()
    pairs_ = [chapters.parse_assignment(t, declared) for t in ("simcse.lr=1e-4", "simcse.pooling=avg", "seeds=[0,1]")]
    assert chapters.merge_assignments(pairs_) == dict(simcse=dict(lr=1e-4, pooling="avg"), seeds=[0, 1])
    with pytest.raises(P.ParameterError, match="simcse.<a SimCSE parameter>"):
        chapters.parse_assignment("simcse.tau=0.1", declared)


def test_publishing_outputs_do_not_make_the_next_run_dirty(tmp_path, monkeypatch):
    import subprocess

    from lib.science import provenance

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "book" / "results" / "01").mkdir(parents=True)
    (tmp_path / "lib").mkdir()
    files = {"book/01.ipynb": "{}", "book/results/01/results.json": "{}", "book/scorecard.md": "#",
             "book/01.py": "# source", "lib/a.py": "x = 1"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    monkeypatch.delenv("SRL_GIT_COMMIT", raising=False)
    monkeypatch.setattr(provenance, "REPO_ROOT", tmp_path)
    assert provenance.git_state()["dirty"] is False
    for name in ("book/01.ipynb", "book/results/01/results.json", "book/scorecard.md"):
        (tmp_path / name).write_text("published")
    assert provenance.git_state()["dirty"] is False  # outputs of a publish
    (tmp_path / "book/01.py").write_text("# edited")
    assert provenance.git_state()["dirty"] is True  # an input
