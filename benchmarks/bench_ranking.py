"""Pairwise ranking (LLM-Blender) on simulated judges and on the bundled 9-model answer logs.

**Simulation** (aggregators at equal comparison budgets). Per query, ``n`` candidates with
latent qualities ``mu ~ N(0, 1)`` and a judge ``M_ij = mu_i - mu_j + b + eps_ij`` (position bias
``b``, per-call noise ``eps ~ N(0, sigma^2)``, one fixed draw per ordered pair, as a
deterministic judge would give). One *comparison* = one pair queried in both orders (2 calls).
At each budget B (from the minimal ``n - 1`` to all ``n(n-1)/2`` pairs):

* bubble: one bubble pass (LLM-Blender's O(n) mode), only at B = n - 1;
* MaxLogits / MaxWins / Bradley-Terry on *random* pairs: the same pair set for the three (a
  random spanning chain, then uniformly random further pairs); the scores are normalised by the
  number of comparisons of each candidate;
* Bradley-Terry with *active* pairs: ``active_rank`` with the "information" (D-optimal),
  "uncertainty" and "top" rules after the same kind of spanning chain.

Reported: top-1 accuracy (selected = argmax mu) with its standard error, mean Kendall tau to mu
and mean regret ``max mu - mu_selected``.

**Real data** (MMLU and MedMCQA test, 9 models). Each query's candidates are the 9 models'
answer letters. Comparators (see ``llmcopula.ranking.logged``): the *confidence judge*
(difference of per-model Platt-calibrated log-odds, calibrated on the train split; identical
answers tie) and the *agreement judge* (difference in the number of models giving each answer).
Aggregators: MaxLogits and MaxWins on the full matrix (72 calls), one bubble pass (16 calls),
Bradley-Terry on soft labels, and top-3 + plurality fuser. The candidates are put in a random
order per query, so that exact score ties (common: identical answers score alike) are broken at
random rather than by the log's column order. Baselines: plurality vote (ties
broken by the train-split answer prior), the best single model chosen on the train split (and,
for reference, the best on test), and the oracle (some model is right).

Run ``python benchmarks/bench_ranking.py`` (about 10 minutes on 2 busy cores; ``--quick`` for a
smoke run). Results are printed as Markdown.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from joblib import Parallel, delayed

from llmcopula.datasets import load_pool
from llmcopula.ranking import (
    BradleyTerry,
    ComparisonSession,
    MatrixComparator,
    PairwiseMatrix,
    active_rank,
    agreement_judge,
    bubble_select,
    calibrate_pool_confidence,
    confidence_judge,
    kendall_tau,
    logged_candidates,
    maxlogits_scores,
    maxwins_scores,
    plurality_fuser,
    records_from_matrix,
    simulate_logits,
    topk_from_scores,
    versus_baseline,
)
from llmcopula.selection.aggregation import MajorityVote

ACTIVE = ("information", "uncertainty", "top")


# ---------------------------------------------------------------------------- simulation
def _one_query(seed: int, n: int, bias: float, noise: float, budgets: list[int]):
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=n)
    f = MatrixComparator(simulate_logits(mu, bias=bias, noise=noise, rng=rng))
    rows = []

    def record(method: str, budget: int, scores: np.ndarray | None, best: int) -> None:
        tau = kendall_tau(scores, mu) if scores is not None else np.nan
        rows.append((method, budget, float(best == np.argmax(mu)), tau, mu.max() - mu[best]))

    session = ComparisonSession(f, None, range(n))
    record("bubble", n - 1, None, bubble_select(session.compare, n, rng=seed).best)
    for B in budgets:
        rnd = active_rank(f, None, range(n), budget=B, strategy="random", rng=seed)
        L = rnd.matrix.logits
        for name, sc in (("MaxLogits", maxlogits_scores(L, normalize=True)),
                         ("MaxWins", maxwins_scores(L, normalize=True)),
                         ("BT, random pairs", rnd.scores)):
            record(name, B, sc, int(np.argmax(sc)))
        for strategy in ACTIVE:
            res = active_rank(f, None, range(n), budget=B, strategy=strategy, rng=seed)
            record(f"BT, active ({strategy})", B, res.scores, res.best)
    return rows


def simulation(n: int, queries: int, bias: float, noise: float, n_jobs: int) -> str:
    budgets = sorted({n - 1, 2 * (n - 1), 3 * (n - 1), n * (n - 1) // 2})
    budgets = [b for b in budgets if b <= n * (n - 1) // 2]
    chunks = Parallel(n_jobs=n_jobs)(delayed(_one_query)(s, n, bias, noise, budgets)
                                     for s in range(queries))
    rows = [r for c in chunks for r in c]
    methods = ["bubble", "MaxLogits", "MaxWins", "BT, random pairs"] + \
        [f"BT, active ({s})" for s in ACTIVE]
    out = [f"n = {n} candidates, {queries} queries, position bias b = {bias}, noise sigma = "
           f"{noise}. Budget in comparisons (each = 2 calls, both orders). Cells: top-1 "
           "accuracy (SE) / mean Kendall tau / mean regret.", "",
           "| method | " + " | ".join(f"B = {b}" for b in budgets) + " |",
           "|---|" + "---|" * len(budgets)]
    for m in methods:
        cells = []
        for b in budgets:
            sel = [r for r in rows if r[0] == m and r[1] == b]
            if not sel:
                cells.append("")
                continue
            hit, tau, reg = (np.array(x, dtype=float) for x in zip(*[r[2:] for r in sel]))
            se = hit.std(ddof=1) / np.sqrt(hit.size)
            tau_txt = " / -" if np.isnan(tau).all() else f" / {np.nanmean(tau):.3f}"
            cells.append(f"{hit.mean():.3f} ({se:.3f}){tau_txt} / {reg.mean():.3f}")
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------------------- real data
def _choose(row, judge, method: str, seed: int):
    if method == "bubble":
        s = ComparisonSession(judge, None, row)
        return bubble_select(s.compare, len(row), rng=seed).best, s.n_calls, None
    pm = PairwiseMatrix.from_comparator(judge, None, row)
    if method == "MaxLogits":
        scores = maxlogits_scores(pm.logits)
    elif method == "MaxWins":
        scores = maxwins_scores(pm.logits)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scores = BradleyTerry(alpha=1e-2, solver="newton").fit(
                *records_from_matrix(pm, soft=True), n_items=len(row)).strengths_
    return int(np.argmax(scores)), pm.n_calls, scores


def real_data(benchmark: str) -> str:
    train, test = load_pool(benchmark, "train"), load_pool(benchmark, "test")
    ref = np.asarray(test.reference, dtype=object)
    answers = np.asarray(test.answer, dtype=object)
    conf = calibrate_pool_confidence(train, test)
    # Candidates in a random order per query: aggregators break exact score ties by position,
    # and the log's column order (weakest llama first) would otherwise decide them.
    rng = np.random.default_rng(0)
    cands = [[row[i] for i in rng.permutation(len(row))] for row in logged_candidates(test, conf)]
    best_train = int(np.argmax(train.correct.mean(axis=0)))
    base = (answers[:, best_train] == ref).astype(float)
    rows = []

    def add(name: str, picked: np.ndarray, calls: str) -> None:
        correct = (picked == ref).astype(float)
        vb = versus_baseline(correct, base, ties="win")
        ex = versus_baseline(correct, base, ties="exclude")
        se = correct.std(ddof=1) / np.sqrt(correct.size)
        rows.append(f"| {name} | {correct.mean():.3f} ({se:.3f}) | {vb.rate:.3f} "
                    f"| {vb.wins}/{vb.losses} ({ex.rate:.3f}) | {calls} |")

    add(f"best single model on train ({test.models[best_train]})", answers[:, best_train], "-")
    best_test = int(np.argmax(test.correct.mean(axis=0)))
    add(f"best single model on test ({test.models[best_test]}, oracle choice)",
        answers[:, best_test], "-")
    X_tr = np.asarray(train.answer, dtype=str)
    mv = MajorityVote().fit(X_tr, np.asarray(train.reference, dtype=str))
    add("plurality vote", mv.predict(np.asarray(answers, dtype=str)).astype(object), "-")
    add("most confident model (calibrated)",
        answers[np.arange(len(ref)), np.argmax(conf, axis=1)], "-")
    for jname, judge in (("confidence judge", confidence_judge),
                         ("agreement judge", agreement_judge)):
        for method in ("MaxLogits", "MaxWins", "bubble", "Bradley-Terry (soft)"):
            picks, calls = [], []
            for q, row in enumerate(cands):
                i, c, _ = _choose(row, judge, method, q)
                picks.append(row[i].text)
                calls.append(c)
            add(f"{jname}: {method}", np.array(picks, dtype=object), f"{np.mean(calls):.1f}")
        fused = []
        for row in cands:
            pm = PairwiseMatrix.from_comparator(judge, None, row)
            top = topk_from_scores(maxlogits_scores(pm.logits), 3)
            texts = [row[i].text for i in top]
            fused.append(plurality_fuser(None, texts))
        add(f"{jname}: MaxLogits top-3 + plurality fuser", np.array(fused, dtype=object), "72.0")
    oracle = (answers == ref[:, None]).any(axis=1)
    header = [f"**{benchmark.upper()} test** ({len(ref)} queries, 9 models). Accuracy (SE); "
              f"'>= best' = share of queries where the method is at least as good as the "
              f"train-chosen best single model (ties count as success); W/L = strict wins / "
              f"losses against it (rate with ties excluded); calls = mean comparator calls per "
              f"query. Oracle (some model right): {oracle.mean():.3f}.", "",
              "| method | accuracy | >= best | W/L (excl. ties) | calls |", "|---|---|---|---|---|"]
    return "\n".join(header + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--queries", type=int, default=300, help="simulated queries")
    parser.add_argument("--n", type=int, default=10, help="simulated candidates per query")
    parser.add_argument("--bias", type=float, default=0.5)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--skip-simulation", action="store_true")
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    queries = 20 if args.quick else args.queries
    t0 = time.perf_counter()
    if not args.skip_simulation:
        print("## Simulated judge: aggregators at equal comparison budgets\n")
        print(simulation(args.n, queries, args.bias, args.noise, args.n_jobs))
        print()
    if not args.skip_real:
        print("## Real data: choosing among the 9 models' answers\n")
        for bench in ("mmlu", "medmcqa"):
            print(real_data(bench))
            print()
    print(f"_wall time {time.perf_counter() - t0:.0f} s_")


if __name__ == "__main__":
    main()
