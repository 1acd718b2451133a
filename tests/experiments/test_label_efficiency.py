"""The label-efficiency and paired per-benchmark summaries of the experiments' analysis."""

import numpy as np
import pandas as pd
import pytest

from llmcopula.experiments.analysis import (_extended, label_efficiency, per_benchmark_n,
                                            per_cascade, wilcoxon_less)


def _fixed(areas_by_n):
    """A fixed-range area frame: one cascade, two seeds per subsample size (averaged)."""
    rows = []
    for method, by_n in areas_by_n.items():
        for n, a in by_n.items():
            for seed, eps in ((0, -0.001), (1, 0.001)):
                rows.append(dict(benchmark="b", chain="c", cascade="0-1-2", k=3, n_train=n,
                                 seed=seed if n != "all" else 0, method=method,
                                 A=a + (eps if n != "all" else 0.0)))
    return pd.DataFrame(rows)


def test_label_efficiency_needs_every_larger_n_within_the_tolerance():
    # "lucky" reaches 1% of its full-data area at n = 10 but leaves it at n = 20 and 30.
    fixed = _fixed({"steady": {"10": 0.30, "20": 0.25, "30": 0.2015, "all": 0.20},
                    "lucky": {"10": 0.2010, "20": 0.25, "30": 0.2010, "all": 0.20},
                    "never": {"10": 0.30, "20": 0.30, "30": 0.30, "all": 0.20}})
    out = label_efficiency(fixed).set_index("method")
    assert out.loc["steady", "n_within"] == "30"
    assert out.loc["lucky", "n_within"] == "30"
    assert out.loc["never", "n_within"] == "all"
    # seeds are averaged before the mean over cascades
    assert out.loc["steady", "A_10"] == pytest.approx(0.30)
    assert out.loc["steady", "n_cascades"] == 1


def test_label_efficiency_keeps_only_cascades_present_at_every_n():
    fixed = _fixed({"m": {"10": 0.3, "all": 0.2}})
    extra = fixed.assign(cascade="0-2", A=9.0)
    extra = extra[extra["n_train"] == "all"]
    out = label_efficiency(pd.concat([fixed, extra]))
    assert out.loc[0, "n_cascades"] == 1 and out.loc[0, "A_all"] == pytest.approx(0.2)


def test_extended_curve_is_flat_above_and_joins_the_first_stage_below():
    c, a = _extended(np.array([3.0, 2.0]), np.array([0.7, 0.6]), (1.0, 0.5), hi=5.0)
    np.testing.assert_allclose(c[:3], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(a, [0.5, 0.6, 0.7, 0.7])
    assert c[-1] > 5.0


def test_per_benchmark_n_is_the_mean_of_per_k_means_with_a_paired_test():
    rows = []
    rng = np.random.default_rng(0)
    for k, cascades in ((3, ["0-1-2", "0-1-3", "0-2-3"]), (4, ["0-1-2-3"])):
        for cas in cascades:
            a_base = rng.uniform(0.2, 0.3)
            pct = -2.0 if k == 3 else -6.0
            rows.append(dict(benchmark="b", chain="c", cascade=cas, k=k, n_train="all", seed=0,
                             baseline="grid", A_ours=a_base * (1 + pct / 100), A_base=a_base,
                             pct_change=pct, status="ok"))
    areas = pd.DataFrame(rows)
    out = per_benchmark_n(areas, "grid", k_min=3)
    assert out.loc[0, "mean_of_per_k_means"] == pytest.approx(-4.0)   # not the pooled -3.0
    assert out.loc[0, "n_cascades"] == 4 and out.loc[0, "share_better"] == 1.0
    assert out.loc[0, "wilcoxon_p"] == pytest.approx(wilcoxon_less(areas["A_ours"],
                                                                   areas["A_base"]))
    assert len(per_cascade(areas, "grid", k_min=4)) == 1
