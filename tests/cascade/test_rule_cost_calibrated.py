"""The tuner's shortcut for the reported cost (calibrated thresholds) against the raw rules."""

import numpy as np
import pytest

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel, tune
from llmcopula.cascade.paper_model import PaperMarkovCopulaModel
from llmcopula.datasets import load_benchmark


@pytest.mark.parametrize("benchmark", ["mmlu", "triviaqa"])
@pytest.mark.parametrize("make", [
    lambda: MarkovCopulaModel(),
    lambda: EmpiricalCopulaModel(),
    lambda: MarkovCopulaModel(calibration_slope="free"),  # decreasing calibrations: "below"
    lambda: PaperMarkovCopulaModel(),
])
def test_calibrated_routing_gives_the_raw_rules_cost(benchmark, make):
    model = make().fit(load_benchmark(benchmark, "llama", split="train"))
    cas = (0, 2, 4)
    f = tune(model, cas, n_lambdas=10, rng=0)
    rng = np.random.default_rng(0)
    # frontier thresholds (atoms included: one ulp below an atom accepts it), random ones, and
    # thresholds exactly at training confidences (ties defer)
    conf = model.confidence_[:, list(cas[:-1])]
    at_data = conf[rng.integers(0, conf.shape[0], size=(20, 2)), np.arange(2)[None, :]]
    t = np.vstack([f.thresholds, rng.random((20, 2)), at_data])
    prob = model.evaluate_quantile(model.to_quantile(t, cas), cas).stage_probabilities
    directions, raw = model.raw_rules(t, cas)
    want = model.rule_cost(prob, directions, raw, cas)
    got = model._rule_cost_calibrated(prob, t, cas)
    np.testing.assert_array_equal(got, want)
