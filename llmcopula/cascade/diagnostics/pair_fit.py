"""Does a fitted pair copula describe how two models' confidences move together? A Cramér–von
Mises test of the copula by parametric bootstrap, AIC over every family and rotation, and a
picture of the pseudo-observations with the fitted copula's contours.

See ``docs/diagnostics.md``, "Pair copulas".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy.stats import rankdata

from ..._validation import check_rng
from ...copulas import BivariateCopula, UniformIntervals, fit_pair_copula, list_families
from ..base import check_chain_model
from ._common import (DiagnosticResult, as_intervals, atom_intervals, bootstrap_pvalue, censor,
                      check_n_boot, model_index, randomized_points, run_replicates,
                      uniform_intervals)

__all__ = ["copula_cvm_statistic", "pair_copula_gof_test", "pair_copula_aic",
           "PairCopulaDisplay"]

FloatArray = NDArray[np.float64]

# Rows of the (n × n) comparison in the empirical joint distribution function are processed in
# blocks of this many elements.
_BLOCK_ELEMENTS = 4_000_000


def _joint_ecdf(x: FloatArray, y: FloatArray) -> FloatArray:
    """H_n(x_k, y_k) = #{l : x_l <= x_k, y_l <= y_k} / n for every observation k."""
    n = x.size
    out = np.empty(n)
    step = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, n, step):
        xs, ys = x[start:start + step, None], y[start:start + step, None]
        out[start:start + step] = np.count_nonzero((x[None, :] <= xs) & (y[None, :] <= ys),
                                                   axis=1)
    return out / n


def copula_cvm_statistic(a: UniformIntervals | ArrayLike, b: UniformIntervals | ArrayLike,
                         copula: BivariateCopula) -> float:
    r"""Cramér–von Mises distance between the empirical copula of the data and ``copula``,

    .. math:: S_n = \sum_{k=1}^n \big(C_n(\hat U_k) - C(\hat U_k)\big)^2,

    with :math:`\hat U_k` the pseudo-observations (largest rank of each tied group over n + 1,
    so that ties from atoms give the right-continuous empirical distribution) and
    :math:`C_n(\hat U_k)` the fraction of observations below or at observation k in both
    coordinates (Genest, Rémillard & Beaudoin 2009). The data enter only through their ranks,
    so a misfit of the marginals does not count against the copula.
    """
    ia, ib = as_intervals(a, "a"), as_intervals(b, "b")
    if ia.hi.size != ib.hi.size:
        raise ValueError(f"b: expected {ia.hi.size} observations like a, got {ib.hi.size}")
    n = ia.hi.size
    u1 = rankdata(ia.hi, method="max") / (n + 1.0)
    u2 = rankdata(ib.hi, method="max") / (n + 1.0)
    emp = _joint_ecdf(ia.hi, ib.hi)
    return float(np.sum((emp - copula.cdf(np.stack([u1, u2], axis=-1))) ** 2))


def _family_of(family: str | BivariateCopula, rotation: int | None) -> tuple[str, int]:
    if isinstance(family, BivariateCopula):
        return family.family, family.rotation if rotation is None else rotation
    if not isinstance(family, str) or family == "auto":
        raise ValueError(f"family: expected a family name or a fitted copula, got {family!r}")
    return family, 0 if rotation is None else rotation


