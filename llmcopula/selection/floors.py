"""Error floors of ensembles whose errors follow the Gaussian-copula model.

The model (see :class:`~llmcopula.selection.error_model.CorrelatedErrorModel`): model ``i`` errs iff
its latent score ``Z_i < τ_i = Φ⁻¹(p_i)`` with ``Z ~ N(0, R)``; binary predictions are
``X_i = Y ⊕ E_i`` and the errors are independent of the label ``Y ~ Bernoulli(π₁)``.

**Equicorrelated ensembles** (``R_ij = ρ``, ``p_i = p``). With the one-factor form
``Z_i = √ρ·W + √(1−ρ)·ε_i`` the models err independently given ``W`` with probability
``q(W) = Φ((τ − √ρ·W)/√(1−ρ))``. As the ensemble grows, the probit of the fraction of models
voting "1" tends to ``G ~ N(∓μ, s²)`` given ``Y = 0/1`` with ``μ = τ/√(1−ρ)``, ``s² = ρ/(1−ρ)``.
The two classes are then two Gaussians at standardised distance ``2d`` with ``d = |τ|/√ρ``, so

* the Bayes floor is ``π₀·Φ(−d + L/(2d)) + π₁·Φ(−d − L/(2d))``, ``L = ln(π₁/π₀)``, which is
  ``Φ(Φ⁻¹(p)/√ρ)`` for a balanced prior (:func:`equicorrelated_error_floor`);
* the posterior log-odds given ``G`` is ``Λ ~ N(L ∓ 2d², 4d²)`` given ``Y = 0/1``, which gives the
  information limit ``I_∞ = H(Y) − H(Y|G)`` (:func:`information_limit`) and Fano's bound
  ``h_b⁻¹(H(Y|G))`` on the error of every aggregator at every ensemble size
  (:func:`fano_lower_bound`);
* for finite ``n`` the number of errors is a mixture of binomials over ``W``
  (:func:`majority_vote_error`, :func:`equicorrelated_bayes_error`).

**Any given set of models** (heterogeneous ``p_i``, general ``R`` or a one-factor structure with
loadings ``λ_i``): :func:`bayes_error` enumerates the ``2^M`` error patterns.

References
----------
Y. Turkmen, B. Buyukates, M. Bastopcu (2026), "Don't Always Pick the Highest-Performing Model: An
Information Theoretic View of LLM Ensemble Selection", arXiv:2602.08003 (the equicorrelated
Gaussian error floor, their Theorem 4.4; the formulas here are our own derivation).
O. Vasicek (2002), "The distribution of loan portfolio value", Risk 15(12) (the one-factor
binomial mixture).
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

from .._validation import RNGLike, check_finite_array, check_rng

__all__ = [
    "bayes_error",
    "binary_entropy",
    "effective_number_of_models",
    "equicorrelated_bayes_error",
    "equicorrelated_error_floor",
    "error_pattern_probabilities",
    "fano_lower_bound",
    "information_limit",
    "inverse_binary_entropy",
    "majority_vote_error",
]

FloatArray = NDArray[np.float64]

# The standard normal mass outside [-_W_LIMIT, _W_LIMIT] is 2.3e-19: negligible next to any
# probability we report, so integrals over the common factor W are truncated there.
_W_LIMIT = 9.0
_GL_NODES = 16
# The posterior log-odds enters H(Y|G) through h(σ(x)) ~ |x|·e^{-|x|}, below 1e-24 beyond 60.
_LOGIT_LIMIT = 60.0


# --------------------------------------------------------------------------------------------
# validation


def _check_error_rate(p: ArrayLike, name: str = "p") -> FloatArray:
    arr = check_finite_array(p, name)
    if (arr < 0).any() or (arr > 0.5).any():
        raise ValueError(
            f"{name}: the equicorrelated floors need an error rate in [0, 0.5] (a model wrong more "
            f"often than not would be flipped by the Bayes rule), got range "
            f"[{arr.min():.6g}, {arr.max():.6g}]"
        )
    return arr


def _check_rho(rho: ArrayLike, name: str = "rho") -> FloatArray:
    arr = check_finite_array(rho, name)
    if (arr < 0).any() or (arr > 1).any():
        raise ValueError(
            f"{name}: the equicorrelation must lie in [0, 1], got range "
            f"[{arr.min():.6g}, {arr.max():.6g}]"
        )
    return arr


def _check_prior(prior: ArrayLike, name: str = "prior") -> FloatArray:
    arr = check_finite_array(prior, name)
    if (arr <= 0).any() or (arr >= 1).any():
        raise ValueError(f"{name}: the class prior P(Y=1) must lie in the open interval (0, 1)")
    return arr


def _check_n_models(n: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(n)
    if arr.dtype.kind not in "iu" and not (
        arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all()
    ):
        raise ValueError(f"n: expected integer numbers of models, got {n!r}")
    arr = arr.astype(np.int64)
    if (arr < 1).any():
        raise ValueError(f"n: the number of models must be >= 1, got minimum {arr.min()}")
    return arr


def _separation(p: FloatArray, rho: FloatArray) -> FloatArray:
    """``d = |Φ⁻¹(p)|/√ρ`` (``inf`` for ``p = 0`` or ``rho = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(special.ndtri(p)) / np.sqrt(rho)
    return np.where((p == 0) | (rho == 0), np.inf, d)


def _single_model_bayes_error(p: FloatArray, pi1: FloatArray) -> FloatArray:
    pi0 = 1.0 - pi1
    return np.minimum(pi0 * (1 - p), pi1 * p) + np.minimum(pi0 * p, pi1 * (1 - p))


# --------------------------------------------------------------------------------------------
# n -> infinity: floor, information limit, Fano


def equicorrelated_error_floor(p: ArrayLike, rho: ArrayLike, prior: ArrayLike = 0.5) -> FloatArray:
    """Bayes error of an infinite ensemble of equicorrelated, equally accurate models.

    With ``d = |Φ⁻¹(p)|/√ρ`` and ``L = ln(π₁/π₀)``, ``π₁ = prior``::

        floor = π₀·Φ(−d + L/(2d)) + π₁·Φ(−d − L/(2d)),

    which for a balanced prior is ``Φ(Φ⁻¹(p)/√ρ)``. It is the limit of both the Bayes error and
    (balanced prior) the majority-vote error as the number of models grows. ``rho = 0`` gives 0
    (the Condorcet limit). At ``rho = 1`` all models are one model and the floor is that model's
    Bayes error ``min(π₀(1−p), π₁p) + min(π₀p, π₁(1−p))``; for a balanced prior this is the
    ``rho -> 1`` limit ``p`` of the formula, for other priors the limit ``rho -> 1`` is smaller
    (a continuum of near-copies still reveals the common factor).

    Parameters
    ----------
    p : array_like
        Error rate of every model, in ``[0, 0.5]``.
    rho : array_like
        Equicorrelation of the latent scores, in ``[0, 1]``.
    prior : array_like, default 0.5
        ``P(Y = 1)``, in ``(0, 1)``.

    Returns
    -------
    ndarray
        The floor, broadcast over ``p``, ``rho`` and ``prior``.

    References
    ----------
    Turkmen, Buyukates & Bastopcu (2026), arXiv:2602.08003, Theorem 4.4 (equicorrelated Gaussian
    error floor).

    Examples
    --------
    >>> from llmcopula.selection import equicorrelated_error_floor
    >>> round(float(equicorrelated_error_floor(0.2, 0.3)), 4)
    0.0622
    >>> round(float(equicorrelated_error_floor(0.3, 0.5, prior=0.3)), 4)
    0.1959
    """
    p_arr = _check_error_rate(p)
    rho_arr = _check_rho(rho)
    pi1 = _check_prior(prior)
    p_arr, rho_arr, pi1 = np.broadcast_arrays(p_arr, rho_arr, pi1)
    pi0 = 1.0 - pi1
    d = _separation(p_arr, rho_arr)
    log_odds = np.log(pi1 / pi0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.isinf(d), 0.0, log_odds / (2.0 * d))
        floor = pi0 * special.ndtr(-d + shift) + pi1 * special.ndtr(-d - shift)
    floor = np.where(d == 0, np.minimum(pi0, pi1), floor)
    floor = np.where(np.isinf(d), 0.0, floor)
    floor = np.where((rho_arr == 1) & (p_arr > 0), _single_model_bayes_error(p_arr, pi1), floor)
    return floor[()] if floor.ndim == 0 else floor


def binary_entropy(p: ArrayLike) -> FloatArray:
    """Binary entropy ``h_b(p) = −p·log₂p − (1−p)·log₂(1−p)`` in bits (``h_b(0) = h_b(1) = 0``).

    Examples
    --------
    >>> from llmcopula.selection.floors import binary_entropy
    >>> float(binary_entropy(0.5))
    1.0
    """
    arr = np.asarray(p, dtype=np.float64)
    out = (special.entr(arr) + special.entr(1.0 - arr)) / np.log(2.0)
    return out[()] if out.ndim == 0 else out


def inverse_binary_entropy(h: ArrayLike) -> FloatArray:
    """The ``p ∈ [0, ½]`` with ``h_b(p) = h`` (bits), by vectorised bisection.

    The bisection runs to 1e-16 in ``p``; near ``p = ½``, where ``h_b`` is flat
    (``1 − h_b(½ − x) ≈ 2.9·x²``), a rounding error ε in ``h`` moves the answer by ``√ε``.

    Examples
    --------
    >>> from llmcopula.selection.floors import binary_entropy, inverse_binary_entropy
    >>> round(float(inverse_binary_entropy(binary_entropy(0.11))), 12)
    0.11
    """
    arr = check_finite_array(h, "h")
    if (arr < 0).any() or (arr > 1).any():
        raise ValueError("h: a binary entropy in bits must lie in [0, 1]")
    lo = np.zeros_like(arr)
    hi = np.full_like(arr, 0.5)
    for _ in range(52):  # halves 0.5 down to 1e-16
        mid = 0.5 * (lo + hi)
        below = binary_entropy(mid) < arr
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    out = 0.5 * (lo + hi)
    out = np.where(arr == 0, 0.0, out)
    return out[()] if out.ndim == 0 else out


@cache
def _hermite_rule(n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss–Hermite rule for E[f(Z)], Z ~ N(0, 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / np.sqrt(2.0 * np.pi)


@cache
def _legendre_rule(n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss–Legendre rule on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


def _entropy_of_logit(x: FloatArray) -> FloatArray:
    """``h_b(σ(x))`` in nats, stable for any ``x``: ``σ(x)·softplus(−x) + σ(−x)·softplus(x)``."""
    return special.expit(x) * np.logaddexp(0.0, -x) + special.expit(-x) * np.logaddexp(0.0, x)


def _conditional_entropy_limit(d: FloatArray, pi1: FloatArray) -> FloatArray:
    """``H(Y|G)`` in bits for flat arrays ``d`` (finite, > 0) and ``pi1``.

    The posterior log-odds is ``Λ ~ N(L − 2d², 4d²)`` given ``Y = 0`` and ``N(L + 2d², 4d²)``
    given ``Y = 1``. For ``d < ½`` its spread is below 1 and Gauss–Hermite in the standard normal
    variable is exact to machine precision; for larger ``d`` the Gaussian density is wide but
    h(σ(x)) has features of width ~1, so we integrate over ``x`` on composite Gauss–Legendre
    panels of width ¼ (a Hermite rule would place too few nodes where h(σ(x)) is non-zero).
    """
    pi0 = 1.0 - pi1
    L = np.log(pi1 / pi0)
    out = np.empty_like(d)
    small = d < 0.5
    if small.any():
        z, w = _hermite_rule(80)
        ds, Ls, p0, p1 = d[small, None], L[small, None], pi0[small, None], pi1[small, None]
        h0 = _entropy_of_logit(Ls - 2 * ds**2 + 2 * ds * z) @ w
        h1 = _entropy_of_logit(Ls[:, 0:1] + 2 * ds**2 + 2 * ds * z) @ w
        out[small] = p0[:, 0] * h0 + p1[:, 0] * h1
    big = ~small
    if big.any():
        t, w = _legendre_rule(_GL_NODES)
        edges = np.arange(-_LOGIT_LIMIT, _LOGIT_LIMIT, 0.25)
        x = (edges[:, None] + 0.25 * t[None, :]).ravel()
        wx = np.tile(0.25 * w, edges.size)
        db, Lb, p0, p1 = d[big, None], L[big, None], pi0[big, None], pi1[big, None]
        sd = 2.0 * db
        dens = p0 * stats.norm.pdf(x, Lb - 2 * db**2, sd) + p1 * stats.norm.pdf(
            x, Lb + 2 * db**2, sd
        )
        out[big] = (dens * _entropy_of_logit(x)) @ wx
    return out / np.log(2.0)


def _limit_conditional_entropy(
    p: ArrayLike, rho: ArrayLike, prior: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Broadcast inputs, return ``(H(Y), H(Y|G))`` in bits."""
    p_arr = _check_error_rate(p)
    rho_arr = _check_rho(rho)
    pi1 = _check_prior(prior)
    p_arr, rho_arr, pi1 = (a.astype(np.float64) for a in np.broadcast_arrays(p_arr, rho_arr, pi1))
    h_y = np.asarray(binary_entropy(pi1))
    d = _separation(p_arr, rho_arr)
    h_cond = np.zeros_like(d)
    inner = np.isfinite(d) & (d > 0)
    if inner.any():
        h_cond[inner] = _conditional_entropy_limit(d[inner], pi1[inner])
    h_cond = np.where(d == 0, h_y, h_cond)
    # rho = 1: every model is a copy of one model, whose output is a binary channel.
    one = (rho_arr == 1) & (p_arr > 0)
    if one.any():
        pi0 = 1.0 - pi1
        p_x1 = pi0 * p_arr + pi1 * (1 - p_arr)
        single = h_y + binary_entropy(p_arr) - binary_entropy(p_x1)  # H(Y,X) - H(X) = H(Y|X)
        h_cond = np.where(one, single, h_cond)
    return h_y, np.clip(h_cond, 0.0, h_y)


def information_limit(p: ArrayLike, rho: ArrayLike, prior: ArrayLike = 0.5) -> FloatArray:
    """``I_∞ = lim_n I(Y; X_1..X_n) = H(Y) − H(Y|G)`` in bits, for equicorrelated models.

    ``H(Y|G) = E[h_b(P(Y=1 | G))]`` with the posterior log-odds ``Λ ~ N(L ∓ 2d², 4d²)`` given
    ``Y = 0/1`` (``d = |Φ⁻¹(p)|/√ρ``, ``L = ln(π₁/π₀)``), computed by 1-D quadrature (Gauss–Hermite
    for ``d < ½``, composite Gauss–Legendre over the log-odds otherwise; error below 1e-10).
    ``rho = 0`` gives ``H(Y)``; ``rho = 1`` gives the single-model ``I(Y; X_1)``.

    Parameters
    ----------
    p, rho, prior : array_like
        As in :func:`equicorrelated_error_floor`.

    Returns
    -------
    ndarray
        ``I_∞`` in bits.

    Examples
    --------
    >>> from llmcopula.selection import information_limit
    >>> round(float(information_limit(0.2, 0.3)), 3)
    0.775
    """
    h_y, h_cond = _limit_conditional_entropy(p, rho, prior)
    out = h_y - h_cond
    return out[()] if out.ndim == 0 else out


def fano_lower_bound(p: ArrayLike, rho: ArrayLike, prior: ArrayLike = 0.5) -> FloatArray:
    """Fano's lower bound ``h_b⁻¹(H(Y|G))`` on the error of any aggregator of any number of
    equicorrelated models.

    For binary ``Y`` Fano's inequality reads ``h_b(P_e) ≥ H(Y | X_1..X_n) ≥ H(Y|G)`` (the
    information only grows with ``n``), hence ``P_e ≥ h_b⁻¹(H(Y|G))`` on ``[0, ½]``. It is looser
    than the exact floor :func:`equicorrelated_error_floor`.

    Examples
    --------
    >>> from llmcopula.selection import fano_lower_bound
    >>> round(float(fano_lower_bound(0.2, 0.3)), 4)
    0.0362
    """
    _, h_cond = _limit_conditional_entropy(p, rho, prior)
    return inverse_binary_entropy(np.clip(h_cond, 0.0, 1.0))


# --------------------------------------------------------------------------------------------
# finite n, equicorrelated


def _binomial_mixture_sf(
    t: FloatArray, n: FloatArray, tau: FloatArray, rho: FloatArray
) -> FloatArray:
    """``P(K > t)`` for ``K | W ~ Binomial(n, q(W))``, ``q(w) = Φ((τ − √ρ·w)/√(1−ρ))``.

    Flat arrays of equal length with ``0 < rho < 1``, finite ``tau`` and ``0 <= t < n``. The
    integrand ``φ(w)·P(Bin(n, q(w)) > t)`` is smooth but switches from 1 to 0 within a width
    ``δ`` of the point ``w_t`` where ``q(w_t) = (t + ½)/n``; ``δ`` is the binomial standard
    deviation mapped through ``q`` and shrinks like ``1/√n``. A fixed rule would need
    ``O(1/δ)`` nodes, so the composite Gauss–Legendre panels are uniform (width ½) on
    ``[−9, 9]`` plus a geometric cluster ``w_t ± δ·2^j`` that resolves the switch for any ``n``.
    """
    q_t = (t + 0.5) / n
    z_t = special.ndtri(q_t)
    sr, sc = np.sqrt(rho), np.sqrt(1.0 - rho)
    w_t = (tau - sc * z_t) / sr
    delta = np.sqrt(q_t * (1 - q_t) / n) * sc / (sr * stats.norm.pdf(z_t))
    uniform = np.arange(-_W_LIMIT, _W_LIMIT + 0.25, 0.5)
    steps = 2.0 ** np.arange(-2, 11)
    cluster = np.concatenate([-steps[::-1], [0.0], steps])
    edges = np.concatenate(
        [np.broadcast_to(uniform, (t.size, uniform.size)), w_t[:, None] + delta[:, None] * cluster],
        axis=1,
    )
    edges = np.sort(np.clip(edges, -_W_LIMIT, _W_LIMIT), axis=1)
    x, wt = _legendre_rule(_GL_NODES)
    width = np.diff(edges, axis=1)  # (E, P)
    nodes = edges[:, :-1, None] + width[:, :, None] * x  # (E, P, G)
    weights = width[:, :, None] * wt * stats.norm.pdf(nodes)
    q = special.ndtr((tau[:, None, None] - sr[:, None, None] * nodes) / sc[:, None, None])
    # P(Bin(n, q) > t) = I_q(t + 1, n − t); betainc is ~5x faster than bdtrc.
    tail = special.betainc(t[:, None, None] + 1.0, n[:, None, None] - t[:, None, None], q)
    return np.einsum("epg,epg->e", weights, tail)


def _equicorrelated_sf(t: FloatArray, n: FloatArray, p: FloatArray, rho: FloatArray) -> FloatArray:
    """``P(#errors > t)`` among ``n`` equicorrelated models, any ``t`` (flat arrays)."""
    out = np.empty(t.shape, dtype=np.float64)
    below, above = t < 0, t >= n
    out[below], out[above] = 1.0, 0.0
    mid = ~(below | above)
    indep = mid & ((rho == 0) | (p == 0))
    out[indep] = special.betainc(t[indep] + 1.0, n[indep] - t[indep], p[indep])
    copies = mid & (rho == 1) & (p > 0)
    out[copies] = p[copies]  # all models err together
    rest = mid & ~indep & ~copies
    if rest.any():
        out[rest] = _binomial_mixture_sf(t[rest], n[rest], special.ndtri(p[rest]), rho[rest])
    return out


def _broadcast_equicorrelated(n: ArrayLike, p: ArrayLike, rho: ArrayLike, prior: ArrayLike):
    n_arr = _check_n_models(n)
    p_arr = _check_error_rate(p)
    rho_arr = _check_rho(rho)
    pi1 = _check_prior(prior)
    return np.broadcast_arrays(n_arr.astype(np.float64), p_arr, rho_arr, pi1)


def majority_vote_error(
    n: ArrayLike, p: ArrayLike, rho: ArrayLike, prior: ArrayLike = 0.5
) -> FloatArray:
    """Error of the majority vote of ``n`` equicorrelated models with error rate ``p``.

    ``P_e^MV(n) = ∫ φ(w)·{P[Bin(n, q(w)) > n/2] + c·P[Bin(n, q(w)) = n/2]} dw`` with
    ``q(w) = Φ((Φ⁻¹(p) − √ρ·w)/√(1−ρ))``. Ties (even ``n``) go to the a-priori more likely class,
    so a tie is an error with probability ``c = min(π₀, π₁)`` (a fair coin, ½, for a balanced
    prior). Computed by composite Gauss–Legendre quadrature over ``w`` with panels clustered at
    the point where ``q(w) = ½`` (absolute error below 1e-10 for ``n`` up to 10⁶); ``rho = 0`` is
    the binomial tail and ``rho = 1`` is ``p``. As ``n → ∞`` it tends to
    :func:`equicorrelated_error_floor` (balanced prior). The gap is ``O(1/n)``, not the
    ``O(1/√n)`` of the binomial's spread: for odd ``n`` the smoothed step is antisymmetric about
    ``q = ½``, so its first-order parts on the two sides of the crossing cancel.

    Parameters
    ----------
    n : array_like of int
        Number of models (>= 1); vectorised, e.g. ``np.arange(1, 102)`` for a saturation curve.
    p, rho, prior : array_like
        As in :func:`equicorrelated_error_floor`; everything broadcasts.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.selection import majority_vote_error
    >>> np.round(majority_vote_error([1, 5, 501], 0.2, 0.3), 3)
    array([0.2  , 0.117, 0.063])
    """
    n_f, p_arr, rho_arr, pi1 = _broadcast_equicorrelated(n, p, rho, prior)
    shape = n_f.shape
    n_f, p_arr, rho_arr, pi1 = (a.ravel() for a in (n_f, p_arr, rho_arr, pi1))
    half = np.floor(n_f / 2.0)
    above_half = _equicorrelated_sf(half, n_f, p_arr, rho_arr)
    even = n_f % 2 == 0
    tie = np.zeros_like(n_f)
    if even.any():
        tie[even] = (
            _equicorrelated_sf(half[even] - 1, n_f[even], p_arr[even], rho_arr[even])
            - above_half[even]
        )
    out = (above_half + np.minimum(pi1, 1 - pi1) * tie).reshape(shape)
    return out[()] if out.ndim == 0 else out


def equicorrelated_bayes_error(
    n: ArrayLike, p: ArrayLike, rho: ArrayLike, prior: ArrayLike = 0.5
) -> FloatArray:
    """Bayes (MAP) error of ``n`` equicorrelated models with error rate ``p``: the finite-``n``
    curve that decreases to :func:`equicorrelated_error_floor`.

    The number ``K`` of votes for "1" is sufficient, with ``K | Y=0 ~`` errors and
    ``K | Y=1 ~ n −`` errors, where the error count is the binomial mixture ``∫ φ(w) Bin(n, q(w))``.
    Its likelihood ratio is monotone in ``K`` (the mixing laws of ``Φ⁻¹(q)`` under the two
    classes are Gaussians with equal variance, hence likelihood-ratio ordered, and the binomial
    kernel is totally positive), so the MAP rule is a threshold ``K > t`` and

    ``P_e(n) = min_t [π₀·P(errors > t) + π₁·P(errors >= n − t)]``, ``t = −1..n``.

    For a balanced prior this equals :func:`majority_vote_error`. The optimal threshold is found
    by bisection on the sign of ``e(t + 1) − e(t) = π₁·P(errors = n − t − 1) − π₀·P(errors =
    t + 1)``, which changes sign once because the likelihood ratio is monotone; each point mass
    is one quadrature over ``w`` in log space (:func:`_log_mixture_pmf`). Cost ``O(log n)``
    quadratures and ``O(1)`` memory per element, so ``n = 10⁶`` takes milliseconds.

    Examples
    --------
    >>> from llmcopula.selection import equicorrelated_bayes_error
    >>> round(float(equicorrelated_bayes_error(5, 0.3, 0.5, prior=0.3)), 4)
    0.2222
    """
    n_f, p_arr, rho_arr, pi1 = _broadcast_equicorrelated(n, p, rho, prior)
    shape = n_f.shape
    out = np.empty(n_f.size)
    for i, (ni, pi, ri, wi) in enumerate(
        zip(n_f.ravel(), p_arr.ravel(), rho_arr.ravel(), pi1.ravel())
    ):
        out[i] = _bayes_error_one(ni, pi, ri, wi)
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def _bayes_error_one(n: float, p: float, rho: float, pi1: float) -> float:
    """``min_t e(t)``, ``e(t) = π₀·P(errors > t) + π₁·P(errors >= n − t)``, for one element."""
    if p == 0.0:
        return 0.0  # no model ever errs: t in [0, n - 1] separates the classes exactly
    if rho == 1.0:
        return float(min(1.0 - pi1, p, pi1))  # e(-1) = π₀, e(0..n-1) = p, e(n) = π₁
    log_w0, log_w1 = np.log1p(-pi1), np.log(pi1)

    def rises(t: int) -> bool:  # e(t + 1) >= e(t)
        return bool(log_w1 + _log_mixture_pmf(n - t - 1, n, p, rho)
                    >= log_w0 + _log_mixture_pmf(t + 1, n, p, rho))

    lo, hi = -1, int(n)  # the answer: the smallest t in [-1, n - 1] where e rises, else n
    while lo < hi:
        mid = (lo + hi) // 2
        if rises(mid):
            hi = mid
        else:
            lo = mid + 1
    t = np.array([lo, n - lo - 1], dtype=np.float64)
    ones = np.ones(2)
    sf = _equicorrelated_sf(t, n * ones, p * ones, rho * ones)
    return float((1.0 - pi1) * sf[0] + pi1 * sf[1])


_LOG_DROP = 40.0  # the integrand is integrated where it is within e^-40 of its peak


def _log_mixture_pmf(k: float, n: float, p: float, rho: float) -> float:
    """``log P(K = k)`` for ``K | W ~ Binomial(n, q(W))``, ``q(w) = Φ((τ − √ρ·w)/√(1−ρ))``,
    ``W ~ N(0, 1)``, ``τ = Φ⁻¹(p)``; ``0 < p``, ``0 <= rho < 1``, integer ``0 <= k <= n``.

    The log-integrand ``g(w) = log φ(w) + log C(n, k) + k·log q(w) + (n − k)·log(1 − q(w))`` is
    concave (``log Φ`` of an affine function is concave), so it has one peak: found as the root
    of ``g'``, then bracketed by the two points where ``g`` is ``_LOG_DROP`` below it, and
    integrated there by composite Gauss–Legendre relative to the peak (log-sum-exp). Nothing
    underflows, however far in the tail ``k`` is.
    """
    if rho == 0.0:
        return float(stats.binom.logpmf(k, n, p))
    tau = float(special.ndtri(p))
    sr, sc = np.sqrt(rho), np.sqrt(1.0 - rho)
    slope = sr / sc
    log_choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)

    def g(w: FloatArray) -> FloatArray:
        z = (tau - sr * w) / sc
        return (-0.5 * w * w - 0.5 * np.log(2 * np.pi) + log_choose
                + k * special.log_ndtr(z) + (n - k) * special.log_ndtr(-z))

    def dg(w: float) -> float:
        z = (tau - sr * w) / sc
        log_pdf = -0.5 * z * z - 0.5 * np.log(2 * np.pi)
        # d/dw log Φ(z) = −slope·φ(z)/Φ(z); d/dw log Φ(−z) = slope·φ(z)/Φ(−z)
        return float(-w - k * slope * np.exp(log_pdf - special.log_ndtr(z))
                     + (n - k) * slope * np.exp(log_pdf - special.log_ndtr(-z)))

    # g' decreases from +inf to -inf: bracket its root by doubling steps.
    a, b = -1.0, 1.0
    while dg(a) < 0:
        a *= 2.0
    while dg(b) > 0:
        b *= 2.0
    mode = optimize.brentq(dg, a, b, xtol=1e-12, rtol=1e-12)
    peak = float(g(np.array(mode)))

    def edge(direction: float) -> float:
        step = 1e-3
        while g(np.array(mode + direction * step)) > peak - _LOG_DROP:
            step *= 2.0
        inner = mode + direction * step / 2.0 if step > 1e-3 else mode
        outer = mode + direction * step
        return optimize.brentq(lambda w: float(g(np.array(w))) - peak + _LOG_DROP,
                               min(inner, outer), max(inner, outer), xtol=1e-10)

    left, right = edge(-1.0), edge(1.0)
    x, wt = _legendre_rule(_GL_NODES)
    edges = np.linspace(left, right, 9)
    width = np.diff(edges)
    nodes = (edges[:-1, None] + width[:, None] * x).ravel()
    weights = (width[:, None] * wt).ravel()
    return peak + float(np.log(np.sum(weights * np.exp(g(nodes) - peak))))


# --------------------------------------------------------------------------------------------
# a given set of heterogeneous models


def _all_patterns(m: int) -> NDArray[np.int8]:
    """The ``2^m`` binary patterns; row ``k`` has bit ``i`` of ``k`` in column ``i``."""
    codes = np.arange(2**m)
    return ((codes[:, None] >> np.arange(m)) & 1).astype(np.int8)


def _check_rates(error_rates: ArrayLike) -> FloatArray:
    p = check_finite_array(error_rates, "error_rates", ndim=1)
    if p.size < 1:
        raise ValueError("error_rates: need at least one model")
    if (p <= 0).any() or (p >= 1).any():
        raise ValueError("error_rates: every error rate must lie in the open interval (0, 1)")
    return p


def _check_corr(corr: ArrayLike, m: int) -> FloatArray:
    r = check_finite_array(corr, "corr", ndim=2)
    if r.shape != (m, m):
        raise ValueError(f"corr: expected shape ({m}, {m}) to match error_rates, got {r.shape}")
    if not np.allclose(r, r.T, atol=1e-10) or not np.allclose(np.diag(r), 1.0, atol=1e-10):
        raise ValueError("corr: must be a symmetric matrix with a unit diagonal")
    if np.linalg.eigvalsh(r).min() < -1e-10:
        raise ValueError(
            "corr: must be positive semi-definite (repair it with nearest_correlation)"
        )
    return r


def _one_factor_pattern_probabilities(
    p: FloatArray, loadings: FloatArray, patterns: NDArray[np.int8]
) -> FloatArray:
    """``P(E = e) = ∫ φ(w) Π_i q_i(w)^{e_i} (1 − q_i(w))^{1−e_i} dw`` with
    ``q_i = Φ((τ_i − λ_i w)/√(1−λ_i²))``."""
    lam = loadings
    tau = special.ndtri(p)
    resid = np.sqrt(np.clip(1.0 - lam**2, 0.0, None))
    # q_i(w) switches over a width resid_i/|λ_i| in w; panels resolve the sharpest switch.
    with np.errstate(divide="ignore"):
        scale = np.where(lam == 0, np.inf, resid / np.abs(lam))
    width = float(np.clip(scale.min() / 4.0, 0.005, 0.25))
    edges = np.arange(-_W_LIMIT, _W_LIMIT + width / 2, width)
    x, wt = _legendre_rule(_GL_NODES)
    w = (edges[:-1, None] + np.diff(edges)[:, None] * x).ravel()
    weights = (np.diff(edges)[:, None] * wt).ravel() * stats.norm.pdf(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = (tau[:, None] - lam[:, None] * w[None, :]) / resid[:, None]
    # lambda = ±1: the model errs exactly when ±w < τ.
    step = np.where(lam[:, None] * w[None, :] < tau[:, None], np.inf, -np.inf)
    arg = np.where(resid[:, None] == 0, step, arg)
    # A finite stand-in for log 0 keeps 0·log 0 = 0 in the matrix products below.
    log_q = np.maximum(special.log_ndtr(arg), -1e300)  # (M, nodes)
    log_1mq = np.maximum(special.log_ndtr(-arg), -1e300)
    pat = patterns.astype(np.float64)
    log_lik = pat @ log_q + (1.0 - pat) @ log_1mq
    return np.exp(log_lik) @ weights


def error_pattern_probabilities(
    error_rates: ArrayLike,
    corr: ArrayLike | None = None,
    *,
    loadings: ArrayLike | None = None,
    rng: RNGLike = None,
) -> FloatArray:
    """Probabilities of the ``2^M`` joint error patterns under the Gaussian-copula model.

    Pattern ``k`` has model ``i`` wrong iff bit ``i`` of ``k`` is set. With ``loadings`` (the
    one-factor model ``Z_i = λ_i·W + √(1−λ_i²)·ε_i``, i.e. ``R_ij = λ_iλ_j``) each probability is
    a deterministic 1-D integral over ``W`` (composite Gauss–Legendre; error ~1e-12). With a
    general ``corr`` each pattern is a multivariate normal orthant probability
    ``P(s_i·Z_i <= s_i·τ_i)``, ``s_i = ±1``, computed by Genz's quasi-Monte-Carlo algorithm in
    :func:`scipy.stats.multivariate_normal.cdf` (absolute error about 1e-5 per pattern, seeded
    by ``rng``; about 0.05 s per pattern, so half a minute for 9 models: prefer ``loadings``
    or Monte Carlo from :meth:`CorrelatedErrorModel.simulate` for larger pools).

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.selection import error_pattern_probabilities
    >>> probs = error_pattern_probabilities([0.2, 0.3], loadings=[0.0, 0.0])
    >>> np.round(probs, 3)  # (right, right), (0 wrong), (1 wrong), (both wrong)
    array([0.56, 0.14, 0.24, 0.06])
    """
    p = _check_rates(error_rates)
    m = p.size
    if m > 20:
        raise ValueError(f"error_rates: enumerating 2^M patterns needs M <= 20, got M = {m}")
    patterns = _all_patterns(m)
    if (corr is None) == (loadings is None):
        raise ValueError("corr: give exactly one of corr or loadings")
    if loadings is not None:
        lam = check_finite_array(loadings, "loadings", ndim=1)
        if lam.shape != p.shape or (np.abs(lam) > 1).any():
            raise ValueError(f"loadings: expected {m} values in [-1, 1], got {lam}")
        probs = _one_factor_pattern_probabilities(p, lam, patterns)
    else:
        r = _check_corr(corr, m)
        gen = check_rng(rng)
        tau = special.ndtri(p)
        signs = 2.0 * patterns - 1.0  # +1: wrong (Z_i < τ_i); -1: right (-Z_i <= -τ_i)
        probs = np.empty(patterns.shape[0])
        for k, s in enumerate(signs):
            cov = r * np.outer(s, s)
            probs[k] = stats.multivariate_normal.cdf(
                s * tau, cov=cov, allow_singular=True, abseps=1e-5, releps=0, rng=gen
            )
    probs = np.clip(probs, 0.0, None)
    return probs / probs.sum()


def bayes_error(
    error_rates: ArrayLike,
    corr: ArrayLike | None = None,
    *,
    loadings: ArrayLike | None = None,
    prior: float = 0.5,
    rng: RNGLike = None,
) -> float:
    """Exact Bayes (MAP) error of a given set of models with binary predictions ``X_i = Y ⊕ E_i``.

    ``P_e = Σ_x min(π₀·P(E = x), π₁·P(E = 1 − x))`` over the ``2^M`` prediction patterns ``x``,
    with the pattern probabilities of :func:`error_pattern_probabilities` (exact 1-D quadrature
    for a one-factor ``loadings`` structure, Genz's algorithm for a general ``corr``). This is
    the error of the best possible aggregator of exactly these models, i.e. the target of the
    MAP decoder of arXiv:2602.08003 with infinite training data.

    Note that the ``n → ∞`` floor of :func:`equicorrelated_error_floor` is a property of
    *exchangeable* pools: with two or more distinct kinds of models, the class-wise fractions of
    wrong votes of an infinite pool identify ``Y`` almost surely, so heterogeneous pools have no
    positive asymptotic floor and the given-set error computed here is the meaningful quantity.

    Parameters
    ----------
    error_rates : array_like, shape (M,)
        Error rate of each model, in (0, 1).
    corr : array_like, shape (M, M), optional
        Correlation matrix of the latent scores (PSD, unit diagonal).
    loadings : array_like, shape (M,), optional
        One-factor loadings ``λ_i`` in ``[-1, 1]`` (``R_ij = λ_iλ_j``); give this or ``corr``.
    prior : float, default 0.5
        ``P(Y = 1)``.
    rng : None, int or Generator
        Seeds the quasi-Monte-Carlo of the ``corr`` path.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.selection import bayes_error, majority_vote_error
    >>> e = bayes_error(np.full(5, 0.2), loadings=np.full(5, np.sqrt(0.3)))
    >>> bool(abs(e - majority_vote_error(5, 0.2, 0.3)) < 1e-9)
    True
    """
    pi1 = float(_check_prior(prior))
    probs = error_pattern_probabilities(error_rates, corr, loadings=loadings, rng=rng)
    return float(np.minimum((1 - pi1) * probs, pi1 * probs[::-1]).sum())


# --------------------------------------------------------------------------------------------


def effective_number_of_models(
    corr: ArrayLike, method: Literal["participation", "kish"] = "participation"
) -> float:
    """Effective number of independent models in a pool with latent correlation matrix ``corr``.

    * ``"participation"``: the participation ratio of the eigenvalues ``λ_k`` of ``R``,
      ``(Σλ_k)²/Σλ_k² = M²/‖R‖_F²``. It is ``M`` for ``R = I`` and 1 for ``R = 11ᵀ``.
    * ``"kish"``: the design-effect form ``M/(1 + (M − 1)·ρ̄)`` with ``ρ̄`` the mean off-diagonal
      correlation (Kish 1965); it equals ``"participation"`` only when ``ρ̄ = 0`` or ``1``.
      Negative ``ρ̄`` can make it exceed ``M``.

    Both describe the latent scores; the error indicators are less correlated than the
    scores (the tetrachoric ``ρ`` exceeds the phi coefficient), so this is a statement about
    the model, not a count of votes.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.selection import effective_number_of_models
    >>> R = np.full((4, 4), 0.5) + 0.5 * np.eye(4)
    >>> round(effective_number_of_models(R, "kish"), 4)
    1.6
    >>> round(effective_number_of_models(R), 4)
    2.2857
    """
    r = check_finite_array(corr, "corr", ndim=2)
    m = r.shape[0]
    if r.shape != (m, m) or m < 1:
        raise ValueError(f"corr: expected a square matrix, got shape {r.shape}")
    if not np.allclose(r, r.T, atol=1e-10) or not np.allclose(np.diag(r), 1.0, atol=1e-10):
        raise ValueError("corr: must be a symmetric matrix with a unit diagonal")
    if method == "participation":
        return float(m**2 / np.sum(r**2))
    if method == "kish":
        if m == 1:
            return 1.0
        mean_off = (r.sum() - m) / (m * (m - 1))
        return float(m / (1.0 + (m - 1) * mean_off))
    raise ValueError(f"method: expected 'participation' or 'kish', got {method!r}")
