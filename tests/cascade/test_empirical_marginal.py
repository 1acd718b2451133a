"""EmpiricalMarginal: hand-computed values, exact inverses, atoms and the 1/(2n) bound.

The reference construction used below (written out independently of the module): sort the
distinct values v_1 < ... < v_m with counts c_k; a repeated value is an atom of mass c_k/n;
a single value v_k spreads mass 1/n over [mid(v_{k−1}, v_k), mid(v_k, v_{k+1})] (the ends
symmetrically about v_1 and v_m), half of it uniformly on each side of v_k.
"""

from __future__ import annotations


import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from llmcopula.cascade import EmpiricalMarginal
from llmcopula.copulas.empirical_beta import tie_blocks

ROUND = 1e-12  # rounding slack for values built from a few additions and divisions


def intervals(x):
    """Distinct values, counts and each value's support interval (lo, hi) — the reference."""
    v, c = np.unique(np.asarray(x, dtype=float), return_counts=True)
    if v.size == 1:
        return v, c, v.copy(), v.copy()
    mid = (v[1:] + v[:-1]) / 2
    lo = np.concatenate([[2 * v[0] - mid[0]], mid])
    hi = np.concatenate([mid, [2 * v[-1] - mid[-1]]])
    lo[c > 1] = v[c > 1]
    hi[c > 1] = v[c > 1]
    return v, c, lo, hi


def ecdf(x, t):
    x = np.asarray(x, dtype=float)
    return (x[None, :] <= np.asarray(t, dtype=float)[:, None]).mean(axis=1)


def sample_with_atoms(rng, n):
    """Values in [0, 1]: a continuous part, repeated values and both ends of [0, 1]."""
    x = rng.beta(2, 3, size=n)
    x[: n // 5] = rng.choice([0.25, 0.5, 1.0], size=n // 5)
    x[n // 5] = 0.0
    return rng.permutation(x)


data_1d = hnp.arrays(
    np.float64, st.integers(2, 30),
    elements=st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.3, 0.7, 1.0])))


# ---------------------------------------------------------------------- hand values
def test_hand_computed_example_with_an_atom():
    m = EmpiricalMarginal().fit([0.2, 0.4, 0.4, 0.8])
    assert m.n_ == 4 and m.mean == pytest.approx(0.45)
    assert m.atoms_.tolist() == [0.4] and m.atom_masses_.tolist() == [0.5]
    # 0.2 spreads 1/4 over [0.1, 0.3], 0.4 is an atom of 1/2, 0.8 spreads 1/4 over [0.6, 1.0].
    x = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4 - 1e-9, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
         1.1]
    want = [0, 0, 1 / 16, 1 / 8, 3 / 16, 1 / 4, 1 / 4, 1 / 4, 3 / 4, 3 / 4, 3 / 4, 13 / 16,
            7 / 8, 15 / 16, 1, 1]
    assert_allclose(m.cdf(x), want, rtol=0, atol=ROUND)
    assert_allclose(m.ppf([0.0, 1 / 16, 1 / 8, 1 / 4, 0.3, 0.5, 3 / 4, 13 / 16, 1.0]),
                    [0.1, 0.15, 0.2, 0.3, 0.4, 0.4, 0.4, 0.7, 1.0], rtol=0, atol=ROUND)


def test_uneven_spacing_keeps_the_half_jump_bound():
    """0.01 sits next to 0 and far from 0.5: a uniform spread over [0.005, 0.255] would give
    F(0.01) = 1/4 + 0.02·(1/4) (error ~1/n); half the mass below the value gives 3/8."""
    m = EmpiricalMarginal().fit([0.0, 0.01, 1.0, 0.5])
    assert float(m.cdf(0.01)) == pytest.approx(3 / 8)
    assert float(m.cdf(0.5)) == pytest.approx(5 / 8)
    assert float(m.ppf(3 / 8)) == pytest.approx(0.01)
    assert abs(float(m.cdf(0.01)) - 0.5) <= 1 / 8 + ROUND


def test_single_repeated_value_is_one_atom():
    m = EmpiricalMarginal().fit([0.6, 0.6, 0.6])
    assert m.atoms_.tolist() == [0.6] and m.atom_masses_.tolist() == [1.0]
    assert_allclose(m.cdf([0.0, 0.6 - 1e-12, 0.6, 1.0]), [0, 0, 1, 1])
    assert_allclose(m.ppf([0.0, 0.3, 1.0]), [0.6, 0.6, 0.6])


# ------------------------------------------------------------------------- atoms
def test_atoms_are_the_repeated_values_with_masses_count_over_n():
    x = sample_with_atoms(np.random.default_rng(0), 200)
    m = EmpiricalMarginal().fit(x)
    v, c, _, _ = intervals(x)
    assert_allclose(m.atoms_, v[c > 1])
    assert_allclose(m.atom_masses_, c[c > 1] / 200)
    below = np.nextafter(m.atoms_, -np.inf)
    assert_allclose(m.cdf(m.atoms_) - m.cdf(below), c[c > 1] / 200, rtol=0, atol=ROUND)
    # a value that occurs once is no atom: F is continuous there
    single = v[c == 1]
    assert_allclose(m.cdf(single) - m.cdf(np.nextafter(single, -np.inf)), 0, atol=1e-9)


def test_uniform_scale_blocks_match_the_copula_rank_blocks():
    """The observation with tie block lo..hi occupies [(lo − 1)/n, hi/n]: F just below the
    value is at least (lo − 1)/n and F at the value at most hi/n, with equality for atoms;
    a single value sits at the middle of its block, (lo − 1/2)/n."""
    x = sample_with_atoms(np.random.default_rng(1), 150)
    n = x.size
    m = EmpiricalMarginal().fit(x)
    lo, hi = (a[:, 0] for a in tie_blocks(x[:, None]))
    f_at = m.cdf(x)
    f_below = m.cdf(np.nextafter(x, -np.inf))
    tied = hi > lo
    assert_allclose(f_at[tied], hi[tied] / n, atol=ROUND)
    assert_allclose(f_below[tied], (lo[tied] - 1) / n, atol=ROUND)
    assert_allclose(f_at[~tied], (lo[~tied] - 0.5) / n, atol=ROUND)
    # the support interval of a single value maps onto exactly its rank block
    v, c, ilo, ihi = intervals(x)
    r = np.searchsorted(np.sort(x), v, side="right")  # rank of each single value
    single = c == 1
    assert_allclose(m.cdf(ilo[single]), (r[single] - 1) / n, atol=ROUND)
    assert_allclose(m.cdf(ihi[single]), r[single] / n, atol=ROUND)


# ------------------------------------------------------------- the 1/(2n) bound
@pytest.mark.parametrize("seed, n", [(2, 50), (3, 400)])
def test_cdf_is_within_half_a_jump_of_the_training_fraction(seed, n):
    """|F(t) − #{x_i <= t}/n| <= 1/(2n) at every t: on a dense grid, at every training value,
    just below each, at every midpoint and beyond the ends."""
    rng = np.random.default_rng(seed)
    x = sample_with_atoms(rng, n)
    m = EmpiricalMarginal().fit(x)
    v = np.unique(x)
    t = np.concatenate([np.linspace(-0.2, 1.2, 5001), v, np.nextafter(v, -np.inf),
                        np.nextafter(v, np.inf), (v[1:] + v[:-1]) / 2, rng.random(2000)])
    err = np.abs(m.cdf(t) - ecdf(x, t))
    assert err.max() <= 1 / (2 * n) + ROUND
    # the bound is attained (half a jump) at single values: it is not loose
    assert err.max() >= 1 / (2 * n) - ROUND


@settings(max_examples=50)
@given(data_1d, st.lists(st.floats(-0.5, 1.5), min_size=1, max_size=20))
def test_half_jump_bound_property(x, t):
    m = EmpiricalMarginal().fit(x)
    assert np.all(np.abs(m.cdf(t) - ecdf(x, t)) <= 1 / (2 * x.size) + ROUND)


# ------------------------------------------------------------------ monotone, ends
@settings(max_examples=50)
@given(data_1d, st.floats(-0.5, 1.5), st.floats(0, 1))
def test_cdf_is_monotone_and_in_unit_interval(x, a, step):
    m = EmpiricalMarginal().fit(x)
    fa, fb = m.cdf([a, a + step])
    assert 0.0 <= fa <= fb <= 1.0


@settings(max_examples=50)
@given(data_1d, st.floats(0, 1), st.floats(0, 1))
def test_ppf_is_monotone_and_stays_on_the_support(x, p, q):
    m = EmpiricalMarginal().fit(x)
    _, _, lo, hi = intervals(x)
    a, b = m.ppf(sorted([p, q]))
    assert lo[0] - ROUND <= a <= b <= hi[-1] + ROUND


def test_cdf_is_zero_below_and_one_above_the_data():
    for x in ([0.3, 0.5, 0.9], [0.3, 0.3, 0.5, 0.9, 0.9], sample_with_atoms(
            np.random.default_rng(4), 60)):
        m = EmpiricalMarginal().fit(x)
        _, c, lo, hi = intervals(x)
        assert float(m.cdf(-np.inf)) == 0.0 and float(m.cdf(np.inf)) == 1.0
        # (an atom at the lower end carries its mass at lo[0] itself)
        below = np.array([lo[0] - 1.0, lo[0] - 1e-9] + ([lo[0]] if c[0] == 1 else []))
        above = np.array([hi[-1], hi[-1] + 1e-9, hi[-1] + 1.0])
        assert np.all(m.cdf(below) == 0.0)
        assert np.all(m.cdf(above) == 1.0)
        # strictly inside the support F is strictly between 0 and 1
        inner = np.linspace(lo[0], hi[-1], 101)[1:-1]
        f = m.cdf(inner)
        assert np.all(f > 0) and np.all(f < 1)


# ------------------------------------------------------------------ exact inverse
def test_round_trips_off_atoms():
    x = sample_with_atoms(np.random.default_rng(5), 300)
    m = EmpiricalMarginal().fit(x)
    v, c, lo, hi = intervals(x)
    # q off the atoms' jumps: cdf(ppf(q)) == q
    q = np.random.default_rng(6).random(5000)
    upper = m.cdf(m.atoms_)
    lower = upper - m.atom_masses_
    in_jump = ((q[:, None] > lower[None, :] + 1e-12) & (q[:, None] < upper[None, :] - 1e-12)).any(1)
    assert in_jump.sum() > 100 and (~in_jump).sum() > 1000
    assert_allclose(m.cdf(m.ppf(q[~in_jump])), q[~in_jump], rtol=0, atol=ROUND)
    # inside an atom's jump ppf returns the atom and cdf its upper end
    for a, lw, up in zip(m.atoms_, lower, upper):
        qq = np.linspace(lw, up, 7)[1:]
        assert_allclose(m.ppf(qq), a)
        assert_allclose(m.cdf(m.ppf(qq)), up, atol=ROUND)
    # x inside the support interval of a single value: ppf(cdf(x)) == x
    single = np.flatnonzero(c == 1)
    xs = np.concatenate([lo[single] + (hi[single] - lo[single]) * w
                         for w in (0.1, 0.37, 0.5, 0.81, 0.99)])
    xs = np.concatenate([xs, v[single]])
    assert_allclose(m.ppf(m.cdf(xs)), xs, rtol=0, atol=1e-10)


@settings(max_examples=50)
@given(data_1d, st.floats(0, 1))
def test_ppf_is_the_generalised_inverse(x, q):
    """ppf(q) = inf{x : F(x) >= q}: F(ppf(q)) >= q, and F is below q just left of ppf(q)."""
    m = EmpiricalMarginal().fit(x)
    p = float(m.ppf(q))
    assert float(m.cdf(p)) >= q - ROUND
    if q > ROUND:
        assert float(m.cdf(p - 1e-7)) <= q + ROUND


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize("phi, match", [
    ([0.2, np.nan, 0.4], "^phi: contains NaN"),
    ([0.2, 1.2], "^phi: values must lie in \\[0, 1\\]"),
    ([-0.1, 0.2], "^phi: values must lie in \\[0, 1\\]"),
    ([0.3], "^phi: expected a 1-d array of at least 2 values"),
    ([], "^phi: expected a 1-d array of at least 2 values"),
    ([[0.2, 0.3], [0.4, 0.5]], "^phi: expected a 1-d array"),
])
def test_fit_rejects_bad_values(phi, match):
    with pytest.raises(ValueError, match=match):
        EmpiricalMarginal().fit(phi)


def test_methods_need_a_fitted_marginal_and_valid_inputs():
    m = EmpiricalMarginal()
    for call in (lambda: m.cdf(0.5), lambda: m.ppf(0.5), lambda: m.mean):
        with pytest.raises(ValueError, match="not fitted yet"):
            call()
    m.fit([0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="^x: contains NaN"):
        m.cdf([0.2, np.nan])
    with pytest.raises(ValueError, match="^q: contains NaN"):
        m.ppf(np.nan)
    with pytest.raises(ValueError, match="^q: values must lie in \\[0, 1\\]"):
        m.ppf(1.5)


def test_fit_returns_self_and_refits():
    m = EmpiricalMarginal()
    assert m.fit([0.1, 0.1, 0.9]) is m
    assert m.atoms_.tolist() == [0.1]
    m.fit([0.2, 0.9])
    assert m.atoms_.size == 0 and m.n_ == 2
    assert_allclose(m.cdf([0.2, 0.9]), [0.25, 0.75])


def test_shapes_follow_the_input():
    m = EmpiricalMarginal().fit([0.1, 0.4, 0.4, 0.9])
    assert m.cdf(0.5).shape == () and m.ppf(0.5).shape == ()
    assert m.cdf(np.full((2, 3), 0.5)).shape == (2, 3)
    assert m.ppf(np.full((2, 3), 0.5)).shape == (2, 3)
