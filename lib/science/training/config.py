"""Training parameters, declared once: each with its default, its allowed values and its help, per objective.

    cfg = resolve("simcse", {"scale": "pocket", "lr": 1e-4})   # defaults, then the scale's preset, then these
    cfg.lr, cfg.as_dict()                                      # typed fields; the dict is what train.json records

Everything else derives from these declarations: the checks (:func:`check`), the presets (``PRESETS``, per scale),
``python -m lib.train simcse --list``, the run identity (the resolved dict, :mod:`lib.book.identity`) and the chapters'
SimCSE knobs. Adding a SimCSE parameter is one line in :class:`SimCSEConfig`.

``max_steps = 0`` means one epoch over the training sentences (SimCSE's ``num_train_epochs 1``); the smoke and
pocket presets set their length explicitly.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields
from typing import ClassVar

from .. import devices
from .. import params as P
from ..params import ParameterError, declare
from ..pooling import POOLINGS


def _snapshot_steps(name, value):
    if value in ("log", "none") or (
        isinstance(value, list) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
    ):
        return value
    raise ParameterError(name, value, "expected 'log', 'none' or a list of steps, e.g. [0, 50, 500]")


def _device(name, value):
    devices.resolve_device(value)
    return value


@dataclass
class TrainConfig:
    """What both objectives share."""

    OBJECTIVE: ClassVar[str] = ""
    PRESETS: ClassVar[dict] = {}
    # scale -> pooling -> what that pooling's schedule changes over the scale's preset (SimCSE's pocket schedule is
    # chosen per pooling on STS-B dev: lib/book/selection.py, chapter 2)
    POOLING_PRESETS: ClassVar[dict] = {}

    scale: str = declare("pocket", "the preset applied first: smoke, pocket or paper", choices=P.SCALES)
    model: str = declare("", "the model to start from", nonempty=True)
    seed: int = declare(0, "every random choice (data order, dropout, masking) derives from it", minimum=0)
    max_steps: int = declare(0, "optimisation steps; 0: one epoch over the training sentences", minimum=0)
    batch_size: int = declare(64, "sentences per step (per process under torchrun)", minimum=2)
    lr: float = declare(3e-5, "peak learning rate (AdamW), then linear decay to 0", above=0, maximum=1)
    max_len: int = declare(32, "tokens per sentence (truncated)", minimum=4, maximum=4096)
    eval_steps: int = declare(25, "evaluate STS-B dev every this many steps", minimum=1)
    data_dir: str = declare("", "the local data mirror ('' : $SRL_DATA_DIR, else the hub)")
    device: str = declare("auto", "auto, cpu, cuda or cuda:N", check=_device)
    precision: str = declare("auto", "auto (fp16 on CUDA, fp32 on CPU), fp32, bf16 or fp16", choices=devices.PRECISIONS)
    warmup: float = declare(0.0, "share of the steps with a linear warm-up", minimum=0, maximum=1)
    weight_decay: float = declare(0.0, "AdamW weight decay (not on biases and LayerNorms)", minimum=0)
    grad_clip: float = declare(1.0, "gradient norm clipping (0: none)", minimum=0)
    dropout: float = declare(0.1, "dropout of the encoder while training", minimum=0, maximum=0.9)
    n_sentences: int = declare(0, "training sentences (0: the whole corpus)", minimum=0)
    checkpoint_steps: int = declare(100, "save a resumable checkpoint every this many steps", minimum=1)
    snapshot_steps: object = declare(
        "log",
        "geometry snapshots: 'log' (0, 10, 25, 50, 100, 250, ...), 'none' or a list of steps",
        check=_snapshot_steps,
    )
    snapshot_sentences: int = declare(0, "analysis sentences for snapshots (0: all of STS-B test sentence1)", minimum=0)
    eval_pairs: int = declare(0, "STS-B dev pairs evaluated (0: all)", minimum=0)
    stop_step: int = declare(
        0, "stop after this many steps of the max_steps schedule, a prefix of a longer run (0: run it all)", minimum=0
    )

    def as_dict(self) -> dict:
        return asdict(self)

    def check(self) -> TrainConfig:
        """Every parameter's type and range, with errors that name it (before any compute)."""
        for f in fields(self):
            default = f.default if f.default is not MISSING else f.default_factory()
            P.check_declared(f.name, default, getattr(self, f.name), f.metadata.get("rules", {}))
        devices.resolve_precision(self.precision, devices.resolve_device(self.device))
        if self.stop_step and self.max_steps and self.stop_step > self.max_steps:
            raise ParameterError("stop_step", self.stop_step, f"at most max_steps ({self.max_steps}), or 0")
        return self


