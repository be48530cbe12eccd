"""One training loop, two objectives: MLM pre-training (the pocket PLM) and unsupervised SimCSE.

    train("simcse", {"scale": "pocket"}, "runs/my-simcse")      # or: python -m lib.train simcse --out_dir ...

**Parameters** are checked (names, types, ranges) before any compute; each scale has a preset (:data:`PRESETS`)
that ``params`` override. ``max_steps = 0`` means the scale's schedule (:data:`SCHEDULES`).

**Resume.** Re-running with the same ``out_dir`` continues from ``out_dir/checkpoint.pt``: model, optimiser,
gradient scaler, step, the running loss and every recorded evaluation. Nothing else needs saving, because every
random choice of step ``k`` (the data order, the masking, dropout) is derived from ``(seed, k, rank)``. A run
killed at any moment and restarted therefore ends with bit-identical weights (on the CPU, same threads).
Checkpoints, ``train.json`` and the model folders are written atomically; a half-written one is never read.

**Record.** ``out_dir/train.json`` (rewritten as the run goes): ``status`` (running / finished / failed),
``step``, ``params``, ``schedule`` (steps, global batch, warm-up), ``evals`` (``{step, loss, stsb_dev, ...}``),
``snapshots`` (``{step, per_layer, ...}``: Chapter 1's metrics on the analysis sentences, measured in eval mode),
``final`` (``{step, loss, stsb_dev, weights_sha256}``), ``throughput`` and ``provenance``. ``out_dir/best`` (the
best STS-B dev checkpoint, as SimCSE's ``--load_best_model_at_end``) and ``out_dir/last`` are ``save_pretrained``
folders that any chapter accepts as a model.

**Scale-out.** Under ``torchrun`` the same loop runs data-parallel (gloo on CPU, NCCL on CUDA): ``batch_size`` is
per process, the global batch is ``batch_size x world size``, and SimCSE's in-batch negatives span the global
batch (:func:`lib.science.simcse.contrastive_loss`). Only rank 0 evaluates and writes.
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import data, devices, dropout, files, models, params as P, provenance, tokens
from .params import ParameterError

OBJECTIVES = ("mlm", "simcse")
STATUS_FILE, CHECKPOINT = "train.json", "checkpoint.pt"
LOG_STEPS = (0, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)

# -------------------------------------------------------------------------------------------------- parameters
COMMON = dict(scale="pocket", model="", seed=0, max_steps=0, batch_size=64, lr=3e-5, max_len=32, eval_steps=25,
              data_dir="", device="auto", precision="auto", warmup=0.0, weight_decay=0.0, grad_clip=1.0,
              dropout=0.1, n_sentences=0, checkpoint_steps=100, snapshot_steps="log", snapshot_sentences=0,
              eval_pairs=0)
DEFAULTS = {
    "simcse": dict(COMMON, model="pocket-bert", temperature=0.05, pooling="cls"),
    "mlm": dict(COMMON, model="L6-H384-A12-I1536", lr=1e-3, batch_size=1024, max_len=64, eval_steps=1000,
                warmup=0.06, weight_decay=0.01, dropout=0.0, save_dropout=0.1, mask_prob=0.15, heldout=5000,
                adam_beta2=0.98, checkpoint_steps=1000, snapshot_steps="none", precision="bf16"),
}
PRESETS = {
    "simcse": {
        "smoke": dict(model="tiny-random-bert", batch_size=8, lr=1e-4, eval_steps=10, n_sentences=2000,
                      checkpoint_steps=10, snapshot_sentences=100, eval_pairs=200, precision="fp32"),
        # a CPU: the pocket BERT, SimCSE's unsupervised defaults, bf16 matrix products, a short schedule
        "pocket": dict(model="pocket-bert", precision="bf16"),
        # a GPU: SimCSE's run_unsup_example.sh for bert-base-uncased (fp16, eval every 125 steps, one epoch)
        "paper": dict(model="bert-base-uncased", eval_steps=125, checkpoint_steps=1000, precision="auto"),
    },
    "mlm": {
        "smoke": dict(model="L2-H32-A2-I64", batch_size=16, max_len=32, eval_steps=10, n_sentences=3000,
                      heldout=300, checkpoint_steps=10, eval_pairs=200, precision="fp32"),
        # the recipe that made models/pocket-bert (about 5 minutes on an H100; about 15 hours on 2 CPU cores)
        "pocket": dict(),
        "paper": dict(model="L12-H768-A12-I3072", batch_size=256, lr=1e-4, max_len=128, warmup=0.01,
                      eval_steps=10000, checkpoint_steps=5000, dropout=0.1, adam_beta2=0.999),
    },
}
# max_steps = 0: the scale's schedule (None: one epoch over the training sentences, SimCSE's num_train_epochs 1)
SCHEDULES = {"simcse": {"smoke": 20, "pocket": 250, "paper": None},
             "mlm": {"smoke": 30, "pocket": 7000, "paper": 100000}}


def _check(objective: str, p: dict) -> dict:
    """Every parameter's type and range, with errors that name it."""
    from .pooling import POOLINGS

    P.scale(p["scale"])
    P.text("model", p["model"], allow_empty=False)
    P.integer("seed", p["seed"], minimum=0)
    P.integer("max_steps", p["max_steps"], minimum=0)
    P.integer("batch_size", p["batch_size"], minimum=2)
    P.number("lr", p["lr"], above=0, maximum=1)
    P.integer("max_len", p["max_len"], minimum=4, maximum=4096)
    P.integer("eval_steps", p["eval_steps"], minimum=1)
    P.text("data_dir", p["data_dir"])
    devices.resolve_device(p["device"])
    devices.resolve_precision(p["precision"], devices.resolve_device(p["device"]))
    P.number("warmup", p["warmup"], minimum=0, maximum=1)
    P.number("weight_decay", p["weight_decay"], minimum=0)
    P.number("grad_clip", p["grad_clip"], minimum=0)
    P.number("dropout", p["dropout"], minimum=0, maximum=0.9)
    P.integer("n_sentences", p["n_sentences"], minimum=0)
    P.integer("checkpoint_steps", p["checkpoint_steps"], minimum=1)
    P.integer("snapshot_sentences", p["snapshot_sentences"], minimum=0)
    P.integer("eval_pairs", p["eval_pairs"], minimum=0)
    steps = p["snapshot_steps"]
    if not (steps in ("log", "none") or (isinstance(steps, list) and all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in steps))):
        raise ParameterError("snapshot_steps", steps, "expected 'log', 'none' or a list of steps, e.g. [0, 50, 500]")
    if objective == "simcse":
        P.number("temperature", p["temperature"], above=0)
        P.choice("pooling", p["pooling"], POOLINGS)
    else:
        P.number("mask_prob", p["mask_prob"], above=0, maximum=1)
        P.integer("heldout", p["heldout"], minimum=1)
        P.number("save_dropout", p["save_dropout"], minimum=0, maximum=0.9)
        P.number("adam_beta2", p["adam_beta2"], above=0, maximum=0.99999)
        if models_shape(p["model"]) is None:
            models.resolve(p["model"])  # not a shape: a model to continue pre-training from
    return p


