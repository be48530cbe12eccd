"""The book's main comparison: one encoder before (PLM) and after unsupervised SimCSE (CL).

With ``cl`` empty, a pair chapter trains SimCSE from its PLM for every pooling and training seed, with two
schedules (:func:`plans`): the scale's preset (``short``, chosen on STS-B dev in chapter 2) and the **full budget**
(``full``: SimCSE's summed learning rate, :attr:`lib.science.training.SimCSEConfig.SCHEDULES`). Every pooling and
seed gives two contrastive models (:func:`contrastive_models`):

- ``end``: the last step of the full-budget run -- what contrastive training does to the token space when it
  spends SimCSE's budget. With ``cls`` (SimCSE's default pooling) it is the primary model of F1-F9;
- ``best``: the checkpoint SimCSE would keep, the best STS-B dev among both runs' evaluations (the page says
  which run it came from).

With ``cl`` given, that one model (``given``). :func:`null_controls` builds the null control of the primary model:
the PLM moved by random noise of the same size, tensor by tensor (:func:`lib.science.movement.null_control`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..science import models, movement, training
from ..science.training import SimCSEConfig
from . import parameters, training_runs

GIVEN = "given"
CONTROL = "control"
PRIMARY = ("cls", "end")
SMOKE_REASON = (
    "smoke scale: a tiny random encoder and a few SimCSE steps say nothing about the paper's claims; "
    "the page only checks that the chapter runs"
)


@dataclass(frozen=True)
class RunPair:
    """The two SimCSE runs of one pooling and training seed."""

    pooling: str
    seed: int
    short: SimCSEConfig
    full: SimCSEConfig


def plans(params: dict) -> list[RunPair]:
    """Every SimCSE run a pair chapter needs, resolved once (in pooling, then seed order); none when ``cl`` is
    given. The chapter's ``simcse`` overrides apply to both schedules, over the schedule's own settings."""
    if params.get("cl"):
        return []
    out = []
    for pooling in params["poolings"]:
        for seed in params["train_seeds"]:
            pair = {
                name: training.resolve(
                    "simcse",
                    parameters.simcse_overrides(
                        params, training.schedule(params["scale"], name), pooling=pooling, seed=seed
                    ),
                )
                for name in ("short", "full")
            }
            out.append(RunPair(pooling, seed, pair["short"], pair["full"]))
    return out


def configs(params: dict) -> list[SimCSEConfig]:
    """The training runs of :func:`plans`, as one list (what ``python -m lib.book.plan`` trains)."""
    return [cfg for p in plans(params) for cfg in (p.short, p.full)]


@dataclass(frozen=True)
class ContrastiveModel:
    """One CL model a pair chapter measures, and where it comes from."""

    pooling: str
    seed: int | None
    checkpoint: str  # "end", "best" or "given"
    spec: models.ModelSpec
    run: str = ""  # the training folder's name
    schedule: str = ""  # "short" or "full": the run it was taken from
    step: int | None = None
    summed_lr: float | None = None  # Σ lr up to its step: how far Adam could have moved it
    stsb_dev: float | None = None
    record: dict | None = field(default=None, repr=False, compare=False)

    @property
    def setting(self) -> str:
        return f"{self.pooling} · {self.checkpoint}"

    @property
    def label(self) -> str:
        return self.setting if self.seed is None else f"{self.setting} · seed {self.seed}"

    @property
    def primary(self) -> bool:
        return (self.pooling, self.checkpoint) == PRIMARY or self.checkpoint == GIVEN

    def describe(self) -> dict:
        """The entry of ``metrics.cl_runs``."""
        return dict(
            pooling=self.pooling,
            seed=self.seed,
            checkpoint=self.checkpoint,
            step=self.step,
            summed_lr=self.summed_lr,
            stsb_dev=self.stsb_dev,
            schedule=self.schedule,
            run=self.run,
            model=self.spec.label,
        )


def summed_lr_to(record: dict, step: int) -> float:
    """Σ lr of a run's schedule up to ``step``."""
    sch = record["schedule"]
    return movement.summed_lr(record["params"]["lr"], sch["max_steps"], sch["warmup_steps"], upto=step)


