"""Markdown tables of the policy benchmarks for benchmarks/RESULTS.md, from their CSV outputs.

    python benchmarks/report_policy.py --rules rules.csv --promises promises.csv [more.csv ...] \
        [--direction direction.csv]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from policy_common import markdown
from scipy import stats


def cp(k: int, n: int, level: float = 0.95) -> str:
    """Clopper–Pearson interval of k of n."""
    if n == 0:
        return "—"
    a = (1 - level) / 2
    lo = stats.beta.ppf(a, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(1 - a, k + 1, n - k) if k < n else 1.0
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]"


def rules_tables(path: str) -> None:
    f = pd.read_csv(path)
    print("Rule check (points whose test numbers differ from routing the test log with their "
          "rules):\n")
    rows = []
    for m, d in f.groupby("method", sort=False):
        rows.append({"method": m, "cascades": len(d), "points": int(d.points.sum()),
                     "before: points wrong": int(d.mismatch_before.sum()),
                     "before: cascades wrong": int((d.mismatch_before > 0).sum()),
                     "after: points wrong": int(d.mismatch_after.sum()),
                     "after: cascades wrong": int((d.mismatch_after > 0).sum()),
                     "cascades with a 'below' stage": int((d.below > 0).sum())})
    print(markdown(pd.DataFrame(rows)))
    g = f[f.method != "grid"]
    print("\nGaps (largest gap between neighbouring points / cost range; n_lambdas = 15, so the "
          "target is <= 1/15 = 0.067):\n")
    rows = []
    for (m, k), d in g.groupby(["method", "k"]):
        rows.append(_gap_row(m, str(k), d))
    for m, d in g.groupby("method"):
        rows.append(_gap_row(m, "all", d))
    print(markdown(pd.DataFrame(rows)))
    for m, d in g.groupby("method"):
        worst = d.sort_values("gap_after").tail(3)
        print(f"\n{m}: largest remaining gaps: " + "; ".join(
            f"{r.benchmark}/{r.chain} {r.cascade} {r.gap_after:.3f}" for r in worst.itertuples()))


def _gap_row(m, k, d) -> dict:
    return {"method": m, "k": k, "cascades": len(d),
            "max gap before (median / max)": f"{d.gap_before.median():.3f} / {d.gap_before.max():.3f}",
            "max gap after (median / max)": f"{d.gap_after.median():.3f} / {d.gap_after.max():.3f}",
            "cascades with a gap > 1/15 before / after":
                f"{int((d.gap_before > 1 / 15 + 1e-9).sum())} / {int((d.gap_after > 1 / 15 + 1e-9).sum())}",
            "points before / after (mean)": f"{d.points_before.mean():.1f} / {d.points_after.mean():.1f}",
            "test area % change (mean, filled vs λ only)": f"{d.area_pct.mean():+.3f}",
            "filled better / worse": f"{int((d.area_pct < 0).sum())} / {int((d.area_pct > 0).sum())}"}


def promises_tables(paths: list[str]) -> None:
    f = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    for col in ("covered", "covered_noise", "certified", "violation"):
        f[col] = f[col].astype(str).str.lower().eq("true")
    shipped = f[f.split == -1]
    f = f[f.split >= 0]
    cov = f[f.kind == "coverage"]
    print("Interval coverage, nominal 90% (random splits; per split three frontier points):\n")
    rows = []
    for (b, m, q), d in cov.groupby(["benchmark", "method", "quantity"]):
        rows.append({"benchmark": b, "method": m, "quantity": q, "splits": d.split.nunique(),
                     "intervals": len(d), "coverage": f"{d.covered.mean():.3f}",
                     "coverage +noise": f"{d.covered_noise.mean():.3f}",
                     "mean bias (pred − held-out)": f"{(d.predicted - d.observed).mean():+.4f}",
                     "mean width": f"{(d.hi - d.lo).mean():.4f}"})
    print(markdown(pd.DataFrame(rows)))
    if "cost_outliers_train" in cov and cov.cost_outliers_train.notna().any():
        print("\nCost coverage by how many of the pooled log's cost outliers of the last model "
              "(calls > 10x its median cost) fell in the training part:\n")
        rows = []
        c = cov[(cov.quantity == "cost") & cov.cost_outliers_train.notna()]
        for (b, m, o), d in c.groupby(["benchmark", "method", "cost_outliers_train"]):
            rows.append({"benchmark": b, "method": m, "outliers in training": int(o),
                         "splits": d.split.nunique(), "coverage": f"{d.covered.mean():.3f}",
                         "coverage +noise": f"{d.covered_noise.mean():.3f}",
                         "mean bias (pred − held-out)": f"{(d.predicted - d.observed).mean():+.2f}"})
        print(markdown(pd.DataFrame(rows)))
    if len(shipped):
        sc = shipped[shipped.kind == "coverage"]
        print("\nShipped splits (one split each, three points):\n")
        rows = []
        for (b, m, q), d in sc.groupby(["benchmark", "method", "quantity"]):
            rows.append({"benchmark": b, "method": m, "quantity": q,
                         "covered": f"{int(d.covered.sum())} of {len(d)}",
                         "mean bias (pred − test)": f"{(d.predicted - d.observed).mean():+.4f}"})
        print(markdown(pd.DataFrame(rows)))
    g = f[f.kind == "guarantee"]
    full = g[g.groupby(["benchmark", "split"]).n_labels.transform("max") == g.n_labels]
    ung = f[f.kind == "unguaranteed"]
    print("\nGuarantee at the shipped training size. A violation is a held-out accuracy below A. "
          "The guarantee bounds the probability of returning a violating point, over all splits "
          "(a split where no point is certified returns nothing and does not violate); the rate "
          "among certified splits is shown too. 95% Clopper–Pearson intervals. Costs in USD per "
          "million queries on the held-out remainder, certified and unguaranteed on the same "
          "(certified) splits:\n")
    rows = []
    for (b, m, a, dl), d in full.groupby(["benchmark", "method", "target", "delta"]):
        cert = d[d.certified]
        bad = int(cert.violation.sum())
        u = ung[(ung.benchmark == b) & (ung.method == m) & (ung.target == a)]
        u_all = u[u.split.isin(d.split)]
        u_cert = u[u.split.isin(cert.split)]
        rows.append({"benchmark": b, "method": m, "A": a, "δ": dl, "splits": len(d),
                     "certified": f"{len(cert) / len(d):.2f}",
                     "violation rate (all splits)": cp(bad, len(d)),
                     "among certified": cp(bad, len(cert)),
                     "cost certified": f"{cert.test_cost.mean():.1f}" if len(cert) else "—",
                     "cost unguaranteed": f"{u_cert.test_cost.mean():.1f}" if len(cert) else "—",
                     "unguaranteed: violation rate":
                         f"{(u_all.test_accuracy < a).mean():.2f}"})
    print(markdown(pd.DataFrame(rows)))
    small = g[g.n_labels < g.groupby(["benchmark", "split"]).n_labels.transform("max")]
    if len(small):
        print("\nLabels: share of splits certified, and the mean held-out cost of the certified point, with n = 100 labelled training queries and with the full training part (285 MMLU, 300 others), on the same splits:\n")
        rows = []
        g2 = g[g.split.isin(small.split.unique()) & g.method.isin(small.method.unique())].copy()
        full_n = g2.groupby(["benchmark", "split"]).n_labels.transform("max")
        g2["labels"] = np.where(g2.n_labels == full_n, "full",
                                g2.n_labels.astype("Int64").astype(str))
        for (b, m, a, dl), d in g2.groupby(["benchmark", "method", "target", "delta"]):
            row = {"benchmark": b, "method": m, "A": a, "δ": dl, "splits": d.split.nunique()}
            for n, dn in sorted(d.groupby("labels"), key=lambda t: t[0] == "full"):
                cert = dn[dn.certified]
                row[f"certified, n = {n}"] = f"{len(cert) / len(dn):.2f}"
                row[f"cost, n = {n}"] = f"{cert.test_cost.mean():.1f}" if len(cert) else "—"
            rows.append(row)
        print(markdown(pd.DataFrame(rows)))
    t = f[f.kind == "timing"].groupby("method").seconds.describe()[["count", "mean", "50%"]]
    print("\nSeconds per split task and method (machine shared, see load):\n")
    print(markdown(t.round(1), index=True))


def direction_tables(path: str) -> None:
    f = pd.read_csv(path)
    per = f.groupby(["setting", "method", "cascade"], as_index=False).pct.mean()
    rows = []
    for (s, m), d in per.groupby(["setting", "method"]):
        rows.append({"data": s, "method": m, "cascades": len(d),
                     "mean % (keep vs constant)": f"{d.pct.mean():+.2f}",
                     "median %": f"{d.pct.median():+.2f}",
                     "keep better / constant better": f"{int((d.pct < 0).sum())} / {int((d.pct > 0).sum())}"})
    print(markdown(pd.DataFrame(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--rules")
    parser.add_argument("--promises", nargs="*")
    parser.add_argument("--direction")
    args = parser.parse_args()
    if args.rules:
        rules_tables(args.rules)
    if args.direction:
        print()
        direction_tables(args.direction)
    if args.promises:
        print()
        promises_tables(args.promises)


if __name__ == "__main__":
    main()