def models_shape(model: str) -> dict | None:
    from .mlm import parse_shape

    return parse_shape(model)


def resolve_params(objective: str, overrides: dict | None = None) -> dict:
    """The run's full parameter set: defaults, then the scale's preset, then ``overrides``; checked."""
    P.choice("objective", objective, OBJECTIVES)
    overrides = dict(overrides or {})
    scale = overrides.get("scale", DEFAULTS[objective]["scale"])
    P.scale(scale)
    out = dict(DEFAULTS[objective], **PRESETS[objective].get(scale, {}))
    for name, value in overrides.items():
        if name not in out:
            raise ParameterError(name, value, f"{objective} training has no such parameter; it has "
                                 + ", ".join(out))
        default = out[name]
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if name == "snapshot_steps" and isinstance(value, str) and value.strip().startswith("["):
            try:  # a list typed on the command line: "[0, 50, 500]"
                value = json.loads(value)
            except ValueError:
                pass
        if name != "snapshot_steps" and not isinstance(value, type(default)):
            raise ParameterError(name, value, f"expected a {type(default).__name__} like {default!r}")
        out[name] = value
    return _check(objective, out)


def schedule_steps(objective: str, p: dict, n_train: int, global_batch: int) -> int:
    if p["max_steps"]:
        return p["max_steps"]
    steps = SCHEDULES[objective][p["scale"]]
    return steps if steps is not None else math.ceil(n_train / global_batch)


