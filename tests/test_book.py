"""The book layer: parameter errors, files, results.json and its checks, run identity, the findings registry,
the scorecard, and the two layers of lib/ kept apart."""

import ast
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from lib.book import chapters, findings, identity, records, scorecard, vega
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
    bad = {
        i
        for i in _imports(module)
        if i.split(".")[0] in {"IPython", "altair", "papermill", "nbformat", "jupytext", "nbval"}
        or i.startswith(("..book", "lib.book", "lib.run", "lib.sweep"))
    }
    assert not bad, f"{module.name} imports {bad}"


def test_no_module_silences_warnings_or_bars_process_wide():
    for module in LIB.rglob("*.py"):
        text = module.read_text()
        for needle in (
            "warnings.filterwarnings",
            "warnings.simplefilter",
            "disable_progress_bar()\n",
            "logging.disable(",
            "set_verbosity_error",
        ):
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
    path = records.write(
        tmp_path / "run",
        "01_geometry_table",
        ["F0"],
        {"seeds": (0, 1)},
        {"x": float("nan"), "y": [1.5]},
        {"p": 1},
        checks,
        comparable=False,
        comparable_reason="a subset",
    )
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


def test_a_training_run_keeps_its_name_across_versions_of_the_engine():
    """Finished runs are reused by name: the name of a run with the same parameters must not change when the
    engine's code is reorganised (this is the pocket run of SimCSE's defaults from pocket-bert, named so since its
    first training on the mirror)."""
    import os

    from lib.book import training_runs

    if not os.environ.get("SRL_DATA_DIR"):
        pytest.skip("the name includes the data mirror's identity")
    params = dict(scale="pocket", model="pocket-bert", seed=0, pooling="cls", lr=3e-5, dropout=0.1, max_steps=250)
    assert training_runs.run_dir("simcse", params).name == "simcse-pocket-0fb5ee4a5653"


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
        assert findings.for_chapter(chapter) or chapter in findings.SUPPORT, (
            f"{chapter} names no finding in the registry and is not a supporting chapter there"
        )
    assert list(findings.FINDINGS) == [f"F{i}" for i in range(14)]


def test_the_intro_shows_the_generated_table_only():
    intro = (REPO_ROOT / "book" / "intro.md").read_text()
    assert "_findings.md" in intro and "| F1 |" not in intro  # no hand-kept copy of the registry
    table = findings.table_markdown()
    assert all(f"| {fid} | {f.claim} |" in table for fid, f in findings.FINDINGS.items())


def test_the_registry_says_what_the_paper_reports_without_internal_labels():
    import re

    for f in findings.FINDINGS.values():
        assert f.paper, f"{f.id} has no `paper` text"
        text = f"{f.claim} {f.expected} {f.paper}"
        assert not re.search(r"\bR[234]\b|\bbrief\b|\bBRIEF\b|device_session", text), f"{f.id}: {text}"
        assert re.search(r"the paper|the authors|SimCSE \(Gao et al\. 2021\)|Ethayarajh", f.paper), (
            f"{f.id} does not name its source as a reader knows it: {f.paper}"
        )
    assert "76.85" in findings.FINDINGS["F13"].paper and "76.25" in findings.FINDINGS["F13"].paper
    assert "0.48" in findings.FINDINGS["F1"].paper and "0.01–0.02" in findings.FINDINGS["F1"].paper


def test_the_findings_table_links_chapter_titles_and_shows_verdicts():
    table = findings.table_markdown(verdicts={"F1": "<b>not</b>"}, titles={"03_plm_vs_cl": "PLM vs CL"})
    row = next(line for line in table.splitlines() if line.startswith("| F1 |"))
    assert row.endswith("| <b>not</b> | [PLM vs CL](03_plm_vs_cl.ipynb) |")
    assert "our verdict" in table.splitlines()[0] and "our verdict" not in findings.table_markdown()


