"""The interval-censored pair-copula fit (margins with atoms) against independent computations:
fit_copula on point data, closed forms under independence, and quadrature of the density."""

import numpy as np
import pytest
from scipy import integrate

from llmcopula.copulas import (
    AUTO_FAMILIES,
    FAMILY_NAMES,
    GumbelCopula,
    IndependenceCopula,
    UniformIntervals,
    fit_copula,
    fit_pair_copula,
    list_families,
    pseudo_observations,
)
from llmcopula.copulas.interval_censored import _mixed_loglik


def _points(u):
    return UniformIntervals(lo=u.copy(), hi=u.copy())


@pytest.mark.parametrize("family", ["gaussian", "clayton", "gumbel", "frank", "student"])
def test_without_atoms_it_is_the_ordinary_maximum_likelihood_fit(family):
    u = pseudo_observations(GumbelCopula(1.8).sample(400, rng=3))
    ours = fit_pair_copula(_points(u[:, 0]), _points(u[:, 1]), family=family)
    ref = fit_copula(u, family, rotation=0)
    # Same likelihood, different optimisers: the maxima agree to the optimisers' tolerance.
    assert ours.loglik == pytest.approx(ref.loglik, abs=2e-3)
    assert ours.loglik >= ref.loglik - 2e-3
    assert ours.n == 400 and ours.copula.family == family


def test_under_independence_the_likelihood_is_the_product_of_interval_widths():
    rng = np.random.default_rng(0)
    hi_a, hi_b = rng.uniform(0.2, 1, 50), rng.uniform(0.2, 1, 50)
    width_a = np.where(rng.uniform(size=50) < 0.4, rng.uniform(0, 0.2, 50), 0.0)
    width_b = np.where(rng.uniform(size=50) < 0.4, rng.uniform(0, 0.2, 50), 0.0)
    a = UniformIntervals(lo=hi_a - width_a, hi=hi_a)
    b = UniformIntervals(lo=hi_b - width_b, hi=hi_b)
    expected = np.sum(np.log(np.where(width_a > 0, width_a, 1.0))) + np.sum(
        np.log(np.where(width_b > 0, width_b, 1.0)))
    assert _mixed_loglik(IndependenceCopula(), a, b) == pytest.approx(expected, rel=1e-12)


def test_one_atom_contributes_the_density_integrated_over_its_interval():
    cop = GumbelCopula(2.5)
    lo, hi, u2 = 0.55, 0.8, 0.3
    for atom_first in (True, False):
        if atom_first:
            a, b = UniformIntervals(np.array([lo]), np.array([hi])), _points(np.array([u2]))
            quad = integrate.quad(lambda x: float(cop.pdf([x, u2])), lo, hi, epsabs=1e-13)[0]
        else:
            a, b = _points(np.array([u2])), UniformIntervals(np.array([lo]), np.array([hi]))
            quad = integrate.quad(lambda y: float(cop.pdf([u2, y])), lo, hi, epsabs=1e-13)[0]
        assert _mixed_loglik(cop, a, b) == pytest.approx(np.log(quad), rel=1e-9)


def test_two_atoms_contribute_the_copula_volume_of_their_rectangle():
    cop = GumbelCopula(1.7)
    a = UniformIntervals(np.array([0.2]), np.array([0.5]))
    b = UniformIntervals(np.array([0.6]), np.array([0.9]))
    quad = integrate.dblquad(lambda y, x: float(cop.pdf([x, y])), 0.2, 0.5, 0.6, 0.9,
                             epsabs=1e-12)[0]
    assert _mixed_loglik(cop, a, b) == pytest.approx(np.log(quad), rel=1e-7)


def test_auto_chooses_the_lowest_aic_among_every_family_and_rotation():
    covered = {(f.name, r) for f in list_families() for r in f.rotations}
    assert set(AUTO_FAMILIES) == covered
    u = pseudo_observations(GumbelCopula(2.0, rotation=180).sample(300, rng=1))
    fit = fit_pair_copula(_points(u[:, 0]), _points(u[:, 1]), family="auto")
    aics = [aic for _, _, aic in fit.candidates]
    assert aics == sorted(aics) and fit.aic == aics[0]
    assert len(fit.candidates) == len(AUTO_FAMILIES)
    assert (fit.copula.family, fit.copula.rotation) == fit.candidates[0][:2]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_named_family_is_fitted_at_the_requested_rotation(rotation):
    u = pseudo_observations(GumbelCopula(2.0, rotation=rotation).sample(300, rng=2))
    ours = fit_pair_copula(_points(u[:, 0]), _points(u[:, 1]), family="gumbel", rotation=rotation)
    ref = fit_copula(u, "gumbel", rotation=rotation)
    assert ours.copula.rotation == rotation
    assert ours.loglik == pytest.approx(ref.loglik, abs=2e-3)


def test_bad_input_raises_naming_the_argument():
    p = _points(np.array([0.2, 0.4, 0.6]))
    with pytest.raises(ValueError, match="b: expected 3 observations"):
        fit_pair_copula(p, _points(np.array([0.1, 0.2])))
    with pytest.raises(ValueError, match="a: need at least 2 observations"):
        fit_pair_copula(_points(np.array([0.5])), _points(np.array([0.5])))
    with pytest.raises(ValueError, match="family: expected 'auto' or one of"):
        fit_pair_copula(p, p, family="nope")
    with pytest.raises(ValueError, match="rotation: the gaussian family supports"):
        fit_pair_copula(p, p, family="gaussian", rotation=90)
    with pytest.raises(ValueError, match="rotation: family='auto'"):
        fit_pair_copula(p, p, family="auto", rotation=180)
    assert "gumbel" in FAMILY_NAMES


def test_old_cascade_module_path_still_works_with_a_deprecation_warning():
    import importlib
    import sys

    sys.modules.pop("llmcopula.cascade.pair_copulas", None)
    with pytest.warns(DeprecationWarning, match="import from llmcopula.copulas"):
        old = importlib.import_module("llmcopula.cascade.pair_copulas")
    assert old.fit_pair_copula is fit_pair_copula
