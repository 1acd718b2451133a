"""Are the gaps left in tuned frontiers real? For every two-model cascade (one threshold) of the
benchmarks with a test split, the model's predicted frontier is also found by brute force: the
Pareto set of 4001 evenly spaced thresholds on the uniform scale, and the same without the
thresholds strictly inside an atom of the first model's confidence (a deterministic rule cannot
split an atom; the atom's two ends are added). A gap of the tuned frontier
(n_lambdas = 15, gap filling on) is genuine when the brute-force Pareto set has a gap as wide:
no threshold inside it is more accurate than the gap's cheaper end.

    python benchmarks/bench_policy_gaps_k2.py [--n-jobs 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from policy_common import CHAINS, TEST_BENCHMARKS, markdown, quiet

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel, pareto_mask, tune
from llmcopula.datasets import load_benchmark


def _largest_gap(cost):
    """Largest gap between neighbouring costs / the cost range (0 for a single point)."""
    c = np.sort(cost)
    return float(np.diff(c).max() / (c[-1] - c[0])) if c.size > 1 and c[-1] > c[0] else 0.0


def task(benchmark, chain, cascade, n_lambdas):
    quiet()
    train = load_benchmark(benchmark, chain, "train")
    rows = []
    for name, cls in (("markov-copula", MarkovCopulaModel),
                      ("empirical-copula", EmpiricalCopulaModel)):
        model = cls(calibration_slope="free").fit(train)  # keeps "below" rules: the harder case
        front = tune(model, cascade, n_lambdas=n_lambdas, rng=0)
        grid = np.linspace(0, 1, 4001)
        res = model.evaluate_quantile(grid[:, None], cascade)
        keep = pareto_mask(res.cost, res.accuracy)
        brute = np.sort(res.cost[keep])
        # deterministic rules cannot split an atom of the first model's confidence: only the
        # atom's ends (defer all of it, accept all of it) are deployable
        inside = np.zeros(grid.size, bool)
        ends = []
        for _, lo, hi in model.atom_intervals(cascade[0]):
            inside |= (grid > lo) & (grid < hi)
            ends += [lo, hi]
        det = np.concatenate([grid[~inside], ends])
        res_d = model.evaluate_quantile(det[:, None], cascade)
        brute_det = np.sort(res_d.cost[pareto_mask(res_d.cost, res_d.accuracy)])
        rows.append(dict(benchmark=benchmark, chain=chain, cascade="-".join(map(str, cascade)),
                         method=name, points=len(front), gap_tuned=_largest_gap(front.cost),
                         gap_bruteforce=_largest_gap(brute),
                         gap_bruteforce_deterministic=_largest_gap(brute_det)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--n-lambdas", type=int, default=15)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="bench_policy_gaps_k2.csv")
    args = parser.parse_args()
    jobs = [delayed(task)(b, c, (i, j), args.n_lambdas) for b in TEST_BENCHMARKS for c in CHAINS
            for i in range(5 if c == "llama" else 4) for j in range(i + 1, 5 if c == "llama" else 4)]
    frame = pd.DataFrame([r for rows in Parallel(n_jobs=args.n_jobs)(jobs) for r in rows])
    frame.to_csv(args.output, index=False)
    width = 1 / args.n_lambdas
    rows = []
    for m, d in frame.groupby("method"):
        wide = d.gap_tuned > width + 1e-9
        rows.append({"method": m, "cascades": len(d), "gap > 1/15 after filling": int(wide.sum()),
                     "of which brute force has a gap as wide (within 0.02)":
                         int((wide & (d.gap_bruteforce >= d.gap_tuned - 0.02)).sum()),
                     "of which brute force has a gap > 1/15":
                         int((wide & (d.gap_bruteforce > width)).sum()),
                     "of which deterministic brute force has a gap as wide (within 0.02)":
                         int((wide & (d.gap_bruteforce_deterministic
                                      >= d.gap_tuned - 0.02)).sum()),
                     "of which deterministic brute force has a gap > 1/15":
                         int((wide & (d.gap_bruteforce_deterministic > width)).sum())})
    print(markdown(pd.DataFrame(rows)))


if __name__ == "__main__":
    # Run from the importable module, so that joblib's workers unpickle the tasks by reference.
    import bench_policy_gaps_k2

    bench_policy_gaps_k2.main()
