"""Chain logs: the recorded outputs of several LLMs on a set of queries.

:class:`ChainLog` holds, for n queries and K models in chain order, the raw confidence, the
correctness, the cost and (optionally) the answers. Logs come from the bundled benchmarks
(:func:`load_benchmark`, :func:`load_pool`, :func:`load_labels`, :func:`load_questions`,
:func:`list_benchmarks`) or from
users' own long tables (:func:`read_log`), or from a cascade gateway's call logs joined with
labels (:func:`read_call_log`).
"""

from llmcopula.datasets._checks import SIGNALS
from llmcopula.datasets.benchmarks import (
    list_benchmarks,
    load_benchmark,
    load_labels,
    load_pool,
    load_questions,
)
from llmcopula.datasets.call_logs import CallLogData, read_call_log
from llmcopula.datasets.chain_log import ChainLog
from llmcopula.datasets.logs import read_log, read_table

__all__ = [
    "SIGNALS",
    "CallLogData",
    "ChainLog",
    "list_benchmarks",
    "load_benchmark",
    "load_labels",
    "load_pool",
    "load_questions",
    "read_call_log",
    "read_log",
    "read_table",
]
