"""The book layer: parameter errors, files, results.json and its checks, run identity, the findings registry,
the scorecard, and the two layers of lib/ kept apart."""

import ast
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from lib.book import chapters, findings, identity, results, scorecard, vega
from lib.science import files
from lib.science import params as P
from lib.science.provenance import REPO_ROOT
from tests.helpers import spec_values

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
    doc = dict(
        chapter="01_geometry_table",
        findings=["F0"],
        comparable=False,
        comparable_reason="a subset",
        params={"seeds": (0, 1)},
        metrics={"x": float("nan"), "y": [1.5]},
        checks=[results.within("F0", "c", 1.001, 1.0, 0.002)],
        provenance={"p": 1},
    )
    back = results.read(results.write(tmp_path / "run", doc))
    assert back["metrics"] == {"x": None, "y": [1.5]} and back["params"] == {"seeds": [0, 1]}
    assert back["checks"][0]["passed"] and back["checks"][0]["difference"] == pytest.approx(0.001)
    assert back["comparable"] is False and back["comparable_reason"] == "a subset"
    with pytest.raises(ValueError, match="unknown finding"):
        results.within("F99", "c", 1, 1, 0)
    stray = dict(doc, checks=[results.direction("F1", "c", [1, 2, 3], 1, variant="cls")])
    with pytest.raises(ValueError, match="does not declare"):
        results.write(tmp_path / "x", stray)


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
    from lib.book import pairs, parameters, training_runs
    from lib.science import data, training
    from tests.helpers import REFERENCE_MIRROR

    if data.mirror_identity() != REFERENCE_MIRROR:
        pytest.skip(
            "the name includes the data mirror's identity: needs the mirror the pages were computed on "
            f"({REFERENCE_MIRROR}; set SRL_DATA_DIR to it), and the tests read {data.mirror_identity()} (the fixture "
            "and mirrors built from the hub give runs other names)"
        )
    params = dict(scale="pocket", model="pocket-bert", seed=0, pooling="cls", lr=3e-5, dropout=0.1, max_steps=250)
    assert training_runs.run_dir(training.resolve("simcse", params)).name == "simcse-pocket-0fb5ee4a5653"
    # the full-budget runs of chapters 3-6 (per pooling, seeds 0-2) and chapter 5's literal schedule
    plans = pairs.plans(parameters.declaration("03_plm_vs_cl").defaults())
    assert [training_runs.run_dir(p.full).name[-12:] for p in plans] == [
        "9f7514a68f89", "ffce1e3cb7b6", "636339c9ab84", "0d875faba16e", "91cbde250edd", "cb95cf3b9644"
    ]  # fmt: skip
    assert [training_runs.run_dir(p.short).name[-12:] for p in plans][0] == "0fb5ee4a5653"
    schedule = training.schedule("pocket", "literal")
    literal = [training.resolve("simcse", dict(scale="pocket", pooling=p, seed=0, **schedule)) for p in ("cls", "avg")]
    assert [training_runs.run_dir(c).name[-12:] for c in literal] == ["0128aa213fe3", "fb4fc1bdad0c"]


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
def _doc(chapter="01_geometry_table", fids=("F0",), checks=(), scale="pocket", shows=None):
    prov = {"scale": scale, "models": [{"name": "all-MiniLM-L6-v2"}], "git": {"commit": "abc123def4567"}}
    return {
        "chapter": chapter,
        "findings": list(fids),
        "comparable": scale != "smoke",
        "comparable_reason": "",
        "params": {},
        "metrics": {"shows": shows or {}},
        "checks": list(checks),
        "provenance": prov,
    }


NAMES = {"01_geometry_table": "The authors' table", "03_plm_vs_cl": "PLM vs CL", "07_temperature": "τ"}
DOWN, UP = [-0.1, -0.11, -0.12], [0.1, 0.11, 0.12]


def _claim(fid, values, sign, variant="cls", checkpoint="end", **kw):
    primary = kw.pop("primary", (variant, checkpoint) == ("cls", "end"))
    return results.direction(fid, f"{fid} effect", values, sign, variant=variant, checkpoint=checkpoint,
                             primary=primary, **kw)  # fmt: skip


