"""ChainLog: construction, validation, immutability and the derived views."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from llmcopula.datasets import ChainLog, load_benchmark


def _small(**overrides) -> ChainLog:
    args = dict(
        models=("a", "b", "c"),
        confidence=[[-0.1, -0.2, -np.inf], [-1.0, 0.0, -0.5]],
        correct=[[1, 0, 1], [0, 1, 1]],
        cost=[[1.0, 2.0, 3.0], [1.0, 2.0, 5.0]],
        answer=[["x", "y", None], ["None", "", "z"]],
        query_ids=["q1", "q2"],
    )
    args.update(overrides)
    return ChainLog.from_arrays(**args)


def test_from_arrays_stores_typed_read_only_copies() -> None:
    """Arrays are copied, converted (float64 / int8 / object) and not writeable."""
    conf = np.array([[0.5, -1.0]])
    log = ChainLog.from_arrays(["m1", "m2"], conf, [[True, False]], [[0.1, 0.2]])
    conf[0, 0] = 9.0
    assert log.confidence[0, 0] == 0.5
    assert log.confidence.dtype == np.float64 and log.correct.dtype == np.int8
    assert log.correct.tolist() == [[1, 0]]
    assert log.answer is None and log.reference is None
    np.testing.assert_array_equal(log.query_ids, [0])
    for arr in (log.confidence, log.correct, log.cost, log.query_ids):
        assert not arr.flags.writeable


def test_answers_are_strings_with_none_where_absent() -> None:
    """None, NaN and "" mean absent; "None" stays a string; numbers become their str."""
    log = _small(answer=[["x", np.nan, None], ["None", "", 18]])
    assert log.answer.tolist() == [["x", None, None], ["None", None, "18"]]


def test_correctness_accepts_bool_int_and_float_zero_one() -> None:
    """bool, 0/1 and 0.0/1.0 are all valid and give the same int8 array."""
    for values in ([[True, False, True], [False, True, True]], [[1, 0, 1], [0, 1, 1]],
                   [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]):
        assert _small(correct=values).correct.tolist() == [[1, 0, 1], [0, 1, 1]]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"confidence": [[np.nan, 0, 0], [0, 0, 0]]},
     r"confidence: 1 value\(s\) are NaN or not numbers: query_id='q1', model='a': nan"),
    ({"confidence": [[0, 0, 0], [0, "high", 0]]},
     r"confidence: 1 value\(s\) .*query_id='q2', model='b': 'high'"),
    ({"correct": [[1, 2, 1], [0, 0.5, 1]]},
     r"correct: 2 value\(s\) are not 0/1 .*query_id='q1', model='b': 2.*query_id='q2', "
     r"model='b': 0.5"),
    ({"correct": [[1, np.nan, 1], [0, 1, 1]]}, r"correct: 1 value\(s\) are not 0/1"),
    ({"cost": [[1, 2, 3], [1, -2, 3]]},
     r"cost: 1 value\(s\) are negative, NaN or infinite: query_id='q2', model='b': -2"),
    ({"cost": [[1, 2, np.inf], [1, np.nan, 3]]}, r"cost: 2 value\(s\)"),
    ({"models": ("a", "b")}, r"confidence: expected shape \(n, 2\) for 2 model\(s\), got \(2, 3\)"),
    ({"models": ("a", "b", "a")}, r"models: names must be distinct, repeated: \['a'\]"),
    ({"models": ("a", "b", 3)}, r"models: names must be non-empty strings"),
    ({"models": "abc"}, r"models: expected a sequence of model names"),
    ({"correct": [[1, 0, 1]]}, r"correct: expected shape \(2, 3\) like confidence, got \(1, 3\)"),
    ({"cost": [[1, 2, 3]]}, r"cost: expected shape \(2, 3\)"),
    ({"answer": [["x"]]}, r"answer: expected shape \(2, 3\)"),
    ({"query_ids": [1, 2, 3]}, r"query_ids: expected shape \(2,\), got \(3,\)"),
    ({"query_ids": [1, None]}, r"query_ids: contains missing values"),
    ({"reference": ["A"]}, r"reference: expected shape \(2,\), got \(1,\)"),
    ({"signal": "prob"}, r"signal: expected None or one of \['logprob', 'p_true'\], got 'prob'"),
    ({"benchmark": 3}, r"benchmark: expected a string or None, got int"),
    ({"confidence": np.zeros((0, 3)), "correct": np.zeros((0, 3)), "cost": np.zeros((0, 3)),
      "answer": None, "query_ids": None}, r"confidence: the log is empty \(0 queries\)"),
])
def test_from_arrays_rejects_bad_input_naming_the_entries(overrides, message) -> None:
    """Each kind of bad input raises a ValueError naming the argument and the offending entries."""
    with pytest.raises(ValueError, match=message):
        _small(**overrides)


def test_error_messages_list_the_first_five_and_the_count() -> None:
    """With many bad entries, the message shows five locations and says how many there are."""
    cost = np.full((4, 3), -1.0)
    with pytest.raises(ValueError, match=r"cost: 12 value\(s\).*\(first 5 of 12 shown\)"):
        ChainLog.from_arrays(("a", "b", "c"), np.zeros((4, 3)), np.ones((4, 3)), cost)


def test_infinite_confidences_are_allowed_both_ways() -> None:
    """-inf (no confidence) and +inf (certainty of an unbounded signal) are kept as such."""
    log = _small(confidence=[[-np.inf, np.inf, 0], [0, 0, 0]])
    assert log.confidence[0, 0] == -np.inf and log.confidence[0, 1] == np.inf


def test_accuracy_and_mean_cost_are_column_means() -> None:
    """accuracy and mean_cost are the per-model means over queries."""
    log = _small()
    np.testing.assert_array_equal(log.accuracy, [0.5, 0.5, 1.0])
    np.testing.assert_array_equal(log.mean_cost, [1.0, 2.0, 4.0])
    assert (log.n_queries, log.n_models) == (2, 3)


def test_subset_selects_models_by_name_or_position_in_the_given_order() -> None:
    """subset((2, 0)) and subset(["c", "a"]) give the same reordered log."""
    log = _small()
    sub = log.subset((2, 0))
    assert sub == log.subset(["c", "a"]) == log.subset(["c", 0])
    assert sub.models == ("c", "a")
    np.testing.assert_array_equal(sub.confidence, np.asarray(log.confidence)[:, [2, 0]])
    np.testing.assert_array_equal(sub.answer, log.answer[:, [2, 0]])
    np.testing.assert_array_equal(sub.query_ids, log.query_ids)


@pytest.mark.parametrize(("models", "message"), [
    (["d"], r"models: unknown model 'd'; this log has \['a', 'b', 'c'\]"),
    ([3], r"models: position 3 out of range \[0, 3\)"),
    ([-1], r"models: position -1 out of range"),
    ([0, "a"], r"models: each model may be selected once"),
    ([], r"models: select at least one model"),
    ("a", r"models: expected a sequence"),
    ([True], r"models: unknown model True"),
])
def test_subset_rejects_unknown_repeated_or_empty_selections(models, message) -> None:
    with pytest.raises(ValueError, match=message):
        _small().subset(models)


def test_take_selects_rows_with_repetition_or_by_mask() -> None:
    """take([1, 1, 0]) repeats rows (bootstrap); a boolean mask keeps rows in order."""
    log = _small(reference=["A", "B"])
    boot = log.take([1, 1, 0])
    assert boot.query_ids.tolist() == ["q2", "q2", "q1"]
    assert boot.reference.tolist() == ["B", "B", "A"]
    np.testing.assert_array_equal(boot.correct, log.correct[[1, 1, 0]])
    assert log.take(np.array([False, True])) == log.take([1])


@pytest.mark.parametrize(("indices", "message"), [
    ([], r"indices: selects no rows"),
    ([False, False], r"indices: selects no rows"),
    ([True], r"indices: a boolean mask must have shape \(2,\)"),
    ([2], r"indices: must lie in \[0, 2\)"),
    ([-1], r"indices: must lie in \[0, 2\)"),
    ([0.5], r"indices: expected integers or a boolean mask"),
    ([[0]], r"indices: expected a 1-d array"),
])
def test_take_rejects_bad_indices(indices, message) -> None:
    with pytest.raises(ValueError, match=message):
        _small().take(indices)


def test_logs_are_immutable_and_compare_by_value() -> None:
    """Attributes cannot be set; equal contents compare equal; logs are not hashable."""
    log = _small()
    with pytest.raises(AttributeError, match="immutable"):
        log.signal = "logprob"  # type: ignore[misc]
    assert log == _small() and log != _small(cost=[[1, 2, 3], [1, 2, 6]])
    assert log != _small(answer=None) and log != _small(signal="p_true")
    assert log != "not a log"
    with pytest.raises(TypeError):
        hash(log)


def test_replace_revalidates_and_keeps_the_rest() -> None:
    """replace changes the named fields only, and validates them."""
    log = _small()
    assert log.replace(signal="p_true").signal == "p_true"
    assert log.replace(signal="p_true").replace(signal=None) == log
    with pytest.raises(ValueError, match="signal: expected None or one of"):
        log.replace(signal="bad")
    with pytest.raises(ValueError, match=r"changes: unknown field\(s\) \['colour'\]"):
        log.replace(colour="red")


def test_pickle_round_trip_preserves_value_and_read_only_arrays() -> None:
    """Logs pickle (for joblib workers) and come back equal and still read-only."""
    log = load_benchmark("mmlu", "llama")
    back = pickle.loads(pickle.dumps(log))
    assert back == log and back is not log
    assert not back.confidence.flags.writeable


def test_to_frame_is_the_long_format_in_query_then_position_order() -> None:
    """to_frame gives one row per (query, model) with the read_log default column names."""
    frame = _small(reference=["A", None]).to_frame()
    assert frame.columns.tolist() == ["query_id", "model", "position", "raw_confidence",
                                      "correct", "cost_answer_usd", "answer", "reference"]
    assert frame["query_id"].tolist() == ["q1"] * 3 + ["q2"] * 3
    assert frame["model"].tolist() == ["a", "b", "c"] * 2
    assert frame["position"].tolist() == [0, 1, 2] * 2
    assert frame["answer"].tolist() == ["x", "y", None, "None", None, "z"]
    assert frame["reference"].tolist() == ["A"] * 3 + [None] * 3
    assert frame["raw_confidence"].tolist()[2] == -np.inf


def test_to_frame_of_a_shipped_log_has_the_shipped_values() -> None:
    """The long table of the MMLU train log matches the summary numbers of the log."""
    log = load_benchmark("mmlu", "llama")
    frame = log.to_frame()
    assert len(frame) == log.n_queries * log.n_models
    means = frame.groupby("model", sort=False)[["correct", "cost_answer_usd"]].mean()
    np.testing.assert_allclose(means["correct"].to_numpy(), log.accuracy, rtol=1e-12)
    np.testing.assert_allclose(means["cost_answer_usd"].to_numpy(), log.mean_cost, rtol=1e-12)
    assert isinstance(frame, pd.DataFrame)


def test_repr_summarises_origin_shape_and_per_model_figures() -> None:
    """The repr names the benchmark, the size, the signal and each model's accuracy and cost."""
    text = repr(load_benchmark("mmlu", "llama", "test"))
    assert text.splitlines()[0] == ("ChainLog(mmlu/test, 1531 queries x 5 models, "
                                    "signal='logprob')")
    assert "llama3.1-405b     0.852  574.3" in text
    assert repr(_small()).startswith("ChainLog(2 queries x 3 models, signal=None)")
