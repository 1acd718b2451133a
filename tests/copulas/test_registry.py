"""The public family registry: names, parameters and rotations of every family, and building a
copula from them."""

import pytest

from llmcopula.copulas import (
    FAMILY_NAMES,
    ROTATIONS,
    BivariateCopula,
    family_info,
    get_family,
    list_families,
    make_copula,
)


def test_list_families_covers_every_name_in_order():
    assert tuple(f.name for f in list_families()) == FAMILY_NAMES


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_info_matches_the_class(name):
    info = family_info(name)
    cls = get_family(name)
    assert info.copula_class is cls and issubclass(cls, BivariateCopula)
    assert info.param_names == cls.param_names and info.n_params == len(cls.param_names)
    assert set(info.rotations) <= set(ROTATIONS) and 0 in info.rotations
    assert len(info.param_bounds) == info.n_params


@pytest.mark.parametrize("info", list_families(), ids=lambda f: f.name)
def test_make_copula_builds_every_family_and_rotation(info):
    params = [0.5 * (lo + hi) if hi - lo < 10 else lo + 1.0 for lo, hi in info.param_bounds]
    for rotation in info.rotations:
        cop = make_copula(info.name, params, rotation=rotation)
        assert type(cop) is info.copula_class
        assert cop.rotation == rotation
        assert cop.params == tuple(float(p) for p in params)


def test_rotatable_families_are_clayton_and_gumbel():
    assert {f.name for f in list_families() if len(f.rotations) > 1} == {"clayton", "gumbel"}


def test_make_copula_rejects_wrong_parameters_and_rotations():
    with pytest.raises(ValueError, match=r"params: the student copula has parameters \('rho', 'df'\)"):
        make_copula("student", [0.5])
    with pytest.raises(ValueError, match="rotation: gaussian copula supports rotations"):
        make_copula("gaussian", [0.5], rotation=90)
    with pytest.raises(ValueError, match="family: unknown family 'nope'"):
        family_info("nope")


def test_names_are_case_insensitive_and_classes_pass_through():
    assert get_family("GUMBEL") is get_family("gumbel")
    assert get_family(get_family("frank")) is get_family("frank")
