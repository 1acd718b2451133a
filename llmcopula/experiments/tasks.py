"""The units of work of ``llmcopula reproduce``: one (benchmark, chain, n, seed, cascade, method).

A task runs one method of the registry (:mod:`llmcopula.cascade.methods`) on one cascade of a
training subsample: the method's shared fit (a fitted model, or the chain's calibrators; cached
per process, since every cascade of one subsample shares it), its per-cascade preparation and
its tuning, each timed; it scores the frontier on the full test split with the shared routing
code (:func:`~llmcopula.cascade.evaluate_frontier`) and returns one tidy row per frontier
point. A failure becomes one row with ``status="failed"`` and the error message; it is
never dropped. Everything random is derived from the task's coordinates with
:class:`numpy.random.SeedSequence`, so a task gives the same numbers in any process or cluster.
"""

from __future__ import annotations

import time
import warnings
import zlib
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_positive_int, check_rng
from ..cascade.methods import Fitted, MethodOptions, get_method, method_names
from ..datasets import ChainLog, load_benchmark

__all__ = ["ReproduceConfig", "Task", "make_tasks", "run_task", "train_subsample",
           "METHODS", "OURS", "EMPIRICAL", "ALL_N"]

OURS = "markov-copula"
EMPIRICAL = "empirical-copula"
EMPIRICAL_PHI = "empirical-copula-phi"  # target="confidence": the calibrated-confidence objective
METHODS = method_names()
ALL_N = "all"

COLUMNS = ["task_id", "benchmark", "chain", "cascade", "k", "n_train", "n_used", "seed", "method",
           "status", "error", "n_warnings", "warning", "point", "lambda", "thresholds",
           "train_accuracy", "train_cost", "test_accuracy", "test_cost", "fit_s", "prep_s",
           "tune_s"]


@dataclass(frozen=True)
class ReproduceConfig:
    """Options shared by every task of a sweep (record them with the results)."""

    n_lambdas: int = 30
    bo_calls: int | None = None  # None: 20 + 10·(k − 1)
    bo_acq_optimizer: str = "auto"
    family: str = "gumbel"
    base_seed: int = 0

    def __post_init__(self) -> None:
        # Bad options fail here, once, rather than in every task of the sweep.
        MethodOptions(n_lambdas=self.n_lambdas, n_calls=self.bo_calls, family=self.family,
                      acq_optimizer=self.bo_acq_optimizer)
        check_rng(self.base_seed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, order=True)
class Task:
    """One unit of the sweep. ``n_train`` is an int or ``"all"`` (then ``seed`` is 0)."""

    benchmark: str
    chain: str
    n_train: str
    seed: int
    cascade: tuple[int, ...]
    method: str
    config: ReproduceConfig = field(default_factory=ReproduceConfig, compare=False)

    @property
    def task_id(self) -> str:
        cas = "-".join(map(str, self.cascade))
        return f"{self.benchmark}__{self.chain}__n{self.n_train}__s{self.seed}__{cas}__{self.method}"

    @property
    def k(self) -> int:
        return len(self.cascade)


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def train_subsample(benchmark: str, n_total: int, n_train: str, seed: int,
                    base_seed: int = 0) -> np.ndarray:
    """Row indices of a training subsample (all rows for ``"all"``).

    The same for both chains of a benchmark (they share queries), so every method and cascade
    of a (benchmark, n, seed) sees the same training queries: comparisons are paired.
    """
    if n_train == ALL_N:
        return np.arange(n_total)
    n = int(n_train)
    if not 2 <= n <= n_total:
        raise ValueError(f"n_train: must lie in 2..{n_total} or be 'all', got {n_train}")
    ss = np.random.SeedSequence([base_seed, _stable(benchmark), n, seed])
    return np.sort(np.random.default_rng(ss).choice(n_total, size=n, replace=False))


def _task_seed(task: Task) -> int:
    ss = np.random.SeedSequence([task.config.base_seed, _stable(task.benchmark),
                                 _stable(task.chain), _stable(task.n_train), task.seed,
                                 _stable("-".join(map(str, task.cascade)))])
    return int(ss.generate_state(1)[0])


