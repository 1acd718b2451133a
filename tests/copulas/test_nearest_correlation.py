"""Tests of nearest_correlation (Higham 2002)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytestmark = pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.IterationLimitWarning")

from llmcopula.copulas import nearest_correlation


def _is_correlation(x, min_eig=-1e-9):
    return (np.allclose(x, x.T) and np.allclose(np.diag(x), 1)
            and np.linalg.eigvalsh(x).min() >= min_eig)


def _random_invalid(rng, d):
    a = rng.uniform(-1, 1, (d, d))
    a = (a + a.T) / 2
    np.fill_diagonal(a, 1.0)
    return a


def test_reproduces_highams_published_4x4_example():
    # Higham (2002), IMA J. Numer. Anal. 22, §4: A = tridiag(-1, 2, -1), n = 4; the nearest
    # correlation matrix printed there to 4 decimals.
    a = 2 * np.eye(4) - np.eye(4, k=1) - np.eye(4, k=-1)
    expect = np.array([[1, -0.8084, 0.1916, 0.1068], [-0.8084, 1, -0.6562, 0.1916],
                       [0.1916, -0.6562, 1, -0.8084], [0.1068, 0.1916, -0.8084, 1]])
    assert_allclose(nearest_correlation(a), expect, atol=5e-5)


def test_result_is_a_correlation_matrix_at_least_as_near_as_statsmodels_and_clipping():
    from statsmodels.stats.correlation_tools import corr_clipped, corr_nearest

    rng = np.random.default_rng(0)
    for d in (3, 5, 8):
        for _ in range(2):
            a = _random_invalid(rng, d)
            x = nearest_correlation(a)
            assert _is_correlation(x)
            ours = np.linalg.norm(a - x)
            sm = corr_nearest(a, threshold=1e-15, n_fact=200)
            assert ours <= np.linalg.norm(a - sm) + 1e-8
            assert ours <= np.linalg.norm(a - corr_clipped(a, threshold=1e-15)) + 1e-8
            # statsmodels' corr_nearest solves the same problem: the answers agree.
            assert_allclose(x, sm, atol=1e-4)


def test_is_idempotent_on_valid_correlation_matrices():
    rng = np.random.default_rng(1)
    b = rng.normal(size=(6, 6))
    c = b @ b.T
    c = c / np.sqrt(np.outer(np.diag(c), np.diag(c)))
    assert_allclose(nearest_correlation(c), c, atol=1e-12)
    x = nearest_correlation(_random_invalid(rng, 5))
    assert_allclose(nearest_correlation(x), x, atol=1e-8)


def test_min_eigenvalue_gives_a_positive_definite_matrix():
    rng = np.random.default_rng(2)
    a = _random_invalid(rng, 6)
    x = nearest_correlation(a, min_eigenvalue=1e-3)
    assert np.linalg.eigvalsh(x).min() >= 1e-3 - 1e-8
    assert_allclose(np.diag(x), 1.0)
    np.linalg.cholesky(x)


@pytest.mark.parametrize("bad, match", [
    (np.ones((2, 3)), "^matrix"),
    (np.array([[1.0, 0.2], [0.3, 1.0]]), "^matrix"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "^matrix"),
    (np.ones(3), "^matrix"),
])
def test_bad_input_raises_value_error_naming_matrix(bad, match):
    with pytest.raises(ValueError, match=match):
        nearest_correlation(bad)


def test_bad_options_raise_value_errors_naming_them():
    with pytest.raises(ValueError, match="^min_eigenvalue"):
        nearest_correlation(np.eye(2), min_eigenvalue=1.5)
    with pytest.raises(ValueError, match="^tol"):
        nearest_correlation(np.eye(2), tol=0)
