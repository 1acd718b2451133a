"""The calibration layer: chain helpers agree with one calibrator per model, the protocol, and
the deprecated module paths under llmcopula.cascade."""

import importlib
import sys
import warnings

import numpy as np
import pytest

from llmcopula.calibration import (
    Calibrator,
    PlattCalibrator,
    calibrate,
    fit_calibrators,
    raw_thresholds,
)
from llmcopula.datasets import load_benchmark


@pytest.fixture(scope="module")
def train():
    return load_benchmark("mmlu", "llama", split="train")


def test_fit_calibrators_equals_one_platt_fit_per_model(train):
    cals = fit_calibrators(train.confidence, train.correct, signal=train.signal,
                           names=train.models)
    for m, cal in enumerate(cals):
        ref = PlattCalibrator(transform="auto", signal=train.signal).fit(
            train.confidence[:, m], train.correct[:, m])
        assert (cal.coef_, cal.intercept_) == (ref.coef_, ref.intercept_)
        assert cal.name == train.models[m]
    got = calibrate(cals, train.confidence)
    want = np.column_stack([c.predict(train.confidence[:, m]) for m, c in enumerate(cals)])
    np.testing.assert_array_equal(got, want)


def test_raw_thresholds_route_like_the_calibrated_thresholds(train):
    cals = fit_calibrators(train.confidence, train.correct, signal=train.signal)
    t = np.array([[0.3, 0.6], [0.7, 0.9], [0.0, 1.0]])
    r = raw_thresholds(cals[:2], t)
    phi = calibrate(cals, train.confidence)
    for b in range(t.shape[0]):
        for j in range(2):
            raw = train.confidence[:, j]
            finite = np.isfinite(raw)  # raw -inf vs r = -inf is the documented edge case
            np.testing.assert_array_equal((phi[finite, j] > t[b, j]), (raw[finite] > r[b, j]))


def test_raw_thresholds_clip_calibrated_values_outside_the_unit_interval(train):
    cals = fit_calibrators(train.confidence, train.correct, signal=train.signal)
    r = raw_thresholds(cals, np.array([[-0.5, 1.5, 0.0, 1.0]]))
    assert r[0, 0] == -np.inf and r[0, 1] == np.inf


def test_chain_helpers_reject_bad_shapes(train):
    with pytest.raises(ValueError, match="raw: expected an array of shape"):
        fit_calibrators(train.confidence[:, 0], train.correct[:, 0])
    with pytest.raises(ValueError, match="correct: expected shape"):
        fit_calibrators(train.confidence, train.correct[:, :2])
    with pytest.raises(ValueError, match="names: expected 5 names"):
        fit_calibrators(train.confidence, train.correct, signal="logprob", names=["a"])
    cals = fit_calibrators(train.confidence[:, :2], train.correct[:, :2], signal="logprob")
    with pytest.raises(ValueError, match="raw: expected 2 columns"):
        calibrate(cals, train.confidence)
    with pytest.raises(ValueError, match="thresholds: expected shape"):
        raw_thresholds(cals, np.zeros((1, 3)))


def test_platt_calibrator_satisfies_the_protocol_and_other_objects_do_not():
    assert isinstance(PlattCalibrator(), Calibrator)
    assert not isinstance(object(), Calibrator)


@pytest.mark.parametrize("old, name", [("llmcopula.cascade.calibration", "PlattCalibrator"),
                                       ("llmcopula.cascade.transforms", "get_transform")])
def test_old_module_paths_still_work_with_a_deprecation_warning(old, name):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match="import from llmcopula.calibration"):
        module = importlib.import_module(old)
    new = importlib.import_module("llmcopula.calibration")
    assert getattr(module, name) is getattr(new, name)


def test_re_exports_from_the_cascade_package_stay_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        from llmcopula.cascade import PlattCalibrator as P, expected_calibration_error  # noqa: F401
    assert P is PlattCalibrator
