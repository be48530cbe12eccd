"""Masked-language-model pre-training, with the loss computed only where it is defined.

BERT's recipe (Devlin et al., 2019): 15 % of the real, non-special tokens are selected; of those, 80 % become
[MASK], 10 % a random token, 10 % stay. The stock ``BertForMaskedLM`` computes vocabulary logits at *every*
position and ignores the unselected ones in the loss; :func:`masked_lm_loss` gathers the hidden states of the
selected positions first, so the vocabulary projection -- most of a small model's compute -- runs on 15 % of
the tokens, and so does the last layer's output projection and feed-forward network
(:func:`selected_hidden_states`). The loss and the gradients are the same.

**Packing** (:func:`pack`, :func:`pack_batch`, :class:`Packed`): the sentences of a batch placed end to end in
rows of a fixed length, each with its own [CLS]/[SEP] and position ids from 0, with a block-diagonal attention
mask, so no position is padding and no attention crosses sentences: each sentence gets the hidden states it gets
alone, and the loss is the loss of the unpacked batch. It makes length-grouped batches unnecessary::

    packed = pack_batch(ids, mask, row_length=64, pad_id=tokenizer.pad_token_id)
    inputs, selected, labels = select(packed.input_ids, packed.real, special, vocab_size, mask_id, 0.15, generator)
    loss, _ = masked_lm_loss(model, inputs, packed.mask_for(model), selected, labels,
                             position_ids=packed.position_ids, count_correct=False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
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
    return dict(
        num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads, intermediate_size=inter or 4 * hidden
    )


def select(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    special_ids: torch.Tensor,
    vocab_size: int,
    mask_id: int,
    probability: float,
    generator: torch.Generator,
):
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


def masked_lm_loss(
    model,
    inputs: torch.Tensor,
    attention_mask: torch.Tensor,
    selected: torch.Tensor,
    labels: torch.Tensor,
    position_ids: torch.Tensor | None = None,
    count_correct: bool = True,
):
    """``(loss, n_correct)`` of a ``BertForMaskedLM`` at the selected positions only. For a packed batch
    (:func:`pack_batch`), ``attention_mask`` is its 4D block-diagonal mask and ``position_ids`` its positions.
    ``count_correct=False`` skips the argmax over the vocabulary (``n_correct`` is then None): training needs only
    the loss."""
    hidden = selected_hidden_states(model.bert, inputs, attention_mask, selected, position_ids)
    logits = model.cls(hidden).float()
    loss = F.cross_entropy(logits, labels)
    return loss, ((logits.argmax(-1) == labels).sum() if count_correct else None)


def selected_hidden_states(
    bert,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    selected: torch.Tensor,
    position_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """``bert(...).last_hidden_state[selected]`` ``[n_selected, H]``, computed with the last layer's output
    projection and feed-forward network at the selected positions only: its attention still reads every position,
    but the other positions' last outputs enter no loss. The same numbers for a fraction of the last layer's cost
    (for a model that is not a plain BERT encoder, the full forward pass)."""
    layers = bert.encoder.layer
    last = layers[-1]
    plain = type(last).__name__ == "BertLayer" and not bert.config.is_decoder and not last.chunk_size_feed_forward
    if not plain:
        return bert(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).last_hidden_state[
            selected
        ]
    from transformers.masking_utils import create_bidirectional_mask

    hidden = bert.embeddings(input_ids=input_ids, position_ids=position_ids)
    mask = create_bidirectional_mask(config=bert.config, inputs_embeds=hidden, attention_mask=attention_mask)
    for layer in layers[:-1]:
        hidden = layer(hidden, mask, position_ids=position_ids)
    context, _ = last.attention.self(hidden, attention_mask=mask, position_ids=position_ids)
    attended = last.attention.output(context[selected], hidden[selected])
    return last.output(last.intermediate(attended), attended)


# --------------------------------------------------------------------------------------------- packing
def pack(lengths, row_length: int) -> list[np.ndarray]:
    """Sentences into rows of at most ``row_length`` tokens: best-fit decreasing (each sentence, longest first,
    goes to the fullest row it still fits in). Returns the rows as arrays of sentence indices (positions in
    ``lengths``), each row's sentences in index order; every sentence is in exactly one row. Deterministic."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.ndim != 1:
        raise ValueError("lengths: expected a 1-D sequence of sentence lengths")
    if len(lengths) and (lengths.min() < 1 or lengths.max() > row_length):
        raise ValueError(
            f"every length must be within 1..{row_length} (the row length); got "
            f"{int(lengths.min())}..{int(lengths.max())}"
        )
    rows: list[list[int]] = []
    by_room: list[list[int]] = [[] for _ in range(row_length + 1)]  # rows indexed by their free room
    for i in np.argsort(-lengths, kind="stable"):
        n = int(lengths[i])
        room = next((r for r in range(n, row_length + 1) if by_room[r]), None)
        if room is None:
            rows.append([])
            row, room = len(rows) - 1, row_length
        else:
            row = by_room[room].pop()
        rows[row].append(int(i))
        by_room[room - n].append(row)
    return [np.sort(np.asarray(r, dtype=np.int64)) for r in rows]


