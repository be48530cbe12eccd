"""The training loop: one for both objectives, resumable, recorded as it goes.

    train("simcse", {"scale": "pocket"}, "runs/my-simcse")      # or: python -m lib.train simcse --out_dir ...

**Resume.** Re-running with the same ``out_dir`` continues from ``out_dir/checkpoint.pt``: model, optimiser,
scheduler, gradient scaler and the :class:`TrainState` (step, running loss, every recorded evaluation and
snapshot). Nothing else needs saving, because every random choice of step ``k`` (the data order, the masking,
dropout) is derived from ``(seed, k, rank)``. A run killed at any moment and restarted therefore ends with
bit-identical weights (on the CPU, same threads). One process trains a folder at a time (its lock,
:mod:`lib.science.training.folder`); nothing is created before the parameters are accepted.

**Record.** ``out_dir/train.json``: ``status`` (running / finished / failed), ``step``, ``params``, ``schedule``
(steps, global batch, warm-up), ``evals`` (``{step, loss, stsb_dev, ...}``), ``snapshots`` (``{step, per_layer,
...}``), ``final`` (``{step, loss, stsb_dev, weights_sha256}``), ``best``, ``throughput`` and ``provenance``.
``out_dir/best`` (the best STS-B dev checkpoint, as SimCSE's ``--load_best_model_at_end``) and ``out_dir/last``
are ``save_pretrained`` folders that any chapter accepts as a model.

**Scale-out.** Under ``torchrun`` the same loop runs data-parallel (:mod:`lib.science.training.processes`):
``batch_size`` is per process and SimCSE's in-batch negatives span the global batch.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .. import data, devices, files, models, provenance
from ..params import ParameterError
from . import folder as run_folder
from .config import TrainConfig, resolve
from .objective import Objective, step_seed
from .processes import Processes, init_processes
from .snapshots import Snapshots
from .snapshots import schedule as snapshot_schedule


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint was kept."""


@dataclass
class TrainState:
    """Everything about a run's progress that a checkpoint must carry (besides the weights and optimiser)."""

    step: int = 0
    evals: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    loss_sum: float = 0.0
    loss_count: int = 0
    best: dict | None = None
    train_seconds: float = 0.0
    sentences: int = 0
    tokens: int = 0

    def add_loss(self, loss: float, sentences: int, tokens: int, seconds: float) -> None:
        self.loss_sum += loss
        self.loss_count += 1
        self.sentences += sentences
        self.tokens += tokens
        self.train_seconds += seconds
        self.step += 1

    def take_mean_loss(self) -> float | None:
        """The mean training loss since the last evaluation (and start a new mean)."""
        mean = self.loss_sum / self.loss_count if self.loss_count else None
        self.loss_sum, self.loss_count = 0.0, 0
        return mean

    def improved(self, evaluation: dict) -> bool:
        """Whether ``evaluation`` is the best STS-B dev *during* training so far (as SimCSE's
        ``load_best_model_at_end``: the start does not count); it then becomes the best."""
        if evaluation["step"] > 0 and (self.best is None or evaluation["stsb_dev"] > self.best["stsb_dev"]):
            self.best = dict(step=evaluation["step"], stsb_dev=evaluation["stsb_dev"])
            return True
        return False

    def throughput(self) -> dict:
        s = self.train_seconds
        return dict(
            seconds=round(s, 1),
            steps_per_s=self.step / s if s else None,
            sentences_per_s=self.sentences / s if s else None,
            tokens_per_s=self.tokens / s if s else None,
        )


def objective_for(cfg: TrainConfig, device: str, progress: bool, cache_dir: Path | None) -> Objective:
    from .mlm_objective import MLMObjective
    from .simcse_objective import SimCSEObjective

    return {"mlm": MLMObjective, "simcse": SimCSEObjective}[cfg.OBJECTIVE](cfg, device, progress, cache_dir)