def snapshot_schedule(spec, max_steps: int) -> list[int]:
    if spec == "none":
        return []
    steps = LOG_STEPS if spec == "log" else spec
    return sorted({s for s in steps if s <= max_steps} | ({max_steps} if spec == "log" else set()))


def learning_rate(step: int, p: dict, max_steps: int) -> float:
    """Linear warm-up over ``warmup x max_steps`` steps, then linear decay to 0 (the Hugging Face schedule)."""
    warm = int(p["warmup"] * max_steps)
    if step < warm:
        return p["lr"] * (step + 1) / warm
    return p["lr"] * max(0.0, (max_steps - step) / max(1, max_steps - warm))


def step_seed(seed: int, step: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1)[0])


# -------------------------------------------------------------------------------------------------- errors
class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint was kept."""


class TrainingError(RuntimeError):
    """The run cannot continue (e.g. ``out_dir`` holds a run with other parameters)."""


# -------------------------------------------------------------------------------------------------- processes
@dataclass
class Processes:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self):
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()


def init_processes(device: str) -> Processes:
    """Data-parallel processes when launched by torchrun (WORLD_SIZE > 1), else one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Processes()
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if devices.device_kind(device) == "cuda" else "gloo"
        dist.init_process_group(backend)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if devices.device_kind(device) == "cuda":
        torch.cuda.set_device(local)
    return Processes(dist.get_rank(), dist.get_world_size(), local)


# -------------------------------------------------------------------------------------------------- the tasks
class Task:
    """What differs between the objectives: the model, the batches, the loss, the evaluation, the export."""

    module = None  # the nn.Module trained (what DDP wraps)
    tokenizer = None
    n_train = 0

    def encoder(self):
        raise NotImplementedError

    def loss(self, module, step: int, procs: Processes, global_batch: int):
        raise NotImplementedError

    def evaluate(self) -> dict:
        raise NotImplementedError

    def export(self, folder: Path) -> None:
        raise NotImplementedError

    def snapshot_model(self):
        return self.encoder()

    masks = None  # the dropout mask source on the CPU (lib.science.dropout), reseeded at every step

    def fast_dropout(self, model, device: str):
        """On the CPU, draw ``model``'s dropout masks through :mod:`lib.science.dropout` (about 3x faster)."""
        if devices.device_kind(device) == "cpu":
            self.masks = dropout.MaskSource()
            dropout.install(model, self.masks)
        return model

    def reseed(self, seed: int) -> None:
        """Every random choice of a step (dropout included) from the step's seed."""
        torch.manual_seed(seed)
        if self.masks is not None:
            self.masks.seed(seed)


def _stsb_dev(p: dict):
    from .sts import load_pairs

    return load_pairs("STSB dev", "stsb", "dev", p["data_dir"], p["eval_pairs"])


def _set_dropout(module, probability: float) -> None:
    for m in module.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = probability


