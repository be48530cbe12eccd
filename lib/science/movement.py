"""How far contrastive training moved a model: measured from the weights, bounded by the schedule.

A claim about what contrastive learning changes can only be tested by a run that could change it. Adam moves a
weight by about its learning rate per step at most (Kingma & Ba, 2015, §2.1: the effective step is approximately
bounded by the step size; strictly by ``lr (1 - b1) / sqrt(1 - b2)``, 3.16 lr with SimCSE's betas), so over a
schedule a weight moves by at most about ``sum_t lr_t`` (:func:`summed_lr`). SimCSE's unsupervised BERT-base run
(lr 3e-5, linear decay over 15,625 steps) allows about 0.23; a 250-step pocket run at the same rate 0.004.

In a post-LayerNorm encoder (BERT), the last layer's token vectors are ``gamma * x_hat + beta`` with
``||x_hat|| = sqrt(d)``: their norm is pinned near ``mean(gamma) sqrt(d)``. Moving it by a share ``s`` needs the
gains (or biases) to move by about ``s * mean(gamma)``: :func:`norm_change_bound` is the largest relative norm
change a schedule allows.
"""

from __future__ import annotations

import math

import numpy as np
import torch

SIMCSE_BERT_BASE = dict(lr=3e-5, steps=15625, warmup=0, batch=64, epoch_sentences=1_000_000)
ADAM_STEP_BOUND = 0.1 / math.sqrt(1 - 0.999)  # (1 - b1) / sqrt(1 - b2) with b1 = 0.9, b2 = 0.999


def summed_lr(lr: float, steps: int, warmup: int = 0, upto: int | None = None) -> float:
    """``sum_t lr_t`` of the linear schedule (warm-up, then linear decay to 0) over the first ``upto`` steps."""
    upto = steps if upto is None else min(upto, steps)
    total = 0.0
    for t in range(upto):
        total += lr * (t / max(1, warmup) if t < warmup else max(0.0, (steps - t) / max(1, steps - warmup)))
    return total


def layer_of(name: str) -> str:
    """The part of a BERT-like encoder a parameter belongs to: ``embeddings``, ``layer N`` or ``other``."""
    parts = name.split(".")
    if "embeddings" in parts:
        return "embeddings"
    if "layer" in parts:
        i = parts.index("layer")
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            return f"layer {int(parts[i + 1]) + 1}"
    return "other"


def relative_change(before: torch.nn.Module, after: torch.nn.Module) -> dict[str, float]:
    """Per part of the encoder (embeddings, layer 1..L), ``||W_after - W_before|| / ||W_before||`` over all its
    parameters (the pooler, which only [CLS] pooling reads, is left out)."""
    b, a = dict(before.named_parameters()), dict(after.named_parameters())
    sums: dict[str, list[float]] = {}
    for name, w0 in b.items():
        if name not in a or "pooler" in name:
            continue
        part = layer_of(name)
        if part == "other":
            continue
        w0 = w0.detach().float()
        diff = float((a[name].detach().float().to(w0.device) - w0).pow(2).sum())
        base = float(w0.pow(2).sum())
        s = sums.setdefault(part, [0.0, 0.0])
        s[0] += diff
        s[1] += base
    order = sorted(sums, key=lambda k: (k != "embeddings", int(k.split()[1]) if k.startswith("layer") else 0))
    return {k: math.sqrt(sums[k][0] / sums[k][1]) if sums[k][1] else float("nan") for k in order}


def last_layernorm(model: torch.nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """``(gamma, beta)`` of the LayerNorm that closes the encoder's last layer (what sets its token norms in a
    post-LayerNorm encoder)."""
    norms = [
        (n, m)
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.LayerNorm) and n.endswith("output.LayerNorm") and ".attention." not in n
    ]
    if not norms:
        raise ValueError("no post-LayerNorm output norm found (expected a BERT-like encoder)")
    _, ln = norms[-1]
    return ln.weight.detach().float().cpu().numpy(), ln.bias.detach().float().cpu().numpy()


def norm_change_bound(summed: float, gamma: np.ndarray, step_bound: float = 1.0) -> float:
    """The largest relative change of a post-LayerNorm encoder's last-layer token norm a schedule allows: gains
    and biases each move by at most ``step_bound * summed`` (``step_bound`` 1: Adam's usual step; 3.16: its strict
    bound with SimCSE's betas), against a norm of about ``mean(|gamma|) sqrt(d)``."""
    return 2 * step_bound * summed / float(np.mean(np.abs(gamma)))


def null_control(plm: torch.nn.Module, moved: torch.nn.Module, seed: int) -> torch.nn.Module:
    """A copy of ``plm`` moved as far as ``moved`` is from it, tensor by tensor, in a random direction: each
    parameter ``W`` becomes ``W + ||W_moved - W|| G / ||G||`` with ``G`` standard normal (seeded by ``seed``,
    drawn in parameter order). The pooler is left alone (the token geometry never reads it).

    The null control of a claim about what contrastive training changes: a change the control shows too follows
    from moving the weights this far at all, not from the contrastive objective."""
    import copy

    out = copy.deepcopy(plm)
    target = dict(moved.named_parameters())
    generator = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, w in out.named_parameters():
            if name not in target or "pooler" in name:
                continue
            size = float((target[name].detach().float().cpu() - w.detach().float().cpu()).norm())
            noise = torch.randn(w.shape, generator=generator, dtype=torch.float32)
            if size > 0:
                w.add_((noise * (size / float(noise.norm()))).to(device=w.device, dtype=w.dtype))
    return out
