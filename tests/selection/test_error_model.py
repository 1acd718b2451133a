"""CorrelatedErrorModel: tetrachoric recovery, PSD repair, simulation, validation, real data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import llmcopula
from llmcopula.copulas import GaussianCopula
from llmcopula.selection._tetrachoric import solve_tetrachoric
from llmcopula.selection.error_model import CorrelatedErrorModel
from llmcopula.selection.floors import bayes_error, majority_vote_error


def _latent_errors(n: int, rates: np.ndarray, corr: np.ndarray, seed: int) -> np.ndarray:
    """Errors drawn with numpy's own multivariate normal: independent of the model's simulator."""
    z = np.random.default_rng(seed).multivariate_normal(
        np.zeros(len(rates)), corr, size=n, method="cholesky"
    )
    return (z < special.ndtri(rates)).astype(np.int8)


RATES = np.array([0.1, 0.2, 0.3, 0.45])
CORR = np.array(
    [
        [1.0, 0.8, 0.4, 0.2],
        [0.8, 1.0, 0.4, 0.3],
        [0.4, 0.4, 1.0, -0.2],
        [0.2, 0.3, -0.2, 1.0],
    ]
)


def test_tetrachoric_fit_recovers_known_correlations_within_four_standard_errors():
    errors = _latent_errors(20_000, RATES, CORR, seed=11)
    model = CorrelatedErrorModel().fit_errors(errors)
    i, j = np.triu_indices(4, k=1)
    z = (model.tetrachoric_[i, j] - CORR[i, j]) / model.tetrachoric_se_[i, j]
    # 6 pairs at 4 asymptotic SE: a false alarm has probability < 6 · 6.3e-5.
    assert np.abs(z).max() < 4, z
    # rates: binomial SE sqrt(p(1-p)/n)
    se_rates = np.sqrt(RATES * (1 - RATES) / 20_000)
    assert (np.abs(model.error_rates_ - RATES) < 4 * se_rates).all()
    assert model.corr_ == pytest.approx(
        model.tetrachoric_, abs=1e-6
    )  # already PSD: repair is a no-op
    assert model.rho_equi_ == pytest.approx(model.corr_[i, j].mean())
    assert model.thresholds_ == pytest.approx(special.ndtri(model.error_rates_))


def test_asymptotic_standard_error_matches_the_spread_over_replicates():
    """Over 200 replicates the SD of r̂ estimates the true sampling SD with a relative SE of
    1/√(2·199) = 5%, so the mean asymptotic SE must agree with it within 15% (3 SE)."""
    corr = np.array([[1.0, 0.5], [0.5, 1.0]])
    rates = np.array([0.15, 0.3])
    big = _latent_errors(200 * 1500, rates, corr, seed=5).reshape(200, 1500, 2)
    fits = [CorrelatedErrorModel().fit_errors(block) for block in big]
    r = np.array([f.tetrachoric_[0, 1] for f in fits])
    se = np.array([f.tetrachoric_se_[0, 1] for f in fits])
    assert se.mean() == pytest.approx(r.std(ddof=1), rel=0.15)
    assert abs(r.mean() - 0.5) < 4 * r.std(ddof=1) / np.sqrt(200)


def test_tetrachoric_solves_the_bivariate_normal_equation():
    errors = _latent_errors(5_000, RATES, CORR, seed=2)
    model = CorrelatedErrorModel().fit_errors(errors)
    i, j = np.triu_indices(4, k=1)
    # no table has an empty cell here, so the pair margins are the model error rates.
    fitted = stats.multivariate_normal  # oracle: scipy's (Genz) bivariate normal CDF
    for a, b in zip(i, j):
        cov = [[1, model.tetrachoric_[a, b]], [model.tetrachoric_[a, b], 1]]
        p11 = fitted.cdf([model.thresholds_[a], model.thresholds_[b]], cov=cov, abseps=1e-10)
        assert p11 == pytest.approx(model.co_error_rates_[a, b], abs=1e-6)


@settings(max_examples=40)
@given(u1=st.floats(0.02, 0.98), u2=st.floats(0.02, 0.98), r=st.floats(-0.99, 0.99))
def test_tetrachoric_solver_inverts_the_bivariate_normal_cdf(u1, u2, r):
    h, k = special.ndtri(np.array([u1])), special.ndtri(np.array([u2]))
    p11 = GaussianCopula(r).cdf([u1, u2])
    root = solve_tetrachoric(h, k, np.array([p11]))
    assert GaussianCopula(root[0]).cdf([u1, u2]) == pytest.approx(p11, abs=1e-13)
    # r itself is determined to (residual)/φ₂, i.e. well wherever the density is not tiny
    density = stats.multivariate_normal.pdf([h[0], k[0]], cov=[[1, r], [r, 1]])
    if density > 1e-3:
        assert root[0] == pytest.approx(r, abs=1e-8)


def test_repaired_correlation_is_valid_when_pairwise_estimates_are_not_jointly_psd():
    # model 1 errs with 0 and with 2, but 0 and 2 almost never err together.
    rows = [(1, 1, 0)] * 6 + [(0, 1, 1)] * 6 + [(0, 0, 0)] * 20 + [(1, 0, 0), (0, 0, 1), (0, 1, 0)]
    model = CorrelatedErrorModel().fit_errors(np.array(rows))
    assert np.linalg.eigvalsh(model.tetrachoric_).min() < -0.1  # the fixture is not PSD
    corr = model.corr_
    assert np.allclose(corr, corr.T)
    assert np.allclose(np.diag(corr), 1.0)
    assert np.linalg.eigvalsh(corr).min() > 1e-8 - 1e-10
    assert (np.abs(corr) <= 1 + 1e-12).all()
    assert model.simulate(10, rng=0).errors.shape == (10, 3)  # usable by the simulator


def test_empty_cell_gets_a_continuity_correction_and_a_finite_estimate():
    # models 0 and 1 are never wrong together: the raw estimate would be r = -1.
    rows = [(1, 0)] * 30 + [(0, 1)] * 30 + [(0, 0)] * 140
    model = CorrelatedErrorModel().fit_errors(np.array(rows))
    r = model.tetrachoric_[0, 1]
    assert -1 < r < -0.5
    smaller = (
        CorrelatedErrorModel(continuity_correction=0.01)
        .fit_errors(np.array(rows))
        .tetrachoric_[0, 1]
    )
    assert -1 < smaller < r  # a smaller correction moves the estimate toward the r = -1 limit


def test_model_never_wrong_warns_and_gets_a_finite_threshold():
    errors = _latent_errors(500, RATES, CORR, seed=3)
    errors[:, 2] = 0
    with pytest.warns(UserWarning, match=r"\[2\] never wrong"):
        model = CorrelatedErrorModel().fit_errors(errors)
    assert model.error_rates_[2] == pytest.approx(0.5 / 501)
    assert np.isfinite(model.thresholds_).all()
    assert np.isfinite(model.corr_).all()


def test_fit_from_multiclass_predictions_equals_fit_from_errors():
    rng = np.random.default_rng(4)
    labels = rng.choice(np.array(["A", "B", "C", "D"]), size=800)
    preds = np.where(
        rng.random((800, 3)) < 0.7, labels[:, None], rng.choice(["A", "B", "C", "D", ""], (800, 3))
    )
    from_preds = CorrelatedErrorModel().fit(preds, labels)
    from_errors = CorrelatedErrorModel.from_errors(preds != labels[:, None])
    assert np.array_equal(from_preds.corr_, from_errors.corr_)
    assert np.array_equal(from_preds.error_rates_, from_errors.error_rates_)
    assert from_preds.classes_.tolist() == ["A", "B", "C", "D"]
    assert from_preds.class_prior_.sum() == pytest.approx(1.0)
    assert from_errors.classes_ is None


def test_simulated_binary_predictions_are_label_xor_error_with_the_model_rates():
    model = CorrelatedErrorModel.from_parameters(RATES, CORR)
    sim = model.simulate(40_000, rng=7, prior=0.3)
    assert np.array_equal(sim.predictions, sim.labels[:, None] ^ sim.errors)
    se = np.sqrt(RATES * (1 - RATES) / 40_000)
    assert (np.abs(sim.errors.mean(axis=0) - RATES) < 4 * se).all()
    assert abs(sim.labels.mean() - 0.3) < 4 * np.sqrt(0.21 / 40_000)
    refit = CorrelatedErrorModel().fit_errors(sim.errors)
    i, j = np.triu_indices(4, k=1)
    assert (np.abs(refit.tetrachoric_[i, j] - CORR[i, j]) < 4 * refit.tetrachoric_se_[i, j]).all()


def test_simulated_wrong_multiclass_answers_are_uniform_over_the_other_classes():
    rng = np.random.default_rng(8)
    labels = rng.choice(np.array(["A", "B", "C"]), size=300)
    preds = np.where(rng.random((300, 2)) < 0.6, labels[:, None], "X")
    model = CorrelatedErrorModel().fit(preds, labels)
    sim = model.simulate(30_000, rng=9, labels=np.full(30_000, "A"))
    wrong = sim.predictions[sim.errors == 1]
    assert "A" not in set(wrong) and "X" not in set(wrong)
    counts = np.array([(wrong == c).sum() for c in ("B", "C")])
    assert stats.chisquare(counts).pvalue > 1e-4
    assert ((sim.predictions == "A") == (sim.errors == 0)).all()


def test_simulated_majority_vote_matches_the_quadrature_within_four_standard_errors():
    for n_models, n_rows in [(7, 100_000), (501, 5_000)]:
        corr = np.full((n_models, n_models), 0.3) + 0.7 * np.eye(n_models)
        model = CorrelatedErrorModel.from_parameters(np.full(n_models, 0.2), corr)
        errors = model.simulate(n_rows, rng=n_models).errors
        observed = (errors.sum(axis=1) > n_models / 2).mean()
        expected = majority_vote_error(n_models, 0.2, 0.3)
        se = np.sqrt(expected * (1 - expected) / n_rows)
        assert abs(observed - expected) < 4 * se, (n_models, observed, expected)


def test_class_conditional_fit_recovers_per_class_parameters():
    corr0 = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, 0.2], [0.2, 0.2, 1.0]])
    corr1 = np.array([[1.0, 0.1, 0.5], [0.1, 1.0, 0.5], [0.5, 0.5, 1.0]])
    rates0, rates1 = np.array([0.1, 0.2, 0.3]), np.array([0.35, 0.25, 0.15])
    e0 = _latent_errors(15_000, rates0, corr0, seed=20)
    e1 = _latent_errors(10_000, rates1, corr1, seed=21)
    labels = np.r_[np.zeros(15_000, int), np.ones(10_000, int)]
    preds = labels[:, None] ^ np.vstack([e0, e1])
    model = CorrelatedErrorModel(class_conditional=True).fit(preds, labels)
    se0 = np.sqrt(rates0 * (1 - rates0) / 15_000)
    assert (np.abs(model.error_rates_by_class_[0] - rates0) < 4 * se0).all()
    i, j = np.triu_indices(3, k=1)
    fit1 = CorrelatedErrorModel().fit_errors(e1)
    assert np.array_equal(model.corr_by_class_[1], fit1.corr_)
    assert (
        np.abs(model.corr_by_class_[1][i, j] - corr1[i, j]) < 4 * fit1.tetrachoric_se_[i, j]
    ).all()
    # the simulator draws each class from its own parameters
    sim = model.simulate(40_000, rng=3, labels=np.ones(40_000, int))
    se1 = np.sqrt(rates1 * (1 - rates1) / 40_000) + np.sqrt(rates1 * (1 - rates1) / 10_000)
    assert (np.abs(sim.errors.mean(axis=0) - rates1) < 4 * se1).all()


def test_bayes_error_of_a_subset_uses_the_fitted_parameters():
    model = CorrelatedErrorModel.from_parameters(RATES, CORR)
    sub = [0, 2, 3]
    expected = bayes_error(RATES[sub], CORR[np.ix_(sub, sub)], prior=0.4, rng=0)
    assert model.bayes_error(sub, prior=0.4, rng=0) == pytest.approx(expected, abs=1e-12)
    # one model alone: its own error rate (balanced prior)
    assert model.bayes_error([1]) == pytest.approx(RATES[1], abs=1e-6)
    with pytest.raises(ValueError, match="^models:"):
        model.bayes_error([0, 0])


def test_get_params_and_repr_follow_scikit_learn():
    model = CorrelatedErrorModel(class_conditional=True, continuity_correction=0.25)
    assert model.get_params() == {"class_conditional": True, "continuity_correction": 0.25}
    assert model.set_params(continuity_correction=1.0).continuity_correction == 1.0
    assert "class_conditional=True" in repr(model)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: CorrelatedErrorModel().fit_errors(np.array([[0, 1], [1, np.nan]])), "errors"),
        (lambda: CorrelatedErrorModel().fit_errors(np.array([[0], [1]])), "errors"),
        (lambda: CorrelatedErrorModel().fit_errors(np.array([[0, 2], [1, 0]])), "errors"),
        (lambda: CorrelatedErrorModel().fit_errors(np.zeros(5)), "errors"),
        (lambda: CorrelatedErrorModel().fit_errors(np.zeros((1, 3))), "errors"),
        (
            lambda: CorrelatedErrorModel().fit(
                np.array([["A", None], ["B", "C"]], dtype=object), ["A", "B"]
            ),
            "predictions",
        ),
        (lambda: CorrelatedErrorModel().fit(np.array([["A", "B"], ["B", "C"]]), ["A"]), "labels"),
        (
            lambda: CorrelatedErrorModel().fit(np.array([[1.0, 0.0], [1.0, 0.0]]), [np.nan, 1.0]),
            "labels",
        ),
        (
            lambda: CorrelatedErrorModel(continuity_correction=0).fit_errors(np.eye(3)),
            "continuity_correction",
        ),
        (
            lambda: CorrelatedErrorModel(class_conditional=True).fit_errors(np.eye(3)),
            "class_conditional",
        ),
        (
            lambda: CorrelatedErrorModel(class_conditional=True).fit(
                np.array([[0, 1], [1, 1], [1, 0]]), [0, 0, 1]
            ),
            "labels",
        ),
        (lambda: CorrelatedErrorModel().simulate(5), "model"),
        (
            lambda: CorrelatedErrorModel.from_parameters(RATES, CORR).simulate(3, labels=[0, 1, 2]),
            "labels",
        ),
        (lambda: CorrelatedErrorModel.from_parameters(RATES, CORR).simulate(3, prior=1.5), "prior"),
        (lambda: CorrelatedErrorModel.from_parameters(RATES, CORR).simulate(0), "n"),
        (lambda: CorrelatedErrorModel.from_parameters([0.2, 1.0], np.eye(2)), "error_rates"),
        (lambda: CorrelatedErrorModel.from_parameters([0.2, 0.3], [[1, 2], [2, 1]]), "corr"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(call, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=rf"^{name}:"):
            call()


def _mmlu_test_errors() -> tuple[np.ndarray, list[str]]:
    data = Path(llmcopula.__file__).parent / "datasets" / "data" / "cascades"
    frames = [
        pd.read_csv(data / f"mmlu__{chain}__test.csv.gz", keep_default_na=False)
        for chain in ("llama", "qwen_oai")
    ]
    wide = pd.concat(frames).pivot(index="query_id", columns="model", values="correct")
    return 1 - wide.to_numpy(), list(wide.columns)


def test_fit_on_shipped_mmlu_data_reproduces_the_readme_accuracies():
    errors, models = _mmlu_test_errors()
    assert errors.shape == (1531, 9)
    model = CorrelatedErrorModel().fit_errors(errors)
    readme_accuracy = {
        "llama3.1-405b": 0.852,
        "gpt-4o": 0.836,
        "llama3.2-1b": 0.425,
        "qwen2.5-72b-instruct": 0.820,
    }
    for name, acc in readme_accuracy.items():
        assert 1 - model.error_rates_[models.index(name)] == pytest.approx(acc, abs=5e-4)
    assert np.linalg.eigvalsh(model.corr_).min() > -1e-10
    assert 0 < model.rho_equi_ < 1


def test_error_model_is_a_base_estimator_and_unfitted_use_raises_not_fitted_error():
    from llmcopula._estimator import BaseEstimator, clone
    from llmcopula._validation import NotFittedError

    model = CorrelatedErrorModel(continuity_correction=0.25)
    assert isinstance(model, BaseEstimator)
    assert repr(model) == "CorrelatedErrorModel(continuity_correction=0.25)"
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError, match="model: not fitted yet; call fit or fit_errors"):
        model.simulate(3)
    with pytest.raises(NotFittedError):
        model.bayes_error()


def test_positional_rng_in_simulate_is_deprecated_but_gives_the_same_draws():
    model = CorrelatedErrorModel.from_parameters(RATES, CORR)
    with pytest.warns(DeprecationWarning, match="rng as a keyword"):
        old = model.simulate(50, 3)
    new = model.simulate(50, rng=3)
    assert np.array_equal(old.errors, new.errors) and np.array_equal(old.labels, new.labels)
    with pytest.raises(TypeError):
        model.simulate(50, 3, rng=3)
