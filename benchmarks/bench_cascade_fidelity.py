"""Model fidelity on real data: predicted vs empirical accuracy, cost and last-stage usage.

For every bundled benchmark and chain, the Markov-copula model is fitted on the training split;
at 200 random threshold vectors for the whole chain (each threshold drawn between the 10% and
90% quantiles of that model's calibrated training confidences, as in the reference's own check)
the model's predictions are compared with the empirical values of routing the training queries,
and the test queries where a test split exists. Both chainings are reported: the exact forward
recursion and the reference's event-Markov product. The empirical-copula model (the
empirical beta copula of all k confidences, no Markov assumption) is reported for both of its
targets: labels (``empirical-copula``) and calibrated confidences (``empirical-copula/phi``). ``acc_bias`` compares with the labels;
``acc_bias_vs_phi`` with the calibrated confidences of the answering models (what the model
predicts under its calibration assumption), which isolates the error of the joint model.

    python benchmarks/bench_cascade_fidelity.py [--markdown] [--n-thresholds 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel, route, score_cascade
from llmcopula.datasets import list_benchmarks, load_benchmark


def fidelity(benchmark: str, chain: str, n_thresholds: int, seed: int) -> list[dict]:
    train = load_benchmark(benchmark, chain, split="train")
    table = list_benchmarks()
    has_test = bool(((table.benchmark == benchmark) & (table.chain == chain)
                     & (table.split == "test")).any())
    model = MarkovCopulaModel().fit(train)
    k = train.n_models
    rng = np.random.default_rng(seed)
    lo = np.quantile(model.confidence_[:, :-1], 0.1, axis=0)
    hi = np.quantile(model.confidence_[:, :-1], 0.9, axis=0)
    t = lo + (hi - lo) * rng.uniform(size=(n_thresholds, k - 1))
    rows = []
    splits = [("train", train)]
    if has_test:
        splits.append(("test", load_benchmark(benchmark, chain, split="test")))
    variants = {
        ("markov-copula", "exact"): lambda: model.predict(t, approximation="exact"),
        ("markov-copula", "event-markov"): lambda: model.predict(t, approximation="event-markov"),
        ("empirical-copula", "labels"): lambda: EmpiricalCopulaModel().fit(train).predict(t),
        ("empirical-copula", "phi"): lambda: EmpiricalCopulaModel(
            target="confidence").fit(train).predict(t),
    }
    for (name, approx), predict in variants.items():
        pred = predict()
        for split, log in splits:
            phi = model.calibrate(log)
            emp = score_cascade(log, tuple(range(k)), t, confidence=phi)
            # the same routing, scored with calibrated confidences instead of labels: isolates
            # the probabilistic model's error from the calibration assumption E[C | Φ] = Φ
            stage = route(phi, t)
            phi_acc = phi[np.arange(log.n_queries)[None, :], stage].mean(axis=1)
            rows.append({
                "benchmark": benchmark, "chain": chain, "k": k, "split": split,
                "model": name, "variant": approx,
                "acc_bias": float(np.mean(pred.accuracy - emp["accuracy"])),
                "acc_mae": float(np.mean(np.abs(pred.accuracy - emp["accuracy"]))),
                "acc_bias_vs_phi": float(np.mean(pred.accuracy - phi_acc)),
                "cost_rel_bias": float(np.mean((pred.cost - emp["cost"]) / emp["cost"])),
                "last_usage_bias": float(np.mean(pred.stage_probabilities[:, -1]
                                                 - emp["stage_usage"][:, -1])),
            })
    return rows


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table (without pandas' optional tabulate dependency)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:+.4f}" if isinstance(v, float) else str(v)
                                         for v in row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-thresholds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = []
    for benchmark in ("mmlu", "medmcqa", "gsm8k", "triviaqa"):
        for chain in ("llama", "qwen_oai"):
            rows += fidelity(benchmark, chain, args.n_thresholds, args.seed)
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    if args.markdown:
        print(markdown(df))
    else:
        print(df.to_string(index=False, float_format=lambda v: f"{v:+.4f}"))
    summary = df.groupby(["split", "model", "variant"])[
        ["acc_bias", "acc_bias_vs_phi", "cost_rel_bias", "last_usage_bias"]].agg(
        lambda v: float(np.mean(np.abs(v))))
    print("\nmean |bias| over benchmarks and chains:")
    print(markdown(summary.reset_index()) if args.markdown else summary.to_string())
    print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
