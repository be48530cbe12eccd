"""Every chapter's parameters, as declarations: name, default, help, the rules that check them, and the presets of
each scale (:data:`CHAPTERS`). :mod:`lib.book.parameters` checks values against them and generates the chapters'
papermill cells from them.
"""

from __future__ import annotations

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
        out_dir=Param(
            "", "where this run writes (empty: runs/<chapter>/<scale>-<hash>, or under $SRL_OUT_DIR)", kind="path"
        ),
        scale=Param("pocket", "smoke | pocket | paper: which scale produced this page", dict(choices=P.SCALES)),
    )


def contrastive(
    cl_help: str = "a finished contrastive model (empty: SimCSE from `plm` per pooling and training seed, with the "
    "scale's schedule and the full budget, trained once and reused)",
) -> dict[str, Param]:
    """What the chapters comparing a PLM with its SimCSE runs share."""
    return dict(
        plm=Param("pocket-bert", "the pre-trained encoder", dict(check=_model), kind="model"),
        cl=Param("", cl_help, dict(check=_optional_model), kind="model"),
        poolings=Param(
            ["cls", "avg"],
            "SimCSE runs per pooling: cls is SimCSE's default, avg the pooling of the "
            "contrastive models the paper analysed",
            dict(check=_poolings),
        ),
        train_seeds=Param(
            [0, 1, 2], "SimCSE runs per seed and pooling: the noise behind every interval", dict(check=_seeds(1))
        ),
        simcse=Param(
            {},
            "SimCSE parameters over both schedules, e.g. {'temperature': 0.1} (lib.science.training)",
            dict(check=_simcse),
            kind="simcse",
        ),
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
        simcse=Param(
            {},
            "the other SimCSE parameters, over the scale's preset (lib.science.training)",
            dict(check=_simcse),
            kind="simcse",
        ),
        train_seeds=Param(
            [0, 1, 2], "seeds of the default setting: the seed noise behind every margin", dict(check=_seeds(1))
        ),
        run_missing=Param(True, "train the settings that have no finished run (False: show the finished ones)"),
    )


