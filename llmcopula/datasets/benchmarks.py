"""Loaders for the bundled benchmark logs (``llmcopula/datasets/data/cascades``).

The data are the recorded outputs of nine commercial LLMs, in two chains, on samples of MMLU,
MedMCQA, GSM8K and TriviaQA, from the repository of Zellinger & Thomson, "Rational Tuning of LLM
Cascades via Probabilistic Modeling" (arXiv:2501.09345). The data folder's README.md documents
provenance, columns and sanity figures.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from llmcopula.datasets.chain_log import ChainLog
from llmcopula.datasets.logs import read_log

__all__ = ["list_benchmarks", "load_benchmark", "load_labels", "load_pool", "load_questions"]

SIGNAL_OF_BENCHMARK: dict[str, str] = {
    "mmlu": "logprob", "medmcqa": "logprob", "gsm8k": "p_true", "triviaqa": "p_true",
}
"""How each shipped benchmark's raw confidence was produced (see :class:`ChainLog`)."""

_COST_COLUMNS = {"answer": "cost_answer_usd", "total": "cost_usd"}


def _data_dir() -> Any:
    return resources.files("llmcopula.datasets").joinpath("data", "cascades")


@functools.lru_cache(maxsize=1)
def _manifest() -> dict[str, Any]:
    return json.loads(_data_dir().joinpath("MANIFEST.json").read_text(encoding="utf-8"))


def _entries(kind: str) -> list[dict[str, Any]]:
    return [f for f in _manifest()["files"] if f["kind"] == kind]


def _find_file(kind: str, benchmark: str, split: str, chain: str | None = None) -> dict[str, Any]:
    entries = _entries(kind)
    benchmarks = sorted({e["benchmark"] for e in entries})
    if benchmark not in benchmarks:
        raise ValueError(f"benchmark: unknown benchmark {benchmark!r}; "
                         f"{'shipped' if kind == 'chain_results' else kind + ' exist'} for "
                         f"{benchmarks}")
    if chain is not None:
        chains = sorted(_manifest()["chains"])
        if chain not in chains:
            raise ValueError(f"chain: unknown chain {chain!r}; shipped chains are {chains}")
    for e in entries:
        if e["benchmark"] == benchmark and e["split"] == split and e.get("chain") == chain:
            return e
    splits = sorted({e["split"] for e in entries
                     if e["benchmark"] == benchmark and e.get("chain") == chain})
    raise ValueError(f"split: {benchmark!r} has no {split!r} split; available: {splits}")


def _read_csv(filename: str, text_columns: tuple[str, ...]) -> pd.DataFrame:
    with _data_dir().joinpath(filename).open("rb") as fh:
        # keep_default_na=False: answers such as "None" or "NA" are data, not missing values.
        return pd.read_csv(fh, compression="gzip", keep_default_na=False,
                           dtype={c: str for c in text_columns})


def list_benchmarks() -> pd.DataFrame:
    """The shipped benchmark logs, one row per (benchmark, chain, split).

    Returns
    -------
    pandas.DataFrame
        Columns ``benchmark``, ``chain``, ``split``, ``n_queries``, ``models`` (tuple of names in
        chain order), ``signal`` and ``has_labels`` (whether :func:`load_labels` has the split).

    Examples
    --------
    >>> from llmcopula.datasets import list_benchmarks
    >>> table = list_benchmarks()
    >>> table[table.benchmark == "gsm8k"][["chain", "split", "n_queries"]].to_string(index=False)
    '   chain split  n_queries\\n   llama train        300\\nqwen_oai train        300'
    """
    labelled = {(e["benchmark"], e["split"]) for e in _entries("labels")}
    rows = [{"benchmark": e["benchmark"], "chain": e["chain"], "split": e["split"],
             "n_queries": e["queries"], "models": tuple(e["models"]),
             "signal": SIGNAL_OF_BENCHMARK[e["benchmark"]],
             "has_labels": (e["benchmark"], e["split"]) in labelled}
            for e in _entries("chain_results")]
    order = {name: i for i, name in enumerate(SIGNAL_OF_BENCHMARK)}
    table = pd.DataFrame(rows)
    return table.sort_values(["benchmark", "chain", "split"],
                             key=lambda col: col.map(order) if col.name == "benchmark" else col,
                             ignore_index=True)


