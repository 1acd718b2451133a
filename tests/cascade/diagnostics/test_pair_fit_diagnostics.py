"""The pair-copula check: the Cramér–von Mises statistic against a direct computation, the
copula the test fits against the model's, the AIC table against the fit over all families, and
the test's size and power by seeded simulation (with an atom in one margin)."""

import numpy as np
import pytest
from diagnostics_sim import warp_speed_band, warp_speed_rejections
from scipy.stats import rankdata

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel
from llmcopula.cascade.diagnostics import (PairCopulaDisplay, copula_cvm_statistic,
                                           pair_copula_aic, pair_copula_gof_test,
                                           uniform_intervals)
from llmcopula.cascade.diagnostics._common import censor
from llmcopula.copulas import (AUTO_FAMILIES, ClaytonCopula, GumbelCopula, UniformIntervals,
                               fit_pair_copula)
from llmcopula.datasets import load_benchmark


def _slow_statistic(x, y, copula):
    n = len(x)
    total = 0.0
    for k in range(n):
        emp = np.mean((x <= x[k]) & (y <= y[k]))
        u = (np.sum(x <= x[k]) / (n + 1), np.sum(y <= y[k]) / (n + 1))
        total += (emp - float(copula.cdf(u))) ** 2
    return total


def test_statistic_is_the_distance_between_empirical_and_fitted_copula_with_ties():
    gen = np.random.default_rng(0)
    u = GumbelCopula(1.7).sample(150, rng=gen)
    a = censor(u[:, 0], [(0.5, 0.6), (0.9, 1.0)])  # two atoms: ties in the first margin
    cop = GumbelCopula(1.5)
    assert copula_cvm_statistic(a, u[:, 1], cop) == pytest.approx(
        _slow_statistic(a.hi, u[:, 1], cop), rel=1e-12)
    # ranks only: any increasing transform of the data gives the same statistic
    assert copula_cvm_statistic(u[:, 0] ** 3, np.sqrt(u[:, 1]), cop) == pytest.approx(
        copula_cvm_statistic(u[:, 0], u[:, 1], cop), rel=1e-12)
    assert rankdata(a.hi, method="max").max() == 150


def test_pvalue_counts_the_replicates():
    u = GumbelCopula(1.5).sample(100, rng=1)
    res = pair_copula_gof_test(u[:, 0], u[:, 1], n_boot=20, rng=2)
    assert res.null_distribution.shape == (20,)
    assert res.pvalue == (1 + np.sum(res.null_distribution >= res.statistic)) / 21


@pytest.mark.slow
def test_size_and_power_of_the_pair_copula_test():
    """Warp-speed Monte Carlo (``diagnostics_sim``). Null: Gumbel data (τ = 0.375) with an atom
    covering (0.7, 0.9] of the first margin, tested as Gumbel; the rejection count at level 0.1
    lies in the exact band of a correct test. Alternative: Clayton data of τ = 0.5 (lower-tail
    dependence) tested as Gumbel (upper-tail dependence)."""
    gen = np.random.default_rng(2009)
    counts = {}
    for name, cop in (("null", GumbelCopula(1.6)), ("clayton", ClaytonCopula(2.0))):
        stat, rep = [], []
        for _ in range(100):
            u = cop.sample(200, rng=gen)
            res = pair_copula_gof_test(censor(u[:, 0], [(0.7, 0.9)]), u[:, 1], family="gumbel",
                                       n_boot=1, rng=gen)
            stat.append(res.statistic)
            rep.append(res.null_distribution[0])
        counts[name] = warp_speed_rejections(stat, rep, 0.1)
    lo, hi = warp_speed_band(100, 0.1)
    assert lo <= counts["null"] <= hi
    assert counts["clayton"] >= 90


@pytest.fixture(scope="module")
def model():
    return MarkovCopulaModel(family="gumbel").fit(load_benchmark("mmlu", "llama"))


