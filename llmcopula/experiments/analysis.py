"""Areas, % changes, Wilcoxon tests and summaries of a ``reproduce`` sweep
(``docs/evaluation.md``, "Error–cost area" and "Methods and the reproduction harness").

Rules, stated once:

* **Area.** For every (benchmark, chain, cascade, n, seed) and baseline, the normalised area
  A = mean test error over the cost range the two test curves share
  (:func:`~llmcopula.cascade.error_cost_area`, the paper's pairwise protocol), and
  % change = 100·(A_ours − A_base)/A_base (negative: ours better).
* **Oracle.** Its curve is extended flat to the right (more budget cannot buy more correct
  answers than exist), so its shared range with ours is ours' range from its cheapest point.
* **Common-range areas** (the per-benchmark table): every method's A over the cost range
  shared by all tuned methods of that cascade, so the columns of one row are comparable.
* **Degenerate or failed pairs** are kept as rows with ``status`` ``"failed"`` (a method
  raised), ``"degenerate"`` (a test curve with a single cost) or ``"no-overlap"``; they have no
  area, are excluded from means and tests, and are counted in the summaries (``n_excluded``).
* **Aggregation.** Mean % change by k; the headline is the unweighted mean of the per-k means for
  k >= 3 (how the paper's 1.9% is made up). For a subsampled n the seeds of a cascade are
  averaged first, so each cascade contributes one pair. One-sided paired Wilcoxon signed-rank
  test of A_ours < A_base (``scipy.stats.wilcoxon(ours, base, alternative="less")``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..cascade import error_cost_area
from .tasks import ALL_N, OURS

__all__ = ["compute_areas", "summarise_by_k", "headline", "benchmark_table", "runtime_table",
           "wilcoxon_less", "common_range_areas", "fixed_range_areas", "label_efficiency",
           "per_benchmark_n", "per_cascade"]

_KEYS = ["benchmark", "chain", "cascade", "k", "n_train", "seed"]


def wilcoxon_less(ours: np.ndarray, base: np.ndarray) -> float:
    """One-sided paired Wilcoxon p-value for ours < base; NaN when undefined (no pairs, or every
    difference zero)."""
    ours, base = np.asarray(ours, float), np.asarray(base, float)
    if ours.size == 0 or np.all(ours == base):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small-sample exact/normal notes
        return float(stats.wilcoxon(ours, base, alternative="less").pvalue)


def _curve(group: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | str:
    if (group["status"] == "failed").any():
        return "failed"
    cost = group["test_cost"].to_numpy(float)
    acc = group["test_accuracy"].to_numpy(float)
    if np.unique(cost).size < 2:
        return "degenerate"
    return cost, acc


def compute_areas(curves: pd.DataFrame, ours: str = OURS) -> pd.DataFrame:
    """One row per (benchmark, chain, cascade, n, seed, baseline) with A_ours, A_base,
    the shared range and the % change (see module notes)."""
    if curves.empty:
        return pd.DataFrame()
    oracle = {key[:3]: g for key, g in curves[curves["method"] == "oracle"].groupby(
        ["benchmark", "chain", "cascade"])}
    rows = []
    tuned = curves[curves["method"] != "oracle"]
    for key, group in tuned.groupby(_KEYS, sort=True):
        by_method = {m: g for m, g in group.groupby("method")}
        if ours not in by_method:
            continue
        mine = _curve(by_method[ours])
        bases = {m: g for m, g in by_method.items() if m != ours}
        if key[:3] in oracle:
            bases["oracle"] = oracle[key[:3]]
        for base_name, base_group in bases.items():
            row = dict(zip(_KEYS, key), baseline=base_name, A_ours=np.nan, A_base=np.nan,
                       c_lo=np.nan, c_hi=np.nan, pct_change=np.nan, status="ok")
            theirs = _curve(base_group)
            if isinstance(mine, str) or isinstance(theirs, str):
                row["status"] = mine if isinstance(mine, str) else theirs
                row["status"] += f":{ours if isinstance(mine, str) else base_name}"
            else:
                bc, ba = theirs
                if base_name == "oracle":
                    bc = np.append(bc, max(bc.max(), mine[0].max()) + 1e-9)
                    ba = np.append(ba, ba.max())
                try:
                    a_ours, a_base, (lo, hi) = error_cost_area(mine[0], mine[1], bc, ba)
                except ValueError:
                    row["status"] = "no-overlap"
                else:
                    row.update(A_ours=a_ours, A_base=a_base, c_lo=lo, c_hi=hi,
                               pct_change=100.0 * (a_ours - a_base) / a_base)
            rows.append(row)
    return pd.DataFrame(rows)


def _per_cascade(areas: pd.DataFrame) -> pd.DataFrame:
    """Average seeds within (benchmark, chain, cascade, k, n, baseline): one pair per cascade."""
    ok = areas[areas["status"] == "ok"]
    return ok.groupby(["baseline", "n_train", "benchmark", "chain", "cascade", "k"],
                      as_index=False)[["A_ours", "A_base", "pct_change"]].mean()


def summarise_by_k(areas: pd.DataFrame) -> pd.DataFrame:
    """Mean % change (SEM), pairs, excluded pairs and Wilcoxon p per (baseline, n, k)."""
    if areas.empty:
        return pd.DataFrame()
    pc = _per_cascade(areas)
    excluded = areas[areas["status"] != "ok"].groupby(["baseline", "n_train", "k"]).size()
    rows = []
    for (base, n, k), g in pc.groupby(["baseline", "n_train", "k"]):
        rows.append({"baseline": base, "n_train": n, "k": k,
                     "mean_pct_change": g["pct_change"].mean(),
                     "sem": g["pct_change"].sem() if len(g) > 1 else np.nan,
                     "n_pairs": len(g), "n_excluded": int(excluded.get((base, n, k), 0)),
                     "mean_A_ours": g["A_ours"].mean(), "mean_A_base": g["A_base"].mean(),
                     "wilcoxon_p": wilcoxon_less(g["A_ours"], g["A_base"])})
    return pd.DataFrame(rows)


def headline(by_k: pd.DataFrame, low_n: tuple[str, ...] = ("10", "20", "30")) -> pd.DataFrame:
    """Mean of per-k mean % changes for k >= 3, per baseline and n, plus pooled n <= 30."""
    if by_k.empty:
        return pd.DataFrame()
    big = by_k[by_k["k"] >= 3]
    rows = [{"baseline": b, "n_train": n, "mean_of_per_k_means_k3plus": g["mean_pct_change"].mean(),
             "ks": ",".join(map(str, sorted(g["k"]))), "n_pairs": int(g["n_pairs"].sum())}
            for (b, n), g in big.groupby(["baseline", "n_train"])]
    low = big[big["n_train"].isin(low_n)]
    for b, g in low.groupby("baseline"):
        per_k = g.groupby("k").apply(
            lambda x: np.average(x["mean_pct_change"], weights=x["n_pairs"]),
            include_groups=False)
        rows.append({"baseline": b, "n_train": "<=30", "mean_of_per_k_means_k3plus": per_k.mean(),
                     "ks": ",".join(map(str, per_k.index)), "n_pairs": int(g["n_pairs"].sum())})
    return pd.DataFrame(rows)


def _area_over(cost: np.ndarray, acc: np.ndarray, lo: float, hi: float) -> float:
    return error_cost_area(cost, acc, [lo, hi], [0.0, 0.0])[0]


def common_range_areas(curves: pd.DataFrame, n_train: str = ALL_N) -> pd.DataFrame:
    """A of every method (oracle included) over the cost range shared by all tuned methods of
    each (benchmark, chain, cascade) at one n (seed 0)."""
    sel = curves[(curves["n_train"] == n_train) & (curves["seed"] == 0)]
    oracle = curves[curves["method"] == "oracle"]
    rows = []
    for key, group in sel[sel["method"] != "oracle"].groupby(["benchmark", "chain", "cascade", "k"]):
        curves_ok = {m: _curve(g) for m, g in group.groupby("method")}
        curves_ok = {m: c for m, c in curves_ok.items() if not isinstance(c, str)}
        if not curves_ok:
            continue
        lo = max(c[0].min() for c in curves_ok.values())
        hi = min(c[0].max() for c in curves_ok.values())
        if not hi > lo:
            continue
        row = dict(zip(["benchmark", "chain", "cascade", "k"], key), c_lo=lo, c_hi=hi)
        for m, (c, a) in curves_ok.items():
            row[f"A_{m}"] = _area_over(c, a, lo, hi)
        og = oracle[(oracle["benchmark"] == key[0]) & (oracle["chain"] == key[1])
                    & (oracle["cascade"] == key[2])]
        oc = _curve(og) if len(og) else "missing"
        if not isinstance(oc, str):
            c, a = oc
            row["A_oracle"] = _area_over(np.append(c, max(c.max(), hi) + 1e-9),
                                         np.append(a, a.max()), max(lo, c.min()), hi)
        rows.append(row)
    return pd.DataFrame(rows)


def benchmark_table(curves: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Benchmark × chain × k (full training data): mean common-range A per method and the mean
    pairwise % change of ours vs each baseline."""
    common = common_range_areas(curves)
    if common.empty:
        return common
    a_cols = [c for c in common.columns if c.startswith("A_")]
    table = common.groupby(["benchmark", "chain", "k"], as_index=False)[a_cols].mean()
    table.insert(3, "n_cascades", common.groupby(["benchmark", "chain", "k"]).size().to_numpy())
    full = areas[(areas["n_train"] == ALL_N) & (areas["status"] == "ok")]
    for base in sorted(set(full["baseline"]) - {"oracle"}):
        pct = full[full["baseline"] == base].groupby(["benchmark", "chain", "k"])[
            "pct_change"].mean().rename(f"pct_vs_{base}")
        table = table.merge(pct, on=["benchmark", "chain", "k"], how="left")
    return table


