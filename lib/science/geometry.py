"""The authors' token-geometry metrics, vectorised and streamed.

Definitions (the brief's *Protocol*, read from the authors' ``metrics.py``):

- **anisotropy baseline** A_l: sample ``n_samples`` sentences, one random non-pad token from each (redrawn per
  layer, as the released code does); the mean off-diagonal cosine of those vectors.
- **self-similarity** of a token id w: the vocabulary is the ids whose count in the *padded* id matrix is >= 5;
  for each sentence containing w take its first occurrence; SelfSim(w) = mean off-diagonal cosine among those
  occurrences; ids seen in a single sentence are skipped; a layer's score is the unweighted mean over ids.
- **intra-sentence similarity**: per sentence, the mean cosine between each non-pad token and the sentence's
  mean-pooled vector; a layer's score is the mean over sentences.
- **norm**: the mean L2 norm of all non-pad token vectors of a layer.
- **function-to-content similarity** (the project's measure for F3; optional, given a functional/semantic split of
  the ids, :mod:`lib.science.tokens`): per sentence holding both classes, the mean cosine between each functional
  token and the mean vector of the sentence's semantic tokens; a layer's score is the mean over those sentences.
  Beside it, the same for semantic tokens (cosine to the mean of their sentence's semantic tokens).
- **adjusted** = raw - A_l of the same layer.
- **rogue-dimension contribution** of dimension k for token w with occurrences x_1..x_n:
  c_k = sum_{j,l} x_jk x_lk / (|x_j||x_l|) / sum_{j,l} cos(x_j, x_l), diagonal included, so sum_k c_k = 1.

One identity does most of the work: for unit vectors u_1..u_n with sum s, the sum of all pairwise cosines is
|s|^2, so the mean off-diagonal cosine is (|s|^2 - n) / (n (n - 1)) and c_k = s_k^2 / |s|^2. Everything the
metrics need is therefore a *running sum of unit vectors* (per token id, per anisotropy sample) plus a few
scalars, accumulated batch by batch -- no n x n matrices, no per-token Python loops. Memory: one batch of hidden
states plus float64 sums of ``n_states x M x d``, where M counts only the ids that enter a layer mean (>= 5
counts *and* >= 2 contexts; about 450 ids on STS-B test, 36 MB at bert-base shape); contributions are derived
from those sums when asked for, never stored per id and dimension.

**Rogue dimensions, aggregated.** The released code computes c for each token id; how the paper turns them into
one number per layer is not public. :meth:`Geometry.rogue_shares` offers two readings: ``mean_vector`` (the
project's default) averages the contribution vectors over the vocabulary, then takes the share of the k largest
dimensions of that mean -- dimensions that dominate *consistently across tokens*; ``per_token`` takes each id's
own top-k share, then averages -- how concentrated a typical token is, whichever dimensions that uses.

Quirks of the released code, kept as switches whose defaults reproduce the released numbers: the pad id is
counted and so enters the self-similarity vocabulary (``pad_in_vocab``); special tokens ([CLS], [SEP], <s>, ...)
are in it too (``special_in_vocab``). The released code rounds exactly two things to 3 decimals: each token id's
self-similarity (before the layer mean) and each layer's anisotropy value. We keep full precision, and
``Geometry.self_sim(decimals=3)`` redoes the per-id rounding when a comparison with their output needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import torch

from .occurrences import MIN_COUNT, TokenPlan, TokenSample, plan_tokens, sample_tokens


# --------------------------------------------------------------------------------------------- pure functions
def unit(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to length 1 (a zero row stays zero, as sklearn's cosine_similarity treats it)."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)


def mean_offdiag_from_sum(sq_norm_of_sum, n):
    """Mean off-diagonal cosine of n unit vectors whose sum has squared norm ``sq_norm_of_sum``."""
    return (sq_norm_of_sum - n) / (n * (n - 1))


def mean_pairwise_cosine(x: torch.Tensor) -> float:
    """Mean off-diagonal cosine among the rows of ``x`` (n >= 2)."""
    s = unit(x.double()).sum(0)
    return float(mean_offdiag_from_sum(s @ s, x.shape[0]))


def intra_similarity(hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Per sentence, mean cosine of its non-pad tokens with their mean vector. ``hidden``: ``[..., b, T, d]``."""
    mask = torch.arange(hidden.shape[-2], device=hidden.device)[None, :] < lengths[:, None]  # [b, T]
    mean = (hidden * mask[..., None]).sum(-2) / lengths[:, None]  # [..., b, d]
    cos = (unit(hidden) * unit(mean)[..., None, :]).sum(-1)  # [..., b, T]
    return (cos * mask).sum(-1) / lengths


