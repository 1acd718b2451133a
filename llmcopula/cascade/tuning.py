"""Continuous optimisation of cascade thresholds along the error–cost frontier.

For a cost sensitivity λ (error-rate units per USD per million queries) the thresholds minimise

    L_λ(s) = (1 − P̂(correct)(s)) + λ · Ê[cost](s)

over the uniform-scale thresholds s ∈ [0, 1]^{k−1} (Zellinger & Thomson, arXiv 2501.09345;
``docs/tuning.md``), with the model's analytic gradient and L-BFGS-B. The reference optimiser
used one start per λ and finite differences, which left jumps between neighbouring λ (local
optima). Here every λ is solved from several starts: the solutions at the neighbouring λ on a
downward and an upward sweep (homotopy warm starts) and the best points of a batched
quasi-random scan of the cube; the best local optimum wins. The budget form maximises P̂(correct)
subject to Ê[cost] <= B for all budgets at once, by a batched trust-region gradient projection
from the most accurate feasible frontier and scan points (one batched model evaluation per
iteration, see ``_solve_budgets_batched``).

Thresholds inside an atom of a model's confidence (a repeated value, e.g. every answer with
log-probability 0) are not realisable by a deterministic rule on Φ: the final thresholds are
snapped to the better of "defer the whole atom" and "accept the whole atom".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy.stats import qmc

from .._validation import check_positive_int, check_rng
from .base import CalibratedChainModel, check_chain_model
from .cascades import check_cascade
from .frontier import Frontier
from .prediction import CascadeEvaluation
from .routing import pareto_mask

__all__ = ["gap_budgets", "tune", "default_lambdas"]

FloatArray = NDArray[np.float64]


def default_lambdas(costs: FloatArray, n: int = 30, *, span: float = 1e-5) -> FloatArray:
    """A geometric grid of cost sensitivities, plus 0.

    Deferring a fraction ε of queries gains at most ε in accuracy and costs at least ε·c_2
    (c_2: cost of the second stage), so for λ >= 1/c_2 answering everything at stage 1 is
    optimal; the grid spans ``[span/c_2, 1/c_2]``.
    """
    c = np.asarray(costs, dtype=np.float64)
    if c.ndim != 1 or c.size < 2:
        raise ValueError(f"costs: expected the costs of a cascade's stages, a 1-d array of at "
                         f"least 2 values, got shape {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any():
        raise ValueError(f"costs: must be finite and >= 0, got {c.tolist()}")
    n = check_positive_int(n, "n")
    if not (np.isfinite(span) and 0 < span < 1):
        raise ValueError(f"span: must lie in (0, 1), got {span!r}")
    lam_max = 1.0 / max(float(c[1]), 1e-12)
    return np.concatenate([[0.0], np.geomspace(lam_max * span, lam_max, n - 1)])


class _Problem:
    """The model's objective for one cascade, with caching of the last evaluation."""

    def __init__(self, model: CalibratedChainModel, cascade: tuple[int, ...],
                 approximation: str | None, n_cells: int | None = None) -> None:
        self.model = model
        self.cascade = cascade
        self.approximation = approximation
        self.n_cells = n_cells
        self.n_evals = 0

    def evaluate(self, s: FloatArray, with_grad: bool = False) -> CascadeEvaluation:
        # L-BFGS-B and the edge snapping may ask twice for the same point: single points are
        # cached (the last one, with its gradient when it was computed).
        key = s.tobytes() if s.shape[0] == 1 else None
        cached = getattr(self, "_last", None)
        if key is not None and cached is not None and cached[0] == key and (
                cached[1].grad_accuracy is not None or not with_grad):
            return cached[1]
        self.n_evals += s.shape[0]
        res = self.model.evaluate_quantile(s, self.cascade, approximation=self.approximation,
                                           with_grad=with_grad, n_cells=self.n_cells)
        if key is not None:
            self._last = (key, res)
        return res

    def lagrangian(self, lam: float):
        def fun(x: FloatArray) -> tuple[float, FloatArray]:
            r = self.evaluate(x[None, :], with_grad=True)
            val = 1.0 - r.accuracy[0] + lam * r.cost[0]
            grad = -r.grad_accuracy[0] + lam * r.grad_cost[0]
            return float(val), grad
        return fun


