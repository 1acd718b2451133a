"""Active pair selection under a comparison budget."""

from __future__ import annotations

import numpy as np
import pytest

from llmcopula.ranking import (
    MatrixComparator,
    active_rank,
    all_pairs,
    kendall_tau,
    simulate_logits,
)


def _problem(seed: int, n: int = 10, noise: float = 0.3):
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=n)
    return mu, MatrixComparator(simulate_logits(mu, bias=0.3, noise=noise, rng=rng))


@pytest.mark.parametrize("strategy", ["information", "uncertainty", "top", "random"])
def test_budget_is_spent_exactly_on_distinct_pairs_after_a_spanning_chain(strategy):
    mu, f = _problem(0, n=7)
    res = active_rank(f, None, range(7), budget=12, strategy=strategy, rng=1)
    assert res.n_comparisons == 12 and res.n_calls == 24 and res.matrix.n_calls == 24
    pairs = np.sort(res.pairs, axis=1)
    assert len({tuple(p) for p in pairs}) == 12
    chain = res.pairs[:6]
    assert np.array_equal(chain[1:, 0], chain[:-1, 1])  # a path through a permutation
    assert set(chain.ravel().tolist()) == set(range(7))


def test_one_order_mode_makes_one_call_per_comparison():
    mu, f = _problem(1, n=6)
    res = active_rank(f, None, range(6), budget=8, both_orders=False, rng=0)
    assert res.n_calls == 8 and res.model.position_bias_ == 0.0


def test_full_budget_noise_free_finds_the_argmax():
    mu = np.array([0.1, 1.5, -0.3, 0.9, 0.4])
    f = MatrixComparator(simulate_logits(mu, bias=0.7, noise=0.0))
    for strategy in ("information", "top", "random"):
        res = active_rank(f, None, range(5), budget=10, strategy=strategy, rng=0)
        assert res.best == 1
        np.testing.assert_array_equal(np.argsort(-res.scores), np.argsort(-mu))


def test_active_selection_beats_random_selection_at_equal_budget_on_average():
    """30 seeded problems (n = 10, budget 18 = 2(n - 1), noise 0.3): the paired mean gain in
    Kendall tau of the "uncertainty" rule over random pairs was 0.049 (SE 0.013), and the gain in
    top-1 hit rate of the "top" rule 0.27 (SE 0.095); we assert each gain exceeds two SEs of the
    paired differences (computed here, not hard-coded)."""
    tau_gain, hit_gain = [], []
    for seed in range(30):
        mu, f = _problem(seed)
        rnd = active_rank(f, None, range(10), budget=18, strategy="random", rng=seed)
        unc = active_rank(f, None, range(10), budget=18, strategy="uncertainty", rng=seed)
        top = active_rank(f, None, range(10), budget=18, strategy="top", rng=seed)
        tau_gain.append(kendall_tau(unc.scores, mu) - kendall_tau(rnd.scores, mu))
        best = np.argmax(mu)
        hit_gain.append(float(top.best == best) - float(rnd.best == best))
    for gain in (np.array(tau_gain), np.array(hit_gain)):
        assert gain.mean() > 2 * gain.std(ddof=1) / np.sqrt(gain.size)


@pytest.mark.parametrize("budget, match", [
    (5, "budget: at least n - 1 = 6"),
    (22, "budget: at most n"),
    (0, "budget: must be >= 1"),
    (7.5, "budget: expected an integer"),
])
def test_bad_budgets_raise(budget, match):
    mu, f = _problem(0, n=7)
    with pytest.raises(ValueError, match=match):
        active_rank(f, None, range(7), budget=budget)


def test_bad_options_raise():
    mu, f = _problem(0, n=4)
    with pytest.raises(ValueError, match="strategy"):
        active_rank(f, None, range(4), budget=3, strategy="greedy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha"):
        active_rank(f, None, range(4), budget=3, alpha=0.0)
    with pytest.raises(ValueError, match="candidates: need at least 2"):
        active_rank(f, None, [0], budget=1)
    with pytest.raises(ValueError, match="comparator"):
        active_rank(lambda x, a, b: float("nan"), None, range(4), budget=3)
    assert all_pairs(4).shape == (6, 2)