@dataclass
class Packed:
    """Sentences packed into ``[rows, row_length]``: each sentence keeps its own [CLS]/[SEP], its position ids
    start at 0, and it attends only to itself (:meth:`attention_mask`).

    ``segments[r, t]`` is the index (in the unpacked batch) of the sentence at that position, -1 at padding;
    ``where`` is ``(sentence, token, row, column)`` for every real token, to move per-token arrays between the
    layouts (:meth:`gather`)."""

    input_ids: torch.Tensor  # [R, T] long, pad_id where there is no sentence
    position_ids: torch.Tensor  # [R, T] long, 0.. within each sentence, 0 at padding
    segments: torch.Tensor  # [R, T] long, -1 at padding
    where: tuple  # (sentence, token, row, column) index arrays, one entry per real token

    @property
    def real(self) -> torch.Tensor:
        """``[R, T]`` long, 1 at real tokens (what :func:`select` takes as its ``attention_mask``)."""
        return (self.segments >= 0).long()

    def attention_mask(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The block-diagonal 4D mask ``[R, 1, T, T]`` that transformers' models take as it is: a query attends to
        the keys of its own sentence only (a padding position to itself, which keeps its softmax finite).
        Boolean, True where attention is allowed (for ``sdpa`` and lib.science.dropout's attention); with
        ``dtype``, additive -- 0 where allowed, the dtype's minimum elsewhere (for transformers' ``eager``)."""
        seg = self.segments
        allowed = (seg[:, :, None] == seg[:, None, :]) & (seg[:, None, :] >= 0)
        allowed |= torch.eye(seg.shape[1], dtype=torch.bool, device=seg.device)
        allowed = allowed[:, None]
        if dtype is None:
            return allowed
        return torch.zeros(allowed.shape, dtype=dtype, device=seg.device).masked_fill(~allowed, torch.finfo(dtype).min)

    def mask_for(self, model, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """:meth:`attention_mask` in the form ``model``'s attention implementation expects: additive in ``dtype``
        for transformers' ``eager`` (under bf16 autocast, bfloat16 keeps the attention weights in bfloat16),
        boolean otherwise."""
        implementation = getattr(model.config, "_attn_implementation", "sdpa")
        return self.attention_mask(dtype if implementation == "eager" else None)

    def gather(self, padded: torch.Tensor, fill=0) -> torch.Tensor:
        """A per-token array of the unpacked batch ``[b, L]`` in the packed layout ``[R, T]`` (``fill`` at
        padding)."""
        sentence, token, row, column = self.where
        out = torch.full(self.segments.shape, fill, dtype=padded.dtype, device=padded.device)
        out[row, column] = padded[sentence, token]
        return out

    def scatter(self, packed: torch.Tensor, fill=0) -> torch.Tensor:
        """The inverse of :meth:`gather`: a packed per-token array ``[R, T, ...]`` back to ``[b, L, ...]``."""
        sentence, token, row, column = self.where
        b, width = int(sentence.max()) + 1 if len(sentence) else 0, int(token.max()) + 1 if len(token) else 0
        out = torch.full((b, width, *packed.shape[2:]), fill, dtype=packed.dtype, device=packed.device)
        out[sentence, token] = packed[row, column]
        return out


def pack_batch(input_ids: torch.Tensor, attention_mask: torch.Tensor, row_length: int, pad_id: int) -> Packed:
    """A padded batch (``[b, L]`` ids and 0/1 mask, as :meth:`lib.science.corpus.TokenizedCorpus.batch` gives)
    packed into rows of ``row_length`` tokens (:func:`pack`)."""
    lengths = attention_mask.sum(1).cpu().numpy()
    rows = pack(lengths, row_length)
    sentence = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    row_of = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    n = lengths[sentence]
    start = np.concatenate([np.cumsum(lengths[r]) - lengths[r] for r in rows]) if rows else sentence
    tokens = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)  # 0.. within each sentence
    where_sentence, where_row = np.repeat(sentence, n), np.repeat(row_of, n)
    where_column = np.repeat(start, n) + tokens
    device = input_ids.device
    where = tuple(torch.from_numpy(a).to(device) for a in (where_sentence, tokens, where_row, where_column))
    shape = (len(rows), row_length)
    ids = torch.full(shape, pad_id, dtype=input_ids.dtype, device=device)
    positions = torch.zeros(shape, dtype=torch.long, device=device)
    segments = torch.full(shape, -1, dtype=torch.long, device=device)
    ids[where[2], where[3]] = input_ids[where[0], where[1]]
    positions[where[2], where[3]] = where[1]
    segments[where[2], where[3]] = where[0]
    return Packed(ids, positions, segments, where)
