"""MultiSignalCalibrator: the penalised fit against statsmodels and scipy, the penalty chosen by
its own cross-validation, honest out-of-fold predictions, degenerate labels, bad input."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize

from llmcopula.calibration import MultiSignalCalibrator


def _data(n=600, seed=0, coef=(1.5, -0.8, 0.0)):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(coef))) * [1.0, 3.0, 0.5] + [0.0, 2.0, -1.0]
    eta = 0.3 + x @ np.asarray(coef)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return x, y


def _augmented(x, y):
    """The data with the calibrator's two pseudo-observations (weight 1/2 each at the means)."""
    mean = x.mean(axis=0)
    xa = np.vstack([x, mean, mean])
    ya = np.concatenate([y, [1.0, 0.0]])
    wa = np.concatenate([np.ones(len(y)), [0.5, 0.5]])
    return xa, ya, wa


def test_unpenalised_fit_equals_statsmodels_glm_with_the_pseudo_observations():
    x, y = _data()
    cal = MultiSignalCalibrator(penalties=[1e-10], cross_fit=False).fit(x, y)
    xa, ya, wa = _augmented(x, y)
    ref = sm.GLM(ya, sm.add_constant(xa), family=sm.families.Binomial(),
                 var_weights=wa).fit(tol=1e-12)
    np.testing.assert_allclose(cal.coef_, ref.params[1:], rtol=1e-6, atol=1e-8)
    assert cal.intercept_ == pytest.approx(ref.params[0], rel=1e-6, abs=1e-8)


def test_ridge_fit_minimises_the_scale_free_penalised_objective():
    x, y = _data(n=300, seed=1)
    lam = 25.0
    cal = MultiSignalCalibrator(penalties=[lam], cross_fit=False).fit(x, y)
    xa, ya, wa = _augmented(x, y)
    sd = x.std(axis=0)

    def objective(theta):
        eta = theta[0] + xa @ theta[1:]
        return -np.sum(wa * (ya * eta - np.logaddexp(0, eta))) + 0.5 * lam * np.sum(
            (theta[1:] * sd) ** 2)

    ref = optimize.minimize(objective, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(np.r_[cal.intercept_, cal.coef_], ref.x, rtol=1e-5, atol=1e-7)
    # shrinkage: the penalised slopes are smaller than the unpenalised ones
    free = MultiSignalCalibrator(penalties=[1e-10], cross_fit=False).fit(x, y)
    assert np.all(np.abs(cal.coef_ * sd) < np.abs(free.coef_ * sd) + 1e-12)


def test_chosen_penalty_minimises_the_cross_validated_loss():
    x, y = _data(n=200, seed=2)
    cal = MultiSignalCalibrator(rng=0).fit(x, y)
    assert cal.penalty_ == cal.penalties_[np.argmin(cal.cv_loss_)]
    assert np.all(np.diff(cal.penalties_) < 0)  # strongest first: ties go to the stronger


def test_noise_features_get_a_stronger_penalty_than_signal_features():
    x, y = _data(n=400, seed=3)
    rng = np.random.default_rng(3)
    noise = MultiSignalCalibrator(rng=0).fit(rng.normal(size=(400, 8)), y)
    signal = MultiSignalCalibrator(rng=0).fit(x, y)
    assert noise.penalty_ > signal.penalty_


def test_out_of_fold_predictions_are_honest():
    # Pure noise: in-sample log-odds fit the labels, out-of-fold ones do not.
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 10))
    y = (rng.random(300) < 0.5).astype(float)
    cal = MultiSignalCalibrator(penalties=[1e-6], rng=0).fit(x, y)

    def auc(score):
        order = np.argsort(score)
        ranks = np.empty(300)
        ranks[order] = np.arange(1, 301)
        n1 = y.sum()
        return (ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (300 - n1))

    se = np.sqrt(1 / 12 * (1 / y.sum() + 1 / (300 - y.sum())))  # AUC SE under no signal
    assert auc(cal.decision_function(x)) > 0.5 + 3 * se
    assert abs(auc(cal.oof_decision_) - 0.5) < 3 * se
    assert cal.fold_coef_.shape == (5, 10) and cal.fold_intercept_.shape == (5,)


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_equal_labels_give_the_half_count_rate(label):
    x, _ = _data(n=20, seed=5)
    cal = MultiSignalCalibrator(rng=0).fit(x, np.full(20, label))
    k = 20 * label
    np.testing.assert_allclose(cal.predict(x), (k + 0.5) / 21, rtol=1e-8)
    np.testing.assert_allclose(cal.coef_, 0.0, atol=1e-12)
    assert np.isfinite(cal.oof_decision_).all()


def test_tiny_training_sets_still_fit():
    x, y = _data(n=10, seed=6)
    for n in (2, 3, 10):
        cal = MultiSignalCalibrator(rng=0).fit(x[:n], y[:n])
        assert np.isfinite(cal.oof_decision_).all() and np.isfinite(cal.coef_).all()


@pytest.mark.parametrize("x, y, match", [
    (np.zeros(5), np.zeros(5), "x: expected a 2-d"),
    (np.zeros((1, 2)), np.zeros(1), "at least 2"),
    (np.array([[0.0], [np.nan]]), np.zeros(2), "NaN"),
    (np.zeros((3, 1)), np.zeros(2), "y: expected shape"),
    (np.zeros((3, 1)), np.array([0, 1, 2]), "0/1"),
])
def test_bad_input_is_rejected(x, y, match):
    with pytest.raises(ValueError, match=match):
        MultiSignalCalibrator().fit(x, y)


def test_bad_options_are_rejected():
    x, y = _data(n=30)
    with pytest.raises(ValueError, match="penalties"):
        MultiSignalCalibrator(penalties=[0.0]).fit(x, y)
    with pytest.raises(ValueError, match="n_folds"):
        MultiSignalCalibrator(n_folds=1).fit(x, y)
    with pytest.raises(ValueError, match="x: expected shape"):
        MultiSignalCalibrator(rng=0).fit(x, y).predict(np.zeros((2, 5)))
