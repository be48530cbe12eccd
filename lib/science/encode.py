"""Tokenising sentences and streaming the hidden states of every layer.

The authors tokenise all sentences at once, padded to the longest (``padding=True, truncation=True``), and run the
model on batches of that padded matrix. Attention masks out pad *keys*, so a real token's hidden state does not
depend on how much padding follows it, and a pad token's state depends only on its own position and the
sentence's real tokens. We therefore batch sentences of similar length and pad each batch to one more than its
longest sentence (capped at the corpus-wide padded length): every real token and every sentence's *first* pad
position -- the only pad position the self-similarity protocol reads -- get the values the authors' layout gives,
at a fraction of the compute. Batches are streamed, so memory stays bounded by one batch.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np


@contextlib.contextmanager
def eval_mode(model):
    """The model in eval mode (dropout off) inside the block, and back in the mode it was in after it -- geometry
    and STS are measured in the middle of training too."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def tokenize(tokenizer, sentences: Sequence[str], max_length: int | None = None) -> list[list[int]]:
    """Token ids of each sentence, special tokens included, truncated like ``truncation=True``."""
    enc = tokenizer(list(sentences), truncation=True, max_length=max_length)
    return [list(map(int, ids)) for ids in enc["input_ids"]]


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Sentence indices grouped into batches of similar length (longest first, so peak memory shows at once)."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@dataclass
class Batch:
    """One encoded batch: which sentences, their lengths, hidden states ``[L+1, b, T, d]`` and token ids ``[b, T]``."""

    index: np.ndarray
    lengths: "torch.Tensor"  # noqa: F821
    hidden: "torch.Tensor"  # noqa: F821
    ids: "torch.Tensor" = None  # noqa: F821


def hidden_states(
    model,
    token_ids: Sequence[Sequence[int]],
    pad_id: int,
    batch_size: int = 64,
    padded_length: int | None = None,
    progress: bool = True,
    desc: str = "encoding",
) -> Iterator[Batch]:
    """Yield the hidden states of all layers, batch by batch, on the model's device (no grad, eval mode; the
    model's mode is restored afterwards)."""
    import torch
    from tqdm import tqdm  # text bars: they work in terminals and notebooks, and need no widget JS

    lengths = np.array([len(t) for t in token_ids])
    padded_length = int(padded_length or lengths.max())
    device = next(model.parameters()).device
    bar = tqdm(total=len(token_ids), desc=desc, unit="sent", disable=not progress)
    with contextlib.ExitStack() as stack:
        stack.enter_context(eval_mode(model))
        stack.callback(bar.close)
        for index in length_batches(lengths, batch_size):
            width = min(int(lengths[index].max()) + 1, padded_length)
            ids = torch.full((len(index), width), pad_id, dtype=torch.long)
            for row, i in enumerate(index):
                ids[row, : lengths[i]] = torch.as_tensor(token_ids[i])
            lens = torch.as_tensor(lengths[index], device=device)
            mask = (torch.arange(width, device=device)[None, :] < lens[:, None]).long()
            ids = ids.to(device)
            with torch.inference_mode():
                out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            yield Batch(index, lens, torch.stack(out.hidden_states).float(), ids)
            bar.update(len(index))