def make_tasks(benchmarks: list[str], chains: list[str], methods: list[str],
               n_train: list[str], seeds: int, config: ReproduceConfig, *,
               k_min: int = 2, cascades: list[tuple[int, ...]] | None = None) -> list[Task]:
    """The sweep's tasks, ordered so that tasks sharing a fitted model are adjacent.

    The oracle needs no training data: it is one task per (benchmark, chain, cascade), under
    ``n_train="all"``, and serves as the reference for every n.
    """
    from ..cascade import all_cascades
    from ..datasets import list_benchmarks

    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"methods: unknown {bad}; expected some of {list(METHODS)}")
    if not methods:
        raise ValueError("methods: none given")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise ValueError(f"seeds: must be >= 1, got {seeds}")
    k_min = check_positive_int(k_min, "k_min")
    for name, values in (("benchmarks", benchmarks), ("chains", chains), ("n_train", n_train)):
        if not values:
            raise ValueError(f"{name}: none given")
    table = list_benchmarks()
    for b in benchmarks:
        load_benchmark(b, chains[0], split="train")  # an unknown name fails here, with the list
        if not ((table["benchmark"] == b) & (table["split"] == "test")).any():
            with_test = sorted(set(table.loc[table["split"] == "test", "benchmark"]))
            raise ValueError(f"benchmarks: {b!r} has no test split, and every method is scored "
                             f"on the test split; choose among {with_test}")
    for n in n_train:
        if n != ALL_N and not (str(n).isdigit() and int(n) >= 2):
            raise ValueError(f"n_train: each size must be an integer >= 2 or 'all', got {n!r}")
    tasks = []
    for b in benchmarks:
        for c in chains:
            train = load_benchmark(b, c, split="train")
            n_models, n_total = train.n_models, train.n_queries
            too_big = [n for n in n_train if n != ALL_N and int(n) > n_total]
            if too_big:
                raise ValueError(f"n_train: {too_big} exceed the {n_total} training queries of "
                                 f"{b} / {c}")
            if cascades is not None:
                for cas in cascades:
                    _check_sweep_cascade(cas, n_models, f"{b} / {c}")
            cas_list = [cas for cas in all_cascades(n_models) if len(cas) >= k_min]
            if cascades is not None:
                cas_list = [cas for cas in cas_list if cas in set(cascades)]
            if not cas_list:
                why = (f"none of the cascades {['-'.join(map(str, c)) for c in cascades]} has "
                       f"{k_min} or more models" if cascades is not None else
                       f"{b} / {c} has {n_models} models, so no cascade has {k_min} or more")
                raise ValueError(f"{'cascades' if cascades is not None else 'k_min'}: no task "
                                 f"to run: {why}")
            for n in n_train:
                for s in range(1 if n == ALL_N else seeds):
                    for cas in cas_list:
                        for m in methods:
                            if m == "oracle" and (n != ALL_N or s != 0):
                                continue
                            tasks.append(Task(b, c, n, s, cas, m, config))
            if "oracle" in methods and ALL_N not in n_train:
                tasks.extend(Task(b, c, ALL_N, 0, cas, "oracle", config) for cas in cas_list)
    return tasks


def _check_sweep_cascade(cas: tuple[int, ...], n_models: int, where: str) -> None:
    text = "-".join(map(str, cas))
    if len(cas) < 1:
        raise ValueError("cascades: an empty cascade")
    if any(i < 0 or i >= n_models for i in cas):
        raise ValueError(f"cascades: {text} has indices outside 0..{n_models - 1} ({where} has "
                         f"{n_models} models)")
    if any(b <= a for a, b in zip(cas[:-1], cas[1:])):
        raise ValueError(f"cascades: {text} is not a cascade; indices must increase along the "
                         "chain, e.g. 0-2-4")


# Shared fits of the latest training subsamples of this process (tasks arrive grouped).
_FITS: OrderedDict[tuple[Any, ...], tuple[Fitted, float, list[str]]] = OrderedDict()