def runtime_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean tuning seconds per cascade by method and k (full training data, one row per task;
    model fitting — calibrators, marginals — excluded, pair-copula fitting shown apart)."""
    tasks = curves.drop_duplicates("task_id")
    tasks = tasks[(tasks["n_train"] == ALL_N) & (tasks["status"] == "ok")]
    if tasks.empty:
        return pd.DataFrame()
    return tasks.groupby(["method", "k"], as_index=False).agg(
        tune_s=("tune_s", "mean"), prep_s=("prep_s", "mean"), n_tasks=("task_id", "size"))


# ------------------------------------------------------------------------ label efficiency
def _first_stage_points(curves: pd.DataFrame) -> dict[tuple[str, str, str], tuple[float, float]]:
    """Test (cost, accuracy) of "the first stage answers every query" for each cascade (a rule
    every method can set: threshold -inf)."""
    from ..datasets import load_benchmark

    out = {}
    for (bench, chain), g in curves.groupby(["benchmark", "chain"]):
        test = load_benchmark(bench, chain, split="test")
        for cas in g["cascade"].unique():
            m = int(str(cas).split("-")[0])
            out[(bench, chain, cas)] = (float(test.cost[:, m].mean() * 1e6),
                                        float(test.correct[:, m].mean()))
    return out


def _extended(cost: np.ndarray, acc: np.ndarray, first: tuple[float, float], hi: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """A test curve extended to the right flat at its best accuracy (a larger budget can
    always use the best point) and, below its cheapest point, linearly to the first-stage
    point (mixing two rules realises every point of the segment)."""
    order = np.argsort(cost, kind="stable")
    c, a = cost[order], acc[order]
    if first[0] < c[0]:
        c, a = np.r_[first[0], c], np.r_[first[1], a]
    top = max(hi, c[-1]) + 1e-9
    return np.r_[c, top], np.r_[a, a.max()]


def fixed_range_areas(curves: pd.DataFrame) -> pd.DataFrame:
    """A of every (method, benchmark, chain, cascade, n, seed) over one cost range per cascade,
    so that areas are comparable across n and methods.

    The range is the one shared by every tuned method's full-data test curve of the cascade
    (as in :func:`common_range_areas`). A curve that does not cover it is extended (see
    ``_extended``): flat at its best accuracy above its most expensive point, and linearly
    down to the first stage's own test point below its cheapest one.
    """
    ok = curves[(curves["status"] == "ok") & (curves["method"] != "oracle")]
    full = ok[ok["n_train"] == ALL_N]
    first = _first_stage_points(ok)
    ranges = {}
    for key, g in full.groupby(["benchmark", "chain", "cascade"]):
        per = [(m["test_cost"].min(), m["test_cost"].max()) for _, m in g.groupby("method")]
        lo, hi = max(p[0] for p in per), min(p[1] for p in per)
        if hi > lo:
            ranges[key] = (lo, hi)
    rows = []
    for key, g in ok.groupby(["benchmark", "chain", "cascade", "k", "n_train", "seed", "method"]):
        rng_key = key[:3]
        if rng_key not in ranges:
            continue
        lo, hi = ranges[rng_key]
        c, a = _extended(g["test_cost"].to_numpy(float), g["test_accuracy"].to_numpy(float),
                         first[rng_key], hi)
        rows.append(dict(zip(["benchmark", "chain", "cascade", "k", "n_train", "seed", "method"],
                             key), A=_area_over(c, a, lo, hi), c_lo=lo, c_hi=hi))
    return pd.DataFrame(rows)


def _n_order(n: str) -> float:
    return float("inf") if n == ALL_N else float(n)


def label_efficiency(fixed: pd.DataFrame, *, within: float = 0.01,
                     by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean fixed-range area by method and n (seeds averaged within each cascade first; only
    cascades present at every n of the method), and the smallest n from which the mean area
    stays within ``within`` (relative) of the method's full-data mean area at every larger
    subsample size (a single lucky small n does not count).

    Returns one row per (``by`` columns, method) with columns ``A_<n>`` and ``n_within``
    (``"all"`` when not even the largest subsample comes within the tolerance).
    """
    if fixed.empty:
        return pd.DataFrame()
    keys = list(by) + ["method", "benchmark", "chain", "cascade", "n_train"]
    per = fixed.groupby(list(dict.fromkeys(keys)), as_index=False)["A"].mean()
    rows = []
    for group, g in per.groupby(list(by) + ["method"]):
        group = group if isinstance(group, tuple) else (group,)
        ns = sorted(g["n_train"].unique(), key=_n_order)
        cas = g.groupby(["benchmark", "chain", "cascade"])["n_train"].nunique()
        keep = cas[cas == len(ns)].index
        g = g.set_index(["benchmark", "chain", "cascade"]).loc[keep].reset_index()
        means = g.groupby("n_train")["A"].mean()
        row = dict(zip(list(by) + ["method"], group), n_cascades=len(keep))
        row.update({f"A_{n}": means.get(n, np.nan) for n in ns})
        target = means.get(ALL_N, np.nan) * (1 + within)
        subs = [n for n in ns if n != ALL_N]
        reach = [n for i, n in enumerate(subs) if all(means[m] <= target for m in subs[i:])]
        row["n_within"] = reach[0] if reach else ALL_N
        rows.append(row)
    return pd.DataFrame(rows)