@dataclass
class SimCSEConfig(TrainConfig):
    """Unsupervised SimCSE (Gao et al., 2021) with its defaults for BERT-base (``run_unsup_example.sh``)."""

    OBJECTIVE: ClassVar[str] = "simcse"
    # chosen on STS-B dev by lib/book/selection.py (chapter 2): mean pooling's best setting doubles the dropout
    POOLING_PRESETS: ClassVar[dict] = {"pocket": {"avg": dict(dropout=0.2)}}
    PRESETS: ClassVar[dict] = {
        "smoke": dict(
            model="tiny-random-bert",
            max_steps=20,
            batch_size=8,
            lr=1e-4,
            eval_steps=10,
            n_sentences=2000,
            checkpoint_steps=10,
            snapshot_sentences=100,
            eval_pairs=200,
            precision="fp32",
        ),
        # a CPU: the pocket BERT, SimCSE's unsupervised defaults, bf16 matrix products, a short schedule
        "pocket": dict(model="pocket-bert", max_steps=250, precision="bf16"),
        # a GPU: SimCSE's run_unsup_example.sh for bert-base-uncased (fp16, eval every 125 steps, one epoch)
        "paper": dict(model="bert-base-uncased", eval_steps=125, checkpoint_steps=1000, precision="auto"),
    }

    # Named schedules over a scale's preset. "full" spends SimCSE's budget -- the summed learning rate of 3e-5
    # decaying linearly over one wiki1m epoch (15,625 steps of 64): Σ lr ≈ 0.234, which bounds how far Adam can move a
    # weight -- in a tenth of the steps (3e-4 over 1,563); STS-B dev every 25 steps (SimCSE's every 125-250, in
    # budget). "literal" is the first 1,500 steps of SimCSE's own schedule: its step 10k has spent the Σ lr of the
    # full run's step k, so the two compare paths at equal budget (snapshots at matching steps).
    SCHEDULES: ClassVar[dict] = {
        "smoke": {
            "full": dict(max_steps=40, lr=3e-4, eval_steps=2, snapshot_steps=[0, 2, 4, 10, 20, 40]),
            "literal": dict(max_steps=400, stop_step=40, lr=3e-5, eval_steps=20, snapshot_steps=[0, 20, 40]),
        },
        "pocket": {
            "full": dict(
                lr=3e-4, max_steps=1563, eval_steps=25, snapshot_steps=[0, 10, 25, 50, 100, 150, 250, 500, 1000, 1563]
            ),
            "literal": dict(
                lr=3e-5, max_steps=15625, stop_step=1500, eval_steps=250, snapshot_steps=[0, 100, 250, 500, 1000, 1500]
            ),
        },
        "paper": {"full": {}},  # the preset is SimCSE's epoch
    }

    model: str = declare("pocket-bert", "the pre-trained encoder SimCSE starts from", nonempty=True)
    temperature: float = declare(0.05, "the softmax temperature of the contrastive loss", above=0)
    pooling: str = declare(
        "cls",
        "sentence vector: cls (with an MLP at train time only), cls_before_pooler, avg, avg_first_last or avg_top2",
        choices=POOLINGS,
    )


def _model_or_shape(name, value):
    from .. import models
    from ..mlm import parse_shape

    P.text(name, value, allow_empty=False)
    if parse_shape(value) is None:
        models.resolve(value)  # not a shape: a model to continue pre-training from
    return value


