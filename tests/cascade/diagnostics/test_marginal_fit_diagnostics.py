"""The marginal check: the Cramér–von Mises statistic against scipy, the randomised PIT's
uniformity with atoms, the parametric-bootstrap test against scipy.stats.goodness_of_fit, and
its size and power by seeded simulation."""

import inspect
import warnings

import joblib
import numpy as np
import pytest
from diagnostics_sim import warp_speed_band, warp_speed_rejections
from scipy import stats

from llmcopula.cascade import ConfidenceMarginal, MarkovCopulaModel
from llmcopula.cascade.diagnostics import (MarginalFitDisplay, cramer_von_mises,
                                           marginal_gof_test, randomized_pit)
from llmcopula.datasets import load_benchmark


def _seed(seed):
    gen = np.random.default_rng(seed)
    params = inspect.signature(stats.goodness_of_fit).parameters
    return {"rng": gen} if "rng" in params else {"random_state": gen}


def _atoms_and_beta(gen, n, mass=0.2):
    return np.where(gen.random(n) < mass, 0.97, gen.beta(4.0, 2.0, n))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_statistic_is_scipys_cramer_von_mises_statistic(seed):
    gen = np.random.default_rng(seed)
    u = gen.random(57)
    assert cramer_von_mises(u) == pytest.approx(stats.cramervonmises(u, "uniform").statistic,
                                                rel=1e-12)
    x = gen.beta(2.0, 5.0, 80)
    ref = stats.cramervonmises(x, stats.beta(2.0, 5.0).cdf).statistic
    assert cramer_von_mises(stats.beta(2.0, 5.0).cdf(x)) == pytest.approx(ref, rel=1e-12)


def test_randomised_pit_is_uniform_with_atoms_where_the_plain_pit_is_not():
    gen = np.random.default_rng(3)
    x = _atoms_and_beta(gen, 4000)
    marginal = ConfidenceMarginal(max_components=1).fit(x)
    assert marginal.atoms_.tolist() == [0.97]
    u = randomized_pit(marginal, x, rng=4)
    assert stats.kstest(u, "uniform").pvalue > 0.01
    assert stats.kstest(marginal.cdf(x), "uniform").pvalue < 1e-6
    at = x == 0.97
    hi = float(marginal.cdf(0.97))
    lo = hi - float(marginal.atom_masses_[0])
    assert np.all((u[at] >= lo) & (u[at] <= hi))
    np.testing.assert_allclose(u[~at], marginal.cdf(x[~at]))  # no randomisation off the atoms


def test_pvalue_agrees_with_scipys_goodness_of_fit_for_one_beta():
    """Without atoms and with one beta component the test is scipy's Monte Carlo
    goodness_of_fit(beta, statistic="cvm") with loc and scale known: the same maximum
    likelihood fit, the same statistic, independent replicates. The p-values agree within 4
    standard errors of the difference of two Monte Carlo estimates."""
    x = np.random.default_rng(0).beta(3.0, 1.5, 150)
    marginal = ConfidenceMarginal(max_components=1).fit(x)
    ours = marginal_gof_test(marginal, x, n_boot=400, rng=11)
    ref = stats.goodness_of_fit(stats.beta, x, known_params={"loc": 0, "scale": 1},
                                statistic="cvm", n_mc_samples=400, **_seed(12))
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-6)
    p = 0.5 * (ours.pvalue + ref.pvalue)
    assert abs(ours.pvalue - ref.pvalue) <= 4 * np.sqrt(2 * p * (1 - p) / 400)


def test_pvalue_counts_the_replicates_and_does_not_depend_on_n_jobs():
    x = _atoms_and_beta(np.random.default_rng(5), 120)
    marginal = ConfidenceMarginal(max_components=1).fit(x)
    a = marginal_gof_test(marginal, x, n_boot=30, rng=6)
    with joblib.parallel_config(backend="threading"):  # the joblib path, without process start-up
        b = marginal_gof_test(marginal, x, n_boot=30, rng=6, n_jobs=2)
    np.testing.assert_array_equal(a.null_distribution, b.null_distribution)
    assert a.pvalue == (1 + np.sum(a.null_distribution >= a.statistic)) / 31


@pytest.mark.slow
def test_size_and_power_of_the_marginal_test():
    """Warp-speed Monte Carlo (one replicate per data set, ``diagnostics_sim``): under a beta
    with an atom of 20% — the randomised PIT's case — the rejection count at level 0.1 lies in
    the exact band of a correct test; a single beta fitted to a 50/50 mixture of Beta(2, 8) and
    Beta(8, 2) is rejected almost always."""
    gen = np.random.default_rng(42)
    counts = {}
    for name, draw in (("null", lambda n: _atoms_and_beta(gen, n)),
                       ("bimodal", lambda n: np.where(gen.random(n) < 0.5, gen.beta(2, 8, n),
                                                      gen.beta(8, 2, n)))):
        stat, rep = [], []
        for _ in range(100):
            x = draw(200)
            res = marginal_gof_test(ConfidenceMarginal(max_components=1).fit(x), x, n_boot=1,
                                    rng=gen)
            stat.append(res.statistic)
            rep.append(res.null_distribution[0])
        counts[name] = warp_speed_rejections(stat, rep, 0.1)
    lo, hi = warp_speed_band(100, 0.1)
    assert lo <= counts["null"] <= hi
    assert counts["bimodal"] >= 90


def test_display_draws_the_pit_histogram_and_the_qq_plot():
    import matplotlib.pyplot as plt

    model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    fig, (a1, a2) = plt.subplots(1, 2)
    pit = MarginalFitDisplay.from_model(model, "llama3.1-8b", n_boot=5, rng=0, ax=a1)
    qq = MarginalFitDisplay.from_model(model, 2, kind="qq", n_boot=0, ax=a2)
    assert pit.ax_ is a1 and len(pit.artist_) == 10  # ten histogram bars
    assert pit.result is not None and "p =" in a1.get_legend().get_texts()[0].get_text()
    assert qq.result is None and qq.artist_.get_xdata().shape == (285,)
    np.testing.assert_allclose(np.sort(qq.data), np.sort(model.confidence_[:, 2]))
    plt.close(fig)


def test_bad_input_raises_naming_the_argument():
    x = np.random.default_rng(0).beta(2, 2, 50)
    fitted = ConfidenceMarginal(max_components=1).fit(x)
    with pytest.raises(ValueError, match="marginal: expected a fitted marginal"):
        marginal_gof_test(ConfidenceMarginal(), x)
    with pytest.raises(ValueError, match="marginal"):
        marginal_gof_test(object(), x)
    with pytest.raises(ValueError, match="x"):
        marginal_gof_test(fitted, [0.2, np.nan, 0.4])
    with pytest.raises(ValueError, match="x"):
        marginal_gof_test(fitted, [0.3])
    with pytest.raises(ValueError, match="n_boot"):
        marginal_gof_test(fitted, x, n_boot=0)
    with pytest.raises(ValueError, match="u"):
        cramer_von_mises([0.2, 1.5])
    with pytest.raises(ValueError, match="kind"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MarginalFitDisplay.from_marginal(fitted, x, n_boot=0, kind="pp")
