"""IsoScore (Rudman et al., 2022): how uniformly a point cloud uses the dimensions of its space.

1 when the variance is spread equally over all d directions (isotropic), near 0 when it lies along one direction.
For points ``[n, d]``: the covariance's eigenvalues (the variance along the principal axes), scaled to length
sqrt(d); their distance to the all-ones vector, normalised by its largest possible value sqrt(2 (d - sqrt d)), is
the *isotropy defect* delta; then k = (d - delta^2 (d - sqrt d))^2 / d dimensions are "used" and the score is
(k - 1) / (d - 1). Checked against the authors' PyPI package ``IsoScore`` in the tests.
"""

from __future__ import annotations

import math

import torch


def isoscore(points: torch.Tensor) -> float:
    """IsoScore of the rows of ``points`` ``[n, d]`` (n >= 2), computed in float64."""
    x = torch.as_tensor(points, dtype=torch.float64)
    n, d = x.shape
    if n < 2:
        raise ValueError(f"IsoScore needs at least 2 points, got {n}")
    variance = torch.linalg.eigvalsh(torch.cov(x.T)).clamp_min(0)
    scaled = variance * math.sqrt(d) / variance.norm()
    defect = float((scaled - 1).norm()) / math.sqrt(2 * (d - math.sqrt(d)))
    used = (d - defect**2 * (d - math.sqrt(d))) ** 2 / d
    return (used - 1) / (d - 1)
