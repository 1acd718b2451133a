"""MaxLogits, MaxWins, bubble selection, ranks and reference rewards (LLM-Blender's aggregators,
Jiang, Ren & Lin 2023, arXiv 2306.02561)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst
from scipy.stats import rankdata

from llmcopula.ranking import (
    UnequalComparisonsWarning,
    ComparisonSession,
    MatrixComparator,
    PairwiseMatrix,
    bubble_comparisons,
    bubble_select,
    kendall_tau,
    maxlogits_scores,
    maxwins_scores,
    ranks_from_scores,
    reference_rewards,
    simulate_logits,
    symmetrize,
    topk_from_scores,
)

distinct_qualities = npst.arrays(
    np.float64, st.integers(2, 12),
    elements=st.floats(-5, 5, allow_nan=False), unique=True,
).filter(lambda mu: np.min(np.diff(np.sort(mu))) > 1e-6)


class CountingComparator:
    """Looks up a matrix and counts its calls."""

    def __init__(self, M: np.ndarray) -> None:
        self.M = M
        self.calls = 0

    def __call__(self, x, i, j) -> float:
        self.calls += 1
        return float(self.M[i, j])


@given(mu=distinct_qualities, rng_seed=st.integers(0, 2**16))
@settings(max_examples=60)
def test_noise_free_bias_free_aggregators_all_find_the_argmax(mu, rng_seed):
    """Without noise and bias, MaxLogits, MaxWins and bubble all return argmax mu."""
    M = simulate_logits(mu, noise=0.0)
    best = int(np.argmax(mu))
    assert np.argmax(maxlogits_scores(M)) == best
    assert np.argmax(maxwins_scores(M)) == best
    session = ComparisonSession(MatrixComparator(M), None, range(mu.size))
    assert bubble_select(session.compare, mu.size, rng=rng_seed).best == best


@given(mu=distinct_qualities, bias=st.floats(-10, 10))
@settings(max_examples=60)
def test_debiased_aggregators_find_the_argmax_under_any_position_bias(mu, bias):
    """MaxLogits and bubble use s_ij = M_ij - M_ji, so a constant bias cannot mislead them."""
    M = simulate_logits(mu, bias=bias, noise=0.0)
    best = int(np.argmax(mu))
    assert np.argmax(maxlogits_scores(M)) == best
    assert bubble_select(ComparisonSession(MatrixComparator(M), None, range(mu.size)).compare,
                         mu.size, rng=0).best == best


def test_maxwins_counts_signs_per_order_so_a_bias_larger_than_the_margins_blinds_it():
    """With |b| > max |mu_i - mu_j| the first-shown candidate always wins: every candidate gets
    n - 1 wins and MaxWins cannot separate them, while MaxLogits still can."""
    mu = np.array([0.0, 0.2, 0.5])
    M = simulate_logits(mu, bias=1.0, noise=0.0)
    assert maxwins_scores(M).tolist() == [2.0, 2.0, 2.0]
    assert np.argmax(maxlogits_scores(M)) == 2
    small = simulate_logits(mu, bias=0.1, noise=0.0)   # |b| below the smallest margin
    assert np.argmax(maxwins_scores(small)) == 2


@given(bias=st.floats(-20, 20), seed=st.integers(0, 2**16))
@settings(max_examples=50)
def test_symmetrized_maxlogits_is_exactly_invariant_to_a_constant_position_bias(bias, seed):
    """sum_j (M_ij - M_ji) cancels b exactly: same noise draws, any b, same scores."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=7)
    eps = rng.normal(size=(7, 7))
    M0 = mu[:, None] - mu[None, :] + eps
    Mb = M0 + bias
    tol = 1e-13 * (1 + abs(bias)) * 7 * 4  # rounding of + b: a few ulps per term, 7 terms
    np.testing.assert_allclose(maxlogits_scores(Mb), maxlogits_scores(M0), rtol=0, atol=tol)
    np.testing.assert_allclose(symmetrize(Mb), symmetrize(M0), rtol=0, atol=tol)


def test_maxlogits_and_maxwins_match_their_definitions_by_explicit_loops():
    rng = np.random.default_rng(3)
    M = rng.normal(size=(6, 6))
    n = 6
    ml = [sum(M[i, j] - M[j, i] for j in range(n) if j != i) for i in range(n)]
    mw = [sum(int(M[i, j] > 0) + int(M[j, i] < 0) for j in range(n) if j != i) for i in range(n)]
    np.testing.assert_allclose(maxlogits_scores(M), ml, rtol=1e-13)
    np.testing.assert_array_equal(maxwins_scores(M), mw)


def test_normalized_scores_of_a_complete_matrix_are_sum_over_2_n_minus_1():
    M = np.random.default_rng(0).normal(size=(5, 5))
    np.testing.assert_allclose(maxlogits_scores(M, normalize=True), maxlogits_scores(M) / 8)
    np.testing.assert_allclose(maxwins_scores(M, normalize=True), maxwins_scores(M) / 8)


