"""The contract every bivariate copula family and rotation satisfies (property tests).

One generic suite, run over every family in the registry and every rotation it allows, in the
spirit of scipy's ``common_tests.py``. Parameters come from family-specific bounded ranges:
hypothesis draws a point ``(a, b)`` of the unit square and :class:`Case` maps it onto the
family's range, so the ``@example`` pins below put every family at both ends of its range
(and Frank at theta = 0). Points ``u`` are drawn from ``floats(0, 1)``, endpoints included.

Tolerances and where they come from:

* ``CDF_ABS_ERR = 1e-15``: the absolute rounding error we allow one cdf value (a few ulp of
  1; the cdfs are closed forms or special functions accurate to double precision), except
  the t copula's, a quadrature documented accurate to about 1e-9 (``Case.cdf_err``).
* Finite differences use Richardson's error estimate: for a central difference ``D(h)`` with
  error ``K h^2``, ``|D(h) - D(h/2)|`` estimates ``3 K h^2 / 4`` and thus bounds the error of
  ``D(h/2)`` (``K h^2 / 4``); the tolerance adds the rounding error of the difference
  quotient, ``(number of terms) * CDF_ABS_ERR / step^k``, and a relative 1e-6 slack for the
  O(h^4) remainder.
* Statistical checks use fixed seeds and a Bonferroni-style per-check false-alarm rate (see
  each test).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from llmcopula.copulas import fit_copula, pseudo_observations
from llmcopula.copulas._base import BivariateCopula
from llmcopula.copulas.registry import FAMILY_NAMES, get_family

CDF_ABS_ERR = 1e-15
# Each example evaluates 16 points, so 20 examples (plus the pinned ones) check 300+ points
# per family, rotation and property while keeping the whole file near half a minute.
N_EXAMPLES = 20


@dataclass(frozen=True)
class Case:
    """A family, a rotation and the map from hypothesis' unit draws onto the parameters."""

    family: str
    rotation: int
    ranges: tuple[tuple[float, float], ...]
    cdf_err: float = CDF_ABS_ERR

    @property
    def cls(self) -> type[BivariateCopula]:
        return get_family(self.family)

    def params(self, a: float, b: float) -> tuple[float, ...]:
        unit = (a, b)
        return tuple(lo + unit[i] * (hi - lo) for i, (lo, hi) in enumerate(self.ranges))

    def make(self, a: float, b: float) -> BivariateCopula:
        return self.build(self.params(a, b), self.rotation)

    def build(self, params: tuple[Any, ...], rotation: int) -> BivariateCopula:
        kwargs: dict[str, Any] = dict(zip(self.cls.param_names, params, strict=True))
        if len(self.cls.allowed_rotations) > 1:
            kwargs["rotation"] = rotation
        return self.cls(**kwargs)

    def __str__(self) -> str:
        return f"{self.family}-{self.rotation}"


# Parameter ranges: bounded, and wide enough to reach strong dependence.
_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "independence": (),
    "gaussian": ((-0.98, 0.98),),
    "student": ((-0.98, 0.98), (2.0, 30.0)),
    "clayton": ((0.05, 30.0),),
    "gumbel": ((1.0, 30.0),),
    "frank": ((-30.0, 30.0),),
}
_ROTATABLE = {"clayton", "gumbel"}
# The t copula's cdf is a quadrature for non-integer df, documented accurate to about 1e-9.
_CDF_ERR = {"student": 1e-9}
CASES = [
    Case(name, rotation, _RANGES[name], _CDF_ERR.get(name, CDF_ABS_ERR))
    for name in FAMILY_NAMES
    for rotation in ((0, 90, 180, 270) if name in _ROTATABLE else (0,))
]

unit = st.floats(0.0, 1.0)
points = hnp.arrays(np.float64, (16, 2), elements=st.floats(0.0, 1.0))
interior_points = hnp.arrays(np.float64, (16, 2), elements=st.floats(1e-6, 1.0 - 1e-6))

_EDGE_VALUES = np.array([0.0, 5e-324, 1e-12, 0.3, 0.5, 1.0 - 1e-12, 1.0])
EDGES = np.stack(np.meshgrid(_EDGE_VALUES, _EDGE_VALUES), axis=-1).reshape(-1, 2)
_INNER_VALUES = np.array([1e-6, 1e-3, 0.3, 0.5, 0.9, 1.0 - 1e-3, 1.0 - 1e-6])
INNER = np.stack(np.meshgrid(_INNER_VALUES, _INNER_VALUES), axis=-1).reshape(-1, 2)


