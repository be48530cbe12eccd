"""A plain, per-token loop implementation of the authors' protocol -- the yardstick for lib.geometry.

It follows the released analysis step by step: one padded id matrix for the whole corpus, ``list.index`` for
first occurrences, a full cosine matrix per token id and per anisotropy sample, Python loops over sentences.
Used by the tests (cross-check on constructed and model-made hidden states) and by the benchmark (speed).
It shares no code with lib.geometry except the anisotropy samples, which it takes as given.
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def _cos_matrix(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    u = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    return u @ u.T


def _mean_offdiag(cos: np.ndarray) -> float:
    """As released: the diagonal is taken to be n ones (so a zero vector, whose cosines are 0, counts as -1/(n-1))."""
    n = len(cos)
    return float((cos.sum() - n) / (n * (n - 1)))


def pad_matrix(token_ids: list[list[int]], pad_id: int) -> np.ndarray:
    width = max(len(t) for t in token_ids)
    return np.array([list(t) + [pad_id] * (width - len(t)) for t in token_ids])


def loop_metrics(hidden: list[np.ndarray], ids: np.ndarray, lengths: list[int], samples, min_count: int = 5):
    """``hidden[l]``: ``[N, T, d]`` over the padded matrix ``ids`` ``[N, T]``; ``samples``: lib TokenSample list.

    Returns a dict of per-layer lists: self_sim_per_id ({id: value} per layer), contributions ({id: [d]}),
    intra_sim, norm, anisotropy_per_seed ([seed][layer]).
    """
    rows = ids.tolist()
    counts = Counter(w for row in rows for w in row)
    vocab = [w for w, c in counts.items() if c >= min_count]
    positions = {}
    for w in vocab:
        positions[w] = [(i, row.index(w)) for i, row in enumerate(rows) if w in row]

    out = dict(self_sim_per_id=[], contributions=[], intra_sim=[], norm=[], anisotropy_per_seed=[[] for _ in samples])
    for layer, h in enumerate(hidden):
        h = h.astype(np.float64)
        sims, contribs = {}, {}
        for w in vocab:
            occ = np.array([h[i, p] for i, p in positions[w]])
            if len(occ) < 2:
                continue
            cos = _cos_matrix(occ)
            sims[w] = _mean_offdiag(cos)
            norms = np.linalg.norm(occ, axis=1, keepdims=True)
            u = np.divide(occ, norms, out=np.zeros_like(occ), where=norms > 0)
            with np.errstate(invalid="ignore", divide="ignore"):  # all-zero occurrences: 0/0, as released
                contribs[w] = np.einsum("jk,lk->k", u, u) / cos.sum()  # sum_{j,l} u_jk u_lk, diagonal included
        out["self_sim_per_id"].append(sims)
        out["contributions"].append(contribs)

        intra, norms = [], []
        for i, n in enumerate(lengths):
            tokens = h[i, :n]
            mean = tokens.mean(0)
            intra.append(float(np.mean([t @ mean / (np.linalg.norm(t) * np.linalg.norm(mean)) for t in tokens])))
            norms.extend(float(np.linalg.norm(t)) for t in tokens)
        out["intra_sim"].append(float(np.mean(intra)))
        out["norm"].append(float(np.mean(norms)))

        for k, sample in enumerate(samples):
            picked = np.array([h[s, sample.positions[layer, j]] for j, s in enumerate(sample.sentences)])
            out["anisotropy_per_seed"][k].append(_mean_offdiag(_cos_matrix(picked)))
    return out