def test_partial_matrix_treats_unqueried_pairs_as_absent():
    M = np.full((3, 3), np.nan)
    M[0, 1], M[1, 0], M[2, 1] = 2.0, -1.0, 0.5  # 0 and 2 have 2 and 1 calls, 1 has 3
    with pytest.warns(UnequalComparisonsWarning, match="normalize=True"):
        np.testing.assert_allclose(maxlogits_scores(M), [3.0, -3.5, 0.5])
    np.testing.assert_allclose(maxlogits_scores(M, normalize=True), [1.5, -3.5 / 3, 0.5])
    with pytest.warns(UnequalComparisonsWarning):
        np.testing.assert_allclose(maxwins_scores(M), [2.0, 0.0, 1.0])


@pytest.mark.parametrize("score", [maxlogits_scores, maxwins_scores])
def test_a_candidate_never_compared_has_no_score(score):
    M = np.full((3, 3), np.nan)
    M[0, 1], M[1, 0] = 2.0, -1.0
    with pytest.raises(ValueError, match=r"M: candidate\(s\) \[2\] were never compared"):
        score(M, normalize=True)


def test_intransitive_cycle_maxwins_ties_while_maxlogits_breaks_by_margins():
    """0 beats 1 by 3, 1 beats 2 by 1, 2 beats 0 by 1: every candidate wins once, but the
    margins favour 0 (+3 - 1) over 2 (+1 - 1) over 1 (+1 - 3)."""
    S = np.zeros((3, 3))
    S[0, 1], S[1, 2], S[2, 0] = 3.0, 1.0, 1.0
    M = S - S.T  # antisymmetric logits: both orders agree
    wins = maxwins_scores(M)
    assert wins[0] == wins[1] == wins[2] == 2.0
    assert (ranks_from_scores(wins) == 1).all()
    logits = maxlogits_scores(M)
    np.testing.assert_allclose(logits, [4.0, -4.0, 0.0])
    assert ranks_from_scores(logits).tolist() == [1, 3, 2]


@pytest.mark.parametrize("n", [2, 3, 7, 12])
@pytest.mark.parametrize("runs", [1, 2, "all"])
def test_bubble_uses_exactly_the_stated_number_of_comparisons_and_calls(n, runs):
    runs = n - 1 if runs == "all" else min(runs, n - 1)
    M = simulate_logits(np.arange(n, dtype=float), bias=0.3, noise=1.0, rng=n)
    f = CountingComparator(M)
    session = ComparisonSession(f, None, range(n), cache=False)
    res = bubble_select(session.compare, n, runs=runs, rng=1)
    expected = sum(n - 1 - r for r in range(runs))
    assert res.n_comparisons == bubble_comparisons(n, runs) == expected
    assert session.n_comparisons == expected
    assert f.calls == session.n_calls == 2 * expected


def test_single_pass_bubble_costs_n_minus_1_comparisons_and_2_n_minus_1_calls():
    n = 9
    f = CountingComparator(simulate_logits(np.arange(n, dtype=float), noise=0.5, rng=0))
    session = ComparisonSession(f, None, range(n))
    res = bubble_select(session.compare, n, rng=0)
    assert res.n_comparisons == n - 1
    assert f.calls == 2 * (n - 1)


def test_full_bubble_sort_orders_noise_free_candidates_completely():
    mu = np.random.default_rng(5).normal(size=8)
    compare = lambda i, j: mu[i] - mu[j]  # noqa: E731
    res = bubble_select(compare, 8, runs=7, rng=2)
    np.testing.assert_array_equal(res.top, np.argsort(-mu)[:7])
    worst = bubble_select(compare, 8, rng=2, worst=True)
    assert worst.best == np.argmin(mu)


def test_bubble_tie_rule_decides_who_survives_a_zero_logit():
    perm = np.random.default_rng(4).permutation(5)
    always_tied = lambda i, j: 0.0  # noqa: E731
    assert bubble_select(always_tied, 5, rng=4, ties="challenger").best == perm[-1]
    assert bubble_select(always_tied, 5, rng=4, ties="incumbent").best == perm[0]


def test_pairwise_matrix_counts_n_times_n_minus_1_calls_and_does_not_requery():
    n = 6
    f = CountingComparator(simulate_logits(np.arange(n, dtype=float), noise=1.0, rng=1))
    pm = PairwiseMatrix.from_comparator(f, None, list(range(n)))
    assert pm.n_calls == f.calls == n * (n - 1)
    assert pm.complete
    again = pm.extend(f, None, list(range(n)), pairs=[[0, 1], [2, 3]])
    assert again.n_calls == pm.n_calls and f.calls == n * (n - 1)
    one_order = PairwiseMatrix.from_comparator(f, None, list(range(n)), pairs=[[0, 1]],
                                               both_orders=False)
    assert one_order.n_calls == 1 and one_order.queried.sum() == 1


def test_batch_comparator_is_called_once_with_every_ordered_pair():
    class Batch(CountingComparator):
        batches = 0

        def compare_many(self, x, a, b):
            self.batches += 1
            return self.M[np.asarray(a), np.asarray(b)]

    M = simulate_logits(np.arange(4.0), noise=1.0, rng=2)
    f = Batch(M)
    pm = PairwiseMatrix.from_comparator(f, None, list(range(4)))
    assert f.batches == 1 and f.calls == 0 and pm.n_calls == 12
    np.testing.assert_allclose(pm.logits, M)


