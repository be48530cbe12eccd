"""Our MLM pre-training step against the stock one, same model, batches and precision, in one process.

    python benchmarks/bench_pretrain.py [--shape L6-H384-A12-I1536] [--batch 128] [--steps 20] [--precision fp32]
    python benchmarks/bench_pretrain.py --shape L12-H768-A12-I3072 --device cuda --precision bf16   # bert-base

- *stock*: ``BertForMaskedLM(input_ids, labels=...)`` on batches from ``DataCollatorForLanguageModeling`` (vocabulary
  logits at every position, loss on the selected ones), ``torch.optim.AdamW`` with its defaults.
- *ours*: the training engine's step (lib.science.mlm): selection on the device, hidden states of the selected
  positions gathered before the vocabulary projection, fused AdamW.

Both see the same corpus sentences (the first ones of the mirror's Wikipedia corpus, length-bucketed), the same
model (seeded), batch and precision; each is warmed up, then timed over ``--steps`` steps. The last line is one
JSON object with keys ours_tps, stock_tps, ratio, peak_rss_mb (tokens per second: real, non-pad tokens).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.science import corpus, data, devices, mlm, tiny  # noqa: E402


def model_for(shape: str, vocab_size: int):
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    config = BertConfig(vocab_size=vocab_size, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                        **mlm.parse_shape(shape))
    return BertForMaskedLM(config)


def timed(step, batches, steps: int, device: str) -> float:
    """Tokens per second over ``steps`` steps after two warm-up steps."""
    for b in batches[:2]:
        step(b)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    tokens, t0 = 0, time.perf_counter()
    for b in batches[2:2 + steps]:
        step(b)
        tokens += int(b[1].sum())
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return tokens / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="L6-H384-A12-I1536")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default="")
    args = parser.parse_args()

    device = devices.resolve_device(args.device)
    precision = devices.resolve_precision(args.precision, device)
    tokenizer = tiny.bert_tokenizer()
    lines = data.load("wiki", "train", args.data_dir, limit=args.batch * (args.steps + 2) * 4).columns["text"]
    corp = corpus.TokenizedCorpus.build(lines, tokenizer, args.max_len, progress=False)
    order = corpus.bucketed_batches(corp.lengths, args.batch, seed=0, epoch=0)[:args.steps + 2]
    batches = [tuple(t.to(device) for t in corp.batch(i)) for i in order]
    special = torch.tensor(sorted(tokenizer.all_special_ids), device=device)

    # stock: the collator's masking and labels, logits everywhere
    from transformers import DataCollatorForLanguageModeling

    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    stock_batches = []
    for ids, mask in batches:
        b = collator([{"input_ids": row[:int(m.sum())].tolist()} for row, m in zip(ids.cpu(), mask.cpu())])
        stock_batches.append((b["input_ids"].to(device), b["attention_mask"].to(device), b["labels"].to(device)))
    model = model_for(args.shape, len(tokenizer)).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")

    def stock_step(b):
        with devices.autocast(device, precision):
            loss = model(input_ids=b[0], attention_mask=b[1], labels=b[2]).loss
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    stock = timed(stock_step, [(b[0], b[1], b[2]) for b in stock_batches], args.steps, device)
    del model, optimizer

    model = model_for(args.shape, len(tokenizer)).to(device).train()
    try:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator(device=device).manual_seed(0)

    def our_step(b):
        inputs, selected, labels = mlm.select(b[0], b[1], special, len(tokenizer), tokenizer.mask_token_id, 0.15, gen)
        with devices.autocast(device, precision):
            loss, _ = mlm.masked_lm_loss(model, inputs, b[1], selected, labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    ours = timed(our_step, batches, args.steps, device)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    where = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"{args.shape}, batch {args.batch}, max_len {args.max_len}, {precision}, {where}")
    print(f"stock {stock:,.0f} tokens/s; ours {ours:,.0f} tokens/s; ratio {ours / stock:.2f}")
    out = dict(ours_tps=round(ours, 1), stock_tps=round(stock, 1), ratio=round(ours / stock, 3),
               peak_rss_mb=round(peak, 1), shape=args.shape, batch=args.batch, precision=precision,
               device=where)
    if device.startswith("cuda"):
        out["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
