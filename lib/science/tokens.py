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
