"""Geometry snapshots during training: Chapter 1's metrics, and the token-class ones, at log-spaced steps.

A snapshot measures the encoder in eval mode (dropout off; the training mode is restored after) on the analysis
sentences of the authors' protocol -- STS-B test ``sentence1`` -- in float32, whatever the training precision.
"""

from __future__ import annotations

import numpy as np

LOG_STEPS = (0, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)


def schedule(spec, max_steps: int) -> list[int]:
    """The steps to measure at: ``'log'`` (:data:`LOG_STEPS` up to the run's length, and its last step),
    ``'none'``, or an explicit list."""
    if spec == "none":
        return []
    steps = LOG_STEPS if spec == "log" else spec
    return sorted({s for s in steps if s <= max_steps} | ({max_steps} if spec == "log" else set()))


class Snapshots:
    """Measures one run's encoder on its analysis sentences (loaded once per run)."""

    def __init__(self, data_dir: str, n_sentences: int, tokenizer):
        self.data_dir, self.n_sentences, self.tokenizer = data_dir, n_sentences, tokenizer
        self._texts = None
        self._functional = None

    @property
    def texts(self) -> list[str]:
        from .. import data

        if self._texts is None:
            self._texts = data.sentences(data.load("stsb", "test", self.data_dir), "sentence1", self.n_sentences)
        return self._texts

    def measure(self, encoder) -> dict:
        from .. import geometry, tokens

        if self._functional is None:
            self._functional = tokens.functional_mask(self.tokenizer)
        geo = geometry.analyse_model(
            encoder,
            self.tokenizer,
            self.texts,
            [0],
            n_samples=min(1000, len(self.texts)),
            batch_size=64,
            progress=False,
            functional=self._functional,
        )
        functional = np.flatnonzero(self._functional)
        semantic = np.flatnonzero(~self._functional)
        return dict(
            per_layer=geo.per_layer(),
            self_sim_functional=geo.self_sim(ids=functional),
            self_sim_semantic=geo.self_sim(ids=semantic),
            func_to_content=geo.func_to_content,
            sem_to_content=geo.sem_to_content,
        )
