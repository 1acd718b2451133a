"""EmpiricalCopulaModel against a brute-force implementation, the training routing it smooths,
its own Monte Carlo law and the threshold tuner.

The brute force (:func:`brute_force`) recomputes the model's closed form from the definition
with Python loops over queries and stages: ranks by counting (a tie block of value φ spans
ranks 1 + #{φ_k < φ} .. #{φ_k <= φ}), the deferral kernel of a query at stage j as the block
average of ``scipy.special.betainc(r, n + 1 − r, s_j)`` = P(Bin(n, s_j) >= r), and stopping
probabilities ∏_{l<j} G_l · (1 − G_j). Only the Platt calibration (tested elsewhere) is shared
with the model, through ``model.calibrate``.
"""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import special, stats

from llmcopula.cascade import (
    CascadePrediction,
    EmpiricalCopulaModel,
    EmpiricalMarginal,
    route,
    score_cascade,
    tune,
)
from llmcopula.copulas import EmpiricalBetaCopula
from llmcopula.datasets import ChainLog, load_benchmark

FULL = (0, 1, 2, 3, 4)


# --------------------------------------------------------------------------- helpers
def synthetic_log(n: int, k: int = 3, seed: int = 0, ties: bool = False) -> ChainLog:
    """Log-probability signals and labels driven by a shared query difficulty."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    skill = np.linspace(-0.5, 1.0, k)
    signal = 1.5 * z + skill + rng.normal(size=(n, k))
    logprob = -np.log1p(np.exp(-signal))  # log sigmoid, <= 0
    if ties:
        logprob = np.round(logprob, 1) - 1e-3  # coarse values: ties in every column
    correct = rng.random((n, k)) < special.expit(1.2 * z + skill)
    cost = np.geomspace(1e-6, 3e-5, k) * rng.lognormal(0, 0.2, size=(n, k))
    return ChainLog.from_arrays([f"m{j}" for j in range(k)], logprob, correct, cost,
                                signal="logprob")


def count_blocks(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, d = phi.shape
    lo = np.empty((n, d), dtype=int)
    hi = np.empty((n, d), dtype=int)
    for j in range(d):
        for i in range(n):
            lo[i, j] = 1 + int(np.sum(phi[:, j] < phi[i, j]))
            hi[i, j] = int(np.sum(phi[:, j] <= phi[i, j]))
    return lo, hi


def brute_force(log: ChainLog, phi: np.ndarray, cascade, s_rows, target: str = "correct"):
    """Accuracy, cost (USD per million) and stage probabilities, loop by loop."""
    n = log.n_queries
    k = len(cascade)
    lo, hi = count_blocks(phi)
    payoff = log.correct.astype(float) if target == "correct" else phi
    cost = log.cost * 1e6
    acc, cst, stages = [], [], []
    for s in np.atleast_2d(s_rows):
        a = c = 0.0
        stage = np.zeros(k)
        for i in range(n):
            reach = 1.0
            for j, m in enumerate(cascade):
                if j < k - 1:
                    ranks = np.arange(lo[i, m], hi[i, m] + 1)
                    g = float(np.mean(special.betainc(ranks, n + 1 - ranks, s[j])))
                else:
                    g = 0.0  # the last stage answers
                c += reach * cost[i, m]
                stop = reach * (1.0 - g)
                a += stop * payoff[i, m]
                stage[j] += stop
                reach *= g
        acc.append(a / n)
        cst.append(c / n)
        stages.append(stage / n)
    return np.array(acc), np.array(cst), np.array(stages)


def random_cascade(rng: np.random.Generator, k: int, n_models: int = 5) -> tuple[int, ...]:
    return tuple(sorted(rng.choice(n_models, size=k, replace=False).tolist()))


@pytest.fixture(scope="module")
def log():
    return load_benchmark("mmlu", "llama", split="train")


@pytest.fixture(scope="module")
def model(log):
    return EmpiricalCopulaModel().fit(log)


@pytest.fixture(scope="module")
def conf_model(log):
    return EmpiricalCopulaModel(target="confidence").fit(log)


# ------------------------------------------------------------------------ fitting
def test_fit_learns_calibrators_marginals_and_the_copula(model, log):
    assert model.models_ == log.models and model.n_train_ == 285
    assert_allclose(model.costs_, log.mean_cost * 1e6)
    phi = model.calibrate(log)
    assert_allclose(model.confidence_, phi)
    assert len(model.marginals_) == 5
    assert all(isinstance(m, EmpiricalMarginal) and m.n_ == 285 for m in model.marginals_)
    assert isinstance(model.copula_, EmpiricalBetaCopula)
    assert (model.copula_.n, model.copula_.dim) == (285, 5)
    lo, hi = count_blocks(phi)
    np.testing.assert_array_equal(model.copula_.lo, lo)
    np.testing.assert_array_equal(model.copula_.hi, hi)
    assert (hi > lo).any()  # the shipped log has ties (atoms of the 405b model)
    assert model.method_name == "empirical-copula"


# ---------------------------------------------------------------- vs brute force
@pytest.mark.parametrize("target", ["correct", "confidence"])
def test_evaluate_quantile_matches_brute_force(model, conf_model, log, target):
    """k = 1..5, random cascades (subsets of the chain), random s including the ends."""
    m = model if target == "correct" else conf_model
    phi = m.calibrate(log)
    rng = np.random.default_rng(20 + (target == "confidence"))
    for k in range(1, 6):
        for cas in {random_cascade(rng, k) for _ in range(2)}:
            s = rng.random((3, k - 1))
            if k > 1:
                s[0, 0] = 0.0
                s[1, -1] = 1.0
            got = m.evaluate_quantile(s, cas)
            acc, cost, stages = brute_force(log, phi, cas, s, target)
            assert_allclose(got.accuracy, acc, rtol=1e-10, atol=1e-12)
            assert_allclose(got.cost, cost, rtol=1e-10)
            assert_allclose(got.stage_probabilities, stages, rtol=1e-10, atol=1e-12)
            assert got.stage_probabilities.shape == (3, k)


def test_brute_force_agreement_on_a_tied_synthetic_log():
    slog = synthetic_log(40, k=3, seed=1, ties=True)
    m = EmpiricalCopulaModel().fit(slog)
    assert (m.copula_.hi > m.copula_.lo).any(axis=0).all()
    s = np.random.default_rng(2).random((4, 2))
    for cas in [(0, 1, 2), (0, 2), (1, 2)]:
        got = m.evaluate_quantile(s[:, : len(cas) - 1], cas)
        acc, cost, stages = brute_force(slog, m.calibrate(slog), cas, s[:, : len(cas) - 1])
        assert_allclose(got.accuracy, acc, rtol=1e-10, atol=1e-12)
        assert_allclose(got.cost, cost, rtol=1e-10)
        assert_allclose(got.stage_probabilities, stages, rtol=1e-10, atol=1e-12)


def test_stage_probabilities_sum_to_one(model):
    rng = np.random.default_rng(3)
    for k in range(1, 6):
        cas = random_cascade(rng, k)
        p = model.evaluate_quantile(rng.random((50, k - 1)), cas).stage_probabilities
        assert np.all(p >= -1e-15) and np.all(p <= 1 + 1e-15)
        assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def central_difference(m, s, cas, key, j, h):
    e = np.zeros(s.shape[1])
    e[j] = h
    return (getattr(m.evaluate_quantile(s + e, cas), key)
            - getattr(m.evaluate_quantile(s - e, cas), key)) / (2 * h)


@pytest.mark.parametrize("target", ["correct", "confidence"])
def test_gradients_match_central_differences(model, conf_model, target):
    """Central differences D(h) with Richardson's error estimate |D(h) − D(h/2)| (which bounds
    3× the O(h²) error of D(h/2)) plus a rounding allowance of 1e-6 relative."""
    m = model if target == "correct" else conf_model
    rng = np.random.default_rng(4)
    for cas in [(0, 4), (1, 2, 4), FULL]:
        k = len(cas)
        s = rng.uniform(0.05, 0.95, size=(3, k - 1))
        res = m.evaluate_quantile(s, cas, with_grad=True)
        for key, gkey in (("accuracy", "grad_accuracy"), ("cost", "grad_cost")):
            assert getattr(res, gkey).shape == (3, k - 1)
            for j in range(k - 1):
                d1 = central_difference(m, s, cas, key, j, 2e-5)
                d2 = central_difference(m, s, cas, key, j, 1e-5)
                tol = np.abs(d1 - d2) + 1e-6 * (1 + np.abs(d2))
                assert np.all(np.abs(getattr(res, gkey)[:, j] - d2) <= tol), (cas, key, j)


def test_gradient_at_the_ends_of_the_cube(model):
    """At s = 0 only rank-1 kernels have density (n each), at s = 1 only rank-n ones; the
    gradient there is still the one-sided derivative of the closed form."""
    cas = (0, 3)
    for s0, sign in ((0.0, 1), (1.0, -1)):
        res = model.evaluate_quantile([[s0]], cas, with_grad=True)
        h = 1e-7
        fd = sign * (model.evaluate_quantile([[s0 + sign * h]], cas).cost
                     - res.cost) / h
        assert res.grad_cost[0, 0] == pytest.approx(fd[0], rel=1e-4)


# ----------------------------------------------------------- probability bookkeeping
@settings(max_examples=40)
@given(st.lists(st.floats(0, 1), min_size=4, max_size=4), st.integers(0, 3), st.floats(0, 1))
def test_raising_a_threshold_defers_more(model, s, j, step):
    """Raising s_j can only make later stages more likely to be reached and stage j less
    likely to answer (and so cannot lower the expected cost)."""
    s = np.array(s)
    s2 = s.copy()
    s2[j] = min(1.0, s[j] + step)
    r = model.evaluate_quantile(np.vstack([s, s2]), FULL)
    p = r.stage_probabilities
    reach = np.cumsum(p[:, ::-1], axis=1)[:, ::-1]  # P(reach stage l) = Σ_{m >= l} P(m)
    assert np.all(reach[1, j + 1:] >= reach[0, j + 1:] - 1e-12)
    assert p[1, j] <= p[0, j] + 1e-12
    assert r.cost[1] >= r.cost[0] - 1e-9


@pytest.mark.parametrize("cascade", [(0, 4), (1, 2, 3), FULL, (2,)])
def test_thresholds_at_zero_and_one(model, log, cascade):
    k = len(cascade)
    first, last = cascade[0], cascade[-1]
    r0 = model.evaluate_quantile(np.zeros(k - 1), cascade)
    assert r0.accuracy[0] == pytest.approx(log.accuracy[first], abs=1e-12)
    assert r0.cost[0] == pytest.approx(1e6 * log.mean_cost[first], rel=1e-12)
    assert_allclose(r0.stage_probabilities[0], np.eye(k)[0], atol=1e-15)
    r1 = model.evaluate_quantile(np.ones(k - 1), cascade)
    assert r1.accuracy[0] == pytest.approx(log.accuracy[last], abs=1e-12)
    assert r1.cost[0] == pytest.approx(1e6 * log.mean_cost[list(cascade)].sum(), rel=1e-12)
    assert_allclose(r1.stage_probabilities[0], np.eye(k)[-1], atol=1e-15)
    # the same through calibrated thresholds below / above every confidence
    low = model.predict(np.full(k - 1, -1.0), cascade)
    high = model.predict(np.full(k - 1, 2.0), cascade)
    assert low.accuracy[0] == pytest.approx(r0.accuracy[0], abs=1e-12)
    assert high.cost[0] == pytest.approx(r1.cost[0], rel=1e-12)


def test_confidence_target_with_one_stage_is_the_mean_calibrated_confidence(conf_model):
    for m in range(5):
        r = conf_model.evaluate_quantile(np.empty((1, 0)), (m,))
        assert r.accuracy[0] == pytest.approx(conf_model.confidence_[:, m].mean(), abs=1e-12)


def test_predict_is_evaluate_quantile_at_the_marginal_quantiles(model):
    rng = np.random.default_rng(5)
    cas = (0, 2, 3, 4)
    t = rng.uniform(0.3, 0.9, size=(6, 3))
    pred = model.predict(t, cas)
    assert isinstance(pred, CascadePrediction) and pred.cascade == cas
    s = np.column_stack([model.marginals_[m].cdf(t[:, j]) for j, m in enumerate(cas[:-1])])
    ref = model.evaluate_quantile(s, cas)
    assert_allclose(pred.accuracy, ref.accuracy, rtol=1e-14)
    assert_allclose(pred.cost, ref.cost, rtol=1e-14)
    assert_allclose(pred.stage_probabilities, ref.stage_probabilities, atol=1e-15)


def test_quantile_round_trip(model):
    """from_quantile then to_quantile returns s, except inside an atom's jump (where every
    s maps to the atom and back to the jump's upper end)."""
    rng = np.random.default_rng(6)
    s = rng.random((400, 4))
    back = model.to_quantile(model.from_quantile(s, FULL), FULL)
    for j in range(4):
        marg = model.marginals_[j]
        upper = marg.cdf(marg.atoms_)
        lower = upper - marg.atom_masses_
        inside = ((s[:, j, None] > lower) & (s[:, j, None] < upper)).any(axis=1)
        assert_allclose(back[~inside, j], s[~inside, j], atol=1e-12)


