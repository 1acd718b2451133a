"""Private alias of :mod:`llmcopula.copulas.registry`, kept for imports written before the
registry was public."""

from .registry import FAMILY_NAMES, get_family

__all__ = ["FAMILY_NAMES", "get_family"]