@given(scores=npst.arrays(np.float64, st.integers(1, 15),
                          elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0, 3.0])))
def test_ranks_match_scipy_min_ranking_of_negated_scores(scores):
    """Equal scores share the better rank (scipy's method='min' as the oracle)."""
    np.testing.assert_array_equal(ranks_from_scores(scores), rankdata(-scores, method="min"))


def test_topk_breaks_ties_towards_the_lower_index():
    assert topk_from_scores([1.0, 3.0, 3.0, 0.0], 3).tolist() == [1, 2, 0]


def test_reference_rewards_read_only_the_reference_row_and_column():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    r = reference_rewards(M, 2)
    np.testing.assert_allclose(r, [M[0, 2] - M[2, 0], M[1, 2] - M[2, 1], 0.0, M[3, 2] - M[2, 3]])
    np.testing.assert_allclose(reference_rewards(M, 2, both_orders=False),
                               [-M[2, 0], -M[2, 1], 0.0, -M[2, 3]])


def test_maxlogits_kendall_tau_beats_maxwins_on_average_under_noise():
    """Averaged over 300 seeded draws (n = 8, sigma = 2), MaxLogits' tau to mu exceeds MaxWins'.

    Per-draw differences are noisy; the test asserts the mean paired difference exceeds three
    of its standard errors (SE = sample SD / sqrt(300))."""
    rng = np.random.default_rng(2024)
    mu = rng.normal(size=(300, 8))
    Ms = simulate_logits(mu, bias=0.5, noise=2.0, rng=rng)
    tl = kendall_tau(np.array([maxlogits_scores(M) for M in Ms]), mu)
    tw = kendall_tau(np.array([maxwins_scores(M) for M in Ms]), mu)
    d = tl - tw
    assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(d.size)


# ---------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("M, match", [
    (np.zeros((3, 4)), "square"),
    (np.zeros((1, 1)), "at least 2"),
    (np.zeros(3), "square"),
    (np.array([[0.0, np.inf], [0.0, 0.0]]), "infinite"),
])
def test_bad_logit_matrices_raise_value_errors_naming_the_argument(M, match):
    for fn in (maxlogits_scores, maxwins_scores, symmetrize):
        with pytest.raises(ValueError, match=match):
            fn(M)


def test_comparator_returning_nan_or_garbage_raises():
    with pytest.raises(ValueError, match="comparator: .*non-finite"):
        PairwiseMatrix.from_comparator(lambda x, a, b: float("nan"), None, [0, 1])
    with pytest.raises(ValueError, match="comparator"):
        PairwiseMatrix.from_comparator(lambda x, a, b: "better", None, [0, 1])
    with pytest.raises(ValueError, match="comparator: .*non-finite"):
        ComparisonSession(lambda x, a, b: np.inf, None, [0, 1]).compare(0, 1)


def test_fewer_than_two_candidates_raise():
    with pytest.raises(ValueError, match="candidates: need at least 2"):
        PairwiseMatrix.from_comparator(lambda x, a, b: 0.0, None, ["only"])
    with pytest.raises(ValueError, match="n: need at least 2"):
        bubble_select(lambda i, j: 0.0, 1)


def test_bad_bubble_options_and_pairs_raise():
    with pytest.raises(ValueError, match="runs: must be <= n - 1"):
        bubble_select(lambda i, j: 0.0, 4, runs=4)
    with pytest.raises(ValueError, match="ties"):
        bubble_select(lambda i, j: 0.0, 4, ties="coin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pairs: indices"):
        PairwiseMatrix.from_comparator(lambda x, a, b: 0.0, None, [0, 1], pairs=[[0, 2]])
    with pytest.raises(ValueError, match="pairs: a candidate"):
        PairwiseMatrix.from_comparator(lambda x, a, b: 0.0, None, [0, 1], pairs=[[1, 1]])
    with pytest.raises(ValueError, match="reference"):
        reference_rewards(np.zeros((3, 3)), 3)


def test_lazy_session_and_full_matrix_give_the_same_debiased_logits():
    M = simulate_logits(np.random.default_rng(1).normal(size=5), bias=0.3, noise=1.0, rng=2)
    f = MatrixComparator(M)
    S = PairwiseMatrix.from_comparator(f, None, range(5)).symmetrized()
    session = ComparisonSession(f, None, range(5))
    for i in range(5):
        for j in range(5):
            if i != j:
                assert session.compare(i, j) == S[i, j]
    assert session.n_calls == 20 and session.n_comparisons == 20
    np.testing.assert_array_equal(session.matrix().logits, PairwiseMatrix(M).logits)


def test_pairwise_matrix_is_immutable():
    pm = PairwiseMatrix(np.zeros((3, 3)))
    with pytest.raises(ValueError):
        pm.logits[0, 1] = 1.0
    with pytest.raises(AttributeError):
        pm.n_calls = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="n_calls"):
        PairwiseMatrix(np.zeros((3, 3)), -1)