def _options(task: Task) -> MethodOptions:
    cfg = task.config
    return MethodOptions(n_lambdas=cfg.n_lambdas, family=cfg.family, n_calls=cfg.bo_calls,
                         acq_optimizer=cfg.bo_acq_optimizer)


def _train(task: Task) -> ChainLog:
    full = load_benchmark(task.benchmark, task.chain, split="train")
    idx = train_subsample(task.benchmark, full.n_queries, task.n_train, task.seed,
                          task.config.base_seed)
    return full.take(idx)


def _fitted(task: Task, train: ChainLog) -> tuple[Fitted, float, list[str]]:
    """(the method's shared fit, fit seconds, fit warnings). The fit's warnings are kept with
    it and reported by every task that uses it, whichever process fitted it first."""
    method = get_method(task.method)
    options = _options(task)
    fit_key = method.fit_key(options)
    if fit_key is None:
        return method.fit(train, options), 0.0, []
    key = (task.benchmark, task.chain, task.n_train, task.seed, task.config.base_seed, fit_key)
    if key not in _FITS:
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = method.fit(train, options)
        _FITS[key] = (fitted, time.perf_counter() - start, [str(w.message) for w in caught])
        while len(_FITS) > 4:
            _FITS.popitem(last=False)
    return _FITS[key]


def _run_method(task: Task, test: ChainLog, fit_warnings: list[str]
                ) -> tuple[Any, float, float, float, int]:
    """(frontier with test values, fit_s, prep_s, tune_s, n_used); appends the shared fit's
    warnings to ``fit_warnings``."""
    method = get_method(task.method)
    options = _options(task)
    cas = task.cascade
    if method.needs_test:
        start = time.perf_counter()
        front = method.frontier(Fitted(), test, test, cas, options, None)
        return front, 0.0, 0.0, time.perf_counter() - start, 0
    train = _train(task)
    fitted, fit_s, fit_msgs = _fitted(task, train)
    fit_warnings.extend(fit_msgs)
    start = time.perf_counter()
    prepared = method.prepare(fitted, train, cas, options)
    prep_s = time.perf_counter() - start
    start = time.perf_counter()
    front = method.frontier(prepared, train, test, cas, options, _task_seed(task))
    tune_s = time.perf_counter() - start
    front = method.score(front, prepared, test)
    return front, fit_s, prep_s, tune_s, train.n_queries


def run_task(task: Task) -> pd.DataFrame:
    """Run one task; one row per frontier point, or one ``status="failed"`` row."""
    base = {"task_id": task.task_id, "benchmark": task.benchmark, "chain": task.chain,
            "cascade": "-".join(map(str, task.cascade)), "k": task.k, "n_train": task.n_train,
            "seed": task.seed, "method": task.method}
    fit_warnings: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            test = load_benchmark(task.benchmark, task.chain, split="test")
            front, fit_s, prep_s, tune_s, n_used = _run_method(task, test, fit_warnings)
        except Exception as exc:  # recorded, never dropped: the analysis counts failures
            messages = fit_warnings + [str(w.message) for w in caught]
            row = dict(base, status="failed", error=f"{type(exc).__name__}: {exc}"[:500],
                       n_warnings=len(messages), warning=messages[0][:200] if messages else "")
            return pd.DataFrame([row], columns=COLUMNS)
    messages = fit_warnings + [str(w.message) for w in caught]
    n_points = len(front)
    lam = front.lambdas if front.lambdas is not None else np.full(n_points, np.nan)
    rows = pd.DataFrame({
        **{key: [val] * n_points for key, val in base.items()},
        "n_used": n_used, "status": "ok", "error": "", "n_warnings": len(messages),
        "warning": messages[0][:200] if messages else "",
        "point": np.arange(n_points), "lambda": lam,
        "thresholds": [";".join(f"{v:.10g}" for v in t) for t in front.thresholds],
        "train_accuracy": front.accuracy, "train_cost": front.cost,
        "test_accuracy": front.test_accuracy, "test_cost": front.test_cost,
        "fit_s": fit_s, "prep_s": prep_s, "tune_s": tune_s,
    })
    return rows[COLUMNS]
