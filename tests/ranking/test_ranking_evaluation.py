"""MixInstruct-style evaluation utilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst
from scipy.stats import kendalltau

from llmcopula.ranking import (
    kendall_tau,
    mean_oracle_rank,
    oracle_win_ranks,
    top_k_hit_rate,
    versus_baseline,
)


@given(a=npst.arrays(np.float64, 7, elements=st.sampled_from([0.0, 1.0, 2.0, 2.5])),
       b=npst.arrays(np.float64, 7, elements=st.sampled_from([0.0, 1.0, 3.0])))
def test_kendall_tau_b_matches_scipy_with_ties(a, b):
    ours = kendall_tau(a, b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        assert ours == 0.0
    else:
        np.testing.assert_allclose(ours, kendalltau(a, b).statistic, rtol=1e-12, atol=1e-15)


def test_kendall_tau_is_vectorised_over_rows():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    expected = [kendalltau(x, y).statistic for x, y in zip(s, t)]
    np.testing.assert_allclose(kendall_tau(s, t), expected, rtol=1e-12)


def test_oracle_win_ranks_and_gpt_rank():
    W = np.zeros((2, 3, 3))
    W[0] = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]           # 0 > 1 > 2
    W[1] = [[0, 0.5, 0], [0.5, 0, 0], [1, 1, 0]]       # 2 best, 0 and 1 tied
    assert oracle_win_ranks(W).tolist() == [[1, 2, 3], [2, 2, 1]]
    assert mean_oracle_rank([0, 0], W) == 1.5
    assert mean_oracle_rank([2, 2], W) == 2.0


@pytest.mark.parametrize("ties, rate", [("win", 5 / 6), ("half", 4 / 6), ("loss", 3 / 6),
                                        ("exclude", 3 / 4)])
def test_versus_baseline_tie_policies(ties, rate):
    method = [1, 1, 1, 0, 0, 1]
    base = [0, 0, 1, 0, 1, 0]
    r = versus_baseline(method, base, ties=ties)
    assert (r.wins, r.ties, r.losses) == (3, 2, 1)
    assert r.rate == pytest.approx(rate)


def test_top_k_hit_rate():
    ranks = np.array([[1, 2, 3], [3, 1, 2], [2, 2, 1]])
    assert top_k_hit_rate([0, 0, 1], ranks, k=1) == 1 / 3
    assert top_k_hit_rate([0, 0, 1], ranks, k=2) == 2 / 3


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="ties"):
        versus_baseline([1], [0], ties="draw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="baseline_quality"):
        versus_baseline([1, 0], [0])
    with pytest.raises(ValueError, match="selected"):
        top_k_hit_rate([0, 5], np.ones((2, 3)), k=1)
    with pytest.raises(ValueError, match="truth"):
        kendall_tau([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="oracle_wins"):
        oracle_win_ranks(np.zeros((2, 3, 4)))
