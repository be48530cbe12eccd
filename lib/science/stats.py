"""Small statistics: bootstrap intervals, seeded (scipy's bootstrap)."""

from __future__ import annotations

import numpy as np


def bootstrap_mean(values, n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """The mean of ``values`` (non-finite ones dropped) and a percentile bootstrap interval for it
    (:func:`scipy.stats.bootstrap`, resampling the values themselves, seeded)."""
    from scipy.stats import bootstrap

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return dict(mean=float(x.mean()) if len(x) else float("nan"), low=float("nan"), high=float("nan"), n=len(x))
    res = bootstrap(
        (x,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
        axis=-1,
    )
    return dict(
        mean=float(x.mean()), low=float(res.confidence_interval.low), high=float(res.confidence_interval.high), n=len(x)
    )
