"""The Markov check: agreement with the partial-correlation test of statsmodels in the Gaussian
case, the uniformity and independence of the conditional PITs of a true Markov chain (atoms
included), size and power by seeded simulation, and the finding on the bundled MMLU logs."""

import numpy as np
import pytest
import statsmodels.api as sm
from diagnostics_sim import binomial_band, warp_speed_band, warp_speed_rejections
from scipy import special, stats

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel
from llmcopula.cascade.diagnostics import MarkovTestDisplay, markov_test, markov_triple_test
from llmcopula.cascade.diagnostics._common import censor
from llmcopula.cascade.diagnostics.markov_check import conditional_pit_scores
from llmcopula.copulas import ClaytonCopula, GumbelCopula, UniformIntervals
from llmcopula.datasets import load_benchmark


def _markov_chain(gen, n, c_ab, c_bc):
    w = gen.random((n, 3))
    u_b = c_ab.hinv1(w[:, :2])
    u_c = c_bc.hinv1(np.stack([u_b, w[:, 2]], axis=-1))
    return w[:, 0], u_b, u_c


def _factor(gen, n, rho):
    corr = np.full((3, 3), rho)
    np.fill_diagonal(corr, 1.0)
    return gen.multivariate_normal(np.zeros(3), corr, n)


@pytest.mark.parametrize("seed, n", [(0, 200), (1, 500), (2, 300)])
def test_gaussian_case_agrees_with_the_partial_correlation_test_of_statsmodels(seed, n):
    """With Gaussian pair copulas the normal scores of the conditional PITs are the residuals
    of z_a and z_c on z_b, so r is the partial correlation up to O(1/n) (the copula's ρ̂ in
    place of the least-squares slope, a second-order difference), and the Fisher-z p-value is
    the t-test of z_a's coefficient in the regression of z_c on (1, z_b, z_a)."""
    gen = np.random.default_rng(seed)
    z = gen.multivariate_normal(np.zeros(3), [[1, .6, .4], [.6, 1, .5], [.4, .5, 1]], n)
    u = stats.norm.cdf(z)
    ours = markov_triple_test(u[:, 0], u[:, 1], u[:, 2], families=("gaussian", "gaussian"))
    fit = sm.OLS(z[:, 2], sm.add_constant(np.column_stack([z[:, 1], z[:, 0]]))).fit()
    res_a = sm.OLS(z[:, 0], sm.add_constant(z[:, 1])).fit().resid
    res_c = sm.OLS(z[:, 2], sm.add_constant(z[:, 1])).fit().resid
    partial = np.corrcoef(res_a, res_c)[0, 1]
    assert abs(ours.statistic - partial) < 2.0 / n
    assert abs(np.log(ours.pvalue / fit.pvalues[2])) < 0.15


def test_conditional_pits_of_a_true_markov_chain_are_independent_uniforms_with_atoms():
    gen = np.random.default_rng(5)
    c_ab, c_bc = GumbelCopula(2.0), ClaytonCopula(1.5)
    u_a, u_b, u_c = _markov_chain(gen, 4000, c_ab, c_bc)
    a = censor(u_a, [(0.85, 1.0)])  # an atom on top of the first margin
    b = censor(u_b, [(0.4, 0.5)])
    c = UniformIntervals(u_c, u_c.copy())
    za, zc = conditional_pit_scores(a, b, c, c_ab, c_bc, np.random.default_rng(6))
    wa, wc = special.ndtr(za), special.ndtr(zc)
    assert stats.kstest(wa, "uniform").pvalue > 0.01
    assert stats.kstest(wc, "uniform").pvalue > 0.01
    assert abs(np.corrcoef(za, zc)[0, 1]) < 3.3 / np.sqrt(4000)


@pytest.mark.slow
def test_size_and_power_of_the_asymptotic_markov_test():
    """Null: a Gumbel → Gumbel Markov chain with an atom in the last margin, n = 300; the
    rejection count at level 0.1 lies in the 99.8% band of Binomial(100, 0.1). Alternative: a
    common Gaussian factor (equicorrelation 0.3, partial correlation 0.23) with Gaussian pair
    copulas; it should be rejected almost always."""
    gen = np.random.default_rng(1952)
    null = alt = 0
    for _ in range(100):
        u_a, u_b, u_c = _markov_chain(gen, 300, GumbelCopula(2.0), GumbelCopula(1.5))
        null += markov_triple_test(u_a, u_b, censor(u_c, [(0.8, 0.95)]), rng=gen).pvalue <= 0.1
        u = stats.norm.cdf(_factor(gen, 300, 0.3))
        alt += markov_triple_test(u[:, 0], u[:, 1], u[:, 2], families=("gaussian", "gaussian"),
                                  rng=gen).pvalue <= 0.1
    lo, hi = binomial_band(100, 0.1)
    assert lo <= null <= hi
    assert alt >= 90


