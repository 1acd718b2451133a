"""read_call_log: a gateway call log joined with labels gives the chain log of the complete
requests, equal to the recorded log on those requests, and counts what it skips and why."""

import numpy as np
import pandas as pd
import pytest

from llmcopula.datasets import load_benchmark, load_labels, read_call_log

LOG = load_benchmark("mmlu", "llama", "test")
LABELS = load_labels("mmlu", "test")


def _call_rows(queries, models=None, *, error=None):
    """Call-log rows for recorded queries (every chain model, or the given ones)."""
    rows = []
    for q in queries:
        for k, m in enumerate(LOG.models):
            if models is not None and m not in models:
                continue
            failed = error is not None and (q, m) == error
            rows.append({"query_id": f"req-{q}", "model": m, "position": k, "stage": "",
                         "role": "shadow", "raw_confidence": "" if failed else LOG.confidence[q, k],
                         "correct": "", "cost_usd": LOG.cost[q, k],
                         "cost_answer_usd": LOG.cost[q, k], "answer": LOG.answer[q, k],
                         "error": "timeout" if failed else ""})
    return rows


def _labels(queries):
    return pd.DataFrame({"query_id": [f"req-{q}" for q in queries],
                         "reference": LABELS.reference.to_numpy()[list(queries)]})


def test_complete_labelled_requests_reproduce_the_recorded_log(tmp_path):
    complete = [3, 10, 11, 40, 41, 42]
    rows = _call_rows(complete) + _call_rows([5, 6], models=("llama3.2-1b", "llama3.1-8b"))
    rows += _call_rows([7], error=(7, "llama3.1-70b"))
    calls = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # row order does not matter
    path = tmp_path / "calls.csv"
    calls.to_csv(path, index=False)
    data = read_call_log(path, _labels(complete + [5, 6, 7]))
    expected = LOG.take(np.sort(complete))
    assert data.n_used == 6 and data.n_skipped == 3
    assert data.skipped == {"upstream_error": 1, "incomplete": 2}
    assert data.log.models == LOG.models
    assert data.log.query_ids.tolist() == sorted(f"req-{q}" for q in complete)
    order = np.argsort([f"req-{q}" for q in complete])
    rows_in_order = np.array(complete)[order]
    np.testing.assert_array_equal(data.log.confidence, LOG.confidence[rows_in_order])
    np.testing.assert_array_equal(data.log.correct, LOG.correct[rows_in_order])
    np.testing.assert_array_equal(data.log.cost, LOG.cost[rows_in_order])
    assert expected.n_queries == data.n_used
    assert "skipped 3" in data.summary() and "upstream failed" in data.summary()


def test_unlabelled_and_repeated_request_ids_are_skipped_with_their_reason():
    rows = _call_rows([1, 2, 3]) + _call_rows([2])  # request id req-2 used twice
    data = read_call_log(pd.DataFrame(rows), _labels([1, 2]))
    assert data.n_used == 1 and data.skipped == {"repeated_id": 1, "unlabelled": 1}


def test_per_model_correct_labels_are_used_as_given():
    rows = _call_rows([0, 1])
    labels = pd.DataFrame([{"query_id": f"req-{q}", "model": m, "correct": (q + k) % 2}
                           for q in (0, 1) for k, m in enumerate(LOG.models)])
    data = read_call_log(pd.DataFrame(rows), labels)
    assert data.log.correct.tolist() == [[(q + k) % 2 for k in range(5)] for q in (0, 1)]


@pytest.mark.parametrize("labels, match", [
    (pd.DataFrame({"query_id": ["req-0"], "correct": [1]}), "correct with a model column"),
    (pd.DataFrame({"qid": ["req-0"], "reference": ["A"]}), "query_id"),
])
def test_labels_of_the_wrong_form_are_rejected(labels, match):
    with pytest.raises(ValueError, match=match):
        read_call_log(pd.DataFrame(_call_rows([0])), labels)


def test_a_log_without_complete_requests_says_to_use_shadow_traffic():
    rows = _call_rows([0, 1], models=("llama3.2-1b",)) + _call_rows([2], models=LOG.models[1:])
    with pytest.raises(ValueError, match="--shadow-rate"):
        read_call_log(pd.DataFrame(rows), _labels([0, 1, 2]))


def test_missing_columns_and_files_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"calls: missing column\(s\) \['raw_confidence'"):
        read_call_log(pd.DataFrame(_call_rows([0])).drop(columns="raw_confidence"), _labels([0]))
    with pytest.raises(ValueError, match="no such file"):
        read_call_log(tmp_path / "absent.csv", _labels([0]))
