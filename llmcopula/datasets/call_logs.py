"""Chain logs from a gateway's call logs joined with labels, for re-tuning on live traffic.

A cascade's own traffic is incomplete by design: a request stops at the stage that accepts it, so
the later models have no row for it. Only the requests that every chain model answered, which is
what ``llmcopula serve --shadow-rate F`` produces for a share F of requests, can be used to fit a
chain model. :func:`read_call_log` keeps those, drops the others, and says how many and why.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from llmcopula.datasets.chain_log import ChainLog
from llmcopula.datasets.logs import read_log, read_table

__all__ = ["CallLogData", "read_call_log"]

SKIP_REASONS = {
    "incomplete": "not every chain model answered (no shadow calls for this request)",
    "upstream_error": "an upstream failed, so a model's signal is missing",
    "unlabelled": "no label for the request",
    "repeated_id": "the request id occurs in several requests (rows repeat for a model)",
}
"""Why a request of a call log can be left out of the chain log."""


@dataclass(frozen=True)
class CallLogData:
    """The complete, labelled requests of a call log as a chain log, and what was left out.

    Attributes
    ----------
    log : ChainLog
        One row per complete request, in order of request id.
    n_used : int
    n_skipped : int
    skipped : dict
        Number of skipped requests per reason (keys of :data:`SKIP_REASONS`); a request counts
        under its first reason in the order repeated_id, upstream_error, incomplete, unlabelled.
    """

    log: ChainLog
    n_used: int
    n_skipped: int
    skipped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: used and skipped counts, with reasons."""
        if not self.n_skipped:
            return f"used {self.n_used} complete labelled requests, skipped none"
        reasons = "; ".join(f"{n} {SKIP_REASONS[r]}" for r, n in self.skipped.items() if n)
        return (f"used {self.n_used} complete labelled requests, skipped {self.n_skipped} "
                f"({reasons})")


def _read(source: Any, name: str, text_cols: Sequence[str]) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"{name}: expected a path or a DataFrame, got {type(source).__name__}")
    try:  # every way a file can be unreadable (gzip, encoding, Parquet) is named there
        return read_table(source, tuple(text_cols))
    except ValueError as exc:
        raise ValueError(f"{name}: {str(exc).removeprefix('source: ')}") from None


