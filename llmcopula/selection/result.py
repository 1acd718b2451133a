"""The result types shared by every selection strategy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SelectionStep", "SelectionResult"]


@dataclass(frozen=True)
class SelectionStep:
    """One step of a selection path.

    Attributes
    ----------
    model : int
        Column index of the model added.
    name : str or None
    gain : float
        Increment Î(Y; X_j | X_S) in bits under the result's estimator, whatever criterion chose
        the model.
    mi_bits : float
        Î(Y; X_S) after the step, in bits.
    cost, total_cost : float
        Cost of the model and cumulative cost of the set after the step.
    score : float
        The value of the method's own criterion for the chosen model (equal to ``gain`` for
        greedy MI with unit costs; gain per unit cost with heterogeneous costs).
    """

    model: int
    name: str | None
    gain: float
    mi_bits: float
    cost: float
    total_cost: float
    score: float


@dataclass(frozen=True)
class SelectionResult:
    """A selected ensemble.

    Attributes
    ----------
    selected : tuple of int
        Column indices, in the order they were added.
    names : tuple of str or None
        The selected models' names, when names were given.
    mi_bits : float
        Estimated Î(Y; X_S) of the selected set, in bits.
    trace : tuple of SelectionStep
    total_cost : float
    method : str
    estimator : str
    choice : object or None
        For ``method="auto"``: the comparison of the candidate sets
        (:class:`~llmcopula.selection.set_choice.SetChoice`); None otherwise.
    """

    selected: tuple[int, ...]
    names: tuple[str, ...] | None
    mi_bits: float
    trace: tuple[SelectionStep, ...]
    total_cost: float
    method: str
    estimator: str
    choice: Any = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.selected)