def load_benchmark(benchmark: str, chain: str, split: str = "train", *,
                   cost: Literal["answer", "total"] = "answer") -> ChainLog:
    """Load a shipped chain log.

    Parameters
    ----------
    benchmark : {"mmlu", "medmcqa", "gsm8k", "triviaqa"}
        The benchmark. GSM8K has a train split only.
    chain : {"llama", "qwen_oai"}
        ``llama``: llama3.2-1b, llama3.2-3b, llama3.1-8b, llama3.1-70b, llama3.1-405b;
        ``qwen_oai``: gpt-4o-mini, qwen2.5-32b-coder-instruct, qwen2.5-72b-instruct, gpt-4o.
    split : {"train", "test"}
        Train: 285 (MMLU) or 300 queries; test: 1531 (MMLU) or 1000 queries.
    cost : {"answer", "total"}
        ``"answer"`` (default): the list-price cost of the answer call only (``cost_answer_usd``),
        the definition used in the paper's experiments. ``"total"``: the recorded API cost
        (``cost_usd``), which on GSM8K/TriviaQA also includes the self-verification call that
        produced the confidence. The two agree on MMLU/MedMCQA.

    Returns
    -------
    ChainLog
        With ``benchmark``, ``split`` and ``signal`` set (``"logprob"`` for MMLU/MedMCQA,
        ``"p_true"`` for GSM8K/TriviaQA). The same immutable object is returned on repeated calls.

    Raises
    ------
    ValueError
        For an unknown benchmark, chain, split or cost, listing what exists.

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> log = load_benchmark("mmlu", "llama", split="test")
    >>> log.models[-1], round(float(log.accuracy[-1]), 3), round(float(log.mean_cost[-1]) * 1e6, 1)
    ('llama3.1-405b', 0.852, 574.3)
    """
    if cost not in _COST_COLUMNS:
        raise ValueError(f"cost: expected one of {list(_COST_COLUMNS)}, got {cost!r}")
    return _load_benchmark(benchmark, chain, split, cost)


@functools.lru_cache(maxsize=None)
def _load_benchmark(benchmark: str, chain: str, split: str, cost: str) -> ChainLog:
    entry = _find_file("chain_results", benchmark, split, chain)
    frame = _read_csv(entry["file"], ("answer",))
    log = read_log(frame, cost_col=_COST_COLUMNS[cost], benchmark=benchmark, split=split,
                   signal=SIGNAL_OF_BENCHMARK[benchmark])
    if log.models != tuple(entry["models"]) or log.n_queries != entry["queries"]:
        raise RuntimeError(f"the bundled file {entry['file']} does not match MANIFEST.json; "
                           "the installation is damaged")
    return log


def load_labels(benchmark: str, split: str = "train") -> pd.DataFrame:
    """Reference answers of a shipped benchmark split.

    Parameters
    ----------
    benchmark : {"mmlu", "medmcqa", "gsm8k"}
        TriviaQA has no label files (its question files are missing from the source).
    split : {"train", "test"}
        GSM8K has a train split only.

    Returns
    -------
    pandas.DataFrame
        A new frame with ``query_id`` and ``reference`` (str: the option letter A-D, or the final
        number of the GSM8K reference solution), plus ``subject`` (MMLU, MedMCQA) and
        ``source_id`` (MedMCQA dataset id). ``query_id`` joins with the chain logs.

    Examples
    --------
    >>> from llmcopula.datasets import load_labels
    >>> load_labels("mmlu", "test").columns.tolist()
    ['query_id', 'reference', 'subject']
    """
    return _load_labels(benchmark, split).copy()


@functools.lru_cache(maxsize=None)
def _load_labels(benchmark: str, split: str) -> pd.DataFrame:
    entry = _find_file("labels", benchmark, split)
    text = tuple(c for c in entry["columns"] if c != "query_id")
    return _read_csv(entry["file"], text)


