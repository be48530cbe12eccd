"""Which token occurrences the geometry metrics read, known before any encoding.

- :func:`plan_tokens`: the authors' self-similarity vocabulary (ids counted >= 5 times in the *padded* id matrix,
  the pad id included) and, per sentence, the first occurrence of every id in two or more sentences -- the only
  positions the metrics read;
- :func:`sample_tokens`: one anisotropy sample (a seed's sentences, and one random non-pad token of each per layer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MIN_COUNT = 5


@dataclass
class TokenPlan:
    """Everything the protocol needs from the tokenised corpus, known before any encoding.

    ``vocab_ids`` are the ids counted >= ``min_count`` times in the padded id matrix (pad id included when it is),
    ``contexts`` the number of sentences holding each. ``measured`` marks the ids with >= 2 contexts: only they
    enter a layer mean, so only their first occurrences are read. ``occ_*`` list, sentence by sentence, the first
    position of every measured id in that sentence (for the pad id: its first position in the padded row -- a
    real token when the pad id occurs in the text, else the first pad cell of a sentence shorter than the
    padded length); ``occ_slot`` indexes the measured ids.
    """

    lengths: np.ndarray
    padded_length: int
    pad_id: int
    vocab_ids: np.ndarray
    counts: np.ndarray
    contexts: np.ndarray
    occ_ptr: np.ndarray
    occ_pos: np.ndarray
    occ_slot: np.ndarray

    @property
    def n_sentences(self) -> int:
        return len(self.lengths)

    @property
    def measured(self) -> np.ndarray:
        return self.contexts >= 2


def plan_tokens(token_ids: Sequence[Sequence[int]], pad_id: int, min_count: int = MIN_COUNT) -> TokenPlan:
    """Vocabulary, counts and first occurrences for the self-similarity protocol (vectorised, no encoding)."""
    lengths = np.array([len(t) for t in token_ids], dtype=np.int64)
    n, width = len(lengths), int(lengths.max())
    flat = np.concatenate([np.asarray(t, dtype=np.int64) for t in token_ids])
    sent = np.repeat(np.arange(n), lengths)
    pos = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)

    ids, counts = np.unique(np.concatenate([flat, [pad_id]]), return_counts=True)
    counts[np.searchsorted(ids, pad_id)] += n * width - lengths.sum() - 1  # the padding the authors' matrix holds
    keep = counts >= min_count
    vocab_ids, counts = ids[keep], counts[keep]

    in_vocab = np.isin(flat, vocab_ids)
    key = sent[in_vocab] * (int(ids.max()) + 1) + flat[in_vocab]
    _, first = np.unique(key, return_index=True)  # index of each (sentence, id) pair's first occurrence
    occ_sent, occ_pos = sent[in_vocab][first], pos[in_vocab][first]
    occ_slot = np.searchsorted(vocab_ids, flat[in_vocab][first])
    if pad_id in vocab_ids:
        # the first pad cell counts only where the pad id is not already in the sentence's real tokens
        has_pad_token = np.zeros(n, dtype=bool)
        has_pad_token[sent[flat == pad_id]] = True
        padded = np.flatnonzero((lengths < width) & ~has_pad_token)
        occ_sent = np.concatenate([occ_sent, padded])
        occ_pos = np.concatenate([occ_pos, lengths[padded]])
        occ_slot = np.concatenate([occ_slot, np.full(len(padded), np.searchsorted(vocab_ids, pad_id))])
    contexts = np.bincount(occ_slot, minlength=len(vocab_ids))
    measured = contexts >= 2
    keep = measured[occ_slot]
    occ_sent, occ_pos = occ_sent[keep], occ_pos[keep]
    occ_slot = np.cumsum(measured)[occ_slot[keep]] - 1  # index among the measured ids
    order = np.lexsort((occ_pos, occ_sent))
    occ_sent, occ_pos, occ_slot = occ_sent[order], occ_pos[order], occ_slot[order]
    occ_ptr = np.searchsorted(occ_sent, np.arange(n + 1))
    return TokenPlan(lengths, width, int(pad_id), vocab_ids, counts, contexts, occ_ptr, occ_pos, occ_slot)


@dataclass
class TokenSample:
    """One seed's anisotropy sample: sentences (sorted) and, per hidden state, one non-pad position in each."""

    seed: int
    sentences: np.ndarray  # [n]
    positions: np.ndarray  # [n_states, n]


def sample_tokens(lengths: np.ndarray, n_samples: int, n_states: int, seed: int) -> TokenSample:
    """Draw ``n_samples`` distinct sentences and, independently for every layer, one non-pad token of each."""
    lengths = np.asarray(lengths)
    if not 2 <= n_samples <= len(lengths):
        raise ValueError(f"n_samples = {n_samples} must be between 2 and the number of sentences ({len(lengths)})")
    rng = np.random.default_rng(seed)
    sentences = np.sort(rng.choice(len(lengths), size=n_samples, replace=False))
    positions = np.floor(rng.random((n_states, n_samples)) * lengths[sentences]).astype(np.int64)
    return TokenSample(seed, sentences, positions)
