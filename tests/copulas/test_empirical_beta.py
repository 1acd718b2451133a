"""The empirical beta copula against slow, independent implementations.

The references below recompute everything from the definition (Segers, Sibuya & Tsukahara
2017): ranks by counting (a tie block of value x spans ranks 1 + #{x_k < x} .. #{x_k <= x}),
kernels with ``scipy.special.betainc`` / ``scipy.stats.beta`` rank by rank in Python loops,
averaged over the tie block. Nothing in them uses the module's binomial-vector trick.

Tolerances:

* ``KERNEL_ATOL``/``KERNEL_RTOL``: the module builds each kernel from ``exp`` of log binomial
  probabilities whose logs reach a few hundred for the n used here, so each term carries a
  relative error of about ``n · eps`` (~1e-13); sums of up to n such terms stay within 1e-12.
* Monte Carlo checks use fixed seeds and 4 standard errors of a binomial proportion.
* Quadrature checks use Gauss–Legendre rules that are *exact* for the density (a mixture of
  products of polynomials of degree n − 1), so they are held to rounding error.
"""

from __future__ import annotations


import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import special, stats

from llmcopula.copulas import EmpiricalBetaCopula
from llmcopula.copulas.empirical_beta import tie_blocks

KERNEL_ATOL = 1e-12
KERNEL_RTOL = 1e-10