CHAPTERS: dict[str, Declaration] = {
    "01_geometry_table": Declaration(
        dict(
            model=Param(
                "all-MiniLM-L6-v2",
                "short name, hub id or local folder (lib.science.models)",
                dict(check=_model),
                kind="model",
            ),
            seeds=Param([0, 1, 2, 3, 4], "one anisotropy sample per seed", dict(check=_seeds(1))),
            dataset=Param("stsb", "stsb | sts12..sts16 | sickr | wiki"),
            split=Param("test", "the split of the dataset"),
            column=Param(
                "sentence1", "the column of sentences: sentence1 | sentence2", dict(choices=("sentence1", "sentence2"))
            ),
            max_sentences=Param(0, "0: all sentences of the split", dict(minimum=0)),
            n_samples=Param(1000, "sentences drawn per anisotropy sample", dict(minimum=2)),
            batch_size=Param(64, "sentences per encoding batch", dict(minimum=1)),
            pad_in_vocab=Param(True, "quirk of the released code: the pad id enters the self-similarity vocabulary"),
            special_in_vocab=Param(True, "[CLS]/[SEP] (<s>/</s>) are in it too"),
            rogue=Param(
                "mean_vector",
                "mean_vector | per_token: how rogue-dimension shares are aggregated",
                dict(choices=("mean_vector", "per_token")),
            ),
            **common(),
        ),
        scales=dict(
            smoke=dict(model="tiny-random-bert", max_sentences=200, n_samples=100, seeds=[0, 1, 2]),
            pocket={},
            paper=dict(model="sentence-transformers/all-MiniLM-L6-v2"),
        ),
        ci_scale="pocket",
    ),
    "02_pocket_plm": Declaration(
        dict(
            source=Param(
                "committed",
                "committed | train | none: the committed pocket PLM, a fresh one, or `plm` as given",
                dict(choices=("committed", "train", "none")),
            ),
            plm=Param(
                "pocket-bert", "the PLM analysed when source is committed or none", dict(check=_model), kind="model"
            ),
            compare=Param(
                "all-MiniLM-L6-v2", "a contrastive model for the geometry comparison", dict(check=_model), kind="model"
            ),
            grid_lrs=Param([3e-5, 1e-4, 3e-4], "the SimCSE schedule grid: learning rates"),
            grid_dropouts=Param([0.1, 0.2], "the SimCSE schedule grid: dropout (the augmentation's strength)"),
            grid_steps=Param(250, "the SimCSE schedule grid: steps per run", dict(minimum=1)),
            simcse=Param(
                {},
                "other SimCSE parameters of the grid's runs, over the scale's preset",
                dict(check=_simcse),
                kind="simcse",
            ),
            run_missing=Param(True, "train the grid's missing runs (False: show the finished ones)"),
            **geometry(3),
            **common(),
        ),
        scales=dict(
            smoke=dict(
                source="train",
                compare="tiny-random-mpnet",
                max_sentences=200,
                n_samples=100,
                seeds=[0, 1],
                grid_lrs=[1e-4],
                grid_dropouts=[0.1],
                grid_steps=6,
            ),
            pocket={},
            paper=dict(source="none", plm="bert-base-uncased"),
        ),
        ci_scale="smoke",
    ),
    "03_plm_vs_cl": Declaration(
        dict(
            **contrastive(),
            extra_models=Param(
                ["all-MiniLM-L6-v2"], "contrastive models at scale, for context", dict(check=_names), kind="models"
            ),
            **geometry(5),
            **common(),
        ),
        scales=dict(
            smoke=dict(SMOKE_PAIR, extra_models=[]),
            pocket={},
            paper=dict(PAPER_PAIR, extra_models=["sentence-transformers/all-MiniLM-L6-v2"]),
        ),
        ci_scale="smoke",
    ),
    "04_contextualization": Declaration(
        dict(
            **contrastive(),
            extra_models=Param(
                ["all-MiniLM-L6-v2"], "contrastive models at scale, for context", dict(check=_names), kind="models"
            ),
            stopwords=Param(
                "sklearn", "sklearn | stop-words: the functional-token list", dict(choices=("sklearn", "stop-words"))
            ),
            alt_stopwords=Param("stop-words", "the sensitivity check's list", dict(choices=("sklearn", "stop-words"))),
            **geometry(5),
            **common(),
        ),
        scales=dict(
            smoke=dict(SMOKE_PAIR, extra_models=[]),
            pocket={},
            paper=dict(PAPER_PAIR, extra_models=["sentence-transformers/all-mpnet-base-v2"]),
        ),
        ci_scale="smoke",
    ),
    "05_learning_dynamics": Declaration(
        dict(
            plm=Param("pocket-bert", "SimCSE starts from this model", dict(check=_model), kind="model"),
            runs=Param(
                [],
                "finished training folders (with train.json) to show instead of training from `plm`",
                dict(check=_names),
            ),
            poolings=contrastive()["poolings"],
            train_seeds=Param(
                [0, 1, 2],
                "full-budget runs per seed and pooling: the noise behind every interval",
                dict(check=_seeds(1)),
            ),
            literal_seeds=Param(
                [0],
                "runs of SimCSE's literal schedule (its first steps) per pooling, for the path comparison",
                dict(check=_seeds(0)),
            ),
            simcse=contrastive()["simcse"],
            early_share=Param(0.1, "early: the first tenth of the steps", dict(above=0, maximum=1)),
            **common(),
        ),
        scales=dict(
            smoke=dict(plm="tiny-random-bert"), pocket={}, paper=dict(plm="bert-base-uncased", literal_seeds=[])
        ),
        ci_scale="smoke",
    ),
    "06_simcse_anchor": Declaration(
        dict(
            **contrastive(),
            extra_models=Param(
                ["all-MiniLM-L6-v2"],
                "evaluated with mean pooling (how sentence-transformers uses them)",
                dict(check=_names),
                kind="models",
            ),
            plm_poolings=Param(
                ["cls", "avg", "avg_first_last"],
                "the PLM's poolings; the premise is judged against its best",
                dict(check=_poolings),
            ),
            tasks=Param(
                ["STS12", "STS13", "STS14", "STS15", "STS16", "STSB", "SICKR"], "the STS tasks", dict(check=_names)
            ),
            **common(),
        ),
        scales=dict(
            smoke=dict(plm="tiny-random-bert", extra_models=[], tasks=["STSB"]),
            pocket={},
            paper=dict(PAPER_PAIR, extra_models=["sentence-transformers/all-MiniLM-L6-v2"]),
        ),
        ci_scale="smoke",
    ),
    "07_temperature": Declaration(
        dict(**ablation([0.001, 0.01, 0.05, 0.1, 1.0], "the temperatures"), **common()),
        scales=dict(
            smoke=dict(plm="tiny-random-bert", values=[0.05, 1.0]), pocket={}, paper=dict(plm="bert-base-uncased")
        ),
        ci_scale="smoke",
    ),
    "08_batch_size": Declaration(
        dict(**ablation([16, 32, 64, 128], "the batch sizes (sentences per step)"), **common()),
        scales=dict(
            smoke=dict(plm="tiny-random-bert", values=[8, 16]),
            pocket={},
            paper=dict(plm="bert-base-uncased", values=[64, 128, 256, 512]),
        ),
        ci_scale="smoke",
    ),
    "09_pooling": Declaration(
        dict(
            # three of the five poolings by default, at two CPU cores' cost; the paper preset has all five
            **ablation(["cls", "cls_before_pooler", "avg"], "the poolings"),
            **common(),
        ),
        scales=dict(
            smoke=dict(plm="tiny-random-bert", values=["cls", "avg"]),
            pocket={},
            paper=dict(
                plm="bert-base-uncased", values=["cls", "cls_before_pooler", "avg", "avg_first_last", "avg_top2"]
            ),
        ),
        ci_scale="smoke",
    ),
}