# --------------------------------------------------------------------------------------------- scorecard
def _doc(chapter="01_geometry_table", fids=("F0",), checks=(), comparable=True, why=None):
    prov = {
        "scale": "pocket",
        "models": [{"name": "all-MiniLM-L6-v2"}],
        "git": {"commit": "abc123def4567"},
        "wall_time_s": 12.0,
    }
    metrics = {"headlines": {"F0": "within 0.0004", "F1": "A: PLM 0.13 → CL 0.02"}}
    if why:
        metrics["why"] = why
    return {
        "chapter": chapter,
        "findings": list(fids),
        "comparable": comparable,
        "comparable_reason": "" if comparable else "another model",
        "params": {},
        "metrics": metrics,
        "checks": list(checks),
        "provenance": prov,
    }


NAMES = {"01_geometry_table": "The authors' table", "03_plm_vs_cl": "PLM vs CL"}


def test_scorecard_verdicts_group_checks_by_finding_across_files():
    ok, bad = records.within("F0", "a", 0.955, 0.955, 0.002), records.within("F0", "b", 0.95, 0.903, 0.002)
    f1_ok = records.below("F1", "A falls", 0.02, 0.1)
    runs = [_doc(checks=[ok]), _doc("03_plm_vs_cl", ("F1", "F0"), [f1_ok, bad])]
    assert scorecard.verdict("F0", runs)[0] == "partly"
    assert scorecard.verdict("F1", runs)[0] == "reproduced"
    assert scorecard.verdict("F2", runs)[0] == "not yet run"
    assert scorecard.verdict("F0", [_doc(checks=[bad])])[0] == "not"
    assert scorecard.verdict("F0", [_doc(comparable=False)])[0] == "not comparable"
    page = scorecard.render(runs, NAMES)
    row = next(line for line in page.splitlines() if line.startswith("| **F0**"))
    assert "within 0.0004; within 0.0004" in row and scorecard.badge("partly") in row
    assert "[The authors' table](01_geometry_table.ipynb)" in row
    assert findings.FINDINGS["F0"].paper in row  # the paper's side beside ours
    rows = [line for line in page.splitlines() if line.startswith("| **F")]
    assert len(rows) == 14 and sum(scorecard.badge("not yet run") in r for r in rows) == 12
    assert "1/2 checks hold" in page and "<details>" in page and "</details>" in page
    assert "✓ 0/0" not in scorecard.render([_doc(comparable=False)], NAMES)


def test_scorecard_tally_and_summary_are_generated():
    ok, bad = records.within("F0", "a", 0.955, 0.955, 0.002), records.below("F1", "A falls", 0.5, 0.1)
    runs = [_doc(checks=[ok]), _doc("03_plm_vs_cl", ("F1",), [bad], why={"F1": "the run moved A by 0.001"})]
    assert scorecard.tally(runs) == {
        "reproduced": 1,
        "partly": 0,
        "not": 1,
        "untestable": 0,
        "not comparable": 0,
        "not yet run": 12,
    }
    page = scorecard.render(runs, NAMES)
    head = page.split(":::{container} srl-scorecard")[0]
    assert '<div class="srl-tally">' in head and "14 findings" in head
    assert "1 reproduces (F0), 1 does not (F1) and 12 have no published run yet" in head
    assert "**F1**: the run moved A by 0.001" in head  # metrics["why"], shown where the result differs
    assert "Why: the run moved A by 0.001" in page  # and in the finding's details