def read_call_log(calls: str | os.PathLike[str] | pd.DataFrame,
                  labels: str | os.PathLike[str] | pd.DataFrame, *,
                  models: Sequence[str] | None = None, cost_col: str = "cost_answer_usd",
                  signal: str | None = None) -> CallLogData:
    """Join a gateway call log with labels and keep the complete requests as a chain log.

    Parameters
    ----------
    calls : path or DataFrame
        A call log written by ``llmcopula serve`` (CSV or Parquet): ``query_id``, ``model``,
        ``position`` (chain position), ``raw_confidence``, the cost columns, ``answer``,
        ``error``. Rows of every role (served, deferred, failed, shadow) are used: together they
        are what each model answered.
    labels : path or DataFrame
        ``query_id`` and either ``reference`` (the correct answer: a model is correct when its
        answer, stripped, equals it) or ``correct`` (0/1) with a ``model`` column (each model's
        correctness). A ``correct`` column without ``model`` judges the served answer only, which
        cannot label the other models; it is rejected.
    models : sequence of str, optional
        The chain in order; by default every model of the call log, ordered by ``position``.
    cost_col : str
        The cost definition: ``cost_answer_usd`` (answer call only; default) or ``cost_usd``.
    signal : {"logprob", "p_true"}, optional
        Stored on the log.

    Returns
    -------
    CallLogData
        The chain log of the complete labelled requests and the skipped counts by reason.

    Raises
    ------
    ValueError
        For missing columns, unreadable files, labels of the wrong form, or no complete request.

    Examples
    --------
    >>> import pandas as pd
    >>> calls = pd.DataFrame({
    ...     "query_id": ["r1", "r1", "r2"], "model": ["small", "large", "small"],
    ...     "position": [0, 1, 0], "raw_confidence": [-0.9, -0.1, -0.05],
    ...     "cost_answer_usd": [1e-6, 1e-5, 1e-6], "answer": ["A", "B", "C"],
    ...     "error": ["", "", ""]})
    >>> data = read_call_log(calls, pd.DataFrame({"query_id": ["r1", "r2"],
    ...                                           "reference": ["B", "C"]}))
    >>> data.log.correct.tolist(), data.summary()
    ([[0, 1]], 'used 1 complete labelled requests, skipped 1 (1 not every chain model answered (no shadow calls for this request))')
    """
    frame = _read(calls, "calls", ("query_id", "model", "answer", "error"))
    needed = ["query_id", "model", "position", "raw_confidence", cost_col, "answer"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"calls: missing column(s) {missing}; a call log written by llmcopula "
                         f"serve has {needed}")
    if frame.empty:
        raise ValueError("calls: the call log has no rows")
    lab = _read(labels, "labels", ("query_id", "reference", "model"))
    if "query_id" not in lab.columns:
        raise ValueError(f"labels: needs a query_id column, has {list(lab.columns)}")
    if "reference" not in lab.columns and not {"correct", "model"} <= set(lab.columns):
        raise ValueError("labels: needs a reference column, or correct with a model column "
                         "(per-query correct labels only the served answer, not every model)")
    frame = frame.copy()
    frame["query_id"] = frame["query_id"].astype(str)
    frame["model"] = frame["model"].astype(str)
    lab["query_id"] = lab["query_id"].astype(str)
    error = (frame["error"].fillna("").astype(str) if "error" in frame.columns
             else pd.Series("", frame.index))
    frame["answer"] = frame["answer"].fillna("").astype(str)
    raw = pd.to_numeric(frame["raw_confidence"].replace("", np.nan), errors="coerce")
    frame["raw_confidence"] = raw

    if models is None:
        pos = frame.groupby("model")["position"].agg(["min", "max"])
        if (pos["min"] != pos["max"]).any():
            raise ValueError("calls: a model has several positions; pass models=[...]")
        chain = pos["min"].sort_values(kind="stable").index.tolist()
    else:
        chain = [str(m) for m in models]
        unknown = [m for m in chain if m not in set(frame["model"])]
        if unknown:
            raise ValueError(f"models: {unknown} do not occur in the call log")
    frame = frame[frame["model"].isin(chain)]
    error = error.loc[frame.index]

    reason: dict[str, str] = {}
    ids = pd.unique(frame["query_id"])
    repeated = frame.duplicated(["query_id", "model"], keep=False)
    for q in pd.unique(frame.loc[repeated, "query_id"]):
        reason.setdefault(q, "repeated_id")
    bad = (error != "") | frame["raw_confidence"].isna()
    for q in pd.unique(frame.loc[bad, "query_id"]):
        reason.setdefault(q, "upstream_error")
    counts = frame.groupby("query_id")["model"].nunique()
    for q in counts.index[counts < len(chain)]:
        reason.setdefault(q, "incomplete")
    if "reference" in lab.columns:
        labelled = set(lab.loc[lab["reference"].astype(str) != "", "query_id"])
    else:
        have = lab.groupby("query_id")["model"].agg(lambda s: set(map(str, s)))
        labelled = {q for q, ms in have.items() if set(chain) <= ms}
    for q in ids:
        if q not in labelled:
            reason.setdefault(q, "unlabelled")
    keep = frame[~frame["query_id"].isin(reason)]
    skipped = Counter(reason.values())
    n_used = int(keep["query_id"].nunique())
    if n_used == 0:
        detail = ", ".join(f"{n} {r}" for r, n in skipped.items())
        raise ValueError(f"calls: no request is complete and labelled ({detail}); run the "
                         "gateway with --shadow-rate to get complete rows")

    if "reference" in lab.columns:
        ref = keep["query_id"].map(lab.drop_duplicates("query_id").set_index("query_id")[
            "reference"].astype(str))
        correct = (keep["answer"].str.strip() == ref.str.strip()).astype(int)
    else:
        key = lab.set_index(["query_id", "model"])["correct"]
        correct = pd.Series(key.reindex(pd.MultiIndex.from_frame(keep[["query_id", "model"]]))
                            .to_numpy(), index=keep.index)
    table = pd.DataFrame({"query_id": keep["query_id"].to_numpy(), "model": keep["model"],
                          "raw_confidence": keep["raw_confidence"], "correct": correct,
                          "cost": pd.to_numeric(keep[cost_col]), "answer": keep["answer"]})
    log = read_log(table, cost_col="cost", models=chain, signal=signal)
    order = ["repeated_id", "upstream_error", "incomplete", "unlabelled"]
    return CallLogData(log=log, n_used=n_used, n_skipped=len(reason),
                       skipped={r: int(skipped[r]) for r in order if skipped[r]})
