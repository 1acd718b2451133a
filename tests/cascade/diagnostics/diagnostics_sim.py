"""Helpers of the size and power checks of the diagnostics' tests.

Bootstrap tests are checked by the "warp-speed" Monte Carlo method (Giacomini, Politis & White
2013, Econometric Theory 29, 567–589): each simulated data set gets its statistic T_r and a
single bootstrap replicate T*_r (the test called with ``n_boot=1``), and data set r is
rejected at level α when T_r exceeds the (1 − α) order statistic of the pooled replicates
T*_1..T*_R. Under a correct null the 2R values are exchangeable, so the number of rejections
has a distribution that depends on R and α only; :func:`warp_speed_band` computes it, and the
tolerance of a size check is that distribution's central 99.8% (not a guess).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def order_statistic_index(n: int, alpha: float) -> int:
    """0-based index of the (1 − α) order statistic of n values."""
    return min(n - 1, math.ceil((1 - alpha) * n) - 1)


def warp_speed_rejections(statistics, replicates, alpha: float) -> int:
    """How many data sets the warp-speed rule rejects at level ``alpha``."""
    reps = np.sort(np.asarray(replicates, dtype=np.float64))
    crit = reps[order_statistic_index(reps.size, alpha)]
    return int(np.count_nonzero(np.asarray(statistics) > crit))


def warp_speed_band(n_sims: int, alpha: float, *, coverage: float = 0.998,
                    n_perm: int = 20_000) -> tuple[int, int]:
    """Central ``coverage`` range of the warp-speed rejection count when the null holds (the
    2R statistics exchangeable), from ``n_perm`` seeded random splits of 2R ranks."""
    gen = np.random.default_rng(20130101)
    ranks = np.argsort(gen.random((n_perm, 2 * n_sims)), axis=1)  # random split of ranks
    obs, reps = ranks[:, :n_sims], np.sort(ranks[:, n_sims:], axis=1)
    crit = reps[:, order_statistic_index(n_sims, alpha)]
    count = np.sum(obs > crit[:, None], axis=1)
    lo, hi = np.quantile(count, [(1 - coverage) / 2, (1 + coverage) / 2])
    return int(lo), int(hi)


def binomial_band(n_sims: int, alpha: float, *, coverage: float = 0.998) -> tuple[int, int]:
    """Central ``coverage`` range of the rejection count of an exact level-α test."""
    lo, hi = stats.binom.ppf([(1 - coverage) / 2, (1 + coverage) / 2], n_sims, alpha)
    return int(lo), int(hi)