def test_scorecard_shows_a_verdict_per_variant_and_counts_untestable_apart():
    checks = [
        records.below("F1", "A falls", 0.02, 0.1, variant="avg"),
        records.below("F1", "A falls", 0.3, 0.1, variant="cls"),
        records.untestable("F2", "IntraSim jumps", "the run moved IntraSim by 0.0003", variant="cls"),
    ]
    runs = [_doc("03_plm_vs_cl", ("F1", "F2"), checks)]
    assert scorecard.verdict("F1", runs)[0] == "partly"
    assert scorecard.variant_verdicts(scorecard.verdict("F1", runs)[2]) == [("avg", "reproduced"), ("cls", "not")]
    assert scorecard.verdict_text("F1", runs) == "partly (avg: reproduced; cls: not)"
    assert scorecard.verdict("F2", runs)[0] == "untestable"
    assert scorecard.tally(runs)["untestable"] == 1 and scorecard.tally(runs)["not"] == 0
    page = scorecard.render(runs, NAMES)
    row = next(line for line in page.splitlines() if line.startswith("| **F1**"))
    assert 'avg:</span> <span class="verdict verdict-reproduced">' in row
    assert 'cls:</span> <span class="verdict verdict-not">' in row
    assert "F1 (avg: reproduced; cls: not)" in page
    assert "untestable (cls: IntraSim jumps): the run moved IntraSim by 0.0003" in page  # the reason
    assert "| variant | claim |" in page and "the run moved IntraSim by 0.0003 |" in page


def test_scorecard_reads_old_checks_without_verdict_or_variant():
    old = {k: v for k, v in records.within("F0", "a", 0.955, 0.955, 0.002).items() if k not in ("verdict", "variant")}
    failed = dict(old, passed=False)
    assert scorecard.check_verdict(old) == "holds" and scorecard.check_verdict(failed) == "fails"
    assert scorecard.verdict("F0", [_doc(checks=[old, failed])])[0] == "partly"
    assert scorecard.variant_verdicts([old, failed]) == []


def test_verdict_labels_read_without_colour():
    for word in records.VERDICTS:
        label = scorecard.badge(word)
        assert f'class="verdict verdict-{word.replace(" ", "-")}"' in label
        assert word in label and scorecard.SYMBOLS[word] in label
    css = (REPO_ROOT / "book" / "_static" / "srl.css").read_text()
    assert all(f".verdict-{w.replace(' ', '-')}" in css for w in records.VERDICTS)
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert "srl.css" in config["sphinx"]["config"]["html_css_files"]


def test_scorecard_reads_the_published_runs():
    runs = scorecard.collect()
    assert [d["chapter"] for d in runs] == [
        c.stem for c in chapters.all_chapters() if (chapters.PUBLISHED / c.stem / "results.json").exists()
    ]
    assert scorecard.verdict("F0", runs)[0] == "reproduced"


def test_the_committed_pages_regenerate_identically_from_the_committed_results():
    """book/scorecard.md and book/_findings.md are generated (make book rewrites them); the committed copies must
    be exactly what the registry and the published results.json files give."""
    from lib.book import pages

    for path, text in pages.render_all().items():
        assert path.read_text() == text, f"{path.name}: run `python -m lib.book.pages`"
    assert set(pages.render_all()) == {pages.SCORECARD, pages.FINDINGS_TABLE}


# --------------------------------------------------------------------------------------------- tables
def test_numbers_are_printed_as_a_reader_wants_them():
    from lib.book.tables import fmt

    assert [fmt(x) for x in (0.9550, 0.001000, 1e-5, 18.8182, 250.0, 0, None, float("nan"), 76.85)] == [
        "0.955",
        "0.001",
        "1e-5",
        "18.82",
        "250",
        "0",
        "—",
        "—",
        "76.85",
    ]
    assert fmt(-0.0004705) == "-4.705e-4" and fmt(0.0078) == "0.0078" and fmt(1234567.0) == "1.235e6"
    assert fmt(0.002824, sign=True) == "+0.002824" and fmt(-0.026, sign=True) == "-0.026"
    assert fmt(0.95502, digits=3) == "0.955" and fmt(5) == "5"


