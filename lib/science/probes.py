"""Word probes: the cosine between one word's vectors in two contexts (the paper's R3 examples).

A word's vector is the mean of its word pieces' vectors at a layer ("NLP" -> ``nl`` + ``##p``). The word is found
by its characters in the sentence (its first occurrence, case-insensitive), then mapped to tokens with the fast
tokenizer's offsets, so any tokenizer's pieces work.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .encode import eval_mode


@dataclass(frozen=True)
class Probe:
    """cos(word_a in sentence_a, word_b in sentence_b)."""

    sentence_a: str
    word_a: str
    sentence_b: str
    word_b: str

    def describe(self) -> str:
        if self.sentence_a == self.sentence_b:
            return f"'{self.word_a}' vs '{self.word_b}' within '{self.sentence_a}'"
        return f"'{self.word_a}' in '{self.sentence_a}' vs '{self.word_b}' in '{self.sentence_b}'"


# The paper's probes (R3, measured there on all-mpnet-base-v2's last layer)
R3_PROBES = (
    Probe("NLP is about", "NLP", "What is NLP?", "NLP"),
    Probe("NLP is about", "NLP", "NLP is about", "is"),
    Probe("NLP is good", "is", "the album is fire", "is"),
)


def word_vector(model, tokenizer, sentence: str, word: str, layer: int = -1) -> torch.Tensor:
    """The mean of ``word``'s word-piece vectors at ``layer`` of ``model`` in ``sentence`` (eval mode, no grad)."""
    start = sentence.lower().find(word.lower())
    if start < 0:
        raise ValueError(f"{word!r} does not occur in {sentence!r}")
    end = start + len(word)
    enc = tokenizer(sentence, return_offsets_mapping=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping")[0]
    pieces = [i for i, (a, b) in enumerate(offsets.tolist()) if b > a and a < end and b > start]
    if not pieces:
        raise ValueError(f"no token of {sentence!r} covers {word!r}")
    device = next(model.parameters()).device
    with eval_mode(model), torch.inference_mode():
        out = model(**{k: v.to(device) for k, v in enc.items()}, output_hidden_states=True)
    return out.hidden_states[layer][0, pieces].float().mean(0).cpu()


def probe(model, tokenizer, p: Probe, layer: int = -1) -> float:
    a = word_vector(model, tokenizer, p.sentence_a, p.word_a, layer)
    b = word_vector(model, tokenizer, p.sentence_b, p.word_b, layer)
    return float(torch.nn.functional.cosine_similarity(a, b, dim=0))
