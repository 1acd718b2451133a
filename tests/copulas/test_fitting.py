"""Estimation: maximum likelihood and inversion of Kendall's tau, their standard errors,
information criteria, agreement with pyvinecopulib, pseudo-observations and input checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import pyvinecopulib as pv
from scipy import stats
from threadpoolctl import threadpool_limits

from llmcopula.copulas import CopulaFit, IndependenceCopula, fit_copula, pseudo_observations
from llmcopula.copulas.registry import get_family
from llmcopula.copulas.fitting import EDGE_EPS, kendall_tau_se

# (family, rotation, true parameters): every family, several rotations, both signs of tau.
TRUE_MODELS: list[tuple[str, int, tuple[float, ...]]] = [
    ("gaussian", 0, (0.6,)),
    ("gaussian", 0, (-0.4,)),
    ("student", 0, (0.6, 5.0)),
    ("clayton", 0, (2.0,)),
    ("clayton", 270, (1.5,)),
    ("gumbel", 180, (2.0,)),
    ("gumbel", 90, (1.6,)),
    ("frank", 0, (5.0,)),
    ("frank", 0, (-4.0,)),
]
MODEL_IDS = [f"{f}-{r}-{p}" for f, r, p in TRUE_MODELS]

PV_FAMILY = {
    "independence": pv.families.indep,
    "gaussian": pv.families.gaussian,
    "student": pv.families.student,
    "clayton": pv.families.clayton,
    "gumbel": pv.families.gumbel,
    "frank": pv.families.frank,
}


def make(family: str, params: tuple[float, ...], rotation: int = 0) -> Any:
    cls = get_family(family)
    kwargs: dict[str, Any] = dict(zip(cls.param_names, params, strict=True))
    if len(cls.allowed_rotations) > 1:
        kwargs["rotation"] = rotation
    return cls(**kwargs)


def coverage_region(
    repetitions: int, level: float = 0.95, false_alarm: float = 1e-3
) -> tuple[int, int]:
    """Acceptance region for the number of Wald intervals (out of ``repetitions``) that cover
    the true value: the central binomial(repetitions, level) interval with probability at
    least 1 - false_alarm."""
    lo = int(stats.binom.ppf(false_alarm / 2, repetitions, level))
    hi = int(stats.binom.isf(false_alarm / 2, repetitions, level))
    return lo, hi


# ----------------------------------------------------------------------------------------------
# standard errors: coverage of the Wald intervals over seeded repetitions
@pytest.mark.slow
@pytest.mark.parametrize("method", ["mle", "itau"])
@pytest.mark.parametrize(("family", "rotation", "params"), TRUE_MODELS, ids=MODEL_IDS)
def test_wald_intervals_cover_the_true_parameter_at_the_nominal_rate(
    family, rotation, params, method
):
    """Over 40 seeded samples of n = 1000, the 95 % interval estimate +- 1.96 se covers each
    true parameter a number of times inside the binomial(40, 0.95) acceptance region at
    false-alarm rate 1e-3 (32..40).

    The samples are draws of the copula itself (known margins), the setting in which the
    observed-information SE of the MLE is the right one; the itau SE is rank-based and
    valid either way.
    """
    repetitions, n = 40, 1000
    truth = make(family, params, rotation)
    covered = np.zeros(len(params), dtype=int)
    for seed in range(repetitions):
        u = truth.sample(n, rng=1000 + seed)
        # one BLAS thread: the many tiny L-BFGS-B steps of the t fit slow down 2x when BLAS
        # threads compete for the CPUs with the other test workers
        with threadpool_limits(1):
            fit = fit_copula(u, family, method=method, rotation=rotation)
        est, se = np.array(fit.params), np.array(fit.se)
        assert np.all(np.isfinite(se)) and np.all(se > 0)
        covered += np.abs(est - np.array(params)) <= 1.96 * se
    lo, hi = coverage_region(repetitions)
    assert np.all((covered >= lo) & (covered <= hi)), (covered, (lo, hi))


def test_coverage_region_is_the_binomial_acceptance_region():
    """For 40 repetitions at 95 % and false-alarm 1e-3 the region is 32..40."""
    lo, hi = coverage_region(40)
    assert hi == 40
    assert stats.binom.cdf(lo - 1, 40, 0.95) <= 5e-4 < stats.binom.cdf(lo, 40, 0.95)


@pytest.mark.parametrize(("family", "rotation", "params"), TRUE_MODELS, ids=MODEL_IDS)
def test_itau_and_mle_agree_within_sampling_error(family, rotation, params):
    """|theta_mle - theta_itau| <= 4.42 se_itau (two-sided 1e-5) for n = 2000.

    The MLE is asymptotically efficient, so Var(itau - mle) = Var(itau) - Var(mle)
    <= Var(itau) (Hausman 1978), making se_itau a conservative scale for the difference.
    Only the parameter that tau determines is compared (the t copula's df is profiled in both).
    """
    u = pseudo_observations(make(family, params, rotation).sample(2000, rng=99))
    mle = fit_copula(u, family, method="mle", rotation=rotation)
    itau = fit_copula(u, family, method="itau", rotation=rotation)
    assert mle.converged
    assert abs(mle.params[0] - itau.params[0]) <= 4.42 * itau.se[0]
    assert mle.loglik >= itau.loglik - 1e-9  # the MLE maximises the likelihood


@pytest.mark.parametrize(("family", "rotation", "params"), TRUE_MODELS, ids=MODEL_IDS)
def test_mle_is_a_stationary_point_of_the_loglikelihood(family, rotation, params):
    """No parameter value 1e-3 se away (in any coordinate) has a higher log-likelihood."""
    u = make(family, params, rotation).sample(1500, rng=3)
    fit = fit_copula(u, family, rotation=rotation)
    for i, step in enumerate(fit.se):
        for sign in (-1.0, 1.0):
            moved = list(fit.params)
            moved[i] += sign * 1e-3 * step
            ll = float(np.sum(make(family, tuple(moved), rotation).logpdf(u)))
            assert ll <= fit.loglik + 1e-6


def test_kendall_tau_se_matches_the_pairwise_definition_with_ties():
    """The O(n log^2 n) Hoeffding-projection SE equals the O(n^2) pairwise computation."""
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=300), 1)
    y = np.round(x + rng.normal(size=300), 1)  # many ties in both columns
    s = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    w = s.sum(axis=1) / (len(x) - 1)
    expected = math.sqrt(4.0 / len(x) * np.var(w, ddof=1))
    assert kendall_tau_se(np.column_stack([x, y])) == pytest.approx(expected, rel=1e-12)


def test_kendall_tau_se_under_independence_is_close_to_its_known_value():
    """Under independence Var(tau_hat) = 2 (2n + 5) / (9 n (n - 1)); the estimate from one
    sample of n = 4000 is within 10 % (its own relative sampling error is about 2 %)."""
    n = 4000
    u = IndependenceCopula().sample(n, rng=8)
    exact = math.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1)))
    assert kendall_tau_se(u) == pytest.approx(exact, rel=0.1)


# ----------------------------------------------------------------------------------------------
# log-likelihood and information criteria
@pytest.mark.parametrize("method", ["mle", "itau"])
@pytest.mark.parametrize(("family", "rotation", "params"), TRUE_MODELS, ids=MODEL_IDS)
def test_loglik_aic_and_bic_follow_their_definitions(family, rotation, params, method):
    """loglik = sum log c(u_i); AIC = 2k - 2 loglik; BIC = k log n - 2 loglik."""
    u = pseudo_observations(make(family, params, rotation).sample(500, rng=4))
    fit = fit_copula(u, family, method=method, rotation=rotation)
    k = len(params)
    assert isinstance(fit, CopulaFit)
    assert (fit.n, fit.n_params, fit.method) == (500, k, method)
    assert fit.loglik == pytest.approx(float(np.sum(fit.copula.logpdf(u))), rel=1e-12)
    assert fit.aic == pytest.approx(2 * k - 2 * fit.loglik, rel=1e-12)
    assert fit.bic == pytest.approx(k * math.log(500) - 2 * fit.loglik, rel=1e-12)
    assert len(fit.se) == k
    assert fit.copula.rotation == rotation


def test_independence_fit_has_zero_loglik_and_no_parameters():
    u = IndependenceCopula().sample(100, rng=0)
    fit = fit_copula(u, "independence")
    assert (fit.loglik, fit.aic, fit.bic, fit.se, fit.n_params) == (0.0, 0.0, 0.0, (), 0)
    assert fit.converged


def test_fit_result_is_immutable():
    fit = fit_copula(IndependenceCopula().sample(10, rng=0), "independence")
    with pytest.raises(AttributeError):
        fit.loglik = 1.0  # type: ignore[misc]


def test_family_may_be_given_as_a_class():
    cls = get_family("clayton")
    u = make("clayton", (2.0,)).sample(300, rng=1)
    assert fit_copula(u, cls) == fit_copula(u, "Clayton")


@pytest.mark.parametrize(("family", "tau"), [("clayton", -0.4), ("gumbel", -0.3), ("clayton", 0.4)])
def test_rotation_none_follows_the_sign_of_kendalls_tau(family, tau):
    """Without a rotation, a rotatable family is fitted at 0 for tau >= 0 and 90 for tau < 0."""
    u = get_family(family).from_tau(tau).sample(800, rng=2)
    fit = fit_copula(u, family)
    assert fit.copula.rotation == (0 if tau >= 0 else 90)
    assert np.sign(fit.copula.tau) == np.sign(tau)


def test_a_rotation_that_cannot_fit_the_sign_of_tau_ends_at_the_boundary():
    """Clayton at rotation 0 on negatively dependent data: the estimate is the bound nearest
    independence, and the fit is still finite and reported."""
    u = make("clayton", (2.0,), 90).sample(500, rng=6)
    fit = fit_copula(u, "clayton", rotation=0)
    lo, _ = get_family("clayton").param_bounds()[0]
    assert fit.params[0] == pytest.approx(lo, abs=1e-3)
    assert math.isfinite(fit.loglik)


@pytest.mark.parametrize("family", ["gaussian", "clayton", "gumbel", "frank", "student"])
def test_data_on_the_edges_of_the_square_gives_a_finite_fit(family):
    """Exact 0s and 1s (e.g. raw confidences) are clipped to [EDGE_EPS, 1 - EDGE_EPS] inside
    the likelihood, so the fit and its log-likelihood stay finite."""
    u = make("gaussian", (0.5,)).sample(400, rng=12)
    u[:5] = [[0.0, 0.0], [1.0, 1.0], [0.0, 0.7], [1.0, 0.2], [0.3, 1.0]]
    fit = fit_copula(u, family)
    assert math.isfinite(fit.loglik) and all(math.isfinite(p) for p in fit.params)
    clipped = np.clip(u, EDGE_EPS, 1 - EDGE_EPS)
    assert fit.loglik == pytest.approx(float(np.sum(fit.copula.logpdf(clipped))), rel=1e-12)


# ----------------------------------------------------------------------------------------------
# pyvinecopulib as an oracle
def _pv_fit(u: np.ndarray, family: str, rotation: int, method: str) -> pv.Bicop:
    controls = pv.FitControlsBicop(family_set=[PV_FAMILY[family]], parametric_method=method,
                                   allow_rotations=True)
    bicop = pv.Bicop(family=PV_FAMILY[family], rotation=rotation)
    bicop.fit(u, controls)
    return bicop


@pytest.mark.parametrize(("family", "rotation", "params"), TRUE_MODELS, ids=MODEL_IDS)
def test_mle_matches_pyvinecopulib(family, rotation, params):
    """Our MLE and pyvinecopulib's ``Bicop.fit`` agree: the same rotation, parameters within
    0.1 se of each other (two optimisers' tolerances on one likelihood surface), our
    log-likelihood at least theirs (minus 1e-4), and pyvinecopulib's ``loglik`` at our
    parameters equals ours."""
    u = pseudo_observations(make(family, params, rotation).sample(2000, rng=21))
    ours = fit_copula(u, family, rotation=rotation)
    theirs = _pv_fit(u, family, rotation, "mle")
    assert theirs.rotation == ours.copula.rotation
    their_params = np.ravel(theirs.parameters)
    np.testing.assert_array_less(np.abs(np.array(ours.params) - their_params),
                                 0.1 * np.array(ours.se))
    assert ours.loglik >= theirs.loglik() - 1e-4
    at_ours = pv.Bicop(family=PV_FAMILY[family], rotation=rotation,
                       parameters=np.array(ours.params, dtype=float).reshape(-1, 1))
    assert at_ours.loglik(u) == pytest.approx(ours.loglik, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("family", "rotation", "params"),
                         [m for m in TRUE_MODELS if m[0] != "student"],
                         ids=[i for i, m in zip(MODEL_IDS, TRUE_MODELS) if m[0] != "student"])
def test_itau_matches_pyvinecopulib(family, rotation, params):
    """Inversion of Kendall's tau gives pyvinecopulib's itau estimate (same tau-b, same
    tau-to-parameter map) to 1e-6 relative."""
    u = pseudo_observations(make(family, params, rotation).sample(2000, rng=22))
    ours = fit_copula(u, family, method="itau", rotation=rotation)
    theirs = _pv_fit(u, family, rotation, "itau")
    np.testing.assert_allclose(ours.params, np.ravel(theirs.parameters), rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# pseudo-observations
def test_pseudo_observations_are_ranks_over_n_plus_one():
    x = np.array([[3.0, -1.0], [1.0, 5.0], [2.0, 0.0], [10.0, 2.0]])
    expected = np.array([[3, 1], [1, 4], [2, 2], [4, 3]]) / 5.0
    np.testing.assert_array_equal(pseudo_observations(x), expected)


def test_pseudo_observations_give_ties_their_average_rank():
    np.testing.assert_array_equal(pseudo_observations([1.0, 1.0, 2.0]), [1.5 / 4, 1.5 / 4, 3 / 4])


def test_pseudo_observations_are_invariant_to_increasing_transforms():
    x = np.random.default_rng(0).normal(size=(50, 2))
    y = np.column_stack([np.exp(x[:, 0]), x[:, 1] ** 3])
    np.testing.assert_array_equal(pseudo_observations(x), pseudo_observations(y))


@pytest.mark.parametrize(("x", "message"), [
    ([[np.nan, 1.0], [2.0, 3.0]], "x: contains 1 non-finite"),
    ([[np.inf, 1.0], [2.0, 3.0]], "x: contains 1 non-finite"),
    (np.zeros((0, 2)), "x: contains no observations"),
    (np.zeros((2, 2, 2)), "x: expected a 1-d or 2-d array"),
])
def test_pseudo_observations_reject_bad_input(x, message):
    with pytest.raises(ValueError, match=message):
        pseudo_observations(x)


# ----------------------------------------------------------------------------------------------
# bad input
_GOOD = np.column_stack([np.linspace(0.1, 0.9, 9), np.linspace(0.2, 0.8, 9) ** 2])


@pytest.mark.parametrize(("u", "message"), [
    (np.zeros((5, 3)), r"u: expected an array of shape \(n, 2\)"),
    (np.zeros(5), r"u: expected an array of shape \(n, 2\)"),
    (np.array([[0.2, 0.3]]), "u: need at least 2 observations"),
    (np.array([[0.2, np.nan], [0.3, 0.4]]), "u: contains 1 NaN"),
    (np.array([[0.2, 1.5], [0.3, 0.4]]), r"u: values must lie in \[0, 1\]"),
    (np.array([[0.2, 0.5], [0.3, 0.5], [0.4, 0.5]]), "u: column 1 is constant"),
])
def test_fit_copula_rejects_bad_data(u, message):
    with pytest.raises(ValueError, match=message):
        fit_copula(u, "gaussian")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"family": "weibull"}, "family: unknown family 'weibull'"),
    ({"family": 3}, "family: expected a family name or class"),
    ({"family": dict}, "family: expected a BivariateCopula subclass"),
    ({"family": "gaussian", "method": "moments"}, "method: expected one of"),
    ({"family": "gaussian", "rotation": 90}, "rotation: gaussian copula supports rotations"),
    ({"family": "clayton", "rotation": 45}, "rotation: clayton copula supports rotations"),
])
def test_fit_copula_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_copula(_GOOD, **kwargs)