def test_tables_show_formats_columns_hides_a_plain_index_and_transposes_wide_tables():
    import pandas as pd

    from lib.book import tables

    df = pd.DataFrame({"model": ["PLM", "CL"], "STSB": [76.851, 54.4], "tol": [1e-5, 0.002], "a": [0.955, 0.9031]})
    html = tables.style(df, formats={"STSB": 2}, caption="Spearman ×100").to_html()
    assert ">76.85<" in html and ">54.40<" in html and ">1e-5<" in html and ">0.955<" in html
    assert 'class="srl-table"' in html and "<caption>Spearman ×100</caption>" in html
    assert "row_heading" not in html  # a 0..n-1 index means nothing: hidden
    assert 'class="data row0 col0 text"' in html and 'class="data row0 col1 num"' in html
    wide = pd.DataFrame([[0.1] * 9, [0.2] * 9], index=["τ = 0.01", "τ = 1"], columns=[f"c{i}" for i in range(9)])
    styled = tables.style(wide, transpose_if_wider_than=7)
    assert styled.data.shape == (9, 2) and list(styled.data.columns) == ["τ = 0.01", "τ = 1"]
    assert tables.style(wide, transpose_if_wider_than=9).data.shape == (2, 9)
    assert "row_heading" in tables.style(wide).to_html()  # a named index is kept


def test_the_provenance_table_is_a_compact_key_value_table():
    from lib.book import tables

    styled = tables.provenance(chapters.PUBLISHED / "01_geometry_table" / "results.json", "pocket", data="x")
    assert list(styled.data.columns) == ["value"] and styled.data.loc["data", "value"] == "x"
    html = styled.to_html()
    assert 'class="srl-table srl-kv"' in html and "col_heading" not in html


# --------------------------------------------------------------------------------------------- charts
def _steps(series=("batch 128", "batch 16", "batch 32", "batch 64"), metrics=("A", "norm", "IntraSim", "STS")):
    import pandas as pd

    return pd.DataFrame(
        [
            dict(setting=s, step=st, metric=m, value=i + st / 1000, layer=6)
            for i, s in enumerate(series)
            for st in (0, 10, 100, 250)
            for m in metrics
        ]
    )


def _specs(spec, key):
    """Every value of ``key`` anywhere in a Vega-Lite spec."""
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == key:
                yield v
            yield from _specs(v, key)
    elif isinstance(spec, list):
        for v in spec:
            yield from _specs(v, key)


def _datasets(spec) -> list[list[dict]]:
    return list(spec.get("datasets", {}).values())


def test_chart_grids_have_no_wrapped_facets_and_fill_their_rows():
    from lib.book import charts

    assert [vega.fit_columns(n) for n in (1, 2, 3, 4, 6, 8, 9, 10)] == [1, 2, 3, 2, 3, 3, 3, 3]
    spec = charts.over_steps(_steps(), "t", series="setting").to_dict()
    assert "facet" not in spec and not list(_specs({k: v for k, v in spec.items() if k != "config"}, "columns"))
    assert [len(row["hconcat"]) for row in spec["vconcat"]] == [2, 2]
    titles = [t["text"] for t in _specs(spec, "title") if isinstance(t, dict) and "text" in t]
    assert set(titles) >= {"A", "norm", "IntraSim", "STS"}


def test_ordered_settings_get_a_sequential_scale_in_numeric_order():
    from lib.book import charts

    assert vega.numeric_order(["batch 128", "batch 16", "batch 32"]) == ["batch 16", "batch 32", "batch 128"]
    assert vega.numeric_order(["τ = 1", "τ = 0.001", "τ = 0.05"]) == ["τ = 0.001", "τ = 0.05", "τ = 1"]
    assert vega.numeric_order(["cls", "avg"]) is None
    spec = charts.over_steps(_steps(), "t", series="setting").to_dict()
    color = next(c for c in _specs(spec, "color") if isinstance(c, dict) and c.get("field") == "setting")
    assert color["type"] == "ordinal" and color["sort"] == ["batch 16", "batch 32", "batch 64", "batch 128"]
    assert color["scale"]["scheme"]["name"] == "viridis"
    pooling = charts.over_steps(_steps(series=("cls", "avg", "avg_top2")), "t", series="setting").to_dict()
    color = next(c for c in _specs(pooling, "color") if isinstance(c, dict) and c.get("field") == "setting")
    assert color["type"] == "nominal" and color["sort"] == ["cls", "avg", "avg_top2"]


