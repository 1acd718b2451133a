"""The calibration check: the batched ECE against the one-at-a-time ECE, the Wilson intervals
against their closed form, the bootstrap interval against a slow loop, and the test's size and
power by seeded simulation."""

import warnings

import numpy as np
import pytest
from diagnostics_sim import binomial_band, warp_speed_band, warp_speed_rejections
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import expit

from llmcopula.calibration import PlattCalibrator, expected_calibration_error
from llmcopula.cascade import MarkovCopulaModel
from llmcopula.cascade.diagnostics import ReliabilityDisplay, calibration_test
from llmcopula.cascade.diagnostics.reliability import _ece_rows
from llmcopula.datasets import load_benchmark


@given(st.lists(st.sampled_from([0.1, 0.3, 0.3, 0.55, 0.7, 0.9, 0.95, 1.0]), min_size=3,
                max_size=60),
       st.integers(1, 12), st.sampled_from(["quantile", "uniform"]), st.integers(0, 2**16))
def test_batched_ece_equals_the_one_at_a_time_ece_with_ties(values, n_bins, strategy, seed):
    gen = np.random.default_rng(seed)
    p = np.array(values)
    rows = np.stack([gen.permutation(p) for _ in range(3)])
    y = (gen.random(rows.shape) < 0.6).astype(float)
    batched = _ece_rows(rows, y, n_bins, strategy)
    for b in range(3):
        ref = expected_calibration_error(rows[b], y[b], n_bins=n_bins, strategy=strategy)
        assert batched[b] == pytest.approx(ref, abs=1e-12)


