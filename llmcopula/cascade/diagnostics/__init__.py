"""Diagnostics of a fitted cascade model: does it describe the logs it was fitted on?

Each check is a statistical test with a picture (a Display in the scikit-learn style:
``Display.from_model(model, ...)``, then ``plot(ax=...)``):

- calibration of each model's confidence: :class:`ReliabilityDisplay`,
  :func:`calibration_test` (ECE with a bootstrap interval, a test of calibration);
- each model's marginal: :class:`MarginalFitDisplay`, :func:`marginal_gof_test` (randomised
  PIT, Cramér–von Mises by parametric bootstrap);
- each pair copula: :class:`PairCopulaDisplay`, :func:`pair_copula_gof_test`,
  :func:`pair_copula_aic`;
- the Markov assumption: :class:`MarkovTestDisplay`, :func:`markov_test` (conditional
  independence of the outer models of each triple given the middle one);
- the frontier's uncertainty: :class:`FrontierBandDisplay` (the predicted curve with the band
  of its points' intervals, the test curve over it).

:func:`diagnostics_summary` runs them all and returns one row per test.
``docs/diagnostics.md`` says what each test assumes and how to read each picture.
"""

from ._common import DiagnosticResult, uniform_intervals
from .frontier_band import FrontierBandDisplay
from .marginal_fit import MarginalFitDisplay, cramer_von_mises, marginal_gof_test, randomized_pit
from .markov_check import MarkovTestDisplay, markov_test, markov_triple_test
from .pair_fit import PairCopulaDisplay, copula_cvm_statistic, pair_copula_aic, pair_copula_gof_test
from .reliability import CalibrationTestResult, ReliabilityDisplay, calibration_test
from .summary import diagnostics_summary

__all__ = [
    "DiagnosticResult",
    "uniform_intervals",
    "CalibrationTestResult",
    "calibration_test",
    "ReliabilityDisplay",
    "randomized_pit",
    "cramer_von_mises",
    "marginal_gof_test",
    "MarginalFitDisplay",
    "copula_cvm_statistic",
    "pair_copula_gof_test",
    "pair_copula_aic",
    "PairCopulaDisplay",
    "markov_triple_test",
    "markov_test",
    "MarkovTestDisplay",
    "FrontierBandDisplay",
    "diagnostics_summary",
]
