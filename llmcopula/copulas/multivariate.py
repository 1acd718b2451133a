"""The d-dimensional Gaussian copula."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, special, stats

from .._deprecation import keyword_only_after
from .._validation import RNGLike, check_finite_array, check_positive_int, check_rng
from .gaussian import GaussianCopula
from .nearest_correlation import nearest_correlation

__all__ = ["MultivariateGaussianCopula"]

FloatArray = NDArray[np.float64]


def _check_corr(corr: ArrayLike) -> FloatArray:
    c = check_finite_array(corr, "corr", ndim=2)
    d = c.shape[0]
    if c.shape != (d, d) or d < 2:
        raise ValueError(f"corr: expected a d x d matrix with d >= 2, got shape {c.shape}")
    if not np.allclose(c, c.T, rtol=0, atol=1e-12):
        raise ValueError("corr: must be symmetric")
    if not np.allclose(np.diag(c), 1.0, rtol=0, atol=1e-12):
        raise ValueError("corr: must have a unit diagonal")
    c = (c + c.T) / 2.0
    np.fill_diagonal(c, 1.0)
    try:
        np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError(
            "corr: must be positive definite; repair an estimate with "
            "nearest_correlation(corr, min_eigenvalue=1e-8)"
        ) from None
    return c


class MultivariateGaussianCopula:
    r"""Gaussian copula in d dimensions with correlation matrix ``corr``.

    .. math::

        C(u) = \Phi_R(\Phi^{-1}(u_1), \dots, \Phi^{-1}(u_d)), \quad
        \log c(u) = -\tfrac12 \log\det R - \tfrac12 x^\top (R^{-1} - I) x,
        \quad x_i = \Phi^{-1}(u_i).

    Parameters
    ----------
    corr : array_like, shape (d, d)
        Correlation matrix: symmetric, unit diagonal, positive definite.

    Notes
    -----
    ``cdf`` for d = 2 uses the bivariate quadrature of :class:`GaussianCopula` (absolute
    error ~1e-15); for d > 2 it calls ``scipy.stats.multivariate_normal.cdf`` (Genz's
    randomised quasi Monte Carlo) with absolute tolerance ``abseps`` (default 1e-6), whose
    result varies with ``rng`` at that level.

    Instances are immutable; :attr:`corr` is a read-only array.

    References
    ----------
    H. Joe (2014), *Dependence Modeling with Copulas*, Chapman & Hall/CRC, §4.3.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.copulas import MultivariateGaussianCopula
    >>> cop = MultivariateGaussianCopula([[1, 0.5, 0.2], [0.5, 1, 0.3], [0.2, 0.3, 1]])
    >>> cop.sample(4, rng=0).shape
    (4, 3)
    >>> float(cop.bivariate(0, 1).rho)
    0.5
    """

    _frozen = False

    def __init__(self, corr: ArrayLike) -> None:
        c = _check_corr(corr)
        c.setflags(write=False)
        self._corr = c
        self._chol = np.linalg.cholesky(c)
        self._logdet = 2.0 * float(np.log(np.diag(self._chol)).sum())
        self._frozen = True

    def __setattr__(self, name: str, value: object) -> None:
        if self._frozen:
            raise AttributeError("MultivariateGaussianCopula objects are immutable")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"MultivariateGaussianCopula(corr={self._corr.tolist()!r})"

    @property
    def corr(self) -> FloatArray:
        """Correlation matrix of the normal scores (read-only)."""
        return self._corr

    @property
    def dim(self) -> int:
        """Dimension d."""
        return self._corr.shape[0]

    @property
    def tau(self) -> FloatArray:
        """Matrix of pairwise Kendall's tau, (2/π) arcsin(ρ_ij)."""
        return 2.0 / np.pi * np.arcsin(np.clip(self._corr, -1.0, 1.0))

    def bivariate(self, i: int, j: int) -> GaussianCopula:
        """The bivariate Gaussian copula of the pair (U_i, U_j)."""
        d = self.dim
        for name, v in (("i", i), ("j", j)):
            if not isinstance(v, (int, np.integer)) or not 0 <= v < d:
                raise ValueError(f"{name}: expected an integer index in [0, {d}), got {v!r}")
        if i == j:
            raise ValueError("j: must differ from i")
        return GaussianCopula(self._corr[i, j])

    def _check_u(self, u: ArrayLike) -> FloatArray:
        arr = np.asarray(u, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[-1] != self.dim:
            raise ValueError(f"u: expected an array of shape (..., {self.dim}), got shape {arr.shape}")
        if np.isnan(arr).any():
            raise ValueError(f"u: contains {int(np.isnan(arr).sum())} NaN value(s)")
        if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
            raise ValueError("u: values must lie in [0, 1]")
        return arr

    def logpdf(self, u: ArrayLike) -> FloatArray:
        """Log density, computed in log space."""
        x = special.ndtri(self._check_u(u))
        flat = x.reshape(-1, self.dim)
        with np.errstate(invalid="ignore"):
            z = linalg.solve_triangular(self._chol, flat.T, lower=True, check_finite=False).T
            z = z.reshape(x.shape)
            out = -0.5 * self._logdet - 0.5 * (np.sum(z * z, axis=-1) - np.sum(x * x, axis=-1))
        return out

    def pdf(self, u: ArrayLike) -> FloatArray:
        """Density."""
        return np.exp(self.logpdf(u))

    def cdf(self, u: ArrayLike, *, abseps: float = 1e-6, rng: RNGLike = None) -> FloatArray:
        """Distribution function C(u) (see Notes for the accuracy when d > 2)."""
        arr = self._check_u(u)
        if self.dim == 2:
            return self.bivariate(0, 1).cdf(arr)
        gen = check_rng(rng)
        mvn = stats.multivariate_normal(cov=self._corr, abseps=abseps, releps=0.0)
        out = np.asarray(mvn.cdf(special.ndtri(arr), rng=gen), dtype=np.float64)
        out = np.where((arr == 0.0).any(axis=-1), 0.0, out)
        return np.clip(out, 0.0, arr.min(axis=-1)).reshape(arr.shape[:-1])

    @keyword_only_after("rng")
    def sample(self, n: int, *, rng: RNGLike = None) -> FloatArray:
        """Draw ``n`` points, U = Φ(L Z) with L L^T = corr; shape ``(n, d)``."""
        n = check_positive_int(n, "n", minimum=0)
        z = check_rng(rng).standard_normal((n, self.dim))
        return special.ndtr(z @ self._chol.T)

    @classmethod
    def fit(cls, u: ArrayLike, *, method: Literal["itau", "mle"] = "itau") -> MultivariateGaussianCopula:
        """Estimate the correlation matrix from pseudo-observations ``u`` of shape (n, d).

        ``"itau"``: ρ_ij = sin(π τ_ij / 2) from pairwise Kendall's tau, repaired by
        :func:`nearest_correlation` (min eigenvalue 1e-8) when not positive definite.
        ``"mle"``: the correlation of the normal scores Φ^{-1}(u), which maximises the
        likelihood over unrestricted covariances and is therefore the Gaussian copula MLE
        only approximately (the exact MLE constrains the diagonal to 1).
        """
        arr = check_finite_array(u, "u", ndim=2)
        n, d = arr.shape
        if d < 2 or n < 3:
            raise ValueError(f"u: expected shape (n, d) with n >= 3 and d >= 2, got {arr.shape}")
        if arr.min() <= 0.0 or arr.max() >= 1.0:
            raise ValueError("u: pseudo-observations must lie in the open interval (0, 1)")
        if method == "itau":
            r = np.eye(d)
            for i in range(d):
                for j in range(i + 1, d):
                    tau = stats.kendalltau(arr[:, i], arr[:, j])[0]
                    r[i, j] = r[j, i] = np.sin(np.pi * tau / 2.0)
        elif method == "mle":
            r = np.corrcoef(special.ndtri(arr), rowvar=False)
        else:
            raise ValueError(f"method: expected 'itau' or 'mle', got {method!r}")
        if np.isnan(r).any():
            raise ValueError("u: a column is constant, its correlation is undefined")
        if np.linalg.eigvalsh(r).min() < 1e-8:
            r = nearest_correlation(r, min_eigenvalue=1e-8)
        return cls(r)
