"""The bundled benchmark logs load completely and reproduce the figures of the data README."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from llmcopula.datasets import (
    ChainLog,
    list_benchmarks,
    load_benchmark,
    load_labels,
    load_pool,
)

DATA = resources.files("llmcopula.datasets").joinpath("data", "cascades")
MANIFEST = json.loads(DATA.joinpath("MANIFEST.json").read_text(encoding="utf-8"))
CHAIN_FILES = [e for e in MANIFEST["files"] if e["kind"] == "chain_results"]
LABEL_FILES = [e for e in MANIFEST["files"] if e["kind"] == "labels"]


def _id(entry: dict) -> str:
    return entry["file"].removesuffix(".csv.gz")


# The sanity table of data/cascades/README.md, transcribed: model -> (accuracy, mean cost_usd in
# $ per 1M queries, mean cost_answer_usd where the README prints a different one in brackets).
README_TEST = {
    "mmlu": {
        "llama3.2-1b": (0.425, 19.1, None), "llama3.2-3b": (0.572, 19.1, None),
        "llama3.1-8b": (0.634, 38.5, None), "llama3.1-70b": (0.815, 172.3, None),
        "llama3.1-405b": (0.852, 574.3, None), "gpt-4o-mini": (0.749, 28.5, None),
        "qwen2.5-32b-coder-instruct": (0.753, 174.0, None),
        "qwen2.5-72b-instruct": (0.820, 174.0, None), "gpt-4o": (0.836, 474.8, None),
    },
    "medmcqa": {
        "llama3.2-1b": (0.345, 16.9, None), "llama3.2-3b": (0.531, 16.9, None),
        "llama3.1-8b": (0.518, 33.9, None), "llama3.1-70b": (0.726, 151.8, None),
        "llama3.1-405b": (0.757, 506.2, None), "gpt-4o-mini": (0.660, 24.8, None),
        "qwen2.5-32b-coder-instruct": (0.559, 151.6, None),
        "qwen2.5-72b-instruct": (0.691, 151.6, None), "gpt-4o": (0.765, 413.9, None),
    },
    "triviaqa": {
        "llama3.2-1b": (0.372, 28.6, 8.5), "llama3.2-3b": (0.633, 28.5, 8.5),
        "llama3.1-8b": (0.787, 57.4, 17.1), "llama3.1-70b": (0.928, 256.6, 76.2),
        "llama3.1-405b": (0.949, 881.2, 267.2), "gpt-4o-mini": (0.900, 43.2, 13.3),
        "qwen2.5-32b-coder-instruct": (0.702, 255.1, 76.0),
        "qwen2.5-72b-instruct": (0.876, 255.3, 76.1), "gpt-4o": (0.962, 719.9, 222.3),
    },
}
README_GSM8K_TRAIN = {
    "llama3.2-1b": (0.590, 75.4, 34.9), "llama3.2-3b": (0.897, 75.8, 35.1),
    "llama3.1-8b": (0.893, 157.5, 73.1), "llama3.1-70b": (0.977, 718.6, 333.6),
    "llama3.1-405b": (0.973, 2470.5, 1149.8), "gpt-4o-mini": (0.903, 253.7, 181.8),
    "qwen2.5-32b-coder-instruct": (0.957, 766.0, 357.4),
    "qwen2.5-72b-instruct": (0.950, 650.4, 299.3), "gpt-4o": (0.950, 4204.8, 3011.5),
}
SANITY = [(b, "test", table) for b, table in README_TEST.items()] + [
    ("gsm8k", "train", README_GSM8K_TRAIN)]


def _agrees_to_printed_precision(value: float, printed: float, decimals: int) -> bool:
    # A printed figure with d decimals means the true value lies within half a unit of the last
    # digit (1e-12 of slack for binary floating point).
    return abs(value - printed) <= 0.5 * 10.0**-decimals + 1e-12


@pytest.mark.parametrize("entry", CHAIN_FILES, ids=_id)
def test_every_shipped_chain_file_loads_with_the_manifest_shape(entry: dict) -> None:
    """Each chain-results file loads as a ChainLog with the MANIFEST's queries, models and rows."""
    log = load_benchmark(entry["benchmark"], entry["chain"], entry["split"])
    assert isinstance(log, ChainLog)
    assert log.models == tuple(entry["models"]) == tuple(MANIFEST["chains"][entry["chain"]])
    assert log.n_queries == entry["queries"]
    assert log.n_queries * log.n_models == entry["rows"]
    assert (log.benchmark, log.split) == (entry["benchmark"], entry["split"])
    assert log.signal == ("logprob" if entry["benchmark"] in ("mmlu", "medmcqa") else "p_true")
    np.testing.assert_array_equal(log.query_ids, np.arange(entry["queries"]))
    assert not np.isnan(log.confidence).any()
    assert (log.confidence <= 0).all(), "raw confidences are natural-log probabilities"