def test_batches_are_chunked_consistently(model):
    """2900 points of the full chain exceed one evaluation chunk (2807 at n = 285, k = 5)."""
    s = np.random.default_rng(7).random((2900, 4))
    whole = model.evaluate_quantile(s, FULL)
    parts = [model.evaluate_quantile(s[a:a + 1000], FULL) for a in range(0, 2900, 1000)]
    for key in ("accuracy", "cost", "stage_probabilities"):
        assert getattr(whole, key).shape[0] == 2900
        assert_allclose(getattr(whole, key), np.concatenate([getattr(p, key) for p in parts]),
                        rtol=1e-12, atol=1e-14)
    empty = model.evaluate_quantile(np.empty((0, 4)), FULL)
    assert empty.accuracy.shape == (0,) and empty.stage_probabilities.shape == (0, 5)


# ------------------------------------------------------- fidelity to the training data
def test_predictions_reproduce_the_training_routing_within_the_kernel_width(model, log):
    """predict(t) vs the empirical routing of the training queries at calibrated thresholds t.

    Bound (deterministic): for query i of rank block B at stage l, the empirical rule defers
    it with D_il = 1{φ_il <= t_l} = 1{ranks <= N_l} (N_l = #{φ_l <= t_l}) and the model with
    G_il = P(Bin(n, s_l) >= rank) (block-averaged). Summing over the ranks,
    (1/n) Σ_i |G_il − D_il| = E|Bin(n, s_l) − N_l| / n =: e_l
    (Σ_{r<=N} P(B < r) + Σ_{r>N} P(B >= r); inside a block all terms have one sign, so
    averaging over a block changes nothing). Under a kernel the stages decide independently,
    so the probability that its route differs from the empirical one is at most
    Σ_l |G_il − D_il|; with labels in [0, 1] this bounds each query's accuracy difference, so
    |Δaccuracy| <= Σ_l e_l, |ΔP(stage j)| <= Σ_{l<=j} e_l and
    |Δcost| <= Σ_j max_i c_ij Σ_{l<j} e_l. The marginal puts s_l within 1/(2n) of N_l/n
    (checked here), so e_l <= (E|Bin(n, s_l) − n s_l| + 1/2)/n ~ sqrt(2 s(1 − s)/(π n)):
    the kernels' width, O(n^-1/2), about 0.03 per stage at n = 285 and s = 1/2 — not O(1/n)
    in the worst case, because the labels change with the rank inside the kernel's window.
    """
    phi = model.calibrate(log)
    n = log.n_queries
    rng = np.random.default_rng(8)
    checked = 0
    for k in (2, 3, 4, 5):
        for cas in {random_cascade(rng, k) for _ in range(3)}:
            idx = list(cas)
            # thresholds: uniform over each model's range, and some exactly at training values
            t = rng.uniform(phi[:, idx[:-1]].min(0), phi[:, idx[:-1]].max(0), size=(8, k - 1))
            t[:3] = phi[rng.integers(0, n, size=(3, k - 1)), idx[:-1]]
            pred = model.predict(t, cas)
            emp = score_cascade(log, cas, t, confidence=phi)
            s = model.to_quantile(t, cas)
            count = (phi[None, :, idx[:-1]] <= t[:, None, :]).sum(axis=1)  # N_l, (P, k-1)
            assert np.all(np.abs(n * s - count) <= 0.5 + 1e-9)
            pmf = stats.binom.pmf(np.arange(n + 1)[None, None, :], n, s[:, :, None])
            e = (pmf * np.abs(np.arange(n + 1) - count[:, :, None])).sum(axis=2) / n
            assert np.all(np.abs(pred.accuracy - emp["accuracy"]) <= e.sum(axis=1) + 1e-12)
            cum_e = np.concatenate([np.cumsum(e, axis=1), e.sum(axis=1, keepdims=True)], 1)
            assert np.all(np.abs(pred.stage_probabilities - emp["stage_usage"])
                          <= cum_e + 1e-12)
            cmax = (log.cost[:, idx] * 1e6).max(axis=0)
            before = np.concatenate([np.zeros((len(t), 1)), np.cumsum(e, axis=1)], 1)
            assert np.all(np.abs(pred.cost - emp["cost"]) <= before @ cmax + 1e-9)
            checked += len(t)
    assert checked >= 8 * 8


