"""Tests for the marginal model of calibrated confidences (atoms + beta mixture)."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from llmcopula.cascade._betamix import fit_beta_mixture
from llmcopula.calibration import PlattCalibrator
from llmcopula.cascade.marginals import ConfidenceMarginal

DATA = Path(__file__).parents[2] / "llmcopula" / "datasets" / "data" / "cascades"


@pytest.fixture(scope="module")
def lumpy() -> ConfidenceMarginal:
    """Two beta components plus atoms at 0.35 and 0.97 (n = 600)."""
    rng = np.random.default_rng(11)
    phi = np.concatenate([rng.beta(3, 8, 250), rng.beta(12, 2, 250), np.full(60, 0.97),
                          np.full(40, 0.35)])
    return ConfidenceMarginal().fit(phi)


def test_atoms_are_exactly_the_repeated_values(lumpy):
    np.testing.assert_array_equal(lumpy.atoms_, [0.35, 0.97])
    np.testing.assert_allclose(lumpy.atom_masses_, [40 / 600, 60 / 600])
    assert lumpy.continuous_mass_ == pytest.approx(500 / 600)


def test_continuous_data_have_no_atoms_at_min_or_max():
    rng = np.random.default_rng(0)
    m = ConfidenceMarginal().fit(rng.beta(2, 3, 300))
    assert m.atoms_.size == 0 and m.continuous_mass_ == 1.0
    assert m.cdf(m.ppf(0.0)) == 0.0


def test_min_atom_count_and_mass_rules():
    rng = np.random.default_rng(1)
    phi = np.concatenate([rng.beta(2, 3, 298), [0.5, 0.5]])
    assert ConfidenceMarginal().fit(phi).atoms_.size == 0  # 2 of 300 < 2 %
    assert ConfidenceMarginal(min_atom_mass=0.0).fit(phi).atoms_.tolist() == [0.5]
    assert ConfidenceMarginal(min_atom_mass=0.0, min_atom_count=3).fit(phi).atoms_.size == 0


def test_partial_expectation_matches_quadrature(lumpy):
    m = lumpy
    for x in [0.0, 0.2, 0.35, 0.6, 0.97, 0.99, 1.0]:
        cont, _ = integrate.quad(lambda s: s * m.pdf_continuous(np.array(s)), x, 1,
                                 epsabs=1e-12, epsrel=1e-10, limit=200)
        atoms = np.sum(m.atoms_ * m.atom_masses_ * (m.atoms_ > x))
        expected = m.continuous_mass_ * cont + atoms
        assert m.partial_expectation(x) == pytest.approx(expected, abs=1e-9)
    assert m.partial_expectation(0.0) == pytest.approx(m.mean, rel=1e-12)


def test_cdf_continuous_matches_integrated_pdf(lumpy):
    for x in [0.05, 0.3, 0.7, 0.95]:
        area, _ = integrate.quad(lambda s: lumpy.pdf_continuous(np.array(s)), 0, x,
                                 epsabs=1e-12, limit=200)
        assert lumpy.cdf_continuous(x) == pytest.approx(area, abs=1e-9)
    np.testing.assert_allclose(lumpy.logpdf_continuous([0.2, 0.8]),
                               np.log(lumpy.pdf_continuous([0.2, 0.8])), rtol=1e-12)


def test_partial_expectation_and_cdf_match_monte_carlo_within_4_se(lumpy):
    n = 200_000
    s = lumpy.sample(n, rng=123)
    for x in [0.1, 0.35, 0.5, 0.9, 0.97]:
        v = s * (s > x)
        se = v.std() / np.sqrt(n)
        assert abs(v.mean() - lumpy.partial_expectation(x)) < 4 * se
        p = lumpy.cdf(x)
        assert abs(np.mean(s <= x) - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_continuous_samples_pass_a_ks_test_against_cdf_continuous(lumpy):
    s = lumpy.sample(20_000, rng=5)
    cont = s[~np.isin(s, lumpy.atoms_)]
    assert stats.kstest(cont, lumpy.cdf_continuous).pvalue > 1e-3


def test_ppf_is_the_generalised_inverse_of_cdf(lumpy):
    q = np.linspace(0, 1, 501)
    x = lumpy.ppf(q)
    assert np.all(lumpy.cdf(x) >= q - 1e-12)
    # nothing smaller reaches q
    assert np.all(lumpy.cdf(np.maximum(x - 1e-9, 0)) < q + 1e-12)
    # round trip away from atoms, and exact atom values inside the jumps
    xs = np.array([0.1, 0.3, 0.5, 0.8, 0.99])
    np.testing.assert_allclose(lumpy.ppf(lumpy.cdf(xs)), xs, atol=1e-10)
    jump = lumpy.cdf(0.97) - lumpy.atom_masses_[1] / 2
    assert lumpy.ppf(jump) == 0.97
    np.testing.assert_allclose(lumpy.ppf_continuous(lumpy.cdf_continuous(xs)), xs, atol=1e-10)
    assert lumpy.ppf(np.array([[0.2, 0.4]])).shape == (1, 2)


def test_cdf_is_right_continuous_at_atoms_and_sf_complements_it(lumpy):
    below = lumpy.cdf(np.nextafter(0.97, 0))
    assert lumpy.cdf(0.97) - below == pytest.approx(lumpy.atom_masses_[1], abs=1e-9)
    x = np.linspace(-0.5, 1.5, 41)
    np.testing.assert_allclose(lumpy.cdf(x) + lumpy.sf(x), 1.0, atol=1e-12)
    assert lumpy.cdf(-1) == 0 and lumpy.cdf(2) == 1


def test_bic_selects_one_component_for_beta_data_and_two_for_bimodal_data():
    rng = np.random.default_rng(2024)
    one = ConfidenceMarginal().fit(rng.beta(4, 2, 2000))
    assert one.n_components_ == 1
    two_data = np.concatenate([rng.beta(2, 12, 1000), rng.beta(14, 2, 1000)])
    two = ConfidenceMarginal().fit(two_data)
    assert two.n_components_ == 2
    np.testing.assert_allclose(two.weights_, [0.5, 0.5], atol=0.05)
    np.testing.assert_allclose(two.alphas_ / (two.alphas_ + two.betas_), [2 / 14, 14 / 16],
                               atol=0.02)


def test_single_beta_fit_matches_scipy_mle():
    rng = np.random.default_rng(3)
    x = rng.beta(0.7, 3.5, 1500)
    m = ConfidenceMarginal(n_components=1).fit(x)
    a, b, _, _ = stats.beta.fit(x, floc=0, fscale=1)
    np.testing.assert_allclose([m.alphas_[0], m.betas_[0]], [a, b], rtol=1e-4)


def test_em_loglikelihood_never_decreases():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.beta(2, 9, 150), rng.beta(6, 6, 100), rng.beta(20, 2, 50)])
    for k in (2, 3):
        fit = fit_beta_mixture(x, k)
        steps = np.diff(fit.loglik_path)
        assert np.all(steps >= -1e-9 * abs(fit.loglik))
        assert fit.converged


def _real(name: str, transform: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    d = pd.read_csv(DATA / f"{name}.csv.gz", keep_default_na=False)
    out = {}
    for model, g in d.groupby("model", sort=False):
        raw = g["raw_confidence"].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            cal = PlattCalibrator(transform=transform).fit(raw, g["correct"].to_numpy())
        out[model] = (raw, cal.predict(raw))
    return out


def test_gpt4o_mini_has_a_top_atom_from_log_probability_zero():
    models = _real("mmlu__qwen_oai__train", "one-sided")
    raw, phi = models["gpt-4o-mini"]
    m = ConfidenceMarginal().fit(phi)
    assert m.atoms_[-1] == phi.max()
    # The clip maps raw == 0 onto the largest finite training value, whose queries join the atom.
    top_raw = np.max(raw[raw < 0])
    assert m.atom_masses_[-1] == pytest.approx(np.mean((raw == 0) | (raw == top_raw)), abs=1e-15)
    assert np.mean(raw == 0) > 0.4


def test_llama_models_have_no_atoms():
    for raw, phi in _real("mmlu__llama__train", "one-sided").values():
        m = ConfidenceMarginal().fit(phi)
        assert m.atoms_.size == 0
        assert m.n_components_ >= 1 and np.isfinite(m.bic_)


def test_atoms_only_and_tiny_samples_fall_back_with_a_warning():
    m = ConfidenceMarginal().fit(np.full(10, 0.8))
    assert m.atoms_.tolist() == [0.8] and m.n_components_ == 0
    assert m.mean == pytest.approx(0.8) and m.partial_expectation(0.79) == pytest.approx(0.8)
    assert m.ppf(0.5) == 0.8 and m.sample(3, rng=0).tolist() == [0.8] * 3
    with pytest.warns(UserWarning, match="single beta fitted by moments"):
        m = ConfidenceMarginal().fit(np.concatenate([np.full(20, 0.9), [0.2, 0.4, 0.6]]))
    assert m.fallback_ == "moments" and m.n_components_ == 1
    c = np.array([0.2, 0.4, 0.6])
    assert m.alphas_[0] / (m.alphas_[0] + m.betas_[0]) == pytest.approx(c.mean())
    with pytest.warns(UserWarning, match="only one value"):
        m = ConfidenceMarginal().fit(np.concatenate([np.full(20, 0.9), [0.3]]))
    assert m.fallback_ == "atoms-only" and m.atoms_.tolist() == [0.3, 0.9]


def test_exact_zero_and_one_are_atoms():
    rng = np.random.default_rng(8)
    m = ConfidenceMarginal().fit(np.concatenate([rng.beta(2, 2, 100), [1.0]]))
    assert m.atoms_.tolist() == [1.0]


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="^phi: "):
        ConfidenceMarginal().fit([0.2, np.nan])
    with pytest.raises(ValueError, match="^phi: "):
        ConfidenceMarginal().fit([0.2, 1.2])
    with pytest.raises(ValueError, match="^phi: "):
        ConfidenceMarginal().fit([])
    with pytest.raises(ValueError, match="^n_components: "):
        ConfidenceMarginal(n_components=4).fit([0.2, 0.3])
    with pytest.raises(ValueError, match="^min_atom_mass: "):
        ConfidenceMarginal(min_atom_mass=2).fit([0.2, 0.3])
    with pytest.raises(ValueError, match="not fitted"):
        ConfidenceMarginal().cdf(0.5)
    m = ConfidenceMarginal().fit(np.random.default_rng(0).beta(2, 2, 50))
    with pytest.raises(ValueError, match="^q: "):
        m.ppf([1.5])
    with pytest.raises(ValueError, match="^x: "):
        m.cdf([np.nan])