def pair_copula_gof_test(a: UniformIntervals | ArrayLike, b: UniformIntervals | ArrayLike, *,
                         family: str | BivariateCopula = "gumbel", rotation: int | None = None,
                         n_boot: int = 200, rng: Any = None, n_jobs: int | None = None
                         ) -> DiagnosticResult:
    r"""Goodness-of-fit test of a pair-copula family, by parametric bootstrap.

    The copula is fitted to the latent-uniform data as the cascade model fits it
    (:func:`~llmcopula.copulas.fit_pair_copula`: maximum likelihood, with atoms as intervals),
    and the statistic is :func:`copula_cvm_statistic`. Each replicate draws n points from the
    fitted copula, censors those that fall in an atom's interval to that interval (what an
    observer of Φ = F⁻¹(U) would see), refits the same family and rotation and recomputes the
    statistic; p = (1 + #{S* >= S}) / (B + 1). This is the parametric bootstrap of Genest,
    Rémillard & Beaudoin (2009), with the margins held at their estimates (the statistic uses
    ranks, so their estimation enters only through the copula's parameter).

    Parameters
    ----------
    a, b : UniformIntervals or array_like of shape (n,)
        Latent uniforms of the earlier and the later model (points, or intervals where a margin
        has atoms; see :func:`uniform_intervals`).
    family : str or BivariateCopula, default "gumbel"
        The family to test; a fitted copula gives its family and rotation.
    rotation : int, optional
        Overrides the rotation (default: the copula's, or 0 for a name).
    n_boot : int, default 200
    rng : None, int or numpy.random.Generator
    n_jobs : int, optional
        Replicates in parallel through joblib (the result does not depend on it).

    References
    ----------
    C. Genest, B. Rémillard, D. Beaudoin (2009), Goodness-of-fit tests for copulas: a review
    and a power study, Insurance: Mathematics and Economics 44, 199–213.

    Examples
    --------
    >>> from llmcopula.copulas import ClaytonCopula
    >>> u = ClaytonCopula(3.0).sample(300, rng=0)
    >>> pair_copula_gof_test(u[:, 0], u[:, 1], family="gumbel", n_boot=50, rng=0).pvalue < 0.05
    True
    """
    ia, ib = as_intervals(a, "a"), as_intervals(b, "b")
    name, rot = _family_of(family, rotation)
    n_boot = check_n_boot(n_boot)
    gen = check_rng(rng)
    fitted = fit_pair_copula(ia, ib, family=name, rotation=rot).copula
    statistic = copula_cvm_statistic(ia, ib, fitted)
    atoms_a, atoms_b = atom_intervals(ia), atom_intervals(ib)
    n = ia.hi.size

    def replicate(child: np.random.Generator) -> float:
        u = fitted.sample(n, rng=child)
        sa, sb = censor(u[:, 0], atoms_a), censor(u[:, 1], atoms_b)
        refit = fit_pair_copula(sa, sb, family=name, rotation=rot).copula
        return copula_cvm_statistic(sa, sb, refit)

    null = run_replicates(replicate, n_boot, gen, n_jobs=n_jobs)
    return DiagnosticResult(statistic=statistic, pvalue=bootstrap_pvalue(statistic, null),
                            method=f"parametric bootstrap, B={n_boot}", null_distribution=null)


def pair_copula_aic(a: UniformIntervals | ArrayLike, b: UniformIntervals | ArrayLike
                    ) -> pd.DataFrame:
    """Every registered family and rotation fitted to the pair, sorted by AIC: columns
    ``family``, ``rotation``, ``n_params``, ``aic`` and ``delta_aic`` (to the best)."""
    ia, ib = as_intervals(a, "a"), as_intervals(b, "b")
    fit = fit_pair_copula(ia, ib, family="auto")
    n_params = {f.name: f.n_params for f in list_families()}
    table = pd.DataFrame(fit.candidates, columns=["family", "rotation", "aic"])
    table.insert(2, "n_params", table.family.map(n_params))
    table["delta_aic"] = table.aic - table.aic.min()
    return table


def _density_on_normal_scale(copula: BivariateCopula, z1: FloatArray, z2: FloatArray
                             ) -> FloatArray:
    """The density of (Φ⁻¹(U1), Φ⁻¹(U2)): c(Φ(z1), Φ(z2)) φ(z1) φ(z2)."""
    u = np.stack([special.ndtr(z1), special.ndtr(z2)], axis=-1)
    log_phi = -0.5 * (z1 ** 2 + z2 ** 2) - np.log(2 * np.pi)
    return np.exp(copula.logpdf(np.clip(u, 1e-12, 1 - 1e-12)) + log_phi)