@pytest.mark.parametrize("entry", CHAIN_FILES + LABEL_FILES, ids=_id)
def test_shipped_files_match_their_manifest_checksum(entry: dict) -> None:
    """The bundled bytes are the ones the MANIFEST describes (sha256 and size)."""
    raw = DATA.joinpath(entry["file"]).read_bytes()
    assert len(raw) == entry["bytes"]
    assert hashlib.sha256(raw).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("entry", CHAIN_FILES, ids=_id)
def test_chain_log_equals_an_independent_parse_of_the_raw_file(entry: dict) -> None:
    """ChainLog arrays equal a direct pivot of the gzip CSV (row order query, then position)."""
    with gzip.open(io.BytesIO(DATA.joinpath(entry["file"]).read_bytes()), "rt") as fh:
        raw = pd.read_csv(fh, keep_default_na=False, dtype={"answer": str})
    raw = raw.sort_values(["query_id", "position"])
    log = load_benchmark(entry["benchmark"], entry["chain"], entry["split"])
    k = log.n_models
    np.testing.assert_array_equal(log.confidence.ravel(), raw["raw_confidence"].to_numpy())
    np.testing.assert_array_equal(log.correct.ravel(), raw["correct"].to_numpy())
    np.testing.assert_array_equal(log.cost.ravel(), raw["cost_answer_usd"].to_numpy())
    total = load_benchmark(entry["benchmark"], entry["chain"], entry["split"], cost="total")
    np.testing.assert_array_equal(total.cost.ravel(), raw["cost_usd"].to_numpy())
    expected_answers = [a if a != "" else None for a in raw["answer"]]
    assert log.answer.ravel().tolist() == expected_answers
    np.testing.assert_array_equal(log.query_ids, raw["query_id"].to_numpy()[::k])


@pytest.mark.parametrize(("benchmark", "split", "table"), SANITY, ids=[s[0] for s in SANITY])
def test_per_model_accuracy_and_cost_reproduce_the_readme_table(benchmark, split, table) -> None:
    """Accuracy (3 decimals) and mean cost in $/1M queries (1 decimal) match the README."""
    for chain in MANIFEST["chains"]:
        total = load_benchmark(benchmark, chain, split, cost="total")
        answer_only = load_benchmark(benchmark, chain, split)
        for k, model in enumerate(total.models):
            acc, cost_total, cost_answer = table[model]
            assert _agrees_to_printed_precision(total.accuracy[k], acc, 3), (model, acc)
            assert _agrees_to_printed_precision(total.mean_cost[k] * 1e6, cost_total, 1), model
            expected_answer = cost_total if cost_answer is None else cost_answer
            assert _agrees_to_printed_precision(answer_only.mean_cost[k] * 1e6, expected_answer, 1)


def test_gpt4o_mini_gives_logprob_zero_on_46_percent_of_mmlu_test() -> None:
    """README: OpenAI often returns exactly 0; gpt-4o-mini does on 46% of MMLU test queries."""
    log = load_benchmark("mmlu", "qwen_oai", "test").subset(["gpt-4o-mini"])
    assert round(float((log.confidence == 0).mean()), 2) == 0.46