def contrastive_models(params: dict, progress: bool = True) -> list[ContrastiveModel]:
    """The CL models of a pair chapter, training the missing runs first: per pooling and seed, ``end`` then
    ``best``; or the given ``cl``."""
    if params.get("cl"):
        return [ContrastiveModel(GIVEN, None, GIVEN, models.resolve(params["cl"]))]
    out = []
    for pair in plans(params):
        runs = {name: training_runs.ensure(getattr(pair, name), progress=progress) for name in ("short", "full")}
        folder, record = runs["full"]
        end = record["final"]["step"]
        out.append(
            ContrastiveModel(pair.pooling, pair.seed, "end", models.resolve(str(folder / "last")), folder.name,
                             "full", end, summed_lr_to(record, end), record["final"]["stsb_dev"], record)
        )  # fmt: skip
        name, (folder, record) = max(runs.items(), key=lambda kv: kv[1][1]["best"]["stsb_dev"])
        best = record["best"]
        out.append(
            ContrastiveModel(pair.pooling, pair.seed, "best", models.resolve(str(folder / "best")), folder.name,
                             name, best["step"], summed_lr_to(record, best["step"]), best["stsb_dev"], record)
        )  # fmt: skip
    return out


def settings(cl_models: list[ContrastiveModel]) -> dict[str, list[ContrastiveModel]]:
    """``{setting: models}``, the primary setting first (``cls · end``), then the others in order."""
    out: dict[str, list] = {}
    for m in sorted(cl_models, key=lambda m: not m.primary):
        out.setdefault(m.setting, []).append(m)
    return out


def check_args(setting: str, cl_models: list[ContrastiveModel]) -> dict:
    """The keyword arguments of :func:`lib.book.results.direction` for a setting's checks."""
    if setting.startswith(CONTROL):
        return dict(variant=CONTROL, checkpoint="end", primary=False, role="null control")
    m = next(m for m in cl_models if m.setting == setting)
    return dict(variant=m.pooling, checkpoint=m.checkpoint, primary=m.primary, role="claim")


def null_controls(plm: models.Encoder, moved: dict[int, models.Encoder]) -> dict[int, models.Encoder]:
    """``{seed: encoder}``: the PLM moved by random noise as far as ``moved[seed]`` is from it (perturbation seed =
    training seed)."""
    from ..science.files import state_dict_sha256

    out = {}
    for seed, enc in moved.items():
        model = movement.null_control(plm.model, enc.model, seed).eval()
        spec = models.ModelSpec(
            f"null control · seed {seed}",
            "derived",
            f"{plm.spec.label} moved by random noise as far as {enc.spec.label}, tensor by tensor (seed {seed})",
        )
        out[seed] = models.Encoder(spec, model, plm.tokenizer, plm.device, state_dict_sha256(model))
    return out


def seed_stats(values: dict) -> dict[str, dict]:
    """``{group: {seed: value}}`` -> ``{group: {mean, sd, n, values}}`` (sd over seeds, ddof 1; 0 with one)."""
    out = {}
    for group, by_seed in values.items():
        v = np.array(list(by_seed.values()), dtype=float)
        out[group] = dict(
            mean=float(v.mean()), sd=float(v.std(ddof=1)) if len(v) > 1 else 0.0, n=len(v), values=[float(x) for x in v]
        )
    return out


@dataclass
class Measured:
    """Every model's geometry (``role -> Geometry``) and loaded encoder; roles are ``PLM``, each CL model's label,
    ``control · seed s`` and the extra models' labels."""

    geometry: dict
    encoders: dict
    cl_models: list
    controls: dict  # seed -> role

    def per_layer(self) -> dict[str, list[dict]]:
        return {role: geo.per_layer() for role, geo in self.geometry.items()}

    def group(self, role: str) -> str:
        """The curve a role belongs to: ``PLM``, its setting, ``control``, or the role itself."""
        if role == "PLM":
            return role
        if role in self.controls.values():
            return CONTROL
        return next((m.setting for m in self.cl_models if m.label == role), role)

    def by_setting(self) -> dict[str, list[tuple[int, str]]]:
        """``{setting: [(seed, role)]}``, the primary setting first, then the other CL settings, then the control."""
        out = {s: [(m.seed, m.label) for m in ms] for s, ms in settings(self.cl_models).items()}
        if self.controls:
            out[f"{CONTROL} · end"] = list(self.controls.items())
        return out


def measure(study, cl_models: list[ContrastiveModel], functional=None, controls: bool = True) -> Measured:
    """Chapter 1's protocol on every model: the PLM, each CL model, the null control of the primary models (one
    per training seed) and the extra models. ``functional(tokenizer)`` gives the functional-token mask."""
    from ..science import geometry

    p = study.params
    roles = {"PLM": models.resolve(p["plm"]), **{m.label: m.spec for m in cl_models}}
    roles |= {models.resolve(x).label: models.resolve(x) for x in p.get("extra_models", [])}
    encoders = {role: models.load(spec, study.device) for role, spec in roles.items()}
    primary = {m.seed: encoders[m.label] for m in cl_models if m.primary and m.seed is not None}
    control_roles = {}
    if controls and primary:
        for seed, enc in null_controls(encoders["PLM"], primary).items():
            control_roles[seed] = f"{CONTROL} · seed {seed}"
            encoders[control_roles[seed]] = enc
    results = {}
    for role, enc in encoders.items():
        mask = functional(enc.tokenizer) if functional else None
        results[role] = geometry.analyse(
            enc, study.texts, p["seeds"], n_samples=p["n_samples"], progress=False, functional=mask
        )
        enc.model.to("cpu")
    return Measured(results, encoders, cl_models, control_roles)


