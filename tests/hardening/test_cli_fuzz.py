"""Fuzzing the command line with corrupted copies of a bundled log and with bad option values,
in-process (``main([...])``).

* Changes that must not matter (row order, column order, a byte-order mark, rescaled chain
  positions, gzip, Parquet instead of CSV, extra columns) give the identical frontier.
* Every other corruption (a dropped, duplicated or blanked row, NaN, text or out-of-range values,
  a renamed model, a truncated or re-encoded file) gives exactly one line
  ``llmcopula tune: error: --train|--test <file>: ...`` and exit status 2: never a traceback,
  never a result with a dropped row or a NaN.

``benchmarks/bench_bad_inputs.py --examples N`` runs the same properties with more examples.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re

import pandas as pd
import pytest
from _bad_inputs import make_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcopula.cli import main

EXAMPLES = int(os.environ.get("LLMCOPULA_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    paths = make_files(folder)
    return {"folder": folder, "train": pd.read_csv(paths["train"], keep_default_na=False,
                                                     dtype={"answer": str, "model": str}),
            "test": paths["test"], "counter": [0]}


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _tune(train_path: str, output: str, test: str | None = None) -> tuple[int, str, str]:
    argv = ["tune", "--train", train_path, "--signal", "logprob", "--cascade", "0,2,4",
            "--method", "grid", "--output", output]
    return _run(argv + (["--test", test] if test else []))


def _new_path(files, suffix: str) -> str:
    files["counter"][0] += 1
    return str(files["folder"] / f"case{files['counter'][0]}{suffix}")


# ------------------------------------------------------------------ changes that must not matter
def _write(frame: pd.DataFrame, path: str, *, bom: bool = False) -> None:
    if path.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif path.endswith(".gz"):
        frame.to_csv(path, index=False, compression="gzip")
    else:
        text = frame.to_csv(index=False)
        with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            fh.write(text)


harmless = st.fixed_dictionaries({
    "shuffle_rows": st.integers(0, 2**16),
    "shuffle_columns": st.booleans(),
    "bom": st.booleans(),
    "position_scale": st.sampled_from([1.0, 10.0, 0.5]),
    "position_shift": st.sampled_from([0.0, 7.0, -3.0]),
    "extra_column": st.booleans(),
    "format": st.sampled_from([".csv", ".csv.gz", ".parquet"]),
})


@FUZZ
@given(change=harmless)
def test_harmless_changes_give_the_identical_frontier(files, change):
    frame = files["train"]
    reference_out = _new_path(files, ".json")
    reference = _new_path(files, ".csv")
    _write(frame, reference)
    assert _tune(reference, reference_out)[0] == 0
    changed = frame.sample(frac=1.0, random_state=change["shuffle_rows"])
    if change["shuffle_columns"]:
        changed = changed[list(reversed(changed.columns))]
    changed = changed.assign(position=changed["position"] * change["position_scale"]
                             + change["position_shift"])
    if change["extra_column"]:
        changed = changed.assign(notes="free text, ignored")
    path = _new_path(files, change["format"])
    _write(changed, path, bom=change["bom"] and change["format"] == ".csv")
    out = _new_path(files, ".json")
    status, _, err = _tune(path, out)
    assert status == 0, err
    assert json.loads(open(out).read()) == json.loads(open(reference_out).read())


# -------------------------------------------------------------------------------- corruptions
def _corrupt(frame: pd.DataFrame, kind: str, row: int, data) -> pd.DataFrame | bytes:
    out = frame.copy()
    if kind == "drop row":
        return out.drop(index=out.index[row])
    if kind == "duplicate row":
        return pd.concat([out, out.iloc[[row]]])
    if kind == "blank cell":
        column = data.draw(st.sampled_from(["query_id", "model", "raw_confidence", "correct",
                                            "cost_answer_usd", "position"]))
        out[column] = out[column].astype(object)
        out.iloc[row, out.columns.get_loc(column)] = ""
        return out
    if kind == "bad value":
        column, value = data.draw(st.sampled_from([
            ("raw_confidence", "nan"), ("raw_confidence", "high"), ("raw_confidence", 0.25),
            ("correct", 2), ("correct", -1), ("correct", "maybe"), ("correct", 0.5),
            ("cost_answer_usd", -1e-6), ("cost_answer_usd", "inf"), ("cost_answer_usd", "free"),
            ("position", "last"), ("position", 1.5),
        ]))
        out[column] = out[column].astype(object)
        out.iloc[row, out.columns.get_loc(column)] = value
        return out
    if kind == "rename model in some rows":
        out.iloc[row, out.columns.get_loc("model")] = "renamed"
        return out
    if kind == "truncate gzip":
        raw = out.to_csv(index=False).encode()
        import gzip

        packed = gzip.compress(raw)
        return packed[: data.draw(st.integers(10, len(packed) - 1))]
    if kind == "re-encode":
        text = out.to_csv(index=False)
        encoding = data.draw(st.sampled_from(["latin-1", "utf-16", "cp1252"]))
        return text.replace("llama3.2-1b", "llamä-1b").encode(encoding)
    raise AssertionError(kind)


CORRUPTIONS = ["drop row", "duplicate row", "blank cell", "bad value", "rename model in some rows",
               "truncate gzip", "re-encode"]


@FUZZ
@given(kind=st.sampled_from(CORRUPTIONS), row=st.integers(0, 399), data=st.data())
def test_every_corruption_gives_one_error_line_naming_the_file(files, kind, row, data):
    bad = _corrupt(files["train"], kind, row, data)
    suffix = ".csv.gz" if kind == "truncate gzip" else ".csv"
    path = _new_path(files, suffix)
    if isinstance(bad, bytes):
        with open(path, "wb") as fh:
            fh.write(bad)
    else:
        bad.to_csv(path, index=False)
    status, _, err = _tune(path, _new_path(files, ".json"))
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"llmcopula tune: error: --train {path}: "), lines[0]


@FUZZ
@given(change=st.sampled_from(["drop model", "rename model", "trailing space", "add model"]),
       which=st.integers(0, 4))
def test_a_test_log_with_other_models_is_named(files, change, which):
    test = pd.read_csv(files["test"], keep_default_na=False, dtype={"answer": str, "model": str})
    model = sorted(test["model"].unique())[which]
    if change == "drop model":
        test = test[test["model"] != model]
    elif change == "rename model":
        test = test.assign(model=test["model"].replace(model, model.upper() + "-x"))
    elif change == "trailing space":
        test = test.assign(model=test["model"].replace(model, model + " "))
    else:
        test = pd.concat([test, test[test["model"] == model].assign(model="extra", position=9)])
    path = _new_path(files, ".csv")
    test.to_csv(path, index=False)
    train = _new_path(files, ".csv")
    files["train"].to_csv(train, index=False)
    status, _, err = _tune(train, _new_path(files, ".json"), test=path)
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, err
    assert re.match(rf"llmcopula tune: error: --test {re.escape(path)}: models differ: ", lines[0])
    assert repr(model) in lines[0] or "'extra'" in lines[0]


# ----------------------------------------------------------------------------- option values
bad_options = st.one_of(
    st.tuples(st.just("--n-lambdas"), st.integers(-1000, 0).map(str)),
    st.tuples(st.just("--lambda"), st.lists(st.sampled_from(["nan", "inf", "-inf", "-1", "-0.5"]),
                                            min_size=1, max_size=3).map(",".join)),
    st.tuples(st.just("--budget"), st.sampled_from(["0", "-5", "nan", "inf", "-inf"])),
    st.tuples(st.just("--seed"), st.integers(-10**6, -1).map(str)),
    st.tuples(st.just("--family"), st.text("abcxyz", min_size=1, max_size=6)),
    st.tuples(st.just("--benchmark"), st.text("abcxyz", min_size=1, max_size=6)),
    st.tuples(st.just("--chain"), st.text("abcxyz", min_size=1, max_size=6)),
    st.tuples(st.just("--method"), st.text("abcxyz", min_size=1, max_size=6)),
    st.tuples(st.just("--cascade"), st.lists(st.integers(5, 40), min_size=1, max_size=3)
              .map(lambda v: ",".join(map(str, v)))),
)


@FUZZ
@given(option=bad_options)
def test_bad_option_values_name_the_option(option):
    flag, value = option
    status, _, err = _run(["tune", "--n-lambdas", "2", f"{flag}={value}"])
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"llmcopula tune: error: {flag}"), lines[0]


@FUZZ
@given(cascade=st.lists(st.integers(-2, 6), min_size=0, max_size=5))
def test_cascades_are_run_when_valid_and_named_when_not(files, cascade):
    text = ",".join(map(str, cascade))
    path = _new_path(files, ".csv")
    files["train"].to_csv(path, index=False)
    status, _, err = _run(["tune", "--train", path, "--signal", "logprob", "--method", "grid",
                           f"--cascade={text}"])
    valid = (len(cascade) >= 1 and all(0 <= i <= 4 for i in cascade)
             and all(b > a for a, b in zip(cascade[:-1], cascade[1:])))
    if valid:
        assert status == 0, err
    else:
        lines = err.strip().splitlines()
        assert status == 2 and len(lines) == 1 and lines[0].startswith(
            "llmcopula tune: error: --cascade"), err