def test_minus_infinity_confidences_are_kept_where_the_readme_says() -> None:
    """README: 30 of the 4000 TriviaQA-test rows of qwen_oai are -inf, none in the llama chain."""
    assert np.isneginf(load_benchmark("triviaqa", "qwen_oai", "test").confidence).sum() == 30
    assert np.isneginf(load_benchmark("triviaqa", "llama", "test").confidence).sum() == 0


@pytest.mark.parametrize(("benchmark", "split"),
                         [(e["benchmark"], e["split"]) for e in LABEL_FILES
                          if e["benchmark"] in ("mmlu", "medmcqa")])
def test_correct_is_exactly_answer_equals_reference_on_multiple_choice(benchmark, split) -> None:
    """On MMLU/MedMCQA the correctness is the exact letter match, joined through load_labels."""
    labels = load_labels(benchmark, split)
    for chain in MANIFEST["chains"]:
        frame = load_benchmark(benchmark, chain, split).to_frame()
        joined = frame.merge(labels, on="query_id", how="left", validate="many_to_one")
        assert joined["reference"].notna().all()
        np.testing.assert_array_equal(joined["correct"].to_numpy() == 1,
                                      (joined["answer"] == joined["reference"]).to_numpy())


def test_gsm8k_extracted_answers_agree_with_the_judge_on_97_percent_or_more() -> None:
    """README: the extracted GSM8K answer agrees with the judge's verdict on 97-100% per model."""
    pool = load_pool("gsm8k", "train")
    agree = ((pool.answer == pool.reference[:, None]) == (pool.correct == 1)).mean(axis=0)
    assert agree.min() >= 0.97
    assert agree.max() == 1.0


def test_answers_spelled_like_missing_values_stay_strings() -> None:
    """Answers "None" are strings, not NaN; empty fields become None."""
    log = load_benchmark("mmlu", "llama", "test")
    assert (log.answer == "None").sum() == 2
    assert all(a is None or isinstance(a, str) for a in log.answer.ravel())
    assert (load_benchmark("triviaqa", "qwen_oai", "train").answer == "None").sum() == 4
    assert sum(a is None for a in load_benchmark("gsm8k", "llama").answer.ravel()) == 29


def test_list_benchmarks_is_a_tidy_view_of_the_manifest() -> None:
    """One row per chain file, with counts and models from MANIFEST.json."""
    table = list_benchmarks()
    assert list(table.columns) == ["benchmark", "chain", "split", "n_queries", "models", "signal",
                                   "has_labels"]
    assert len(table) == len(CHAIN_FILES) == 14
    by_key = {(e["benchmark"], e["chain"], e["split"]): e for e in CHAIN_FILES}
    for row in table.itertuples():
        entry = by_key[(row.benchmark, row.chain, row.split)]
        assert row.n_queries == entry["queries"]
        assert row.models == tuple(entry["models"])
        assert row.has_labels == (row.benchmark != "triviaqa")
    assert not ((table.benchmark == "gsm8k") & (table.split == "test")).any()


def test_missing_splits_and_unknown_names_raise_with_what_exists() -> None:
    """GSM8K test, TriviaQA labels and unknown names raise ValueErrors listing the options."""
    with pytest.raises(ValueError,
                       match=r"split: 'gsm8k' has no 'test' split; available: \['train'\]"):
        load_benchmark("gsm8k", "llama", "test")
    with pytest.raises(ValueError, match=r"benchmark: unknown benchmark 'xsum'.*'mmlu'"):
        load_benchmark("xsum", "llama")
    with pytest.raises(ValueError, match=r"chain: unknown chain 'gpt'.*\['llama', 'qwen_oai'\]"):
        load_benchmark("mmlu", "gpt")
    with pytest.raises(ValueError, match=r"split: 'mmlu' has no 'dev' split; available: "
                                         r"\['test', 'train'\]"):
        load_benchmark("mmlu", "llama", "dev")
    with pytest.raises(ValueError, match=r"cost: expected one of \['answer', 'total'\]"):
        load_benchmark("mmlu", "llama", cost="usd")
    with pytest.raises(ValueError, match=r"benchmark: unknown benchmark 'triviaqa'; labels exist"):
        load_labels("triviaqa", "test")
    with pytest.raises(ValueError, match=r"split: 'gsm8k' has no 'test' split"):
        load_pool("gsm8k", "test")


