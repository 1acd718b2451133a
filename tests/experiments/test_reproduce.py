"""Tests of the ``reproduce`` harness: tasks, resume, outputs, aggregation and Wilcoxon tests,
and equality of a local and a dask.distributed sweep."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from llmcopula.cli import main
from llmcopula.experiments import (
    ReproduceConfig,
    compute_areas,
    headline,
    make_tasks,
    summarise_by_k,
    train_subsample,
    wilcoxon_less,
)
from llmcopula.experiments.runner import read_task_results, run_sweep
from llmcopula.experiments.tasks import run_task

TINY = ["--benchmarks", "mmlu", "--chains", "qwen_oai", "--cascades", "0-1-3",
        "--methods", "markov-copula,grid,oracle", "--n-train", "20,all", "--seeds", "2",
        "--n-lambdas", "3", "--quiet"]


def test_reproduce_cli_writes_csvs_and_plots_and_resumes_without_work(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["reproduce", *TINY, "--output-dir", str(out)]) == 0
    first = capsys.readouterr().out
    assert "0 already done" in first and "0 failed" in first
    for name in ("curves.csv", "areas.csv", "summary_by_k.csv", "headline.csv", "benchmarks.csv",
                 "runtime.csv", "report.md", "pct_change_by_k.png", "pct_change_by_n.png",
                 "curves_mmlu_qwen_oai.png", "runs.jsonl"):
        assert (out / name).exists(), name
    curves = pd.read_csv(out / "curves.csv", dtype={"n_train": str})
    # 2 methods × (2 seeds at n=20 + 1 at all) + 1 oracle = 7 tasks
    assert curves["task_id"].nunique() == 7
    areas = pd.read_csv(out / "areas.csv", dtype={"n_train": str})
    assert set(areas["baseline"]) == {"grid", "oracle"}
    oracle = areas[(areas["baseline"] == "oracle") & (areas["status"] == "ok")]
    assert len(oracle) and (oracle["pct_change"] > 0).all()  # the hindsight limit is better
    assert main(["reproduce", *TINY, "--output-dir", str(out)]) == 0
    assert "7 already done, 0 run" in capsys.readouterr().out


def test_reproduce_compares_the_empirical_copula_model_when_it_is_ours(tmp_path, capsys):
    out = tmp_path / "emp"
    args = ["reproduce", "--benchmarks", "mmlu", "--chains", "qwen_oai", "--cascades", "0-1-3",
            "--methods", "markov-copula,empirical-copula,grid", "--n-train", "all",
            "--n-lambdas", "4", "--quiet", "--no-plots", "--output-dir", str(out)]
    assert main([*args, "--ours", "empirical-copula"]) == 0
    assert "0 failed" in capsys.readouterr().out
    areas = pd.read_csv(out / "areas_empirical-copula.csv", dtype={"n_train": str})
    assert set(areas["baseline"]) == {"markov-copula", "grid"}
    assert (areas["status"] == "ok").all() and np.isfinite(areas["pct_change"]).all()
    assert (out / "report_empirical-copula.md").read_text().startswith("Ours: empirical-copula")
    # the default comparison (markov-copula as ours) reads the same task files
    assert main(args) == 0
    assert "3 already done, 0 run" in capsys.readouterr().out
    default = pd.read_csv(out / "areas.csv", dtype={"n_train": str})
    assert set(default["baseline"]) == {"empirical-copula", "grid"}
    mine = areas.set_index("baseline").loc["markov-copula", "pct_change"]
    theirs = default.set_index("baseline").loc["empirical-copula", "pct_change"]
    assert np.sign(mine) == -np.sign(theirs)  # the same pair of areas seen from both sides


def test_subsamples_are_deterministic_shared_across_chains_and_distinct_across_seeds():
    a = train_subsample("mmlu", 285, "20", 3)
    np.testing.assert_array_equal(a, train_subsample("mmlu", 285, "20", 3))
    assert not np.array_equal(a, train_subsample("mmlu", 285, "20", 4))
    assert a.size == 20 and np.unique(a).size == 20
    np.testing.assert_array_equal(train_subsample("mmlu", 285, "all", 0), np.arange(285))
    with pytest.raises(ValueError, match="^n_train"):
        train_subsample("mmlu", 285, "1000", 0)


def test_failures_are_recorded_and_counted_not_dropped(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    # The registry's grid method calls the baseline through its package at run time.
    monkeypatch.setattr("llmcopula.cascade.baselines.grid_search", broken)
    cfg = ReproduceConfig(n_lambdas=3)
    tasks = make_tasks(["mmlu"], ["qwen_oai"], ["markov-copula", "grid"], ["all"], 1, cfg,
                       cascades=[(0, 3)])
    rows = [run_task(t) for t in tasks]
    failed = pd.concat(rows)
    assert (failed.loc[failed["method"] == "grid", "status"] == "failed").all()
    assert "boom" in failed.loc[failed["method"] == "grid", "error"].iloc[0]
    areas = compute_areas(failed.reset_index(drop=True))
    assert areas["status"].tolist() == ["failed:grid"]
    by_k = summarise_by_k(areas)
    assert by_k.empty  # nothing to average, but the exclusion is visible in areas.csv


def _synthetic_curves():
    """Ours: constant accuracy 0.8; base: constant 0.75 (k=3) or 0.8 (k=2), over cost 1..3."""
    rows = []
    for cas, k, base_acc in (("0-1", 2, 0.8), ("0-1-2", 3, 0.75), ("0-2-3", 3, 0.70)):
        for method, acc in (("markov-copula", 0.8), ("grid", base_acc)):
            for p, cost in enumerate((1.0, 3.0)):
                rows.append(dict(task_id=f"{cas}{method}", benchmark="b", chain="c", cascade=cas,
                                 k=k, n_train="all", seed=0, method=method, status="ok",
                                 test_cost=cost, test_accuracy=acc, point=p))
    return pd.DataFrame(rows)


def test_areas_and_aggregation_on_synthetic_curves():
    areas = compute_areas(_synthetic_curves())
    got = areas.set_index("cascade")
    np.testing.assert_allclose(got.loc["0-1-2", ["A_ours", "A_base"]], [0.2, 0.25])
    np.testing.assert_allclose(got.loc["0-1-2", "pct_change"], -20.0)
    np.testing.assert_allclose(got.loc["0-2-3", "pct_change"], 100 * (0.2 - 0.3) / 0.3)
    by_k = summarise_by_k(areas).set_index("k")
    np.testing.assert_allclose(by_k.loc[3, "mean_pct_change"], (-20.0 - 100 / 3) / 2)
    assert by_k.loc[2, "mean_pct_change"] == 0.0
    head = headline(summarise_by_k(areas))
    np.testing.assert_allclose(head["mean_of_per_k_means_k3plus"], (-20.0 - 100 / 3) / 2)


def test_wilcoxon_less_is_scipys_one_sided_exact_test():
    ours = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    base = ours + np.array([0.01, 0.02, 0.03, 0.04, 0.05])
    # Every difference negative: exact one-sided p = 1 / 2^5.
    assert wilcoxon_less(ours, base) == pytest.approx(1 / 32)
    mixed = base - np.array([0.02, 0.0, 0.05, -0.01, 0.07])
    assert wilcoxon_less(ours, mixed) == pytest.approx(
        stats.wilcoxon(ours, mixed, alternative="less").pvalue)
    assert np.isnan(wilcoxon_less(ours, ours))


@pytest.mark.slow
def test_dask_local_cluster_sweep_equals_local_sweep(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    from joblib import parallel_config

    cfg = ReproduceConfig(n_lambdas=3)
    tasks = make_tasks(["mmlu"], ["qwen_oai"], ["grid", "oracle", "markov-copula"], ["10", "all"],
                       1, cfg, cascades=[(0, 3)])
    run_sweep(tasks, tmp_path / "local", n_jobs=1, progress=False)
    with distributed.Client(distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                                     processes=True, dashboard_address=None)):
        with parallel_config(backend="dask"):
            counts = run_sweep(tasks, tmp_path / "dask", n_jobs=2, progress=False)
    assert counts["run"] == len(tasks) and counts["failed"] == 0
    timing = ["fit_s", "prep_s", "tune_s"]
    local = read_task_results(tmp_path / "local").drop(columns=timing)
    remote = read_task_results(tmp_path / "dask").drop(columns=timing)
    pd.testing.assert_frame_equal(local, remote)
