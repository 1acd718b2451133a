"""predict_ensemble: the model's predictions for a chosen ensemble (llmcopula.selection.prediction)."""

from __future__ import annotations

import numpy as np
import pytest

from llmcopula._estimator import BaseEstimator
from llmcopula.selection import (
    CopulaBayesAggregator,
    CopulaInformation,
    MajorityVote,
    predict_ensemble,
)

CORR = np.full((3, 3), 0.4) + 0.6 * np.eye(3)


def _data(n=300, seed=0):
    truth = CopulaInformation.from_parameters([0.25, 0.3, 0.35], CORR, classes=list("ABCD"),
                                              prior=[0.25] * 4, kappa=0.6, rng=0)
    return truth, *truth.simulate(n, rng=seed)


def test_without_the_correction_the_point_values_are_the_fitted_models():
    _, X, y = _data()
    vote = MajorityVote(classes=list("ABCD")).fit(X, y)
    pred = predict_ensemble(X, y, vote, n_boot=5, correct_optimism=False, rng=3)
    model = CopulaInformation(rng=np.random.default_rng(3)).fit(X, y)
    assert pred.accuracy == pytest.approx(model.predicted_accuracy([0, 1, 2], vote), abs=1e-12)
    assert pred.bayes_error == pytest.approx(model.bayes_error([0, 1, 2]), abs=1e-12)
    assert pred.mi_bits == pytest.approx(model.mutual_information([0, 1, 2]), abs=1e-12)
    assert pred.test_interval is None and pred.n_boot == 5


class FirstModel(BaseEstimator):
    """A rule learned from nothing: the first model's answer."""

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def test_the_optimism_of_the_models_own_bayes_rule_is_removed_and_a_fixed_rule_keeps_its_value():
    # The copula Bayes rule is optimal for the model that judges it, so its plug-in accuracy is
    # optimistic and the correction lowers it. A rule that learns nothing has no optimism: its
    # correction is the mean bootstrap fluctuation of 1 - p_0, SE ~ 0.03 / sqrt(10) ~ 0.01.
    _, X, y = _data(n=200, seed=2)
    bayes = CopulaBayesAggregator(rng=0).fit(X, y)
    plain = predict_ensemble(X, y, bayes, n_boot=10, correct_optimism=False, rng=4)
    corrected = predict_ensemble(X, y, bayes, n_boot=10, rng=4)
    assert corrected.accuracy < plain.accuracy - 0.002
    assert plain.accuracy == pytest.approx(1 - plain.bayes_error, abs=1e-9)
    fixed = FirstModel().fit(X, y)
    a = predict_ensemble(X, y, fixed, n_boot=10, correct_optimism=False, rng=4).accuracy
    b = predict_ensemble(X, y, fixed, n_boot=10, rng=4).accuracy
    assert a == pytest.approx(np.mean(X[:, 0] == y), abs=1e-3)  # QMC marginal of 3 models
    assert abs(a - b) < 0.03


def test_the_test_interval_is_wider_than_the_parameter_interval():
    _, X, y = _data()
    vote = MajorityVote(classes=list("ABCD")).fit(X, y)
    pred = predict_ensemble(X, y, vote, n_test=200, n_boot=40, rng=0)
    lo, hi = pred.accuracy_interval
    tlo, thi = pred.test_interval
    assert lo <= pred.accuracy <= hi and thi - tlo > hi - lo
    assert pred.bayes_error_interval[0] <= pred.bayes_error <= pred.bayes_error_interval[1]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_boot": 0}, "n_boot"), ({"level": 1.0}, "level"), ({"n_test": 0}, "n_test")])
def test_bad_arguments_raise(kwargs, message):
    _, X, y = _data(n=50)
    vote = MajorityVote().fit(X, y)
    with pytest.raises(ValueError, match=message):
        predict_ensemble(X, y, vote, **kwargs)
    with pytest.raises(ValueError, match="X, y"):
        predict_ensemble(X[:, 0], y, vote)