def test_the_test_fits_the_copula_the_model_fitted(model):
    a = uniform_intervals(model.marginals_[1], model.confidence_[:, 1])
    b = uniform_intervals(model.marginals_[2], model.confidence_[:, 2])
    theta = fit_pair_copula(a, b, family="gumbel").copula.theta
    assert theta == pytest.approx(model.pair_copula(1, 2).theta, rel=1e-12)
    disp = PairCopulaDisplay.from_model(model, 1, 2, n_boot=3, with_aic=False, rng=0)
    assert disp.copula == model.pair_copula(1, 2)
    expected = copula_cvm_statistic(a, b, model.pair_copula(1, 2))
    assert disp.result.statistic == pytest.approx(expected, rel=1e-10)


def test_aic_table_ranks_every_family_and_rotation():
    u = ClaytonCopula(2.0, rotation=180).sample(250, rng=3)
    a, b = UniformIntervals(u[:, 0], u[:, 0].copy()), UniformIntervals(u[:, 1], u[:, 1].copy())
    table = pair_copula_aic(a, b)
    assert len(table) == len(AUTO_FAMILIES)
    assert set(zip(table.family, table.rotation)) == set(AUTO_FAMILIES)
    assert table.aic.is_monotonic_increasing and table.delta_aic.iloc[0] == 0.0
    assert fit_pair_copula(a, b, family="auto").aic == pytest.approx(table.aic.iloc[0])
    assert dict(zip(table.family, table.n_params))["student"] == 2
    assert dict(zip(table.family, table.n_params))["independence"] == 0
    top = table.iloc[0]
    assert (top.family, top.rotation) in {("clayton", 180), ("gumbel", 0)}


def test_display_on_both_scales(model):
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2)
    normal = PairCopulaDisplay.from_model(model, "llama3.2-1b", "llama3.2-3b", n_boot=0,
                                          with_aic=True, ax=a1)
    uniform = PairCopulaDisplay.from_model(model, 0, 1, n_boot=0, with_aic=False,
                                           scale="uniform", ax=a2)
    assert normal.scatter_.get_offsets().shape == (285, 2)
    assert normal.aic is not None and len(a1.texts) == 1 and len(a2.texts) == 0
    assert np.all((uniform.u > 0) & (uniform.u < 1))
    assert normal.contour_ is not None and "gumbel" in a1.get_legend().get_texts()[1].get_text()
    plt.close(fig)


def test_bad_input_raises_naming_the_argument(model):
    u = GumbelCopula(1.5).sample(50, rng=0)
    with pytest.raises(ValueError, match="b: expected 50"):
        copula_cvm_statistic(u[:, 0], u[:40, 1], GumbelCopula(1.2))
    with pytest.raises(ValueError, match="a"):
        pair_copula_gof_test(u[:, 0] + 1, u[:, 1])
    # reversed intervals are refused where they are built, before they reach the test
    with pytest.raises(ValueError, match="lo, hi: lo must be <= hi"):
        pair_copula_gof_test(UniformIntervals(u[:, 0], u[:, 0] * 0.5), u[:, 1])
    with pytest.raises(ValueError, match="family"):
        pair_copula_gof_test(u[:, 0], u[:, 1], family="auto")
    with pytest.raises(ValueError, match="rotation"):
        pair_copula_gof_test(u[:, 0], u[:, 1], family="gaussian", rotation=90)
    with pytest.raises(ValueError, match="n_boot"):
        pair_copula_gof_test(u[:, 0], u[:, 1], n_boot=0)
    with pytest.raises(ValueError, match="scale"):
        PairCopulaDisplay.from_model(model, 0, 1, n_boot=0, with_aic=False, scale="log")
    with pytest.raises(ValueError, match="pair copulas"):
        PairCopulaDisplay.from_model(EmpiricalCopulaModel().fit(load_benchmark("mmlu", "llama")),
                                     0, 1)
