"""The gateway's call log: one row per model per request, written off the request path.

Columns (the bundled logs' names where they exist, so that a call log joined with labels is a
chain log; see :func:`llmcopula.datasets.call_logs.read_call_log`):

================ ===========================================================================
query_id         the request id (the client's ``x-request-id`` header, or a fresh UUID)
model            the model's name in the policy
position         0-based position of the model in the policy's chain
stage            0-based position in the cascade; empty for a chain model outside the cascade
role             ``served`` (its answer was returned), ``deferred`` (the cascade went on),
                 ``failed`` (the last stage failed: the request got HTTP 502) or ``shadow``
                 (a shadow call, never served)
raw_confidence   the raw signal; empty when the upstream failed
correct          empty: filled by joining labels
cost_usd         cost of every call to this model for this request (verification included)
cost_answer_usd  cost of the answer call only
input_tokens     prompt tokens of the answer call
output_tokens    completion tokens of the answer call
latency_s        wall-clock time of this model's calls, retries included
answer           the answer text (newlines kept; CSV quoting handles them)
error            the fault kind when the upstream failed after its retries, else empty
attempts         number of answer-call attempts
timestamp        UNIX time at which the gateway received the request
================ ===========================================================================

CSV logs are appended with one ``write`` per request on a file opened with ``O_APPEND``, so
several worker processes can share one file without interleaving rows, and a request's rows are
written together. Parquet logs (one worker only) are written in row groups and closed on
shutdown. Rows are handed to a background thread; :meth:`CallLogWriter.close` drains the queue,
so a graceful shutdown (SIGTERM) loses nothing.
"""

from __future__ import annotations

import csv
import io
import math
import os
import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "CallLogWriter", "check_call_log_path", "prepare_call_log"]

COLUMNS = ("query_id", "model", "position", "stage", "role", "raw_confidence", "correct",
           "cost_usd", "cost_answer_usd", "input_tokens", "output_tokens", "latency_s", "answer",
           "error", "attempts", "timestamp")
_HEADER = ",".join(COLUMNS) + "\n"
_STOP = object()


def _fmt(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return value


def check_call_log_path(path: str | os.PathLike[str], *, workers: int = 1) -> Path:
    """Check that a call log can be written at ``path`` (before any server starts)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{p}: the call log must be a .csv or .parquet file")
    if suffix == ".parquet":
        if workers > 1:
            raise ValueError(f"{p}: a Parquet call log needs --workers 1 (several workers "
                             "append to one CSV file instead)")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError(f"{p}: a Parquet call log needs pyarrow (pip install "
                             "'llmcopula[parquet]'), or use a .csv file") from None
        if p.exists():
            raise ValueError(f"{p}: exists; a Parquet call log is written whole, choose a new "
                             "file")
    if not p.parent.is_dir():
        raise ValueError(f"{p}: the folder {p.parent} does not exist")
    if p.is_dir():
        raise ValueError(f"{p}: is a directory")
    if suffix == ".csv" and p.exists() and p.stat().st_size > 0:
        with p.open("r", encoding="utf-8", newline="") as fh:
            head = fh.readline()
        if head != _HEADER:
            raise ValueError(f"{p}: exists and is not a call log of this format (its header "
                             "differs); choose a new file")
    return p


def prepare_call_log(path: str | os.PathLike[str]) -> None:
    """Create a CSV call log with its header if it is absent or empty (before workers start)."""
    p = Path(path)
    if p.suffix.lower() != ".csv":
        return
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        if os.fstat(fd).st_size == 0:
            os.write(fd, _HEADER.encode("utf-8"))
    finally:
        os.close(fd)


class CallLogWriter:
    """Background writer of call-log rows (dicts keyed by :data:`COLUMNS`).

    :meth:`write` only enqueues (no I/O on the caller's thread); a daemon thread formats and
    writes each request's rows in one system call. :meth:`close` drains and closes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._parquet = self.path.suffix.lower() == ".parquet"
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.rows_written = 0
        self.error: BaseException | None = None
        if self._parquet:
            self._fd = -1
            self._pending: list[dict[str, Any]] = []
            self._parquet_writer: Any = None
        else:
            prepare_call_log(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._thread = threading.Thread(target=self._run, name="llmcopula-call-log", daemon=True)
        self._thread.start()

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue one request's rows."""
        if rows:
            self._queue.put(list(rows))

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then close the file."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # -------------------------------------------------------------------------- internals
    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                batch = [item]
                while True:  # drain what is already queued, one request per write()
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is _STOP:
                        self._write_batches(batch)
                        return
                    batch.append(nxt)
                self._write_batches(batch)
        except BaseException as exc:  # pragma: no cover - disk full and the like
            self.error = exc
        finally:
            self._finish()

    def _write_batches(self, batch: list[list[dict[str, Any]]]) -> None:
        if self._parquet:
            for rows in batch:
                self._pending.extend(rows)
                self.rows_written += len(rows)
            if len(self._pending) >= 4096:
                self._flush_parquet()
            return
        for rows in batch:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerows([[_fmt(r.get(c)) for c in COLUMNS] for r in rows])
            os.write(self._fd, buf.getvalue().encode("utf-8"))
            self.rows_written += len(rows)

    def _flush_parquet(self) -> None:
        if not self._pending:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {c: [r.get(c) for r in self._pending] for c in COLUMNS}
        for c in ("raw_confidence", "cost_usd", "cost_answer_usd", "latency_s", "timestamp"):
            columns[c] = [math.nan if v is None else float(v) for v in columns[c]]
        columns["correct"] = [None] * len(self._pending)
        table = pa.table({c: pa.array(columns[c], type=_ARROW_TYPES[c]()) for c in COLUMNS})
        if self._parquet_writer is None:
            self._parquet_writer = pq.ParquetWriter(str(self.path), table.schema)
        self._parquet_writer.write_table(table)
        self._pending = []

    def _finish(self) -> None:
        if self._parquet:
            self._flush_parquet()
            if self._parquet_writer is not None:
                self._parquet_writer.close()
        elif self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _arrow(name: str) -> Any:
    def make() -> Any:
        import pyarrow as pa
        return getattr(pa, name)()
    return make


_ARROW_TYPES = {"query_id": _arrow("string"), "model": _arrow("string"),
                "position": _arrow("int64"), "stage": _arrow("int64"), "role": _arrow("string"),
                "raw_confidence": _arrow("float64"), "correct": _arrow("float64"),
                "cost_usd": _arrow("float64"), "cost_answer_usd": _arrow("float64"),
                "input_tokens": _arrow("int64"), "output_tokens": _arrow("int64"),
                "latency_s": _arrow("float64"), "answer": _arrow("string"),
                "error": _arrow("string"), "attempts": _arrow("int64"),
                "timestamp": _arrow("float64")}
