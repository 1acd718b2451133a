"""The calibrated-chain-model contract: the abstract base, the dataclass the objective returns,
and a third model written only against the base class, which the tuner must accept as it is."""

import numpy as np
import pytest

from llmcopula.cascade import (
    CalibratedChainModel,
    CascadeEvaluation,
    CascadePrediction,
    EmpiricalCopulaModel,
    EmpiricalMarginal,
    MarginalDistribution,
    MarkovCopulaModel,
    tune,
)
from llmcopula.cascade.cascades import check_cascade, check_thresholds
from llmcopula.datasets import ChainLog, load_benchmark


class IndependentStagesModel(CalibratedChainModel):
    """Stages defer independently: P(all of 1..j−1 defer, j answers) = Π s_l (1 − s_j). Its
    accuracy uses E[Φ_j | U_j > s_j] from the empirical marginal (by quadrature of F⁻¹)."""

    method_name = "independent"

    def __init__(self, *, transform="auto"):
        self.transform = transform

    def _fit_joint(self, log, confidence):
        self.marginals_ = [EmpiricalMarginal().fit(confidence[:, m]) for m in range(log.n_models)]

    def _upper_mean(self, m, s):
        grid = np.linspace(0, 1, 2001)
        q = self.marginals_[m].ppf(grid)
        cum = np.concatenate([[0], np.cumsum((q[1:] + q[:-1]) / 2 * np.diff(grid))])
        return cum[-1] - np.interp(s, grid, cum)

    def evaluate_quantile(self, s, cascade=None, *, approximation=None, with_grad=False,
                          n_cells=None):
        cas = check_cascade(cascade, len(self.models_))
        s = np.clip(check_thresholds(s, len(cas), name="s"), 0, 1)
        b, k = s.shape[0], len(cas)
        full = np.concatenate([s, np.zeros((b, 1))], axis=1)
        reach = np.concatenate([np.ones((b, 1)), np.cumprod(full[:, :-1], axis=1)], axis=1)
        stop = reach * (1 - full)
        acc = sum(reach[:, j] * self._upper_mean(m, full[:, j]) for j, m in enumerate(cas))
        cost = stop @ np.cumsum(self.costs_[list(cas)])
        return CascadeEvaluation(accuracy=acc, cost=cost, stage_probabilities=stop,
                                 grad_accuracy=np.zeros((b, k - 1)) if with_grad else None,
                                 grad_cost=np.zeros((b, k - 1)) if with_grad else None)

    def _sample_uniform(self, n, cascade, rng):
        return np.random.default_rng(rng).random((n, len(cascade)))


@pytest.fixture(scope="module")
def train():
    return load_benchmark("mmlu", "llama", split="train")


def test_the_base_class_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        CalibratedChainModel()


def test_a_model_written_against_the_base_class_is_tunable(train):
    model = IndependentStagesModel().fit(train)
    assert model.models_ == train.models and model.n_train_ == train.n_queries
    np.testing.assert_array_equal(model.costs_, train.mean_cost * 1e6)
    pred = model.predict([0.6], (0, 4))
    assert isinstance(pred, CascadePrediction)
    # Independence: stage 1 answers with probability 1 − F_1(0.6).
    assert pred.stage_probabilities[0, 0] == pytest.approx(
        1 - model.marginals_[0].cdf(0.6), abs=1e-12)
    front = tune(model, (0, 4), lambdas=[0.0, 1e-3], n_starts=8, rng=0)
    assert front.method == "independent" and len(front) >= 1
    assert model.sample(4, (0, 2), rng=1).shape == (4, 2)


def test_both_models_and_their_marginals_follow_the_contract(train):
    for model in (MarkovCopulaModel().fit(train), EmpiricalCopulaModel().fit(train)):
        assert isinstance(model, CalibratedChainModel)
        assert all(isinstance(m, MarginalDistribution) for m in model.marginals_)
        res = model.evaluate_quantile([[0.3, 0.6]], (0, 2, 4), with_grad=True)
        assert isinstance(res, CascadeEvaluation) and res.has_grad
        assert res.grad_accuracy.shape == (1, 2)
        assert model.evaluate_quantile([[0.3, 0.6]], (0, 2, 4)).grad_cost is None


def test_atom_intervals_are_the_atoms_on_the_uniform_scale():
    model = MarkovCopulaModel().fit(load_benchmark("mmlu", "qwen_oai", split="train"))
    seen = 0
    for m, marg in enumerate(model.marginals_):
        for (value, lo, hi), atom, mass in zip(model.atom_intervals(m), marg.atoms_,
                                               marg.atom_masses_):
            assert value == atom and hi == pytest.approx(float(marg.cdf(atom)))
            assert hi - lo == pytest.approx(mass)
            seen += 1
    assert seen > 0  # gpt-4o's raw log-probability is often exactly 0: atoms


def test_coarse_discretisation_is_declared_not_guessed(train):
    assert MarkovCopulaModel(n_cells=30).coarse_n_cells() == 10
    assert MarkovCopulaModel(n_cells=12).coarse_n_cells() == 8
    assert EmpiricalCopulaModel().coarse_n_cells() is None


def test_evaluation_indexing_by_name_still_works_with_a_deprecation_warning(train):
    res = EmpiricalCopulaModel().fit(train).evaluate_quantile([[0.5]], (0, 4))
    with pytest.warns(DeprecationWarning, match=r"use the attribute \.accuracy"):
        assert res["accuracy"] is res.accuracy
    assert "cost" in res and "grad_cost" not in res
    with pytest.raises(KeyError):
        res["grad_cost"]


def test_positional_rng_of_sample_still_works_with_a_deprecation_warning(train):
    model = EmpiricalCopulaModel().fit(train)
    with pytest.warns(DeprecationWarning, match="pass rng by keyword"):
        old = model.sample(5, (0, 4), 3)
    np.testing.assert_array_equal(old, model.sample(5, (0, 4), rng=3))


def test_tune_rejects_objects_that_are_not_chain_models(train):
    class Duck:
        models_ = train.models
        marginals_ = []

    with pytest.raises(ValueError, match="model: expected a calibrated chain model"):
        tune(Duck(), (0, 1))
    with pytest.raises(ValueError, match="model: not fitted yet; call fit\\(log\\) first"):
        tune(MarkovCopulaModel(), (0, 1))


def test_fit_rejects_bad_logs_and_options_before_fitting(train):
    with pytest.raises(ValueError, match="log: expected a ChainLog"):
        IndependentStagesModel().fit(train.confidence)
    with pytest.raises(ValueError, match="approximation: expected one of"):
        MarkovCopulaModel(approximation="nope").fit(train)
    tiny = ChainLog.from_arrays(["a", "b"], [[-0.1, -0.2]], [[1, 0]], [[1e-6, 2e-6]])
    with pytest.raises(ValueError, match="log: need at least 2 training queries"):
        EmpiricalCopulaModel().fit(tiny)
