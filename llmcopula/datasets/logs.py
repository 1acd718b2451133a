"""Reading and validating users' own chain logs (long tables: one row per query and model)."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from llmcopula.datasets._checks import (
    check_optional_str,
    check_signal,
    coerce_confidence,
    coerce_correct,
    coerce_cost,
    coerce_text,
    describe_bad,
    plain,
)
from llmcopula.datasets.chain_log import ChainLog

__all__ = ["read_log", "read_table"]

_SHOW = 5


def read_log(source: str | os.PathLike[str] | pd.DataFrame, *, query_col: str = "query_id",
             model_col: str = "model", confidence_col: str | None = "raw_confidence",
             correct_col: str = "correct", cost_col: str | None = "cost_answer_usd",
             answer_col: str | None = "answer", reference_col: str | None = "reference",
             position_col: str = "position", models: Sequence[str] | None = None,
             signal: str | None = None, benchmark: str | None = None,
             split: str | None = None) -> ChainLog:
    """Read a chain log in long format (one row per query and model) and validate it.

    This is the format of the shipped benchmark files and of :meth:`ChainLog.to_frame`:

    ============== ======== ===========================================================
    column         required meaning
    ============== ======== ===========================================================
    query_id       yes      query identifier (int or str)
    model          yes      model name
    raw_confidence yes      raw confidence signal; a real number, ``-inf``/``+inf``
                            allowed (``-inf``: no confidence, probability zero), NaN not
    correct        yes      1 if the answer was correct, else 0 (bool, 0/1, 0.0/1.0)
    cost_answer_usd yes     cost of the model on the query in USD, finite and >= 0
                            (required: cascades trade accuracy against cost)
    position       see text 0-based position of the model in the chain
    answer         no       the model's answer (empty or missing: absent)
    reference      no       the query's reference answer, the same on all its rows
    ============== ======== ===========================================================

    Every column name can be changed with the ``*_col`` arguments; other columns are ignored.
    Readers that need no confidences or no costs (ensemble selection, for one) pass
    ``confidence_col=None`` or ``cost_col=None``: the column is then neither required nor read,
    and :attr:`ChainLog.confidence` or :attr:`ChainLog.cost` of the result is all NaN, which
    marks it as not recorded (such a log cannot feed a cascade model).
    The chain order comes from ``models`` if given, else from the position column (each model must
    have one position, and positions must differ between models). Rows are ordered by query id
    (sorted; ids of mixed, incomparable types keep the order of first appearance), so shuffling
    the table's rows does not change the result. Nothing is dropped silently: every row of the
    chosen models must be valid, and every query must have exactly one row per model.

    Parameters
    ----------
    source : path or DataFrame
        A CSV file (``.csv``, or gzip-compressed ``.csv.gz``), a Parquet file (``.parquet``,
        ``.pq``; needs pyarrow), or a pandas DataFrame (not modified). CSV is read with
        ``keep_default_na=False`` so that answers such as ``"None"`` or ``"NA"`` stay strings.
    query_col, model_col, correct_col, position_col : str
        Column names.
    confidence_col, cost_col : str or None
        Column names; None when the log has no such column and the reader does not need it.
    answer_col, reference_col : str or None
        Optional columns; if the default column is absent (or the argument is None), the log has
        no answers / references. A non-default name that is absent is an error.
    models : sequence of str, optional
        Model names in chain order. Rows of models not listed are left out (this selects a
        sub-chain); listing a model that is not in the table is an error.
    signal : {"logprob", "p_true"}, optional
        How the confidence was produced (see :class:`ChainLog`).
    benchmark, split : str, optional
        Metadata stored on the log.

    Returns
    -------
    ChainLog

    Raises
    ------
    ValueError
        For an empty table, missing columns (listing the available ones), no way to order the
        chain, unknown models, queries lacking some models, duplicate (query, model) rows, invalid
        confidences, correctness or costs, or references that differ within a query. The message
        names the offending queries or rows (0-based row numbers of the table, header excluded),
        the first few and their count.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from llmcopula.datasets import read_log
    >>> table = pd.DataFrame({"query_id": [7, 7, 3, 3], "model": ["big", "small"] * 2,
    ...                       "raw_confidence": [-0.1, -0.5, -0.2, float("-inf")],
    ...                       "correct": [1, 0, 1, 0], "cost_answer_usd": [1e-4, 1e-6] * 2})
    >>> log = read_log(table, models=["small", "big"])
    >>> log.query_ids.tolist(), log.correct.tolist()
    ([3, 7], [[0, 1], [0, 1]])

    Without confidences and costs, for a reader that only needs answers and correctness:

    >>> votes = pd.DataFrame({"query_id": [1, 1, 2, 2], "model": ["a", "b"] * 2,
    ...                       "answer": ["X", "Y", "Z", "Z"], "correct": [1, 0, 1, 1]})
    >>> log = read_log(votes, models=["a", "b"], confidence_col=None, cost_col=None)
    >>> log.answer.tolist(), bool(np.isnan(log.cost).all())
    ([['X', 'Y'], ['Z', 'Z']], True)
    """
    frame = _read_table(source, (model_col, answer_col, reference_col))
    if isinstance(source, pd.DataFrame):
        return _log_from_frame(frame, query_col, model_col, confidence_col, correct_col,
                               cost_col, answer_col, reference_col, position_col, models,
                               signal, benchmark, split)
    try:
        return _log_from_frame(frame, query_col, model_col, confidence_col, correct_col,
                               cost_col, answer_col, reference_col, position_col, models,
                               signal, benchmark, split)
    except ValueError as exc:  # name the file: the message names the column, row or query
        message = str(exc).removeprefix("source: ")
        raise ValueError(f"source: {source}: {message}") from None


def _log_from_frame(frame: pd.DataFrame, query_col: str, model_col: str,
                    confidence_col: str | None, correct_col: str, cost_col: str | None,
                    answer_col: str | None, reference_col: str | None, position_col: str,
                    models: Sequence[str] | None, signal: str | None, benchmark: str | None,
                    split: str | None) -> ChainLog:
    signal = check_signal(signal)
    if len(frame) == 0:
        raise ValueError("source: the table has no rows")
    answer_col = _optional_column(frame, answer_col, "answer_col", "answer")
    reference_col = _optional_column(frame, reference_col, "reference_col", "reference")
    required = [c for c in (query_col, model_col, confidence_col, correct_col, cost_col)
                if c is not None]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"source: missing required column(s) {missing}; "
                         f"available columns: {list(frame.columns)}")

    row_numbers = np.arange(len(frame))
    for col in (query_col, model_col):
        # An empty CSV field is read as "" (keep_default_na=False): it is missing too.
        absent = (frame[col].isna() | (frame[col].astype(object) == "")).to_numpy()
        if absent.any():
            raise ValueError(f"{col}: {int(absent.sum())} row(s) have no value, rows "
                             f"{_first(row_numbers[absent])}")
    model = _as_names(frame[model_col])
    chain = _chain_order(frame, model, models, position_col, row_numbers)
    m_codes = pd.Index(chain).get_indexer(model)
    keep = m_codes >= 0
    if not keep.all():  # models= selected a sub-chain
        frame, model, m_codes, row_numbers = (frame[keep], model[keep], m_codes[keep],
                                              row_numbers[keep])
    qid = frame[query_col].to_numpy(dtype=object)

    def locate(i: int) -> str:
        return f"row {row_numbers[i]} ({query_col}={plain(qid[i])!r}, {model_col}={model[i]!r})"

    if confidence_col is None:
        conf = np.full(len(frame), np.nan)  # not recorded
    else:
        conf_raw = frame[confidence_col].to_numpy()
        conf, bad = coerce_confidence(conf_raw)
        if bad.any():
            raise ValueError(describe_bad(confidence_col, "are NaN or not numbers", bad,
                                          conf_raw, locate))
        if signal is not None:
            positive = conf > 0
            if positive.any():
                raise ValueError(describe_bad(
                    confidence_col, f"are > 0, but a {signal!r} signal is a log-probability "
                    "(<= 0; -inf allowed)", positive, conf_raw, locate))
    corr_raw = frame[correct_col].to_numpy()
    corr, bad = coerce_correct(corr_raw)
    if bad.any():
        raise ValueError(describe_bad(correct_col, "are not 0/1 (accepted: bool, 0, 1, 0.0, 1.0)",
                                      bad, corr_raw, locate))
    if cost_col is None:
        cost = np.full(len(frame), np.nan)  # not recorded
    else:
        cost_raw = frame[cost_col].to_numpy()
        cost, bad = coerce_cost(cost_raw)
        if bad.any():
            raise ValueError(describe_bad(cost_col, "are negative, NaN or infinite", bad,
                                          cost_raw, locate))

    q_codes, q_values = _factorize_queries(frame[query_col])
    n, k = len(q_values), len(chain)
    _check_complete(q_codes, m_codes, q_values, chain, row_numbers, query_col)

    def to_grid(values: np.ndarray, dtype: Any) -> np.ndarray:
        grid = np.empty((n, k), dtype=dtype)
        grid[q_codes, m_codes] = values
        return grid

    answer = None
    if answer_col is not None:
        answer = to_grid(coerce_text(frame[answer_col].to_numpy(dtype=object)), object)
    reference = None
    if reference_col is not None:
        reference = _per_query_reference(coerce_text(frame[reference_col].to_numpy(dtype=object)),
                                         q_codes, q_values, reference_col)
    return ChainLog._trusted(
        models=tuple(chain), query_ids=q_values, confidence=to_grid(conf, float),
        correct=to_grid(corr, np.int8), cost=to_grid(cost, float), answer=answer,
        reference=reference, benchmark=check_optional_str(benchmark, "benchmark"),
        split=check_optional_str(split, "split"), signal=check_signal(signal))


def _read_table(source: Any, text_cols: tuple[str | None, ...]) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError("source: expected a path to a CSV/Parquet file or a pandas DataFrame, "
                         f"got {type(source).__name__}")
    return read_table(source, text_cols)


_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"


def read_table(path: str | os.PathLike[str], text_cols: tuple[str | None, ...] = ()
               ) -> pd.DataFrame:
    """Read a CSV (``.csv``, gzip-compressed ``.csv.gz``) or Parquet (``.parquet``, ``.pq``)
    table, turning every way a file can be unreadable into a ``ValueError`` that names it.

    CSV is read as UTF-8 (a byte-order mark is skipped) with ``keep_default_na=False``, so that
    answers such as ``"None"`` or ``"NA"`` stay strings; the columns in ``text_cols`` are read
    as text so that numeric-looking answers and names keep their spelling (``"007"``).

    Raises
    ------
    ValueError
        ``source: <path>: <why>`` for a path that does not exist or is a folder, an empty
        (0-byte) file, an unsupported suffix, a ``.gz`` file that is not gzip-compressed or
        is truncated, bytes that are not UTF-8, text that is not CSV, or a damaged Parquet
        file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "empty.csv").write_bytes(b"")
    0
    >>> read_table(folder / "empty.csv")
    Traceback (most recent call last):
    ...
    ValueError: source: .../empty.csv: the file is empty (0 bytes)
    """
    where = f"source: {path}"
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    is_parquet = suffixes[-1:] in ([".parquet"], [".pq"])
    is_gz = suffixes[-2:] == [".csv", ".gz"]
    if p.is_dir():
        raise ValueError(f"{where}: is a folder, not a file")
    if not (is_parquet or is_gz or suffixes[-1:] == [".csv"]):
        raise ValueError(f"source: unsupported file type {p.name!r}; expected .csv, .csv.gz, "
                         ".parquet or .pq")
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise ValueError(f"{where}: {_os_reason(exc)}") from None
    if not head:
        raise ValueError(f"{where}: the file is empty (0 bytes)")
    if is_gz and not head.startswith(_GZIP_MAGIC):
        raise ValueError(f"{where}: not gzip-compressed although its name ends in .gz "
                         "(rename it to .csv, or compress it)")
    if is_parquet:
        if head != _PARQUET_MAGIC:
            raise ValueError(f"{where}: not a Parquet file (it does not start with PAR1)")
        try:
            return pd.read_parquet(p)
        except ImportError as exc:
            raise ValueError(f"{where}: reading Parquet needs pyarrow: pip install "
                             f"'llmcopula[parquet]' ({exc})") from None
        except Exception as exc:  # pyarrow's errors have no common public base class
            reason = " ".join(str(exc).split())[:200]
            raise ValueError(f"{where}: not a readable Parquet file ({reason})") from None
    try:
        return pd.read_csv(p, keep_default_na=False, encoding="utf-8-sig",
                           compression="gzip" if is_gz else None,
                           dtype={c: str for c in text_cols if c})
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                         f"offset {exc.start}); save it as UTF-8") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"{where}: the gzip data are damaged or cut short ({exc}); copy or "
                         "compress the file again") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{where}: no columns (the file holds no CSV header)") from None
    except pd.errors.ParserError as exc:
        reason = " ".join(str(exc).split())
        raise ValueError(f"{where}: not a well-formed CSV table ({reason})") from None
    except OSError as exc:
        raise ValueError(f"{where}: {_os_reason(exc)}") from None


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file, not a folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def _optional_column(frame: pd.DataFrame, col: str | None, arg: str, default: str) -> str | None:
    if col is None or col in frame.columns:
        return col
    if col == default:
        return None
    raise ValueError(f"{arg}: column {col!r} not found; available columns: {list(frame.columns)}")


def _as_names(column: pd.Series) -> np.ndarray:
    """Model names as an object array of ``str`` (converting each distinct value once)."""
    codes, uniques = pd.factorize(column, sort=False)
    return np.array([str(u) for u in uniques], dtype=object)[codes]


def _chain_order(frame: pd.DataFrame, model: np.ndarray, models: Sequence[str] | None,
                 position_col: str, row_numbers: np.ndarray) -> list[str]:
    codes, present = pd.factorize(model, sort=False)
    present = [str(m) for m in present]
    if models is not None:
        if isinstance(models, str):
            raise ValueError(f"models: expected a sequence of model names, got {models!r}")
        chain = [str(m) for m in models]
        if not chain:
            raise ValueError("models: at least one model is required")
        dupes = sorted({m for m in chain if chain.count(m) > 1})
        if dupes:
            raise ValueError(f"models: names must be distinct, repeated: {dupes}")
        unknown = [m for m in chain if m not in present]
        if unknown:
            raise ValueError(f"models: {unknown} not found in the model column; "
                             f"models in the table: {present}")
        return chain
    if position_col not in frame.columns:
        raise ValueError(
            "models: cannot tell the chain order; pass models=[...] (names in chain order) or "
            f"give the table a {position_col!r} column (0-based position of each model; "
            f"position_col names it). Available columns: {list(frame.columns)}")
    pos_raw = frame[position_col].to_numpy()
    pos = coerce_confidence(pos_raw)[0]
    bad = ~np.isfinite(pos)
    if bad.any():
        raise ValueError(f"{position_col}: {int(bad.sum())} row(s) are not finite numbers, rows "
                         f"{_first(row_numbers[bad])}")
    lowest = np.full(len(present), np.inf)
    highest = np.full(len(present), -np.inf)
    np.minimum.at(lowest, codes, pos)
    np.maximum.at(highest, codes, pos)
    several = np.flatnonzero(lowest != highest)
    if several.size:
        detail = "; ".join(f"{present[m]!r}: {np.unique(pos[codes == m]).tolist()}"
                           for m in several[:_SHOW])
        raise ValueError(f"{position_col}: each model must have a single position; "
                         f"{several.size} model(s) have several: {detail}{_more(several.size)}")
    position = lowest
    values, counts = np.unique(position, return_counts=True)
    if (counts > 1).any():
        shared = {present[m]: plain(position[m]) for m in range(len(present))
                  if position[m] in values[counts > 1]}
        raise ValueError(f"{position_col}: models share a position, so the order is ambiguous: "
                         f"{shared}; pass models=[...] to set the order")
    return [present[m] for m in np.argsort(position, kind="stable")]


def _factorize_queries(qid: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    try:
        codes, uniques = pd.factorize(qid, sort=True)
    except TypeError:  # incomparable mixed id types: keep the order of first appearance
        codes, uniques = pd.factorize(qid, sort=False)
    values = np.asarray(uniques)
    if values.dtype.kind not in "iuf":
        values = np.asarray(uniques, dtype=object)
    return codes, values


def _check_complete(q_codes: np.ndarray, m_codes: np.ndarray, q_values: np.ndarray,
                    chain: list[str], row_numbers: np.ndarray, query_col: str) -> None:
    n, k = len(q_values), len(chain)
    counts = np.zeros((n, k), dtype=np.int64)
    np.add.at(counts, (q_codes, m_codes), 1)
    if (counts > 1).any():
        flat = q_codes * k + m_codes
        dup_rows = np.flatnonzero(pd.Series(flat).duplicated(keep=False).to_numpy())
        pairs = np.argwhere(counts > 1)
        detail = "; ".join(
            f"{query_col}={plain(q_values[q])!r}, model={chain[m]!r} at rows "
            f"{row_numbers[dup_rows[flat[dup_rows] == q * k + m]].tolist()}"
            for q, m in pairs[:_SHOW])
        raise ValueError(f"source: {len(pairs)} duplicate (query, model) pair(s), each must "
                         f"appear once: {detail}{_more(len(pairs))}")
    lacking = np.flatnonzero((counts == 0).any(axis=1))
    if lacking.size:
        detail = "; ".join(f"{query_col}={plain(q_values[q])!r} lacks "
                           f"{[chain[m] for m in np.flatnonzero(counts[q] == 0)]}"
                           for q in lacking[:_SHOW])
        raise ValueError(f"source: every query needs a row for every model; {lacking.size} "
                         f"quer(y/ies) lack some: {detail}{_more(lacking.size)}")


def _per_query_reference(ref: np.ndarray, q_codes: np.ndarray, q_values: np.ndarray,
                         col: str) -> np.ndarray:
    out = np.empty(len(q_values), dtype=object)
    out[q_codes] = ref
    # Compare as text with a sentinel for None, so "absent" must agree too.
    differs = pd.Series(ref, dtype=object).fillna("\0") != pd.Series(out[q_codes],
                                                                     dtype=object).fillna("\0")
    bad_q = np.unique(q_codes[differs.to_numpy()])
    if bad_q.size:
        raise ValueError(f"{col}: the reference must be the same on all rows of a query; "
                         f"{bad_q.size} quer(y/ies) differ: "
                         f"{[plain(q_values[q]) for q in bad_q[:_SHOW]]}{_more(bad_q.size)}")
    return out


def _first(rows: np.ndarray) -> str:
    return f"{rows[:_SHOW].tolist()}{_more(rows.size)}"


def _more(count: int) -> str:
    return f" (first {_SHOW} of {count} shown)" if count > _SHOW else ""