@dataclass
class PairCopulaDisplay:
    """Two models' latent uniforms (pseudo-observations; a random point of the atom's interval
    where a confidence is an atom) with the contours of the fitted copula's density, on the
    normal scale (each coordinate through Φ⁻¹, where a Gaussian copula has elliptical contours
    and tail dependence shows as a pointed end) or the uniform scale. The legend gives the
    family, Kendall's τ and the goodness-of-fit test; ``aic`` ranks every family.

    Create it with :meth:`from_model`; :meth:`plot` draws on a matplotlib axes and stores
    ``scatter_``, ``contour_``, ``ax_`` and ``figure_``.

    Examples
    --------
    >>> from llmcopula.cascade import MarkovCopulaModel
    >>> from llmcopula.cascade.diagnostics import PairCopulaDisplay
    >>> from llmcopula.datasets import load_benchmark
    >>> model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    >>> disp = PairCopulaDisplay.from_model(model, 0, 1, n_boot=20, rng=0)
    >>> disp.aic.family.iloc[0]
    'gaussian'
    """

    u: FloatArray
    copula: BivariateCopula
    result: DiagnosticResult | None = None
    aic: pd.DataFrame | None = None
    labels: tuple[str, str] = ("U1", "U2")

    @classmethod
    def from_model(cls, model: Any, i: int | str, j: int | str, *, n_boot: int = 200,
                   with_aic: bool = True, scale: str = "normal", rng: Any = None,
                   n_jobs: int | None = None, ax: Any = None, **kwargs: Any
                   ) -> PairCopulaDisplay:
        """The pair copula of chain models ``i`` and ``j`` (indices or names) of a fitted
        Markov-copula model, against the training data it was fitted on. ``n_boot=0`` skips
        the test; ``with_aic=False`` skips fitting every family."""
        model = check_chain_model(model)
        if not hasattr(model, "pair_fit"):
            raise ValueError(f"model: {type(model).__name__} has no pair copulas; use a "
                             f"MarkovCopulaModel")
        ki, kj = model_index(model, i), model_index(model, j)
        copula = model.pair_fit(ki, kj).copula  # checks i < j
        gen = check_rng(rng)
        ia = uniform_intervals(model.marginals_[ki], model.confidence_[:, ki])
        ib = uniform_intervals(model.marginals_[kj], model.confidence_[:, kj])
        result = None if n_boot == 0 else pair_copula_gof_test(
            ia, ib, family=copula, n_boot=n_boot, rng=gen, n_jobs=n_jobs)
        u = np.stack([randomized_points(ia, gen), randomized_points(ib, gen)], axis=-1)
        disp = cls(u=u, copula=copula, result=result,
                   aic=pair_copula_aic(ia, ib) if with_aic else None,
                   labels=(model.models_[ki], model.models_[kj]))
        return disp.plot(ax=ax, scale=scale, **kwargs)

    def plot(self, ax: Any = None, *, scale: str = "normal", **kwargs: Any
             ) -> PairCopulaDisplay:
        import matplotlib.pyplot as plt

        if scale not in ("normal", "uniform"):
            raise ValueError(f"scale: expected 'normal' or 'uniform', got {scale!r}")
        if ax is None:
            _, ax = plt.subplots()
        cop = self.copula
        name = cop.family + (f" {cop.rotation}°" if cop.rotation else "")
        label = f"fitted {name}, τ = {float(cop.tau):.2f}"
        if self.result is not None:
            label += f", GOF p = {self.result.pvalue:.2g}"
        kwargs.setdefault("s", 8)
        kwargs.setdefault("alpha", 0.5)
        if scale == "normal":
            pts = special.ndtri(np.clip(self.u, 1e-12, 1 - 1e-12))
            grid = np.linspace(-3.2, 3.2, 161)
            g1, g2 = np.meshgrid(grid, grid)
            dens = _density_on_normal_scale(cop, g1, g2)
            levels = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2]
            lim = (-3.2, 3.2)
            ax.set_xlabel(f"Φ⁻¹(U) of {self.labels[0]}")
            ax.set_ylabel(f"Φ⁻¹(U) of {self.labels[1]}")
        else:
            pts = self.u
            grid = np.linspace(0.005, 0.995, 161)
            g1, g2 = np.meshgrid(grid, grid)
            dens = cop.pdf(np.stack([g1, g2], axis=-1))
            levels = [0.5, 1.0, 1.5, 2.0, 3.0, 5.0]
            lim = (0.0, 1.0)
            ax.set_xlabel(f"U of {self.labels[0]}")
            ax.set_ylabel(f"U of {self.labels[1]}")
        self.scatter_ = ax.scatter(pts[:, 0], pts[:, 1], label="training queries", **kwargs)
        self.contour_ = ax.contour(g1, g2, dens, levels=levels, colors="C3", linewidths=1)
        ax.plot([], [], color="C3", linewidth=1, label=label)
        ax.set_xlim(*lim)
        ax.set_ylim(*lim)
        if self.aic is not None:
            top = self.aic.head(3)
            lines = [f"{f}{' ' + str(r) + '°' if r else ''}: ΔAIC {d:.1f}"
                     for f, r, d in zip(top.family, top.rotation, top.delta_aic)]
            ax.text(0.98, 0.02, "\n".join(lines), transform=ax.transAxes, ha="right",
                    va="bottom", fontsize="x-small",
                    bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8})
        ax.legend(fontsize="small", loc="upper left")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
