"""The docstring examples of the package run in the test suite (``--doctest-modules llmcopula``
in the README's test command), and the modules that document themselves by example keep doing
so."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

#: Modules whose Examples sections are part of their documentation (a test used to run each of
#: them by hand); each must keep at least one example.
DOCUMENTED_BY_EXAMPLE = [
    "llmcopula.datasets.chain_log", "llmcopula.datasets.logs", "llmcopula.datasets.benchmarks",
    "llmcopula.copulas.empirical_beta", "llmcopula.copulas.registry",
    "llmcopula.cascade.empirical_marginal", "llmcopula.cascade.empirical_model",
    "llmcopula.cascade.routing", "llmcopula.cascade.methods",
    "llmcopula.cascade.baselines.grid", "llmcopula.cascade.baselines.oracle",
    "llmcopula.cascade.baselines.bayesopt", "llmcopula.calibration",
    "llmcopula.calibration.platt", "llmcopula._deprecation",
    "llmcopula.monitoring", "llmcopula.serve.signals", "llmcopula.serve.replay",
    "llmcopula.datasets.call_logs",
]


def _test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- test-command -->\s*```bash\n(.*?)```", readme, re.S)
    assert block, "README.md: no test command between the <!-- test-command --> markers"
    return block.group(1)


def test_the_readme_test_command_runs_the_package_doctests():
    command = _test_command().split()
    assert "--doctest-modules" in command and "llmcopula" in command


def test_doctest_collection_ignores_only_optional_and_deprecated_modules():
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)

    for path in list(root_conftest.OPTIONAL_DEPENDENCIES) + list(root_conftest.DEPRECATED_ALIASES):
        assert (ROOT / path).is_file(), path
    allowed = set(root_conftest.OPTIONAL_DEPENDENCIES) | set(root_conftest.DEPRECATED_ALIASES)
    assert set(root_conftest.collect_ignore) <= allowed


@pytest.mark.parametrize("name", DOCUMENTED_BY_EXAMPLE)
def test_module_keeps_its_examples(name):
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module)
    assert sum(len(t.examples) for t in tests) > 0