def test_narrow_kernels_give_the_empirical_routing_at_the_ends(model, log):
    """With thresholds below / above every training confidence the kernels' smoothing has
    nothing to smooth: prediction and empirical routing coincide."""
    phi = model.calibrate(log)
    for cas in [(0, 4), (1, 2, 3, 4)]:
        k = len(cas)
        for t in (np.full(k - 1, phi.min() - 0.01), np.full(k - 1, phi.max() + 0.01)):
            pred = model.predict(t, cas)
            emp = score_cascade(log, cas, t, confidence=phi)
            assert pred.accuracy[0] == pytest.approx(emp["accuracy"][0], abs=1e-12)
            assert pred.cost[0] == pytest.approx(emp["cost"][0], rel=1e-12)


# --------------------------------------------------------------- Monte Carlo law
def test_sampled_confidences_routed_match_the_stage_probabilities(model):
    """Route confidences simulated from the fitted law (U ~ empirical beta copula,
    Φ_j = F_j⁻¹(U_j)) and compare stage usage with the closed form: 4 binomial standard
    errors per stage (the threshold rows are fixed, so the checks are deterministic)."""
    n_mc = 20_000
    rng = np.random.default_rng(9)
    for cas in [(0, 4), (1, 2, 4), (0, 1, 3, 4), FULL]:
        k = len(cas)
        sim = model.sample(n_mc, cas, rng=rng)
        assert sim.shape == (n_mc, k)
        assert np.all((sim >= 0) & (sim <= 1))
        s = rng.uniform(0.1, 0.9, size=(3, k - 1))
        t = model.from_quantile(s, cas)
        usage = np.stack([(route(sim, t) == j).mean(axis=1) for j in range(k)], axis=1)
        p = model.predict(t, cas).stage_probabilities
        se = np.sqrt(p * (1 - p) / n_mc)
        assert np.all(np.abs(usage - p) <= 4 * se + 1e-12), (cas, usage, p)