# ------------------------------------------------------------------ slow references
def ref_blocks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tie blocks by counting, O(n^2) per column."""
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    lo = np.empty((n, d), dtype=np.int64)
    hi = np.empty((n, d), dtype=np.int64)
    for j in range(d):
        for i in range(n):
            lo[i, j] = 1 + int(np.sum(x[:, j] < x[i, j]))
            hi[i, j] = int(np.sum(x[:, j] <= x[i, j]))
    return lo, hi


def ref_kernel_cdf(s: float, lo: int, hi: int, n: int) -> float:
    """Block average of the Beta(r, n + 1 − r) distribution functions at s."""
    return float(np.mean([special.betainc(r, n + 1 - r, s) for r in range(lo, hi + 1)]))


def ref_kernel_pdf(s: float, lo: int, hi: int, n: int) -> float:
    return float(np.mean([stats.beta.pdf(s, r, n + 1 - r) for r in range(lo, hi + 1)]))


def ref_cdf(u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    n, d = lo.shape
    total = 0.0
    for i in range(n):
        prod = 1.0
        for j in range(d):
            prod *= ref_kernel_cdf(u[j], lo[i, j], hi[i, j], n)
        total += prod
    return total / n


def ref_pdf(u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    n, d = lo.shape
    total = 0.0
    for i in range(n):
        prod = 1.0
        for j in range(d):
            prod *= ref_kernel_pdf(u[j], lo[i, j], hi[i, j], n)
        total += prod
    return total / n


def tied_data(rng: np.random.Generator, n: int, d: int, levels: int = 6) -> np.ndarray:
    """Correlated data, rounded so that every column has ties."""
    z = rng.normal(size=(n, 1)) + 0.7 * rng.normal(size=(n, d))
    return np.round(z * levels / 3) / levels


@pytest.fixture(scope="module")
def tied_copula():
    x = tied_data(np.random.default_rng(11), 30, 3)
    lo, hi = ref_blocks(x)
    assert (hi > lo).any(axis=0).all()  # every column really has ties
    return EmpiricalBetaCopula.from_data(x), lo, hi


# ------------------------------------------------------------------------ tie_blocks
def test_tie_blocks_on_hand_made_examples():
    x = np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 1.0], [1.0, 0.0], [5.0, 2.0]])
    lo, hi = tie_blocks(x)
    assert lo[:, 0].tolist() == [4, 1, 3, 1, 5]
    assert hi[:, 0].tolist() == [4, 2, 3, 2, 5]
    assert lo[:, 1].tolist() == [2, 2, 2, 1, 5]
    assert hi[:, 1].tolist() == [4, 4, 4, 1, 5]
    assert lo.dtype == np.int64 and hi.dtype == np.int64
    # all equal: one block spanning every rank; a single row: rank 1.
    lo, hi = tie_blocks(np.full((4, 1), 7.0))
    assert lo.ravel().tolist() == [1] * 4 and hi.ravel().tolist() == [4] * 4
    lo, hi = tie_blocks([[0.3, -2.0]])
    assert lo.tolist() == [[1, 1]] and hi.tolist() == [[1, 1]]
    # infinities are ordinary extreme values
    lo, hi = tie_blocks([[np.inf], [-np.inf], [0.0], [np.inf]])
    assert lo.ravel().tolist() == [3, 1, 2, 3] and hi.ravel().tolist() == [4, 1, 2, 4]


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=12),
                  elements=st.integers(-3, 3).map(float)))
def test_tie_blocks_match_counting(x):
    lo, hi = tie_blocks(x)
    rlo, rhi = ref_blocks(x)
    np.testing.assert_array_equal(lo, rlo)
    np.testing.assert_array_equal(hi, rhi)


@pytest.mark.parametrize("bad, match", [
    (np.zeros(3), "x: expected a 2-d array"),
    (np.zeros((0, 2)), "x: expected a 2-d array"),
    (np.array([[0.1, np.nan], [0.2, 0.3]]), "x: contains 1 NaN"),
])
def test_tie_blocks_rejects_bad_data(bad, match):
    with pytest.raises(ValueError, match=match):
        tie_blocks(bad)


# ------------------------------------------------------------ kernels vs brute force
@pytest.mark.parametrize("ties", [False, True])
def test_component_kernels_match_betainc_and_beta_pdf(ties):
    rng = np.random.default_rng(3 + ties)
    n = 25
    x = tied_data(rng, n, 2) if ties else rng.normal(size=(n, 2))
    cop = EmpiricalBetaCopula.from_data(x)
    lo, hi = ref_blocks(x)
    np.testing.assert_array_equal(cop.lo, lo)
    np.testing.assert_array_equal(cop.hi, hi)
    s = np.concatenate([[0.0, 1e-300, 1e-9, 1.0 - 1e-12, 1.0], rng.random(12)])
    for j in range(2):
        got_cdf = cop.component_cdf(s, j)
        got_pdf = cop.component_pdf(s, j)
        assert got_cdf.shape == got_pdf.shape == (s.size, n)
        want_cdf = np.array([[ref_kernel_cdf(v, lo[i, j], hi[i, j], n) for i in range(n)]
                             for v in s])
        want_pdf = np.array([[ref_kernel_pdf(v, lo[i, j], hi[i, j], n) for i in range(n)]
                             for v in s])
        assert_allclose(got_cdf, want_cdf, rtol=KERNEL_RTOL, atol=KERNEL_ATOL)
        # densities reach n; hold them to the same relative accuracy
        assert_allclose(got_pdf, want_pdf, rtol=KERNEL_RTOL, atol=n * KERNEL_ATOL)


def test_component_kernels_accept_scalars_and_n_equal_one():
    cop = EmpiricalBetaCopula([[1, 1]], [[1, 1]])  # one observation: Beta(1, 1) = uniform
    assert_allclose(cop.component_cdf(0.3, 1), [[0.3]])
    assert_allclose(cop.component_pdf(0.3, 0), [[1.0]])
    assert_allclose(cop.cdf([0.3, 0.6]), 0.18)


def test_tied_block_kernel_has_the_mean_of_its_ranks_kernels():
    """Beta(r, n + 1 − r) has mean r / (n + 1), so a block's averaged kernel has the mean of
    r / (n + 1) over the block: ranks 2..4 of 6 give 3/7."""
    x = np.array([[0.0], [1.0], [1.0], [1.0], [2.0], [3.0]])
    cop = EmpiricalBetaCopula.from_data(x)
    nodes, weights = np.polynomial.legendre.leggauss(10)
    s = (nodes + 1) / 2
    mean = (weights / 2) @ (s[:, None] * cop.component_pdf(s, 0))
    assert_allclose(mean, [1 / 7, 3 / 7, 3 / 7, 3 / 7, 5 / 7, 6 / 7], rtol=1e-12)


# -------------------------------------------------------------------- distribution
def test_margins_are_exactly_uniform_with_and_without_ties(tied_copula):
    cop, _, _ = tied_copula
    untied = EmpiricalBetaCopula.from_data(np.random.default_rng(5).normal(size=(200, 3)))
    u = np.concatenate([[0.0, 1e-12, 0.5, 1.0], np.random.default_rng(6).random(30)])
    for c in (cop, untied):
        for j in range(3):
            pts = np.ones((u.size, 3))
            pts[:, j] = u
            assert_allclose(c.cdf(pts), u, rtol=0, atol=1e-12)


def test_cdf_is_the_mean_of_independently_computed_kernel_products(tied_copula):
    cop, lo, hi = tied_copula
    u = np.vstack([np.random.default_rng(7).random((8, 3)), [[0.2, 1.0, 0.9], [1, 1, 1]]])
    want = np.array([ref_cdf(p, lo, hi) for p in u])
    assert_allclose(cop.cdf(u), want, rtol=KERNEL_RTOL, atol=KERNEL_ATOL)
    assert cop.cdf(u).shape == (u.shape[0],)
    assert cop.cdf(u.reshape(2, 5, 3)).shape == (2, 5)
    assert cop.cdf(u[0]).shape == ()


def test_cdf_agrees_with_monte_carlo_from_sample(tied_copula):
    """Each point's fraction of samples below it is within 4 binomial standard errors."""
    cop, _, _ = tied_copula
    n_mc = 40_000
    draws = cop.sample(n_mc, rng=np.random.default_rng(8))
    assert draws.shape == (n_mc, 3)
    assert np.all((draws >= 0) & (draws <= 1))
    pts = np.array([[0.5, 0.5, 0.5], [0.2, 0.7, 0.9], [0.9, 0.1, 0.6], [0.3, 0.3, 1.0],
                    [0.05, 1.0, 1.0], [0.8, 0.8, 0.8]])
    p = cop.cdf(pts)
    frac = (draws[None, :, :] <= pts[:, None, :]).all(axis=2).mean(axis=1)
    se = np.sqrt(p * (1 - p) / n_mc)
    assert np.all(np.abs(frac - p) <= 4 * se), (frac, p, se)


