"""Unsupervised SimCSE (Gao et al., 2021): dropout is the only augmentation.

Each sentence of a batch is encoded twice in one pass (the batch is doubled, rows ``2i`` and ``2i + 1`` being the
same sentence, as SimCSE's ``(bs, 2, len)`` layout flattened); the two dropout masks make two views. The loss is
cross-entropy over cosine similarities divided by the temperature, the other sentences of the batch being the
negatives. Under data parallelism the views of *every* process are gathered, so the negatives span the global
batch; the local slice keeps its gradient (all_gather has none), exactly as SimCSE's ``cl_forward``.

With ``cls`` pooling (SimCSE's default for unsupervised training) an :class:`MLP` (dense + tanh, initialised like
BERT's weights) is applied during training only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .pooling import needs_all_layers, pool


class MLP(nn.Module):
    """SimCSE's ``MLPLayer``: dense (hidden -> hidden) then tanh."""

    def __init__(self, hidden_size: int, initializer_range: float = 0.02):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.Tanh()
        nn.init.normal_(self.dense.weight, std=initializer_range)
        nn.init.zeros_(self.dense.bias)

    def forward(self, x):
        return self.activation(self.dense(x))


def views(encoder, input_ids: torch.Tensor, attention_mask: torch.Tensor, pooling: str, mlp: MLP | None):
    """The two dropout views ``(z1, z2)`` ``[b, d]`` of a batch, from one pass over the doubled batch."""
    ids = input_ids.repeat_interleave(2, dim=0)
    mask = attention_mask.repeat_interleave(2, dim=0)
    out = encoder(input_ids=ids, attention_mask=mask, output_hidden_states=needs_all_layers(pooling))
    states = out.hidden_states if needs_all_layers(pooling) else (out.last_hidden_state,)
    z = pool(states, mask, pooling)
    if pooling == "cls":
        z = mlp(z)
    z = z.view(input_ids.shape[0], 2, -1)
    return z[:, 0], z[:, 1]


def gather_with_grad(z: torch.Tensor) -> torch.Tensor:
    """All processes' ``z`` concatenated in rank order; this process's slice keeps its gradient."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return z
    parts = [torch.zeros_like(z) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, z.contiguous())
    parts[dist.get_rank()] = z
    return torch.cat(parts, 0)


def contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE over the (global) batch: cos(z1_i, z2_j) / temperature, the positive on the diagonal."""
    z1, z2 = gather_with_grad(z1.float()), gather_with_grad(z2.float())
    logits = F.cosine_similarity(z1.unsqueeze(1), z2.unsqueeze(0), dim=-1) / temperature
    return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))
