"""``reproduce``: the Markov-copula tuner against grid search, Bayesian optimisation and the
hindsight oracle on the shipped benchmarks, end to end (sweep → areas → tables → plots).

Output folder layout::

    tasks/<benchmark>__<chain>/<task_id>.csv   one file per finished task (resume unit)
    runs.jsonl                                 every invocation: command, counts, options
    curves.csv                                 all tasks' test error-cost points (tidy)
    areas.csv                                  pairwise areas and % change, one row per pair
    summary_by_k.csv, headline.csv             means by k and n, Wilcoxon p, headline numbers
    benchmarks.csv, runtime.csv, failures.csv  per-benchmark table, runtimes, failed tasks
    report.md                                  the tables as Markdown
    curves_<benchmark>_<chain>.png, pct_change_by_k.png, pct_change_by_n.png
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import (benchmark_table, compute_areas, headline, runtime_table, summarise_by_k)
from .runner import read_task_results, run_sweep
from .tasks import ALL_N, OURS, ReproduceConfig, make_tasks

__all__ = ["reproduce", "analyse", "DEFAULT_BENCHMARKS"]

#: Benchmarks with a test split (GSM8K ships a train split only and is left out).
DEFAULT_BENCHMARKS = ("mmlu", "medmcqa", "triviaqa")


def reproduce(*, benchmarks=DEFAULT_BENCHMARKS, chains=("llama", "qwen_oai"),
              methods=(OURS, "grid", "bo", "oracle"), n_train=("all",), seeds: int = 20,
              n_jobs: int = 1, output_dir: str | Path = "reproduce-results", k_min: int = 2,
              cascades=None, config: ReproduceConfig | None = None, progress: bool = True,
              plots: bool = True, command: str | None = None, ours: str = OURS
              ) -> dict[str, Any]:
    """Run (or resume) a sweep and analyse everything in ``output_dir``.

    ``ours`` names the method compared with every other one (``"markov-copula"`` or
    ``"empirical-copula"``). Returns the sweep counts and the analysis tables (see
    :func:`analyse`).
    """
    cfg = ReproduceConfig() if config is None else config
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs: expected a non-zero integer (-1: all cores), got {n_jobs!r}")
    n_train = [str(n) for n in n_train]
    tasks = make_tasks(list(benchmarks), list(chains), list(methods), n_train, seeds, cfg,
                       k_min=k_min, cascades=cascades)
    counts = run_sweep(tasks, output_dir, n_jobs=n_jobs, progress=progress, command=command)
    return {"counts": counts, **analyse(output_dir, plots=plots, ours=ours)}


def analyse(output_dir: str | Path, *, plots: bool = True, ours: str = OURS
            ) -> dict[str, pd.DataFrame]:
    """Read every task file of ``output_dir``, write the tidy tables, report and plots, with
    ``ours`` compared to every other method. Tables and plots whose names depend on ``ours``
    get a ``_<ours>`` suffix unless ``ours`` is the default."""
    out = Path(output_dir)
    curves = read_task_results(out)
    if curves.empty:
        return {"curves": curves}
    curves.to_csv(out / "curves.csv", index=False)
    suffix = "" if ours == OURS else f"_{ours}"
    areas = compute_areas(curves, ours=ours)
    by_k = summarise_by_k(areas)
    head = headline(by_k)
    bench = benchmark_table(curves, areas) if not areas.empty else pd.DataFrame()
    runtime = runtime_table(curves)
    failures = curves[curves["status"] == "failed"][
        ["task_id", "method", "n_train", "seed", "error"]]
    tables = {"areas": areas, "summary_by_k": by_k, "headline": head, "benchmarks": bench,
              "runtime": runtime, "failures": failures}
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}{suffix}.csv", index=False)
    (out / f"report{suffix}.md").write_text(markdown_report(tables, ours), encoding="utf-8")
    if plots:
        _plots(curves, by_k, out, ours, suffix)
    return {"curves": curves, **tables}


def _md(frame: pd.DataFrame, digits: int = 4) -> str:
    if frame is None or frame.empty:
        return "(none)\n"
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for v in row:
            if isinstance(v, (float, np.floating)):
                cells.append("" if np.isnan(v) else (f"{v:.2e}" if 0 < abs(v) < 1e-3
                                                     else f"{v:.{digits}g}"))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown_report(tables: dict[str, pd.DataFrame], ours: str = OURS) -> str:
    parts = [f"Ours: {ours}\n\n",
             "## Headline: mean of per-k mean % change in A (ours vs baseline), k >= 3\n",
             _md(tables["headline"]),
             "\n## % change in A by baseline, n and k (negative: ours better)\n",
             _md(tables["summary_by_k"]),
             "\n## Per benchmark × chain × k (full training data; A over the range shared by "
             "all tuned methods; % change pairwise)\n",
             _md(tables["benchmarks"]),
             "\n## Tuning time per cascade (s)\n", _md(tables["runtime"]),
             f"\n## Failed tasks: {len(tables['failures'])}\n"]
    if len(tables["failures"]):
        parts.append(_md(tables["failures"].head(20)))
    return "".join(parts)


def _plots(curves: pd.DataFrame, by_k: pd.DataFrame, out: Path, ours: str = OURS,
           suffix: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full = curves[(curves["n_train"] == ALL_N) & (curves["seed"] == 0)
                  & (curves["status"] == "ok")]
    for (bench, chain), g in full.groupby(["benchmark", "chain"]):
        cas = max(g["cascade"].unique(), key=lambda c: (c.count("-"), c))
        fig, ax = plt.subplots(figsize=(6, 4))
        for method, m in g[g["cascade"] == cas].groupby("method"):
            m = m.sort_values("test_cost")
            ax.plot(m["test_cost"], 1 - m["test_accuracy"], "--" if method == "oracle" else "-",
                    marker="" if method == "oracle" else ".", label=method)
        ax.set(xlabel="test cost (USD per million queries)", ylabel="test error rate",
               title=f"{bench} / {chain}, cascade {cas}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / f"curves_{bench}_{chain}.png", dpi=110)
        plt.close(fig)
    if by_k.empty:
        return
    label = f"% change in A, {ours} vs baseline"
    tuned = by_k[by_k["baseline"] != "oracle"]
    fig, ax = plt.subplots(figsize=(6, 4))
    full_k = tuned[tuned["n_train"] == ALL_N]
    bases = sorted(full_k["baseline"].unique())
    for i, base in enumerate(bases):
        g = full_k[full_k["baseline"] == base]
        ax.bar(g["k"] + (i - (len(bases) - 1) / 2) * 0.8 / max(len(bases), 1),
               g["mean_pct_change"], width=0.8 / max(len(bases), 1), yerr=g["sem"], label=base)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="cascade length k", ylabel=label,
           title="full training data (negative: ours better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"pct_change_by_k{suffix}.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    big = tuned[tuned["k"] >= 3]
    order = sorted(big["n_train"].unique(), key=lambda n: float("inf") if n == ALL_N else int(n))
    position = {n: i for i, n in enumerate(order)}  # one shared x axis for every baseline
    for base, g in big.groupby("baseline"):
        per_n = g.groupby("n_train")["mean_pct_change"].mean()
        here = sorted(per_n.index, key=position.get)
        ax.plot([position[n] for n in here], per_n[here].to_numpy(), marker="o", label=base)
    ax.set_xticks(range(len(order)), order)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="training queries n", ylabel="mean of per-k mean % change (k >= 3)",
           title=f"{ours} vs baselines by training-set size")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"pct_change_by_n{suffix}.png", dpi=110)
    plt.close(fig)