def test_sample_is_reproducible_and_uses_the_cascade_columns(model):
    a = model.sample(50, (1, 3), rng=3)
    b = model.sample(50, FULL, rng=3)
    assert_allclose(a, b[:, [1, 3]])
    assert not np.allclose(model.sample(50, FULL, rng=4), b)


# --------------------------------------------------------------------------- tuning
@pytest.mark.parametrize("cascade", [(0, 2, 4), FULL])
def test_tune_traces_a_pareto_frontier(model, cascade):
    f = tune(model, cascade, rng=0)
    assert f.method == "empirical-copula"
    assert f.models == tuple(model.models_[m] for m in cascade)
    assert len(f) >= 5
    assert np.all(np.diff(f.cost) > 0)
    assert np.all(np.diff(f.accuracy) >= 0)
    costs = model.costs_[list(cascade)]
    assert f.cost[0] >= costs[0] - 1e-9 and f.cost[-1] <= costs.sum() + 1e-9
    pred = model.predict(f.thresholds, cascade)
    assert_allclose(f.accuracy, pred.accuracy, rtol=1e-12)
    assert_allclose(f.stage_probabilities, pred.stage_probabilities, atol=1e-12)
    # the reported cost is the rules' routed training cost (rule_cost), which the objective's
    # kernel-smoothed cost approximates
    assert_allclose(f.cost, model.rule_cost(f.stage_probabilities, f.directions,
                                            f.raw_thresholds, cascade), rtol=1e-12)
    assert_allclose(f.cost, pred.cost, rtol=0.05)