def test_labels_have_the_documented_columns_and_text_references() -> None:
    """Labels: query_id, reference as text (GSM8K numbers too), subject/source_id where shipped."""
    assert load_labels("mmlu", "test").columns.tolist() == ["query_id", "reference", "subject"]
    assert load_labels("medmcqa", "train").columns.tolist() == ["query_id", "reference", "subject",
                                                                 "source_id"]
    gsm = load_labels("gsm8k", "train")
    assert len(gsm) == 300 and all(isinstance(r, str) for r in gsm["reference"])
    assert set(load_labels("mmlu", "test")["reference"]) == {"A", "B", "C", "D"}


def test_load_labels_returns_a_fresh_frame_each_time() -> None:
    """Mutating a returned labels frame does not corrupt the cache."""
    first = load_labels("mmlu", "train")
    first.loc[0, "reference"] = "Z"
    assert load_labels("mmlu", "train").loc[0, "reference"] != "Z"


def test_repeated_loads_return_the_same_immutable_object() -> None:
    """The cache hands out one object, and its arrays cannot be written."""
    log = load_benchmark("medmcqa", "llama", "test")
    assert load_benchmark("medmcqa", "llama", "test") is log
    with pytest.raises(ValueError, match="read-only"):
        log.confidence[0, 0] = 1.0
    with pytest.raises(AttributeError, match="immutable"):
        log.models = ("x",)  # type: ignore[misc]


@pytest.mark.parametrize(("benchmark", "split"), [("mmlu", "test"), ("medmcqa", "train"),
                                                  ("gsm8k", "train"), ("triviaqa", "test")])
def test_pool_is_both_chains_side_by_side_with_references_where_shipped(benchmark, split) -> None:
    """load_pool = llama columns then qwen_oai columns, same queries, references from labels."""
    pool = load_pool(benchmark, split)
    llama, qwen = (load_benchmark(benchmark, c, split) for c in ("llama", "qwen_oai"))
    assert pool.models == llama.models + qwen.models and pool.n_models == 9
    assert pool.subset(list(llama.models)) == llama.replace(reference=pool.reference)
    assert pool.subset(list(qwen.models)) == qwen.replace(reference=pool.reference)
    if benchmark == "triviaqa":
        assert pool.reference is None
    else:
        np.testing.assert_array_equal(pool.reference,
                                      load_labels(benchmark, split)["reference"].to_numpy(object))


@pytest.mark.parametrize(("benchmark", "readme_vote"), [("mmlu", 0.838), ("medmcqa", 0.743)])
def test_readme_majority_vote_lies_between_strict_and_tie_inclusive_vote(benchmark, readme_vote):
    """The README's 9-model majority vote (test split) is bracketed by the pool's answers.

    The README does not state its tie rule, so the check is that its figure lies between the
    accuracy of "a unique plurality winner is the reference" and "the reference is among the tied
    winners", which any tie rule must. The best single model (0.852 / 0.765) is checked exactly.
    """
    pool = load_pool(benchmark, "test")
    letters = np.array(["A", "B", "C", "D"], dtype=object)
    votes = (pool.answer[:, :, None] == letters).sum(axis=1)  # (n, 4) votes per option
    top = votes.max(axis=1, keepdims=True)
    winners = votes == top
    truth = pool.reference[:, None] == letters
    strict = np.mean((winners & truth).any(axis=1) & (winners.sum(axis=1) == 1))
    inclusive = np.mean((winners & truth).any(axis=1))
    assert strict <= readme_vote <= inclusive
    assert round(float(pool.accuracy.max()), 3) == {"mmlu": 0.852, "medmcqa": 0.765}[benchmark]