@pytest.mark.slow
def test_size_of_the_bootstrap_markov_test():
    """Warp-speed Monte Carlo (``diagnostics_sim``) on the same null, two-sided (|r|)."""
    gen = np.random.default_rng(1953)
    stat, rep = [], []
    for _ in range(100):
        u_a, u_b, u_c = _markov_chain(gen, 300, GumbelCopula(2.0), GumbelCopula(1.5))
        res = markov_triple_test(u_a, u_b, censor(u_c, [(0.8, 0.95)]), method="bootstrap",
                                 n_boot=1, rng=gen)
        stat.append(abs(res.statistic))
        rep.append(abs(res.null_distribution[0]))
    lo, hi = warp_speed_band(100, 0.1)
    assert lo <= warp_speed_rejections(stat, rep, 0.1) <= hi


@pytest.fixture(scope="module")
def mmlu_model():
    return MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))


def test_detects_the_common_factor_in_the_mmlu_llama_chain(mmlu_model):
    """The fidelity study (benchmarks/RESULTS.md) finds the Markov-copula model's accuracy bias
    growing with depth on MMLU/Llama; the test finds the reason: given the middle model, the
    outer models of every consecutive triple remain positively dependent."""
    table = markov_test(mmlu_model, rng=0)
    assert list(zip(table.i, table.j, table.k)) == [(0, 1, 2), (1, 2, 3), (2, 3, 4)]
    assert (table.partial_correlation > 0).all()
    assert (table.partial_correlation > table.null_high).all()
    assert table.pvalue_holm.max() < 0.05
    assert table.pvalue_holm.min() < 1e-5
    assert (table.pvalue_holm >= table.pvalue).all()
    boot = markov_test(mmlu_model, (1, 2, 3), method="bootstrap", n_boot=19, rng=0)
    assert boot.pvalue.iloc[0] == pytest.approx(1 / 20)  # beyond every replicate


def test_all_triples_and_the_display(mmlu_model):
    import matplotlib.pyplot as plt

    table = markov_test(mmlu_model, triples="all", rng=1)
    assert len(table) == 10 and (table.i < table.j).all() and (table.j < table.k).all()
    fig, ax = plt.subplots()
    disp = MarkovTestDisplay.from_model(mmlu_model, (0, 2, 4), rng=0, ax=ax)
    assert len(disp.table) == 1 and disp.ax_ is ax
    assert disp.points_.get_ydata()[0] == pytest.approx(disp.table.partial_correlation[0])
    assert "llama3.2-1b ⊥ llama3.1-405b" in ax.get_xticklabels()[0].get_text()
    plt.close(fig)


def test_bad_input_raises_naming_the_argument(mmlu_model):
    u = GumbelCopula(1.5).sample(50, rng=0)
    with pytest.raises(ValueError, match="b, c: expected 50"):
        markov_triple_test(u[:, 0], u[:, 1], u[:40, 0])
    with pytest.raises(ValueError, match="method"):
        markov_triple_test(u[:, 0], u[:, 1], u[:, 0], method="permutation")
    with pytest.raises(ValueError, match="families"):
        markov_triple_test(u[:, 0], u[:, 1], u[:, 0], families=("gumbel",))
    with pytest.raises(ValueError, match="a: need at least 5"):
        markov_triple_test(u[:3, 0], u[:3, 1], u[:3, 0])
    with pytest.raises(ValueError, match="cascade: the Markov assumption needs at least 3"):
        markov_test(mmlu_model, (0, 4))
    with pytest.raises(ValueError, match="triples"):
        markov_test(mmlu_model, triples="some")
    with pytest.raises(ValueError, match="no Markov assumption"):
        markov_test(EmpiricalCopulaModel().fit(load_benchmark("mmlu", "llama")))
