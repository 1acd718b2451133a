"""The deprecation helpers: old call forms keep working, with a DeprecationWarning that names
the new form."""

import inspect

import pytest

from llmcopula._deprecation import REMOVAL, keyword_only_after, warn_deprecated


@keyword_only_after("cascade", "rng")
def _draw(n, *, cascade=None, rng=None):
    return n, cascade, rng


class _Model:
    @keyword_only_after("rng")
    def sample(self, n, *, rng=None):
        return n, rng


def test_keyword_calls_do_not_warn(recwarn):
    assert _draw(2, cascade=(0, 1), rng=3) == (2, (0, 1), 3)
    assert _Model().sample(4, rng=1) == (4, 1)
    assert not [w for w in recwarn if w.category is DeprecationWarning]


def test_positional_calls_map_to_the_keywords_in_order_and_warn():
    with pytest.warns(DeprecationWarning, match=r"pass cascade, rng by keyword") as rec:
        assert _draw(2, (0, 1), 3) == (2, (0, 1), 3)
    assert REMOVAL in str(rec[0].message)
    with pytest.warns(DeprecationWarning, match=r"_Model.sample: pass rng by keyword"):
        assert _Model().sample(4, 7) == (4, 7)


def test_the_warning_points_at_the_caller():
    with pytest.warns(DeprecationWarning) as rec:
        _draw(1, None)
    assert rec[0].filename == __file__


def test_too_many_or_duplicated_arguments_are_type_errors():
    with pytest.raises(TypeError, match="at most 3 positional arguments"):
        _draw(1, 2, 3, 4)
    with pytest.raises(TypeError, match="multiple values for argument 'rng'"):
        _Model().sample(1, 2, rng=3)


def test_signature_is_preserved_for_introspection():
    assert list(inspect.signature(_draw).parameters) == ["n", "cascade", "rng"]


def test_decorating_a_parameter_that_is_not_keyword_only_fails_at_definition():
    with pytest.raises(TypeError, match="not keyword-only"):
        keyword_only_after("rng")(lambda n, rng=None: n)


def test_warn_deprecated_says_when_the_old_form_goes():
    with pytest.warns(DeprecationWarning, match=f"stops working in llmcopula {REMOVAL}"):
        warn_deprecated("old thing", stacklevel=2)


def _samplers():
    import numpy as np

    from llmcopula.cascade import ConfidenceMarginal
    from llmcopula.copulas import (
        EmpiricalBetaCopula,
        GaussianCopula,
        GumbelCopula,
        MultivariateGaussianCopula,
        StudentTCopula,
    )

    data = np.random.default_rng(0).random((30, 2))
    return {
        "gumbel": GumbelCopula(2.0),
        "gaussian": GaussianCopula(0.3),
        "student": StudentTCopula(0.3, df=5),
        "multivariate": MultivariateGaussianCopula(np.eye(2)),
        "empirical-beta": EmpiricalBetaCopula.from_data(data),
        "marginal": ConfidenceMarginal().fit(np.random.default_rng(1).beta(3, 2, 100)),
    }


@pytest.mark.parametrize("name", ["gumbel", "gaussian", "student", "multivariate",
                                  "empirical-beta", "marginal"])
def test_sample_takes_rng_by_keyword_and_positionally_with_a_warning(name):
    import numpy as np

    obj = _samplers()[name]
    new = obj.sample(5, rng=3)
    with pytest.warns(DeprecationWarning, match="pass rng by keyword"):
        old = obj.sample(5, 3)
    np.testing.assert_array_equal(old, new)
