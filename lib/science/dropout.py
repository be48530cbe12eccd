"""Dropout with masks drawn fast on the CPU: unsupervised SimCSE's only augmentation, at a fraction of the cost.

torch's CPU dropout draws its Bernoulli masks element by element from one serial Mersenne twister: about 10 ms for
the 1.6 M activations of one pocket-bert layer, and a SimCSE step draws 19 of them (embeddings; per layer the
attention probabilities, the attention output and the feed-forward output). Measured on two cores, that is a
fifth of the step. Here every mask of a step comes from NumPy's PCG64 generator, about three times faster,
seeded by the engine at every step from ``(seed, step, rank)`` -- so a resumed run draws the same masks.

The distribution is dropout's: an element is kept when a uniform 32-bit integer is at least ``round(p * 2**32)``
(``p`` exact to 2^-32), and kept elements are scaled by ``1 / (1 - p)``, as :func:`torch.nn.functional.dropout`.
:func:`install` swaps an encoder's ``nn.Dropout`` modules for :class:`Dropout` and routes its attention through
:func:`attention` (transformers' eager attention, with this dropout on the probabilities; without dropout, as in
evaluation, transformers' own SDPA attention, so a model measured mid-training gives what a fresh load gives).
On CUDA nothing is swapped: torch's dropout is fast there.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

ATTENTION = "srl_eager"


class MaskSource:
    """The generator every :class:`Dropout` of one model draws from; :meth:`seed` it before each step."""

    def __init__(self, seed: int = 0):
        self.seed(seed)

    def seed(self, seed: int) -> None:
        self.generator = np.random.Generator(np.random.PCG64(seed))

    def keep(self, shape, p: float) -> torch.Tensor:
        """A boolean keep-mask of ``shape``: each element kept with probability ``1 - p``."""
        n = int(np.prod(shape))
        draws = self.generator.integers(0, 2**32, n, dtype=np.uint32)
        return torch.from_numpy(draws >= np.uint32(round(p * 2**32))).view(tuple(shape))


class Dropout(nn.Dropout):
    """``nn.Dropout`` with its masks from a :class:`MaskSource` (an ``nn.Dropout`` still, for code that looks)."""

    def __init__(self, p: float, source: MaskSource):
        super().__init__(p)
        self.source = source

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0
        keep = self.source.keep(x.shape, self.p).to(x.device)
        return torch.where(keep, x * (1.0 / (1.0 - self.p)), 0)


def attention(module, query, key, value, attention_mask, scaling=None, dropout: float = 0.0, **kwargs):
    """transformers' eager attention with :class:`Dropout` on the probabilities (``module.dropout``); SDPA when
    there is no dropout."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if dropout == 0:
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=0.0, **kwargs)
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:  # SDPA's mask: True where a key may be attended to
        weights = weights.masked_fill(~attention_mask, float("-inf"))
    weights = module.dropout(torch.softmax(weights, dim=-1))
    out = torch.matmul(weights.to(value.dtype), value).transpose(1, 2).contiguous()
    return out, None


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, attention)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)


def install(model: nn.Module, source: MaskSource) -> nn.Module:
    """Swap ``model``'s dropout for :class:`Dropout` drawing from ``source`` (in place; returns ``model``)."""
    _register()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Dropout) and not isinstance(child, Dropout):
                setattr(parent, name, Dropout(child.p, source))
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "_attn_implementation"):
            config._attn_implementation = ATTENTION
    return model