@pytest.mark.parametrize("cascade", [(0, 1), (0, 2), (0, 1, 2)])
def test_tuner_matches_brute_force_on_a_small_synthetic_log(cascade):
    """Dense grid over s (2001 points for k = 2, 81 x 81 for k = 3) of the objective
    1 − accuracy + λ·cost: no grid point beats the tuned thresholds by more than the
    optimiser's tolerance (untied data, so no atom snapping moves the optimum)."""
    slog = synthetic_log(60, k=3, seed=10)
    m = EmpiricalCopulaModel().fit(slog)
    assert all(marg.atoms_.size == 0 for marg in m.marginals_)
    k = len(cascade)
    lams = np.array([0.0, 1e-3, 5e-3, 2e-2, 5e-2])
    f = tune(m, cascade, lambdas=lams, pareto=False, rng=0)
    if k == 2:
        grid = np.linspace(0, 1, 2001)[:, None]
    else:
        g = np.linspace(0, 1, 81)
        grid = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    ev = m.evaluate_quantile(grid, cascade)
    tuned = m.evaluate_quantile(m.to_quantile(f.thresholds, cascade), cascade)
    for p, lam in enumerate(f.lambdas):
        brute = np.min(1 - ev.accuracy + lam * ev.cost)
        obj = 1 - tuned.accuracy[p] + lam * tuned.cost[p]
        assert obj <= brute + 1e-7, (lam, obj, brute)