def test_the_step_axis_ends_at_the_last_step_with_readable_log_ticks():
    from lib.book import charts

    assert vega.log_ticks(1, 250) == [1, 10, 100, 250]
    assert vega.log_ticks(1, 1000) == [1, 10, 100, 1000]
    assert vega.log_ticks(1, 1500) == [1, 10, 100, 1000]  # 1500 would collide with 1000
    spec = charts.over_steps(_steps(), "t", series="setting").to_dict()
    x = next(v for v in _specs(spec, "x") if isinstance(v, dict) and v.get("field") == "step_plot")
    assert x["scale"]["domain"] == [1, 250] and x["scale"]["type"] == "log" and x["axis"]["values"][-1] == 250
    linear = charts.over_steps(_steps(), "t", series="setting", log_x=False).to_dict()
    x = next(v for v in _specs(linear, "x") if isinstance(v, dict) and v.get("field") == "step_plot")
    assert x["scale"]["domain"] == [0, 250]


def test_per_layer_models_can_show_the_difference_under_each_metric():
    import pandas as pd

    from lib.book import charts

    shift = {"A": 0.001, "norm": -0.5, "IntraSim": 0.02}
    long = pd.DataFrame(
        [
            dict(model=m, metric=k, layer=l, value=l * 0.1 + (shift[k] if m == "CL" else 0))
            for m in ("PLM", "CL", "MiniLM")
            for k in shift
            for l in range(4)
        ]
    )
    plain = charts.per_layer_models(long, "t").to_dict()
    assert "facet" not in plain and len(plain["hconcat"]) == 3
    spec = charts.per_layer_models(long, "t", delta=("CL", "PLM")).to_dict()
    deltas = [d for d in _datasets(spec) if d and "delta" in d[0]]
    assert sorted(round(d[0]["delta"], 9) for d in deltas) == [-0.5, 0.001, 0.02]
    with pytest.raises(ValueError, match="delta"):
        charts.per_layer_models(long, "t", delta=("CL", "nope"))


def test_bars_are_horizontal_with_a_legend_and_labelled_reference_marks():
    import pandas as pd

    from lib.book import charts

    df = pd.DataFrame(
        [dict(model=m, task=t, value=v) for m, v in (("PLM", 40.0), ("CL", 56.0)) for t in ("STSB", "avg")]
    )
    spec = charts.bars(
        df,
        "value",
        "model",
        "t",
        group="task",
        reference={"STSB": 76.85, "avg": 76.25},
        reference_label="SimCSE (Gao et al. 2021), Table 5",
    ).to_dict()
    assert spec["title"]["subtitle"] == "black marks: SimCSE (Gao et al. 2021), Table 5"
    marks = [m if isinstance(m, str) else m["type"] for m in _specs(spec, "mark")]
    assert "bar" in marks and "tick" in marks
    bar = next(layer for layer in spec["layer"] if layer["mark"] in ("bar", {"type": "bar"}))
    assert bar["encoding"]["x"]["type"] == "quantitative" and bar["encoding"]["y"]["field"] == "task"
    assert bar["encoding"]["color"]["legend"] is not None
    single = charts.bars(
        df[df.task == "avg"], "value", "model", "t", reference=76.25, reference_label="SimCSE"
    ).to_dict()
    labels = [v for v in _datasets(single) if v and "label" in v[0]]
    assert labels and labels[0][0]["label"] == "SimCSE: 76.25"


