"""Our unsupervised SimCSE step against sentence-transformers' recipe, same model, weights, sentences, batch,
max_len and precision, timed in one process, interleaved.

    python benchmarks/bench_training.py [--model pocket-bert] [--batch 64] [--rounds 5] [--steps 2] [--precision fp32]
    python benchmarks/bench_training.py --precision bf16 --threads 1 --profile 4   # + where each side spends its time
    python benchmarks/bench_training.py --shape L12-H768-A12-I3072 --device cuda --precision bf16   # bert-base

- *theirs*: sentence-transformers' unsupervised SimCSE (its docs' recipe) with the settings its trainer would
  use: a ``SentenceTransformer`` of the same encoder with mean pooling, ``MultipleNegativesRankingLoss`` (scale
  20 = temperature 0.05) over each sentence paired with itself (two tokenised columns, two forward passes, as the
  trainer feeds an (anchor, positive) dataset), fused AdamW and gradient clipping at 1.0 (the trainer's defaults),
  autocast for bf16, and the faster attention implementation on this device (``--their-attention``: on the CPU
  ``eager``, measured a little faster than ``sdpa`` with dropout).
- *ours*: the training engine's SimCSE step, built as ``lib.science.training.SimCSETask`` builds it: the encoder
  from :func:`lib.science.models.load_pretrained`, on the CPU its dropout drawn by :mod:`lib.science.dropout`
  (reseeded at every step from the engine's per-step seed), the doubled batch encoded in one pass
  (:func:`lib.science.simcse.views`, pooling ``avg`` to match theirs), :func:`lib.science.simcse.contrastive_loss`,
  fused AdamW, gradient clipping at 1.0, autocast for bf16.

Fairness: both sides load the same float32 weights (the parameter dtypes are asserted before timing), run in the
same process with the same threads and the same allocator setting (glibc keeps freed memory,
:func:`lib.science.devices.keep_freed_memory`, applied to the process before either side is built; ``--no-keep``
leaves it off for both), see the same sentences, and are timed in alternating rounds (``--rounds`` rounds of
``--steps`` steps, which side goes first alternating; :mod:`benchmarks.common`), so a background load slows both
alike. Each side is warmed up first. The ratio is ours / theirs in sentences per second over all rounds; the
per-round ratios show the noise, and the ratio in process CPU time is less disturbed by a background load (with
one thread it is the time the steps computed). ``--profile N`` adds torch.profiler's self CPU time per operator
and by category for N steps of each side, the FLOPs of a step of each (the same matrix products), and the most
ours could gain were everything but its matrix products free. The last line is one JSON object with keys
ours_sps, theirs_sps, ratio, round_ratios, cpu_ratio, peak_rss_mb (and profile, ratio_bound with ``--profile``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402
from lib.science import data, devices, dropout, mlm, models, simcse, tiny  # noqa: E402

TEMPERATURE, LR, CLIP = 0.05, 3e-5, 1.0


def encoder_folder(args, where: Path) -> str:
    """A save_pretrained folder both sides load: ``--model`` as is, or a seeded random BERT of ``--shape``."""
    if not args.shape:
        return str(models.resolve(args.model).path)
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = tiny.bert_tokenizer()
    BertModel(BertConfig(vocab_size=len(tokenizer), **mlm.parse_shape(args.shape))).save_pretrained(where)
    tokenizer.save_pretrained(where)
    return str(where)


def adamw(params):
    try:  # the fused kernel, on both sides (the sentence-transformers trainer's default optimiser, adamw_torch_fused)
        return torch.optim.AdamW(params, lr=LR, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(params, lr=LR)


def step_seed(step: int) -> int:
    """The engine's per-step seed (``lib.science.training.step_seed`` with seed 0, rank 0)."""
    return int(np.random.SeedSequence([0, step, 0]).generate_state(1)[0])


def float32_only(module, name: str) -> None:
    dtypes = {p.dtype for p in module.parameters()}
    if dtypes != {torch.float32}:
        raise SystemExit(
            f"{name}'s parameters are {sorted(map(str, dtypes))}, not float32: the comparison would "
            f"not be of the same model"
        )


