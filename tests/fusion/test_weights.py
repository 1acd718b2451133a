from math import comb

import numpy as np
import pytest
from scipy.special import log_softmax

from llmcopula.fusion import (
    fit_fusion_weights,
    fuse_logits,
    relative_distributions,
    simplex_grid,
    transfer_matrix,
)


@pytest.mark.parametrize("n_models, resolution", [(1, 5), (2, 4), (3, 10), (4, 3)])
def test_simplex_grid_lists_every_composition_once(n_models, resolution):
    grid = simplex_grid(n_models, resolution)
    assert grid.shape == (comb(resolution + n_models - 1, n_models - 1), n_models)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert (grid >= 0).all() and len({tuple(r) for r in grid}) == len(grid)


def _dev_set(seed: int = 0, n: int = 200):
    """Main model: uninformative; assistant: informative about the true token (same anchors)."""
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(8, 6))
    T = transfer_matrix(E, np.arange(8))
    y = rng.integers(0, 8, size=n)
    z_main = 0.3 * rng.normal(size=(n, 8))
    z_assist = rng.normal(size=(n, 8))
    z_assist[np.arange(n), y] += 2.0
    return [z_main, z_assist], y, [T, T]


def _nll(logits, y, T, w, method):
    out = fuse_logits(logits, T, weights=w, method=method)
    return -out.log_probs()[np.arange(y.size), y].mean()


def test_fitted_nll_weights_beat_uniform_and_favour_the_informative_model():
    logits, y, T = _dev_set()
    fit = fit_fusion_weights(logits, y, T, objective="nll", method="mirror")
    assert fit.weights[1] > 0.5
    assert fit.score <= _nll(logits, y, T, [0.5, 0.5], "mirror") + 1e-12
    assert fit.score == pytest.approx(_nll(logits, y, T, fit.weights, "mirror"), rel=1e-10)


def test_grid_search_returns_the_best_grid_point_when_not_refined():
    logits, y, T = _dev_set(1, 100)
    fit = fit_fusion_weights(logits, y, T, resolution=4, refine=False)
    scores = [_nll(logits, y, T, w, "adamw") for w in simplex_grid(2, 4)]
    assert fit.score == pytest.approx(min(scores), rel=1e-12)
    assert fit.n_evaluations == 5


def test_accuracy_objective_reports_the_dev_accuracy_of_the_chosen_weights():
    logits, y, T = _dev_set(2, 150)
    fit = fit_fusion_weights(logits, y, T, objective="accuracy", method="mirror", resolution=5)
    out = fuse_logits(logits, T, weights=fit.weights, method="mirror")
    assert fit.score == pytest.approx((out.tokens == y).mean())
    assert fit.score >= (log_softmax(logits[0], axis=-1).argmax(axis=1) == y).mean()


@pytest.mark.parametrize("targets, match", [
    (np.zeros(3, dtype=int), "targets: expected 200 integer token ids"),
    (np.zeros(200), "targets: expected 200 integer token ids"),
    (np.full(200, 8), r"targets: ids must lie in \[0, 8\)"),
])
def test_bad_dev_targets_raise_value_errors(targets, match):
    logits, _, T = _dev_set()
    with pytest.raises(ValueError, match=match):
        fit_fusion_weights(logits, targets, T)


def test_unknown_objective_is_rejected():
    logits, y, T = _dev_set()
    with pytest.raises(ValueError, match="objective: expected 'nll' or 'accuracy'"):
        fit_fusion_weights(logits, y, T, objective="f1")


def test_weights_fitted_from_given_relatives_match_those_fitted_from_logits():
    logits, y, T = _dev_set(3, 80)
    rels = relative_distributions(logits, T)
    a = fit_fusion_weights(logits, y, T, resolution=4, refine=False)
    b = fit_fusion_weights([logits[0], None], y, T, relatives=rels, resolution=4, refine=False)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.score == b.score
    with pytest.raises(ValueError, match=r"relatives\[1\]: expected shape \(80, 8\)"):
        fit_fusion_weights([logits[0], None], y, T, relatives=[rels[0], rels[1][:5]])
    with pytest.raises(ValueError, match="logits: every model's dev logits are needed"):
        fit_fusion_weights([logits[0], None], y, T)


def test_refined_two_model_weights_are_no_worse_than_a_fine_grid_and_cost_few_evaluations():
    logits, y, T = _dev_set(4, 120)
    fit = fit_fusion_weights(logits, y, T, resolution=5, method="mirror")
    fine = min(_nll(logits, y, T, w, "mirror") for w in simplex_grid(2, 100))
    assert fit.score <= fine + 1e-6
    assert fit.n_evaluations < 6 + 30
