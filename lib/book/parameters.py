"""Every chapter's parameters, declared once: name, default, help, the rules that check it, and the presets of
each scale.

A chapter's papermill ``parameters`` cell is *generated* from its declaration (``python -m lib.book.parameters
--write`` rewrites the cells; a test checks that they match), so the cell is never a second source. Everything
else reads the declaration: the checks a chapter makes in its first cell (:func:`collect`), ``python -m lib.run
--list``, the presets of ``--scale``, the run identity and the sweeps.

SimCSE's own parameters are declared once too, in :class:`lib.science.training.SimCSEConfig`: a chapter that
trains contrastive models takes a ``simcse`` dict of overrides (empty: the scale's preset), set from the command
line as ``-p simcse.temperature=0.1``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..science import params as P
from ..science.params import ParameterError


@dataclass(frozen=True)
class Param:
    default: Any
    help: str
    rules: dict = field(default_factory=dict)
    kind: str = ""  # "model" (a model name: identified by its weights), "models", "path", "simcse"

    def check(self, name: str, value: Any) -> Any:
        value = P.coerce(name, self.default, value)
        return P.check_declared(name, self.default, value, self.rules)


@dataclass(frozen=True)
class Declaration:
    params: dict[str, Param]
    scales: dict[str, dict]
    ci_scale: str

    def defaults(self) -> dict:
        import copy

        return {name: copy.deepcopy(p.default) for name, p in self.params.items()}


# --------------------------------------------------------------------------------------------- rules
def _seeds(minimum_count: int):
    return lambda name, value: P.seeds(name, value, minimum_count=minimum_count)


def _names(name, value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ParameterError(name, value, "expected a list of names, e.g. ['all-MiniLM-L6-v2']")
    return value


def _poolings(name, value):
    from ..science.pooling import POOLINGS

    _names(name, value)
    for v in value:
        P.choice(name, v, POOLINGS)
    if not value or len(set(value)) != len(value):
        raise ParameterError(name, value, "expected distinct poolings, e.g. ['cls', 'avg']")
    return value


def _simcse(name, value):
    if not isinstance(value, dict):
        raise ParameterError(name, value, "expected a dict of SimCSE parameters, e.g. {'lr': 1e-4} (-p simcse.lr=1e-4)")
    return value


def _device(name, value):
    from ..science import devices

    devices.resolve_device(value)
    return value


def _model(name, value):
    from ..science import models

    P.text(name, value, allow_empty=False)
    models.resolve(value)
    return value


def _optional_model(name, value):
    return _model(name, value) if value else value


# --------------------------------------------------------------------------------------------- declarations
def common() -> dict[str, Param]:
    return dict(
        device=Param("auto", "auto | cpu | cuda | cuda:N", dict(check=_device)),
        data_dir=Param("", "the data mirror (empty: $SRL_DATA_DIR, else the Hugging Face hub)", kind="path"),
        out_dir=Param("", "where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)",
                      kind="path"),
        scale=Param("pocket", "smoke | pocket | paper: which scale produced this page", dict(choices=P.SCALES)),
    )


def contrastive(cl_help: str = "a finished contrastive model (empty: SimCSE from `plm`, per pooling and "
                                   "training seed, trained once and reused)") -> dict[str, Param]:
    """What the chapters comparing a PLM with its SimCSE runs share."""
    return dict(
        plm=Param("pocket-bert", "the pre-trained encoder", dict(check=_model), kind="model"),
        cl=Param("", cl_help, dict(check=_optional_model), kind="model"),
        poolings=Param(["cls", "avg"], "SimCSE runs per pooling: cls is SimCSE's default, avg the pooling of the "
                       "contrastive models the paper analysed", dict(check=_poolings)),
        train_seeds=Param([0, 1, 2], "one SimCSE run per seed and pooling: the noise behind every margin",
                          dict(check=_seeds(1))),
        simcse=Param({}, "SimCSE parameters over the scale's preset, e.g. {'lr': 1e-4} (lib.science.training)",
                     dict(check=_simcse), kind="simcse"),
    )


def geometry(seeds: int = 5) -> dict[str, Param]:
    return dict(
        seeds=Param(list(range(seeds)), "one anisotropy (and IsoScore) sample per seed", dict(check=_seeds(2))),
        n_samples=Param(1000, "sentences drawn per anisotropy sample", dict(minimum=2)),
        max_sentences=Param(0, "analysis sentences: the first of STS-B test sentence1 (0: all)", dict(minimum=0)),
    )


SMOKE_PAIR = dict(plm="tiny-random-bert", max_sentences=200, n_samples=100, seeds=[0, 1, 2])
PAPER_PAIR = dict(plm="bert-base-uncased", cl="princeton-nlp/unsup-simcse-bert-base-uncased", poolings=["cls"])


def ablation(values: list, help: str) -> dict[str, Param]:
    return dict(
        plm=Param("pocket-bert", "SimCSE starts from this model", dict(check=_model), kind="model"),
        values=Param(values, help),
        simcse=Param({}, "the other SimCSE parameters, over the scale's preset (lib.science.training)",
                     dict(check=_simcse), kind="simcse"),
        train_seeds=Param([0, 1, 2], "seeds of the default setting: the seed noise behind every margin",
                          dict(check=_seeds(1))),
        run_missing=Param(True, "train the settings that have no finished run (False: show the finished ones)"),
    )


CHAPTERS: dict[str, Declaration] = {
    "01_geometry_table": Declaration(
        dict(model=Param("all-MiniLM-L6-v2", "short name, hub id or local folder (lib.science.models)",
                         dict(check=_model), kind="model"),
             seeds=Param([0, 1, 2, 3, 4], "one anisotropy sample per seed", dict(check=_seeds(1))),
             dataset=Param("stsb", "stsb | sts12..sts16 | sickr | wiki"),
             split=Param("test", "the split of the dataset"),
             column=Param("sentence1", "the column of sentences"),
             max_sentences=Param(0, "0: all sentences of the split", dict(minimum=0)),
             n_samples=Param(1000, "sentences drawn per anisotropy sample", dict(minimum=2)),
             batch_size=Param(64, "sentences per encoding batch", dict(minimum=1)),
             pad_in_vocab=Param(True, "quirk of the released code: the pad id enters the self-similarity "
                                "vocabulary"),
             special_in_vocab=Param(True, "[CLS]/[SEP] (<s>/</s>) are in it too"),
             rogue=Param("mean_vector", "mean_vector | per_token: how rogue-dimension shares are aggregated",
                         dict(choices=("mean_vector", "per_token"))),
             **common()),
        scales=dict(smoke=dict(model="tiny-random-bert", max_sentences=200, n_samples=100, seeds=[0, 1, 2]),
                    pocket={}, paper=dict(model="sentence-transformers/all-MiniLM-L6-v2")),
        ci_scale="pocket"),
    "02_pocket_plm": Declaration(
        dict(source=Param("committed", "committed | train | none: the committed pocket PLM, a fresh one, or "
                          "`plm` as given", dict(choices=("committed", "train", "none"))),
             plm=Param("pocket-bert", "the PLM analysed when source is committed or none", dict(check=_model),
                       kind="model"),
             compare=Param("all-MiniLM-L6-v2", "a contrastive model for the geometry comparison",
                           dict(check=_model), kind="model"),
             grid_lrs=Param([3e-5, 1e-4, 3e-4], "the SimCSE schedule grid: learning rates"),
             grid_dropouts=Param([0.1, 0.2], "the SimCSE schedule grid: dropout (the augmentation's strength)"),
             grid_steps=Param([250, 1000], "the SimCSE schedule grid: stage 1 length, then stage 2 length"),
             grid_keep=Param(2, "settings per pooling carried from stage 1 to stage 2", dict(minimum=1)),
             simcse=Param({}, "other SimCSE parameters of the grid's runs, over the scale's preset",
                          dict(check=_simcse), kind="simcse"),
             run_missing=Param(True, "train the grid's missing runs (False: show the finished ones)"),
             **geometry(3), **common()),
        scales=dict(smoke=dict(source="train", compare="tiny-random-mpnet", max_sentences=200, n_samples=100,
                               seeds=[0, 1], grid_lrs=[1e-4], grid_dropouts=[0.1], grid_steps=[6, 12],
                               grid_keep=1),
                    pocket={}, paper=dict(source="none", plm="bert-base-uncased")),
        ci_scale="smoke"),
    "03_plm_vs_cl": Declaration(
        dict(**contrastive(), extra_models=Param(["all-MiniLM-L6-v2"], "contrastive models at scale, for context",
                                                 dict(check=_names), kind="models"),
             **geometry(5), **common()),
        scales=dict(smoke=dict(SMOKE_PAIR, extra_models=[]), pocket={},
                    paper=dict(PAPER_PAIR, extra_models=["sentence-transformers/all-MiniLM-L6-v2"])),
        ci_scale="smoke"),
    "04_contextualization": Declaration(
        dict(**contrastive(), extra_models=Param(["all-MiniLM-L6-v2"], "contrastive models at scale, for context",
                                                 dict(check=_names), kind="models"),
             stopwords=Param("sklearn", "sklearn | stop-words: the functional-token list",
                             dict(choices=("sklearn", "stop-words"))),
             alt_stopwords=Param("stop-words", "the sensitivity check's list", dict(choices=("sklearn", "stop-words"))),
             bootstrap=Param(2000, "bootstrap resamples over token ids", dict(minimum=10)),
             **geometry(5), **common()),
        scales=dict(smoke=dict(SMOKE_PAIR, extra_models=[], bootstrap=200), pocket={},
                    paper=dict(PAPER_PAIR, extra_models=["sentence-transformers/all-mpnet-base-v2"])),
        ci_scale="smoke"),
    "05_learning_dynamics": Declaration(
        dict(plm=Param("pocket-bert", "SimCSE starts from this model", dict(check=_model), kind="model"),
             runs=Param([], "finished training folders (with train.json) to show instead of training from `plm`",
                        dict(check=_names)),
             poolings=contrastive()["poolings"], train_seeds=contrastive()["train_seeds"],
             simcse=contrastive()["simcse"],
             early_share=Param(0.1, "early: the first tenth of the steps", dict(above=0, maximum=1)),
             **common()),
        scales=dict(smoke=dict(plm="tiny-random-bert"), pocket={}, paper=dict(plm="bert-base-uncased")),
        ci_scale="smoke"),
    "06_simcse_anchor": Declaration(
        dict(**contrastive(), extra_models=Param(["all-MiniLM-L6-v2"], "evaluated with mean pooling (how "
                                                 "sentence-transformers uses them)", dict(check=_names),
                                                 kind="models"),
             plm_poolings=Param(["cls", "avg", "avg_first_last"], "the PLM's poolings; the premise is judged "
                                "against its best", dict(check=_poolings)),
             tasks=Param(["STS12", "STS13", "STS14", "STS15", "STS16", "STSB", "SICKR"], "the STS tasks",
                         dict(check=_names)),
             **common()),
        scales=dict(smoke=dict(plm="tiny-random-bert", extra_models=[], tasks=["STSB", "SICKR"]), pocket={},
                    paper=dict(PAPER_PAIR, extra_models=["sentence-transformers/all-MiniLM-L6-v2"])),
        ci_scale="smoke"),
    "07_temperature": Declaration(
        dict(**ablation([0.001, 0.01, 0.05, 0.1, 1.0], "the temperatures"), **common()),
        scales=dict(smoke=dict(plm="tiny-random-bert", values=[0.05, 1.0]), pocket={},
                    paper=dict(plm="bert-base-uncased")),
        ci_scale="smoke"),
    "08_batch_size": Declaration(
        dict(**ablation([16, 32, 64, 128], "the batch sizes (sentences per step)"), **common()),
        scales=dict(smoke=dict(plm="tiny-random-bert", values=[8, 16]), pocket={},
                    paper=dict(plm="bert-base-uncased", values=[64, 128, 256, 512])),
        ci_scale="smoke"),
    "09_pooling": Declaration(
        dict(**ablation(["cls", "cls_before_pooler", "avg", "avg_first_last", "avg_top2"], "the poolings"),
             **common()),
        scales=dict(smoke=dict(plm="tiny-random-bert", values=["cls", "avg"]), pocket={},
                    paper=dict(plm="bert-base-uncased")),
        ci_scale="smoke"),
}

MODEL_KINDS = ("model", "models")


def declaration(chapter: str, notebook=None) -> Declaration:
    """The book chapter's declaration; a chapter outside the book (a user's own notebook, a test's) declares its
    parameters in its parameters cell (defaults only) and its presets in its ``srl`` metadata."""
    if chapter in CHAPTERS:
        return CHAPTERS[chapter]
    if notebook is None:
        raise ParameterError("chapter", chapter, "expected one of " + ", ".join(CHAPTERS))
    import ast

    out = {}
    for node in ast.parse(parameters_cell(notebook).source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0] if isinstance(
            node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(target, ast.Name):
            out[target.id] = Param(ast.literal_eval(node.value), "", kind="path" if target.id.endswith("_dir")
                                   else "")
    meta = notebook.metadata.get("srl", {})
    scales = meta.get("scales", {out.get("scale", Param("smoke", "")).default: {}})
    return Declaration(out, scales, meta.get("ci_scale", next(iter(scales))))


def model_params(chapter: str) -> list[str]:
    """The parameters that name models (identified by their weights in a run's name); none outside the book."""
    if chapter not in CHAPTERS:
        return []
    return [n for n, p in declaration(chapter).params.items() if p.kind in MODEL_KINDS]


# --------------------------------------------------------------------------------------------- checking
def check(chapter: str, values: dict, full: bool = True, notebook=None) -> dict:
    """Check names and types (and, with ``full``, every rule: ranges, model names, SimCSE overrides) of a
    chapter's parameters; returns them with ints coerced where floats are declared."""
    decl = declaration(chapter, notebook)
    out = {}
    for name, value in values.items():
        if name not in decl.params:
            raise ParameterError(name, value, "this chapter has no such parameter; it has " + ", ".join(decl.params))
        p = decl.params[name]
        out[name] = p.check(name, value) if full else P.coerce(name, p.default, value)
    if full and "simcse" in out:
        simcse_configs(out)  # every SimCSE run the chapter would train, checked before any compute
    return out


def simcse_configs(params: dict) -> dict[tuple[str, int], object]:
    """``{(pooling, seed): SimCSEConfig}`` of the SimCSE runs a pair chapter trains (none when ``cl`` is given)."""
    from ..science import training

    if params.get("cl"):
        return {}
    out = {}
    for pooling in params.get("poolings", ["cls"]):
        for seed in params.get("train_seeds", [0]):
            out[pooling, seed] = training.resolve("simcse", simcse_overrides(params, pooling=pooling, seed=seed))
    return out


def simcse_overrides(params: dict, **knobs) -> dict:
    """The SimCSE run's overrides: the chapter's scale, PLM, data and device, its ``simcse`` dict, ``knobs``."""
    return dict(scale=params["scale"], model=params["plm"], data_dir=params["data_dir"], device=params["device"],
                **params.get("simcse", {}), **knobs)


def collect(chapter: str, namespace: dict) -> dict:
    """The chapter's parameters as the notebook sees them (its globals after the parameters cell and papermill's
    injected one), every rule checked: the first thing a chapter does, before any compute."""
    decl = declaration(chapter)
    return check(chapter, {name: namespace[name] for name in decl.params})


# --------------------------------------------------------------------------------------------- the cells
def _literal(value) -> str:
    """A Python literal as a formatter writes it (double-quoted strings)."""
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def cell_source(chapter: str) -> str:
    """The chapter's ``parameters`` cell, generated from its declaration."""
    lines = []
    for name, p in declaration(chapter).params.items():
        lines.append(f"{name}: {type(p.default).__name__} = {_literal(p.default)}  # {p.help}")
    return "\n".join(lines)


def parameters_cell(nb):
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError("a chapter needs exactly one cell tagged `parameters`")
    return cells[0]


def write_cells(book=None) -> list[str]:
    """Rewrite every chapter's parameters cell (source and paired notebook) from its declaration."""
    import jupytext
    import nbformat

    from .chapters import all_chapters

    changed = []
    for chapter in all_chapters(book):
        for path in (chapter.source, chapter.notebook_path):
            if not path.is_file():
                continue
            nb = jupytext.read(path)
            cell = parameters_cell(nb)
            if cell.source != cell_source(chapter.stem):
                cell.source = cell_source(chapter.stem)
                if path.suffix == ".py":
                    jupytext.write(nb, path, fmt="py:percent")
                else:
                    nbformat.write(nb, str(path))
                changed.append(path.name)
    return changed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--write" in argv:
        print("rewrote:", ", ".join(write_cells()) or "nothing")
        return 0
    for name in CHAPTERS:
        print(f"{name}\n" + "\n".join("    " + line for line in cell_source(name).splitlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