def test_the_scorecard_headline_is_the_default_setting_and_shows_every_other_setting_apart():
    checks = [
        _claim("F1", UP, -1),  # cls · end: A rises, against the paper
        _claim("F1", DOWN, -1, variant="avg"),  # avg · end: A falls
        _claim("F1", DOWN, -1, variant="control", role="null control"),
        results.size("F1", "CL's A", [0.05] * 3, 0.02, "<=", variant="cls", checkpoint="end", primary=True),
    ]
    runs = [_doc("03_plm_vs_cl", ("F1", "F2"), checks)]
    v = scorecard.verdict("F1", runs)
    assert v["word"] == "contradicted" and v["size"] == "not reached"
    assert v["settings"] == {"avg · end": "supported"} and v["robust"] is False and v["control"] == "supported"
    page = scorecard.render(runs, NAMES)
    row = next(line for line in page.splitlines() if line.startswith("| **F1**"))
    assert scorecard.badge("contradicted") in row and "avg · end: supported" in row  # never merged into one word
    assert scorecard.badge("not reached") in row and findings.FINDINGS["F1"].paper in row
    assert "[chapter 3](03_plm_vs_cl.ipynb)" in row and "null control: supported" in row
    assert scorecard.tally(runs)["contradicted"] == 1 and scorecard.tally(runs)["not yet run"] == 9
    assert "F1 contradicted there" in page and "<details>" in page


def test_the_null_control_takes_away_the_evidence_of_a_change_it_shows_too():
    checks = [_claim("F2", UP, +1), _claim("F2", UP, +1, variant="control", role="null control")]
    v = scorecard.verdict("F2", [_doc("03_plm_vs_cl", ("F1", "F2"), checks)])
    assert v["word"] == "supported" and v["evidence"] is False
    assert "no evidence" in scorecard.control_text(v)


def test_exploratory_and_agreement_findings_are_counted_apart_and_smoke_runs_not_at_all():
    ok, bad = results.within("F0", "a", 0.955, 0.955, 0.002), results.within("F0", "b", 0.95, 0.903, 0.002)
    explore = dict(results.effect("F10", "τ = 0.01 − default", [67.0], baseline=[65.0, 65.5, 66.0]))
    runs = [_doc(checks=[ok]), _doc("07_temperature", ("F10",), [explore], shows={"F10": "τ = 0.01 peaks"})]
    assert scorecard.verdict("F0", runs)["word"] == "reproduced"
    assert scorecard.verdict("F0", [_doc(checks=[ok, bad])])["word"] == "not reproduced"
    assert scorecard.verdict("F10", runs)["word"] == "exploratory" and explore["exploratory"]
    assert sum(scorecard.tally(runs).values()) == len(findings.FINDINGS) - 4  # F0 and F10-F12 counted apart
    page = scorecard.render(runs, NAMES)
    assert "| **F10** Temperature changes the dynamics | τ = 0.01 peaks |" in page
    smoke = [_doc("03_plm_vs_cl", ("F1",), [_claim("F1", DOWN, -1)], scale="smoke")]
    assert scorecard.verdict("F1", smoke)["word"] == "not yet run"


def test_verdict_labels_read_without_colour():
    for word in scorecard.SYMBOLS:
        label = scorecard.badge(word)
        assert f'class="verdict verdict-{word.replace(" ", "-")}"' in label
        assert word in label and scorecard.SYMBOLS[word] in label
    css = (REPO_ROOT / "book" / "_static" / "srl.css").read_text()
    assert all(f".verdict-{w.replace(' ', '-')}" in css for w in scorecard.SYMBOLS)
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert "srl.css" in config["sphinx"]["config"]["html_css_files"]