def test_seed_spread_and_scatter_fit_their_axes_to_the_data():
    import numpy as np
    import pandas as pd

    from lib.book import charts

    per_seed = pd.DataFrame([dict(layer=l, seed=s, anisotropy=0.1 * l + 0.001 * s) for l in range(3) for s in range(5)])
    released = pd.DataFrame([dict(layer=l, anisotropy=0.1 * l) for l in range(3)])
    spec = charts.seed_spread(per_seed, released, "t").to_dict()
    seeds = next(v for v in _datasets(spec) if v and "seed" in v[0])
    assert max(r["anisotropy"] for r in seeds) < 0.01  # drawn relative to the released value
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.uniform(1, 100, 200), "y": np.r_[rng.normal(0, 0.01, 199), 5.0]})
    spec = charts.scatter(df, "x", "y", "t").to_dict()
    assert "1 of 200 points" in spec["title"]["subtitle"]
    y = next(v for v in _specs(spec, "y") if isinstance(v, dict) and v.get("field") == "_y")
    assert y["scale"]["domain"][1] < 0.1


# --------------------------------------------------------------------------------------------- literate
def test_literate_shows_the_library_source_with_a_relative_path_and_line_numbers():
    import inspect

    from lib.book import literate
    from lib.science import geometry, simcse

    src = literate.source(simcse.contrastive_loss)
    lines, start = inspect.getsourcelines(simcse.contrastive_loss)
    assert src.path == "lib/science/simcse.py" and (src.first, src.last) == (start, start + len(lines) - 1)
    assert src.code == "".join(lines).rstrip("\n") and '"""' in src.code
    text = literate.markdown(simcse.contrastive_loss, caption="Eq. 1")
    assert text.startswith(f"*Eq. 1* — `lib/science/simcse.py`, lines {src.first}–{src.last}: `contrastive_loss`")
    assert "```python\ndef contrastive_loss(" in text and str(REPO_ROOT) not in text
    bare = literate.source(simcse.contrastive_loss, docstring=False)
    assert '"""' not in bare.code and bare.docstring_removed and "docstring omitted" in bare.caption
    method = literate.source(geometry.Geometry, part="per_layer")
    assert method.code.startswith("def per_layer(") and method.qualname == "Geometry.per_layer"
    assert inspect.getsourcelines(geometry.Geometry.per_layer)[1] == method.first
    assert literate.source("lib.science.geometry.mean_pairwise_cosine").code.startswith("def mean_pairwise_cosine")
    with pytest.raises(ValueError, match="no part named"):
        literate.source(geometry.Geometry, part="nope")
    shown = literate.listing(simcse.contrastive_loss)
    assert shown.data == literate.markdown(simcse.contrastive_loss)


# --------------------------------------------------------------------------------------------- declarations
def test_a_pair_chapter_checks_every_simcse_run_before_any_compute():
    from lib.book import parameters

    good = dict(
        parameters.declaration("03_plm_vs_cl").defaults(),
        scale="smoke",
        plm="tiny-random-bert",
        extra_models=[],
        device="cpu",
    )
    configs = parameters.simcse_configs(parameters.check("03_plm_vs_cl", good))
    assert sorted(configs) == [("avg", 0), ("avg", 1), ("avg", 2), ("cls", 0), ("cls", 1), ("cls", 2)]
    assert configs["avg", 1].model == "tiny-random-bert" and configs["avg", 1].seed == 1
    assert configs["avg", 1].max_steps == 20  # the training config's smoke preset, declared there once
    for bad, needle in [
        (dict(extra_models="all-MiniLM-L6-v2"), "`extra_models` = 'all-MiniLM-L6-v2'"),
        (dict(train_seeds=[-1]), "`train_seeds`"),
        (dict(poolings=["max"]), "`poolings`"),
        (dict(simcse={"temperature": -1.0}), "`temperature` = -1.0"),
        (dict(simcse={"tau": 0.1}), "`tau` = 0.1 .* no such parameter"),
        (dict(seeds=[0]), "`seeds`"),
        (dict(nope=1), "`nope` = 1 .* no such parameter"),
    ]:
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
            assert cell.source == parameters.cell_source(chapter.stem), (
                f"{path.name}: run `python -m lib.book.parameters --write`"
            )
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
    files = {
        "book/01.ipynb": "{}",
        "book/results/01/results.json": "{}",
        "book/scorecard.md": "#",
        "book/01.py": "# source",
        "lib/a.py": "x = 1",
    }
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