def test_sample_margins_are_uniform():
    cop = EmpiricalBetaCopula.from_data(tied_data(np.random.default_rng(9), 15, 2, levels=2))
    draws = cop.sample(20_000, rng=3)
    for j in range(2):
        assert stats.kstest(draws[:, j], "uniform").pvalue > 1e-4


def test_sample_is_reproducible_and_validates_arguments(tied_copula):
    cop, _, _ = tied_copula
    np.testing.assert_array_equal(cop.sample(5, rng=1), cop.sample(5, rng=1))
    with pytest.raises(ValueError, match="^n:"):
        cop.sample(0)
    with pytest.raises(ValueError, match="^n:"):
        cop.sample(2.5)
    with pytest.raises(ValueError, match="^rng:"):
        cop.sample(3, rng="seed")


@pytest.mark.parametrize("ties", [False, True])
def test_density_integrates_to_one_and_to_the_cdf(ties):
    """In 2-d the density is a mixture of products of polynomials of degree n − 1, which a
    20-point Gauss–Legendre rule per axis integrates exactly for n <= 20: over the square it
    gives 1, over [0, a] x [0, b] it gives C(a, b)."""
    rng = np.random.default_rng(10)
    x = tied_data(rng, 18, 2, levels=3) if ties else rng.normal(size=(18, 2))
    cop = EmpiricalBetaCopula.from_data(x)
    nodes, weights = np.polynomial.legendre.leggauss(20)
    for a, b in [(1.0, 1.0), (0.3, 0.8), (0.65, 0.2)]:
        s1, w1 = a * (nodes + 1) / 2, a * weights / 2
        s2, w2 = b * (nodes + 1) / 2, b * weights / 2
        grid = np.stack(np.meshgrid(s1, s2, indexing="ij"), -1)
        integral = float(np.einsum("i,j,ij->", w1, w2, cop.pdf(grid)))
        assert integral == pytest.approx(float(cop.cdf([a, b])), abs=1e-12)
    assert float(cop.cdf([1.0, 1.0])) == pytest.approx(1.0, abs=1e-13)


