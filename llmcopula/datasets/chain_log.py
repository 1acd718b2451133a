"""The chain log: what each model of a chain answered on a set of queries, and how it went."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from llmcopula.datasets._checks import (
    check_model_names,
    check_optional_str,
    check_signal,
    coerce_confidence,
    coerce_correct,
    coerce_cost,
    coerce_text,
    describe_bad,
    plain,
)

__all__ = ["ChainLog"]

_FIELDS = ("models", "query_ids", "confidence", "correct", "cost", "answer", "reference",
           "benchmark", "split", "signal")


class ChainLog:
    r"""Recorded outputs of a chain of K models on n queries; an immutable value.

    Row ``i`` is query ``query_ids[i]`` and column ``k`` is model ``models[k]``; the column order is
    the chain order (cheapest/first model first). Every model has a record on every query, as in
    the offline cascade evaluation of Zellinger & Thomson (arXiv:2501.09345), where a cascade
    ``(0, 2, 4)`` is scored by replaying the recorded outputs of models 0, 2 and 4.

    All arrays are read-only copies; methods return new objects. Numerical code downstream takes the
    plain numpy arrays; :meth:`to_frame` converts back to the long table format of the shipped data.

    Parameters
    ----------
    models : sequence of str
        Distinct model names in chain order, length K >= 1.
    confidence : array_like, shape (n, K)
        Raw confidence signal, not calibrated; higher means more likely correct. Any real number is
        accepted, including infinities: ``-inf`` means the model expressed no confidence at all
        (probability zero, e.g. a self-verification that said "no" with probability 1 or gave no
        valid reply) and ``+inf`` certainty under a signal that is unbounded above (e.g. an
        already-transformed :math:`\xi = -\log(1 - p)` at :math:`p = 1`). Calibration maps
        infinities to the extreme finite training values. NaN is rejected.
    correct : array_like, shape (n, K)
        Whether the answer was judged correct: bool, or numbers equal to 0 or 1. Stored as int8.
    cost : array_like, shape (n, K)
        Cost of the model on the query in USD (finite, >= 0). For the shipped benchmarks it is the
        cost of the answer call only, the definition the paper's experiments use.
    answer : array_like of str, shape (n, K), optional
        The answers, with None (or NaN, or the empty string) where absent; non-strings are
        converted with ``str``. Without it, :attr:`answer` is None.
    query_ids : array_like, shape (n,), optional
        Query identifiers (ints or strings); defaults to ``0, ..., n-1``. They need not be distinct
        (:meth:`take` with repeated indices repeats them), but :func:`~llmcopula.datasets.read_log`
        only accepts a table with one row per (query, model).
    reference : array_like of str, shape (n,), optional
        The reference (ground-truth) answer of each query, None where unknown.
    benchmark, split : str, optional
        Where the log comes from (metadata only).
    signal : {"logprob", "p_true"}, optional
        How the raw confidence was produced: ``"logprob"``, the (mean) log-probability of the answer
        tokens (MMLU, MedMCQA); ``"p_true"``, the self-verification :math:`\log P(\text{True})`
        (GSM8K, TriviaQA). A calibration step chooses its confidence transform from it
        (one-sided resp. two-sided asymptotic log). None: unspecified.

    Raises
    ------
    ValueError
        For wrong shapes, repeated or non-string model names, NaN or non-numeric confidences,
        correctness other than 0/1, negative or non-finite costs, an empty log, or an unknown
        signal. The message names the argument and the first offending (query, model) entries.

    See Also
    --------
    llmcopula.datasets.load_benchmark : load a shipped benchmark log.
    llmcopula.datasets.read_log : read a user's log from CSV, Parquet or a DataFrame.

    Examples
    --------
    >>> from llmcopula.datasets import ChainLog, load_benchmark
    >>> log = ChainLog.from_arrays(["small", "large"], confidence=[[-0.1, -0.01], [-2.0, -0.3]],
    ...                            correct=[[1, 1], [0, 1]], cost=[[1e-6, 1e-5], [1e-6, 1e-5]])
    >>> log.n_queries, log.n_models, log.accuracy.tolist()
    (2, 2, [0.5, 1.0])
    >>> mmlu = load_benchmark("mmlu", "llama", split="test")
    >>> mmlu.subset([0, 2, 4]).models
    ('llama3.2-1b', 'llama3.1-8b', 'llama3.1-405b')
    >>> round(float(mmlu.accuracy[-1]), 3)
    0.852
    """

    __slots__ = tuple("_" + f for f in _FIELDS)
    __hash__ = None  # type: ignore[assignment]  # holds arrays: equality by value, not hashable

    def __init__(self, models: Sequence[str], confidence: ArrayLike, correct: ArrayLike,
                 cost: ArrayLike, answer: ArrayLike | None = None,
                 query_ids: ArrayLike | None = None, reference: ArrayLike | None = None, *,
                 benchmark: str | None = None, split: str | None = None,
                 signal: str | None = None) -> None:
        names = check_model_names(models)
        k = len(names)
        conf_in = np.asarray(confidence)
        if conf_in.ndim != 2 or conf_in.shape[1] != k:
            raise ValueError(f"confidence: expected shape (n, {k}) for {k} model(s), "
                             f"got {conf_in.shape}")
        n = conf_in.shape[0]
        if n == 0:
            raise ValueError("confidence: the log is empty (0 queries)")
        for arg, value in (("correct", correct), ("cost", cost)):
            shape = np.shape(value)
            if shape != (n, k):
                raise ValueError(f"{arg}: expected shape {(n, k)} like confidence, got {shape}")

        ids = np.arange(n) if query_ids is None else np.asarray(query_ids)
        if ids.dtype.kind in "USO":
            ids = ids.astype(object)  # Python str ids, as read_log gives
        if ids.shape != (n,):
            raise ValueError(f"query_ids: expected shape ({n},), got {ids.shape}")
        if pd.isna(pd.Series(ids, dtype=object)).any():
            raise ValueError("query_ids: contains missing values (None/NaN)")

        def locate(i: int) -> str:
            return f"query_id={plain(ids[i // k])!r}, model={names[i % k]!r}"

        conf, bad = coerce_confidence(conf_in)
        if bad.any():
            raise ValueError(describe_bad("confidence", "are NaN or not numbers", bad, conf_in,
                                          locate))
        corr, bad = coerce_correct(correct)
        if bad.any():
            raise ValueError(describe_bad(
                "correct", "are not 0/1 (accepted: bool, 0, 1, 0.0, 1.0)", bad, correct, locate))
        cst, bad = coerce_cost(cost)
        if bad.any():
            raise ValueError(describe_bad("cost", "are negative, NaN or infinite", bad, cost,
                                          locate))

        ans = None
        if answer is not None:
            if np.shape(answer) != (n, k):
                raise ValueError(f"answer: expected shape {(n, k)} like confidence, "
                                 f"got {np.shape(answer)}")
            ans = coerce_text(answer)
        ref = None
        if reference is not None:
            if np.shape(reference) != (n,):
                raise ValueError(f"reference: expected shape ({n},), got {np.shape(reference)}")
            ref = coerce_text(reference)

        self._set(models=names, query_ids=ids.copy(), confidence=conf, correct=corr, cost=cst,
                  answer=ans, reference=ref,
                  benchmark=check_optional_str(benchmark, "benchmark"),
                  split=check_optional_str(split, "split"), signal=check_signal(signal))

    @classmethod
    def from_arrays(cls, models: Sequence[str], confidence: ArrayLike, correct: ArrayLike,
                    cost: ArrayLike, answer: ArrayLike | None = None,
                    query_ids: ArrayLike | None = None, reference: ArrayLike | None = None, *,
                    benchmark: str | None = None, split: str | None = None,
                    signal: str | None = None) -> ChainLog:
        """Build a log from (n, K) arrays, with the validation described in :class:`ChainLog`.

        The same as calling the constructor; provided for symmetry with
        :func:`~llmcopula.datasets.read_log`.

        Examples
        --------
        >>> import numpy as np
        >>> from llmcopula.datasets import ChainLog
        >>> rng = np.random.default_rng(0)
        >>> log = ChainLog.from_arrays(("a", "b", "c"), rng.normal(size=(100, 3)),
        ...                            rng.integers(0, 2, size=(100, 3)), np.full((100, 3), 1e-4))
        >>> log.correct.dtype, log.confidence.flags.writeable
        (dtype('int8'), False)
        """
        return cls(models, confidence, correct, cost, answer, query_ids, reference,
                   benchmark=benchmark, split=split, signal=signal)

    # -- construction internals -------------------------------------------------------------

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            object.__setattr__(self, "_" + name, value)

    @classmethod
    def _trusted(cls, **values: Any) -> ChainLog:
        """Build from already validated, freshly allocated arrays (skips the checks; internal)."""
        obj = object.__new__(cls)
        obj._set(**values)
        return obj

    def _values(self) -> dict[str, Any]:
        return {f: getattr(self, "_" + f) for f in _FIELDS}

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ChainLog is immutable; cannot set {name!r} "
                             "(use replace, subset or take to derive a new log)")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._values(),))

    # -- data ---------------------------------------------------------------------------------

    @property
    def models(self) -> tuple[str, ...]:
        """Model names in chain order, length K."""
        return self._models

    @property
    def query_ids(self) -> NDArray[Any]:
        """Query identifiers, shape (n,)."""
        return self._query_ids

    @property
    def confidence(self) -> NDArray[np.float64]:
        """Raw confidence signal, shape (n, K); may contain -inf/+inf, never NaN."""
        return self._confidence

    @property
    def correct(self) -> NDArray[np.int8]:
        """Correctness in {0, 1}, shape (n, K), int8."""
        return self._correct

    @property
    def cost(self) -> NDArray[np.float64]:
        """Cost per query in USD, shape (n, K)."""
        return self._cost

    @property
    def answer(self) -> NDArray[np.object_] | None:
        """Answers as ``str`` (None where absent), shape (n, K); None if no answers were given."""
        return self._answer

    @property
    def reference(self) -> NDArray[np.object_] | None:
        """Reference answers, shape (n,), None where unknown; None if no references were given."""
        return self._reference

    @property
    def benchmark(self) -> str | None:
        """Benchmark name (metadata)."""
        return self._benchmark

    @property
    def split(self) -> str | None:
        """Split name (metadata)."""
        return self._split

    @property
    def signal(self) -> str | None:
        """Kind of raw confidence signal: ``"logprob"``, ``"p_true"`` or None."""
        return self._signal

    # -- summaries ----------------------------------------------------------------------------

    @property
    def n_queries(self) -> int:
        """Number of queries n (rows)."""
        return int(self._confidence.shape[0])

    @property
    def n_models(self) -> int:
        """Number of models K (columns)."""
        return len(self._models)

    @property
    def mean_cost(self) -> NDArray[np.float64]:
        """Mean cost per query of each model in USD, shape (K,)."""
        return self._cost.mean(axis=0)

    @property
    def accuracy(self) -> NDArray[np.float64]:
        """Fraction of queries each model answered correctly, shape (K,)."""
        return self._correct.mean(axis=0, dtype=np.float64)

    # -- derived logs -------------------------------------------------------------------------

    def subset(self, models: Sequence[str | int]) -> ChainLog:
        """The log restricted to some models, in the order given (e.g. a cascade ``(0, 2, 4)``).

        Parameters
        ----------
        models : sequence of str or int
            Model names or chain positions (0-based, ``0 <= k < K``), without repetition.

        Returns
        -------
        ChainLog
            A new log whose column ``j`` is model ``models[j]``.

        Examples
        --------
        >>> from llmcopula.datasets import load_benchmark
        >>> log = load_benchmark("mmlu", "qwen_oai")
        >>> log.subset(["gpt-4o-mini", "gpt-4o"]).models
        ('gpt-4o-mini', 'gpt-4o')
        """
        if isinstance(models, (str, int, np.integer)):
            raise ValueError(f"models: expected a sequence of names or positions, got {models!r}")
        cols = [self._model_index(m) for m in models]
        if not cols:
            raise ValueError("models: select at least one model")
        if len(set(cols)) != len(cols):
            raise ValueError(f"models: each model may be selected once, got {list(models)!r}")
        values = self._values()
        values["models"] = tuple(self._models[c] for c in cols)
        for name in ("confidence", "correct", "cost", "answer"):
            if values[name] is not None:
                values[name] = values[name][:, cols]
        return ChainLog._trusted(**values)

    def take(self, indices: ArrayLike) -> ChainLog:
        """The log restricted to some queries (rows), e.g. for subsampling or the bootstrap.

        Parameters
        ----------
        indices : array_like of int, or of bool with length n
            Row positions (repetition allowed, so query ids may repeat), or a boolean mask.

        Returns
        -------
        ChainLog
            A new log with rows ``indices``, in that order.

        Examples
        --------
        >>> import numpy as np
        >>> from llmcopula.datasets import load_benchmark
        >>> log = load_benchmark("medmcqa", "llama")
        >>> boot = log.take(np.random.default_rng(0).integers(0, log.n_queries, log.n_queries))
        >>> boot.n_queries == log.n_queries
        True
        """
        idx = np.asarray(indices)
        n = self.n_queries
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise ValueError(f"indices: a boolean mask must have shape ({n},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        elif idx.dtype.kind not in "iu" and idx.size:
            raise ValueError(f"indices: expected integers or a boolean mask, got dtype {idx.dtype}")
        if idx.ndim != 1:
            raise ValueError(f"indices: expected a 1-d array, got shape {idx.shape}")
        if idx.size == 0:
            raise ValueError("indices: selects no rows; a log needs at least one query")
        idx = idx.astype(np.intp)
        if idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"indices: must lie in [0, {n}), got range [{idx.min()}, {idx.max()}]")
        values = self._values()
        for name in ("query_ids", "confidence", "correct", "cost", "answer", "reference"):
            if values[name] is not None:
                values[name] = values[name][idx]
        return ChainLog._trusted(**values)

    def replace(self, **changes: Any) -> ChainLog:
        """A copy with some fields replaced (validated like the constructor).

        Examples
        --------
        >>> from llmcopula.datasets import load_benchmark
        >>> load_benchmark("gsm8k", "llama").replace(split=None).split is None
        True
        """
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise ValueError(f"changes: unknown field(s) {unknown}; fields are {list(_FIELDS)}")
        values = self._values() | changes
        return ChainLog(values.pop("models"), values.pop("confidence"), values.pop("correct"),
                        values.pop("cost"), **values)

    def _model_index(self, model: str | int) -> int:
        if isinstance(model, (int, np.integer)) and not isinstance(model, (bool, np.bool_)):
            if not 0 <= model < self.n_models:
                raise ValueError(f"models: position {model} out of range [0, {self.n_models})")
            return int(model)
        if isinstance(model, str) and model in self._models:
            return self._models.index(model)
        raise ValueError(f"models: unknown model {model!r}; this log has {list(self._models)}")

    # -- conversion and display ---------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """The log as a long table, one row per (query, model), in the shipped file format.

        Columns: ``query_id``, ``model``, ``position`` (index in :attr:`models`),
        ``raw_confidence``, ``correct``, ``cost_answer_usd`` (the :attr:`cost`), and ``answer`` and
        ``reference`` when present. Rows are ordered by row of the log, then position. These are
        the default column names of :func:`~llmcopula.datasets.read_log`, so
        ``read_log(log.to_frame())`` gives back ``log`` (when query ids are distinct).

        Examples
        --------
        >>> from llmcopula.datasets import load_benchmark
        >>> load_benchmark("mmlu", "llama").to_frame().columns.tolist()
        ['query_id', 'model', 'position', 'raw_confidence', 'correct', 'cost_answer_usd', 'answer']
        """
        n, k = self.n_queries, self.n_models
        data: dict[str, Any] = {
            "query_id": np.repeat(self._query_ids, k),
            "model": np.tile(np.array(self._models, dtype=object), n),
            "position": np.tile(np.arange(k), n),
            "raw_confidence": self._confidence.ravel(),
            "correct": self._correct.ravel(),
            "cost_answer_usd": self._cost.ravel(),
        }
        if self._answer is not None:
            data["answer"] = pd.Series(self._answer.ravel(), dtype=object)
        if self._reference is not None:
            data["reference"] = pd.Series(np.repeat(self._reference, k), dtype=object)
        return pd.DataFrame(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChainLog):
            return NotImplemented
        a, b = self._values(), other._values()
        for name in _FIELDS:
            x, y = a[name], b[name]
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                if x is None or y is None or x.shape != y.shape or not bool(np.all(x == y)):
                    return False
            elif x != y:
                return False
        return True

    def __repr__(self) -> str:
        origin = "/".join(str(v) for v in (self._benchmark, self._split) if v is not None)
        head = (f"ChainLog({origin + ', ' if origin else ''}{self.n_queries} queries x "
                f"{self.n_models} models, signal={self._signal!r})")
        width = max(len("model"), *(len(m) for m in self._models))
        lines = [head, f"  pos  {'model':<{width}}  accuracy  mean cost ($ / 1M queries)"]
        for k, (m, acc, cost) in enumerate(zip(self._models, self.accuracy, self.mean_cost)):
            lines.append(f"  {k:>3}  {m:<{width}}  {acc:8.3f}  {cost * 1e6:.1f}")
        return "\n".join(lines)


def _rebuild(values: dict[str, Any]) -> ChainLog:
    """Unpickle a :class:`ChainLog` (the arrays were validated when the log was made)."""
    return ChainLog._trusted(**{k: v.copy() if isinstance(v, np.ndarray) else v
                                for k, v in values.items()})
