"""Small statistics: bootstrap intervals, seeded."""

from __future__ import annotations

import numpy as np


def bootstrap_mean(values, n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """The mean of ``values`` and a percentile bootstrap interval for it (resampling the values themselves)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return dict(mean=float(x.mean()) if len(x) else float("nan"), low=float("nan"), high=float("nan"), n=len(x))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_resamples, len(x)))].mean(1)
    tail = (1 - level) / 2
    return dict(mean=float(x.mean()), low=float(np.quantile(means, tail)), high=float(np.quantile(means, 1 - tail)),
                n=len(x))
