"""Masked-language-model pre-training, with the loss computed only where it is defined.

BERT's recipe (Devlin et al., 2019): 15 % of the real, non-special tokens are selected; of those, 80 % become
[MASK], 10 % a random token, 10 % stay. The stock ``BertForMaskedLM`` computes vocabulary logits at *every*
position and ignores the unselected ones in the loss; :func:`masked_lm_loss` gathers the hidden states of the
selected positions first, so the vocabulary projection -- most of a small model's compute -- runs on 15 % of
the tokens. The loss and the gradients are the same.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F

SHAPE = re.compile(r"^L(\d+)-H(\d+)-A(\d+)(?:-I(\d+))?$")


def parse_shape(text: str) -> dict | None:
    """``"L6-H384-A12-I1536"`` -> BertConfig keyword arguments (intermediate size defaults to 4 H)."""
    m = SHAPE.match(text)
    if not m:
        return None
    layers, hidden, heads, inter = (int(g) if g else None for g in m.groups())
    if hidden % heads:
        return None
    return dict(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                intermediate_size=inter or 4 * hidden)


def select(input_ids: torch.Tensor, attention_mask: torch.Tensor, special_ids: torch.Tensor, vocab_size: int,
           mask_id: int, probability: float, generator: torch.Generator):
    """Corrupt a batch for MLM. Returns ``(inputs, selected, labels)``: the corrupted ids, the boolean mask of
    the selected positions ``[b, T]`` and the original ids there ``[n_selected]``. At least one position is
    selected in every batch."""
    candidates = attention_mask.bool() & ~torch.isin(input_ids, special_ids)
    draw = torch.rand(input_ids.shape, generator=generator, device=input_ids.device)
    selected = candidates & (draw < probability)
    if not selected.any():
        selected = candidates & (draw == draw[candidates].min())
    labels = input_ids[selected]
    how = torch.rand(labels.shape, generator=generator, device=input_ids.device)
    random_ids = torch.randint(vocab_size, labels.shape, generator=generator, device=input_ids.device)
    replaced = torch.where(how < 0.8, torch.full_like(labels, mask_id), torch.where(how < 0.9, random_ids, labels))
    inputs = input_ids.clone()
    inputs[selected] = replaced
    return inputs, selected, labels


def masked_lm_loss(model, inputs: torch.Tensor, attention_mask: torch.Tensor, selected: torch.Tensor,
                   labels: torch.Tensor):
    """``(loss, n_correct)`` of a ``BertForMaskedLM`` at the selected positions only."""
    hidden = model.bert(input_ids=inputs, attention_mask=attention_mask).last_hidden_state
    logits = model.cls(hidden[selected]).float()
    return F.cross_entropy(logits, labels), (logits.argmax(-1) == labels).sum()
