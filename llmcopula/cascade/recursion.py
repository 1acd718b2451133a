"""Forward recursion for the stage probabilities and expected correctness of a cascade.

The model (Zellinger & Thomson, arXiv 2501.09345, chained exactly as in ``docs/cascade-model.md``,
"Markov chaining and the exact forward recursion"): each model j of a cascade has a calibrated confidence Φ_j = F_j⁻¹(U_j), where F_j is
its marginal (atoms allowed) and U_j is uniform; (U_1, …, U_k) is a Markov chain whose
consecutive pairs have copulas C_1, …, C_{k−1}. Stage j < k defers when Φ_j <= t_j, which is
the event {U_j <= s_j} with s_j = F_j(t_j). Writing A_j for "stages 1..j all defer" and

    f_j(v) = P(A_{j−1} | U_j = v)        (f_1 ≡ 1, bounded by 1),

the recursion is f_{j+1}(w) = ∫_0^{s_j} f_j(v) c_j(v, w) dv, and

    P(stop at j)            S_j = ∫_{s_j}^1 f_j(v) dv            (s_k := 0),
    E[correct, stop at j]   A_j = ∫_{s_j}^1 f_j(v) F_j⁻¹(v) dv   (calibration: E[C_j|Φ_j] = Φ_j).

Numerics. The copula density c_j is singular at the corners for tail-dependent families, so we
never evaluate it. Each stage's interval is cut into cells (Chebyshev-graded on [0, s_j] and on
[s_j, 1]); f_j is represented by its cell averages, and the mass moved from cell i of stage j to
cell l of stage j+1 is f̄_i times the *exact* copula rectangle volume of the two cells, from the
closed-form CDF. The only approximation is replacing f_j by its cell averages inside the
integral (second order in the cell width, since f_j is smooth); as the number of cells grows the
result converges to the exact Markov-model values. The cell integrals of F_j⁻¹ are exact too,
through the upper partial expectation K_j(u) = ∫_u^1 F_j⁻¹(v) dv.

The gradient with respect to the thresholds s is propagated alongside (forward mode), using the
h-functions ∂C/∂u1, ∂C/∂u2 and dK/du = −F⁻¹(u); it is the exact derivative of the discretised
value, so L-BFGS-B sees a smooth, consistent objective.

``approximation="event-markov"`` reproduces the paper's product formula instead: the law of
U_j given that the cascade reached stage j is replaced by its law given only {U_{j−1} <= s_{j−1}},
i.e. P(A_j) ≈ P(D_1) Π P(D_i | D_{i−1}).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..copulas import BivariateCopula

__all__ = ["StageFunctions", "StageBatch", "cascade_recursion", "graded_edges"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StageFunctions:
    """The two functions of a stage's marginal the recursion needs, both on the uniform scale.

    ``upper_mean(u)`` is K(u) = E[Φ · 1{U > u}] = ∫_u^1 F⁻¹(v) dv and ``quantile(u)`` is F⁻¹(u)
    (so that dK/du = −F⁻¹(u)).
    """

    upper_mean: Callable[[FloatArray], FloatArray]
    quantile: Callable[[FloatArray], FloatArray]
    #: Optional ``u -> (K(u), F⁻¹(u))`` sharing work between the two.
    both: Callable[[FloatArray], tuple[FloatArray, FloatArray]] | None = None

    def evaluate(self, u: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(K(u), F⁻¹(u))."""
        if self.both is not None:
            return self.both(u)
        return self.upper_mean(u), self.quantile(u)


#: ``ys -> [(K_j(y_j), F_j⁻¹(y_j)) for each stage j]``: all stages' values in one call.
StageBatch = Callable[[Sequence[FloatArray]], Sequence[tuple[FloatArray, FloatArray]]]


def _as_batch(stages: Sequence[StageFunctions] | StageBatch) -> StageBatch:
    if callable(stages):
        return stages
    return lambda ys: [st.evaluate(y) for st, y in zip(stages, ys)]


