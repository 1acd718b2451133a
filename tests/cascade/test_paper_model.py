"""The published Markov-copula configuration: its fitted values against the ones stored with the
reference implementation's results, its integrals against quadrature and Monte Carlo, and the
event-Markov product against the pair laws it chains."""

import numpy as np
import pytest
from scipy import integrate, stats

from llmcopula.cascade.methods import MethodOptions, run_method
from llmcopula.cascade.paper_model import LumpyBetaMixture, PaperMarkovCopulaModel, PaperPair
from llmcopula.copulas import IndependenceCopula
from llmcopula.datasets import load_benchmark

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def mmlu_model():
    return PaperMarkovCopulaModel().fit(load_benchmark("mmlu", "llama", split="train"))


def test_fitted_values_match_the_reference_implementations_stored_results(mmlu_model):
    # The reference code's stored model for MMLU / Llama (rational-llm-cascades results):
    # llama3.2-1b marginal on (0.250, 0.990) with pi = 0.69, Beta(2.28, 17.7), Beta(0.95, 1.20),
    # and adjacent-pair Gumbel thetas 1.43, 1.98, 1.92, 2.45 (two decimals).
    marg = mmlu_model.marginals_[0]
    assert (round(marg.a_, 3), round(marg.b_, 3)) == (0.250, 0.990)
    assert marg.weights_[0] == pytest.approx(0.69, abs=0.005)
    np.testing.assert_allclose([marg.alphas_[0], marg.betas_[0]], [2.28, 17.7], rtol=0.01)
    np.testing.assert_allclose([marg.alphas_[1], marg.betas_[1]], [0.95, 1.20], rtol=0.01)
    thetas = [mmlu_model.pair(i, i + 1).copula.theta for i in range(4)]
    np.testing.assert_allclose(thetas, [1.43, 1.98, 1.92, 2.45], atol=0.005)


def test_theta_is_kendall_tau_inverted_with_an_independence_floor():
    rng = np.random.default_rng(0)
    x = rng.beta(4, 2, 400)
    pos = PaperPair.fit(x, np.clip(x + rng.normal(0, 0.1, 400), 0.1, 0.95),
                        LumpyBetaMixture().fit(x), LumpyBetaMixture().fit(x))
    inner_tau = pos.tau
    assert pos.copula.theta == pytest.approx(1 / (1 - inner_tau), rel=1e-12)
    y = 1.0 - x + rng.normal(0, 0.05, 400)
    neg = PaperPair.fit(x, y, LumpyBetaMixture().fit(x), LumpyBetaMixture().fit(y))
    assert neg.tau < 0 and isinstance(neg.copula, IndependenceCopula)


def test_marginal_has_atoms_at_the_training_extremes_and_consistent_cdf_ppf():
    rng = np.random.default_rng(1)
    phi = np.concatenate([rng.beta(5, 2, 200) * 0.8 + 0.1, np.full(50, 0.9)])
    marg = LumpyBetaMixture().fit(phi)
    assert marg.atoms_.tolist() == [phi.min(), 0.9]
    assert marg.atom_masses_[1] == pytest.approx(50 / 250)
    q = np.linspace(0.01, 0.99, 99)
    x = marg.ppf(q)
    assert np.all(marg.cdf(x) >= q - 1e-10)  # F(F^-1(q)) >= q, equality off the atoms
    inner = (x > marg.a_) & (x < marg.b_)
    np.testing.assert_allclose(marg.cdf(x[inner]), q[inner], atol=1e-9)


def test_partial_expectation_against_quadrature():
    rng = np.random.default_rng(2)
    marg = LumpyBetaMixture().fit(rng.beta(2, 3, 300))
    w = marg.w_mid
    for x in (marg.a_ - 0.1, 0.2, 0.5, 0.8, marg.b_):
        pdf = lambda s: np.gradient(marg.cdf_continuous(np.array([s - 1e-7, s + 1e-7])), 2e-7)[0]
        lo = max(x, marg.a_)
        cont = integrate.quad(lambda s: s * pdf(s), lo, marg.b_, limit=200)[0] if lo < marg.b_ else 0
        expected = (w * cont + marg.w_lo_ * marg.a_ * (marg.a_ > x)
                    + marg.w_hi_ * marg.b_ * (marg.b_ > x))
        assert float(marg.partial_expectation(x)) == pytest.approx(expected, abs=1e-6)


def _sample_pair(pair, mx, my, n, rng):
    """Draws of (X, Y) from the pair model: categories by their masses, the conditional laws by
    inversion, the jointly-mid part from the copula."""
    cats = rng.choice(9, size=n, p=pair.mass.ravel())
    cx, cy = cats // 3, cats % 3
    x = np.where(cx == 0, mx.a_, mx.b_).astype(float)
    y = np.where(cy == 0, my.a_, my.b_).astype(float)

    def inv(law, u):
        if law.kind == "beta":
            return stats.beta(*law.params, loc=law.lo, scale=law.hi - law.lo).ppf(u)
        if law.kind == "triang":
            return stats.triang(*law.params, loc=law.lo, scale=law.hi - law.lo).ppf(u)
        return law.lo + (law.hi - law.lo) * u

    both = (cx == 1) & (cy == 1)
    uv = pair.copula.sample(int(both.sum()), rng=rng)
    x[both] = mx.ppf_continuous(uv[:, 0])
    y[both] = my.ppf_continuous(uv[:, 1])
    for mask, law, target in (((cx == 1) & (cy == 0), pair.g_x_lo, "x"),
                              ((cx == 1) & (cy == 2), pair.g_x_hi, "x"),
                              ((cx == 0) & (cy == 1), pair.g_y_lo, "y"),
                              ((cx == 2) & (cy == 1), pair.g_y_hi, "y")):
        vals = inv(law, rng.random(int(mask.sum())))
        (x if target == "x" else y)[mask] = vals
    return x, y