def optimizer(module: torch.nn.Module, cfg: TrainConfig, objective: Objective) -> torch.optim.Optimizer:
    """AdamW, without weight decay on biases and LayerNorms (BERT's and SimCSE's grouping)."""
    decay, no_decay = [], []
    for name, param in module.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name or "norm" in name.lower() else decay).append(param)
    groups = [dict(params=decay, weight_decay=cfg.weight_decay), dict(params=no_decay, weight_decay=0.0)]
    try:  # the fused kernel: one pass over the parameters (about 9x faster than the loop on these CPUs)
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=objective.betas, eps=objective.eps, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=objective.betas, eps=objective.eps)


def max_steps_of(cfg: TrainConfig, n_train: int, global_batch: int) -> int:
    """The run's length: ``max_steps``, or one epoch over the training sentences when it is 0."""
    return cfg.max_steps or -(-n_train // global_batch)


def _before_any_compute(cfg: TrainConfig) -> None:
    """What can fail on a bad name fails here, before a folder exists: the model and the data."""
    if cfg.OBJECTIVE == "simcse":
        models.resolve(cfg.model)
    data.mirror_identity(cfg.data_dir)


def train(
    objective: str,
    params: dict | TrainConfig | None,
    out_dir: str | os.PathLike,
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
    wait: bool = True,
) -> dict:
    """Train (or resume, or return the record of a finished run in ``out_dir``); returns ``train.json``.

    A second process given the same ``out_dir`` waits for the first (then returns its finished record), or with
    ``wait=False`` stops with a :class:`~lib.science.training.folder.TrainingError`."""
    cfg = params if isinstance(params, TrainConfig) else resolve(objective, params)
    if cfg.OBJECTIVE != objective:
        raise ParameterError("objective", objective, f"the configuration is for {cfg.OBJECTIVE}")
    _before_any_compute(cfg)
    device = devices.resolve_device(cfg.device)
    procs = init_processes(device)
    device = procs.device(device)
    out_dir = Path(out_dir).expanduser().resolve()
    if procs.main:
        with run_folder.locked(out_dir, wait=wait):
            record = _train(cfg, device, procs, out_dir, progress, cache_dir)
    else:
        record = _train(cfg, device, procs, out_dir, progress, cache_dir)
    procs.barrier()
    return run_folder.read_status(out_dir) if procs.main else record


def _train(cfg: TrainConfig, device: str, procs: Processes, out_dir: Path, progress: bool, cache_dir) -> dict:
    """Train in ``out_dir`` from its checkpoint (or from the start); a finished run returns its record at once."""
    precision = devices.resolve_precision(cfg.precision, device)
    if devices.device_kind(device) == "cpu":
        devices.keep_freed_memory()
    for name in ("best", "last"):
        files.recover_dir(out_dir / name)
    params = files.json_safe(cfg.as_dict())
    checkpoint = _checkpoint_of_this_run(out_dir, cfg, params)
    if checkpoint is not None:
        status = run_folder.read_status(out_dir)
        if (
            status
            and status.get("status") == "finished"
            and status.get("step") == checkpoint["step"]
            and checkpoint["step"] == checkpoint.get("end_step", checkpoint["max_steps"])
        ):
            return status
    run = Run(cfg, device, precision, procs, out_dir, Path(cache_dir) if cache_dir else None, progress, params)
    if checkpoint is not None:
        run.resume(checkpoint)
    return run.train()


def _checkpoint_of_this_run(out_dir: Path, cfg: TrainConfig, params: dict) -> dict | None:
    """The folder's checkpoint, when it holds one; a checkpoint of other parameters stops with a message."""
    checkpoint = run_folder.load_checkpoint(out_dir)
    if checkpoint is not None and (checkpoint["params"] != params or checkpoint["objective"] != cfg.OBJECTIVE):
        theirs = checkpoint["params"]
        differ = sorted(k for k in set(theirs) | set(params) if theirs.get(k) != params.get(k))
        raise run_folder.TrainingError(
            f"{out_dir} holds a {checkpoint['objective']} run with other parameters (they differ in: "
            f"{', '.join(differ) or 'the objective'}); use another out_dir or the same parameters to resume it"
        )
    return checkpoint


class Run:
    """One run in its folder: the objective, the optimiser and its schedule, the state a checkpoint carries, and
    the record (``train.json``) written as it goes. :meth:`train` is the loop; every other method is one thing the
    loop does (a step, an evaluation, a snapshot, a checkpoint, a record)."""

    def __init__(self, cfg, device, precision, procs, out_dir, cache_dir, progress, params):
        from transformers import get_linear_schedule_with_warmup

        self.cfg, self.device, self.precision, self.procs, self.out_dir = cfg, device, precision, procs, out_dir
        self.params = params
        self.clock = provenance.Clock()
        self.task = objective_for(cfg, device, progress, cache_dir)
        self.global_batch = cfg.batch_size * procs.world
        self.max_steps = max_steps_of(cfg, self.task.n_train, self.global_batch)
        # the learning rate decays over max_steps; a run may stop earlier, inside that schedule
        self.end_step = min(cfg.stop_step, self.max_steps) if cfg.stop_step else self.max_steps
        self.snapshots_at = snapshot_schedule(cfg.snapshot_steps, self.end_step)
        self.snapshots = Snapshots(cfg.data_dir, cfg.snapshot_sentences, self.task.tokenizer)
        self.module = self.task.module
        self.trained = procs.wrap(self.module, device)
        self.opt = optimizer(self.module, cfg, self.task)
        self.warmup_steps = int(cfg.warmup * self.max_steps)
        self.scheduler = get_linear_schedule_with_warmup(self.opt, self.warmup_steps, self.max_steps)
        self.scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")
        self.state = TrainState()
        self.record = self._new_record()
        self.progress = progress and procs.main

    def resume(self, checkpoint: dict) -> None:
        self.module.load_state_dict(checkpoint["module"])
        self.opt.load_state_dict(checkpoint["optimizer"])
        self.scaler.load_state_dict(checkpoint["scaler"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.state = TrainState(**checkpoint["state"])
        self.record["step"] = self.state.step

    def _new_record(self) -> dict:
        cfg, task = self.cfg, self.task
        return dict(
            status="running",
            objective=cfg.OBJECTIVE,
            step=self.state.step,
            params=self.params,
            schedule=dict(
                max_steps=self.max_steps,
                end_step=self.end_step,
                global_batch=self.global_batch,
                world_size=self.procs.world,
                warmup_steps=self.warmup_steps,
                snapshot_steps=self.snapshots_at,
                precision=self.precision,
                n_train_sentences=task.n_train,
            ),
            **task.record(),
            provenance=dict(
                model=task.model_provenance(),
                data=dict(identity=data.mirror_identity(cfg.data_dir), corpus_sha256=task.corpus_sha256),
                **provenance.environment(self.device),
            ),
        )

    def train(self) -> dict:
        """Steps until the end of the run: every snapshot, evaluation, checkpoint and record on its schedule."""
        from tqdm import tqdm

        state, cfg, main = self.state, self.cfg, self.procs.main
        self.bar = tqdm(
            total=self.end_step,
            initial=state.step,
            desc=f"{cfg.OBJECTIVE} ({cfg.scale})",
            unit="step",
            disable=not self.progress,
            dynamic_ncols=True,
        )
        self.write()
        if state.step == 0 and main:
            if 0 in self.snapshots_at:
                self.snapshot()
            self.evaluate()
            self.write()
        self.module.train()
        try:
            while state.step < self.end_step:
                self.step()
                if main and state.step in self.snapshots_at:
                    self.snapshot()
                evaluated = state.step % cfg.eval_steps == 0 or state.step == self.end_step
                if evaluated and main:
                    self.evaluate()
                if state.step % cfg.checkpoint_steps == 0 or state.step == self.end_step:
                    self.save()
                if evaluated or state.step % cfg.checkpoint_steps == 0:
                    self.write()
                self.module.train()
        except NonFiniteLoss as err:
            self.write("failed", error=str(err))
            raise
        finally:
            self.bar.close()
        if main:
            self.finish()
        return self.record

    def step(self) -> None:
        """One optimisation step, every random choice of it derived from (seed, step, rank)."""
        state, procs, device = self.state, self.procs, self.device
        step = state.step
        self.task.reseed(step_seed(self.cfg.seed, step, procs.rank))
        t0 = time.perf_counter()
        with devices.autocast(device, self.precision):
            loss, counts = self.task.loss(self.trained, step, procs, self.global_batch)
        if not torch.isfinite(loss.detach()):
            raise NonFiniteLoss(
                f"the loss is {float(loss.detach())} at step {step + 1}; stopped, keeping the last "
                f"good checkpoint (step {_checkpoint_step(self.out_dir)}). Lower the learning rate "
                f"(lr = {self.cfg.lr}) or use precision fp32."
            )
        self.scaler.scale(loss).backward()
        if self.cfg.grad_clip > 0:
            self.scaler.unscale_(self.opt)
            torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.cfg.grad_clip)
        self.scaler.step(self.opt)
        self.scaler.update()
        self.scheduler.step()
        self.opt.zero_grad(set_to_none=True)
        if devices.device_kind(device) == "cuda" and (step + 1) % 50 == 0:
            torch.cuda.synchronize()
        state.add_loss(
            float(loss.detach()),
            counts["sentences"] * procs.world,
            counts["tokens"] * procs.world,
            time.perf_counter() - t0,
        )
        self.bar.update(1)

    def snapshot(self) -> None:
        self.state.snapshots.append(dict(step=self.state.step, **self.snapshots.measure(self.task.encoder())))

    def evaluate(self) -> None:
        """STS-B dev now (and the mean training loss since the last one); the best so far exported to ``best``."""
        with devices.autocast(self.device, self.precision):  # evaluated in the training precision
            measured = self.task.evaluate()
        result = dict(step=self.state.step, loss=self.state.take_mean_loss(), **measured)
        self.state.evals.append(result)
        if self.state.improved(result):
            run_folder.export(self.task.export, self.out_dir / "best")
        loss = f"{result['loss']:.4f}" if result["loss"] is not None else "—"
        self.bar.set_postfix(loss=loss, stsb_dev=f"{result['stsb_dev']:.1f}")

    def save(self) -> None:
        if self.procs.main:
            run_folder.save_checkpoint(
                self.out_dir,
                dict(
                    objective=self.cfg.OBJECTIVE,
                    params=self.params,
                    step=self.state.step,
                    max_steps=self.max_steps,
                    end_step=self.end_step,
                    module=self.module.state_dict(),
                    optimizer=self.opt.state_dict(),
                    scheduler=self.scheduler.state_dict(),
                    scaler=self.scaler.state_dict(),
                    state=asdict(self.state),
                ),
            )
        self.procs.barrier()

    def write(self, status: str | None = None, **extra) -> None:
        if self.procs.main:
            self.record.update(
                step=self.state.step,
                evals=self.state.evals,
                snapshots=self.state.snapshots,
                throughput=self.state.throughput(),
                wall_time_s=round(self.clock.elapsed(), 1),
                **extra,
            )
            self.record["status"] = status or self.record["status"]
            run_folder.write_status(self.out_dir, self.record)

    def finish(self) -> None:
        """The last model exported to ``last``; the record finished with the final weights' hash and the best."""
        evals, end = self.state.evals, self.end_step
        final = evals[-1] if evals and evals[-1]["step"] == end else None
        run_folder.export(self.task.export, self.out_dir / "last")
        self.write(
            "finished",
            final=dict(
                step=end,
                loss=final["loss"] if final else None,
                stsb_dev=final["stsb_dev"] if final else None,
                weights_sha256=files.state_dict_sha256(self.task.final_weights()),
            ),
            best=self.state.best,
        )


def _checkpoint_step(out_dir: Path) -> int:
    status = run_folder.read_status(out_dir)
    return status["step"] if status else 0
