"""Sentence vectors from token vectors: SimCSE's poolers.

``hidden_states`` is the tuple a transformers encoder returns with ``output_hidden_states=True`` (index 0 = the
embeddings, 1 = the first layer, ..., -1 = the last); ``mask`` is the attention mask ``[b, T]``.

- ``cls``: the [CLS] vector of the last layer. In unsupervised SimCSE (its default, ``--mlp_only_train``) an MLP
  sits on top of it *during training only* (:class:`lib.science.simcse.MLP`); evaluated, a ``cls`` model is read
  here without it, exactly like ``cls_before_pooler``;
- ``cls_before_pooler``: the [CLS] vector of the last layer, trained without the MLP;
- ``avg``: the mean of the last layer's tokens (pad excluded);
- ``avg_first_last``: the mean over tokens of the average of the *first layer* and the last layer
  (``hidden_states[1]`` and ``[-1]``, as SimCSE's code since its fix of Jan 2022; its paper's number used the
  embeddings);
- ``avg_top2``: the mean over tokens of the average of the last two layers.
"""

from __future__ import annotations

POOLINGS = ("cls", "cls_before_pooler", "avg", "avg_first_last", "avg_top2")


def masked_mean(x, mask):
    """Mean over the token axis of ``x`` ``[b, T, d]`` where ``mask`` ``[b, T]`` is 1."""
    m = mask.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(1) / m.sum(1).clamp_min(1)


def pool(hidden_states, mask, pooling: str):
    """Sentence vectors ``[b, d]``."""
    if pooling in ("cls", "cls_before_pooler"):
        return hidden_states[-1][:, 0]
    if pooling == "avg":
        return masked_mean(hidden_states[-1], mask)
    if pooling == "avg_first_last":
        return masked_mean((hidden_states[1] + hidden_states[-1]) / 2, mask)
    if pooling == "avg_top2":
        return masked_mean((hidden_states[-2] + hidden_states[-1]) / 2, mask)
    raise ValueError(f"pooling = {pooling!r}; expected one of {POOLINGS}")


def needs_all_layers(pooling: str) -> bool:
    return pooling in ("avg_first_last", "avg_top2")
