"""The ``(X, y)`` argument order of llmcopula.selection and the deprecated ``(y, X)`` order."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import llmcopula.selection as sel
from llmcopula.selection import (
    conditional_mutual_information,
    mi_bootstrap_ci,
    mi_decomposition,
    mutual_information,
    permutation_null_threshold,
)

pytestmark = pytest.mark.filterwarnings("ignore::llmcopula.selection.SparsePatternWarning")


def _pool(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = np.where(rng.random((n, 4)) < [0.8, 0.7, 0.6, 0.5], y[:, None], rng.integers(0, 3, (n, 4)))
    return X, y


STRATEGIES = ["greedy_mi_selection", "top_k_selection", "mrmr_selection", "term1_selection",
              "term12_selection", "random_selection", "exhaustive_selection"]


@pytest.mark.parametrize("name", STRATEGIES + ["select_models"])
def test_old_y_first_order_of_strategies_warns_and_gives_the_same_result(name):
    X, y = _pool()
    func = getattr(sel, name)
    kwargs = {"k": 2, "rng": 1} if name in ("random_selection", "select_models") else {"k": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = func(X, y, **kwargs)
    with pytest.warns(DeprecationWarning, match=rf"{name}\(y, X\) is deprecated"):
        old = func(y, X, **kwargs)
    assert old == new


def test_keyword_calls_are_order_free_and_never_warn():
    X, y = _pool()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        a = sel.greedy_mi_selection(y=y, X=X, k=2)
        b = mutual_information(y=y, X=X)
        c = sel.select_models(X=pd.DataFrame(X), y=pd.Series(y), k=2)
    assert a.selected == c.selected and b == mutual_information(X, y)


@pytest.mark.parametrize("func", [mutual_information, mi_bootstrap_ci])
def test_old_order_of_two_array_estimators_warns_and_agrees(func):
    X, y = _pool()
    kwargs = {"n_boot": 30, "rng": 0} if func is mi_bootstrap_ci else {}
    with pytest.warns(DeprecationWarning, match=r"\(y, X\) is deprecated"):
        old = func(y, X, **kwargs)
    assert old == func(X, y, **kwargs)
    with pytest.warns(DeprecationWarning):  # y, X=... was also valid before
        assert func(y, X=X, **kwargs) == old


def test_one_column_calls_are_symmetric_so_either_reading_is_right():
    # With two 1-d arguments the order cannot be detected, and need not be: the estimates are
    # symmetric in their two arguments.
    X, y = _pool()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for est in ("plugin", "miller-madow"):
            assert mutual_information(X[:, 0], y, estimator=est) == pytest.approx(
                mutual_information(y, X[:, 0], estimator=est), abs=1e-13)
        assert conditional_mutual_information(X[:, 0], y, X[:, 1:]) == pytest.approx(
            conditional_mutual_information(y, X[:, 0], X[:, 1:]), abs=1e-13)


def test_old_order_of_conditional_mutual_information_warns():
    X, y = _pool()
    with pytest.warns(DeprecationWarning):
        old = conditional_mutual_information(y, X[:, :2], X[:, 2:])
    assert old == pytest.approx(conditional_mutual_information(X[:, :2], y, X[:, 2:]), abs=1e-13)


def test_old_three_array_forms_of_the_increment_functions_warn_and_agree():
    X, y = _pool()
    new = mi_decomposition(X, y, candidate=2, selected=[0, 3])
    with pytest.warns(DeprecationWarning, match="mi_decomposition\\(y, x_j, X_S\\)"):
        old = mi_decomposition(y, X[:, 2], X[:, [0, 3]])
    assert old == new
    with pytest.warns(DeprecationWarning):
        by_name = mi_decomposition(y=y, x_j=X[:, 2], X_S=X[:, [0, 3]])
    assert by_name == new
    t_new = permutation_null_threshold(X, y, candidate=1, selected=[0], n_perm=50, rng=4)
    with pytest.warns(DeprecationWarning, match="permutation_null_threshold\\(y, X_S, x_j\\)"):
        t_old = permutation_null_threshold(y, X[:, [0]], X[:, 1], n_perm=50, rng=4)
    assert t_old == t_new
    with pytest.raises(TypeError, match="candidate"):
        mi_decomposition(X, y)


def test_new_signatures_are_visible_to_introspection():
    import inspect

    params = inspect.signature(mi_decomposition).parameters
    assert list(params)[:4] == ["X", "y", "candidate", "selected"]
    assert list(inspect.signature(sel.greedy_mi_selection).parameters)[:2] == ["X", "y"]
    assert list(inspect.signature(mutual_information).parameters)[:2] == ["X", "y"]


def test_names_moved_out_of_the_greedy_module_still_import_with_a_warning():
    import llmcopula.selection.greedy as greedy

    with pytest.warns(DeprecationWarning, match="moved to llmcopula.selection.baselines"):
        assert greedy.top_k_selection is sel.top_k_selection
    with pytest.warns(DeprecationWarning):
        from llmcopula.selection.greedy import select_models  # noqa: F401
    with pytest.raises(AttributeError):
        greedy.no_such_name  # noqa: B018


def test_the_package_exports_what_all_lists():
    assert sel.__doc__ and "X, y" in sel.__doc__
    for name in sel.__all__:
        assert hasattr(sel, name), name