# -------------------------------------------------------------------- paired comparisons
def per_cascade(areas: pd.DataFrame, baseline: str, *, n_train: str = ALL_N, k_min: int = 3
                ) -> pd.DataFrame:
    """Ours against one baseline on every cascade (seeds averaged): A_ours, A_base, % change."""
    pc = _per_cascade(areas)
    sel = pc[(pc["baseline"] == baseline) & (pc["n_train"] == n_train) & (pc["k"] >= k_min)]
    return sel.drop(columns=["baseline", "n_train"]).sort_values(
        ["benchmark", "chain", "k", "cascade"]).reset_index(drop=True)


def per_benchmark_n(areas: pd.DataFrame, baseline: str, *, k_min: int = 3) -> pd.DataFrame:
    """Ours against one baseline per (benchmark, n): the mean over k >= ``k_min`` of the
    per-k mean % change (seeds averaged per cascade first), the share of cascades where ours
    is better, and the one-sided paired Wilcoxon p-value over the cascades."""
    pc = _per_cascade(areas)
    pc = pc[(pc["baseline"] == baseline) & (pc["k"] >= k_min)]
    rows = []
    for (bench, n), g in pc.groupby(["benchmark", "n_train"]):
        per_k = g.groupby("k")["pct_change"].mean()
        rows.append({"benchmark": bench, "n_train": n, "mean_of_per_k_means": per_k.mean(),
                     "n_cascades": len(g),
                     "share_better": float((g["A_ours"] < g["A_base"]).mean()),
                     "wilcoxon_p": wilcoxon_less(g["A_ours"], g["A_base"])})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["order"] = out["n_train"].map(_n_order)
    return out.sort_values(["benchmark", "order"]).drop(columns="order").reset_index(drop=True)