# Thresholds are optimised inside [EDGE, 1 − EDGE]: at exactly 0 or 1 the cells on one side of
# a threshold have zero width and the discretised derivative is only one-sided. Solutions on
# these bounds are moved to the exact ends afterwards (see _snap_edges).
_EDGE = 1e-6


# Penalty on the relative budget excess in the merit function of the batched budget solver.
# An excess of δ·B buys at most about δ·(elasticity of accuracy in cost) of accuracy, and that
# elasticity is far below 1 on cascades; 10 makes every excess a loss.
_EXCESS_PENALTY = 10.0
# Trust radius of the batched budget solver (uniform scale): a row stops once a step of
# 1e-3 no longer improves it (a threshold moved by 1e-3 of a quantile changes the accuracy by
# ~1e-5 near an optimum, below the model's own error). Three starts per budget: on the shipped
# k = 5 chains the solver then matches or beats SLSQP from two starts per budget in a third of
# the time (SLSQP needs ~15 single-point model evaluations per start).
_START_RADIUS = 0.05
_MIN_RADIUS = 1e-3
_SHRINK = 0.25
_MAX_ITER = 30
_BUDGET_STARTS = 3
_START_SPREAD = 0.05


def _minimise(fun, x0: FloatArray) -> tuple[FloatArray, float]:
    # ftol 1e-9 / gtol 1e-6: on the shipped k = 5 chains the optimal objective (error + λ·cost)
    # differs by < 1e-7 from ftol 1e-11 / gtol 1e-8, with 20% fewer evaluations.
    x0 = np.clip(np.asarray(x0, dtype=np.float64), _EDGE, 1.0 - _EDGE)
    res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                            bounds=[(_EDGE, 1.0 - _EDGE)] * x0.size,
                            options={"ftol": 1e-9, "gtol": 1e-6, "maxiter": 200})
    return _snap_edges(np.clip(res.x, 0.0, 1.0), fun, float(res.fun))


def _snap_edges(x: FloatArray, fun, value: float) -> tuple[FloatArray, float]:
    """Move coordinates that ended on the optimisation bounds to the exact end (0 or 1) when
    that is no worse."""
    at_lo = x <= 2 * _EDGE
    at_hi = x >= 1.0 - 2 * _EDGE
    if not (at_lo.any() or at_hi.any()):
        return x, value
    y = np.where(at_lo, 0.0, np.where(at_hi, 1.0, x))
    fy = fun(y)[0]
    return (y, fy) if fy <= value + 1e-12 else (x, value)


def _snap_atoms(model: CalibratedChainModel, cascade: tuple[int, ...], s: FloatArray,
                score) -> FloatArray:
    """Replace thresholds inside an atom's latent interval by the better realisable end."""
    options = []
    for j, m in enumerate(cascade[:-1]):
        cands = [s[j]]
        for _, lo, hi in model.atom_intervals(m):
            if lo + 1e-12 < s[j] < hi - 1e-12:
                cands = [lo, hi]
                break
        options.append(cands)
    if all(len(o) == 1 for o in options):
        return s
    combos = np.array(list(itertools.product(*options)))
    return combos[int(np.argmin(score(combos)))]


def _quantile_to_thresholds(model: CalibratedChainModel, cascade: tuple[int, ...],
                            s: FloatArray) -> FloatArray:
    """Calibrated thresholds for uniform-scale ones; at the lower end of an atom the threshold
    sits just below the atom (so the atom is accepted)."""
    t = model.from_quantile(s, cascade)
    for j, m in enumerate(cascade[:-1]):
        for value, lo, _ in model.atom_intervals(m):
            at_lo = np.isclose(s[:, j], lo, rtol=0, atol=1e-12) & (t[:, j] >= value)
            t[at_lo, j] = np.nextafter(value, -np.inf)
    return t


