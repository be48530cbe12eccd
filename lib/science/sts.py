"""Semantic textual similarity: Spearman x 100 of cosine similarity against the gold scores.

The seven tasks SimCSE reports, in its "all" setting: STS12-16 with every subset of a year concatenated into one
Spearman correlation (SentEval's ``all``), STS-B test and SICK-R test. STS-B dev is the score training runs
follow (as SimCSE's ``--metric_for_best_model stsb_spearman``). Spearman comes from scipy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import data
from .encode import eval_mode, length_batches
from .pooling import needs_all_layers, pool

TASKS = {"STS12": ("sts12", "test"), "STS13": ("sts13", "test"), "STS14": ("sts14", "test"),
         "STS15": ("sts15", "test"), "STS16": ("sts16", "test"), "STSB": ("stsb", "test"),
         "SICKR": ("sickr", "test")}


@dataclass
class Pairs:
    """Sentence pairs with gold scores, and the hash of the file they came from."""

    name: str
    sentence1: list[str]
    sentence2: list[str]
    scores: np.ndarray
    sha256: str

    def __len__(self) -> int:
        return len(self.scores)


def load_pairs(name: str, dataset: str, split: str, data_dir: str = "", limit: int = 0) -> Pairs:
    table = data.load(dataset, split, data_dir)
    s1, s2 = data.sentences(table, "sentence1", limit), data.sentences(table, "sentence2", limit)
    scores = np.asarray(table.columns["score"][:len(s1)], dtype=np.float64)
    return Pairs(name, s1, s2, scores, table.sha256)


def embed(model, tokenizer, sentences: Sequence[str], pooling: str | Sequence[str], batch_size: int = 128,
          max_length: int | None = None):
    """Sentence vectors ``[n, d]`` (float32, CPU), in eval mode without gradients; the model's mode is restored.
    With several poolings, one pass gives a dict of them."""
    import torch

    poolings = [pooling] if isinstance(pooling, str) else list(pooling)
    all_layers = any(needs_all_layers(p) for p in poolings)
    device = next(model.parameters()).device
    lengths = np.array([len(s) for s in sentences])  # characters: a cheap proxy to batch similar lengths
    out = {p: torch.empty(len(sentences), model.config.hidden_size) for p in poolings}
    with eval_mode(model), torch.inference_mode():
        for index in length_batches(lengths, batch_size):
            batch = tokenizer([sentences[i] for i in index], padding=True, truncation=True,
                              max_length=max_length or tokenizer.model_max_length, return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            result = model(**batch, output_hidden_states=all_layers)
            states = result.hidden_states if all_layers else (result.last_hidden_state,)
            for p in poolings:
                out[p][torch.as_tensor(index)] = pool(states, batch["attention_mask"], p).float().cpu()
    return out[pooling] if isinstance(pooling, str) else out


def spearman_x100(model, tokenizer, pairs: Pairs, pooling: str | Sequence[str], batch_size: int = 128):
    """Spearman x 100 between the cosine similarity of each pair's vectors and the gold scores (a dict of them,
    from one encoding pass, when several poolings are asked for)."""
    import torch
    from scipy.stats import spearmanr

    unique = sorted(set(pairs.sentence1) | set(pairs.sentence2))
    where = {s: i for i, s in enumerate(unique)}
    first = [where[s] for s in pairs.sentence1]
    second = [where[s] for s in pairs.sentence2]
    vectors = embed(model, tokenizer, unique, [pooling] if isinstance(pooling, str) else pooling, batch_size)
    scores = {}
    for name, v in vectors.items():
        v = torch.nn.functional.normalize(v, dim=-1)
        cosine = (v[first] * v[second]).sum(-1).double().numpy()
        scores[name] = float(spearmanr(cosine, pairs.scores).statistic * 100)
    return scores[pooling] if isinstance(pooling, str) else scores


def evaluate(model, tokenizer, pooling: str, data_dir: str = "", tasks: Sequence[str] = tuple(TASKS),
             batch_size: int = 128, progress: bool = True) -> dict[str, float]:
    """Spearman x 100 on each task and their mean (``avg``)."""
    from tqdm import tqdm

    out = {}
    for name in tqdm(list(tasks), desc="STS", disable=not progress):
        dataset, split = TASKS[name]
        out[name] = spearman_x100(model, tokenizer, load_pairs(name, dataset, split, data_dir), pooling, batch_size)
    out["avg"] = float(np.mean([out[t] for t in tasks]))
    return out