def load_questions(benchmark: str, split: str = "train") -> pd.DataFrame:
    """Question texts of a shipped multiple-choice benchmark split (MMLU, MedMCQA).

    Parameters
    ----------
    benchmark : {"mmlu", "medmcqa"}
    split : {"train", "test"}

    Returns
    -------
    pandas.DataFrame
        A new frame with ``query_id``, ``subject``, ``question`` and the four options ``A``,
        ``B``, ``C``, ``D`` (str; some texts contain CR-LF line breaks). ``query_id`` joins with
        the chain logs and the labels; the correct letter is in :func:`load_labels`.

    Examples
    --------
    >>> from llmcopula.datasets import load_questions
    >>> q = load_questions("mmlu", "test")
    >>> len(q), q.columns.tolist()
    (1531, ['query_id', 'subject', 'question', 'A', 'B', 'C', 'D'])
    """
    return _load_questions(benchmark, split).copy()


@functools.lru_cache(maxsize=None)
def _load_questions(benchmark: str, split: str) -> pd.DataFrame:
    entry = _find_file("questions", benchmark, split)
    frame = _read_csv(entry["file"], ("subject", "question", "A", "B", "C", "D"))
    if len(frame) != entry["rows"]:
        raise RuntimeError(f"the bundled file {entry['file']} does not match MANIFEST.json; "
                           "the installation is damaged")
    return frame


def load_pool(benchmark: str, split: str = "train", *,
              cost: Literal["answer", "total"] = "answer") -> ChainLog:
    """All nine models of both shipped chains on one benchmark split, joined on ``query_id``.

    This is the model pool for ensemble selection and majority voting: the columns are the
    ``llama`` chain followed by the ``qwen_oai`` chain. Where a labels file exists (MMLU, MedMCQA,
    GSM8K), :attr:`ChainLog.reference` holds the reference answers; on MMLU and MedMCQA
    ``correct`` equals ``answer == reference`` exactly.

    Parameters
    ----------
    benchmark, split, cost
        As for :func:`load_benchmark`.

    Returns
    -------
    ChainLog
        n queries x 9 models, with ``reference`` set when labels are shipped, else None.

    Raises
    ------
    ValueError
        For an unknown benchmark, split or cost, or if the chains' query ids do not match.

    Notes
    -----
    The result is cached: repeated calls return the same immutable object.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.datasets import load_pool
    >>> pool = load_pool("mmlu", "test")
    >>> pool.n_models, pool.reference[:3].tolist()
    (9, ['A', 'B', 'A'])
    >>> bool(np.array_equal(pool.correct == 1, pool.answer == pool.reference[:, None]))
    True
    """
    if cost not in _COST_COLUMNS:
        raise ValueError(f"cost: expected one of {list(_COST_COLUMNS)}, got {cost!r}")
    return _load_pool(benchmark, split, cost)


@functools.lru_cache(maxsize=None)
def _load_pool(benchmark: str, split: str, cost: str) -> ChainLog:
    chains = list(_manifest()["chains"])
    logs = [_load_benchmark(benchmark, c, split, cost) for c in chains]
    ids = logs[0].query_ids
    for chain, log in zip(chains[1:], logs[1:]):
        if log.query_ids.shape != ids.shape or not np.array_equal(log.query_ids, ids):
            raise ValueError(f"benchmark: the {chains[0]!r} and {chain!r} logs of {benchmark!r} "
                             f"{split!r} are not on the same queries in the same order")
    reference = None
    if any(e["benchmark"] == benchmark and e["split"] == split for e in _entries("labels")):
        labels = _load_labels(benchmark, split)
        if not np.array_equal(labels["query_id"].to_numpy(), ids):
            raise ValueError(f"benchmark: the labels of {benchmark!r} {split!r} are not on the "
                             "queries of the chain logs")
        reference = labels["reference"].to_numpy(dtype=object)
    return ChainLog(
        tuple(m for log in logs for m in log.models),
        np.hstack([log.confidence for log in logs]), np.hstack([log.correct for log in logs]),
        np.hstack([log.cost for log in logs]), np.hstack([log.answer for log in logs]),
        ids, reference, benchmark=benchmark, split=split, signal=SIGNAL_OF_BENCHMARK[benchmark])
