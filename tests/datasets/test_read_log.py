"""read_log: round trips through CSV / Parquet / DataFrame, chain order, and validation errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.datasets import ChainLog, load_benchmark, load_pool, read_log


@pytest.fixture()
def table() -> pd.DataFrame:
    """A small valid long table: 3 queries x 2 models, rows shuffled, models in position order
    'cheap' (0) then 'strong' (1)."""
    return pd.DataFrame({
        "query_id": [2, 1, 1, 3, 2, 3],
        "model": ["strong", "cheap", "strong", "cheap", "cheap", "strong"],
        "position": [1, 0, 1, 0, 0, 1],
        "raw_confidence": [-0.1, -0.7, -0.05, -np.inf, -1.2, -0.3],
        "correct": [1, 0, 1, 0, 1, 1],
        "cost_answer_usd": [1e-4, 1e-6, 1e-4, 1e-6, 1e-6, 1e-4],
        "answer": ["B", "None", "C", "", "A", "D"],
    })


def _expected_small() -> ChainLog:
    return ChainLog.from_arrays(
        ("cheap", "strong"), confidence=[[-0.7, -0.05], [-1.2, -0.1], [-np.inf, -0.3]],
        correct=[[0, 1], [1, 1], [0, 1]], cost=[[1e-6, 1e-4]] * 3,
        answer=[["None", "C"], ["A", "B"], [None, "D"]], query_ids=[1, 2, 3])


def test_a_small_table_is_pivoted_by_sorted_query_and_position(table) -> None:
    """Rows are grouped by sorted query id, columns by position; answers "None" stay strings."""
    assert read_log(table) == _expected_small()


@pytest.mark.parametrize(("benchmark", "chain", "split"), [
    ("mmlu", "llama", "test"), ("gsm8k", "qwen_oai", "train"), ("triviaqa", "qwen_oai", "test")])
@pytest.mark.parametrize("fmt", ["frame", "csv", "csv.gz", "parquet"])
def test_shipped_logs_round_trip_through_every_format(benchmark, chain, split, fmt,
                                                      tmp_path: Path) -> None:
    """load_benchmark(...).to_frame() written as CSV/CSV.gz/Parquet and read back is equal."""
    log = load_benchmark(benchmark, chain, split)
    frame = log.to_frame()
    if fmt == "frame":
        source: object = frame
    elif fmt == "parquet":
        source = tmp_path / "log.parquet"
        frame.to_parquet(source)
    else:
        source = tmp_path / f"log.{fmt}"
        frame.to_csv(source, index=False)
    back = read_log(source, signal=log.signal, benchmark=benchmark, split=split)
    assert back == log


def test_the_pool_round_trips_with_its_references(tmp_path: Path) -> None:
    """A 9-model pool with references survives to_frame -> CSV -> read_log."""
    pool = load_pool("gsm8k", "train")
    path = tmp_path / "pool.csv"
    pool.to_frame().to_csv(path, index=False)
    back = read_log(path, signal="p_true", benchmark="gsm8k", split="train")
    assert back == pool
    assert back.reference[:5].tolist() == pool.reference[:5].tolist()


def test_custom_column_names_are_honoured(table) -> None:
    """Every column can be renamed through the *_col arguments."""
    renamed = table.rename(columns={"query_id": "qid", "model": "llm", "position": "rank",
                                    "raw_confidence": "score", "correct": "ok",
                                    "cost_answer_usd": "usd", "answer": "output"})
    log = read_log(renamed, query_col="qid", model_col="llm", confidence_col="score",
                   correct_col="ok", cost_col="usd", answer_col="output", position_col="rank")
    assert log == _expected_small()


def test_models_argument_sets_the_order_and_selects_a_subchain(table) -> None:
    """models= overrides the positions, and leaves out rows of models not listed."""
    reversed_log = read_log(table, models=["strong", "cheap"])
    assert reversed_log == _expected_small().subset(["strong", "cheap"])
    assert read_log(table.drop(columns="position"), models=["strong"]) == \
        _expected_small().subset(["strong"])


def test_order_from_positions_equals_order_from_models(table) -> None:
    """The position column and an explicit models list give the same log."""
    assert read_log(table) == read_log(table.drop(columns="position"), models=["cheap", "strong"])


def test_positions_need_only_be_distinct_not_contiguous(table) -> None:
    """Positions 10 and 20 order the chain like 0 and 1."""
    assert read_log(table.assign(position=table["position"] * 10 + 10)) == _expected_small()


def test_optional_columns_may_be_absent(table) -> None:
    """Without an answer column the log has answer None; extra columns are ignored."""
    log = read_log(table.drop(columns="answer").assign(latency_s=1.0))
    assert log.answer is None
    assert log == _expected_small().replace(answer=None)
    assert read_log(table, answer_col=None).answer is None


def test_boolean_and_float_correctness_is_accepted(table) -> None:
    """correct given as bool or 0.0/1.0 reads like 0/1."""
    expected = read_log(table)
    assert read_log(table.assign(correct=table["correct"].astype(bool))) == expected
    assert read_log(table.assign(correct=table["correct"].astype(float))) == expected


def test_csv_keeps_text_columns_as_written(tmp_path: Path, table) -> None:
    """In CSV, numeric-looking answers and model names keep their spelling; "NA" stays a string."""
    path = tmp_path / "log.csv"
    table.assign(model=table["model"].map({"cheap": "007", "strong": "1e3"}),
                 answer=["NA", "0012", "3.50", "", "nan", "x"]).to_csv(path, index=False)
    log = read_log(str(path))
    assert log.models == ("007", "1e3")
    assert log.answer.tolist() == [["0012", "3.50"], ["nan", "NA"], [None, "x"]]


def test_empty_csv_fields_in_required_columns_are_reported(tmp_path: Path, table) -> None:
    """An empty confidence field in a CSV is an error naming its row, not a silent NaN."""
    path = tmp_path / "log.pq"
    table.to_parquet(path)
    assert read_log(path) == _expected_small()
    path = tmp_path / "log.csv"
    table.astype({"raw_confidence": object}).assign(
        raw_confidence=["-0.1", "-0.7", "", "-inf", "-1.2", "-0.3"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"raw_confidence: 1 value\(s\) are NaN or not numbers: "
                                         r"row 2 \(query_id=1, model='strong'\): ''"):
        read_log(path)


def test_inconsistent_references_within_a_query_are_rejected(table) -> None:
    """A reference column must hold one value per query."""
    ok = table.assign(reference=table["query_id"].map({1: "C", 2: "B", 3: "D"}))
    assert read_log(ok).reference.tolist() == ["C", "B", "D"]
    bad = ok.copy()
    bad.loc[0, "reference"] = "A"  # query 2, model strong
    with pytest.raises(ValueError, match=r"reference: the reference must be the same on all "
                                         r"rows of a query; 1 quer\(y/ies\) differ: \[2\]"):
        read_log(bad)


# -- validation errors -------------------------------------------------------------------------

def _broken(table: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    out = table.astype({column: object}) if not isinstance(value, (int, float)) else table.copy()
    out.loc[row, column] = value
    return out


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.drop(columns=["correct", "cost_answer_usd"]),
     r"source: missing required column\(s\) \['correct', 'cost_answer_usd'\]; available columns: "
     r"\['query_id', 'model', 'position', 'raw_confidence', 'answer'\]"),
    (lambda t: t.iloc[:0], r"source: the table has no rows"),
    (lambda t: t.drop(index=[1, 4]),
     r"source: every query needs a row for every model; 2 quer\(y/ies\) lack some: "
     r"query_id=1 lacks \['cheap'\]; query_id=2 lacks \['cheap'\]"),
    (lambda t: pd.concat([t, t.iloc[[0]]], ignore_index=True),
     r"source: 1 duplicate \(query, model\) pair\(s\), each must appear once: "
     r"query_id=2, model='strong' at rows \[0, 6\]"),
    (lambda t: _broken(t, 3, "correct", 2),
     r"correct: 1 value\(s\) are not 0/1 \(accepted: bool, 0, 1, 0.0, 1.0\): "
     r"row 3 \(query_id=3, model='cheap'\): 2"),
    (lambda t: _broken(t, 5, "correct", "yes"),
     r"correct: 1 value\(s\) .*row 5 \(query_id=3, model='strong'\): 'yes'"),
    (lambda t: _broken(t, 2, "cost_answer_usd", -1e-6),
     r"cost_answer_usd: 1 value\(s\) are negative, NaN or infinite: "
     r"row 2 \(query_id=1, model='strong'\): -1e-06"),
    (lambda t: _broken(t, 4, "cost_answer_usd", np.nan),
     r"cost_answer_usd: 1 value\(s\) .*row 4 \(query_id=2, model='cheap'\): nan"),
    (lambda t: _broken(t, 0, "raw_confidence", np.nan),
     r"raw_confidence: 1 value\(s\) are NaN or not numbers: row 0 \(query_id=2, "
     r"model='strong'\): nan"),
    (lambda t: _broken(t, 1, "raw_confidence", "high"),
     r"raw_confidence: 1 value\(s\) .*row 1 \(query_id=1, model='cheap'\): 'high'"),
    (lambda t: _broken(t, 1, "query_id", np.nan),
     r"query_id: 1 row\(s\) have no value, rows \[1\]"),
    (lambda t: _broken(t, 1, "model", None), r"model: 1 row\(s\) have no value, rows \[1\]"),
    (lambda t: _broken(t, 4, "query_id", ""), r"query_id: 1 row\(s\) have no value, rows \[4\]"),
    (lambda t: t.drop(columns="position"),
     r"models: cannot tell the chain order; pass models=\[\.\.\.\] .* or give the table a "
     r"'position' column"),
    (lambda t: _broken(t, 0, "position", 0),
     r"position: each model must have a single position; 1 model\(s\) have several: "
     r"'strong': \[0.0, 1.0\]"),
    (lambda t: t.assign(position=0),
     r"position: models share a position, so the order is ambiguous"),
    (lambda t: _broken(t, 2, "position", "first"),
     r"position: 1 row\(s\) are not finite numbers, rows \[2\]"),
])
def test_invalid_tables_raise_naming_the_rows(table, edit, message) -> None:
    """Each defect raises a ValueError that names the offending rows or queries."""
    with pytest.raises(ValueError, match=message):
        read_log(edit(table))


def test_many_incomplete_queries_are_counted_and_the_first_five_shown() -> None:
    """The incompleteness message names the first five queries and the total."""
    frame = ChainLog.from_arrays(("a", "b"), np.zeros((10, 2)), np.ones((10, 2)),
                                 np.ones((10, 2))).to_frame()
    incomplete = frame[(frame["model"] == "a") | (frame["query_id"] >= 8)]
    with pytest.raises(ValueError, match=r"8 quer\(y/ies\) lack some: query_id=0 lacks \['b'\];"
                                         r".*query_id=4 lacks \['b'\] \(first 5 of 8 shown\)"):
        read_log(incomplete)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"models": ["cheap", "gpt"]},
     r"models: \['gpt'\] not found in the model column; models in the table: "),
    ({"models": ["cheap", "cheap"]}, r"models: names must be distinct, repeated: \['cheap'\]"),
    ({"models": []}, r"models: at least one model is required"),
    ({"models": "cheap"}, r"models: expected a sequence of model names"),
    ({"answer_col": "output"}, r"answer_col: column 'output' not found; available columns"),
    ({"reference_col": "gold"}, r"reference_col: column 'gold' not found"),
    ({"signal": "probability"}, r"signal: expected None or one of"),
    ({"split": 1}, r"split: expected a string or None, got int"),
])
def test_bad_arguments_are_rejected(table, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        read_log(table, **kwargs)


@pytest.mark.parametrize(("source", "message"), [
    ("log.json", r"source: unsupported file type 'log.json'"),
    (42, r"source: expected a path to a CSV/Parquet file or a pandas DataFrame, got int"),
])
def test_unsupported_sources_are_rejected(source, message) -> None:
    with pytest.raises(ValueError, match=message):
        read_log(source)


def test_read_log_does_not_modify_the_callers_frame(table) -> None:
    before = table.copy()
    read_log(table, models=["strong"])
    pd.testing.assert_frame_equal(table, before)


# -- property tests ----------------------------------------------------------------------------

_names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                 min_size=1, max_size=6)
_conf = st.one_of(st.floats(allow_nan=False, width=64), st.just(-np.inf))
_cost = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
_answer = st.one_of(st.none(), _names)


@st.composite
def _logs(draw: st.DrawFn) -> ChainLog:
    models = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
    n = draw(st.integers(1, 6))
    k = len(models)
    ids = draw(st.one_of(
        st.lists(st.integers(-10**6, 10**6), min_size=n, max_size=n, unique=True),
        st.lists(_names, min_size=n, max_size=n, unique=True)))
    cells = n * k
    conf = draw(st.lists(_conf, min_size=cells, max_size=cells))
    correct = draw(st.lists(st.integers(0, 1), min_size=cells, max_size=cells))
    cost = draw(st.lists(_cost, min_size=cells, max_size=cells))
    answer = draw(st.one_of(st.none(), st.lists(_answer, min_size=cells, max_size=cells)))
    return ChainLog.from_arrays(
        models, np.reshape(conf, (n, k)), np.reshape(correct, (n, k)), np.reshape(cost, (n, k)),
        None if answer is None else np.array(answer, dtype=object).reshape(n, k),
        np.array(sorted(ids), dtype=object if isinstance(ids[0], str) else np.int64))


@settings(max_examples=30)
@given(log=_logs(), seed=st.integers(0, 2**32 - 1))
def test_random_logs_round_trip_through_a_shuffled_long_table(log: ChainLog, seed: int) -> None:
    """to_frame -> shuffle rows -> read_log gives the same log, by positions or by names."""
    frame = log.to_frame()
    shuffled = frame.sample(frac=1.0, random_state=np.random.RandomState(seed % 2**32))
    assert read_log(shuffled) == log
    assert read_log(shuffled.drop(columns="position"), models=list(log.models)) == log
    assert read_log(shuffled.reset_index(drop=True)) == read_log(frame)


@settings(max_examples=15)
@given(log=_logs())
def test_random_logs_round_trip_through_csv_and_parquet(log: ChainLog, tmp_path_factory) -> None:
    """Writing the long table to CSV or Parquet and reading it back changes nothing."""
    folder = tmp_path_factory.mktemp("roundtrip")
    frame = log.to_frame()
    frame.to_parquet(folder / "log.parquet")
    assert read_log(folder / "log.parquet") == log
    if log.query_ids.dtype != object:  # string ids that look like numbers would be parsed in CSV
        frame.to_csv(folder / "log.csv.gz", index=False)
        assert read_log(folder / "log.csv.gz") == log


def test_confidence_and_cost_columns_can_be_left_out_by_readers_that_do_not_need_them(
        table, tmp_path: Path) -> None:
    """confidence_col=None / cost_col=None: the columns are neither required nor read, the log
    marks them as not recorded (NaN), and everything else is read exactly as with them."""
    full = read_log(table)
    bare = table.drop(columns=["raw_confidence", "cost_answer_usd"])
    path = tmp_path / "bare.csv"
    bare.to_csv(path, index=False)
    for source in (bare, path):
        log = read_log(source, confidence_col=None, cost_col=None)
        assert np.isnan(log.confidence).all() and np.isnan(log.cost).all()
        assert log.models == full.models and np.array_equal(log.correct, full.correct)
        assert log.answer.tolist() == full.answer.tolist()
        assert log.query_ids.tolist() == full.query_ids.tolist()
    # one of the two only
    log = read_log(table.drop(columns="raw_confidence"), confidence_col=None)
    assert np.isnan(log.confidence).all() and np.array_equal(log.cost, full.cost)
    log = read_log(table.drop(columns="cost_answer_usd"), cost_col=None)
    assert np.array_equal(log.confidence, full.confidence) and np.isnan(log.cost).all()
    # A present column is ignored when its reader says None, so bad values there do not matter.
    log = read_log(table.assign(raw_confidence=np.nan), confidence_col=None)
    assert np.array_equal(log.correct, full.correct)
    # The other checks still run.
    with pytest.raises(ValueError, match=r"correct: 1 value\(s\) are not 0/1"):
        read_log(bare.assign(correct=[1, 0, 1, 0, 2, 1]), confidence_col=None, cost_col=None)


def test_callers_that_name_the_confidence_and_cost_columns_keep_the_old_errors(table) -> None:
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['raw_confidence'\]"):
        read_log(table.drop(columns="raw_confidence"))
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['cost_answer_usd'\]"):
        read_log(table.drop(columns="cost_answer_usd"), confidence_col="raw_confidence")
    with pytest.raises(ValueError, match=r"cost_answer_usd: 1 value\(s\) are negative"):
        read_log(table.assign(cost_answer_usd=[1e-4, -1.0, 1e-4, 1e-6, 1e-6, 1e-4]))
