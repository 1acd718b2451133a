"""The "columns of user logs" options that ``tune``, ``select`` and ``plan`` share: one table of
option names, defaults and help texts, so that the three commands read user files alike."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

__all__ = ["COLUMN_OPTIONS", "add_column_arguments"]

#: column kind -> (option, default column name, help)
COLUMN_OPTIONS: dict[str, tuple[str, str, str]] = {
    "query": ("--query-col", "query_id", "query id column"),
    "model": ("--model-col", "model", "model name column"),
    "confidence": ("--confidence-col", "raw_confidence", "raw confidence column"),
    "correct": ("--correct-col", "correct", "correctness column (0/1)"),
    "cost": ("--cost-col", "cost_answer_usd", "cost column (USD per call)"),
    "answer": ("--answer-col", "answer", "answer text column"),
    "label": ("--label-col", "reference", "reference answer (label) column"),
    "position": ("--position-col", "position", "chain position column"),
}


def add_column_arguments(parser: argparse.ArgumentParser, kinds: Sequence[str], *,
                         helps: Mapping[str, str] | None = None) -> argparse._ArgumentGroup:
    """Add the "columns of user logs" group with the options of ``kinds`` (keys of
    :data:`COLUMN_OPTIONS`, in that order), ``helps`` overriding a kind's help text; return the
    group (a command may add options of its own to it)."""
    group = parser.add_argument_group("columns of user logs")
    for kind in kinds:
        option, default, help_text = COLUMN_OPTIONS[kind]
        group.add_argument(option, default=default, help=(helps or {}).get(kind, help_text))
    return group
