"""The tables of the "Beyond the paper" section of RESULTS.md, from a ``run_beyond.sh`` folder.

Usage::

    python benchmarks/beyond_report.py beyond-results > beyond-results/report.md

Every comparison is paired: the same training subsample, cascade and test split, the shared
routing code (``evaluate_frontier``) and the normalised area of ``docs/evaluation.md`` over the
cost range the two test curves share; % change = 100 (A_ours - A_base) / A_base (negative: ours
better); seeds are averaged within each cascade before the one-sided Wilcoxon signed-rank test
over cascades. Label efficiency uses one fixed cost range per cascade
(``llmcopula.experiments.analysis.fixed_range_areas``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from llmcopula.experiments.analysis import (compute_areas, fixed_range_areas, label_efficiency,
                                            per_benchmark_n, per_cascade, summarise_by_k,
                                            wilcoxon_less)
from llmcopula.experiments.reproduce import _md as markdown_table
from llmcopula.experiments.runner import read_task_results

OURS = ("markov-copula", "empirical-copula", "posterior-markov-copula",
        "posterior-empirical-copula")
SINGLE = {"posterior-markov-copula": "markov-copula",
          "posterior-empirical-copula": "empirical-copula"}
PAPER = "markov-copula-paper"
BO_FULL = {("llama", "0-2-4"), ("llama", "0-2-3-4"), ("llama", "0-1-2-3-4")}


def md(frame: pd.DataFrame, digits: int = 3) -> str:
    return markdown_table(frame, digits)


def _pairs(areas: pd.DataFrame, baseline: str) -> pd.DataFrame:
    ok = areas[(areas["status"] == "ok") & (areas["baseline"] == baseline)]
    return ok.groupby(["benchmark", "chain", "cascade", "k", "n_train"], as_index=False)[
        ["A_ours", "A_base", "pct_change"]].mean()


def grid_target(areas_by_ours: dict[str, pd.DataFrame]) -> str:
    out = []
    for ours, areas in areas_by_ours.items():
        tab = per_benchmark_n(areas, "grid", k_min=3)
        if tab.empty:
            continue
        tab.insert(0, "ours", ours)
        out.append(tab)
    frame = pd.concat(out) if out else pd.DataFrame()
    return md(frame)


def bo_target(areas_by_ours: dict[str, pd.DataFrame]) -> str:
    rows = []
    for ours, areas in areas_by_ours.items():
        p = _pairs(areas, "bo")
        if p.empty:
            continue
        full = p[(p["n_train"] == "all")]
        full = full[[(c, cas) in BO_FULL for c, cas in zip(full["chain"], full["cascade"])]]
        low = p[p["n_train"].isin(["10", "20", "30"]) & (p["cascade"] == "0-2-4")]
        # n <= 30: every (cascade, n, seed) pair counts, as in the earlier comparison
        raw = areas[(areas["status"] == "ok") & (areas["baseline"] == "bo")
                    & areas["n_train"].isin(["10", "20", "30"])]
        for label, sel, pairs in (("full data, 9 cascades", full, full),
                                  ("n <= 30, cascade 0-2-4 (pairs)", low, raw)):
            if sel.empty:
                continue
            per_k = sel.groupby("k")["pct_change"].mean()
            rows.append({"ours": ours, "subset": label,
                         "mean_of_per_k_means": per_k.mean(), "n_pairs": len(pairs),
                         "share_better": float((pairs["A_ours"] < pairs["A_base"]).mean()),
                         "wilcoxon_p": wilcoxon_less(pairs["A_ours"], pairs["A_base"])})
    return md(pd.DataFrame(rows))


def bo_cascades(areas_by_ours: dict[str, pd.DataFrame]) -> str:
    """Every full-data BO cascade: A_bo and each method's % change against BO (paired, on the
    cost range the two test curves share)."""
    rows: dict[tuple[str, str, str], dict[str, object]] = {}
    for ours, areas in areas_by_ours.items():
        p = _pairs(areas, "bo")
        p = p[(p["n_train"] == "all")
              & np.array([(c, cas) in BO_FULL for c, cas in zip(p["chain"], p["cascade"])])]
        for _, r in p.iterrows():
            row = rows.setdefault((r["benchmark"], r["chain"], r["cascade"]),
                                  {"benchmark": r["benchmark"], "chain": r["chain"],
                                   "cascade": r["cascade"], "k": r["k"]})
            row[f"{ours} %"] = r["pct_change"]
    frame = pd.DataFrame(list(rows.values()))
    return md(frame.sort_values(["k", "benchmark"]) if not frame.empty else frame)


def paper_target(areas_by_ours: dict[str, pd.DataFrame]) -> str:
    rows = []
    for ours, areas in areas_by_ours.items():
        p = _pairs(areas, PAPER)
        for n, g in p[p["k"] >= 3].groupby("n_train"):
            rows.append({"ours": ours, "n_train": n, "n_cascades": len(g),
                         "share_better": float((g["A_ours"] < g["A_base"]).mean()),
                         "mean_pct": g["pct_change"].mean(),
                         "median_pct": g["pct_change"].median(),
                         "wilcoxon_p": wilcoxon_less(g["A_ours"], g["A_base"])})
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["o"] = frame["n_train"].map(lambda n: np.inf if n == "all" else float(n))
        frame = frame.sort_values(["ours", "o"]).drop(columns="o")
    return md(frame)


def posterior_target(areas_by_ours: dict[str, pd.DataFrame]) -> str:
    parts = []
    for post, single in SINGLE.items():
        if post not in areas_by_ours:
            continue
        tab = per_benchmark_n(areas_by_ours[post], single, k_min=2)
        tab.insert(0, "posterior vs", single)
        parts.append(tab)
    return md(pd.concat(parts) if parts else pd.DataFrame())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--bo-only", action="store_true",
                        help="only the BO subset: the 9 full-data BO cascades and cascade 0-2-4 of "
                             "MMLU and MedMCQA at n <= 30 (fast)")
    parser.add_argument("--ours", default="markov-copula",
                        help="the method whose per-cascade differences against the published "
                             "configuration are listed")
    args = parser.parse_args(argv)
    curves = read_task_results(Path(args.folder))
    if curves.empty:
        sys.exit(f"{args.folder}: no task files")
    if args.bo_only:
        n_train = curves["n_train"].astype(str)
        full = (n_train == "all") & np.array(
            [(c, cas) in BO_FULL for c, cas in zip(curves["chain"], curves["cascade"])])
        low = (n_train.isin(["10", "20", "30"]) & (curves["cascade"] == "0-2-4")
               & (curves["chain"] == "llama") & curves["benchmark"].isin(["mmlu", "medmcqa"]))
        curves = curves[full | low]
    methods = set(curves["method"])
    areas_by_ours = {o: compute_areas(curves, ours=o) for o in OURS if o in methods}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    n_tasks = curves["task_id"].nunique()
    failed = curves[curves["status"] == "failed"]["task_id"].nunique()
    print(f"Tasks: {n_tasks} ({failed} failed); methods: {', '.join(sorted(methods))}; "
          f"load average when the report was made: {load}\n")
    print("### Against grid search: per benchmark and n (k >= 3: mean of per-k means)\n")
    print(grid_target(areas_by_ours))
    print("### Against BO on the earlier subset\n")
    print(bo_target(areas_by_ours))
    print("Every full-data BO cascade (% change against BO; negative: ours better):\n")
    print(bo_cascades(areas_by_ours))
    if args.bo_only:
        return
    print("### Against the published configuration (markov-copula-paper), k >= 3\n")
    print(paper_target(areas_by_ours))
    if args.ours in areas_by_ours:
        print(f"#### Every cascade, full training data: {args.ours} vs {PAPER}\n")
        print(md(per_cascade(areas_by_ours[args.ours], PAPER, k_min=3)))
    print("### Posterior vs single-signal thresholds (all cascades, k >= 2)\n")
    print(posterior_target(areas_by_ours))
    print("### Label efficiency: mean area over each cascade's fixed cost range\n")
    fixed = fixed_range_areas(curves)
    print(md(label_efficiency(fixed), digits=4))
    print("By benchmark:\n")
    print(md(label_efficiency(fixed, by=("benchmark",)), digits=4))
    print("### % change by k, n (markov-copula as ours)\n")
    if "markov-copula" in areas_by_ours:
        print(md(summarise_by_k(areas_by_ours["markov-copula"])))


if __name__ == "__main__":
    main()