def at_parameter_ends(points_example: np.ndarray, **extra: Any) -> Callable[[Any], Any]:
    """Pin both ends of the parameter range (and its middle: Frank theta = 0) with the
    given points (and any further arguments of the test)."""

    def decorate(f: Any) -> Any:
        for a, b in ((0.0, 0.0), (1.0, 1.0), (0.5, 0.5), (0.0, 1.0), (1.0, 0.0)):
            f = example(a=a, b=b, u=points_example, **extra)(f)
        return f

    return decorate


parametrize_cases = pytest.mark.parametrize("case", CASES, ids=str)


def _pairs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack(np.broadcast_arrays(x, y), axis=-1)


def _richardson(f: Callable[[float], np.ndarray], h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value of a difference quotient ``f(h)`` at h/2 and its truncation-error bound."""
    coarse, fine = f(h), f(h / 2)
    return fine, np.abs(coarse - fine)


# ----------------------------------------------------------------------------------------------
# 1. range and Fréchet–Hoeffding bounds
@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_cdf_is_finite_and_within_frechet_hoeffding_bounds(case, a, b, u):
    """max(u + v - 1, 0) <= C(u, v) <= min(u, v), finite on the closed square (the lower
    bound itself is computed with a rounding error of up to ulp(1) ~ 2.2e-16)."""
    c = case.make(a, b).cdf(u)
    assert np.all(np.isfinite(c))
    lower = np.maximum(u[:, 0] + u[:, 1] - 1.0, 0.0)
    upper = np.minimum(u[:, 0], u[:, 1])
    assert np.all(c >= lower - 2.3e-16) and np.all(c <= upper)


# ----------------------------------------------------------------------------------------------
# 2. groundedness and uniform margins
@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_cdf_is_grounded_with_uniform_margins(case, a, b, u):
    """C(u, 0) = C(0, v) = 0, C(u, 1) = u and C(1, v) = v."""
    cop = case.make(a, b)
    x = u[:, 0]
    zero, one = np.zeros_like(x), np.ones_like(x)
    np.testing.assert_allclose(cop.cdf(_pairs(x, zero)), 0.0, rtol=0, atol=CDF_ABS_ERR)
    np.testing.assert_allclose(cop.cdf(_pairs(zero, x)), 0.0, rtol=0, atol=CDF_ABS_ERR)
    np.testing.assert_allclose(cop.cdf(_pairs(x, one)), x, rtol=0, atol=CDF_ABS_ERR)
    np.testing.assert_allclose(cop.cdf(_pairs(one, x)), x, rtol=0, atol=CDF_ABS_ERR)


@parametrize_cases
@settings(max_examples=8)
@given(a=unit, b=unit)
@example(a=0.0, b=0.0)
@example(a=1.0, b=1.0)
def test_sampled_margins_are_uniform(case, a, b):
    """Both margins of ``sample`` pass a Kolmogorov–Smirnov test against U(0, 1).

    Seeded; per-test level 1e-5, so over the 2 margins x ~10 examples x 12 cases the
    family-wise false-alarm rate is below 3e-3.
    """
    draws = case.make(a, b).sample(2000, rng=20240601)
    assert draws.shape == (2000, 2)
    for j in range(2):
        assert stats.kstest(draws[:, j], "uniform").pvalue > 1e-5


# ----------------------------------------------------------------------------------------------
# 3. 2-increasing
@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points, v=points)
@at_parameter_ends(EDGES, v=EDGES[::-1])
def test_rectangle_volumes_are_nonnegative(case, a, b, u, v):
    """C(x2, y2) - C(x2, y1) - C(x1, y2) + C(x1, y1) >= -4 * cdf_err for x1 <= x2,
    y1 <= y2 (four cdf values, each off by at most the family's cdf error)."""
    cop = case.make(a, b)
    x1, x2 = np.minimum(u[:, 0], v[:, 0]), np.maximum(u[:, 0], v[:, 0])
    y1, y2 = np.minimum(u[:, 1], v[:, 1]), np.maximum(u[:, 1], v[:, 1])
    volume = (
        cop.cdf(_pairs(x2, y2)) - cop.cdf(_pairs(x2, y1))
        - cop.cdf(_pairs(x1, y2)) + cop.cdf(_pairs(x1, y1))
    )
    assert np.all(volume >= -4 * case.cdf_err)


# ----------------------------------------------------------------------------------------------
# 4. density consistency
def _step(u: np.ndarray) -> np.ndarray:
    """A finite-difference step: at most 1e-3 and at most 1/100 of the distance to the
    nearest edge. Near a corner the densities vary on the scale of that distance (divided by
    theta for strong dependence), so a step proportional to it keeps the difference quotient
    in its asymptotic O(h^2) regime, where the Richardson estimate is a valid bound."""
    dist = np.minimum(u, 1.0 - u).min(axis=-1)
    return np.minimum(1e-3, dist / 100)


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=interior_points)
@at_parameter_ends(INNER)
def test_pdf_equals_mixed_second_difference_of_cdf(case, a, b, u):
    """c(u, v) = d^2 C / du dv, against a central mixed difference (Richardson bound)."""
    cop = case.make(a, b)
    x, y = u[:, 0], u[:, 1]

    def mixed(h: np.ndarray) -> np.ndarray:
        return (
            cop.cdf(_pairs(x + h, y + h)) - cop.cdf(_pairs(x + h, y - h))
            - cop.cdf(_pairs(x - h, y + h)) + cop.cdf(_pairs(x - h, y - h))
        ) / (4 * h * h)

    h = _step(u)
    numeric, trunc = _richardson(mixed, h)
    tol = trunc + 4 * case.cdf_err / (h / 2) ** 2 + 1e-6 * numeric
    assert np.all(np.abs(cop.pdf(u) - numeric) <= tol)


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_logpdf_is_log_of_pdf_and_finite_inside_the_square(case, a, b, u):
    """logpdf = log(pdf) where 1e-300 < pdf < inf, and logpdf is finite in the open square
    even where pdf underflows (it is computed in log space)."""
    cop = case.make(a, b)
    logc = cop.logpdf(u)
    with np.errstate(over="ignore"):  # overflow is checked by the next test
        c = cop.pdf(u)
    inside = np.all((u > 0) & (u < 1), axis=-1)
    assert np.all(np.isfinite(logc[inside]))
    assert not np.any(np.isnan(logc))
    positive = (c > 1e-300) & np.isfinite(c)
    np.testing.assert_allclose(logc[positive], np.log(c[positive]), rtol=1e-12, atol=1e-12)


@parametrize_cases
@example(a=0.0, b=0.0, u=EDGES)
@example(a=1.0, b=1.0, u=EDGES)
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
def test_pdf_returns_inf_silently_where_the_density_exceeds_the_float_range(case, a, b, u):
    """Near a corner the density of a tail-dependent copula can exceed 1.8e308 (e.g. Clayton
    theta = 0.05 at (5e-324, 5e-324) has log c = 733); pdf then returns inf without a
    RuntimeWarning (the test configuration turns the package's RuntimeWarnings into errors),
    and is never NaN."""
    c = case.make(a, b).pdf(u)
    assert not np.any(np.isnan(c)) and np.all(c >= 0)


# ----------------------------------------------------------------------------------------------
# 5. h-functions
@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_hfuncs_are_conditional_cdfs_with_the_right_boundary_values(case, a, b, u):
    """h1(u, 0) = 0, h1(u, 1) = 1, h2(0, v) = 0, h2(1, v) = 1 for u, v in [0, 1], and both
    h-functions lie in [0, 1]."""
    cop = case.make(a, b)
    x = u[:, 0]
    zero, one = np.zeros_like(x), np.ones_like(x)
    np.testing.assert_array_equal(cop.hfunc1(_pairs(x, zero)), 0.0)
    np.testing.assert_array_equal(cop.hfunc1(_pairs(x, one)), 1.0)
    np.testing.assert_array_equal(cop.hfunc2(_pairs(zero, x)), 0.0)
    np.testing.assert_array_equal(cop.hfunc2(_pairs(one, x)), 1.0)
    for h in (cop.hfunc1(u), cop.hfunc2(u)):
        assert np.all((h >= 0) & (h <= 1))


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_hfuncs_are_nondecreasing_in_the_conditioned_on_variable(case, a, b, u):
    """v -> h1(u, v) and u -> h2(u, v) are non-decreasing (up to 1e-15 rounding)."""
    cop = case.make(a, b)
    grid = np.sort(u[:, 1])
    for x in u[:, 0]:
        h1 = cop.hfunc1(_pairs(np.full_like(grid, x), grid))
        h2 = cop.hfunc2(_pairs(grid, np.full_like(grid, x)))
        assert np.all(np.diff(h1) >= -1e-15) and np.all(np.diff(h2) >= -1e-15)


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=interior_points)
@at_parameter_ends(INNER)
def test_hfuncs_are_first_derivatives_of_cdf(case, a, b, u):
    """h1 = dC/du1 and h2 = dC/du2 (central differences, Richardson bound)."""
    cop = case.make(a, b)
    x, y = u[:, 0], u[:, 1]
    h = _step(u)
    for hfunc, shift in ((cop.hfunc1, (1.0, 0.0)), (cop.hfunc2, (0.0, 1.0))):

        def diff(step: np.ndarray) -> np.ndarray:
            dx, dy = shift[0] * step, shift[1] * step
            return (cop.cdf(_pairs(x + dx, y + dy)) - cop.cdf(_pairs(x - dx, y - dy))) / (2 * step)

        numeric, trunc = _richardson(diff, h)
        tol = trunc + 2 * case.cdf_err / (h / 2) + 1e-6 * numeric
        assert np.all(np.abs(hfunc(u) - numeric) <= tol)


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=interior_points)
@at_parameter_ends(INNER)
def test_derivative_of_hfunc_is_the_density(case, a, b, u):
    """dh1/dv = c = dh2/du (central differences, Richardson bound; h values are accurate to
    ~CDF_ABS_ERR relative to 1, like cdf values)."""
    cop = case.make(a, b)
    x, y = u[:, 0], u[:, 1]
    h = _step(u)
    for hfunc, shift in ((cop.hfunc1, (0.0, 1.0)), (cop.hfunc2, (1.0, 0.0))):

        def diff(step: np.ndarray) -> np.ndarray:
            dx, dy = shift[0] * step, shift[1] * step
            return (hfunc(_pairs(x + dx, y + dy)) - hfunc(_pairs(x - dx, y - dy))) / (2 * step)

        numeric, trunc = _richardson(diff, h)
        tol = trunc + 2 * CDF_ABS_ERR / (h / 2) + 1e-6 * numeric
        assert np.all(np.abs(cop.pdf(u) - numeric) <= tol)


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_hinv_inverts_hfunc(case, a, b, u):
    """hinv1(u, h1(u, v)) = v and hinv2(h2(u, v), v) = u to 1e-9, wherever the inverse is
    determined: where h is flat to rounding (|h(v') - h(v)| <= 1e-12 between the two
    points), every such v' is an exact inverse in floating point and is accepted.

    The conditioning variable is kept off {0, 1}: there the conditional law is only a limit,
    which can put atoms at both ends (e.g. the t copula's h2(., 0) is constant on (0, 1)), so
    no inverse exists for the p in between."""
    cop = case.make(a, b)
    x, y = u[:, 0], u[:, 1]
    p1 = cop.hfunc1(u)
    y_back = cop.hinv1(_pairs(x, p1))
    ok1 = (np.abs(y_back - y) <= 1e-9) | (np.abs(cop.hfunc1(_pairs(x, y_back)) - p1) <= 1e-12)
    ok1 |= (x == 0) | (x == 1)
    assert np.all(ok1), (u[~ok1], y_back[~ok1])
    p2 = cop.hfunc2(u)
    x_back = cop.hinv2(_pairs(p2, y))
    ok2 = (np.abs(x_back - x) <= 1e-9) | (np.abs(cop.hfunc2(_pairs(x_back, y)) - p2) <= 1e-12)
    ok2 |= (y == 0) | (y == 1)
    assert np.all(ok2), (u[~ok2], x_back[~ok2])


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=interior_points)
@at_parameter_ends(INNER)
def test_hfunc_of_hinv_returns_the_probability(case, a, b, u):
    """h1(u, hinv1(u, p)) = p to 1e-9 for u in the open interval and p in [0, 1]."""
    cop = case.make(a, b)
    x, p = u[:, 0], u[:, 1]
    y = cop.hinv1(u)
    np.testing.assert_allclose(cop.hfunc1(_pairs(x, y)), p, rtol=0, atol=1e-9)
    xx = cop.hinv2(_pairs(p, x))
    np.testing.assert_allclose(cop.hfunc2(_pairs(xx, x)), p, rtol=0, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# 6. Kendall's tau
def _from_tau(case: Case, tau: float, params: tuple[float, ...]) -> BivariateCopula:
    kwargs: dict[str, Any] = {}
    if len(case.cls.allowed_rotations) > 1:
        kwargs["rotation"] = case.rotation
    # parameters that tau does not determine (the t copula's df) are passed through
    kwargs.update(dict(zip(case.cls.param_names[1:], params[1:], strict=True)))
    return case.cls.from_tau(tau, **kwargs)


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit)
@example(a=0.0, b=0.0)
@example(a=1.0, b=1.0)
@example(a=0.5, b=0.5)
def test_from_tau_inverts_tau(case, a, b):
    """from_tau(tau(theta)) has the same tau (to 1e-10) and, where tau is not flat in theta,
    the same parameters (to 1e-6 relative)."""
    if case.family == "independence":
        assert case.make(a, b).tau == 0.0
        return
    cop = case.make(a, b)
    back = _from_tau(case, float(cop.tau), cop.params)
    assert back.rotation == cop.rotation
    np.testing.assert_allclose(float(back.tau), float(cop.tau), rtol=0, atol=1e-10)
    np.testing.assert_allclose(back.params, cop.params, rtol=1e-6, atol=1e-8)


