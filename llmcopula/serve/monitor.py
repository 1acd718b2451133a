"""``llmcopula monitor``: a gateway's call log checked against what its policy promised.

The policy file's ``monitoring`` block (:func:`llmcopula.monitoring.reference_profile`) holds the
training routing's statistics; this module turns the most recent window of requests of a call log
into the same statistics, conditioned the same way (each stage's signal among the requests that
reached it), and runs :func:`llmcopula.monitoring.check_traffic`. Shadow rows are left out: they
are not the cascade's traffic. Costs are read from the call-log column named by the policy's
``cost_definition``, so they are compared on the definition the policy was tuned on.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from llmcopula.monitoring import DriftReport, check_traffic
from llmcopula.policy import CascadePolicy

__all__ = ["monitor", "read_calls", "read_labels", "served_correct", "traffic_window"]

_REQUIRED = ("query_id", "model", "stage", "role", "raw_confidence", "error", "answer",
             "timestamp")


def read_calls(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a call log (CSV or Parquet) written by ``llmcopula serve``."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{p}: no such call log")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        else:
            frame = pd.read_csv(p, keep_default_na=False, na_values={"raw_confidence": [""]},
                                dtype={"query_id": str, "model": str, "answer": str,
                                       "error": str, "role": str})
    except (ValueError, OSError, EOFError, zlib.error, pd.errors.ParserError) as exc:
        raise ValueError(f"{p}: cannot be read as a call log ({exc})") from None
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{p}: not a call log, missing column(s) {missing}")
    frame["query_id"] = frame["query_id"].astype(str)
    frame["error"] = frame["error"].fillna("").astype(str)
    frame["answer"] = frame["answer"].fillna("").astype(str)
    frame["stage"] = pd.to_numeric(frame["stage"].replace("", np.nan), errors="coerce")
    frame["raw_confidence"] = pd.to_numeric(frame["raw_confidence"], errors="coerce")
    return frame


def read_labels(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a labels file: ``query_id`` with ``reference`` (the correct answer), or ``correct``
    (0/1, of the served answer; with a ``model`` column, of that model's answer)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{p}: no such labels file")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            labels = pd.read_parquet(p)
        else:
            labels = pd.read_csv(p, keep_default_na=False,
                                 dtype={"query_id": str, "reference": str, "model": str})
    except (ValueError, OSError, EOFError, zlib.error, pd.errors.ParserError) as exc:
        raise ValueError(f"{p}: cannot be read as a labels table ({exc})") from None
    if "query_id" not in labels.columns or not ({"reference", "correct"} & set(labels.columns)):
        raise ValueError(f"{p}: a labels file needs a query_id column and a reference or correct "
                         f"column; it has {list(labels.columns)}")
    labels["query_id"] = labels["query_id"].astype(str)
    if "correct" in labels.columns:
        corr = pd.to_numeric(labels["correct"], errors="coerce")
        if not corr.isin([0, 1]).all():
            raise ValueError(f"{p}: correct must be 0 or 1 in every row")
        labels["correct"] = corr.astype(int)
    keys = ["query_id", "model"] if "model" in labels.columns else ["query_id"]
    dupes = labels.duplicated(keys)
    if dupes.any():
        raise ValueError(f"{p}: {int(dupes.sum())} duplicate label row(s), e.g. "
                         f"{labels.loc[dupes, keys].iloc[0].tolist()}")
    return labels


def served_correct(served: pd.DataFrame, labels: pd.DataFrame) -> pd.Series:
    """0/1 correctness of served rows (``query_id``, ``model``, ``answer``) from labels; NaN for
    requests without a label."""
    if "reference" in labels.columns:
        ref = served["query_id"].map(labels.set_index("query_id")["reference"])
        out = (served["answer"].str.strip() == ref.astype(str).str.strip()).astype(float)
        return out.where(ref.notna())
    if "model" in labels.columns:
        key = labels.set_index(["query_id", "model"])["correct"]
        idx = pd.MultiIndex.from_frame(served[["query_id", "model"]])
        return pd.Series(key.reindex(idx).to_numpy(dtype=float), index=served.index)
    return served["query_id"].map(labels.set_index("query_id")["correct"]).astype(float)


def traffic_window(policy: CascadePolicy, calls: pd.DataFrame, *,
                   labels: pd.DataFrame | None = None, window: int | None = 500
                   ) -> dict[str, Any]:
    """The arguments of :func:`~llmcopula.monitoring.check_traffic` for the most recent
    ``window`` requests of a call log (all of them with ``window=None`` or 0)."""
    cost_col = policy.cost_definition
    if cost_col not in calls.columns:
        raise ValueError(f"the call log has no column {cost_col!r}, the policy's cost definition")
    rows = calls[(calls["role"] != "shadow") & calls["model"].isin(policy.cascade_models)]
    if rows.empty:
        raise ValueError("the call log has no requests of this policy's cascade")
    expected = rows["model"].map({m: j for j, m in enumerate(policy.cascade_models)})
    if (rows["stage"] != expected).any():
        raise ValueError("the call log's stages do not match the policy's cascade; was it written "
                         "by a gateway serving another policy?")
    first = rows.groupby("query_id", sort=False)["timestamp"].min().sort_values(kind="stable")
    if window:
        first = first.iloc[-int(window):]
    ids = first.index.to_numpy()
    pos = pd.Series(np.arange(ids.size), index=ids)
    rows = rows[rows["query_id"].isin(pos.index)]
    r = pos.loc[rows["query_id"]].to_numpy()
    s = rows["stage"].to_numpy(dtype=np.intp)
    k = policy.n_stages
    m = ids.size
    if pd.Series(r * k + s).duplicated().any():
        raise ValueError("the call log has repeated (request, model) rows: request ids must be "
                         "unique")
    raw = np.full((m, k), np.nan)
    raw[r, s] = rows["raw_confidence"].to_numpy(dtype=float)
    faulted = np.zeros((m, k), dtype=bool)
    faulted[r, s] = rows["error"].to_numpy(dtype=str) != ""
    answered = np.full(m, -1, dtype=np.intp)
    is_served = (rows["role"] == "served").to_numpy()
    answered[r[is_served]] = s[is_served]
    cost = np.zeros(m)
    np.add.at(cost, r, pd.to_numeric(rows[cost_col], errors="coerce").fillna(0.0).to_numpy())
    correct = None
    if labels is not None:
        served = rows[is_served]
        corr = served_correct(served, labels).to_numpy(dtype=float)
        correct = np.full(m, np.nan)
        correct[r[is_served]] = corr
    return {"answered_stage": answered, "raw": raw, "cost": cost, "correct": correct,
            "faulted": faulted}


def monitor(policy: CascadePolicy, calls: pd.DataFrame, *, labels: pd.DataFrame | None = None,
            window: int | None = 500, alpha: float = 0.05, level: float = 0.95) -> DriftReport:
    """Check the last ``window`` requests of a call log against the policy's reference."""
    if not policy.monitoring:
        raise ValueError("the policy has no monitoring block (reference statistics); write it "
                         "with llmcopula.monitoring.reference_profile when tuning")
    args = traffic_window(policy, calls, labels=labels, window=window)
    return check_traffic(policy.monitoring, alpha=alpha, level=level, **args)


def plot_report(report: DriftReport, path: str | os.PathLike[str]) -> None:
    """Save a figure of the report: per-stage acceptance rates and the mean cost, each with the
    reference value and the sampling interval for this window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc = [c for c in report.checks if c.name == "acceptance"]
    cost = [c for c in report.checks if c.name == "mean_cost"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), width_ratios=[max(len(acc), 1), 1])
    for ax, checks, title in ((axes[0], acc, "acceptance rate by stage"),
                              (axes[1], cost, "mean cost ($ / 1M requests)")):
        for i, c in enumerate(checks):
            lo, hi = c.interval
            ax.plot([i, i], [lo, hi], color="0.6", lw=6, solid_capstyle="butt")
            ax.plot(i, c.reference, "k_", ms=18)
            ax.plot(i, c.observed, "o", color="tab:red" if c.alarm else "tab:blue")
        ax.set_xticks(range(len(checks)),
                      [c.model or c.name for c in checks], rotation=20, ha="right")
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"{report.n_requests} requests: {'ALARM' if report.alarm else 'within bounds'}",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
