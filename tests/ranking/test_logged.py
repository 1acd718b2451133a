"""Comparators over the shipped answer logs (9-model MMLU pool)."""

from __future__ import annotations

import numpy as np
import pytest

from llmcopula.datasets import load_pool
from llmcopula.ranking import (
    LoggedAnswer,
    PairwiseMatrix,
    agreement_judge,
    calibrate_pool_confidence,
    confidence_judge,
    logged_candidates,
    maxlogits_scores,
    maxwins_scores,
)


@pytest.fixture(scope="module")
def mmlu():
    train, test = load_pool("mmlu", "train"), load_pool("mmlu", "test")
    return train, test, calibrate_pool_confidence(train, test)


def test_calibrated_confidence_is_a_probability_and_matches_train_accuracy_in_the_mean(mmlu):
    """Platt scaling's intercept score equation: the mean fitted probability on the training
    data equals the training accuracy."""
    train, test, conf = mmlu
    assert conf.shape == test.correct.shape and ((conf > 0) & (conf < 1)).all()
    on_train = calibrate_pool_confidence(train, train)
    np.testing.assert_allclose(on_train.mean(axis=0), train.correct.mean(axis=0), atol=1e-6)


def test_agreement_judge_with_maxlogits_or_maxwins_is_a_plurality_vote(mmlu):
    """score_i = 2 (9 s_i - sum_a s_a^2) for the agreement judge: monotone in the support s_i."""
    _, test, conf = mmlu
    cands = logged_candidates(test, conf)[:150]
    for row in cands:
        pm = PairwiseMatrix.from_comparator(agreement_judge, None, row)
        support = np.array([c.support for c in row])
        sup_sq = sum(s * s for s in {c.text: c.support for c in row if c.text}.values())
        expected = np.where(support > 0, 2 * (9 * support - sup_sq), 0)
        got = maxlogits_scores(pm.logits)
        ok = support > 0
        np.testing.assert_allclose(got[ok], expected[ok])
        assert support[np.argmax(got)] == support.max()
        assert support[np.argmax(maxwins_scores(pm.logits))] == support.max()


def test_confidence_judge_is_antisymmetric_and_ties_identical_answers(mmlu):
    _, test, conf = mmlu
    row = logged_candidates(test, conf)[7]
    pm = PairwiseMatrix.from_comparator(confidence_judge, None, row)
    S = np.nan_to_num(pm.logits)
    np.testing.assert_allclose(S, -S.T, atol=1e-12)
    same = np.array([[a.text == b.text for b in row] for a in row])
    assert (S[same] == 0).all()


def test_missing_answers_lose_to_any_answer():
    a = LoggedAnswer("A", 0, 0.3, 1)
    none = LoggedAnswer(None, 1, 0.99, 0)
    assert confidence_judge(None, a, none) > 0
    assert agreement_judge(None, a, none) > 0
    assert confidence_judge(None, none, none) == 0.0


def test_bad_inputs_raise(mmlu):
    train, test, conf = mmlu
    with pytest.raises(ValueError, match="confidence: expected shape"):
        logged_candidates(test, conf[:, :3])
    with pytest.raises(ValueError, match="log: its models"):
        calibrate_pool_confidence(train, load_pool("mmlu", "test").subset([0, 1]))