def test_logpdf_is_the_log_of_the_brute_force_mixture(tied_copula):
    cop, lo, hi = tied_copula
    u = np.vstack([np.random.default_rng(12).random((10, 3)),
                   [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.5, 1.0]]])
    want = np.array([ref_pdf(p, lo, hi) for p in u])
    # At a corner only kernels of rank 1 (or n) in every coordinate are positive; with none
    # there the density is exactly 0 and logpdf is -inf.
    assert np.sum(want > 0) >= 10
    with np.errstate(divide="ignore"):
        assert_allclose(cop.logpdf(u), np.log(want), rtol=1e-10, atol=1e-12)
    assert_allclose(cop.pdf(u), want, rtol=1e-10, atol=0)
    corner = EmpiricalBetaCopula.from_data([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]])
    assert float(corner.pdf([0.0, 0.0])) == pytest.approx(9.0 / 3)  # rank 1 twice: n·n / n
    assert float(corner.logpdf([0.0, 1.0])) == -np.inf  # no observation of ranks (1, n)


def test_logpdf_stays_finite_where_the_density_underflows():
    """logpdf is a log-mean-exp over the n product kernels: when the product of d kernel
    densities is below the double range but each factor is not, pdf underflows to 0 and logpdf
    still equals the log-space reference (scipy's beta.logpdf, summed, logsumexp'd)."""
    n, d = 200, 4
    x = np.repeat(np.arange(n, dtype=float)[:, None], d, axis=1)  # comonotone
    cop = EmpiricalBetaCopula.from_data(x)
    u = np.array([0.02, 0.98, 0.02, 0.98])
    r = np.arange(1, n + 1)
    logk = sum(stats.beta.logpdf(u[j], r, n + 1 - r) for j in range(d))
    want = special.logsumexp(logk) - np.log(n)
    assert want < -800  # far below log(smallest double): the density itself underflows
    got = float(cop.logpdf(u))
    assert np.isfinite(got)
    assert got == pytest.approx(want, rel=1e-10)
    assert float(cop.pdf(u)) == 0.0


# ------------------------------------------------------------- copula properties
@st.composite
def copula_and_points(draw, n_points=1):
    d = draw(st.integers(2, 3))
    n = draw(st.integers(1, 12))
    ties = draw(st.booleans())
    elements = st.integers(0, 3).map(float) if ties else st.floats(-5, 5)
    x = draw(hnp.arrays(np.float64, (n, d), elements=elements))
    pts = [np.array(draw(st.lists(st.floats(0, 1), min_size=d, max_size=d)))
           for _ in range(n_points)]
    return EmpiricalBetaCopula.from_data(x), pts


@settings(max_examples=60)
@given(copula_and_points(), st.data())
def test_grounded_normalised_and_within_frechet_bounds(case, data):
    cop, (u,) = case
    d = cop.dim
    c = float(cop.cdf(u))
    assert max(u.sum() - d + 1, 0.0) - 1e-12 <= c <= u.min() + 1e-12
    j = data.draw(st.integers(0, d - 1))
    zero = u.copy()
    zero[j] = 0.0
    assert float(cop.cdf(zero)) == 0.0
    assert float(cop.cdf(np.ones(d))) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=60)
@given(copula_and_points(), st.data())
def test_cdf_is_monotone_in_each_coordinate(case, data):
    cop, (u,) = case
    j = data.draw(st.integers(0, cop.dim - 1))
    v = u.copy()
    v[j] = data.draw(st.floats(u[j], 1.0))
    assert float(cop.cdf(v)) >= float(cop.cdf(u)) - 1e-12


