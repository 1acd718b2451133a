"""Routing, scoring and the normalised error-cost area."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

from llmcopula.cascade.evaluation import error_cost_area, percent_change, route, score_cascade
from llmcopula.datasets import ChainLog


def small_log():
    # 4 queries x 3 models; costs in USD per query
    conf = np.array([[0.9, 0.5, 0.2], [0.3, 0.8, 0.9], [0.1, 0.2, 0.7], [0.5, 0.5, 0.5]])
    correct = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 1], [1, 1, 0]])
    cost = np.tile([1e-6, 2e-6, 4e-6], (4, 1))
    return ChainLog.from_arrays(["a", "b", "c"], confidence=conf, correct=correct, cost=cost)


def test_route_accepts_strictly_above_threshold_and_last_stage_always_answers():
    conf = [[0.5, 0.1, 0.0], [0.6, 0.1, 0.0], [0.1, 0.7, 0.0]]
    assert route(conf, [0.5, 0.6]).tolist() == [[2, 0, 1]]


def test_score_cascade_by_hand():
    log = small_log()
    res = score_cascade(log, (0, 1, 2), [0.5, 0.6])
    # query 0 stops at a (correct), 1 at b (correct), 2 at c (correct), 3: 0.5 !> 0.5 defers,
    # b 0.5 !> 0.6 defers, c answers (wrong)
    assert res["accuracy"].tolist() == [0.75]
    assert res["cost"][0] == pytest.approx((1 + 3 + 7 + 7) / 4)
    np.testing.assert_allclose(res["stage_usage"], [[0.25, 0.25, 0.5]])
    # a sub-cascade skips model b entirely (neither run nor charged)
    res = score_cascade(log, (0, 2), [[0.5], [0.0]])
    np.testing.assert_allclose(res["accuracy"], [0.75, 0.5])
    np.testing.assert_allclose(res["cost"], [(1 + 5 + 5 + 5) / 4, 1.0])


def test_area_of_constant_curves_is_their_error():
    a, b, rng_ = error_cost_area([1, 2, 3], [0.8, 0.8, 0.8], [0, 2.5], [0.6, 0.6])
    assert a == pytest.approx(0.2) and b == pytest.approx(0.4)
    assert rng_ == (1.0, 2.5)


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 1)), min_size=2, max_size=12),
       st.lists(st.tuples(st.floats(0, 100), st.floats(0, 1)), min_size=2, max_size=12))
def test_area_matches_quadrature_of_the_interpolants(pa, pb):
    ca, aa = map(np.array, zip(*pa))
    cb, ab = map(np.array, zip(*pb))
    lo, hi = max(ca.min(), cb.min()), min(ca.max(), cb.max())
    if not hi - lo > 1e-3:
        with pytest.raises(ValueError):
            if hi <= lo:
                error_cost_area(ca, aa, cb, ab)
            else:
                raise ValueError
        return
    area_a, area_b, _ = error_cost_area(ca, aa, cb, ab)
    for c, acc, area in ((ca, aa, area_a), (cb, ab, area_b)):
        order = np.lexsort((-acc, c))
        c, acc = c[order], acc[order]
        keep = np.concatenate([[True], np.diff(c) > 0])
        f = lambda x: np.interp(x, c[keep], acc[keep])  # noqa: E731
        pts = c[keep][(c[keep] > lo) & (c[keep] < hi)]
        ref = 1 - integrate.quad(f, lo, hi, points=pts if pts.size else None, limit=200)[0] / (hi - lo)
        assert area == pytest.approx(ref, abs=1e-8)


def test_percent_change_sign_convention():
    assert percent_change(0.18, 0.2) == pytest.approx(-10.0)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="thresholds"):
        route([[0.1, 0.2]], [0.1, 0.2])
    with pytest.raises(ValueError, match="confidence"):
        route([[np.nan, 0.2]], [0.1])
    with pytest.raises(ValueError, match="overlap"):
        error_cost_area([0, 1], [0.5, 0.6], [2, 3], [0.5, 0.6])
    with pytest.raises(ValueError, match="cascade"):
        score_cascade(small_log(), (2, 1), [0.5])