def dimension_contributions(x: torch.Tensor) -> torch.Tensor:
    """Share of each dimension in the sum of all pairwise cosines (diagonal included) of the rows of ``x``."""
    s = unit(x.double()).sum(0)
    return s * s / (s @ s)


def top_k_share(contributions: torch.Tensor, k: int) -> torch.Tensor:
    """Sum of the k largest contributions along the last axis."""
    return contributions.topk(k, dim=-1).values.sum(-1)


# --------------------------------------------------------------------------------------------- streaming
ROGUE_READINGS = ("mean_vector", "per_token")


@dataclass
class Geometry:
    """Per-layer results of one analysis (index 0 = embeddings ... L = last layer)."""

    vocab_ids: np.ndarray  # [V] token ids counted >= min_count times in the padded id matrix
    counts: np.ndarray  # [V] occurrences in the padded id matrix
    contexts: np.ndarray  # [V] sentences containing the id
    self_sim_per_id: np.ndarray  # [n_states, V]; NaN where an id has a single context
    unit_sum: np.ndarray = field(repr=False)  # [n_states, M, d] float64 sums of unit vectors of the measured ids
    intra_sim: np.ndarray = None  # [n_states]
    norm: np.ndarray = None  # [n_states]
    anisotropy_per_seed: np.ndarray = None  # [n_seeds, n_states]
    seeds: list[int] = field(default_factory=list)
    pad_id: int = 0
    special_ids: list[int] = field(default_factory=list)
    func_to_content: np.ndarray | None = None  # [n_states], when a functional/semantic split was given
    sem_to_content: np.ndarray | None = None  # [n_states]
    sample_vectors: np.ndarray | None = field(default=None, repr=False)  # [n_seeds, n_states, n, d]

    def isoscore_per_seed(self) -> np.ndarray:
        """``[n_seeds, n_states]``: the IsoScore of each anisotropy sample's token vectors, per layer."""
        from .isotropy import isoscore

        if self.sample_vectors is None:
            return np.full((max(1, len(self.seeds)), self.n_states), np.nan)
        return np.array([[isoscore(torch.as_tensor(v)) for v in seed] for seed in self.sample_vectors])

    def isoscore(self) -> np.ndarray:
        """Per layer, the IsoScore of the sampled tokens, averaged over seeds (NaN without samples)."""
        return self.isoscore_per_seed().mean(0)

    @property
    def n_states(self) -> int:
        return len(self.intra_sim)

    @property
    def measured(self) -> np.ndarray:
        """Ids with >= 2 contexts (the rows of ``unit_sum``)."""
        return self.contexts >= 2

    def vocabulary_mask(
        self, pad_in_vocab: bool = True, special_in_vocab: bool = True, ids: Iterable[int] | None = None
    ) -> np.ndarray:
        """Ids that enter a layer mean: more than one context, minus pad / specials when switched off, and
        restricted to ``ids`` when given (e.g. one token class)."""
        keep = self.measured.copy()
        if not pad_in_vocab:
            keep &= self.vocab_ids != self.pad_id
        if not special_in_vocab:
            keep &= ~np.isin(self.vocab_ids, [s for s in self.special_ids if s != self.pad_id])
        if ids is not None:
            keep &= np.isin(self.vocab_ids, np.fromiter(ids, dtype=np.int64))
        return keep

    def self_sim(
        self,
        pad_in_vocab: bool = True,
        special_in_vocab: bool = True,
        decimals: int | None = None,
        ids: Iterable[int] | None = None,
    ) -> np.ndarray:
        """Mean self-similarity per layer over the chosen vocabulary (NaN where it is empty).

        ``decimals=3`` rounds each id's value before averaging, as the released code does.
        """
        values = self.self_sim_per_id[:, self.vocabulary_mask(pad_in_vocab, special_in_vocab, ids)]
        if values.shape[1] == 0:
            return np.full(self.n_states, np.nan)
        return (values if decimals is None else np.round(values, decimals)).mean(1)

    @property
    def anisotropy(self) -> np.ndarray:
        return self.anisotropy_per_seed.mean(0)

    @property
    def anisotropy_sd(self) -> np.ndarray:
        """Standard deviation over seeds (ddof 1); 0 with a single seed."""
        if len(self.seeds) < 2:
            return np.zeros(self.n_states)
        return self.anisotropy_per_seed.std(0, ddof=1)

    def contributions(self, layer: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Rogue-dimension contributions ``[ids, d]`` at ``layer`` for the ids in ``mask`` (a vocabulary mask;
        default: every measured id). An id whose occurrences are all zero vectors (e.g. the pad embedding of a
        random MPNet) has none (0/0, as in the released code): its row is NaN."""
        mask = self.measured if mask is None else mask
        rows = mask[self.measured]  # the mask, restricted to the rows of unit_sum
        s = self.unit_sum[layer, rows]
        sq = (s * s).sum(-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sq > 0, s * s / sq, np.nan)

    def rogue_shares(
        self, k: int, reading: str = "mean_vector", pad_in_vocab: bool = True, special_in_vocab: bool = True
    ) -> np.ndarray:
        """Per layer, the share of the top-``k`` dimensions in the self-similarity contribution (see the module
        notes for the two readings); ids with no defined contribution are left out."""
        if reading not in ROGUE_READINGS:
            raise ValueError(f"reading = {reading!r}; expected one of {ROGUE_READINGS}")
        mask = self.vocabulary_mask(pad_in_vocab, special_in_vocab)
        out = np.empty(self.n_states)
        for layer in range(self.n_states):
            c = self.contributions(layer, mask)
            c = torch.as_tensor(c[~np.isnan(c).any(-1)])
            k_ = min(k, c.shape[-1])
            if reading == "mean_vector":
                out[layer] = float(top_k_share(c.mean(0), k_)) if len(c) else np.nan
            else:
                out[layer] = float(top_k_share(c, k_).mean()) if len(c) else np.nan
        return out

    def mean_contributions(self, pad_in_vocab: bool = True, special_in_vocab: bool = True) -> np.ndarray:
        """Per layer, the contribution vectors averaged over the chosen vocabulary (defined ones): ``[n_states, d]``."""
        mask = self.vocabulary_mask(pad_in_vocab, special_in_vocab)
        out = []
        for layer in range(self.n_states):
            c = self.contributions(layer, mask)
            out.append(np.nanmean(c, axis=0) if (~np.isnan(c).any(-1)).any() else np.full(c.shape[-1], np.nan))
        return np.stack(out)

    def per_layer(
        self, pad_in_vocab: bool = True, special_in_vocab: bool = True, rogue: str = "mean_vector"
    ) -> list[dict]:
        """One record per layer, with the keys of ``results.json``'s ``metrics.per_layer``; ``rogue`` picks the
        reading of ``rogue_top1_share`` / ``rogue_top3_share``."""
        ss = self.self_sim(pad_in_vocab, special_in_vocab)
        top1 = self.rogue_shares(1, rogue, pad_in_vocab, special_in_vocab)
        top3 = self.rogue_shares(3, rogue, pad_in_vocab, special_in_vocab)
        mean_c = torch.as_tensor(self.mean_contributions(pad_in_vocab, special_in_vocab))
        iso = self.isoscore()
        a, sd = self.anisotropy, self.anisotropy_sd
        k = min(3, mean_c.shape[-1])
        return [
            dict(
                layer=l,
                anisotropy=float(a[l]),
                anisotropy_sd=float(sd[l]),
                self_sim=float(ss[l]),
                self_sim_adj=float(ss[l] - a[l]),
                intra_sim=float(self.intra_sim[l]),
                intra_sim_adj=float(self.intra_sim[l] - a[l]),
                norm=float(self.norm[l]),
                rogue_top1_share=float(top1[l]),
                rogue_top3_share=float(top3[l]),
                isoscore=float(iso[l]),
                rogue_top_dims=[int(i) for i in torch.nan_to_num(mean_c[l], nan=-1.0).topk(k).indices],
            )
            for l in range(self.n_states)
        ]


class Accumulator:
    """Running sums over streamed batches of hidden states ``[n_states, b, T, d]``."""

    def __init__(
        self,
        plan: TokenPlan,
        samples: Iterable[TokenSample],
        n_states: int,
        dim: int,
        device: str | torch.device = "cpu",
        functional: np.ndarray | None = None,
    ):
        self.plan, self.samples = plan, list(samples)
        self.functional = None if functional is None else torch.as_tensor(functional, dtype=torch.bool, device=device)
        self.class_sums = torch.zeros(2, n_states, dtype=torch.float64, device=device)  # functional, semantic
        self.class_sentences = 0
        self.sample_vectors = None  # the sampled token vectors of every seed, for IsoScore
        if self.samples:
            self.sample_vectors = torch.zeros(
                len(self.samples), n_states, len(self.samples[0].sentences), dim, device=device
            )
        kw = dict(dtype=torch.float64, device=device)
        self.unit_sum = torch.zeros(n_states, int(plan.measured.sum()), dim, **kw)  # per measured id
        self.sample_sum = torch.zeros(len(self.samples), n_states, dim, **kw)  # per anisotropy seed
        self.norm_sum = torch.zeros(n_states, **kw)
        self.intra_sum = torch.zeros(n_states, **kw)
        self.n_tokens = self.n_sentences = 0
        self.seen = np.zeros(plan.n_sentences, dtype=bool)

    def add(
        self, index: np.ndarray, hidden: torch.Tensor, lengths: torch.Tensor, ids: torch.Tensor | None = None
    ) -> None:
        index = np.asarray(index)
        if self.seen[index].any():
            raise ValueError("a sentence was added twice")
        self.seen[index] = True
        h = hidden.float()  # per-token work in float32; every running sum is float64
        n_states, b, width, _ = h.shape
        device = h.device
        mask = torch.arange(width, device=device)[None, :] < lengths[:, None]
        norms = h.norm(dim=-1)
        u = h / norms.clamp_min(torch.finfo(h.dtype).tiny)[..., None]
        self.norm_sum += (norms * mask).double().sum((1, 2))
        self.n_tokens += int(mask.sum())
        self.intra_sum += intra_similarity(h, lengths.to(h.dtype)).double().sum(-1)
        self.n_sentences += b
        if self.functional is not None:
            if ids is None:
                raise ValueError("a functional/semantic split needs the batch's token ids")
            self._add_classes(h, u, mask, ids[:, :width])

        # first occurrences of vocabulary ids in these sentences -> running sums of their unit vectors
        start, stop = self.plan.occ_ptr[index], self.plan.occ_ptr[index + 1]
        per_row = stop - start
        rows = np.repeat(start - np.cumsum(per_row) + per_row, per_row) + np.arange(per_row.sum())
        local = torch.as_tensor(np.repeat(np.arange(b), per_row), device=device)
        pos = torch.as_tensor(self.plan.occ_pos[rows], device=device)
        slot = torch.as_tensor(self.plan.occ_slot[rows], device=device)
        self.unit_sum.index_add_(1, slot, u[:, local, pos].double())

        # anisotropy samples that fall in this batch
        layers = torch.arange(n_states, device=device)[:, None]
        for k, sample in enumerate(self.samples):
            where = np.searchsorted(sample.sentences, index)
            hit = where < len(sample.sentences)
            hit[hit] = sample.sentences[where[hit]] == index[hit]
            if hit.any():
                loc = torch.as_tensor(np.flatnonzero(hit), device=device)
                p = torch.as_tensor(sample.positions[:, where[hit]], device=device)  # [n_states, hits]
                self.sample_sum[k] += u[layers, loc[None, :], p].double().sum(1)
                self.sample_vectors[k][:, torch.as_tensor(where[hit], device=device)] = h[layers, loc[None, :], p]

    def _add_classes(self, h, u, mask, ids):
        functional = self.functional[ids.clamp_max(len(self.functional) - 1)] & mask  # [b, T]
        semantic = ~functional & mask
        both = functional.any(-1) & semantic.any(-1)  # sentences holding both classes
        if not both.any():
            return
        content = (h * semantic[..., None]).sum(-2) / semantic.sum(-1).clamp_min(1)[:, None]  # [n_states, b, d]
        cos = (u * unit(content)[..., None, :]).sum(-1)  # [n_states, b, T]
        for k, members in enumerate((functional, semantic)):
            per_sentence = (cos * members).sum(-1) / members.sum(-1).clamp_min(1)  # [n_states, b]
            self.class_sums[k] += per_sentence[:, both].double().sum(-1)
        self.class_sentences += int(both.sum())

    def finish(self, seeds: Sequence[int], special_ids: Sequence[int] = ()) -> Geometry:
        if not self.seen.all():
            raise ValueError(f"{int((~self.seen).sum())} sentences were never added")
        measured = self.plan.measured
        n = torch.as_tensor(self.plan.contexts[measured], dtype=torch.float64, device=self.unit_sum.device)
        sq = (self.unit_sum**2).sum(-1)  # [n_states, M]
        self_sim = np.full((self.unit_sum.shape[0], len(self.plan.vocab_ids)), np.nan)
        self_sim[:, measured] = mean_offdiag_from_sum(sq, n).cpu().numpy()
        n_samp = torch.tensor(
            [len(s.sentences) for s in self.samples], dtype=torch.float64, device=self.sample_sum.device
        )[:, None]
        anisotropy = mean_offdiag_from_sum((self.sample_sum**2).sum(-1), n_samp)
        cpu = lambda t: t.cpu().numpy()  # noqa: E731
        classes = (None, None)
        if self.functional is not None and self.class_sentences:
            classes = tuple(cpu(self.class_sums / self.class_sentences))
        return Geometry(
            self.plan.vocab_ids,
            self.plan.counts,
            self.plan.contexts,
            self_sim,
            cpu(self.unit_sum),
            cpu(self.intra_sum / self.n_sentences),
            cpu(self.norm_sum / self.n_tokens),
            cpu(anisotropy),
            list(seeds),
            self.plan.pad_id,
            sorted(set(int(s) for s in special_ids)),
            *classes,
            None if self.sample_vectors is None else cpu(self.sample_vectors),
        )


# --------------------------------------------------------------------------------------------- one call
def analyse(
    encoder,
    sentences: Sequence[str],
    seeds: Sequence[int],
    n_samples: int = 1000,
    batch_size: int = 64,
    max_length: int | None = None,
    min_count: int = MIN_COUNT,
    progress: bool = True,
    functional: np.ndarray | None = None,
) -> Geometry:
    """The whole protocol for one encoder (a :class:`lib.science.models.Encoder`) over ``sentences``."""
    return analyse_model(
        encoder.model,
        encoder.tokenizer,
        sentences,
        seeds,
        n_samples,
        batch_size,
        max_length or encoder.max_length,
        min_count,
        progress,
        functional,
    )


def analyse_model(
    model,
    tokenizer,
    sentences: Sequence[str],
    seeds: Sequence[int],
    n_samples: int = 1000,
    batch_size: int = 64,
    max_length: int | None = None,
    min_count: int = MIN_COUNT,
    progress: bool = True,
    functional: np.ndarray | None = None,
) -> Geometry:
    """The protocol for any transformers encoder and its tokenizer (e.g. a model in the middle of training: it is
    measured in eval mode and put back in the mode it was in)."""
    from .encode import hidden_states, tokenize
    from .models import max_length as model_max_length

    token_ids = tokenize(tokenizer, sentences, max_length or model_max_length(model.config, tokenizer))
    pad_id = int(tokenizer.pad_token_id)
    plan = plan_tokens(token_ids, pad_id, min_count)
    n_states = int(model.config.num_hidden_layers) + 1
    samples = [sample_tokens(plan.lengths, min(n_samples, len(token_ids)), n_states, seed) for seed in seeds]
    device = next(model.parameters()).device
    acc = Accumulator(plan, samples, n_states, int(model.config.hidden_size), device, functional)
    for batch in hidden_states(model, token_ids, pad_id, batch_size, plan.padded_length, progress):
        acc.add(batch.index, batch.hidden, batch.lengths, batch.ids)
    return acc.finish(seeds, tokenizer.all_special_ids)
