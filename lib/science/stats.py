"""Small statistics: Student-t intervals over training seeds (the book's effects) and seeded bootstrap intervals."""

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


def t_interval(values, level: float = 0.95) -> dict:
    """Mean, sd (ddof 1) and the Student-t interval for the mean of ``values`` (non-finite ones dropped):
    ``mean ± t_{(1+level)/2, n-1} sd / sqrt(n)``. With fewer than two values the interval is undefined (NaN).

    The book's effects are measured once per training seed; with three seeds the sd is itself uncertain by a factor
    of several, which the t quantile (4.30 for n = 3) carries and a fixed multiple of the sd does not."""
    from scipy.stats import t

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        m = float(x.mean()) if n else float("nan")
        return dict(mean=m, sd=float("nan"), n=n, low=float("nan"), high=float("nan"))
    m, sd = float(x.mean()), float(x.std(ddof=1))
    half = float(t.ppf((1 + level) / 2, n - 1)) * sd / np.sqrt(n)
    return dict(mean=m, sd=sd, n=n, low=m - half, high=m + half)


def difference_interval(a, b, level: float = 0.95) -> dict:
    """``mean(a) - mean(b)`` with the pooled two-sample Student-t interval (equal variances). With one value in
    ``a`` (a setting trained with one seed) against ``n`` in ``b`` (the default setting's seeds) it is the
    prediction interval for one more seed of ``b``: ``± t_{n-1} s_b sqrt(1 + 1/n)``."""
    from scipy.stats import t

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    na, nb = len(a), len(b)
    diff = float(a.mean() - b.mean()) if na and nb else float("nan")
    df = na + nb - 2
    if na == 0 or nb == 0 or df < 1:
        return dict(mean=diff, sd=float("nan"), n=min(na, nb), df=max(df, 0), low=float("nan"), high=float("nan"))
    pooled = ((na - 1) * (a.var(ddof=1) if na > 1 else 0.0) + (nb - 1) * (b.var(ddof=1) if nb > 1 else 0.0)) / df
    half = float(t.ppf((1 + level) / 2, df)) * float(np.sqrt(pooled * (1 / na + 1 / nb)))
    return dict(mean=diff, sd=float(np.sqrt(pooled)), n=min(na, nb), df=df, low=diff - half, high=diff + half)