@parametrize_cases
@settings(max_examples=8)
@given(a=unit, b=unit)
@example(a=0.0, b=0.0)
@example(a=1.0, b=1.0)
def test_sample_kendall_tau_is_within_its_confidence_interval(case, a, b):
    """The sample tau of 2000 seeded draws is within 4.42 standard deviations of tau.

    The standard deviation uses the conservative bound Var(tau_hat) <= 2 (1 - tau^2) / n
    (Daniels & Kendall 1947); 4.42 is the two-sided 1e-5 quantile, so over ~10 examples x 12
    cases the family-wise false-alarm rate is below 1.2e-3.
    """
    cop = case.make(a, b)
    n = 2000
    draws = cop.sample(n, rng=7)
    tau_hat = stats.kendalltau(draws[:, 0], draws[:, 1]).statistic
    tau = float(cop.tau)
    assert abs(tau_hat - tau) <= 4.42 * np.sqrt(2 * (1 - tau**2) / n)


# ----------------------------------------------------------------------------------------------
# 7. symmetry, rotations and per-row parameters
@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_exchangeable_families_are_symmetric(case, a, b, u):
    """C(u, v) = C(v, u), c(u, v) = c(v, u) and h1(u, v) = h2(v, u) for exchangeable
    families at rotations 0 and 180 (reflecting both axes keeps the symmetry)."""
    if not case.cls.exchangeable or case.rotation not in (0, 180):
        return
    cop = case.make(a, b)
    swapped = u[:, ::-1]
    np.testing.assert_allclose(cop.cdf(u), cop.cdf(swapped), rtol=0, atol=2 * case.cdf_err)
    np.testing.assert_allclose(cop.logpdf(u), cop.logpdf(swapped), rtol=1e-12)
    np.testing.assert_allclose(cop.hfunc1(u), cop.hfunc2(swapped), rtol=0, atol=1e-14)