class MLMTask(Task):
    def __init__(self, p: dict, device: str, cache_dir: Path | None, progress: bool):
        from transformers import BertConfig, BertForMaskedLM

        from . import corpus
        from .tiny import bert_tokenizer, vocab_file

        self.p, self.device = p, device
        root = data.mirror_dir(p["data_dir"])
        vocab = data.verified(root, "tokenizer/bert-base-uncased-vocab.txt")[0] if root is not None and (
            root / "tokenizer" / "bert-base-uncased-vocab.txt").is_file() else vocab_file()
        self.tokenizer = bert_tokenizer(vocab, model_max_length=512)
        self.corpus_sha256 = data.source_identity("wiki", "train", p["data_dir"])
        self.corpus = corpus.tokenized(
            lambda: data.load("wiki", "train", p["data_dir"], limit=p["n_sentences"] or None).columns["text"],
            self.tokenizer, p["max_len"], self.corpus_sha256, files.sha256_file(vocab), p["n_sentences"], cache_dir,
            progress)
        if len(self.corpus) <= p["heldout"] + p["batch_size"]:
            raise ParameterError("heldout", p["heldout"], f"the corpus has only {len(self.corpus)} sentences")
        self.n_train = len(self.corpus) - p["heldout"]  # the last `heldout` sentences are never trained on
        self.lengths = self.corpus.lengths[:self.n_train]
        shape = models_shape(p["model"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(p["seed"])
            if shape is not None:
                config = BertConfig(vocab_size=len(self.tokenizer), pad_token_id=self.tokenizer.pad_token_id,
                                    max_position_embeddings=512, hidden_dropout_prob=p["dropout"],
                                    attention_probs_dropout_prob=p["dropout"], **shape)
                model = BertForMaskedLM(config)
            else:
                model, _ = models.load_pretrained(models.resolve(p["model"]), BertForMaskedLM)
                _set_dropout(model, p["dropout"])
        self.module = self.fast_dropout(model, device).to(device)
        self.special = torch.tensor(sorted(self.tokenizer.all_special_ids), device=device)
        self._epoch, self._batches = -1, []
        self.stsb = _stsb_dev(p)
        self.heldout = self._heldout_batches()
        self.baseline = self._unigram_baseline()

    def encoder(self):
        return self.module.bert

    def _select(self, ids, mask, seed: int):
        from .mlm import select

        gen = torch.Generator(device=ids.device).manual_seed(seed)
        return select(ids, mask, self.special, len(self.tokenizer), self.tokenizer.mask_token_id,
                      self.p["mask_prob"], gen)

    def _batch(self, index):
        ids, mask = self.corpus.batch(index)
        return ids.to(self.device), mask.to(self.device)

    def loss(self, module, step: int, procs: Processes, global_batch: int):
        from .corpus import bucketed_batches

        n_batches = self.n_train // global_batch
        epoch, k = divmod(step, n_batches)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, bucketed_batches(self.lengths, global_batch, self.p["seed"], epoch)
        index = self._batches[k]
        per = len(index) // procs.world
        ids, mask = self._batch(index[procs.rank * per:(procs.rank + 1) * per])
        inputs, selected, labels = self._select(ids, mask, step_seed(self.p["seed"], step, procs.rank))
        return module(inputs, mask, selected, labels), dict(tokens=int(mask.sum()), sentences=len(ids))

    def _heldout_batches(self):
        """The held-out sentences, masked once with a fixed seed: the same positions at every evaluation."""
        out = []
        for k, start in enumerate(range(self.n_train, len(self.corpus), 256)):
            ids, mask = self._batch(np.arange(start, min(start + 256, len(self.corpus))))
            out.append((ids, mask, *self._select(ids, mask, step_seed(12345, k, 0))))
        return out

    def _unigram_baseline(self) -> dict:
        """The accuracy of always predicting the training portion's most frequent non-special token."""
        counts = np.bincount(self.corpus.ids[:self.corpus.offsets[self.n_train]].astype(np.int64),
                             minlength=len(self.tokenizer))
        counts[sorted(self.tokenizer.all_special_ids)] = 0
        top = int(counts.argmax())
        labels = np.concatenate([b[-1].cpu().numpy() for b in self.heldout])
        return dict(token=self.tokenizer.convert_ids_to_tokens(top), accuracy=float((labels == top).mean()))

    def evaluate(self) -> dict:
        from .encode import eval_mode
        from .mlm import masked_lm_loss
        from .sts import spearman_x100

        total = correct = n = 0
        with eval_mode(self.module), torch.inference_mode():
            for ids, mask, inputs, selected, labels in self.heldout:
                loss, right = masked_lm_loss(self.module, inputs, mask, selected, labels)
                total += float(loss) * len(labels)
                correct += int(right)
                n += len(labels)
        sts = spearman_x100(self.module.bert, self.tokenizer, self.stsb, ["avg", "cls"])
        return dict(heldout_loss=total / n, heldout_accuracy=correct / n, stsb_dev=sts["avg"],
                    stsb_dev_cls=sts["cls"])

    def export(self, folder: Path) -> None:
        model = self.module
        model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = self.p["save_dropout"]
        model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = self.p["dropout"]


class SimCSETask(Task):
    def __init__(self, p: dict, device: str, progress: bool):
        from .simcse import MLP

        self.p, self.device = p, device
        self.spec = models.resolve(p["model"])
        self.init_fingerprint = models.fingerprint(self.spec)
        encoder, self.tokenizer = models.load_pretrained(self.spec)
        _set_dropout(encoder, p["dropout"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(p["seed"])
            mlp = MLP(encoder.config.hidden_size, getattr(encoder.config, "initializer_range", 0.02))
        table = data.load("wiki", "train", p["data_dir"], limit=p["n_sentences"] or None)
        self.sentences, self.corpus_sha256 = table.columns["text"], table.sha256
        self.n_train = len(self.sentences)
        self.fast_dropout(encoder, device)
        self.module = SimCSEModule(encoder, mlp if p["pooling"] == "cls" else nn.Identity(), p).to(device)
        self.stsb = _stsb_dev(p)
        self._epoch, self._batches = -1, []

    def encoder(self):
        return self.module.encoder

    def loss(self, module, step: int, procs: Processes, global_batch: int):
        from .corpus import shuffled_batches

        n_batches = math.ceil(self.n_train / global_batch) if procs.world == 1 else self.n_train // global_batch
        epoch, k = divmod(step, n_batches)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, shuffled_batches(self.n_train, global_batch, self.p["seed"], epoch)
        index = self._batches[k]
        per = len(index) // procs.world
        mine = index[procs.rank * per:(procs.rank + 1) * per]
        batch = self.tokenizer([self.sentences[i] for i in mine], padding=True, truncation=True,
                               max_length=self.p["max_len"], return_tensors="pt")
        ids, mask = batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)
        return module(ids, mask), dict(tokens=int(mask.sum()), sentences=len(mine))

    def evaluate(self) -> dict:
        from .sts import spearman_x100

        return dict(stsb_dev=spearman_x100(self.module.encoder, self.tokenizer, self.stsb, self.p["pooling"]))

    def export(self, folder: Path) -> None:
        import copy

        encoder = self.module.encoder
        pooler = getattr(encoder, "pooler", None)
        if self.p["pooling"] == "cls" and pooler is not None and hasattr(pooler, "dense"):
            # SimCSE's converter stores the train-time MLP as the BERT pooler: pooler_output = MLP([CLS])
            encoder = copy.deepcopy(encoder)
            with torch.no_grad():
                encoder.pooler.dense.load_state_dict(self.module.mlp.dense.state_dict())
        encoder.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)


class SimCSEModule(nn.Module):
    """The encoder and (with ``cls`` pooling) the train-time MLP; ``forward`` returns the contrastive loss."""

    def __init__(self, encoder, mlp, p: dict):
        super().__init__()
        self.encoder, self.mlp, self.pooling, self.temperature = encoder, mlp, p["pooling"], p["temperature"]

    def forward(self, ids, mask):
        from .simcse import contrastive_loss, views

        z1, z2 = views(self.encoder, ids, mask, self.pooling, self.mlp if self.pooling == "cls" else None)
        return contrastive_loss(z1, z2, self.temperature)


class MLMModule(nn.Module):
    """A ``BertForMaskedLM`` whose ``forward`` returns the loss at the selected positions (what DDP wraps)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs, mask, selected, labels):
        from .mlm import masked_lm_loss

        return masked_lm_loss(self.model, inputs, mask, selected, labels)[0]


# -------------------------------------------------------------------------------------------------- the loop
def _optimizer(module, p: dict, device: str, objective: str):
    decay, no_decay = [], []
    for name, param in module.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name or "norm" in name.lower() else decay).append(param)
    betas = (0.9, p["adam_beta2"]) if objective == "mlm" else (0.9, 0.999)
    eps = 1e-6 if objective == "mlm" else 1e-8
    groups = [dict(params=decay, weight_decay=p["weight_decay"]), dict(params=no_decay, weight_decay=0.0)]
    try:  # the fused kernel: one pass over the parameters (about 9x faster than the loop on these CPUs)
        return torch.optim.AdamW(groups, lr=p["lr"], betas=betas, eps=eps, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=p["lr"], betas=betas, eps=eps)


def _write_status(out_dir: Path, doc: dict) -> None:
    files.atomic_write_text(out_dir / STATUS_FILE, json.dumps(files.json_safe(doc), indent=1) + "\n")


def read_status(out_dir: str | os.PathLike) -> dict | None:
    path = Path(out_dir) / STATUS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _save_checkpoint(out_dir: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    files.atomic_write_bytes(out_dir / CHECKPOINT, buffer.getvalue())


def _export(task: Task, target: Path) -> Path:
    staged = files.staging_dir(target)
    with models.quiet_progress():
        task.export(staged)
    return files.atomic_replace_dir(staged, target)


def train(objective: str, params: dict | None, out_dir: str | os.PathLike, progress: bool = True,
          cache_dir: str | os.PathLike | None = None) -> dict:
    """Train (or resume, or return the record of a finished run in ``out_dir``); returns ``train.json``."""
    from tqdm import tqdm

    p = resolve_params(objective, params)
    device = devices.resolve_device(p["device"])
    procs = init_processes(device)
    if procs.world > 1 and devices.device_kind(device) == "cuda":
        device = f"cuda:{procs.local_rank}"
    precision = devices.resolve_precision(p["precision"], device)
    out_dir = Path(out_dir).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if devices.device_kind(device) == "cpu":
        devices.keep_freed_memory()
    for folder in ("best", "last"):
        files.recover_dir(out_dir / folder)

    checkpoint = None
    if (out_dir / CHECKPOINT).is_file():
        checkpoint = torch.load(out_dir / CHECKPOINT, map_location="cpu", weights_only=False)
        if checkpoint["params"] != files.json_safe(p) or checkpoint["objective"] != objective:
            theirs = checkpoint["params"]
            differ = sorted(k for k in set(theirs) | set(p) if theirs.get(k) != files.json_safe(p).get(k))
            raise TrainingError(f"{out_dir} holds a {checkpoint['objective']} run with other parameters "
                                f"(they differ in: {', '.join(differ) or 'the objective'}); use another out_dir "
                                f"or the same parameters to resume it")
        status = read_status(out_dir)
        if status and status.get("status") == "finished" and status.get("step") == checkpoint["step"] \
                and checkpoint["step"] == checkpoint["max_steps"]:
            return status

    clock = provenance.Clock()
    task = MLMTask(p, device, Path(cache_dir) if cache_dir else None, progress) if objective == "mlm" \
        else SimCSETask(p, device, progress)
    global_batch = p["batch_size"] * procs.world
    max_steps = schedule_steps(objective, p, task.n_train, global_batch)
    snapshots_at = snapshot_schedule(p["snapshot_steps"], max_steps)
    module = task.module if objective == "simcse" else MLMModule(task.module)
    trained = module
    if procs.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        trained = DistributedDataParallel(module, device_ids=[procs.local_rank] if device.startswith("cuda")
                                          else None, find_unused_parameters=True)
    optimizer = _optimizer(module, p, device, objective)
    scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")

    state = dict(step=0, evals=[], snapshots=[], loss_sum=0.0, loss_count=0, best=None, train_seconds=0.0,
                 sentences=0, tokens=0)
    if checkpoint is not None:
        module.load_state_dict(checkpoint["module"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scaler.load_state_dict(checkpoint["scaler"])
        state.update(checkpoint["state"])

    record = dict(status="running", objective=objective, step=state["step"], params=p,
                  schedule=dict(max_steps=max_steps, global_batch=global_batch, world_size=procs.world,
                                warmup_steps=int(p["warmup"] * max_steps), snapshot_steps=snapshots_at,
                                precision=precision, n_train_sentences=task.n_train))
    if objective == "mlm":
        record["baseline"] = task.baseline
    record["provenance"] = dict(
        model=dict(init=p["model"], source=(task.spec.source if objective == "simcse" else
                                            "initialised from the seed" if models_shape(p["model"]) else
                                            models.resolve(p["model"]).source),
                   weights_sha256=getattr(task, "init_fingerprint", None)),
        data=dict(identity=data.mirror_identity(p["data_dir"]), corpus_sha256=task.corpus_sha256),
        **provenance.environment(device))

    def write_record(status=None, **extra):
        if not procs.main:
            return
        throughput = dict(seconds=round(state["train_seconds"], 1),
                          steps_per_s=(state["step"] / state["train_seconds"]) if state["train_seconds"] else None,
                          sentences_per_s=state["sentences"] / state["train_seconds"] if state["train_seconds"]
                          else None, tokens_per_s=state["tokens"] / state["train_seconds"]
                          if state["train_seconds"] else None)
        record.update(step=state["step"], evals=state["evals"], snapshots=state["snapshots"], throughput=throughput,
                      wall_time_s=round(clock.elapsed(), 1), **extra)
        if status:
            record["status"] = status
        _write_status(out_dir, record)

    def evaluate(step: int):
        if not procs.main:
            return
        with devices.autocast(device, precision):  # evaluated in the training precision
            measured = task.evaluate()
        result = dict(step=step, loss=(state["loss_sum"] / state["loss_count"]) if state["loss_count"] else None,
                      **measured)
        state["loss_sum"], state["loss_count"] = 0.0, 0
        state["evals"].append(result)
        # as SimCSE's load_best_model_at_end: the best of the evaluations *during* training (not the start)
        if step > 0 and (state["best"] is None or result["stsb_dev"] > state["best"]["stsb_dev"]):
            state["best"] = dict(step=step, stsb_dev=result["stsb_dev"])
            _export(task, out_dir / "best")
        bar.set_postfix(loss=f"{result['loss']:.4f}" if result["loss"] is not None else "—",
                        stsb_dev=f"{result['stsb_dev']:.1f}")

    def snapshot(step: int):
        if not procs.main:
            return
        state["snapshots"].append(dict(step=step, **measure_snapshot(task, p)))

    def save():
        if procs.main:
            _save_checkpoint(out_dir, dict(objective=objective, params=files.json_safe(p), step=state["step"],
                                           max_steps=max_steps, module=module.state_dict(),
                                           optimizer=optimizer.state_dict(), scaler=scaler.state_dict(),
                                           state=state))
        procs.barrier()

    bar = tqdm(total=max_steps, initial=state["step"], desc=f"{objective} ({p['scale']})", unit="step",
               disable=not (progress and procs.main), dynamic_ncols=True)
    write_record()
    if state["step"] == 0:
        if 0 in snapshots_at:
            snapshot(0)
        evaluate(0)
        write_record()
    module.train()
    try:
        while state["step"] < max_steps:
            step = state["step"]
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, p, max_steps)
            task.reseed(step_seed(p["seed"], step, procs.rank))  # dropout of this step
            t0 = time.perf_counter()
            with devices.autocast(device, precision):
                loss, counts = task.loss(trained, step, procs, global_batch)
            if not torch.isfinite(loss.detach()):
                raise NonFiniteLoss(f"the loss is {float(loss.detach())} at step {step + 1}; stopped, keeping the last "
                                    f"good checkpoint (step {checkpoint_step(out_dir)}). Lower the learning rate "
                                    f"(lr = {p['lr']}) or use precision fp32.")
            scaler.scale(loss).backward()
            if p["grad_clip"] > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(module.parameters(), p["grad_clip"])
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            if devices.device_kind(device) == "cuda" and (step + 1) % 50 == 0:
                torch.cuda.synchronize()
            state["train_seconds"] += time.perf_counter() - t0
            state["loss_sum"] += float(loss.detach())
            state["loss_count"] += 1
            state["sentences"] += counts["sentences"] * procs.world
            state["tokens"] += counts["tokens"] * procs.world
            state["step"] = step = step + 1
            bar.update(1)
            if step in snapshots_at:
                snapshot(step)
            evaluated = step % p["eval_steps"] == 0 or step == max_steps
            if evaluated:
                evaluate(step)
            if step % p["checkpoint_steps"] == 0 or step == max_steps:
                save()
            if evaluated or step % p["checkpoint_steps"] == 0:
                write_record()
            module.train()
    except NonFiniteLoss as err:
        write_record("failed", error=str(err))
        raise
    finally:
        bar.close()

    final = state["evals"][-1] if state["evals"] and state["evals"][-1]["step"] == max_steps else None
    if procs.main:
        _export(task, out_dir / "last")
        final_sha = files.state_dict_sha256(task.encoder() if objective == "simcse" else task.module)
        write_record("finished", final=dict(step=max_steps, loss=final["loss"] if final else None,
                                            stsb_dev=final["stsb_dev"] if final else None, weights_sha256=final_sha),
                     best=state["best"])
    procs.barrier()
    return read_status(out_dir) if procs.main else record


def checkpoint_step(out_dir: Path) -> int:
    status = read_status(out_dir)
    return status["step"] if status else 0


def measure_snapshot(task: Task, p: dict) -> dict:
    """Chapter 1's metrics (and the token-class ones) on the analysis sentences, in eval mode."""
    from . import geometry

    texts = snapshot_sentences(p)
    model = task.snapshot_model()
    mask = tokens.functional_mask(task.tokenizer)
    geo = geometry.analyse_model(model, task.tokenizer, texts, [0], n_samples=min(1000, len(texts)),
                                 batch_size=64, progress=False, functional=mask)
    functional = np.flatnonzero(mask)
    semantic = np.flatnonzero(~mask)
    return dict(per_layer=geo.per_layer(), self_sim_functional=geo.self_sim(ids=functional),
                self_sim_semantic=geo.self_sim(ids=semantic), func_to_content=geo.func_to_content,
                sem_to_content=geo.sem_to_content)


_ANALYSIS_CACHE: dict = {}


def snapshot_sentences(p: dict) -> list[str]:
    """The analysis sentences (the authors' protocol): STS-B test ``sentence1``, the first ``snapshot_sentences``
    when that is > 0."""
    key = (p["data_dir"], p["snapshot_sentences"])
    if key not in _ANALYSIS_CACHE:
        _ANALYSIS_CACHE[key] = data.sentences(data.load("stsb", "test", p["data_dir"]), "sentence1",
                                              p["snapshot_sentences"])
    return _ANALYSIS_CACHE[key]
