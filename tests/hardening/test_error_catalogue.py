"""The catalogue of bad input, as claims: every bad command line gives one line
``llmcopula <command>: error: <what>: <why>`` and exit status 2 (``_bad_inputs.CLAIMS``); every
corrupted argument of a public function raises a ``ValueError`` naming it
(``_api_cases.cases()``); the cases the hardening issue found by hand are pinned one by one.
``benchmarks/bench_bad_inputs.py`` counts the same claims for ``benchmarks/RESULTS.md``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _api_cases import NOT_MUTATED, cases, public_callables, run_case, templates
from _bad_inputs import CLAIMS, VALID_EDGES, make_files, run_claim, shown_warnings

from llmcopula.cli import main


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    return make_files(tmp_path_factory.mktemp("bad_inputs"))


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.name for c in CLAIMS])
def test_bad_command_line_gives_one_error_line(claim, paths):
    outcome = run_claim(claim, paths)
    assert outcome.kind == "clear", (outcome.kind, outcome.detail, outcome.stderr)


@pytest.mark.parametrize("claim", VALID_EDGES, ids=[c.name for c in VALID_EDGES])
def test_degenerate_but_valid_input_still_works(claim, paths):
    outcome = run_claim(claim, paths)
    assert outcome.kind == "clear", (outcome.detail, outcome.stderr)


def test_catalogue_covers_the_issue_and_more():
    names = {c.name for c in CLAIMS}
    assert len(CLAIMS) >= 76 and len(names) == len(CLAIMS)


_CASES = cases()


def test_every_public_callable_is_catalogued_or_excused():
    called = {t.name.split("[")[0] for t in templates()}
    covered = {name for name in public_callables()
               if name in called or any(c.startswith(name + ".") for c in called)}
    missing = sorted(set(public_callables()) - covered - set(NOT_MUTATED))
    assert not missing, f"add a template to _api_cases.py or a reason to NOT_MUTATED: {missing}"
    stale = sorted(set(NOT_MUTATED) & covered)
    assert not stale, f"catalogued now, drop from NOT_MUTATED: {stale}"
    assert set(NOT_MUTATED) <= set(public_callables())


@pytest.mark.parametrize("case", _CASES, ids=[c.id for c in _CASES])
def test_corrupted_argument_of_a_public_function_is_named(case):
    kind, detail = run_case(case)
    assert kind in ("clear", "accepted"), (kind, detail)


# ------------------------------------------------------------------- the boundary's contract
def test_debug_shows_the_traceback_of_an_input_error(capsys):
    assert main(["tune", "--n-lambdas", "0", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1] == "llmcopula tune: error: --n-lambdas: must be >= 1, got 0"


def test_a_bug_keeps_its_traceback(monkeypatch):
    from llmcopula.cascade import cli as tune_cli

    def broken(args):
        raise KeyError("internal")

    monkeypatch.setattr(tune_cli, "run", broken)
    with pytest.raises(KeyError, match="internal"):
        main(["tune"])


def test_warnings_print_as_one_line(capsys, monkeypatch):
    from llmcopula.cascade import cli as tune_cli

    def warns(args):
        warnings.warn("something to know\nacross lines", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(tune_cli, "run", warns)
    with shown_warnings():
        assert main(["tune"]) == 0
    assert capsys.readouterr().err == "llmcopula tune: warning: something to know across lines\n"


def test_output_is_checked_before_the_work(tmp_path, monkeypatch, capsys):
    from llmcopula.cascade import cli as tune_cli

    ran = []
    monkeypatch.setattr(tune_cli, "run", lambda args: ran.append(1) or 0)
    assert main(["tune", "--output", str(tmp_path / "missing" / "f.json")]) == 2
    assert ran == [] and "does not exist" in capsys.readouterr().err
    assert main(["tune", "--output", str(tmp_path / "f.json")]) == 0 and ran == [1]
    assert list(tmp_path.iterdir()) == []  # the write check leaves nothing behind


def test_reproduce_exits_1_when_a_task_fails(tmp_path, monkeypatch, capsys):
    from llmcopula.experiments import cli as reproduce_cli

    def one_failure(**kwargs):
        import pandas as pd

        failures = pd.DataFrame({"task_id": ["t1"], "error": ["ValueError: boom"]})
        return {"counts": {"total": 2, "skipped": 0, "run": 2, "failed": 1},
                "failures": failures}

    import importlib

    module = importlib.import_module("llmcopula.experiments.reproduce")
    monkeypatch.setattr(module, "reproduce", one_failure)
    status = reproduce_cli.run(reproduce_cli_args(tmp_path))
    assert status == 1
    err = capsys.readouterr().err
    assert "1 of 2 task(s) failed; first: t1: ValueError: boom" in err


def reproduce_cli_args(tmp_path):
    import argparse

    from llmcopula.experiments import cli as reproduce_cli

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    reproduce_cli.add_parser(sub)
    return parser.parse_args(["reproduce", "--output-dir", str(tmp_path), "--quiet"])


# --------------------------------------------------------------- the issue's cases, pinned
def test_maxwins_and_maxlogits_refuse_a_candidate_never_compared():
    from llmcopula.ranking import maxlogits_scores, maxwins_scores

    M = np.array([[0, 1, np.nan], [-1, 0, np.nan], [np.nan, np.nan, 0.0]])
    for score in (maxwins_scores, maxlogits_scores):
        with pytest.raises(ValueError, match=r"M: candidate\(s\) \[2\] were never compared"):
            score(M)


@pytest.mark.parametrize("name", ["MajorityVote", "WeightedMajorityVote", "DawidSkene",
                                  "MAPAggregator"])
def test_aggregators_say_when_a_row_has_no_usable_answer(name):
    from llmcopula import selection

    X = np.array([["A", "B"], ["A", "A"], ["B", "B"], ["A", "B"]] * 5)
    y = np.array(["A", "A", "B", "A"] * 5)
    agg = getattr(selection, name)().fit(X, y) if name != "DawidSkene" else \
        selection.DawidSkene().fit(X)
    with pytest.warns(selection.NoEvidenceWarning, match=r"1 row\(s\) have no answer among"):
        pred = agg.predict(np.array([["Z", "Z"], ["A", "A"]]))
    assert pred[1] == "A"
    with warnings.catch_warnings():
        warnings.simplefilter("error", selection.NoEvidenceWarning)
        agg.predict(np.array([["A", "Z"]]))  # one usable answer: an aggregate, no warning


@pytest.mark.parametrize("family", ["gumbel", "gaussian", "clayton", "frank", "student"])
def test_fit_on_identical_columns_warns_and_is_not_converged(family):
    from llmcopula.copulas import DegenerateFitWarning, fit_copula

    u = np.random.default_rng(0).uniform(size=200)
    with pytest.warns(DegenerateFitWarning, match="more dependent than the family"):
        fit = fit_copula(np.c_[u, u], family)
    assert fit.converged is False


def test_fit_of_ordinary_data_does_not_warn():
    from llmcopula.copulas import GumbelCopula, fit_copula

    u = GumbelCopula(2.0).sample(300, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for family in ("gumbel", "gaussian", "clayton", "frank"):
            assert fit_copula(u, family).converged
        # a family fitted to data of the other sign stops at independence: no warning
        assert fit_copula(np.c_[u[:, 0], 1 - u[:, 1]], "gumbel", rotation=0).params[0] == \
            pytest.approx(1.0, abs=1e-3)


def test_interval_pair_fit_at_the_bound_warns_and_ordinary_pairs_do_not():
    from llmcopula.copulas import (DegenerateFitWarning, GumbelCopula, UniformIntervals,
                                   fit_pair_copula)

    u = np.random.default_rng(0).uniform(0.05, 0.9, size=100)
    same = UniformIntervals(u, u + 0.01)
    with pytest.warns(DegenerateFitWarning, match=r"a, b: the gumbel fit stopped at the bound"):
        fit = fit_pair_copula(same, same, family="gumbel")
    assert fit.copula.params[0] == pytest.approx(50.0, rel=1e-3)
    v = GumbelCopula(2.0).sample(300, rng=0)
    a, b = (UniformIntervals(c * 0.99, c * 0.99 + 0.01) for c in v.T)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateFitWarning)
        assert fit_pair_copula(a, b, family="gumbel").copula.params[0] < 5
        assert fit_pair_copula(a, b, family="independence").copula.params == ()