@settings(max_examples=60)
@given(st.integers(1, 12), st.booleans(), st.data())
def test_rectangle_volumes_are_non_negative_in_2d(n, ties, data):
    elements = st.integers(0, 3).map(float) if ties else st.floats(-5, 5)
    x = data.draw(hnp.arrays(np.float64, (n, 2), elements=elements))
    cop = EmpiricalBetaCopula.from_data(x)
    a = sorted(data.draw(st.lists(st.floats(0, 1), min_size=2, max_size=2)))
    b = sorted(data.draw(st.lists(st.floats(0, 1), min_size=2, max_size=2)))
    c = cop.cdf([[a[1], b[1]], [a[0], b[1]], [a[1], b[0]], [a[0], b[0]]])
    assert c[0] - c[1] - c[2] + c[3] >= -1e-12


def test_approaches_the_product_copula_at_rate_one_over_root_n():
    """Under independence sqrt(n)(C_n(u, v) − uv) is asymptotically normal with mean 0 and
    variance u(1−u)v(1−v) (the empirical copula process; the beta copula has the same limit
    and a smaller finite-n variance, Segers et al. 2017). Over R replications n · MSE must not
    exceed that variance by more than 4 standard errors of a variance estimate
    (sqrt(2 / R) relative), and the mean error must be within 4 standard errors of 0."""
    rng = np.random.default_rng(13)
    pts = np.array([[0.5, 0.5], [0.25, 0.75], [0.1, 0.3]])
    sigma2 = np.prod(pts * (1 - pts), axis=1)
    reps = 300
    for n in (100, 800):
        err = np.array([EmpiricalBetaCopula.from_data(rng.random((n, 2))).cdf(pts)
                        - pts.prod(axis=1) for _ in range(reps)])
        ratio = n * (err ** 2).mean(axis=0) / sigma2
        assert np.all(ratio <= 1 + 4 * np.sqrt(2 / reps)), (n, ratio)
        assert np.all(ratio >= 0.5), (n, ratio)  # not degenerate: the error is really O(n^-1/2)
        assert np.all(np.abs(err.mean(axis=0)) <= 4 * np.sqrt(sigma2 / n / reps)), n


# ----------------------------------------------------------------- object contract
def test_is_immutable(tied_copula):
    cop, _, _ = tied_copula
    with pytest.raises(AttributeError):
        cop.foo = 1
    with pytest.raises(AttributeError):
        cop._lo = np.ones((2, 2), dtype=np.int64)
    with pytest.raises(AttributeError):
        cop.n = 3
    with pytest.raises(ValueError):
        cop.lo[0, 0] = 5  # read-only view
    with pytest.raises(ValueError):
        cop.hi[0, 0] = 5
    assert repr(cop) == "EmpiricalBetaCopula(n=30, dim=3)"
    assert cop.n == 30 and cop.dim == 3


def test_constructor_copies_its_inputs():
    lo = np.array([[1], [2]])
    hi = lo.copy()
    cop = EmpiricalBetaCopula(lo, hi)
    lo[0, 0] = 2
    assert cop.lo[0, 0] == 1


@pytest.mark.parametrize("lo, hi, match", [
    ([1, 2], [1, 2], "^lo: expected an \\(n, d\\) array"),
    (np.zeros((0, 2), int), np.zeros((0, 2), int), "^lo: expected an \\(n, d\\) array"),
    ([[1], [2]], [1, 2], "^hi: expected an \\(n, d\\) array"),
    ([[1.0], [2.0]], [[1], [2]], "^lo: expected integer ranks"),
    ([[1], [2]], [[1.5], [2.0]], "^hi: expected integer ranks"),
    ([[1], [2]], [[1, 1], [2, 2]], "^hi: shape"),
    ([[2], [1]], [[1], [2]], "^lo, hi: need 1 <= lo <= hi <= n"),
    ([[0], [1]], [[1], [2]], "^lo, hi: need 1 <= lo <= hi <= n"),
    ([[1], [2]], [[1], [3]], "^lo, hi: need 1 <= lo <= hi <= n"),
])
def test_constructor_rejects_bad_ranks(lo, hi, match):
    with pytest.raises(ValueError, match=match):
        EmpiricalBetaCopula(lo, hi)


