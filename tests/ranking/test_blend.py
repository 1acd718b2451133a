"""Top-K selection feeding a fuser (GenFuser's role)."""

from __future__ import annotations

import pytest

from llmcopula.ranking import (
    first_fuser,
    plurality_fuser,
    rank_and_fuse,
    select_top_k,
)

QUALITY = {"excellent": 3.0, "good": 2.0, "fair": 1.0, "poor": 0.0, "awful": -1.0}
CANDIDATES = ["fair", "awful", "excellent", "poor", "good"]


def biased_judge(x, a, b):
    return QUALITY[a] - QUALITY[b] + 0.4


@pytest.mark.parametrize("method", ["maxlogits", "maxwins", "bradley-terry", "bubble"])
def test_every_method_feeds_the_true_top_k_best_first_to_the_fuser(method):
    seen = []

    def fuser(x, texts):
        seen.append((x, list(texts)))
        return " | ".join(texts)

    res = rank_and_fuse(biased_judge, "question", CANDIDATES, k=3, fuser=fuser, method=method,
                        rng=0)
    assert seen == [("question", ["excellent", "good", "fair"])]
    assert res.output == "excellent | good | fair"
    assert res.top_k.indices.tolist() == [2, 4, 0]


def test_call_counts_full_matrix_and_bubble():
    full = rank_and_fuse(biased_judge, None, CANDIDATES, k=1)
    assert full.n_calls == 20
    bubble = rank_and_fuse(biased_judge, None, CANDIDATES, k=1, method="bubble", rng=0)
    assert bubble.n_calls == 8 and bubble.scores is None
    top2 = rank_and_fuse(biased_judge, None, CANDIDATES, k=2, method="bubble", rng=0)
    assert top2.n_calls <= 2 * (4 + 3)


def test_k_equal_to_n_with_bubble_returns_every_candidate():
    res = rank_and_fuse(biased_judge, None, CANDIDATES, k=5, method="bubble", rng=3)
    assert res.top_k.candidates == ["excellent", "good", "fair", "poor", "awful"]


def test_fusers():
    assert first_fuser(None, ["a", "b"]) == "a"
    assert plurality_fuser(None, ["B", "A", "A"]) == "A"
    assert plurality_fuser(None, ["C", "A", "B"]) == "C"


def test_select_top_k_and_bad_inputs():
    top = select_top_k(["x", "y", "z"], [0.2, 0.2, 0.9], 2)
    assert top.indices.tolist() == [2, 0] and top.candidates == ["z", "x"]
    with pytest.raises(ValueError, match="scores: expected shape"):
        select_top_k(["x", "y"], [1.0], 1)
    with pytest.raises(ValueError, match="k: must be <="):
        select_top_k(["x", "y"], [1.0, 2.0], 3)
    with pytest.raises(ValueError, match="k: must be <="):
        rank_and_fuse(biased_judge, None, CANDIDATES, k=6)
    with pytest.raises(ValueError, match="method"):
        rank_and_fuse(biased_judge, None, CANDIDATES, method="borda")  # type: ignore[arg-type]
