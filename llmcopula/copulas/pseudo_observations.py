"""Pseudo-observations: the empirical probability integral transform of each margin."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from .._validation import check_finite_array

__all__ = ["pseudo_observations"]


def pseudo_observations(x: ArrayLike) -> NDArray[np.float64]:
    r"""Map each column of ``x`` to the unit interval by its ranks, ``R_ij / (n + 1)``.

    The pseudo-observations :math:`\hat U_{ij} = R_{ij} / (n + 1)`, where :math:`R_{ij}` is the
    rank of :math:`x_{ij}` among :math:`x_{1j}, \dots, x_{nj}`, are the usual input of
    semi-parametric copula estimation (Genest, Ghoudi & Rivest, 1995). Dividing by ``n + 1``
    rather than ``n`` keeps every value inside the open interval (0, 1), where every copula
    log-density is finite.

    Tied values get the average of the ranks they span (``scipy.stats.rankdata(...,
    method="average")``), so equal inputs map to equal pseudo-observations and the column
    still averages to 1/2.

    Parameters
    ----------
    x : array_like of shape (n, d)
        Observations, one row per sample. A 1-d array is treated as a single column.

    Returns
    -------
    ndarray of shape (n, d) (or (n,) for 1-d input)
        Values in (0, 1). The result is invariant to strictly increasing transforms of any
        column of ``x``.

    Raises
    ------
    ValueError
        If ``x`` is empty, has more than two dimensions, or contains NaN or infinite values.

    References
    ----------
    C. Genest, K. Ghoudi and L.-P. Rivest (1995), "A semiparametric estimation procedure of
    dependence parameters in multivariate families of distributions", Biometrika 82(3), 543-552.

    Examples
    --------
    >>> from llmcopula.copulas import pseudo_observations
    >>> pseudo_observations([[3.0, 10.0], [1.0, 30.0], [2.0, 20.0]]).tolist()
    [[0.75, 0.25], [0.25, 0.75], [0.5, 0.5]]
    """
    arr = check_finite_array(x, "x")
    if arr.ndim not in (1, 2):
        raise ValueError(f"x: expected a 1-d or 2-d array, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("x: contains no observations (shape[0] == 0)")
    n = arr.shape[0]
    return rankdata(arr, method="average", axis=0) / (n + 1.0)