@pytest.mark.parametrize("u, match", [
    ([0.5, np.nan, 0.5], "^u: contains 1 NaN"),
    ([0.5, 1.2, 0.5], "^u: values must lie in \\[0, 1\\]"),
    ([-0.1, 0.2, 0.5], "^u: values must lie in \\[0, 1\\]"),
    ([0.5, 0.5], "^u: expected an array of shape \\(\\.\\.\\., 3\\)"),
    (0.5, "^u: expected an array of shape"),
    (np.full((4, 2), 0.5), "^u: expected an array of shape"),
])
def test_distribution_methods_reject_bad_points(tied_copula, u, match):
    cop, _, _ = tied_copula
    for method in (cop.cdf, cop.logpdf, cop.pdf):
        with pytest.raises(ValueError, match=match):
            method(u)


@pytest.mark.parametrize("j", [-1, 3, 1.0, "0", None])
def test_kernels_reject_bad_dimension_index(tied_copula, j):
    cop, _, _ = tied_copula
    for method in (cop.component_cdf, cop.component_pdf):
        with pytest.raises(ValueError, match="^j: expected an integer index in \\[0, 3\\)"):
            method([0.5], j)


@pytest.mark.parametrize("s, match", [([0.2, np.nan], "^s: contains 1 NaN"),
                                      ([1.5], "^s: values must lie in")])
def test_kernels_reject_bad_points(tied_copula, s, match):
    cop, _, _ = tied_copula
    for method in (cop.component_cdf, cop.component_pdf):
        with pytest.raises(ValueError, match=match):
            method(s, 0)


def test_from_data_rejects_nan():
    with pytest.raises(ValueError, match="^x: contains 1 NaN"):
        EmpiricalBetaCopula.from_data([[0.1, 0.2], [np.nan, 0.3]])



def test_logpdf_is_finite_where_every_kernel_density_underflows():
    """Far in the corner every observation's density underflows in some coordinate; the
    log-space computation still returns the log of the (tiny, positive) mixture density,
    equal to a high-precision reference."""
    import mpmath

    x = np.random.default_rng(5).normal(size=(40, 2))
    x[:4, 1] = 0.0  # a tie block as well
    cop = EmpiricalBetaCopula.from_data(x)
    u = np.array([1e-300, 1e-300])
    naive = np.mean(cop.component_pdf(u[:1], 0) * cop.component_pdf(u[1:], 1))
    assert naive == 0.0  # the corner is beyond double precision for the densities themselves
    n = cop.n
    mpmath.mp.dps = 50

    def kernel(s, lo, hi):
        return sum(mpmath.mpf(n) * mpmath.binomial(n - 1, r - 1) * mpmath.mpf(s) ** (r - 1)
                   * (1 - mpmath.mpf(s)) ** (n - r) for r in range(lo, hi + 1)) / (hi - lo + 1)

    ref = mpmath.log(sum(kernel(u[0], cop.lo[i, 0], cop.hi[i, 0])
                         * kernel(u[1], cop.lo[i, 1], cop.hi[i, 1]) for i in range(n)) / n)
    got = cop.logpdf(u)
    assert np.isfinite(got) and got < -700
    assert got == pytest.approx(float(ref), rel=1e-10)


def test_constructor_rejects_ranks_that_do_not_tile():
    ones = np.ones((3, 1), dtype=int)
    with pytest.raises(ValueError, match="tiling"):
        EmpiricalBetaCopula(ones, ones)
    lo = np.array([[1], [1], [3]])
    with pytest.raises(ValueError, match="tiling"):
        EmpiricalBetaCopula(lo, np.array([[2], [1], [3]]))  # rows of one block disagree
    EmpiricalBetaCopula(lo, np.array([[2], [2], [3]]))  # a tie block of ranks 1-2: valid