def graded_edges(n_cells: int) -> FloatArray:
    """Chebyshev–Lobatto points on [0, 1]: ``n_cells + 1`` cell edges, finer near both ends,
    where tail-dependent copulas move mass fastest."""
    i = np.arange(n_cells + 1)
    edges = 0.5 * (1.0 - np.cos(np.pi * i / n_cells))
    edges[0], edges[-1] = 0.0, 1.0
    return edges


def _safe_ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _grid(cop: BivariateCopula, x: FloatArray, y: FloatArray, with_grad: bool):
    """C, ∂C/∂u1 and ∂C/∂u2 on the grid x[b, i] × y[b, l] (shape (B, I, L))."""
    xx, yy = np.broadcast_arrays(x[:, :, None], y[:, None, :])
    pts = np.stack([xx, yy], axis=-1)
    cg = cop.cdf(pts)
    if not with_grad:
        return cg, None, None
    return cg, cop.hfunc1(pts), cop.hfunc2(pts)


def _volumes(cg: FloatArray) -> FloatArray:
    return cg[:, 1:, 1:] - cg[:, :-1, 1:] - cg[:, 1:, :-1] + cg[:, :-1, :-1]


def cascade_recursion(
    s: FloatArray,
    copulas: Sequence[BivariateCopula],
    stages: Sequence[StageFunctions] | StageBatch,
    *,
    n_cells: int = 32,
    approximation: str = "exact",
    with_grad: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray | None]:
    """Stop probabilities and expected-correctness contributions of every stage.

    Parameters
    ----------
    s : array of shape (B, k - 1)
        Deferral thresholds on the uniform (quantile) scale, one row per threshold vector.
    copulas : sequence of k - 1 bivariate copulas
        ``copulas[j]`` joins stage j (first argument) and stage j + 1 (second argument).
    stages : sequence of k :class:`StageFunctions`, or a :class:`StageBatch`
        The marginal functions of each stage; a batch evaluates all stages in one call.
    n_cells : int
        Cells per side of each threshold (2 * n_cells cells per stage).
    approximation : {"exact", "event-markov"}
    with_grad : bool
        Also return the derivatives with respect to ``s``.

    Returns
    -------
    stop : (B, k) array, P(stage j answers).
    correct : (B, k) array, E[1{stage j answers} · C_j].
    dstop, dcorrect : (B, k, k - 1) arrays of derivatives with respect to ``s`` (or None).
    """
    s = np.asarray(s, dtype=np.float64)
    n_batch, n_thr = s.shape
    k = n_thr + 1
    n_stages = None if callable(stages) else len(stages)
    if len(copulas) != n_thr or (n_stages is not None and n_stages != k):
        raise ValueError(
            f"copulas/stages: a cascade with {k} stages needs {n_thr} copulas and {k} stages, "
            f"got {len(copulas)} and {n_stages}"
        )
    if approximation not in ("exact", "event-markov"):
        raise ValueError(
            f"approximation: expected 'exact' or 'event-markov', got {approximation!r}"
        )
    lam = graded_edges(n_cells)
    lam_full = graded_edges(2 * n_cells)
    dlam = np.diff(lam)
    stop = np.zeros((n_batch, k))
    correct = np.zeros((n_batch, k))
    dstop = np.zeros((n_batch, k, n_thr)) if with_grad else None
    dcorrect = np.zeros((n_batch, k, n_thr)) if with_grad else None

    # Cell edges of every stage depend only on that stage's threshold: evaluate the marginal
    # functions of all stages at once.
    ys = [s[:, :1]]
    for j in range(1, k):
        if j == k - 1:
            ys.append(np.broadcast_to(lam_full, (n_batch, lam_full.size)))
        else:
            sj = s[:, j][:, None]
            ys.append(np.concatenate([sj * lam, sj + (1.0 - sj) * lam[1:]], axis=1))
    values = _as_batch(stages)(ys)

    # Stage 1: U_1 is uniform, so f_1 ≡ 1 on every cell of [0, s_1].
    s1 = s[:, 0]
    stop[:, 0] = 1.0 - s1
    correct[:, 0] = values[0][0][:, 0]
    x = s1[:, None] * lam  # (B, G+1) edges of the deferral cells of stage 1
    ratio = np.ones((n_batch, n_cells))  # cell averages of f on the deferral cells
    if with_grad:
        dstop[:, 0, 0] = -1.0
        dcorrect[:, 0, 0] = -values[0][1][:, 0]
        dratio = np.zeros((n_thr, n_batch, n_cells))

    for j in range(1, k):
        last = j == k - 1
        y = ys[j]
        if not last:
            sj = s[:, j][:, None]
        cg, h1, h2 = _grid(copulas[j - 1], x, y, with_grad)
        vol = _volumes(cg)  # (B, G, L)
        mass = np.einsum("bi,bil->bl", ratio, vol)  # mass of A_{j-1} ∩ {U_j in cell l}

        # Cell integrals of the quantile function, exact through K.
        kv, q = values[j]
        width = np.diff(y, axis=1)
        kdiff = kv[:, :-1] - kv[:, 1:]
        gbar = _safe_ratio(kdiff, width)
        stop_cells = slice(0, None) if last else slice(n_cells, None)
        stop[:, j] = mass[:, stop_cells].sum(axis=1)
        correct[:, j] = (mass * gbar)[:, stop_cells].sum(axis=1)

        if with_grad:
            # Tangents of the grid edges: x moves with s_{j-1}, y with s_j.
            dvol = np.zeros((n_thr,) + vol.shape)
            dx = lam  # d x / d s_{j-1}
            dvol[j - 1] = _volumes(h1 * dx[None, :, None])
            if not last:
                dy = np.concatenate([lam, 1.0 - lam[1:]])
                dvol[j] = _volumes(h2 * dy[None, None, :])
            dmass = np.einsum("dbi,bil->dbl", dratio, vol) + np.einsum("bi,dbil->dbl", ratio, dvol)
            dgbar = np.zeros((n_thr,) + gbar.shape)
            if not last:
                dyv = np.concatenate([lam, 1.0 - lam[1:]])[None, :]
                dkv = -q * dyv
                dwidth = np.diff(dyv, axis=1)
                dkdiff = dkv[:, :-1] - dkv[:, 1:]
                dgbar[j] = _safe_ratio(dkdiff * width - kdiff * dwidth, width**2)
            dstop[:, j, :] = dmass[:, :, stop_cells].sum(axis=2).T
            dcorrect[:, j, :] = (dmass * gbar + mass * dgbar)[:, :, stop_cells].sum(axis=2).T

        if last:
            break
        # Deferral cells of stage j become the source cells of the next transition.
        defer_mass = mass[:, :n_cells]
        x = y[:, : n_cells + 1]
        dx_width = sj * dlam  # (B, G)
        if approximation == "exact":
            ratio_new = _safe_ratio(defer_mass, dx_width)
        else:
            reach = defer_mass.sum(axis=1, keepdims=True)
            ratio_new = np.broadcast_to(_safe_ratio(reach, sj), defer_mass.shape).copy()
        if with_grad:
            ddefer = dmass[:, :, :n_cells]
            if approximation == "exact":
                dratio_new = _safe_ratio(ddefer, dx_width[None])
                # the cell widths scale with s_j
                dratio_new[j] -= _safe_ratio(defer_mass * dlam[None, :], dx_width**2)
            else:
                dreach = ddefer.sum(axis=2, keepdims=True)
                dratio_new = np.broadcast_to(_safe_ratio(dreach, sj[None]), ddefer.shape).copy()
                dratio_new[j] -= np.broadcast_to(_safe_ratio(reach, sj**2), defer_mass.shape)
            dratio = dratio_new
        ratio = ratio_new

    return stop, correct, dstop, dcorrect
