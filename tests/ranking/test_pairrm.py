"""The optional PairRM adapter, tested without llm-blender and without the network.

The real ``llm_blender.Blender`` is not exercised here (it would need the package and a local
checkpoint); a stand-in with the same ``compare`` signature checks the adapter's contract.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from llmcopula.ranking import PairwiseMatrix, maxlogits_scores
from llmcopula.ranking.pairrm import PairRMComparator


class FakeBlender:
    """Longer answers win; the first-shown answer gets +0.5 (a position bias)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def compare(self, inputs, candidates_A, candidates_B, *, batch_size, return_logits, mode):
        assert return_logits and mode == "[A,B]" and len(inputs) == len(candidates_A)
        self.calls.append((len(inputs), mode))
        return np.array([len(a) - len(b) + 0.5 for a, b in zip(candidates_A, candidates_B)])


def test_adapter_batches_one_order_calls_and_debiasing_is_left_to_the_matrix():
    blender = FakeBlender()
    f = PairRMComparator(blender, batch_size=4)
    cands = ["a", "abcd", "ab"]
    pm = PairwiseMatrix.from_comparator(f, "question", cands)
    assert blender.calls == [(6, "[A,B]")]
    assert pm.n_calls == 6
    assert np.argmax(maxlogits_scores(pm.logits)) == 1
    np.testing.assert_allclose(pm.logits[0, 1] + pm.logits[1, 0], 1.0)  # the bias, both orders
    assert f("q", "abc", "a") == 2.5


def test_missing_llm_blender_raises_an_import_error_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "llm_blender", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"llmcopula\[pairrm\]"):
        PairRMComparator.from_local_checkpoint(tmp_path)


def test_a_path_that_is_not_a_local_directory_is_refused_before_any_import(tmp_path):
    with pytest.raises(ValueError, match="never downloads weights"):
        PairRMComparator.from_local_checkpoint("llm-blender/PairRM")


def test_objects_without_compare_and_wrong_batch_outputs_are_rejected():
    with pytest.raises(ValueError, match="blender: expected an object with a compare"):
        PairRMComparator(object())

    class Short(FakeBlender):
        def compare(self, inputs, a, b, **kwargs):
            return [0.0]

    with pytest.raises(ValueError, match="blender: compare returned 1 logits for 2 pairs"):
        PairRMComparator(Short()).compare_many("q", ["a", "b"], ["c", "d"])
