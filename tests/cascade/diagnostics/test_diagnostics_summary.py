"""The summary table runs every check once and reports what each check reports alone."""

import numpy as np
import pytest

from llmcopula.calibration import expected_calibration_error
from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel
from llmcopula.cascade.diagnostics import (copula_cvm_statistic, cramer_von_mises,
                                           diagnostics_summary, markov_test, uniform_intervals)
from llmcopula.datasets import load_benchmark


@pytest.fixture(scope="module")
def fitted():
    chain = [0, 2, 4]
    train = load_benchmark("mmlu", "llama").subset(chain)
    test = load_benchmark("mmlu", "llama", "test").subset(chain)
    return MarkovCopulaModel().fit(train), train, test


def test_one_row_per_test_with_the_statistics_of_each_check(fitted):
    model, _, test = fitted
    table = diagnostics_summary(model, test, n_boot=5, rng=0)
    assert table.check.tolist() == ["calibration"] * 3 + ["marginal"] * 3 + ["pair copula"] * 2 \
        + ["Markov"]
    prob = model.calibrate(test)
    for k in range(3):
        assert table.statistic[k] == pytest.approx(
            expected_calibration_error(prob[:, k], test.correct[:, k]))
        # no atoms here, so the randomised PIT is the plain F(x)
        pit = model.marginals_[k].cdf(model.confidence_[:, k])
        assert table.statistic[3 + k] == pytest.approx(cramer_von_mises(pit))
    a, b = (uniform_intervals(model.marginals_[k], model.confidence_[:, k]) for k in (0, 1))
    assert table.statistic[6] == pytest.approx(copula_cvm_statistic(a, b, model.pair_copula(0, 1)))
    assert table.statistic[8] == pytest.approx(markov_test(model).partial_correlation[0])
    assert (table.pvalue_holm >= table.pvalue).all() and (table.pvalue > 0).all()
    assert "refitted" not in table.detail[0] and "ECE" in table.detail[0]


def test_without_a_log_calibration_is_left_out_and_bad_input_is_named(fitted):
    model, train, _ = fitted
    table = diagnostics_summary(model, n_boot=3, rng=1)
    assert "calibration" not in set(table.check)
    with pytest.raises(ValueError, match="log: expected a ChainLog of the model's chain"):
        diagnostics_summary(model, load_benchmark("mmlu", "llama"), n_boot=3)
    with pytest.raises(ValueError, match="no pair copulas"):
        diagnostics_summary(EmpiricalCopulaModel().fit(train))
    assert np.isfinite(table.statistic).all()
