"""The posterior method with the single-signal guard (``CascadePosterior(fallback=
"held-out-log-loss")``) against the posterior method without it and against single-signal
thresholds, on the low-label subset of the "Beyond the paper" run (Llama chain, cascade 0-2-4,
MMLU, MedMCQA, TriviaQA, n = 10, 20, 30, 50, 100, subsamples 0 and 1) and on full data.

Usage (``FROM`` is a ``run_beyond.sh`` folder holding the unguarded and single-signal task files
of that subset; they are copied, then only the guarded tasks run)::

    python benchmarks/bench_posterior_guard.py FROM OUT [--methods empirical,markov]

Areas and % changes are those of ``llmcopula reproduce`` (``compute_areas``: paired, on the
cost range two test curves share; negative = the guarded method better).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd

from llmcopula.cascade.methods import (Fitted, MethodOptions, PosteriorEmpiricalMethod,
                                       PosteriorMarkovMethod, register_method)
from llmcopula.cascade.posterior import CascadePosterior
from llmcopula.experiments.analysis import compute_areas
from llmcopula.experiments.runner import read_task_results, run_sweep
from llmcopula.experiments.tasks import ReproduceConfig, Task

BENCHMARKS = ("mmlu", "medmcqa", "triviaqa")
NS = ("10", "20", "30", "50", "100", "all")
CASCADE = (0, 2, 4)


def _guarded(base: type) -> type:
    class Guarded(base):  # type: ignore[misc, valid-type]
        name = base.name + "-guard"
        summary = base.summary + ", with the single-signal guard"

        def fit_key(self, options: MethodOptions) -> tuple[str, str]:
            return ("posterior", "guard")

        def fit(self, train, options: MethodOptions) -> Fitted:
            return Fitted(costs=train.mean_cost * 1e6,
                          extra={"posterior": CascadePosterior(
                              fallback="held-out-log-loss").fit(train)})

    return Guarded


GUARDED = {"empirical": _guarded(PosteriorEmpiricalMethod),
           "markov": _guarded(PosteriorMarkovMethod)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--methods", default="empirical")
    args = parser.parse_args(argv)
    src, out = Path(args.source), Path(args.out)
    cas = "-".join(map(str, CASCADE))
    for bench in BENCHMARKS:
        folder = out / "tasks" / f"{bench}__llama"
        folder.mkdir(parents=True, exist_ok=True)
        for n in NS:
            for f in (src / "tasks" / f"{bench}__llama").glob(f"*__n{n}__s[01]__{cas}__*.csv"):
                shutil.copy(f, folder / f.name)
    config = ReproduceConfig(n_lambdas=20)
    kinds = args.methods.split(",")
    for kind in kinds:
        register_method(GUARDED[kind]())
    tasks = [Task(b, "llama", n, s, CASCADE, GUARDED[kind].name, config)
             for kind in kinds for b in BENCHMARKS for n in NS
             for s in ((0,) if n == "all" else (0, 1))]
    run_sweep(tasks, out, n_jobs=1, progress=False)  # in-process: the methods are local
    curves = read_task_results(out)
    rows = []
    for kind in kinds:
        ours = GUARDED[kind].name
        areas = compute_areas(curves, ours=ours)
        ok = areas[areas["status"] == "ok"]
        for (base, n), g in ok.groupby(["baseline", "n_train"]):
            if base.endswith("-guard") or base in ("grid", "markov-copula-paper", "oracle"):
                continue
            rows.append({"guarded": ours, "vs": base, "n_train": n,
                         "mean_pct": g["pct_change"].mean(), "pairs": len(g),
                         "share_better": float((g["A_ours"] < g["A_base"]).mean())})
    table = pd.DataFrame(rows)
    table["o"] = table["n_train"].map(lambda n: 10**9 if n == "all" else int(n))
    print(table.sort_values(["guarded", "vs", "o"]).drop(columns="o").to_string(index=False))


if __name__ == "__main__":
    main()