def test_scorecard_reads_the_published_runs():
    runs = scorecard.published_runs()
    assert [d["chapter"] for d in runs] == [
        c.stem for c in chapters.all_chapters() if (chapters.PUBLISHED / c.stem / "results.json").exists()
    ]
    assert scorecard.verdict("F0", runs)["word"] == "reproduced"


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
    assert ">76.85<" in html and ">54.40<" in html and ">0.00001<" in html and ">0.00200<" in html
    assert ">0.9550<" in html and ">0.9031<" in html  # one decimal count per column
    assert 'class="srl-table"' in html and "<caption>Spearman ×100</caption>" in html
    assert "row_heading" not in html  # a 0..n-1 index means nothing: hidden
    assert 'class="data row0 col0 text"' in html and 'class="data row0 col1 num"' in html
    wide = pd.DataFrame([[0.1] * 9, [0.2] * 9], index=["τ = 0.01", "τ = 1"], columns=[f"c{i}" for i in range(9)])
    styled = tables.style(wide, transpose_if_wider_than=7)
    assert styled.data.shape == (9, 2) and list(styled.data.columns) == ["τ = 0.01", "τ = 1"]
    assert tables.style(wide, transpose_if_wider_than=9).data.shape == (2, 9)
    tall = pd.DataFrame([[0.1] * 9] * 12, index=[f"model {i}" for i in range(12)], columns=[f"c{i}" for i in range(9)])
    assert tables.style(tall, transpose_if_wider_than=6).data.shape == (12, 9)  # swapping would only widen it
    assert "row_heading" in tables.style(wide).to_html()  # a named index is kept


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_a_column_is_written_with_one_decimal_count():
    import pandas as pd

    from lib.book import tables

    # the book's own mixed columns, before: "0.955 / 0.9031 / 0.004808", "2.582e-4 beside 0.001815", "67 beside 66.53"
    for column, expected in (
        ([0.955, 0.9031, 0.004808], ["0.9550", "0.9031", "0.0048"]),
        ([2.582e-4, 0.001815], ["0.000258", "0.001815"]),
        ([67.0, 66.53], ["67.00", "66.53"]),
        ([250.0, 1000.0], ["250", "1000"]),
    ):
        written = tables.format_column(column)
        assert written == expected and len({_decimals(t) for t in written}) == 1
    assert tables.format_column([0.0012, -3e-5, None, "n/a"], sign=True) == ["+0.00120", "-0.00003", "—", "n/a"]
    assert tables.format_column([1e-7, 2.5e-7]) == ["1e-7", "2.5e-7"]  # beyond 6 decimals: scientific
    # a transposed table's column holds different quantities: each number keeps its own significant digits
    assert tables.format_column([0.0012, 1.02, 16000.0]) == ["0.0012", "1.02", "16000"]
    frame = tables.style(pd.DataFrame({"x": [0.955, 0.9031, 0.004808], "d": [0.01, -0.2, 0.0]}), formats={"d": "+"})
    assert list(frame.data["x"]) == ["0.9550", "0.9031", "0.0048"] and list(frame.data["d"]) == [
        "+0.01",
        "-0.20",
        "0.00",
    ]
    # mean ± sd: the mean to the sd's last digit ("18.785 ± 0.000" said nothing)
    assert tables.mean_sd(18.78512, 0.00031) == "18.78512 ± 0.00031"
    assert tables.mean_sd(76.2, 1.26) == "76.2 ± 1.3" and tables.mean_sd(0.5, 0.0) == "0.5 ± 0"


def test_short_row_and_column_labels_do_not_wrap():
    import pandas as pd

    from lib.book import tables

    wide = pd.DataFrame([[0.1, 0.2]], index=["best STS-B dev"], columns=["batch 16", "a label longer than that"])
    html = tables.style(wide).to_html()
    kept = {m.split("_", 2)[2] for m in re.findall(r"#(T_\w+) \{\s*white-space: nowrap;", html)}
    assert kept == {"level0_row0", "level0_col0"}, html  # "best STS-B dev" and "batch 16"; the long header wraps


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


def _datasets(spec) -> list[list[dict]]:
    return list(spec.get("datasets", {}).values())


def test_chart_grids_have_no_wrapped_facets_and_fill_their_rows():
    from lib.book import charts

    assert [vega.fit_columns(n) for n in (1, 2, 3, 4, 6, 8, 9, 10)] == [1, 2, 3, 2, 3, 3, 3, 3]
    spec = charts.over_steps(_steps(), "t", series="setting").to_dict()
    assert "facet" not in spec and not list(spec_values({k: v for k, v in spec.items() if k != "config"}, "columns"))
    assert [len(row["hconcat"]) for row in spec["vconcat"]] == [2, 2]
    titles = [t["text"] for t in spec_values(spec, "title") if isinstance(t, dict) and "text" in t]
    assert set(titles) >= {"A", "norm", "IntraSim", "STS"}


