"""The README's deployment walk-through: its policy snippet runs and writes the policy the serving
tests use, and its upstreams example is a valid upstreams file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from serve_helpers import build_test_policy

from llmcopula.policy import CascadePolicy
from llmcopula.serve.upstreams import parse_upstreams

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_policy_snippet_writes_the_tests_policy(tmp_path, monkeypatch):
    code = re.search(r"<!-- deploy-policy -->\n```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    policy = CascadePolicy.load(tmp_path / "policy.json")
    expected = build_test_policy("mmlu", "llama", ("llama3.2-1b", "llama3.1-8b", "llama3.1-405b"),
                                 target_accuracy=0.8)
    assert policy.rules == expected.rules
    assert policy.monitoring == CascadePolicy.from_json(expected.to_json()).monitoring


def test_the_readme_upstreams_example_is_a_valid_upstreams_file():
    text = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    upstreams = parse_upstreams(tomllib.loads(text))
    assert upstreams["llama3.2-1b"].cost_usd(1000, 10) == (1000 * 0.1 + 10 * 0.1) / 1e6
