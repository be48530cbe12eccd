"""Semantic textual similarity: Spearman x 100 of cosine similarity against the gold scores.

The seven tasks SimCSE reports, in its "all" setting: STS12-16 with every subset of a year concatenated into one
Spearman correlation (SentEval's ``all``), STS-B test and SICK-R test. STS-B dev is the score training runs
follow (as SimCSE's ``--metric_for_best_model stsb_spearman``). Spearman comes from scipy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from . import data
from .encode import eval_mode, length_batches, tokenize
from .pooling import needs_all_layers, pool

TASKS = {
    "STS12": ("sts12", "test"),
    "STS13": ("sts13", "test"),
    "STS14": ("sts14", "test"),
    "STS15": ("sts15", "test"),
    "STS16": ("sts16", "test"),
    "STSB": ("stsb", "test"),
    "SICKR": ("sickr", "test"),
}


@dataclass
class Pairs:
    """Sentence pairs with gold scores, and the hash of the file they came from."""

    name: str
    sentence1: list[str]
    sentence2: list[str]
    scores: np.ndarray
    sha256: str
    _token_ids: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.scores)

    @functools.cached_property
    def unique(self) -> list[str]:
        """Every sentence once (each is encoded once, whatever the pairs it is in)."""
        return sorted(set(self.sentence1) | set(self.sentence2))

    @functools.cached_property
    def positions(self) -> tuple[list[int], list[int]]:
        """Where each pair's first and second sentence sit in :attr:`unique`."""
        where = {s: i for i, s in enumerate(self.unique)}
        return [where[s] for s in self.sentence1], [where[s] for s in self.sentence2]

    def token_ids(self, tokenizer) -> list[list[int]]:
        """:attr:`unique` tokenised (kept per tokenizer: a training run evaluates the same pairs many times)."""
        key = (tokenizer.name_or_path, len(tokenizer), tokenizer.model_max_length)
        if key not in self._token_ids:
            self._token_ids[key] = tokenize(tokenizer, self.unique, tokenizer.model_max_length)
        return self._token_ids[key]


def load_pairs(name: str, dataset: str, split: str, data_dir: str = "", limit: int = 0) -> Pairs:
    table = data.load(dataset, split, data_dir)
    s1, s2 = data.sentences(table, "sentence1", limit), data.sentences(table, "sentence2", limit)
    scores = np.asarray(table.columns["score"][: len(s1)], dtype=np.float64)
    return Pairs(name, s1, s2, scores, table.sha256)


def embed_ids(
    model, token_ids: Sequence[Sequence[int]], pad_id: int, pooling: str | Sequence[str], batch_size: int = 128
):
    """Sentence vectors ``[n, d]`` (float32, CPU) of tokenised sentences, in eval mode without gradients (the
    model's mode is restored), batched by length. With several poolings, one pass gives a dict of them."""
    import torch

    poolings = [pooling] if isinstance(pooling, str) else list(pooling)
    all_layers = any(needs_all_layers(p) for p in poolings)
    device = next(model.parameters()).device
    lengths = np.array([len(t) for t in token_ids])
    out = {p: torch.empty(len(token_ids), model.config.hidden_size) for p in poolings}
    with eval_mode(model), torch.inference_mode():
        for index in length_batches(lengths, batch_size):
            width = int(lengths[index].max())
            ids = torch.full((len(index), width), pad_id, dtype=torch.long)
            for row, i in enumerate(index):
                ids[row, : lengths[i]] = torch.as_tensor(token_ids[i])
            mask = (torch.arange(width)[None, :] < torch.as_tensor(lengths[index])[:, None]).long()
            ids, mask = ids.to(device), mask.to(device)
            result = model(input_ids=ids, attention_mask=mask, output_hidden_states=all_layers)
            states = result.hidden_states if all_layers else (result.last_hidden_state,)
            for p in poolings:
                out[p][torch.as_tensor(index)] = pool(states, mask, p).float().cpu()
    return out[pooling] if isinstance(pooling, str) else out


def embed(
    model,
    tokenizer,
    sentences: Sequence[str],
    pooling: str | Sequence[str],
    batch_size: int = 128,
    max_length: int | None = None,
):
    """Sentence vectors of ``sentences`` (see :func:`embed_ids`), tokenised like ``truncation=True``."""
    ids = tokenize(tokenizer, sentences, max_length or tokenizer.model_max_length)
    return embed_ids(model, ids, tokenizer.pad_token_id, pooling, batch_size)


def spearman_x100(model, tokenizer, pairs: Pairs, pooling: str | Sequence[str], batch_size: int = 128):
    """Spearman x 100 between the cosine similarity of each pair's vectors and the gold scores (a dict of them,
    from one encoding pass, when several poolings are asked for)."""
    import torch
    from scipy.stats import spearmanr

    first, second = pairs.positions
    vectors = embed_ids(
        model,
        pairs.token_ids(tokenizer),
        tokenizer.pad_token_id,
        [pooling] if isinstance(pooling, str) else pooling,
        batch_size,
    )
    scores = {}
    for name, v in vectors.items():
        v = torch.nn.functional.normalize(v, dim=-1)
        cosine = (v[first] * v[second]).sum(-1).double().numpy()
        scores[name] = float(spearmanr(cosine, pairs.scores).statistic * 100)
    return scores[pooling] if isinstance(pooling, str) else scores


def evaluate(
    model,
    tokenizer,
    pooling: str,
    data_dir: str = "",
    tasks: Sequence[str] = tuple(TASKS),
    batch_size: int = 128,
    progress: bool = True,
) -> dict[str, float]:
    """Spearman x 100 on each task and their mean (``avg``)."""
    from tqdm import tqdm

    out = {}
    for name in tqdm(list(tasks), desc="STS", disable=not progress):
        dataset, split = TASKS[name]
        out[name] = spearman_x100(model, tokenizer, load_pairs(name, dataset, split, data_dir), pooling, batch_size)
    out["avg"] = float(np.mean([out[t] for t in tasks]))
    return out