def test_pair_integrals_against_monte_carlo(mmlu_model):
    rng = np.random.default_rng(3)
    mx, my = mmlu_model.marginals_[1], mmlu_model.marginals_[3]
    pair = mmlu_model.pair(1, 3)
    x, y = _sample_pair(pair, mx, my, 100_000, rng)
    for tx, ty in ((0.5, 0.7), (0.8, 0.6), (0.95, 0.9)):
        ind = (x <= tx) & (y <= ty)
        se = ind.std() / np.sqrt(x.size)
        assert float(pair.joint_cdf(np.array([tx]), np.array([ty]), mx, my)[0]) == pytest.approx(
            ind.mean(), abs=4 * se + 1e-4)
        val = y * (y > ty) * (x <= tx)
        assert float(pair.upper_mean(np.array([tx]), np.array([ty]), mx, my)[0]) == pytest.approx(
            val.mean(), abs=4 * val.std() / np.sqrt(x.size) + 1e-4)


def test_event_markov_product_chains_the_pair_laws(mmlu_model):
    """k = 3: P(D1) P(D2 | D1) and E[Phi_2 1{stage 2 answers} | D1], each from Monte Carlo
    draws of its own pair, composed by the product formula, against the model's prediction."""
    rng = np.random.default_rng(4)
    cas, t = (0, 2, 4), np.array([0.45, 0.7])
    m0, m2, m4 = (mmlu_model.marginals_[m] for m in cas)
    x01, y01 = _sample_pair(mmlu_model.pair(0, 2), m0, m2, 100_000, rng)
    x12, y12 = _sample_pair(mmlu_model.pair(2, 4), m2, m4, 100_000, rng)
    d1 = float(m0.cdf(t[0]))
    cond1 = x01 <= t[0]
    d2 = np.mean(y01[cond1] <= t[1])
    gain2 = np.mean(y01[cond1] * (y01[cond1] > t[1]))
    gain3 = np.mean(y12[x12 <= t[1]])
    acc = float(m0.partial_expectation(t[0])) + d1 * gain2 + d1 * d2 * gain3
    pred = mmlu_model.predict(t, cascade=cas)
    np.testing.assert_allclose(pred.stage_probabilities[0], [1 - d1, d1 * (1 - d2), d1 * d2],
                               atol=5e-3)
    assert pred.accuracy[0] == pytest.approx(acc, abs=5e-3)


def test_finite_difference_gradients_match_the_objective(mmlu_model):
    s = np.array([[0.3, 0.6], [0.5, 0.2]])
    res = mmlu_model.evaluate_quantile(s, (0, 2, 4), with_grad=True)
    h = 1e-4
    for l in range(2):
        up, down = s.copy(), s.copy()
        up[:, l] += h
        down[:, l] -= h
        num = (mmlu_model.evaluate_quantile(up, (0, 2, 4)).accuracy
               - mmlu_model.evaluate_quantile(down, (0, 2, 4)).accuracy) / (2 * h)
        np.testing.assert_allclose(res.grad_accuracy[:, l], num, rtol=1e-3, atol=1e-5)


def test_the_method_is_scored_by_the_shared_routing():
    train = load_benchmark("mmlu", "llama", split="train")
    test = load_benchmark("mmlu", "llama", split="test")
    front, prepared = run_method("markov-copula-paper", train, test, (0, 4),
                                 options=MethodOptions(n_lambdas=6), rng=0)
    assert front.method == "markov-copula-paper" and len(front) >= 2
    from llmcopula.cascade import score_cascade

    direct = score_cascade(test, (0, 4), front.thresholds,
                           confidence=prepared.model.calibrate(test))
    np.testing.assert_array_equal(front.test_accuracy, direct["accuracy"])
    with pytest.raises(ValueError, match="event-Markov"):
        prepared.model.evaluate_quantile([[0.5]], (0, 4), approximation="exact")


@pytest.mark.parametrize("kind, params", [("beta", (0.7, 2.3)), ("triang", (0.3,)),
                                          ("triang", (0.0,)), ("triang", (1.0,)),
                                          ("uniform", ())])
def test_off_diagonal_laws_cdf_and_upper_mean_against_scipy_and_quadrature(kind, params):
    from llmcopula.cascade.paper_model import _ScaledLaw

    law = _ScaledLaw(kind, 0.2, 0.9, params)
    ref = {"beta": stats.beta, "triang": stats.triang, "uniform": stats.uniform}[kind](
        *params, loc=0.2, scale=0.7)
    for y in (0.0, 0.3, 0.5, 0.85, 1.0):
        expected = integrate.quad(lambda v: v * ref.pdf(v), max(y, 0.2), 0.9, limit=200)[0] \
            if y < 0.9 else 0.0
        assert float(law.upper_mean(y)) == pytest.approx(expected, abs=1e-8)
        assert float(law.cdf(y)) == pytest.approx(ref.cdf(y), abs=1e-12)
