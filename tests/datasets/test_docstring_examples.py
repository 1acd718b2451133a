"""The Examples sections of the datasets modules run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["llmcopula.datasets.chain_log", "llmcopula.datasets.logs",
           "llmcopula.datasets.benchmarks"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