def theirs_side(folder: str, args, device: str, precision: str):
    """sentence-transformers' unsupervised SimCSE step; returns ``(step, model)``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    torch.manual_seed(0)
    transformer = Transformer(
        folder, max_seq_length=args.max_len, model_kwargs=dict(attn_implementation=args.their_attention)
    )
    st = SentenceTransformer(
        modules=[transformer, Pooling(transformer.get_embedding_dimension(), "mean")], device=device
    )
    st.train()
    loss_fn = MultipleNegativesRankingLoss(st, scale=1 / TEMPERATURE)
    optimizer = adamw(st.parameters())
    scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")

    def features(sentences):
        return {k: v.to(device) if torch.is_tensor(v) else v for k, v in st.preprocess(sentences).items()}

    def step(k, sentences):
        torch.manual_seed(step_seed(k))
        f1, f2 = features(sentences), features(sentences)  # the anchor and positive columns, tokenised apart
        with devices.autocast(device, precision):
            loss = loss_fn([f1, f2], labels=None)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(st.parameters(), CLIP)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    return step, st


def ours_side(folder: str, args, device: str, precision: str):
    """The engine's SimCSE step (as lib.science.training.SimCSETask builds it); returns ``(step, encoder)``."""
    encoder, tokenizer = models.load_pretrained(models.resolve(folder))
    masks = None
    if devices.device_kind(device) == "cpu":
        masks = ProfiledMasks()  # dropout.MaskSource, its draws labelled for --profile
        dropout.install(encoder, masks)
    encoder.to(device).train()
    optimizer = adamw(encoder.parameters())
    scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")

    def step(k, sentences):
        seed = step_seed(k)
        torch.manual_seed(seed)
        if masks is not None:
            masks.seed(seed)
        batch = tokenizer(sentences, padding=True, truncation=True, max_length=args.max_len, return_tensors="pt")
        with devices.autocast(device, precision):
            z1, z2 = simcse.views(
                encoder, batch["input_ids"].to(device), batch["attention_mask"].to(device), "avg", None
            )
            loss = simcse.contrastive_loss(z1, z2, TEMPERATURE)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(encoder.parameters(), CLIP)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    return step, encoder


class ProfiledMasks(dropout.MaskSource):
    """The engine's mask source, its NumPy draws labelled for the profiler (NumPy is invisible to it otherwise)."""

    def keep(self, shape, p):
        with torch.profiler.record_function("srl::dropout_masks"):
            return super().keep(shape, p)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="pocket-bert")
    parser.add_argument("--shape", default="", help="a seeded random BERT of this shape instead of --model")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds")
    parser.add_argument("--steps", type=int, default=2, help="steps per side per round")
    parser.add_argument("--max-len", type=int, default=32)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default="")
    parser.add_argument(
        "--their-attention",
        default="best",
        choices=["best", "sdpa", "eager"],
        help="transformers' attention implementation for theirs (best: eager on the CPU, measured "
        "faster there with dropout, sdpa on CUDA)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads for both sides (0: torch's default)")
    parser.add_argument("--no-keep", action="store_true", help="leave glibc's allocator at its default (both sides)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="STEPS",
        help="also profile STEPS steps of each side and print the top operators by self CPU time",
    )
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = devices.resolve_device(args.device)
    precision = devices.resolve_precision(args.precision, device)
    if args.their_attention == "best":
        args.their_attention = "eager" if devices.device_kind(device) == "cpu" else "sdpa"
    keep = devices.device_kind(device) == "cpu" and not args.no_keep and devices.keep_freed_memory()
    n_batches = 2 + args.rounds * args.steps
    lines = data.load("wiki", "train", args.data_dir, limit=args.batch * n_batches).columns["text"]
    batches = [lines[i : i + args.batch] for i in range(0, len(lines), args.batch)]
    tmp = tempfile.TemporaryDirectory()
    folder = encoder_folder(args, Path(tmp.name) / "encoder")

    theirs_step, st = theirs_side(folder, args, device, precision)
    ours_step, encoder = ours_side(folder, args, device, precision)
    float32_only(st, "theirs (SentenceTransformer)")
    float32_only(encoder, "ours (lib.science.models.load_pretrained)")
    sides = {
        name: (lambda k, step=step: step(k, batches[k % len(batches)]) or args.batch)
        for name, step in (("theirs", theirs_step), ("ours", ours_step))
    }
    for k in range(2):  # warm-up
        for side in sides.values():
            side(k)
    common.sync(device)
    timing = common.alternate(sides, args.rounds, args.steps, first_step=2, device=device)
    result = common.compare(timing, "ours", "theirs")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    where = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    name = args.shape or args.model
    print(
        f"{name} (float32 weights on both sides), batch {args.batch}, max_len {args.max_len}, {precision}, {where}, "
        f"glibc keeps freed memory: {bool(keep)} (both sides)"
    )
    print(f"{args.rounds} alternating rounds of {args.steps} steps per side, after 2 warm-up steps each")
    result.report("sentences/s", "sentences per CPU second", ",.2f")
    out = dict(
        ours_sps=round(result.wall["ours"], 2),
        theirs_sps=round(result.wall["theirs"], 2),
        **result.fields(),
        round_ratio_spread=round(max(result.round_ratios) - min(result.round_ratios), 3),
        peak_rss_mb=round(peak, 1),
        model=name,
        batch=args.batch,
        max_len=args.max_len,
        precision=precision,
        device=where,
        keep_freed_memory=bool(keep),
        parameters_dtype="float32",
    )
    if device.startswith("cuda"):
        out["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    if args.profile:
        out["profile"] = prof = common.profile(sides, args.profile)
        bound = prof["theirs"]["self_cpu_s_per_step"] / prof["ours"]["by_category"]["matrix products"]
        out["ratio_bound"] = round(bound, 2)
        print(
            f"  the most ours could gain, were everything but its matrix products free: theirs' total over ours' "
            f"matrix products = {bound:.2f}x"
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
