"""The Examples sections of the monitoring, serving and call-log modules run and print what they
claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["llmcopula.monitoring", "llmcopula.serve.signals", "llmcopula.serve.replay",
           "llmcopula.datasets.call_logs"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