@parametrize_cases
@settings(max_examples=N_EXAMPLES)
@given(a=unit, b=unit, u=points)
@at_parameter_ends(EDGES)
def test_rotation_identities(case, a, b, u):
    """C_90(u,v) = v - C(1-u, v), C_180(u,v) = u + v - 1 + C(1-u, 1-v),
    C_270(u,v) = u - C(u, 1-v), the density rotates with them, tau(rot 90/270) = -tau and
    rot 180 swaps the tail dependences."""
    cop = case.make(a, b)
    base = case.build(cop.params, 0)
    x, y = u[:, 0], u[:, 1]
    expected_cdf, moved = {
        0: (base.cdf(u), u),
        90: (y - base.cdf(_pairs(1 - x, y)), _pairs(1 - x, y)),
        180: (x + y - 1 + base.cdf(_pairs(1 - x, 1 - y)), _pairs(1 - x, 1 - y)),
        270: (x - base.cdf(_pairs(x, 1 - y)), _pairs(x, 1 - y)),
    }[case.rotation]
    np.testing.assert_allclose(cop.cdf(u), expected_cdf, rtol=0, atol=4 * case.cdf_err)
    np.testing.assert_allclose(cop.logpdf(u), base.logpdf(moved), rtol=1e-12)
    sign = -1.0 if case.rotation in (90, 270) else 1.0
    assert float(cop.tau) == pytest.approx(sign * float(base.tau), abs=1e-15)
    if case.rotation == 180:
        assert cop.lower_tail_dependence == pytest.approx(base.upper_tail_dependence)
        assert cop.upper_tail_dependence == pytest.approx(base.lower_tail_dependence)


