"""`llmcopula tune --write-policy`: selectors, the guarantee mode, bad knobs, and parsers that do
not accept abbreviations."""

from __future__ import annotations

import argparse

import pytest

from llmcopula.cli import build_parser, main
from llmcopula.policy import CascadePolicy

BASE = ["tune", "--benchmark", "mmlu", "--chain", "llama", "--cascade", "0,2,4",
        "--method", "empirical-copula", "--n-lambdas", "6", "--n-resamples", "20"]


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


def test_write_policy_by_target_accuracy_writes_a_loadable_self_describing_file(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert main(BASE + ["--target-accuracy", "0.75", "--write-policy", str(path)]) == 0
    out = capsys.readouterr().out
    assert "chosen by target accuracy 0.75: point" in out and "on the test split" in out
    policy = CascadePolicy.load(path)
    assert policy.cascade_models == ("llama3.2-1b", "llama3.1-8b", "llama3.1-405b")
    assert policy.predicted["accuracy"]["estimate"] >= 0.75
    assert len(policy.predicted["accuracy"]["interval"]) == 2
    assert policy.selection["by"] == "target_accuracy" and policy.method == "empirical-copula"
    assert policy.monitoring["n_queries"] == 285 and policy.training["n_queries"] == 285


def test_write_policy_by_budget_stays_within_it_and_by_share_caps_the_last_stage(tmp_path):
    path = tmp_path / "b.json"
    assert main(BASE + ["--budget", "120", "--write-policy", str(path)]) == 0
    assert CascadePolicy.load(path).predicted["cost"]["estimate"] <= 120 * (1 + 1e-6)
    assert main(BASE + ["--max-share", "0.2", "--write-policy", str(path)]) == 0
    usage = CascadePolicy.load(path).predicted["stage_usage"]
    assert usage[-1]["estimate"] <= 0.2 + 1e-9


def test_mix_writes_a_randomised_policy_that_meets_the_target_exactly(tmp_path):
    path = tmp_path / "m.json"
    assert main(BASE + ["--target-accuracy", "0.75", "--mix", "--write-policy", str(path)]) == 0
    policy = CascadePolicy.load(path)
    assert policy.is_randomized and "randomized" in policy.selection
    assert policy.predicted["accuracy"]["estimate"] == pytest.approx(0.75)


def test_guarantee_mode_certifies_on_held_out_training_queries(tmp_path, capsys):
    path = tmp_path / "g.json"
    assert main(BASE + ["--target-accuracy", "0.7", "--confidence-level", "0.9",
                        "--write-policy", str(path)]) == 0
    assert "certified: accuracy >= 0.7 with probability >= 0.9" in capsys.readouterr().out
    sel = CascadePolicy.load(path).selection
    assert sel["confidence_level"] == 0.9 and sel["holdout_lower_bound"] >= 0.7
    assert sel["n_tuning"] + sel["n_holdout"] == 285


@pytest.mark.parametrize("extra, expected", [
    (["--write-policy", "x.json"], "--write-policy: choose the point with exactly one of"),
    (["--write-policy", "x.json", "--target-accuracy", "0.8", "--max-share", "0.5"],
     "exactly one selector, got --target-accuracy and --max-share"),
    (["--write-policy", "x.json", "--target-accuracy", "0.999"],
     "--target-accuracy: 0.999 is above every accuracy the frontier reaches"),
    (["--write-policy", "x.json", "--budget", "5"],
     "--budget: 5 USD per million queries is below the cost of the first model llama3.2-1b"),
    (["--target-accuracy", "0.8", "--confidence-level", "1.5"],
     "--confidence-level: must lie in (0, 1), got 1.5"),
    (["--target-accuracy", "0.8", "--confidence-level", "0"], "--confidence-level: must lie in"),
    (["--confidence-level", "0.9"], "--confidence-level: a guarantee is for a target accuracy"),
    (["--target-accuracy", "0.99", "--confidence-level", "0.9"],
     "--target-accuracy: no frontier point is certified"),
    (["--max-share", "-0.1", "--write-policy", "x.json"], "--max-share: must lie in [0, 1]"),
])
def test_bad_knobs_are_one_line_errors_naming_the_option(tmp_path, capsys, monkeypatch, extra,
                                                         expected):
    monkeypatch.chdir(tmp_path)
    err = _error(capsys, BASE + extra)
    assert err.startswith("llmcopula tune: error: ") and expected in err, err


def test_every_parser_rejects_abbreviated_options(capsys):
    parser = build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)][0]
    assert parser.allow_abbrev is False
    assert all(p.allow_abbrev is False for p in subs.choices.values())
    # was silently read as --confidence-col
    assert main(["tune", "--confidence", "0.9"]) == 2
    assert "--confidence 0.9: unrecognized argument" in capsys.readouterr().err
