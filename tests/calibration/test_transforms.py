"""Tests for the confidence transforms (one-sided / two-sided asymptotic log, identity)."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcopula.calibration.transforms import (
    IdentityTransform,
    OneSidedLogTransform,
    TwoSidedLogTransform,
    get_transform,
)

# Below about -708, one-sided xi ~ exp(ell) is subnormal and loses digits by representation, so
# round trips are checked on [-700, 0].
logprobs = st.floats(min_value=-700.0, max_value=0.0, allow_nan=False)


def _one_sided_ref(ell: float) -> float:
    """-log(1 - exp(ell)) at 50 digits (mpmath's expm1 keeps tiny |ell| exact)."""
    mpmath.mp.dps = 50
    return float(-mpmath.log(-mpmath.expm1(mpmath.mpf(ell))))


@pytest.mark.parametrize("ell", [-1e-300, -1e-20, -1e-9, -1e-5, -0.3, -np.log(2), -1.0, -10.0,
                                 -40.0, -700.0])
def test_one_sided_matches_50_digit_reference_across_the_whole_range(ell):
    got = OneSidedLogTransform().forward(np.array([ell]))[0]
    assert got == pytest.approx(_one_sided_ref(ell), rel=1e-14)


def test_one_sided_end_points_and_asymptotes():
    t = OneSidedLogTransform()
    out = t.forward([0.0, -np.inf])
    assert out[0] == np.inf and out[1] == 0.0
    # xi ~ -log(-ell) as ell -> 0 and xi ~ exp(ell) as ell -> -inf
    assert t.forward([-1e-12])[0] == pytest.approx(-np.log(1e-12), rel=1e-11)
    assert t.forward([-50.0])[0] == pytest.approx(np.exp(-50.0), rel=1e-14)


@pytest.mark.parametrize("p", [1e-300, 1e-10, 0.1, 0.4999, 0.5, 0.5001, 0.9, 1 - 1e-12])
def test_two_sided_matches_its_definition(p):
    mpmath.mp.dps = 50
    mp = mpmath.mpf(p)
    ref = mpmath.log(2 * mp) if mp < 0.5 else -mpmath.log(2 * (1 - mp))
    ell = float(mpmath.log(mp))
    assert TwoSidedLogTransform().forward([ell])[0] == pytest.approx(float(ref), rel=1e-12,
                                                                     abs=1e-15)


def test_two_sided_is_odd_symmetric_about_one_half_and_continuous_there():
    t = TwoSidedLogTransform()
    p = np.array([0.01, 0.2, 0.4, 0.49])
    np.testing.assert_allclose(t.forward(np.log(p)), -t.forward(np.log1p(-p)), rtol=1e-12)
    below, above = t.forward([np.nextafter(-np.log(2), -np.inf), -np.log(2)])
    assert abs(above - below) < 1e-15
    assert list(t.forward([-np.inf, 0.0])) == [-np.inf, np.inf]


@pytest.mark.parametrize("transform", [OneSidedLogTransform(), TwoSidedLogTransform()])
@given(ell=logprobs)
def test_inverse_inverts_forward(transform, ell):
    back = transform.inverse(transform.forward(np.array([ell])))[0]
    assert back == pytest.approx(ell, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("transform", [OneSidedLogTransform(), TwoSidedLogTransform()])
@given(a=logprobs, b=logprobs)
def test_transforms_are_monotone_increasing(transform, a, b):
    lo, hi = min(a, b), max(a, b)
    f = transform.forward(np.array([lo, hi]))
    assert f[0] <= f[1]


@pytest.mark.parametrize("transform", [OneSidedLogTransform(), TwoSidedLogTransform()])
def test_inverse_maps_the_infinite_end_points_back(transform):
    lo, hi = transform.forward(np.array([-np.inf, 0.0]))
    assert list(transform.inverse(np.array([lo, hi]))) == [-np.inf, 0.0]


def test_identity_round_trips_and_accepts_any_real():
    t = IdentityTransform()
    x = np.array([-np.inf, -3.0, 0.0, 2.5, np.inf])
    np.testing.assert_array_equal(t.inverse(t.forward(x)), x)


@pytest.mark.parametrize("transform", [OneSidedLogTransform(), TwoSidedLogTransform()])
def test_positive_log_probability_raises(transform):
    with pytest.raises(ValueError, match="^raw: .*<= 0"):
        transform.forward([-0.1, 1e-9])


@pytest.mark.parametrize("transform", [OneSidedLogTransform(), TwoSidedLogTransform(),
                                       IdentityTransform()])
def test_nan_raises(transform):
    with pytest.raises(ValueError, match="^raw: .*NaN"):
        transform.forward([np.nan])
    with pytest.raises(ValueError, match="^xi: .*NaN"):
        transform.inverse([np.nan])


def test_one_sided_inverse_rejects_negative_xi():
    with pytest.raises(ValueError, match="^xi: "):
        OneSidedLogTransform().inverse([-0.5])


def test_get_transform_auto_picks_by_signal_and_rejects_unknown_signals():
    assert isinstance(get_transform("auto", signal="logprob"), OneSidedLogTransform)
    assert isinstance(get_transform("auto", signal="p_true"), TwoSidedLogTransform)
    assert isinstance(get_transform("identity"), IdentityTransform)
    t = TwoSidedLogTransform()
    assert get_transform(t) is t
    with pytest.raises(ValueError, match="^signal: "):
        get_transform("auto")
    with pytest.raises(ValueError, match="^signal: "):
        get_transform("auto", signal="verbalised")
    with pytest.raises(ValueError, match="^transform: "):
        get_transform("logit")
