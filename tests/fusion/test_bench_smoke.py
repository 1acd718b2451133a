"""Quick mode of the fusion benchmark (tiny models on the bundled KJV excerpt), and a check of
its segment-level pool against the pool's definition."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp

pytest.importorskip("tokenizers")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.bench_fusion import QUICK, SYSTEMS, VARIANTS, markdown, run  # noqa: E402
from benchmarks.fusion_lm.evaluation import (  # noqa: E402
    Scored,
    pool_char_logprobs,
    pool_segments,
    segment_starts,
)


def test_quick_benchmark_reports_every_system_with_intervals_over_seeds_and_blocks():
    res = run(QUICK, quick=True, n_jobs=1, log=lambda *args: None)
    assert len(res["results"]) == len(QUICK.seeds) >= 2
    for r in res["results"]:
        assert set(r["scores"]) == set(SYSTEMS)
        for score in r["scores"].values():
            assert math.isfinite(score.bpc) and score.bpc > 0
            assert 0.0 <= score.accuracy <= 1.0
            assert score.chars.sum() == r["test_chars"]
        assert set(r["dev_variants"]) == set(VARIANTS)
        assert r["improved_variant"] in VARIANTS
        assert set(r["dev_pool"]) == {"segment pool, uniform", "segment pool, dev-tuned"}
        assert r["improved_closes_pool_gap_on_dev"] == (
            r["dev_variants"][r["improved_variant"]] <= min(r["dev_pool"].values()))
    table = res["summary"]["table"]
    for row in table.values():
        mean, lo, hi = row["bpc"]
        assert lo <= mean <= hi
    for c in res["summary"]["comparisons"].values():
        for p in c["per_seed"]:
            assert p["ci"][0] <= p["ci"][1]
    text = markdown(res["summary"], res["results"])
    assert "| segment pool, dev-tuned |" in text and "| DeePEn (improved), uniform |" in text


def test_pool_next_character_law_uses_posterior_weights_inside_a_segment():
    # "ab cd ef": model 0 reads a|b|▁|c|d|▁|ef, model 1 reads ab|▁|cd|▁|e|f.
    text = "ab cd ef"
    rng = np.random.default_rng(0)
    starts = [np.array([0, 1, 2, 3, 4, 5, 6]), np.array([0, 2, 3, 5, 6, 7])]
    scored = [Scored(np.zeros(s.size, dtype=int), s, np.zeros((s.size, 1)),
                     np.log(rng.uniform(0.1, 0.9, size=s.size))) for s in starts]
    shared = np.array([0, 2, 3, 5, 6])
    char_lp = [np.log(rng.dirichlet(np.ones(4), size=shared.size)) for _ in range(2)]
    seg = segment_starts(text)
    np.testing.assert_array_equal(seg, [0, 3, 6])
    w = 0.3
    got = pool_char_logprobs(scored, char_lp, shared, seg, w)
    for i, pos in enumerate(shared):
        seg_start = seg[seg <= pos].max()
        post = []
        for m, s in enumerate(scored):
            inside = (s.starts >= seg_start) & (s.starts < pos)
            post.append(np.log([w, 1 - w][m]) + s.token_lp[inside].sum())
        post = np.array(post) - logsumexp(post)
        expected = logsumexp(post[:, None] + np.stack([c[i] for c in char_lp]), axis=0)
        np.testing.assert_allclose(got[i], expected, atol=1e-12)
    seg_lp = pool_segments(scored, seg)
    np.testing.assert_allclose(seg_lp[1], [scored[1].token_lp[[0, 1]].sum(),
                                           scored[1].token_lp[[2, 3]].sum(),
                                           scored[1].token_lp[[4, 5]].sum()])
