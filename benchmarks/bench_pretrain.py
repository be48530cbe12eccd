"""Our MLM pre-training step against the stock one, same model, sentences and precision, timed in one process.

    python benchmarks/bench_pretrain.py [--shape L6-H384-A12-I1536] [--batch 128] [--rounds 3] [--precision fp32]
    python benchmarks/bench_pretrain.py --precision bf16 --pack 0          # ours without packing
    python benchmarks/bench_pretrain.py --precision bf16 --threads 1 --profile   # + where each side spends its time
    python benchmarks/bench_pretrain.py --shape L12-H768-A12-I3072 --device cuda --precision bf16   # bert-base

- *stock*: ``BertForMaskedLM(input_ids, labels=...)`` on batches from ``DataCollatorForLanguageModeling``
  (vocabulary logits at every position, loss on the selected ones), ``torch.optim.AdamW`` (fused, the Hugging Face
  trainer's default), with its best settings on this machine: length-grouped batches (the trainer's
  ``group_by_length``: little padding) and the faster of transformers' attention implementations for the
  precision (``--stock-attention``; on the CPU ``sdpa`` for fp32 and ``eager`` for bf16, where the backward pass
  of SDPA's CPU kernel is several times slower than eager attention at these shapes).
- *ours*: :mod:`lib.science.mlm`'s step -- the loss the training engine computes (selection on the device, the
  last layer at the selected positions only) -- plus packing, which the engine does not use yet (it reads
  length-bucketed batches, about 95 % real tokens; ``--pack 0`` times exactly the engine's step): the sentences of each
  batch packed into rows of ``--pack`` tokens (default: ``--max-len``) with a block-diagonal attention mask
  (:func:`lib.science.mlm.pack_batch`: no padding, no attention across sentences, each sentence with its own
  positions), so batches need no length grouping; the last layer's output projection and feed-forward network
  and the vocabulary projection at the selected positions only (:func:`lib.science.mlm.masked_lm_loss`, no
  argmax); fused AdamW; the attention implementation chosen as stock's (``--our-attention``).

Both read the same sentences (``--batches`` length-grouped batches of ``--batch`` sentences of the mirror's
Wikipedia corpus; ours reads the same sentences shuffled into batches of the same size, or stock's batches with
``--pack 0``), the same seeded model, the same precision, threads and allocator setting (glibc keeps freed
memory, applied to the process, so to both). Each side is warmed up on every batch, then the two are timed in
alternating rounds (:mod:`benchmarks.common`), each round one step per batch of each side, which side goes first
alternating, so a background load slows both alike. Throughput is real (non-pad) tokens per second; the ratio in
process CPU time is less disturbed by a background load. ``--profile`` adds torch.profiler's self CPU time per
operator and by category, the FLOPs per real token of each side, and the most ours could gain were everything but
its matrix products free. The last line is one JSON object with keys ours_tps, stock_tps, ratio, round_ratios,
cpu_ratio, peak_rss_mb (and profile, mflop_per_token, ratio_bound with ``--profile``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402
from lib.science import corpus, data, devices, mlm, tiny  # noqa: E402

BEST_ATTENTION = {"cpu": {"fp32": "sdpa", "bf16": "eager"}, "cuda": {"fp32": "sdpa", "bf16": "sdpa", "fp16": "sdpa"}}


def model_for(shape: str, vocab_size: int, attention: str):
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=vocab_size, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **mlm.parse_shape(shape)
    )
    config._attn_implementation = attention
    return BertForMaskedLM(config)


def adamw(params, lr=1e-4):
    try:  # the fused kernel on both sides (the Hugging Face trainer's default optimiser, adamw_torch_fused)
        return torch.optim.AdamW(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(params, lr=lr)


def stock_side(batches, tokenizer, args, device, precision, attention):
    """``(step, inputs)``: the stock step and its batches (the collator's masking and labels)."""
    from transformers import DataCollatorForLanguageModeling

    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    inputs = []
    for ids, mask in batches:
        b = collator([{"input_ids": row[: int(m.sum())].tolist()} for row, m in zip(ids, mask)])
        inputs.append((b["input_ids"].to(device), b["attention_mask"].to(device), b["labels"].to(device)))
    model = model_for(args.shape, len(tokenizer), attention).to(device).train()
    optimizer = adamw(model.parameters())
    scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")

    def step(b):
        with devices.autocast(device, precision):
            loss = model(input_ids=b[0], attention_mask=b[1], labels=b[2]).loss
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    return step, inputs


def ours_side(batches, tokenizer, args, device, precision, attention):
    """``(step, inputs)``: the engine's step and its batches (packed into rows of ``args.pack`` tokens, or as
    they are with ``--pack 0``)."""
    special = torch.tensor(sorted(tokenizer.all_special_ids), device=device)
    model = model_for(args.shape, len(tokenizer), attention).to(device).train()
    optimizer = adamw(model.parameters())
    scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")
    gen = torch.Generator(device=device).manual_seed(0)
    inputs = []
    for ids, mask in batches:
        if args.pack:
            packed = mlm.pack_batch(ids.to(device), mask.to(device), args.pack, tokenizer.pad_token_id)
            dtype = torch.bfloat16 if precision == "bf16" else torch.float16 if precision == "fp16" else torch.float32
            inputs.append((packed.input_ids, packed.real, packed.mask_for(model, dtype), packed.position_ids))
        else:
            inputs.append((ids.to(device), mask.to(device), mask.to(device), None))

    def step(b):
        ids, real, attention_mask, positions = b
        corrupted, selected, labels = mlm.select(ids, real, special, len(tokenizer), tokenizer.mask_token_id, 0.15, gen)
        with devices.autocast(device, precision):
            loss, _ = mlm.masked_lm_loss(
                model, corrupted, attention_mask, selected, labels, position_ids=positions, count_correct=False
            )
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    return step, inputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="L6-H384-A12-I1536")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--batches", type=int, default=6, help="batches of --batch sentences; a round reads them all")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument(
        "--pack",
        type=int,
        default=None,
        help="ours: length of the packed rows (default: --max-len; 0: no packing, ours reads stock's "
        "length-grouped padded batches)",
    )
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--stock-attention", default="best", choices=["best", "sdpa", "eager"])
    parser.add_argument("--our-attention", default="best", choices=["best", "sdpa", "eager"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads for both sides (0: torch's default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default="")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one step of each side per batch and print where the time goes",
    )
    args = parser.parse_args()
    if args.pack is None:
        args.pack = args.max_len

    if args.threads:
        torch.set_num_threads(args.threads)
    device = devices.resolve_device(args.device)
    precision = devices.resolve_precision(args.precision, device)
    keep = devices.device_kind(device) == "cpu" and devices.keep_freed_memory()
    best = BEST_ATTENTION[devices.device_kind(device)][precision]
    stock_attention = best if args.stock_attention == "best" else args.stock_attention
    our_attention = best if args.our_attention == "best" else args.our_attention
    tokenizer = tiny.bert_tokenizer()
    lines = data.load("wiki", "train", args.data_dir, limit=args.batch * args.batches * 4).columns["text"]
    corp = corpus.TokenizedCorpus.build(lines, tokenizer, args.max_len, progress=False)
    order = corpus.bucketed_batches(corp.lengths, args.batch, seed=0, epoch=0)[: args.batches]
    batches = [corp.batch(i) for i in order]
    # ours, packed, needs no length grouping: the same sentences, in random batches of the same size
    shuffled = np.random.default_rng(0).permutation(np.concatenate(order))
    our_batches = (
        [corp.batch(shuffled[i : i + args.batch]) for i in range(0, len(shuffled), args.batch)]
        if args.pack
        else batches
    )
    tokens = {"stock": [int(mask.sum()) for _, mask in batches], "ours": [int(mask.sum()) for _, mask in our_batches]}

    built = dict(
        stock=stock_side(batches, tokenizer, args, device, precision, stock_attention),
        ours=ours_side(our_batches, tokenizer, args, device, precision, our_attention),
    )
    sides = {
        name: (lambda k, step=step, inputs=inputs, n=tokens[name]: step(inputs[k % len(inputs)]) or n[k % len(inputs)])
        for name, (step, inputs) in built.items()
    }
    for k in range(len(batches)):  # warm-up: every batch once (each shape an allocator sees)
        for side in sides.values():
            side(k)
    common.sync(device)
    timing = common.alternate(sides, args.rounds, len(batches), device=device)
    result = common.compare(timing, "ours", "stock")
    padded = sum(ids.numel() for ids, _ in batches)
    if args.pack:
        rows = sum(len(mlm.pack(mask.sum(1).numpy(), args.pack)) for _, mask in our_batches)
        layout = (
            f"random batches packed into rows of {args.pack} ({sum(tokens['ours']) / (rows * args.pack):.1%} filled)"
        )
    else:
        layout = "padded as stock"

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    where = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"{args.shape}, batches of {args.batch} sentences (max_len {args.max_len}), {precision}, {where}, glibc "
        f"keeps freed memory: {bool(keep)} (both)"
    )
    print(
        f"stock: attention {stock_attention}, length-grouped padded batches "
        f"({sum(tokens['stock']) / padded:.1%} real tokens); ours: attention {our_attention}, {layout}"
    )
    print(
        f"{args.rounds} alternating rounds, each of one step per batch ({len(batches)}) per side, after a warm-up "
        f"step on every batch"
    )
    result.report("tokens/s", "tokens per CPU second", ",.0f")
    out = dict(
        ours_tps=round(result.wall["ours"], 1),
        stock_tps=round(result.wall["stock"], 1),
        **result.fields(),
        peak_rss_mb=round(peak, 1),
        shape=args.shape,
        batch=args.batch,
        pack=args.pack,
        precision=precision,
        stock_attention=stock_attention,
        our_attention=our_attention,
        device=where,
        keep_freed_memory=bool(keep),
    )
    if device.startswith("cuda"):
        out["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    if args.profile:  # every batch once per side: both sides see the same sentences
        out["profile"] = prof = common.profile(sides, len(batches), count_flops=False)
        per = {name: sum(tokens[name]) / len(batches) for name in sides}
        mflop = {
            name: sum(common.flops(side, k) for k in range(len(batches))) / sum(tokens[name]) / 1e6
            for name, side in sides.items()
        }
        out["mflop_per_token"] = {name: round(v, 1) for name, v in mflop.items()}
        print(f"  {'MFLOP per real token':28s} " + " ".join(f"{mflop[n]:10.1f}" for n in sides))
        bound = (prof["stock"]["self_cpu_s_per_step"] / per["stock"]) / (
            prof["ours"]["by_category"]["matrix products"] / per["ours"]
        )
        out["ratio_bound"] = round(bound, 2)
        print(
            f"  the most ours could gain, were everything but its matrix products free: stock's total over ours' "
            f"matrix products, per token = {bound:.2f}x"
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
