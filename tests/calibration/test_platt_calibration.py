"""Tests for Platt calibration and the expected calibration error."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from llmcopula.calibration import PlattCalibrator, expected_calibration_error

DATA = Path(__file__).parents[2] / "llmcopula" / "datasets" / "data" / "cascades"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv.gz", keep_default_na=False)


def _synthetic(n=400, seed=0):
    rng = np.random.default_rng(seed)
    raw = np.log(rng.uniform(0.25, 1.0, size=n))
    raw[:20] = 0.0  # ties at log-probability 0 (xi = +inf)
    correct = (rng.uniform(size=n) < np.exp(raw) ** 2).astype(int)
    return raw, correct


@pytest.mark.parametrize("transform", ["one-sided", "two-sided", "identity"])
def test_coefficients_match_statsmodels_logit(transform):
    raw, correct = _synthetic()
    if transform == "identity":
        raw = raw[raw > -np.inf]
    cal = PlattCalibrator(transform=transform).fit(raw, correct)
    xi = cal.clipped_signal(raw)
    ref = sm.Logit(correct, sm.add_constant(xi)).fit(disp=0, tol=1e-12, maxiter=100)
    np.testing.assert_allclose([cal.intercept_, cal.coef_], ref.params, rtol=1e-8)


def test_coefficients_match_statsmodels_on_every_real_model():
    for chain, transform in [("mmlu__qwen_oai__train", "one-sided"),
                             ("triviaqa__llama__train", "two-sided")]:
        for _, g in _read(chain).groupby("position"):
            raw, y = g["raw_confidence"].to_numpy(), g["correct"].to_numpy()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # some slopes are negative
                cal = PlattCalibrator(transform=transform).fit(raw, y)
            xi = cal.clipped_signal(raw)
            ref = sm.Logit(y, sm.add_constant(xi)).fit(disp=0, tol=1e-12, maxiter=200)
            np.testing.assert_allclose([cal.intercept_, cal.coef_], ref.params, rtol=1e-7)


def test_mean_training_confidence_equals_training_accuracy():
    raw, correct = _synthetic(seed=3)
    cal = PlattCalibrator().fit(raw, correct)
    assert cal.predict(raw).mean() == pytest.approx(correct.mean(), abs=1e-12)
    assert cal.accuracy_ == correct.mean()


def test_infinities_are_replaced_by_the_training_extremes():
    raw = np.array([-np.inf, -2.0, -1.0, -0.5, -0.1, 0.0, 0.0, -3.0])
    y = np.array([0, 0, 1, 0, 1, 1, 1, 0])
    cal = PlattCalibrator(transform="two-sided").fit(raw, y)
    xi = cal.transform_.forward(raw)
    finite = xi[np.isfinite(xi)]
    assert (cal.xi_min_, cal.xi_max_) == (finite.min(), finite.max())
    phi = cal.predict(raw)
    assert phi[0] == cal.predict([-3.0])[0]  # -inf -> smallest finite (raw -3)
    assert phi[5] == phi[6] == cal.predict([-0.1])[0]  # 0 -> largest finite (raw -0.1)


def test_prediction_is_monotone_beyond_the_training_range():
    raw, correct = _synthetic()
    cal = PlattCalibrator().fit(raw[20:], correct[20:])  # no raw == 0 in training
    grid = -np.logspace(-12, 1, 200)[::-1]
    phi = cal.predict(np.concatenate([[-np.inf], grid, [0.0]]))
    assert np.all(np.diff(phi) >= 0)
    assert np.all((phi > 0) & (phi < 1))


def test_raw_threshold_reproduces_the_decision_rule_on_every_query():
    raw, correct = _synthetic(seed=5)
    cal = PlattCalibrator().fit(raw, correct)
    phi_test = cal.predict(raw)
    # Thresholds between consecutive confidence values (at a value itself the rule is a tie,
    # decided by rounding on either scale), below and above all of them, and a grid.
    u = np.unique(phi_test)
    thresholds = np.concatenate([(u[1:] + u[:-1]) / 2, [u[0] / 2, (1 + u[-1]) / 2],
                                 np.linspace(0, 1, 41)])
    r = cal.raw_threshold(thresholds)
    accept_phi = phi_test[:, None] > thresholds[None, :]
    accept_raw = raw[:, None] > r[None, :]
    np.testing.assert_array_equal(accept_phi, accept_raw)


def test_raw_threshold_is_infinite_beyond_the_clipped_range():
    raw, correct = _synthetic()
    cal = PlattCalibrator().fit(raw, correct)
    lo, hi = cal.predict([-np.inf, 0.0])
    r = cal.raw_threshold([0.0, lo / 2, hi, (1 + hi) / 2, 1.0])
    assert list(r) == [-np.inf, -np.inf, np.inf, np.inf, np.inf]


def test_decreasing_calibration_warns_and_returns_the_flipped_rule():
    rng = np.random.default_rng(1)
    raw = np.log(rng.uniform(0.3, 1.0, size=300))
    correct = (rng.uniform(size=300) < 1.3 - np.exp(raw)).astype(int)
    with pytest.warns(UserWarning, match="slope"):
        cal = PlattCalibrator().fit(raw, correct)
    assert cal.coef_ < 0
    t = np.linspace(0.05, 0.95, 19)
    with pytest.warns(UserWarning, match="flipped"):
        r = cal.raw_threshold(t)
    np.testing.assert_array_equal(cal.predict(raw)[:, None] > t, raw[:, None] < r)


@pytest.mark.parametrize("label", [0, 1])
def test_equal_labels_fall_back_to_the_smoothed_rate(label):
    raw = np.log(np.linspace(0.3, 0.9, 10))
    with pytest.warns(UserWarning, match=r"name='m1'.*correct: all 10 training labels"):
        cal = PlattCalibrator(name="m1").fit(raw, np.full(10, label))
    expected = (10 * label + 0.5) / 11
    np.testing.assert_allclose(cal.predict(raw), expected, rtol=1e-12)
    assert cal.fallback_ == "constant-labels" and cal.coef_ == 0
    assert list(cal.raw_threshold([expected - 0.01, expected])) == [-np.inf, np.inf]


def test_constant_signal_falls_back_to_the_smoothed_rate():
    with pytest.warns(UserWarning, match="raw: the transformed training signal"):
        cal = PlattCalibrator().fit(np.zeros(6), [1, 1, 0, 1, 0, 1])
    np.testing.assert_allclose(cal.predict([0.0, -1.0]), 4.5 / 7)
    assert cal.fallback_ == "constant-signal"


def test_perfect_separation_uses_the_ridge_penalty_with_a_warning():
    raw = np.log(np.array([0.3, 0.35, 0.4, 0.45, 0.6, 0.7, 0.8, 0.9]))
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    with pytest.warns(UserWarning, match="separates"):
        cal = PlattCalibrator().fit(raw, y)
    assert cal.fallback_ == "separation" and cal.converged_
    assert np.isfinite(cal.coef_) and cal.coef_ > 0
    phi = cal.predict(raw)
    assert phi.mean() == pytest.approx(y.mean(), abs=1e-10)  # intercept is not penalised
    assert np.all(phi[y == 1] > 0.5) and np.all(phi[y == 0] < 0.5)


def test_bad_inputs_raise_with_the_argument_name():
    cal = PlattCalibrator()
    with pytest.raises(ValueError, match="^raw: .*NaN"):
        cal.fit([np.nan, -1.0], [0, 1])
    with pytest.raises(ValueError, match="^raw: .*<= 0"):
        cal.fit([0.5, -1.0], [0, 1])
    with pytest.raises(ValueError, match="^correct: expected 2"):
        cal.fit([-0.5, -1.0], [0, 1, 1])
    with pytest.raises(ValueError, match="^correct: labels must be 0/1"):
        cal.fit([-0.5, -1.0], [0, 2])
    with pytest.raises(ValueError, match="^raw: .*empty"):
        cal.fit([], [])
    with pytest.raises(ValueError, match="not fitted"):
        cal.predict([-1.0])
    with pytest.raises(ValueError, match="^signal: "):
        PlattCalibrator(transform="auto").fit([-0.5, -1.0], [0, 1])
    fitted = PlattCalibrator().fit(*_synthetic())
    with pytest.raises(ValueError, match="^phi: "):
        fitted.raw_threshold([1.5])


def test_ece_matches_a_hand_computed_value_for_both_strategies():
    prob = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.95])
    correct = np.array([0, 1, 0, 1, 1, 1])
    # uniform, 2 bins: [0, .5] -> mean .2, acc 1/3; (.5, 1] -> mean .8167, acc 1
    ece = expected_calibration_error(prob, correct, n_bins=2, strategy="uniform")
    assert ece == pytest.approx(0.5 * abs(0.2 - 1 / 3) + 0.5 * abs(2.45 / 3 - 1), rel=1e-12)
    ece_q, bins = expected_calibration_error(prob, correct, n_bins=3, return_bins=True)
    assert bins.count.tolist() == [2, 2, 2]
    manual = np.mean([abs(0.15 - 0.5), abs(0.5 - 0.5), abs(0.875 - 1.0)])
    assert ece_q == pytest.approx(manual, rel=1e-12)


def test_ece_of_a_perfectly_calibrated_sample_is_within_its_sampling_error():
    rng = np.random.default_rng(7)
    p = rng.uniform(size=20000)
    y = rng.uniform(size=p.size) < p
    # Each of 10 bins holds 2000 points: |mean error| has sd <= 0.5/sqrt(2000) = 0.011, so the
    # weighted mean of |errors| is below 4 * 0.011 with overwhelming probability.
    assert expected_calibration_error(p, y) < 4 * 0.5 / np.sqrt(2000)


def test_ece_rejects_bad_input():
    with pytest.raises(ValueError, match="^prob: "):
        expected_calibration_error([0.5, 1.2], [0, 1])
    with pytest.raises(ValueError, match="^correct: "):
        expected_calibration_error([0.5, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match="^strategy: "):
        expected_calibration_error([0.5, 0.2], [0, 1], strategy="kde")
    with pytest.raises(ValueError, match="^n_bins: "):
        expected_calibration_error([0.5, 0.2], [0, 1], n_bins=0)
