"""Active choice of the next pair to compare under a comparison budget.

After a spanning chain of ``n - 1`` comparisons (a random permutation, so that the comparison
graph is connected), each further comparison goes to the pair with the largest expected
information about the strengths of a Bradley-Terry model fitted to the verdicts so far
(:class:`~llmcopula.ranking.bradley_terry.BradleyTerry` with a ridge prior ``alpha``). Under the
Laplace approximation ``lambda ~ N(lambda_hat, C)``, one binary comparison of ``(i, j)`` adds
Fisher information ``w = p (1 - p)`` along ``e_i - e_j`` (``p = sigma(lambda_i - lambda_j)``),
so the gain in ``log det`` of the posterior precision (D-optimality) is

    g_ij = log(1 + k w v_ij),   v_ij = C_ii + C_jj - 2 C_ij,

with ``k`` calls per comparison (2 with both orders). ``strategy="uncertainty"`` instead picks
the pair whose order is least certain, the smallest ``|lambda_i - lambda_j| / sqrt(v_ij)``
(each discordant pair costs Kendall's tau, so this targets the full ranking); ``"top"``
multiplies ``g_ij`` by ``pi_i + pi_j``, the posterior probability (Monte Carlo under the Laplace
approximation) that ``i`` or ``j`` is the best candidate, to spend the budget on the contenders
for best-of-n.
``strategy="random"`` draws the further pairs uniformly: the baseline at equal budget. The gain
rule is the standard sequential D-optimal design for paired comparisons; the ``"uncertainty"``
and ``"top"`` rules are our heuristics.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from .._validation import RNGLike, check_positive_int, check_rng
from ._checks import check_n_candidates
from .bradley_terry import BradleyTerry, records_from_matrix
from .comparator import Comparator
from .matrix import ComparisonSession, PairwiseMatrix

__all__ = ["ActiveResult", "active_rank", "check_budget"]


@dataclass(frozen=True)
class ActiveResult:
    """Outcome of :func:`active_rank`.

    Attributes
    ----------
    matrix : PairwiseMatrix
        Every logit queried.
    model : BradleyTerry
        The final fit; ``model.strengths_`` are the scores.
    best : int
        ``argmax`` of the strengths (lowest index among equals).
    pairs : ndarray, shape (budget, 2)
        The compared pairs, in the order chosen.
    n_comparisons : int
        Comparisons made (= ``budget`` unless every pair was compared earlier).
    n_calls : int
        Comparator calls (2 per comparison with both orders).
    """

    matrix: PairwiseMatrix
    model: BradleyTerry
    best: int
    pairs: NDArray[np.intp]
    n_comparisons: int
    n_calls: int

    @property
    def scores(self) -> NDArray[np.float64]:
        """The fitted Bradley-Terry strengths."""
        return self.model.strengths_


def check_budget(budget: Any, n: int) -> int:
    """A comparison budget between the spanning minimum ``n - 1`` and all ``n(n-1)/2`` pairs.

    Examples
    --------
    >>> check_budget(9, 10)
    9
    """
    n = check_n_candidates(n)
    budget = check_positive_int(budget, "budget")
    if budget < n - 1:
        raise ValueError(f"budget: at least n - 1 = {n - 1} comparisons are needed to connect "
                         f"{n} candidates, got {budget}")
    if budget > n * (n - 1) // 2:
        raise ValueError(f"budget: at most n(n-1)/2 = {n * (n - 1) // 2} distinct pairs exist, "
                         f"got {budget}")
    return budget


def _fit(session: ComparisonSession, alpha: float, tie_margin: float, soft: bool,
         previous: BradleyTerry | None) -> BradleyTerry:
    f, s, y = records_from_matrix(session.matrix(), tie_margin=tie_margin, soft=soft)
    model = BradleyTerry(position_bias=session.both_orders, ties="auto", alpha=alpha,
                         solver="newton", tol=1e-8)
    warm = None
    if previous is not None and (soft or (previous.tie_param_ > 0) == bool((y == 0.5).any())):
        warm = previous.params_vector()
    with warnings.catch_warnings():
        # tiny early designs may look separated; the prior keeps the fit finite
        warnings.simplefilter("ignore", UserWarning)
        return model.fit(f, s, y, n_items=session.n, warm_start=warm)


def active_rank(comparator: Comparator, x: Any, candidates: Sequence[Any], *, budget: int,
                strategy: Literal["information", "uncertainty", "top", "random"] = "information",
                both_orders: bool = True, outcome: Literal["soft", "sign"] = "soft",
                alpha: float = 1.0, tie_margin: float = 0.0,
                n_draws: int = 256, rng: RNGLike = None) -> ActiveResult:
    """Rank candidates with at most ``budget`` comparisons chosen adaptively.

    Parameters
    ----------
    comparator : Comparator
        ``f(x, y_i, y_j) -> logit``.
    x, candidates
        The input and its candidate answers.
    budget : int
        Comparisons (unordered pairs), ``n - 1 <= budget <= n(n-1)/2``.
    strategy : {"information", "uncertainty", "top", "random"}
        Pair choice after the spanning chain (see the module docstring).
    both_orders : bool
        Query each pair in both orders (2 calls; the fitted model then estimates the position
        bias) or in a random order (1 call).
    outcome : {"soft", "sign"}
        What the model is fitted to: soft labels ``expit(logit)`` (keeps the margins) or the
        verdicts' signs with Davidson ties (for judges whose logits are not log-odds); see
        :func:`~llmcopula.ranking.records_from_matrix`.
    alpha : float
        Ridge prior on the strengths (``> 0`` keeps early fits finite).
    tie_margin : float
        With ``outcome="sign"``, ``|logit| <= tie_margin`` counts as a tie.
    n_draws : int
        Monte Carlo draws for ``strategy="top"``.
    rng : None, int or Generator

    Examples
    --------
    >>> from llmcopula.ranking import MatrixComparator, simulate_logits
    >>> mu = np.linspace(0, 3, 8)
    >>> f = MatrixComparator(simulate_logits(mu, bias=0.3, noise=0.5, rng=1))
    >>> res = active_rank(f, None, range(8), budget=12, rng=0)
    >>> res.best, res.n_comparisons, res.n_calls
    (7, 12, 24)
    """
    n = check_n_candidates(len(candidates), "candidates")
    budget = check_budget(budget, n)
    if strategy not in ("information", "uncertainty", "top", "random"):
        raise ValueError("strategy: expected 'information', 'uncertainty', 'top' or 'random', "
                         f"got {strategy!r}")
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha: must be a positive number, got {alpha!r}")
    n_draws = check_positive_int(n_draws, "n_draws")
    if outcome not in ("soft", "sign"):
        raise ValueError(f"outcome: expected 'soft' or 'sign', got {outcome!r}")
    soft = outcome == "soft"
    gen = check_rng(rng)
    session = ComparisonSession(comparator, x, candidates, both_orders=both_orders)
    compared = np.zeros((n, n), dtype=bool)
    chosen: list[tuple[int, int]] = []

    def compare(i: int, j: int) -> None:
        if not both_orders and gen.random() < 0.5:
            i, j = j, i
        session.compare(i, j)
        compared[i, j] = compared[j, i] = True
        chosen.append((i, j))

    perm = gen.permutation(n)
    for a, b in zip(perm[:-1], perm[1:]):
        compare(int(a), int(b))
    iu, ju = np.triu_indices(n, k=1)
    model = _fit(session, alpha, tie_margin, soft, None) if strategy != "random" else None
    while len(chosen) < budget:
        open_ = ~compared[iu, ju]
        if strategy == "random":
            pick = gen.choice(np.flatnonzero(open_))
        else:
            lam = model.strengths_  # type: ignore[union-attr]
            C = model.covariance_[:n, :n]  # type: ignore[union-attr]
            v = C[iu, ju] * -2 + C[iu, iu] + C[ju, ju]
            p = expit(lam[iu] - lam[ju])
            gain = np.log1p((2 if both_orders else 1) * p * (1 - p) * np.clip(v, 0, None))
            if strategy == "uncertainty":
                gain = -np.abs(lam[iu] - lam[ju]) / np.sqrt(np.clip(v, 1e-300, None))
            if strategy == "top":
                draws = gen.multivariate_normal(lam, C, size=n_draws, method="eigh")
                pi = np.bincount(np.argmax(draws, axis=1), minlength=n) / n_draws
                gain = gain * (pi[iu] + pi[ju])
            gain = np.where(open_, gain, -np.inf)
            pick = int(np.argmax(gain))
        compare(int(iu[pick]), int(ju[pick]))
        if strategy != "random" and len(chosen) < budget:
            model = _fit(session, alpha, tie_margin, soft, model)
    final = _fit(session, alpha, tie_margin, soft, model)
    return ActiveResult(matrix=session.matrix(), model=final,
                        best=int(np.argmax(final.strengths_)),
                        pairs=np.array(chosen, dtype=np.intp), n_comparisons=len(chosen),
                        n_calls=session.n_calls)
