"""The call-log writer: every queued row is written once, a request's rows stay together, CSV
and Parquet logs hold the same values, and both read back as a chain log."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from llmcopula.datasets import load_benchmark, read_call_log
from llmcopula.serve.call_log import COLUMNS, CallLogWriter, check_call_log_path

LOG = load_benchmark("mmlu", "llama", "train")


def _request_rows(q: int) -> list[dict]:
    return [{"query_id": f"r{q}", "model": m, "position": k, "stage": None, "role": "shadow",
             "raw_confidence": float(LOG.confidence[q, k]), "correct": None,
             "cost_usd": float(LOG.cost[q, k]), "cost_answer_usd": float(LOG.cost[q, k]),
             "input_tokens": 100, "output_tokens": 1, "latency_s": 0.01,
             "answer": "A, or\n\"B\"" if k == 0 else LOG.answer[q, k], "error": None,
             "attempts": 1, "timestamp": 1.0 + q} for k, m in enumerate(LOG.models)]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rows_from_many_threads_are_written_once_and_read_back(tmp_path, suffix):
    path = tmp_path / f"calls{suffix}"
    writer = CallLogWriter(path)
    threads = [threading.Thread(target=lambda lo=lo: [writer.write(_request_rows(q))
                                                      for q in range(lo, lo + 50)])
               for lo in range(0, 200, 50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert writer.rows_written == 200 * 5 and writer.error is None
    frame = (pd.read_parquet(path) if suffix == ".parquet"
             else pd.read_csv(path, keep_default_na=False, dtype={"answer": str}))
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 1000 and not frame.duplicated(["query_id", "model"]).any()
    # one request's rows are contiguous
    first = frame.groupby("query_id").apply(lambda g: g.index.max() - g.index.min())
    assert (first == 4).all()
    assert (frame[frame.model == LOG.models[0]].answer == "A, or\n\"B\"").all()
    labels = pd.DataFrame({"query_id": [f"r{q}" for q in range(200)],
                           "model": LOG.models[1], "correct": 1})
    labels = pd.concat([labels.assign(model=m) for m in LOG.models])
    data = read_call_log(path, labels)
    assert data.n_used == 200
    order = np.argsort([f"r{q}" for q in range(200)])
    np.testing.assert_array_equal(data.log.confidence, LOG.confidence[:200][order])


def test_an_existing_csv_of_another_format_is_refused(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="header differs"):
        check_call_log_path(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="needs --workers 1"):
        check_call_log_path(tmp_path / "y.parquet", workers=2)