def test_bin_intervals_are_the_wilson_score_intervals():
    gen = np.random.default_rng(0)
    p = gen.uniform(0.3, 1.0, 500)
    res = calibration_test(p, gen.random(500) < p, n_boot=10, confidence_level=0.9, rng=0)
    z = stats.norm.ppf(0.95)
    n, acc = res.bins["count"].to_numpy(), res.bins.accuracy.to_numpy()
    centre = (acc + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(acc * (1 - acc) / n + z**2 / (4 * n**2))
    np.testing.assert_allclose(res.bins.accuracy_low, centre - half, atol=1e-12)
    np.testing.assert_allclose(res.bins.accuracy_high, centre + half, atol=1e-12)
    assert res.bins["count"].sum() == 500


def test_ece_interval_is_the_percentile_interval_of_resampled_queries():
    gen = np.random.default_rng(1)
    p = gen.uniform(0.2, 1.0, 120)
    y = gen.random(120) < 0.8 * p
    res = calibration_test(p, y, n_boot=300, confidence_level=0.9, rng=7)
    idx = np.random.default_rng(7).integers(0, 120, size=(300, 120))  # the test's first draw
    slow = [expected_calibration_error(p[i], y[i]) for i in idx]
    assert (res.ece_low, res.ece_high) == pytest.approx(tuple(np.quantile(slow, [0.05, 0.95])))
    assert res.ece == pytest.approx(expected_calibration_error(p, y))


def test_the_pvalue_counts_the_null_replicates_at_or_above_the_ece():
    gen = np.random.default_rng(2)
    p = gen.uniform(0.2, 1.0, 200)
    res = calibration_test(p, gen.random(200) < p, n_boot=99, rng=3)
    null = res.test.null_distribution
    assert null.shape == (99,)
    assert res.pvalue == pytest.approx((1 + np.sum(null >= res.ece)) / 100)


def test_same_seed_gives_the_same_interval_and_pvalue():
    gen = np.random.default_rng(4)
    p = gen.uniform(0.2, 1.0, 300)
    y = gen.random(300) < p
    a, b = calibration_test(p, y, n_boot=50, rng=11), calibration_test(p, y, n_boot=50, rng=11)
    assert (a.ece_low, a.ece_high, a.pvalue) == (b.ece_low, b.ece_high, b.pvalue)


@pytest.mark.slow
def test_size_and_power_of_the_calibration_test_on_held_out_queries():
    """Labels drawn from the confidences: the replicates are exchangeable with the data, so the
    test is exact and the rejection count at level 0.1 is Binomial(100, 0.1). Against
    overconfidence (P(correct | Φ) = Φ^1.6) it should reject almost always."""
    gen = np.random.default_rng(20260101)
    reject_null = reject_alt = 0
    for _ in range(100):
        p = gen.uniform(0.2, 1.0, 300)
        reject_null += calibration_test(p, gen.random(300) < p, n_boot=99, rng=gen).pvalue <= 0.1
        reject_alt += calibration_test(p, gen.random(300) < p**1.6, n_boot=99,
                                       rng=gen).pvalue <= 0.1
    lo, hi = binomial_band(100, 0.1)
    assert lo <= reject_null <= hi
    assert reject_alt >= 90


def _training_sample(gen, truth, n=300):
    p = gen.uniform(0.05, 0.999, n)
    raw = np.log(p)
    y = gen.random(n) < truth(-np.log1p(-p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cal = PlattCalibrator(transform="one-sided").fit(raw, y)
    return raw, y, cal


@pytest.mark.slow
def test_size_and_power_of_the_calibration_test_on_the_training_queries_with_refits():
    """Platt scaling fitted on the same labels: with the calibrator refitted in each replicate
    the size is right (warp-speed check); a step in P(correct | signal), which no logistic curve
    follows, is detected."""
    gen = np.random.default_rng(7)
    logistic = lambda xi: expit(-1.0 + 0.8 * xi)  # noqa: E731
    step = lambda xi: np.where(xi > 1.5, 0.9, 0.3)  # noqa: E731
    results = {}
    for name, truth in (("null", logistic), ("step", step)):
        stat, rep = [], []
        for _ in range(100):
            raw, y, cal = _training_sample(gen, truth)
            prob = cal.predict(raw)
            res = calibration_test(prob, y, raw=raw, calibrator=cal, n_boot=1, rng=gen)
            stat.append(res.ece)
            rep.append(res.test.null_distribution[0])
        results[name] = warp_speed_rejections(stat, rep, 0.1)
    lo, hi = warp_speed_band(100, 0.1)
    assert lo <= results["null"] <= hi
    assert results["step"] >= 75


@pytest.fixture(scope="module")
def mmlu_model():
    return MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))


def test_display_refits_the_calibrator_on_the_training_log_only(mmlu_model):
    train, test = load_benchmark("mmlu", "llama"), load_benchmark("mmlu", "llama", "test")
    on_train = ReliabilityDisplay.from_model(mmlu_model, train, 4, n_boot=20, rng=0)
    on_test = ReliabilityDisplay.from_model(mmlu_model, test, "llama3.1-405b", n_boot=20, rng=0)
    assert "refitted" in on_train.result.test.method
    assert "refitted" not in on_test.result.test.method
    ref = expected_calibration_error(mmlu_model.calibrate(test)[:, 4], test.correct[:, 4])
    assert on_test.result.ece == pytest.approx(ref)
    assert on_test.ax_ is not None and on_test.errorbar_ is not None
    assert "ECE" in on_test.ax_.get_legend().get_texts()[0].get_text()


def test_bad_input_raises_naming_the_argument(mmlu_model):
    p, y = np.array([0.2, 0.6, 0.9]), np.array([0, 1, 1])
    with pytest.raises(ValueError, match="prob"):
        calibration_test([0.2, 1.4, 0.5], y)
    with pytest.raises(ValueError, match="correct"):
        calibration_test(p, [0, 1])
    with pytest.raises(ValueError, match="n_boot"):
        calibration_test(p, y, n_boot=0)
    with pytest.raises(ValueError, match="confidence_level"):
        calibration_test(p, y, confidence_level=1.5)
    with pytest.raises(ValueError, match="strategy"):
        calibration_test(p, y, strategy="kmeans")
    with pytest.raises(ValueError, match="raw"):
        calibration_test(p, y, calibrator=PlattCalibrator())
    train = load_benchmark("mmlu", "llama")
    with pytest.raises(ValueError, match="m: 'gpt-9'"):
        ReliabilityDisplay.from_model(mmlu_model, train, "gpt-9")
    with pytest.raises(ValueError, match="m: expected"):
        ReliabilityDisplay.from_model(mmlu_model, train, 7)
    with pytest.raises(ValueError, match="log: its models"):
        ReliabilityDisplay.from_model(mmlu_model, load_benchmark("mmlu", "qwen_oai"), 0)
    with pytest.raises(ValueError, match="refit"):
        ReliabilityDisplay.from_model(mmlu_model, train, 0, refit="yes")


def test_ties_between_the_ece_and_its_replicates_count_against_the_model():
    """Given the confidences the ECE takes few values, so replicates often equal it exactly
    (here 38% of them), and those count as at least as extreme. The exact p-value
    P(ECE* >= ECE) under the null comes from enumerating all 2^6 label vectors. (Computed by
    another formula, the observed ECE here exceeds its equal replicates by 3e-17, which
    dropped every tie.)"""
    import itertools

    p = np.array([0.35, 0.6, 0.6, 0.7, 0.9, 0.9])
    y = np.array([0, 1, 1, 0, 1, 1])
    res = calibration_test(p, y, n_bins=2, n_boot=20_000, rng=0)
    ece = expected_calibration_error(p, y, n_bins=2)
    exact = 0.0
    for labels in itertools.product([0, 1], repeat=6):
        prob = np.prod(np.where(np.array(labels) == 1, p, 1 - p))
        if expected_calibration_error(p, np.array(labels), n_bins=2) >= ece - 1e-12:
            exact += prob
    assert res.ece == pytest.approx(ece, abs=1e-15)
    assert res.pvalue == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 20_000))