# ------------------------------------------------------------------------ invariance
def test_invariant_to_the_row_order_of_the_training_log(log, model, conf_model):
    perm = np.random.default_rng(11).permutation(log.n_queries)
    shuffled = log.take(perm)
    rng = np.random.default_rng(12)
    for base, target in ((model, "correct"), (conf_model, "confidence")):
        other = EmpiricalCopulaModel(target=target).fit(shuffled)
        for cas in [(0, 4), (1, 2, 3), FULL]:
            s = rng.random((5, len(cas) - 1))
            a = base.evaluate_quantile(s, cas, with_grad=True)
            b = other.evaluate_quantile(s, cas, with_grad=True)
            for key in ("accuracy", "cost", "stage_probabilities", "grad_accuracy", "grad_cost"):
                assert_allclose(getattr(b, key), getattr(a, key), rtol=1e-9, atol=1e-12)
            t = rng.uniform(0.3, 0.9, size=(5, len(cas) - 1))
            assert_allclose(other.predict(t, cas).accuracy, base.predict(t, cas).accuracy,
                            rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- errors
def test_unfitted_model_raises(log):
    m = EmpiricalCopulaModel()
    for call in (lambda: m.evaluate_quantile([0.5], (0, 1)), lambda: m.predict([0.5], (0, 1)),
                 lambda: m.sample(3), lambda: m.calibrate(log),
                 lambda: m.to_quantile([0.5], (0, 1)), lambda: m.from_quantile([0.5], (0, 1)),
                 lambda: m.raw_thresholds([0.5], (0, 1))):
        with pytest.raises(ValueError, match="not fitted yet"):
            call()
    with pytest.raises(ValueError, match="^model: not fitted yet"):
        tune(m, (0, 1))


def test_bad_target_is_rejected_at_fit(log):
    with pytest.raises(ValueError, match="^target: expected one of"):
        EmpiricalCopulaModel(target="label").fit(log)


def test_only_the_exact_approximation_is_accepted(model):
    with pytest.raises(ValueError, match="^approximation: EmpiricalCopulaModel is exact"):
        model.evaluate_quantile([0.5], (0, 1), approximation="event-markov")
    with pytest.raises(ValueError, match="^approximation:"):
        model.predict([0.5], (0, 1), approximation="event-markov")
    a = model.evaluate_quantile([0.5], (0, 1), approximation="exact", n_cells=3)
    b = model.evaluate_quantile([0.5], (0, 1))
    assert a.accuracy[0] == b.accuracy[0]


def test_threshold_shape_and_nan_are_rejected(model):
    with pytest.raises(ValueError, match="^s: a cascade of 3 models needs 2 thresholds"):
        model.evaluate_quantile([0.5, 0.5, 0.5], (0, 1, 2))
    with pytest.raises(ValueError, match="^s: a cascade of 3 models needs 2 thresholds"):
        model.evaluate_quantile(np.zeros((2, 2, 2)), (0, 1, 2))
    with pytest.raises(ValueError, match="^thresholds: a cascade of 5 models needs 4"):
        model.predict([0.5, 0.5])
    with pytest.raises(ValueError, match="^s: contains NaN"):
        model.evaluate_quantile([0.5, np.nan], (0, 1, 2))
    with pytest.raises(ValueError, match="^thresholds: contains NaN"):
        model.predict([[0.5, np.nan]], (0, 1, 2))
    with pytest.raises(ValueError, match="^cascade:"):
        model.predict([0.5], (2, 1))


@pytest.mark.filterwarnings("ignore:PlattCalibrator:UserWarning")  # 2 labels per model
def test_fit_rejects_non_logs_and_tiny_logs(log):
    with pytest.raises(ValueError, match="^log: expected a ChainLog, got ndarray"):
        EmpiricalCopulaModel().fit(log.confidence)
    with pytest.raises(ValueError, match="^log: need at least 2 training queries, got 1"):
        EmpiricalCopulaModel().fit(log.take([3]))
    two = EmpiricalCopulaModel().fit(log.take([3, 7]))  # the smallest log that is accepted
    p = two.evaluate_quantile([[0.5]], (0, 4)).stage_probabilities
    assert_allclose(p.sum(), 1.0)
