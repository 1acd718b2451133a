"""Every diagnostic of a fitted Markov-copula model in one table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..._validation import check_rng
from ...datasets import ChainLog
from ..base import check_chain_model
from ._common import uniform_intervals
from .marginal_fit import marginal_gof_test
from .markov_check import markov_test
from .pair_fit import pair_copula_gof_test
from .reliability import calibration_test, is_training_log

__all__ = ["diagnostics_summary"]


def diagnostics_summary(model: Any, log: ChainLog | None = None, *, n_boot: int = 200,
                        rng: Any = None, n_jobs: int | None = None) -> pd.DataFrame:
    """Run the calibration, marginal, pair-copula and Markov checks of a fitted
    :class:`~llmcopula.cascade.MarkovCopulaModel` and return one row per test.

    Calibration is checked on ``log`` (held-out queries, the honest check; default: the
    training confidences, with the calibrator refitted in each replicate, which needs the
    training log, so without ``log`` the calibration rows are left out). The marginals, the
    consecutive pair copulas of the chain and its consecutive triples are checked on the
    training data the model was fitted on.

    Returns
    -------
    pandas.DataFrame
        Columns ``check`` ("calibration", "marginal", "pair copula", "Markov"), ``subject``
        (the model, pair or triple), ``statistic`` (ECE, W², S_n, partial correlation),
        ``pvalue``, ``pvalue_holm`` (Holm's adjustment within each check) and ``detail``.

    Examples
    --------
    >>> from llmcopula.cascade import MarkovCopulaModel
    >>> from llmcopula.cascade.diagnostics import diagnostics_summary
    >>> from llmcopula.datasets import load_benchmark
    >>> train = load_benchmark("mmlu", "llama").subset([0, 2, 4])
    >>> model = MarkovCopulaModel().fit(train)
    >>> table = diagnostics_summary(model, n_boot=5, rng=0)
    >>> table.check.tolist()
    ['marginal', 'marginal', 'marginal', 'pair copula', 'pair copula', 'Markov']
    """
    model = check_chain_model(model)
    if not hasattr(model, "pair_fit"):
        raise ValueError(f"model: {type(model).__name__} has no pair copulas; use a "
                         f"MarkovCopulaModel")
    gen = check_rng(rng)
    names = model.models_
    rows: list[dict[str, Any]] = []
    if log is not None:
        if not isinstance(log, ChainLog) or tuple(log.models) != tuple(names):
            raise ValueError(f"log: expected a ChainLog of the model's chain {list(names)}")
        refit = is_training_log(model, log)
        prob = model.calibrate(log)
        for k, name in enumerate(names):
            res = calibration_test(prob[:, k], log.correct[:, k], n_boot=n_boot,
                                   raw=log.confidence[:, k] if refit else None,
                                   calibrator=model.calibrators_[k] if refit else None, rng=gen)
            rows.append({"check": "calibration", "subject": name, "statistic": res.ece,
                         "pvalue": res.pvalue,
                         "detail": f"ECE {res.ece:.3f} [{res.ece_low:.3f}, {res.ece_high:.3f}]"
                                   f" on {log.n_queries} queries"})
    for k, name in enumerate(names):
        marg = model.marginals_[k]
        res = marginal_gof_test(marg, model.confidence_[:, k], n_boot=n_boot, rng=gen,
                                n_jobs=n_jobs)
        n_atoms = len(getattr(marg, "atoms_", []))
        rows.append({"check": "marginal", "subject": name, "statistic": res.statistic,
                     "pvalue": res.pvalue,
                     "detail": f"{getattr(marg, 'n_components_', '?')} beta component(s), "
                               f"{n_atoms} atom(s)"})
    intervals = [uniform_intervals(model.marginals_[k], model.confidence_[:, k])
                 for k in range(len(names))]
    for i in range(len(names) - 1):
        cop = model.pair_copula(i, i + 1)
        res = pair_copula_gof_test(intervals[i], intervals[i + 1], family=cop, n_boot=n_boot,
                                   rng=gen, n_jobs=n_jobs)
        rot = f" {cop.rotation}°" if cop.rotation else ""
        rows.append({"check": "pair copula", "subject": f"{names[i]} → {names[i + 1]}",
                     "statistic": res.statistic, "pvalue": res.pvalue,
                     "detail": f"{cop.family}{rot}, τ = {float(cop.tau):.2f}"})
    if len(names) >= 3:
        table = markov_test(model, rng=gen)
        for row in table.itertuples():
            rows.append({"check": "Markov", "subject": f"{row.first} ⊥ {row.last} | {row.middle}",
                         "statistic": row.partial_correlation, "pvalue": row.pvalue,
                         "detail": f"partial correlation {row.partial_correlation:+.3f}, "
                                   f"null range [{row.null_low:+.3f}, {row.null_high:+.3f}]"})
    out = pd.DataFrame(rows)
    out["pvalue_holm"] = np.nan
    for _, idx in out.groupby("check", sort=False).groups.items():
        out.loc[idx, "pvalue_holm"] = multipletests(out.loc[idx, "pvalue"], method="holm")[1]
    return out[["check", "subject", "statistic", "pvalue", "pvalue_holm", "detail"]]
