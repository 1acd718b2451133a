"""Test-suite hygiene: pytest imports test modules by basename (no packages under tests/), so
two test files with the same name in different folders break collection."""

from collections import Counter
from pathlib import Path


def test_test_module_basenames_are_unique():
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []
