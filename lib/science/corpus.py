"""The training corpus as token ids, and the order in which training reads it.

- :class:`TokenizedCorpus`: every sentence tokenised once (special tokens included, truncated to ``max_len``),
  kept as one flat ``uint16``/``int32`` array plus offsets, and cached on disk under a name derived from the
  corpus file's hash, the vocabulary's hash, ``max_len`` and the number of lines -- so a rerun, another process
  or another machine given the cache file skips tokenisation.
- :func:`bucketed_batches` (MLM pre-training) and :func:`shuffled_batches` (SimCSE) give the batches of one epoch
  as index arrays, derived from ``(seed, epoch)`` alone: the position in the data is a function of the step, so a
  resumed run reads exactly what an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .files import atomic_write_bytes


@dataclass
class TokenizedCorpus:
    ids: np.ndarray  # flat token ids of every sentence
    offsets: np.ndarray  # [n + 1]: sentence i is ids[offsets[i]:offsets[i + 1]]
    pad_id: int

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sentence(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]

    def batch(self, index: Sequence[int]):
        """``(input_ids, attention_mask)`` ``[b, T]`` long tensors, padded to the longest sentence of the batch."""
        import torch

        index = np.asarray(index)
        lengths = self.lengths[index]
        width = int(lengths.max())
        ids = np.full((len(index), width), self.pad_id, dtype=np.int64)
        mask = np.arange(width)[None, :] < lengths[:, None]
        starts = self.offsets[index]
        flat = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        ids[mask] = self.ids[flat]
        return torch.from_numpy(ids), torch.from_numpy(mask.astype(np.int64))

    @classmethod
    def build(
        cls, sentences: Sequence[str], tokenizer, max_len: int, chunk: int = 20_000, progress: bool = True
    ) -> "TokenizedCorpus":
        from tqdm import tqdm

        dtype = np.uint16 if len(tokenizer) <= np.iinfo(np.uint16).max else np.int32
        pieces, lengths = [], []
        for start in tqdm(range(0, len(sentences), chunk), desc="tokenising", unit="chunk", disable=not progress):
            enc = tokenizer(list(sentences[start : start + chunk]), truncation=True, max_length=max_len)["input_ids"]
            pieces.extend(np.asarray(e, dtype=dtype) for e in enc)
            lengths.extend(len(e) for e in enc)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
        return cls(ids, offsets, int(tokenizer.pad_token_id))

    def save(self, path: str | os.PathLike) -> Path:
        import io

        buffer = io.BytesIO()
        np.savez(buffer, ids=self.ids, offsets=self.offsets, pad_id=np.int64(self.pad_id))
        return atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TokenizedCorpus":
        with np.load(path) as f:
            return cls(f["ids"], f["offsets"], int(f["pad_id"]))


def cache_key(source: str, vocab_sha256: str, max_len: int, n_lines: int) -> str:
    blob = f"{source}:{vocab_sha256}:{max_len}:{n_lines}"
    return "corpus-" + hashlib.sha256(blob.encode()).hexdigest()[:16] + ".npz"


def tokenized(
    load_lines,
    tokenizer,
    max_len: int,
    source: str,
    vocab_sha256: str,
    n_lines: int,
    cache_dir: str | os.PathLike | None,
    progress: bool = True,
) -> TokenizedCorpus:
    """The corpus tokenised, from the cache when it holds it; else ``load_lines()`` is read, tokenised and cached.

    ``source`` identifies the corpus file without reading it (its sha256 as the mirror's SHA256SUMS lists it), and
    ``n_lines`` the number of lines asked for (0: all), so a cache hit reads neither the corpus nor its hash.
    """
    path = Path(cache_dir) / cache_key(source, vocab_sha256, max_len, n_lines) if cache_dir else None
    if path is not None and path.is_file():
        return TokenizedCorpus.load(path)
    corpus = TokenizedCorpus.build(load_lines(), tokenizer, max_len, progress=progress)
    if path is not None:
        corpus.save(path)
    return corpus


# --------------------------------------------------------------------------------------------- reading order
def bucketed_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int, bucket: int = 64) -> list[np.ndarray]:
    """One epoch of batches of similar length (little padding): shuffle, sort within chunks of ``bucket``
    batches, cut, shuffle the batches. Incomplete batches are dropped."""
    rng = np.random.default_rng([seed, epoch, 1])
    order = rng.permutation(len(lengths))
    batches = []
    span = batch_size * bucket
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk) - batch_size + 1, batch_size)]
    return [batches[k] for k in rng.permutation(len(batches))]


def shuffled_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """One epoch in a random order (as the Hugging Face trainer's random sampler that SimCSE uses); the last
    batch may be smaller."""
    order = np.random.default_rng([seed, epoch, 2]).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]
