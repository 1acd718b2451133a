"""Smoke run of the end-to-end fusion benchmark (tiny models on the Zen of Python)."""

import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("tokenizers")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.bench_fusion import SMOKE, markdown, run  # noqa: E402


def test_benchmark_smoke_run_reports_finite_per_character_metrics_for_every_system():
    res = run(SMOKE, smoke=True, log=lambda *args: None)
    names = [r["system"] for r in res["rows"]]
    assert names[:2] == ["char alone", "bpe alone"] and len(names) == 10
    for r in res["rows"]:
        assert math.isfinite(r["bpc"]) and r["bpc"] > 0
        assert 0.0 <= r["boundary_char_acc"] <= 1.0
    assert res["diagnostics"]["n_anchors"] > 10
    assert "| char alone |" in markdown(res)
    assert isinstance(res["generation"]["fusion main=char"], str)