def test_ordered_settings_get_a_sequential_scale_in_numeric_order():
    from lib.book import charts

    assert vega.numeric_order(["batch 128", "batch 16", "batch 32"]) == ["batch 16", "batch 32", "batch 128"]
    assert vega.numeric_order(["τ = 1", "τ = 0.001", "τ = 0.05"]) == ["τ = 0.001", "τ = 0.05", "τ = 1"]
    assert vega.numeric_order(["cls", "avg"]) is None
    spec = charts.over_steps(_steps(), "t", series="setting").to_dict()
    color = next(c for c in spec_values(spec, "color") if isinstance(c, dict) and c.get("field") == "setting")
    assert color["type"] == "ordinal" and color["sort"] == ["batch 16", "batch 32", "batch 64", "batch 128"]
    assert color["scale"]["range"] == vega.ordered_colours(4)
    pooling = charts.over_steps(_steps(series=("cls", "avg", "avg_top2")), "t", series="setting").to_dict()
    color = next(c for c in spec_values(pooling, "color") if isinstance(c, dict) and c.get("field") == "setting")
    assert color["type"] == "nominal" and color["sort"] == ["cls", "avg", "avg_top2"]


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour."""

    def linear(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(hex_colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _delta_e(a: str, b: str) -> float:
    return sum((x - y) ** 2 for x, y in zip(_lab(a), _lab(b))) ** 0.5


def test_neighbouring_ordered_settings_can_be_told_apart():
    # chapter 7's five temperatures were two greens apart under viridis; every n a chapter uses, up to 8
    for n in range(2, 9):
        colours = vega.ordered_colours(n)
        gaps = [_delta_e(a, b) for a, b in zip(colours, colours[1:])]
        assert min(gaps) >= 18, (n, colours, gaps)
        assert all(_lab(c)[0] < 80 for c in colours), colours  # the light end still reads on white
    tau = vega.ordered_colours(5)
    assert _delta_e(tau[2], tau[3]) >= 25  # τ = 0.05 beside τ = 0.1


def _colour_of(spec: dict, field: str, label: str) -> str:
    color = next(c for c in spec_values(spec, "color") if isinstance(c, dict) and c.get("field") == field)
    return color["scale"]["range"][color["scale"]["domain"].index(label)]


def test_a_model_or_pooling_has_one_colour_in_every_chart():
    import pandas as pd

    from lib.book import charts

    four = pd.DataFrame(
        [dict(model=m, metric="A", layer=l, value=l) for m in ("PLM", "all-MiniLM-L6-v2", "avg", "cls") for l in (0, 1)]
    )
    two = four[four.model.isin(["avg", "cls"])]
    a, b = charts.per_layer_models(four, "t").to_dict(), charts.per_layer_models(two, "t").to_dict()
    assert _colour_of(a, "model", "cls") == _colour_of(b, "model", "cls") == vega.SERIES_COLOURS["cls"]
    assert _colour_of(a, "model", "avg") == _colour_of(b, "model", "avg") == vega.SERIES_COLOURS["avg"]
    pooling = charts.over_steps(_steps(series=("avg", "cls_before_pooler", "cls")), "t", series="setting").to_dict()
    assert _colour_of(pooling, "setting", "cls") == vega.SERIES_COLOURS["cls"]
    bars = charts.bars(
        pd.DataFrame({"model": ["PLM · cls", "SimCSE · cls (mean of 3)"], "v": [1.0, 2.0]}), "v", "model", "t"
    )
    assert _colour_of(bars.to_dict(), "model", "SimCSE · cls (mean of 3)") == vega.SERIES_COLOURS["cls"]
    assert _colour_of(bars.to_dict(), "model", "PLM · cls") == vega.PLM_COLOUR  # the model named first decides
    # the seeds of one pooling: shades of its colour, all distinct; an unknown label takes a colour no model has
    shades = vega.colours_for(["cls · seed 0", "cls · seed 1", "cls · seed 2", "MiniLM"])
    assert len(set(shades)) == 4 and vega.SERIES_COLOURS["cls"] in shades[:3]
    assert shades[3] not in vega.SERIES_COLOURS.values()
    hue = [_lab(c) for c in shades[:3]]
    assert all(abs(h[2] - hue[1][2]) < 40 for h in hue)  # still blue (b* < 0), lighter or darker


def _band_rows(spec: dict) -> list[dict]:
    return next(d for d in _datasets(spec) if d and "lo" in d[0])


def test_averages_over_training_seeds_carry_their_spread_as_a_band():
    import pandas as pd

    from lib.book import charts

    per_seed = pd.DataFrame(
        [
            dict(model=m, seed=s, metric="A", layer=l, value=l + 0.1 * s)
            for m in ("cls", "avg")
            for s in (0, 1, 2)
            for l in (0, 1)
        ]
    )
    spec = charts.per_layer_models(per_seed, "t", seed="seed").to_dict()
    marks = [m if isinstance(m, str) else m["type"] for m in spec_values(spec, "mark")]
    assert "area" in marks and "line" in marks
    row = next(r for r in _band_rows(spec) if r["model"] == "cls" and r["layer"] == 1)
    assert (row["value"], row["lo"], row["hi"], row["seeds"]) == (pytest.approx(1.1), 1.0, 1.2, 3)
    area = next(unit for layers in spec_values(spec, "layer") for unit in layers if unit["mark"]["type"] == "area")
    assert area["encoding"]["y"]["field"] == "lo" and area["encoding"]["y2"]["field"] == "hi"
    assert area["encoding"]["color"]["field"] == "model"  # the band in its line's colour
    # chapter 5's labels "cls · seed 1": the seed is read from the label, one line per pooling
    steps = _steps(series=("cls · seed 0", "cls · seed 1", "avg · seed 0", "avg · seed 1"))
    spec = charts.over_steps(steps, "t", series="setting", seed="seed").to_dict()
    assert {r["setting"] for r in _band_rows(spec)} == {"cls", "avg"}
    plain = charts.over_steps(steps, "t", series="setting").to_dict()
    assert "area" not in [m if isinstance(m, str) else m["type"] for m in spec_values(plain, "mark")]


def test_a_quantity_that_barely_moves_is_drawn_as_its_change():
    import pandas as pd

    from lib.book import charts

    rows = [
        dict(series=s, step=st, layer=6, metric=m, value=v + st * k)
        for s in ("cls", "avg")
        for st in (0, 10, 250)
        for m, v, k in (("mean token norm", 18.78, 0.06 / 250), ("anisotropy A", 0.6, -0.001))
    ]
    spec = charts.over_steps(pd.DataFrame(rows), "t").to_dict()
    titles = [t["text"] for t in spec_values(spec, "title") if isinstance(t, dict) and "text" in t]
    assert "mean token norm (% change from step 0)" in titles and "anisotropy A" in titles
    norm = next(d for d in _datasets(spec) if d and d[0]["metric"] == "mean token norm")
    last = next(r for r in norm if r["step"] == 250 and r["series"] == "cls")
    assert last["value"] == pytest.approx(0.06 / 18.78 * 100) and last["raw"] == pytest.approx(18.84)
    kept = charts.over_steps(pd.DataFrame(rows), "t", relative=False).to_dict()
    assert "mean token norm" in [t["text"] for t in spec_values(kept, "title") if isinstance(t, dict) and "text" in t]
    assert vega.barely_moves([18.785, 18.84]) and not vega.barely_moves([0.02, 0.03])


def test_the_step_axis_ends_at_the_last_step_with_readable_log_ticks():
    from lib.book import charts

    assert vega.log_ticks(1, 250) == [1, 10, 100, 250]
    assert vega.log_ticks(1, 1000) == [1, 10, 100, 1000]
    assert vega.log_ticks(1, 1500) == [1, 10, 100, 1000]  # 1500 would collide with 1000
    spec = charts.over_steps(_steps(), "t", series="setting").to_dict()
    x = next(v for v in spec_values(spec, "x") if isinstance(v, dict) and v.get("field") == "step_plot")
    assert x["scale"]["domain"] == [1, 250] and x["scale"]["type"] == "log" and x["axis"]["values"][-1] == 250
    linear = charts.over_steps(_steps(), "t", series="setting", log_x=False).to_dict()
    x = next(v for v in spec_values(linear, "x") if isinstance(v, dict) and v.get("field") == "step_plot")
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
    marks = [m if isinstance(m, str) else m["type"] for m in spec_values(spec, "mark")]
    assert "bar" in marks and "tick" in marks
    bar = next(layer for layer in spec["layer"] if layer["mark"] in ("bar", {"type": "bar"}))
    assert bar["encoding"]["x"]["type"] == "quantitative" and bar["encoding"]["y"]["field"] == "task"
    assert bar["encoding"]["color"]["legend"] is not None
    single = charts.bars(
        df[df.task == "avg"], "value", "model", "t", reference=76.25, reference_label="SimCSE"
    ).to_dict()
    labels = [v for v in _datasets(single) if v and "label" in v[0]]
    assert labels and labels[0][0]["label"] == "SimCSE: 76.25"


def test_a_bar_label_is_never_struck_through_by_a_reference_mark():
    import pandas as pd

    from lib.book import charts

    df = pd.DataFrame({"model": ["PLM", "cls", "avg"], "value": [40.0, 75.9, 80.0]})
    spec = charts.bars(df, "value", "model", "t", reference=76.25).to_dict()
    at = {r["model"]: r["_label_x"] for r in next(d for d in _datasets(spec) if d and "_label_x" in d[0])}
    # the mark at 76.25 falls where 75.9's label would be written: that label moves past the mark
    assert at == {"PLM": 40.0, "cls": 76.25, "avg": 80.0}
    text = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "text" and "text" in layer["encoding"])
    assert text["encoding"]["x"]["field"] == "_label_x" and text["mark"]["align"] == "left"


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
    y = next(v for v in spec_values(spec, "y") if isinstance(v, dict) and v.get("field") == "_y")
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
    from lib.book import plan

    configs = plan.check("03_plm_vs_cl", good)
    assert [(c.pooling, c.seed, c.max_steps) for c in configs][:4] == [("cls", 0, 20), ("cls", 0, 40), ("cls", 1, 20),
                                                                         ("cls", 1, 40)]  # fmt: skip
    assert len(configs) == 12 and configs[3].model == "tiny-random-bert" and configs[3].lr == 3e-4
    for bad, needle in [
        (dict(extra_models="all-MiniLM-L6-v2"), "`extra_models` = 'all-MiniLM-L6-v2'"),
        (dict(train_seeds=[-1]), "`train_seeds`"),
        (dict(train_seeds=[]), "`train_seeds`"),
        (dict(poolings=["max"]), "`poolings`"),
        (dict(simcse={"temperature": -1.0}), "`temperature` = -1.0"),
        (dict(simcse={"lr": "abc"}), "`lr` = 'abc'"),
        (dict(simcse={"tau": 0.1}), "`tau` = 0.1 .* no such parameter"),
        (dict(seeds=[0]), "`seeds`"),
        (dict(nope=1), "`nope` = 1 .* no such parameter"),
    ]:
        with pytest.raises(P.ParameterError, match=needle):
            plan.check("03_plm_vs_cl", dict(good, **bad))
    # a finished contrastive model is given: no SimCSE run is planned
    assert plan.check("03_plm_vs_cl", dict(good, cl="tiny-random-bert")) == []


def test_every_parameters_cell_is_generated_from_its_declaration():
    import jupytext

    from lib.book import chapters, parameters

    for chapter in chapters.all_chapters():
        for path in (chapter.source, chapter.notebook_path):
            cell = chapters.parameters_cell(jupytext.read(path))
            assert cell.source == chapters.cell_source(chapter.stem), (
                f"{path.name}: run `python -m lib.book.chapters --write-cells`"
            )
    assert set(parameters.CHAPTERS) == {c.stem for c in chapters.all_chapters()}


def test_no_import_cycle_in_lib_and_no_module_over_450_lines():
    """Imports at module level and inside functions (TYPE_CHECKING blocks aside) form no cycle among lib's
    modules, and every module stays short enough to read."""
    graph = {}
    for path in LIB.rglob("*.py"):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        graph[module] = _lib_imports(path, module)
        assert len(path.read_text().splitlines()) <= 450, f"{path.relative_to(REPO_ROOT)} is over 450 lines"
    seen, stack = set(), []

    def visit(m):
        if m in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(m) :] + [m]))
        if m in seen:
            return
        stack.append(m)
        for n in graph.get(m, ()):
            visit(n)
        stack.pop()
        seen.add(m)

    for m in graph:
        visit(m)


def _is_module(name: str) -> bool:
    path = LIB.parent / name.replace(".", "/")
    return name.startswith("lib") and (path.with_suffix(".py").exists() or (path / "__init__.py").exists())


def _lib_imports(path: Path, module: str) -> set[str]:
    """The lib modules a module imports (absolute names), module level or inside functions."""
    tree = ast.parse(path.read_text())
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = package[: len(package) - node.level + 1] if node.level else []
            root = ".".join(base + ([node.module] if node.module else []))
            submodules = [f"{root}.{a.name}" for a in node.names if _is_module(f"{root}.{a.name}")]
            # `from pkg import module` imports the module; `from module import name` (or `from pkg import name`
            # defined in its __init__) imports the module it names
            names = submodules if len(submodules) == len(node.names) else [root, *submodules]
        out |= {n for n in names if _is_module(n)}
    out.discard(module)
    return out


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