@dataclass
class PairStudy:
    """A pair chapter's checked parameters, its results, its analysis sentences and device."""

    params: dict
    results: object  # lib.book.results.ChapterResults
    texts: list
    device: str

    def plan_table(self):
        """What the chapter trains: one row per SimCSE run, with its schedule and whether it is finished."""
        import pandas as pd

        rows = []
        for pair in plans(self.params):
            for name in ("short", "full"):
                cfg = getattr(pair, name)
                steps = cfg.stop_step or cfg.max_steps
                rows.append(
                    dict(pooling=pair.pooling, seed=pair.seed, schedule=name, steps=steps, lr=cfg.lr,
                         dropout=cfg.dropout, **{"Σ lr": movement.summed_lr(cfg.lr, cfg.max_steps, upto=steps)},
                         status=(training_runs.status(cfg) or {}).get("status", "to train"),
                         run=training_runs.run_dir(cfg).name)
                )  # fmt: skip
        return pd.DataFrame(rows)

    def train(self, progress: bool = True) -> list[ContrastiveModel]:
        return contrastive_models(self.params, progress)

    def measure(self, cl_models: list[ContrastiveModel], functional=None) -> Measured:
        return measure(self, cl_models, functional)

    def save(self, metrics: dict, measured: Measured):
        """Write the chapter's results.json with every model's provenance and the analysis sentences' hash."""
        from ..science import data

        return self.results.save(
            dict(metrics, cl_runs=[m.describe() for m in measured.cl_models]),
            models=list(measured.encoders.values()),
            data=dict(
                dataset="stsb",
                split="test",
                column="sentence1",
                n_sentences=len(self.texts),
                sentences_sha256=data.texts_sha256(self.texts),
            ),
        )


def movement_table(measured: Measured):
    """How far each CL model (and control) is from the PLM: relative weight change per part of the encoder, the
    last LayerNorm's mean gain, Σ lr to its step against SimCSE's epoch, sentences seen, and the largest relative
    change of the last-layer norm Adam's strict bound allows over that Σ lr."""
    import pandas as pd

    plm = measured.encoders["PLM"].model
    gamma_plm, _ = movement.last_layernorm(plm)
    simcse = movement.summed_lr(movement.SIMCSE_BERT_BASE["lr"], movement.SIMCSE_BERT_BASE["steps"])
    rows = []
    roles = [m.label for m in measured.cl_models] + list(measured.controls.values())
    by_label = {m.label: m for m in measured.cl_models}
    for role in roles:
        model = measured.encoders[role].model
        gamma, _ = movement.last_layernorm(model)
        row = {"model": role, **{f"Δ‖W‖/‖W‖ {k}": v for k, v in movement.relative_change(plm, model).items()}}
        row["last LayerNorm gain (mean)"] = float(np.mean(gamma))
        m = by_label.get(role)
        if m is not None and m.summed_lr is not None:
            row["Σ lr to its step"] = m.summed_lr
            row["share of SimCSE's Σ lr"] = m.summed_lr / simcse
            row["sentences seen / 1M"] = m.step * m.record["schedule"]["global_batch"] / 1e6
            row["largest norm change allowed"] = movement.norm_change_bound(
                m.summed_lr, gamma_plm, movement.ADAM_STEP_BOUND
            )
        rows.append(row)
    return pd.DataFrame(rows), float(np.mean(gamma_plm)), simcse


def start(chapter: str, namespace: dict) -> PairStudy:
    """Check a pair chapter's parameters (every SimCSE run's too), read its analysis sentences, open its results."""
    from ..science import data, devices
    from ..science.params import ParameterError
    from .chapters import begin

    params, res = begin(chapter, namespace, smoke_reason=SMOKE_REASON)
    texts = data.sentences(data.load("stsb", "test", params["data_dir"]), "sentence1", params["max_sentences"])
    if params["n_samples"] > len(texts):
        raise ParameterError("n_samples", params["n_samples"], f"at most the {len(texts)} analysis sentences")
    plans(params)  # every SimCSE run resolved (and so checked) before any compute
    return PairStudy(params, res, texts, devices.resolve_device(params["device"]))
