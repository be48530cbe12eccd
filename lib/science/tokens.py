"""Token classes: *functional* (stopwords, punctuation, special tokens) and *semantic* (everything else).

The paper names the classes but publishes no list, so this is the project's operational definition:

- **functional**: the tokenizer's special tokens ([CLS], [SEP], [PAD], <s>, ...); whole-word tokens whose text is
  an English stopword; tokens made only of punctuation or symbols (Unicode categories P* and S*);
- **semantic**: every other token, including numbers;
- **word pieces**: a continuation piece (``##ing`` in WordPiece vocabularies) is *semantic*: every stopword of
  the lists below that the vocabulary holds is a single whole-word token, so pieces only ever come from content
  words. Stopwords the vocabulary splits into pieces (``whence`` -> ``when ##ce``) are left to their pieces;
  their first piece is functional only if it is a stopword itself.

Two stopword lists from maintained libraries: ``sklearn`` (scikit-learn's ``ENGLISH_STOP_WORDS``, 318 words; the
default) and ``stop-words`` (the ``stop-words`` package's English list, 1,333 words, a superset), for a
sensitivity check. Classes are per token *id*, so self-similarity (which is per id) and sentence-level measures
use the same split.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

STOPWORD_LISTS = ("sklearn", "stop-words")


@lru_cache(maxsize=None)
def stopwords(name: str = "sklearn") -> frozenset[str]:
    if name == "sklearn":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    if name == "stop-words":
        from stop_words import get_stop_words

        return frozenset(w.lower() for w in get_stop_words("en"))
    raise ValueError(f"stopwords = {name!r}; expected one of {STOPWORD_LISTS}")


def _is_punctuation(text: str) -> bool:
    return bool(text) and all(unicodedata.category(ch)[0] in "PS" for ch in text)


def word_of(token: str) -> tuple[str, bool]:
    """``(text, continuation)``: the token's text without word-piece markers, and whether it continues a word
    (WordPiece ``##x``) rather than starting one (SentencePiece/BPE mark starts with ``▁`` / ``Ġ``)."""
    if token.startswith("##"):
        return token[2:], True
    for mark in ("▁", "Ġ"):
        if token.startswith(mark):
            return token[len(mark) :], False
    return token, False


def functional_mask(tokenizer, stopword_list: str = "sklearn") -> np.ndarray:
    """A boolean array over the tokenizer's ids: True where the id is functional."""
    words = stopwords(stopword_list)
    vocab = tokenizer.get_vocab()
    mask = np.zeros(max(vocab.values()) + 1, dtype=bool)
    for token, i in vocab.items():
        text, continuation = word_of(token)
        if continuation:
            continue
        if text.lower() in words or _is_punctuation(text):
            mask[i] = True
    mask[[i for i in tokenizer.all_special_ids if i < len(mask)]] = True
    return mask


def classes_of(ids, mask: np.ndarray) -> dict[str, list[int]]:
    """Split token ids into ``{"functional": [...], "semantic": [...]}``."""
    ids = np.asarray(ids)
    functional = mask[ids]
    return {"functional": ids[functional].tolist(), "semantic": ids[~functional].tolist()}


def quantile_bins(counts: np.ndarray, reference: np.ndarray, n_bins: int = 5) -> np.ndarray:
    """The frequency bin of every id: edges at the quantiles of ``counts[reference]`` (e.g. the functional ids'),
    on a log scale; -1 for ids outside the reference's range."""
    logs = np.log(np.asarray(counts, dtype=float))
    edges = np.unique(np.quantile(logs[reference], np.linspace(0, 1, n_bins + 1)))
    if len(edges) < 2:
        return np.where(reference, 0, -1)
    out = np.searchsorted(edges, logs, side="right") - 1
    out[logs == edges[-1]] = len(edges) - 2  # the top edge belongs to the last bin
    return np.where((logs < edges[0]) | (logs > edges[-1]), -1, out)


def frequency_matched(values: np.ndarray, counts: np.ndarray, functional: np.ndarray, n_bins: int = 5) -> dict:
    """Semantic and functional ids compared within frequency bins (function words are the most frequent tokens, so
    a raw class mean confounds class with frequency). Bins: quantiles of the functional ids' counts; in every bin
    holding both classes, the class means of ``values``; averaged over those bins weighted by their functional ids.
    Returns ``semantic``, ``functional``, ``gap`` (functional − semantic) and ``bins`` used."""
    values, functional = np.asarray(values, dtype=float), np.asarray(functional, dtype=bool)
    ok = np.isfinite(values)
    bins = quantile_bins(counts, functional & ok, n_bins)
    sem, fun, weights = [], [], []
    for b in range(int(bins.max()) + 1 if bins.max() >= 0 else 0):
        s, f = ok & (bins == b) & ~functional, ok & (bins == b) & functional
        if s.any() and f.any():
            sem.append(values[s].mean())
            fun.append(values[f].mean())
            weights.append(f.sum())
    if not weights:
        return dict(semantic=float("nan"), functional=float("nan"), gap=float("nan"), bins=0)
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    s_, f_ = float(np.dot(w, sem)), float(np.dot(w, fun))
    return dict(semantic=s_, functional=f_, gap=f_ - s_, bins=len(weights))


def binned_mean(values: np.ndarray, counts: np.ndarray, n_bins: int = 5) -> float:
    """The mean of ``values`` with every frequency quintile (of all ids' counts) weighing the same: a whole-vocabulary
    mean that the many rare ids do not dominate."""
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    bins = quantile_bins(counts, ok, n_bins)
    means = [values[ok & (bins == b)].mean() for b in range(int(bins.max()) + 1) if (ok & (bins == b)).any()]
    return float(np.mean(means)) if means else float("nan")
