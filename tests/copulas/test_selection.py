"""Family and rotation selection by AIC / BIC."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import pyvinecopulib as pv

from llmcopula.copulas import IndependenceCopula, fit_copula, pseudo_observations, select_copula
from llmcopula.copulas.registry import FAMILY_NAMES, get_family

PV_FAMILY = {
    "independence": pv.families.indep,
    "gaussian": pv.families.gaussian,
    "student": pv.families.student,
    "clayton": pv.families.clayton,
    "gumbel": pv.families.gumbel,
    "frank": pv.families.frank,
}


def make(family: str, params: tuple[float, ...], rotation: int = 0) -> Any:
    cls = get_family(family)
    kwargs: dict[str, Any] = dict(zip(cls.param_names, params, strict=True))
    if len(cls.allowed_rotations) > 1:
        kwargs["rotation"] = rotation
    return cls(**kwargs)


# Generating models with Kendall's tau of about +-0.5 (t: df = 4, clearly heavier-tailed than
# the Gaussian); n = 3000 makes the right model win by a wide AIC margin.
GENERATORS = [
    ("gaussian", 0, (0.7,)),
    ("gaussian", 0, (-0.7,)),
    ("student", 0, (0.7, 4.0)),
    ("frank", 0, (5.7,)),
    ("frank", 0, (-5.7,)),
    *[("clayton", r, (2.0,)) for r in (0, 90, 180, 270)],
    *[("gumbel", r, (2.0,)) for r in (0, 90, 180, 270)],
]
GEN_IDS = [f"{f}-{r}" for f, r, _ in GENERATORS]


@pytest.mark.parametrize(("family", "rotation", "params"), GENERATORS, ids=GEN_IDS)
def test_select_copula_recovers_the_generating_family_and_rotation(family, rotation, params):
    u = pseudo_observations(make(family, params, rotation).sample(3000, rng=31))
    best = select_copula(u)
    assert (best.copula.family, best.copula.rotation) == (family, rotation)


def test_select_copula_with_bic_picks_independence_for_independent_data():
    """Under independence a one-parameter family beats it on BIC only when its likelihood
    ratio exceeds log(3000) = 8.0 (P(chi2_1 > 8) = 0.005 per family)."""
    u = pseudo_observations(IndependenceCopula().sample(3000, rng=32))
    assert select_copula(u, criterion="bic").copula.family == "independence"


def test_candidates_are_every_fit_sorted_by_the_criterion():
    u = pseudo_observations(make("gumbel", (1.8,), 180).sample(1000, rng=33))
    for criterion in ("aic", "bic"):
        best = select_copula(u, criterion=criterion)
        values = [getattr(c, criterion) for c in best.candidates]
        assert values == sorted(values)
        assert best == best.candidates[0]
        # 4 families without rotations + clayton and gumbel at two rotations each
        assert len(best.candidates) == 8
        labels = {(c.copula.family, c.copula.rotation) for c in best.candidates}
        assert {("clayton", 0), ("clayton", 180), ("gumbel", 0), ("gumbel", 180)} <= labels


def test_each_candidate_equals_the_separate_fit():
    u = pseudo_observations(make("frank", (-3.0,)).sample(600, rng=34))
    best = select_copula(u, families=["frank", "clayton"])
    for cand in best.candidates:
        alone = fit_copula(u, cand.copula.family, rotation=cand.copula.rotation)
        assert cand == alone


def test_rotations_for_negative_tau_are_90_and_270():
    u = pseudo_observations(make("clayton", (1.5,), 90).sample(800, rng=35))
    best = select_copula(u, families=["clayton", "gumbel"])
    assert sorted({c.copula.rotation for c in best.candidates}) == [90, 270]


def test_without_rotations_only_rotation_zero_is_tried():
    u = pseudo_observations(make("clayton", (1.5,), 180).sample(800, rng=36))
    best = select_copula(u, families=["clayton", "gumbel"], rotations=False)
    assert {c.copula.rotation for c in best.candidates} == {0}
    assert best.copula.family == "gumbel"  # upper tail dependence: Gumbel fits it better


def test_gaussian_data_select_the_gaussian_over_the_t_copula_that_nests_it():
    """The t copula tends to the Gaussian as df grows, so on Gaussian data it reaches about
    the same likelihood with one more parameter, and AIC prefers the Gaussian."""
    u = pseudo_observations(make("gaussian", (0.5,)).sample(1500, rng=37))
    best = select_copula(u, families=["student", "gaussian"])
    assert best.copula.family == "gaussian"


def test_itau_method_is_passed_to_every_candidate():
    u = pseudo_observations(make("gumbel", (2.0,)).sample(500, rng=38))
    best = select_copula(u, families=["gumbel", "clayton"], method="itau")
    assert all(c.method == "itau" for c in best.candidates)


def test_families_may_be_classes_and_repeats_are_dropped():
    u = pseudo_observations(make("gumbel", (2.0,)).sample(500, rng=39))
    gumbel = get_family("gumbel")
    best = select_copula(u, families=[gumbel, "gumbel", "independence"])
    assert len(best.candidates) == 3  # gumbel at 0 and 180, independence


@pytest.mark.parametrize(("family", "rotation", "params"),
                         [g for g in GENERATORS if g[0] in ("clayton", "gumbel", "gaussian")],
                         ids=[i for i, g in zip(GEN_IDS, GENERATORS)
                              if g[0] in ("clayton", "gumbel", "gaussian")])
def test_select_copula_agrees_with_pyvinecopulib(family, rotation, params):
    """pyvinecopulib's ``Bicop.select`` (AIC, MLE, same family set) picks the same family and
    rotation on the same data."""
    u = pseudo_observations(make(family, params, rotation).sample(1500, rng=40))
    ours = select_copula(u)
    controls = pv.FitControlsBicop(family_set=[PV_FAMILY[f] for f in FAMILY_NAMES],
                                   parametric_method="mle", selection_criterion="aic")
    theirs = pv.Bicop.from_data(u, controls=controls)
    assert theirs.family == PV_FAMILY[ours.copula.family]
    assert theirs.rotation == ours.copula.rotation


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"criterion": "hqc"}, "criterion: expected one of"),
    ({"method": "ml"}, "method: expected one of"),
    ({"families": []}, "families: expected a non-empty sequence"),
    ({"families": "gumbel"}, "families: expected a non-empty sequence"),
    ({"families": ["gumbel", "weibull"]}, "family: unknown family 'weibull'"),
])
def test_select_copula_rejects_bad_options(kwargs, message):
    u = pseudo_observations(np.random.default_rng(0).normal(size=(50, 2)))
    with pytest.raises(ValueError, match=message):
        select_copula(u, **kwargs)


def test_select_copula_rejects_bad_data():
    with pytest.raises(ValueError, match="u: need at least 2 observations"):
        select_copula(np.array([[0.5, 0.5]]))