def _build_frontier(model: CalibratedChainModel, cascade: tuple[int, ...], s: FloatArray,
                    method: str, approximation: str | None, **extra: Any) -> Frontier:
    t = _quantile_to_thresholds(model, cascade, s)
    res = model.evaluate_quantile(model.to_quantile(t, cascade), cascade,
                                  approximation=approximation)
    directions, raw = model.raw_rules(t, cascade)
    # The reported cost is the rules' own: each stage's cost over the training queries that
    # reach it (the objective's mean costs ignore that deferred queries cost differently).
    cost = model.rule_cost(res.stage_probabilities, directions, raw, cascade)
    return Frontier(
        models=tuple(model.models_[m] for m in cascade), cascade=cascade, method=method,
        thresholds=t, raw_thresholds=raw, directions=directions,
        accuracy=res.accuracy, cost=cost,
        stage_probabilities=res.stage_probabilities, **extra,
    )


def tune(model: CalibratedChainModel, cascade: Sequence[int] | None = None, *,
         lambdas: ArrayLike | None = None, n_lambdas: int = 30, budgets: ArrayLike | None = None,
         n_starts: int = 256, approximation: str | None = None, pareto: bool = True,
         polish: bool = False, fill_gaps: bool = True, rng: Any = None) -> Frontier:
    """Trace the optimal error–cost frontier of a cascade under a fitted model.

    Parameters
    ----------
    model : CalibratedChainModel
        A fitted model (:class:`MarkovCopulaModel`, :class:`EmpiricalCopulaModel`, ...).
    cascade : sequence of int, optional
        Chain indices of the cascade (strictly increasing); default the whole chain.
    lambdas : array_like, optional
        Cost sensitivities (error per USD per million queries). Default: an adaptive path,
        :func:`default_lambdas` with ``n_lambdas / 2`` values, refined by inserting λ wherever
        neighbouring solutions are more than 1/``n_lambdas`` of the cost range apart.
    budgets : array_like, optional
        If given, solve the budget form instead: for each B, the thresholds of highest
        predicted accuracy with predicted cost <= B (USD per million queries).
    n_starts : int
        Size of the quasi-random scan of [0, 1]^{k−1} (one batched model evaluation) whose
        best points seed extra local searches at every λ.
    approximation : {"exact", "event-markov"}, optional
        Overrides the model's default.
    pareto : bool
        Drop dominated points (possible only when two λ share a solution's cost).
    fill_gaps : bool, default True
        With the adaptive λ path: where neighbouring points of the result are more than
        1/``n_lambdas`` of the cost range apart (the λ path only reaches the concave hull of the
        predicted frontier, and the model's frontier can bend below it), add solutions of the
        budget form at evenly spaced budgets inside the gap (:func:`gap_budgets`); their
        ``lambdas`` are NaN and ``budgets`` holds the budget.
    polish : bool, default False
        Models with a discretisation (:class:`MarkovCopulaModel`) are optimised on a coarse
        one (:meth:`~CalibratedChainModel.coarse_n_cells`); with ``polish=True`` every solution
        is re-optimised on the model's own, which moves the objective by ~1e-5 at twice the
        time.
    rng : None, int or Generator, default None
        Seed of the scrambled Sobol scan (the budget form seeds its Lagrangian warm start with
        the same ``rng``). The default was ``0`` before this release: pass ``rng=0`` for the
        earlier results.

    Returns
    -------
    Frontier
        Points sorted by predicted cost.
    """
    model = check_chain_model(model)
    cas = check_cascade(cascade, len(model.models_))
    n_lambdas = check_positive_int(n_lambdas, "n_lambdas")
    costs = model.costs_[list(cas)]
    # Explore and optimise (scan, λ path, refinement) on a coarse discretisation; predictions
    # and atom snapping use the model's own: the coarse optimum is within the discretisation
    # error of the fine one.
    fine = _Problem(model, cas, approximation)
    problem = _Problem(model, cas, approximation, n_cells=model.coarse_n_cells())
    k = len(cas)
    if k == 1:
        return _build_frontier(model, cas, np.empty((1, 0)), model.method_name, approximation,
                               lambdas=np.zeros(1))
    gen = check_rng(rng)
    sobol = qmc.Sobol(d=k - 1, scramble=True, seed=gen).random(max(n_starts, 2))
    scan = problem.evaluate(sobol)

    if budgets is not None:
        return _tune_budgets(model, cas, problem, np.asarray(budgets, dtype=np.float64),
                             sobol, scan, approximation, rng)

    adaptive = lambdas is None
    lam = default_lambdas(costs, max(n_lambdas // 2, 4)) if adaptive else np.asarray(
        lambdas, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0 or np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("lambdas: expected a non-empty 1-d array of finite values >= 0")
    solutions: dict[float, tuple[FloatArray, float]] = {}

    def solve(lmb: float, start: FloatArray) -> None:
        fun = problem.lagrangian(lmb)
        x, f = _minimise(fun, start)
        # Also search from the best point of the quasi-random scan when it lies in another
        # region (or is already better): the objective is not convex.
        scan_obj = 1.0 - scan.accuracy + lmb * scan.cost
        j = int(np.argmin(scan_obj))
        if scan_obj[j] < f - 1e-9:
            x2, f2 = _minimise(fun, sobol[j])
            if f2 < f - 1e-14:
                x, f = x2, f2
        solutions[lmb] = (x, f)

    prev = np.zeros(k - 1)
    for lmb in sorted(lam.tolist(), reverse=True):  # downward sweep, warm starts
        solve(lmb, prev)
        prev = solutions[lmb][0]

    if adaptive:
        # Insert λ between neighbours whose solutions are far apart in predicted cost, so
        # that the points spread along the whole frontier (each one optimised, warm-started
        # from its more expensive neighbour).
        for _ in range(4):
            ls = sorted(solutions)
            xs = np.array([solutions[v][0] for v in ls])
            cost_pts = problem.evaluate(xs).cost
            gap = (cost_pts.max() - cost_pts.min()) / max(n_lambdas, 1)
            new = [(a, b, i) for i, (a, b) in enumerate(zip(ls[:-1], ls[1:]))
                   if abs(cost_pts[i + 1] - cost_pts[i]) > gap and (b - a) > 1e-12 * b]
            if not new or len(solutions) >= int(1.25 * n_lambdas):
                break
            for a, b, i in new:
                mid = float(np.sqrt(a * b)) if a > 0 else b / 10.0
                solve(mid, solutions[a][0])

    # No local-optimum jumps: at every λ, no other point of the frontier may be better.
    ls = sorted(solutions)
    xs = np.array([solutions[v][0] for v in ls])
    ev = problem.evaluate(xs)
    for i, lmb in enumerate(ls):
        values = 1.0 - ev.accuracy + lmb * ev.cost
        j = int(np.argmin(values))
        if values[j] < solutions[lmb][1] - 1e-10:
            x, f = _minimise(problem.lagrangian(lmb), xs[j])
            solutions[lmb] = (x, f) if f < values[j] else (xs[j], float(values[j]))
    lam = np.array(ls)
    # Polishing on the fine discretisation is off by default: on the shipped chains (k = 5,
    # 40 λ) it changed the fine objective by at most 1.5e-5 (median 8e-7), far below the
    # model's own error, and took half of the tuning time.
    best_x = np.array([_minimise(fine.lagrangian(float(v)), solutions[v][0])[0] if polish
                       else solutions[v][0] for v in ls])
    n_coarse = problem.n_evals
    problem = fine

    def score_for(lmb: float):
        def score(s: FloatArray) -> FloatArray:
            r = problem.evaluate(s)
            return 1.0 - r.accuracy + lmb * r.cost
        return score

    snapped = np.array([_snap_atoms(model, cas, best_x[i], score_for(float(lam[i])))
                        for i in range(lam.size)])
    lam_out, budgets_out = lam.copy(), None
    n_filled = 0
    if adaptive and fill_gaps:
        coarse = _Problem(model, cas, approximation, n_cells=model.coarse_n_cells())
        budgets_out = np.full(lam.size, np.nan)
        acc_pts, cost_pts = _reported(model, cas, snapped)
        # Gaps are measured in the reported cost, which the objective's cost only approximates,
        # so a budget's solution can land off its budget: a second round fills what is left.
        for _ in range(2):
            keep = np.flatnonzero(pareto_mask(cost_pts, acc_pts))
            keep = keep[np.argsort(cost_pts[keep], kind="stable")]
            fill = gap_budgets(cost_pts[keep], n_lambdas)
            if not fill.size:
                break
            # The budget form reaches the parts of the frontier below its concave hull. Its
            # starts: the most accurate feasible points on the straight lines (in the uniform
            # scale) between each gap's two neighbours, and among the frontier and the scan.
            w = np.linspace(0.0, 1.0, 33)
            line_s = [snapped[a] + w[:, None] * (snapped[b] - snapped[a])
                      for a, b in zip(keep[:-1], keep[1:])
                      if np.any((fill > cost_pts[a]) & (fill < cost_pts[b]))]
            lines = np.vstack(line_s)
            seeds = np.vstack([snapped, lines, sobol])
            seeds_eval = _stack(coarse.evaluate(np.vstack([snapped, lines])), scan)
            extra, extra_acc, extra_cost = _solve_budgets_reported(
                model, cas, coarse, fill, seeds, seeds_eval=seeds_eval)
            n_filled += fill.size
            snapped = np.vstack([snapped, extra])
            acc_pts = np.concatenate([acc_pts, extra_acc])
            cost_pts = np.concatenate([cost_pts, extra_cost])
            lam_out = np.concatenate([lam_out, np.full(fill.size, np.nan)])
            budgets_out = np.concatenate([budgets_out, fill])
        n_coarse += coarse.n_evals
        if not n_filled:
            budgets_out = None
    frontier = _build_frontier(model, cas, snapped, model.method_name, approximation,
                               lambdas=lam_out, budgets=budgets_out,
                               info={"n_model_evaluations": n_coarse + problem.n_evals,
                                     "n_gap_budgets": n_filled})
    return _finish(frontier, pareto)


def _finish(frontier: Frontier, pareto: bool) -> Frontier:
    keep = pareto_mask(frontier.cost, frontier.accuracy) if pareto else np.ones(len(frontier), bool)
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(frontier.cost[idx], kind="stable")]

    def pick(a: FloatArray | None) -> FloatArray | None:
        return None if a is None else a[idx]

    return Frontier(
        models=frontier.models, cascade=frontier.cascade, method=frontier.method,
        thresholds=frontier.thresholds[idx], raw_thresholds=frontier.raw_thresholds[idx],
        accuracy=frontier.accuracy[idx], cost=frontier.cost[idx],
        stage_probabilities=frontier.stage_probabilities[idx],
        lambdas=pick(frontier.lambdas), budgets=pick(frontier.budgets), info=frontier.info,
        directions=frontier.directions,
    )


def _tune_budgets(model: CalibratedChainModel, cas: tuple[int, ...], problem: _Problem,
                  budgets: FloatArray, sobol: FloatArray, scan: CascadeEvaluation,
                  approximation: str | None, rng: Any) -> Frontier:
    if budgets.ndim != 1 or budgets.size == 0 or np.any(~np.isfinite(budgets)):
        raise ValueError("budgets: expected a non-empty 1-d array of finite costs")
    min_cost = float(model.costs_[cas[0]])
    if np.any(budgets < min_cost * (1 - 1e-12)):
        raise ValueError(
            f"budgets: every budget must be at least the cost of the first model, "
            f"{min_cost:.6g} USD per million queries; got min {budgets.min():.6g}"
        )
    # Seed each budget with the Lagrangian frontier and the scan.
    base = tune(model, cas, approximation=approximation, pareto=False, fill_gaps=False, rng=rng)
    path = model.to_quantile(base.thresholds, cas)
    seeds_s = np.vstack([path, sobol])
    out, _, _ = _solve_budgets_reported(model, cas, problem, budgets, seeds_s,
                                        seeds_eval=_stack(problem.evaluate(path), scan))
    return _build_frontier(model, cas, out, model.method_name, approximation,
                           budgets=budgets.copy(), info={"n_model_evaluations": problem.n_evals})


def _stack(first: CascadeEvaluation, second: CascadeEvaluation) -> CascadeEvaluation:
    """The values of two evaluations (without gradients), rows of ``first`` then ``second``."""
    return CascadeEvaluation(
        accuracy=np.concatenate([first.accuracy, second.accuracy]),
        cost=np.concatenate([first.cost, second.cost]),
        stage_probabilities=np.vstack([first.stage_probabilities, second.stage_probabilities]))


def _reported(model: CalibratedChainModel, cas: tuple[int, ...], s: FloatArray
              ) -> tuple[FloatArray, FloatArray]:
    """The accuracy and cost a frontier reports for uniform-scale thresholds ``s`` (see
    _build_frontier)."""
    t = _quantile_to_thresholds(model, cas, s)
    res = model.evaluate_quantile(model.to_quantile(t, cas), cas)
    return res.accuracy, model._rule_cost_calibrated(res.stage_probabilities, t, cas)


def _solve_budgets_reported(model: CalibratedChainModel, cas: tuple[int, ...],
                            problem: _Problem, budgets: FloatArray, seeds_s: FloatArray, *,
                            seeds_eval: CascadeEvaluation | None = None,
                            n_starts: int = _BUDGET_STARTS
                            ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The thresholds of highest predicted accuracy within each budget B, with the budget held
    by the *reported* cost, and their reported accuracy and cost. The objective's cost (smooth, what the solver needs)
    and the reported one (each stage's cost over the training queries that reach it,
    piecewise constant) differ, so a budget whose solution reports more than B is solved again,
    warm-started from its solution, with the objective's budget lowered by the excess (three
    rounds at most; a point that still exceeds B stays, and selection by budget skips it).
    All budgets are solved together by the batched solver (:func:`_solve_budgets_batched`)."""
    if seeds_eval is None:
        seeds_eval = problem.evaluate(seeds_s)

    def solve(b: FloatArray, starts: int, warm: FloatArray | None = None) -> FloatArray:
        return _solve_budgets_fast(model, cas, problem, b, seeds_s, seeds_eval, starts, warm)

    out = solve(budgets, n_starts)
    target = budgets.copy()
    floor = float(model.costs_[cas[0]])
    accuracy, reported = _reported(model, cas, out)
    for _ in range(3):
        over = reported > budgets * (1 + 1e-9)
        if not over.any():
            break
        target[over] = np.maximum(target[over] - (reported[over] - budgets[over]), floor)
        # One start besides the warm one: the first solve already explored from several, and
        # the lowered budget moves its solution only by the (small) cost discrepancy.
        out[over] = solve(target[over], 1, out[over])
        accuracy[over], reported[over] = _reported(model, cas, out[over])
    return out, accuracy, reported


def gap_budgets(cost: ArrayLike, n_lambdas: int) -> FloatArray:
    """Budgets that split every gap between neighbouring costs wider than 1/``n_lambdas`` of the
    cost range into pieces no wider than that (the points the budget form adds to a frontier).

    >>> gap_budgets([10.0, 12.0, 50.0], 4).tolist()  # range 40, largest allowed gap 10
    [21.5, 31.0, 40.5]
    """
    c = np.unique(np.asarray(cost, dtype=np.float64))
    if c.size < 2:
        return np.empty(0)
    width = (c[-1] - c[0]) / max(int(n_lambdas), 1)
    out = []
    for a, b in zip(c[:-1], c[1:]):
        if b - a > width * (1 + 1e-9):
            m = int(np.ceil((b - a) / width))
            out.extend(a + (b - a) * np.arange(1, m) / m)
    return np.asarray(out, dtype=np.float64)


def _projected_steps(x: FloatArray, cost: FloatArray, g_acc: FloatArray, g_cost: FloatArray,
                     budget: FloatArray, radius: FloatArray) -> FloatArray:
    """One trust-region step per row of the gradient-projection method for
    max A(s) subject to C(s) <= B, 0 <= s <= 1 (Rosen 1960):

        δ = r · t / |t| + (B − C) ∇C / |∇C|²,   t = ∇A − (∇A·∇C / |∇C|²) ∇C,

    the ascent direction projected onto the tangent plane of the budget's level set plus the
    Newton correction back onto it, used where the linearised constraint binds; elsewhere
    δ = r ∇A / |∇A|. Coordinates on a bound that the step would push outward are frozen. The
    bounds are [_EDGE, 1 − _EDGE], as for the λ path: at exactly 0 or 1 the derivative is
    one-sided."""
    free = np.ones(x.shape, dtype=bool)
    step = np.zeros_like(x)
    for _ in range(2):
        ga = np.where(free, g_acc, 0.0)
        gc = np.where(free, g_cost, 0.0)
        norm_a = np.linalg.norm(ga, axis=1)
        gc2 = np.einsum("ij,ij->i", gc, gc)
        with np.errstate(divide="ignore", invalid="ignore"):
            plain = radius[:, None] * ga / norm_a[:, None]
            plain = np.where(norm_a[:, None] > 0, plain, 0.0)
            binds = (gc2 > 0) & (cost + np.einsum("ij,ij->i", gc, plain) > budget)
            t = ga - (np.einsum("ij,ij->i", ga, gc) / gc2)[:, None] * gc
            norm_t = np.linalg.norm(t, axis=1)
            along = np.where(norm_t[:, None] > 0, radius[:, None] * t / norm_t[:, None], 0.0)
            back = ((budget - cost) / gc2)[:, None] * gc
        step = np.where(binds[:, None], along + np.where(np.isfinite(back), back, 0.0), plain)
        out = ((x <= _EDGE) & (step < 0.0)) | ((x >= 1.0 - _EDGE) & (step > 0.0))
        if not (out & free).any():
            break
        free &= ~out
    return np.clip(x + step, _EDGE, 1.0 - _EDGE)


def _solve_budgets_batched(problem: _Problem, budgets: FloatArray, seeds_s: FloatArray,
                           seeds_eval: CascadeEvaluation, n_starts: int,
                           warm: FloatArray | None = None) -> FloatArray:
    """Uniform-scale thresholds of highest predicted accuracy with predicted cost <= B for all
    budgets at once: from the ``n_starts`` most accurate feasible seeds of each budget (and
    from ``warm[b]`` if given), a trust-region gradient projection (:func:`_projected_steps`)
    in which every iteration is one batched model evaluation over all budgets and starts.
    Returns the most accurate feasible point seen per budget, so never worse than its best
    feasible seed; atoms are not snapped.

    SLSQP, one budget at a time (the earlier solver, kept in the tests as the reference), spends
    ~15 single-point model evaluations per start, and a single point costs several times its
    share of a batched evaluation; on the shipped k = 5 chains the batched solver reaches the
    same accuracies (or better, with more starts for the same time) in a third of the time.
    """
    nb = budgets.size
    feasible = seeds_eval.cost[None, :] <= budgets[:, None] * (1 + 1e-9)
    ranked_acc = np.where(feasible, seeds_eval.accuracy[None, :], -np.inf)
    # Starts: the most accurate feasible seed, then the most accurate one farther than
    # _START_SPREAD from every start chosen so far (neighbouring frontier points are often
    # near-copies, and three starts in one basin are one start).
    order = np.zeros((nb, n_starts), dtype=np.intp)
    has = np.zeros((nb, n_starts), dtype=bool)
    left = ranked_acc.copy()
    for j in range(n_starts):
        order[:, j] = np.argmax(left, axis=1)
        has[:, j] = np.take_along_axis(left, order[:, j:j + 1], axis=1)[:, 0] > -np.inf
        near = np.max(np.abs(seeds_s[None, :, :] - seeds_s[order[:, j]][:, None, :]), axis=2)
        left[near < _START_SPREAD] = -np.inf
    best_acc = np.where(has[:, 0], ranked_acc[np.arange(nb), order[:, 0]], -np.inf)
    best_x = np.where(has[:, :1], seeds_s[order[:, 0]], 0.0)
    # Rows of the batch: every (budget, feasible start) pair; a budget without a feasible
    # seed starts from "answer everything at the first stage", the cheapest cascade.
    take = has.copy()
    take[:, 0] = True
    row_b = np.repeat(np.arange(nb), n_starts).reshape(nb, n_starts)[take]
    x = np.where(has[take][:, None], seeds_s[order[take]], 0.0)
    if warm is not None:
        row_b = np.concatenate([np.arange(nb), row_b])
        x = np.vstack([warm, x])
    x = np.clip(x, _EDGE, 1.0 - _EDGE)
    B = budgets[row_b]
    radius = np.full(row_b.size, _START_RADIUS)

    def merit(acc: FloatArray, cost: FloatArray, b: FloatArray) -> FloatArray:
        return acc - _EXCESS_PENALTY * np.maximum(cost / b - 1.0, 0.0)

    def keep_best(rows: NDArray[np.intp], pts: FloatArray, acc: FloatArray,
                  cost: FloatArray) -> None:
        acc = np.where(cost <= budgets[rows] * (1 + 1e-9), acc, -np.inf)
        np.maximum.at(best_acc, rows, acc)
        won = np.flatnonzero((acc == best_acc[rows]) & (acc > -np.inf))
        best_x[rows[won]] = pts[won]

    ev = problem.evaluate(x, with_grad=True)
    acc, cost = ev.accuracy.copy(), ev.cost.copy()
    g_acc, g_cost = ev.grad_accuracy.copy(), ev.grad_cost.copy()
    keep_best(row_b, x, acc, cost)
    for _ in range(_MAX_ITER):
        live = np.flatnonzero(radius > _MIN_RADIUS)
        if not live.size:
            break
        trial = _projected_steps(x[live], cost[live], g_acc[live], g_cost[live], B[live],
                                 radius[live])
        ev = problem.evaluate(trial, with_grad=True)
        keep_best(row_b[live], trial, ev.accuracy, ev.cost)
        better = merit(ev.accuracy, ev.cost, B[live]) > merit(acc[live], cost[live], B[live]) + 1e-12
        up, down = live[better], live[~better]
        x[up], acc[up], cost[up] = trial[better], ev.accuracy[better], ev.cost[better]
        g_acc[up], g_cost[up] = ev.grad_accuracy[better], ev.grad_cost[better]
        radius[up] = np.minimum(radius[up] * 2.0, 0.5)
        radius[down] *= _SHRINK
    return best_x


def _solve_budgets_fast(model: CalibratedChainModel, cas: tuple[int, ...], problem: _Problem,
                        budgets: FloatArray, seeds_s: FloatArray, seeds_eval: CascadeEvaluation,
                        n_starts: int, warm: FloatArray | None = None) -> FloatArray:
    """:func:`_solve_budgets_batched`, then coordinates on the optimisation bounds moved to the
    exact ends where that stays feasible and is no less accurate, and atoms snapped."""
    x = _solve_budgets_batched(problem, budgets, seeds_s, seeds_eval, n_starts, warm)
    y = np.where(x <= 2 * _EDGE, 0.0, np.where(x >= 1.0 - 2 * _EDGE, 1.0, x))
    moved = np.flatnonzero(np.any(y != x, axis=1))
    if moved.size:
        ex, ey = problem.evaluate(x[moved]), problem.evaluate(y[moved])
        ok = (ey.cost <= budgets[moved] * (1 + 1e-9)) & (ey.accuracy >= ex.accuracy - 1e-12)
        x[moved[ok]] = y[moved[ok]]
    for b, budget in enumerate(budgets):
        def score(s: FloatArray, B: float = budget) -> FloatArray:
            r = problem.evaluate(s)
            return np.where(r.cost <= B * (1 + 1e-9), -r.accuracy, np.inf)

        x[b] = _snap_atoms(model, cas, x[b], score)
    return x