@dataclass
class MLMConfig(TrainConfig):
    """Masked-language-model pre-training (BERT's recipe, the loss only at the selected positions)."""

    OBJECTIVE: ClassVar[str] = "mlm"
    PRESETS: ClassVar[dict] = {
        "smoke": dict(
            model="L2-H32-A2-I64",
            max_steps=30,
            batch_size=16,
            max_len=32,
            eval_steps=10,
            n_sentences=3000,
            heldout=300,
            checkpoint_steps=10,
            eval_pairs=200,
            precision="fp32",
        ),
        # the recipe that made models/pocket-bert (about 5 minutes on an H100; about 15 hours on 2 CPU cores)
        "pocket": dict(max_steps=7000),
        "paper": dict(
            model="L12-H768-A12-I3072",
            max_steps=100000,
            batch_size=256,
            lr=1e-4,
            max_len=128,
            warmup=0.01,
            eval_steps=10000,
            checkpoint_steps=5000,
            dropout=0.1,
            adam_beta2=0.999,
        ),
    }

    model: str = declare(
        "L6-H384-A12-I1536",
        "a shape LAYERS-HIDDEN-HEADS-INTERMEDIATE to start from random weights, or a model to continue from",
        check=_model_or_shape,
    )
    batch_size: int = declare(1024, "sentences per step (per process under torchrun)", minimum=2)
    lr: float = declare(
        1e-3, "peak learning rate (AdamW), after the warm-up, then linear decay to 0", above=0, maximum=1
    )
    max_len: int = declare(64, "tokens per sentence (truncated)", minimum=4, maximum=4096)
    eval_steps: int = declare(1000, "evaluate (held-out MLM, STS-B dev) every this many steps", minimum=1)
    precision: str = declare("bf16", "auto, fp32, bf16 or fp16", choices=devices.PRECISIONS)
    warmup: float = declare(0.06, "share of the steps with a linear warm-up", minimum=0, maximum=1)
    weight_decay: float = declare(0.01, "AdamW weight decay (not on biases and LayerNorms)", minimum=0)
    dropout: float = declare(0.0, "dropout while pre-training", minimum=0, maximum=0.9)
    checkpoint_steps: int = declare(1000, "save a resumable checkpoint every this many steps", minimum=1)
    snapshot_steps: object = declare(
        "none", "geometry snapshots: 'log', 'none' or a list of steps", check=_snapshot_steps
    )
    save_dropout: float = declare(
        0.1, "the dropout written into the saved config (for SimCSE after it)", minimum=0, maximum=0.9
    )
    mask_prob: float = declare(0.15, "share of the real tokens selected for the MLM loss", above=0, maximum=1)
    heldout: int = declare(5000, "the last sentences of the corpus, never trained on, for held-out accuracy", minimum=1)
    adam_beta2: float = declare(0.98, "AdamW's beta2", above=0, maximum=0.99999)


CONFIGS = {c.OBJECTIVE: c for c in (MLMConfig, SimCSEConfig)}
OBJECTIVES = tuple(CONFIGS)


def resolve(objective: str, overrides: dict | None = None) -> TrainConfig:
    """The run's configuration: the declared defaults, then the scale's preset, then ``overrides``; checked."""
    P.choice("objective", objective, OBJECTIVES)
    cls = CONFIGS[objective]
    overrides = dict(overrides or {})
    scale = P.scale(overrides.get("scale", cls.scale))
    defaults = {f.name: getattr(cls(), f.name) for f in fields(cls)}
    values = dict(defaults, **cls.PRESETS.get(scale, {}))
    pooling = overrides.get("pooling", values.get("pooling"))
    values.update(cls.POOLING_PRESETS.get(scale, {}).get(pooling, {}))
    for name, value in overrides.items():
        if name not in defaults:
            raise ParameterError(
                name, value, f"{objective} training has no such parameter; it has " + ", ".join(defaults)
            )
        if name == "snapshot_steps" and isinstance(value, str) and value.strip().startswith("["):
            try:  # a list typed on the command line: "[0, 50, 500]"
                value = json.loads(value)
            except ValueError:
                pass
        values[name] = value if name == "snapshot_steps" else P.coerce(name, defaults[name], value)
    return cls(**values).check()


def schedule(scale: str, name: str) -> dict:
    """The overrides of SimCSE's named schedule ``name`` at ``scale``: ``short`` is the scale's preset itself,
    ``full`` and ``literal`` are :attr:`SimCSEConfig.SCHEDULES`."""
    P.scale(scale)
    known = {"short": {}, **SimCSEConfig.SCHEDULES.get(scale, {})}
    if name not in known:
        raise ParameterError("schedule", name, f"at {scale} scale one of " + ", ".join(known))
    return dict(known[name])


def describe(objective: str) -> list[tuple[str, object, str]]:
    """``(name, default, help)`` of every parameter of ``objective`` (``--list``)."""
    cls = CONFIGS[objective]
    return [(f.name, getattr(cls(), f.name), f.metadata.get("help", "")) for f in fields(cls)]
