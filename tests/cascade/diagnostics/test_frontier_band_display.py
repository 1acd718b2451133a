"""The frontier band: what it draws is the intervals it was given, and the count of test points
inside is right."""

from types import SimpleNamespace

import numpy as np
import pytest

from llmcopula.cascade import MarkovCopulaModel, evaluate_frontier, tune
from llmcopula.cascade.diagnostics import FrontierBandDisplay
from llmcopula.datasets import load_benchmark


@pytest.fixture(scope="module")
def frontier():
    model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    return evaluate_frontier(tune(model, (0, 2, 4), n_lambdas=8, rng=0),
                             load_benchmark("mmlu", "llama", "test"), model=model)


def test_band_is_one_minus_the_accuracy_interval_and_counts_test_points_inside(frontier):
    import matplotlib.pyplot as plt

    acc = frontier.accuracy
    interval = np.column_stack([acc - 0.02, acc + 0.01])
    fig, ax = plt.subplots()
    disp = FrontierBandDisplay.from_frontier(frontier, accuracy_interval=interval, level=0.9,
                                             ax=ax)
    band = disp.band_.get_paths()[0].vertices
    order = np.argsort(frontier.cost, kind="stable")
    lower_edge = 1 - interval[order, 1]
    upper_edge = 1 - interval[order, 0]
    for x, lo, hi in zip(frontier.cost[order], lower_edge, upper_edge):
        ys = band[np.isclose(band[:, 0], x), 1]
        assert np.any(np.isclose(ys, lo)) and np.any(np.isclose(ys, hi))
    inside = (frontier.test_accuracy >= acc - 0.02) & (frontier.test_accuracy <= acc + 0.01)
    assert disp.n_inside_ == int(inside.sum())
    assert f"{disp.n_inside_} of {len(frontier)} points inside" in disp.test_line_.get_label()
    assert "90% interval" in disp.band_.get_label()
    plt.close(fig)


def test_intervals_carried_by_the_frontier_are_used(frontier):
    acc, cost = frontier.accuracy, frontier.cost
    carried = SimpleNamespace(accuracy=np.column_stack([acc - 0.05, acc + 0.05]),
                              cost=np.column_stack([cost * 0.9, cost * 1.1]), level=0.8)
    with_intervals = SimpleNamespace(**{k: getattr(frontier, k) for k in (
        "cost", "error", "accuracy", "models", "test_cost", "test_accuracy")},
        intervals=carried)
    disp = FrontierBandDisplay.from_frontier(with_intervals, show_test=False)
    np.testing.assert_array_equal(disp.accuracy_interval, carried.accuracy)
    np.testing.assert_array_equal(disp.cost_interval, carried.cost)
    assert disp.level == 0.8 and disp.test_line_ is None and disp.n_inside_ is None


def test_bootstrap_intervals_of_the_frontier_are_drawn(frontier):
    """The frontier's own intervals, as ``frontier_intervals`` computes them."""
    from llmcopula.cascade import frontier_intervals

    train = load_benchmark("mmlu", "llama")
    with_intervals = frontier_intervals(frontier, train, n_resamples=20, level=0.8, rng=0)
    disp = FrontierBandDisplay.from_frontier(with_intervals)
    np.testing.assert_array_equal(disp.accuracy_interval, with_intervals.intervals.accuracy)
    np.testing.assert_array_equal(disp.cost_interval, with_intervals.intervals.cost)
    assert disp.level == 0.8 and "80% interval" in disp.band_.get_label()
    acc = frontier.test_accuracy
    lo, hi = with_intervals.intervals.accuracy.T
    assert disp.n_inside_ == int(((acc >= lo) & (acc <= hi)).sum())


def test_bad_input_raises_naming_the_argument(frontier):
    with pytest.raises(ValueError, match="accuracy_interval: the frontier carries no intervals"):
        FrontierBandDisplay.from_frontier(frontier)
    n = len(frontier)
    with pytest.raises(ValueError, match=rf"accuracy_interval: expected shape \({n}, 2\)"):
        FrontierBandDisplay.from_frontier(frontier, accuracy_interval=np.zeros((n, 3)))
    with pytest.raises(ValueError, match="a lower end exceeds"):
        FrontierBandDisplay(cost=[1.0], error=[0.2], accuracy_interval=[[0.9, 0.7]])
    with pytest.raises(ValueError, match="test_cost, test_error: give both"):
        FrontierBandDisplay(cost=[1.0], error=[0.2], accuracy_interval=[[0.7, 0.9]],
                            test_cost=[1.0])
    with pytest.raises(ValueError, match="cost_interval"):
        FrontierBandDisplay(cost=[1.0], error=[0.2], accuracy_interval=[[0.7, 0.9]],
                            cost_interval=[[np.nan, 2.0]])
