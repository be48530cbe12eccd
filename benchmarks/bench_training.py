"""Our unsupervised SimCSE step against sentence-transformers' recipe, same model, steps, batch, max_len, precision.

    python benchmarks/bench_training.py [--model pocket-bert] [--batch 64] [--steps 10] [--precision fp32]
    python benchmarks/bench_training.py --shape L12-H768-A12-I3072 --device cuda --precision bf16   # bert-base

- *theirs*: sentence-transformers' unsupervised SimCSE (its docs' recipe): a ``SentenceTransformer`` of the same
  encoder with mean pooling, ``MultipleNegativesRankingLoss`` (scale 20 = temperature 0.05) over each sentence
  paired with itself, a plain training loop (``model.preprocess`` -> loss -> AdamW).
- *ours*: the training engine's SimCSE module (lib.science.simcse) with the same pooling (``avg``): the batch is
  doubled and encoded in one pass.

Both start from the same weights and see the same sentences (the mirror's Wikipedia corpus); each is warmed up,
then timed. The last line is one JSON object with keys ours_sps, theirs_sps, ratio, peak_rss_mb (sentences/s).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.science import data, devices, mlm, models, simcse, tiny  # noqa: E402


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


def timed(step, batches, steps: int, device: str) -> float:
    for b in batches[:2]:
        step(b)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for b in batches[2:2 + steps]:
        step(b)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return sum(len(b) for b in batches[2:2 + steps]) / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="pocket-bert")
    parser.add_argument("--shape", default="", help="a seeded random BERT of this shape instead of --model")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--max-len", type=int, default=32)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default="")
    args = parser.parse_args()

    device = devices.resolve_device(args.device)
    precision = devices.resolve_precision(args.precision, device)
    lines = data.load("wiki", "train", args.data_dir, limit=args.batch * (args.steps + 2)).columns["text"]
    batches = [lines[i:i + args.batch] for i in range(0, len(lines), args.batch)]
    tmp = tempfile.TemporaryDirectory()
    folder = encoder_folder(args, Path(tmp.name) / "encoder")
    scaler = torch.amp.GradScaler(devices.device_kind(device), enabled=precision == "fp16")

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    torch.manual_seed(0)
    transformer = Transformer(folder, max_seq_length=args.max_len)
    st = SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension(), "mean")],
                             device=device)
    st.train()
    loss_fn = MultipleNegativesRankingLoss(st)
    optimizer = torch.optim.AdamW(st.parameters(), lr=3e-5)

    def features(sentences):
        return {k: v.to(device) if torch.is_tensor(v) else v for k, v in st.preprocess(sentences).items()}

    def theirs_step(sentences):
        f1, f2 = features(sentences), features(sentences)  # two dicts: the forward pass writes into them
        with devices.autocast(device, precision):
            loss = loss_fn([f1, f2], labels=None)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    theirs = timed(theirs_step, batches, args.steps, device)
    del st, optimizer, loss_fn

    encoder, tokenizer = models.load_pretrained(models.resolve(folder))
    encoder.to(device).train()
    try:
        optimizer = torch.optim.AdamW(encoder.parameters(), lr=3e-5, fused=True)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(encoder.parameters(), lr=3e-5)

    def our_step(sentences):
        batch = tokenizer(sentences, padding=True, truncation=True, max_length=args.max_len, return_tensors="pt")
        with devices.autocast(device, precision):
            z1, z2 = simcse.views(encoder, batch["input_ids"].to(device), batch["attention_mask"].to(device), "avg",
                                  None)
            loss = simcse.contrastive_loss(z1, z2, 0.05)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    ours = timed(our_step, batches, args.steps, device)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    where = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    name = args.shape or args.model
    print(f"{name}, batch {args.batch}, max_len {args.max_len}, {precision}, {where}")
    print(f"theirs {theirs:,.1f} sentences/s; ours {ours:,.1f} sentences/s; ratio {ours / theirs:.2f}")
    out = dict(ours_sps=round(ours, 2), theirs_sps=round(theirs, 2), ratio=round(ours / theirs, 3),
               peak_rss_mb=round(peak, 1), model=name, batch=args.batch, precision=precision, device=where)
    if device.startswith("cuda"):
        out["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
