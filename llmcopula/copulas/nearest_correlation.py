"""The nearest correlation matrix (Higham 2002)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_finite_array, check_positive_int

__all__ = ["nearest_correlation"]


def nearest_correlation(
    matrix: ArrayLike,
    *,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    min_eigenvalue: float = 0.0,
) -> NDArray[np.float64]:
    """The correlation matrix nearest to ``matrix`` in the Frobenius norm.

    Solves min ||A - X||_F over symmetric X with unit diagonal and eigenvalues
    >= ``min_eigenvalue`` by Higham's alternating projections with Dykstra's correction:
    starting from Y_0 = A, ΔS_0 = 0, repeat R = Y - ΔS, X = P_S(R) (eigenvalues clipped
    from below), ΔS = X - R, Y = P_U(X) (diagonal set to 1), until X and Y agree. Both sets
    are convex, so the iteration converges to the unique nearest point of their intersection.

    Parameters
    ----------
    matrix : array_like, shape (d, d)
        Symmetric matrix with finite entries (e.g. a pairwise-estimated correlation matrix
        that is not positive semi-definite).
    tol : float, default 1e-10
        Stop when ||Y - X||_F <= tol * ||Y||_F (both projections agree).
    max_iter : int, default 10000
        Iteration cap; a ``RuntimeError`` is raised if it is reached.
    min_eigenvalue : float, default 0.0
        Lower bound on the eigenvalues, in [0, 1). A small positive value (e.g. 1e-8) gives a
        strictly positive definite matrix, usable in a Gaussian copula.

    Returns
    -------
    ndarray, shape (d, d)
        Symmetric, unit diagonal, eigenvalues >= ``min_eigenvalue`` (up to ``tol``). A
        valid correlation matrix is returned unchanged (up to rounding).

    References
    ----------
    N. J. Higham (2002), "Computing the nearest correlation matrix—a problem from finance",
    IMA Journal of Numerical Analysis 22, 329-343.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.copulas import nearest_correlation
    >>> a = 2 * np.eye(4) - np.eye(4, k=1) - np.eye(4, k=-1)  # Higham (2002), §4
    >>> np.round(nearest_correlation(a), 4)
    array([[ 1.    , -0.8084,  0.1916,  0.1068],
           [-0.8084,  1.    , -0.6562,  0.1916],
           [ 0.1916, -0.6562,  1.    , -0.8084],
           [ 0.1068,  0.1916, -0.8084,  1.    ]])
    """
    a = check_finite_array(matrix, "matrix", ndim=2)
    if a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"matrix: expected a non-empty square matrix, got shape {a.shape}")
    scale = max(1.0, float(np.abs(a).max()))
    if not np.allclose(a, a.T, rtol=0, atol=1e-12 * scale):
        raise ValueError("matrix: must be symmetric")
    if not (tol > 0):
        raise ValueError(f"tol: must be > 0, got {tol!r}")
    max_iter = check_positive_int(max_iter, "max_iter")
    if not (0.0 <= min_eigenvalue < 1.0):
        raise ValueError(f"min_eigenvalue: must lie in [0, 1), got {min_eigenvalue!r}")
    a = (a + a.T) / 2.0
    y = a.copy()
    ds = np.zeros_like(a)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, min_eigenvalue)) @ v.T
        x = (x + x.T) / 2.0
        ds = x - r
        y = x.copy()
        np.fill_diagonal(y, 1.0)
        if np.linalg.norm(y - x) <= tol * np.linalg.norm(y):
            break
    else:
        raise RuntimeError(f"nearest_correlation: no convergence in {max_iter} iterations")
    return y