@parametrize_cases
@settings(max_examples=N_EXAMPLES // 2)  # 16 scalar evaluations per method and example
@given(
    ab=hnp.arrays(np.float64, (16, 2), elements=unit),
    u=points,
)
@example(ab=np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]] * 3), u=EDGES[:9])
def test_per_row_parameters_equal_scalar_evaluation(case, ab, u):
    """One parameter value per row of u gives, row by row, the scalar-parameter results for
    cdf, logpdf, both h-functions and their inverses, and tau."""
    if not case.cls.param_names:
        return
    rows = [case.params(a, b) for a, b in ab]
    columns = tuple(np.array(col) for col in zip(*rows, strict=True))
    vector = case.build(columns, case.rotation)
    for method in ("cdf", "logpdf", "hfunc1", "hfunc2", "hinv1", "hinv2"):
        got = getattr(vector, method)(u)
        assert got.shape == (len(u),)
        want = [getattr(case.build(p, case.rotation), method)(row) for p, row in zip(rows, u)]
        np.testing.assert_allclose(got, np.array(want, dtype=float), rtol=1e-12, atol=1e-15,
                                   err_msg=method)
    want_tau = [float(case.build(p, case.rotation).tau) for p in rows]
    np.testing.assert_allclose(np.asarray(vector.tau, dtype=float), want_tau,
                               rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------------------------
# 8. rank invariance of fits
@parametrize_cases
@settings(max_examples=5)
@given(a=st.floats(0.1, 0.9), b=unit)
def test_fits_are_invariant_to_increasing_transforms_of_the_margins(case, a, b):
    """Fitting on pseudo-observations of (exp(x), x^3 + x) gives the same estimate as on
    those of (x, y): the estimate depends on the data through its ranks only."""
    cop = case.make(a, b)
    x = cop.sample(300, rng=11)
    transformed = np.column_stack([np.exp(3 * x[:, 0]), x[:, 1] ** 3 + x[:, 1]])
    fit_raw = fit_copula(pseudo_observations(x), case.family, rotation=case.rotation)
    fit_transformed = fit_copula(pseudo_observations(transformed), case.family,
                                 rotation=case.rotation)
    np.testing.assert_array_equal(fit_raw.params, fit_transformed.params)
    assert fit_raw.loglik == fit_transformed.loglik


# ----------------------------------------------------------------------------------------------
# 9. value semantics
@parametrize_cases
def test_copulas_are_immutable_values(case):
    """Parameters cannot be reassigned, array parameters are read-only, equal parameters make
    equal copulas, and the same seed draws the same sample."""
    cop = case.make(0.3, 0.6)
    for name in case.cls.param_names + ("_params", "extra"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(cop, name, 0.5)
    assert cop == case.make(0.3, 0.6)
    np.testing.assert_array_equal(cop.sample(5, rng=1), cop.sample(5, rng=1))
    if case.cls.param_names:
        rows = [case.params(a, 0.6) for a in (0.1, 0.9)]
        vector = case.build(tuple(np.array(c) for c in zip(*rows)), case.rotation)
        first = getattr(vector, case.cls.param_names[0])
        with pytest.raises(ValueError, match="read-only"):
            first[0] = 0.5
