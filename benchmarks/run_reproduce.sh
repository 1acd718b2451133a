#!/usr/bin/env bash
# The cascade-tuner comparison (`llmcopula reproduce`) behind benchmarks/RESULTS.md.
#
# FULL (the complete protocol; many CPU-hours, dominated by BO — budget ~30 GP fits per λ-run):
#   llmcopula reproduce --n-train 10,20,30,50,100,all --seeds 20 --n-lambdas 30 \
#       --methods markov-copula,grid,bo,oracle,grid-labels --n-jobs 16 --output-dir reproduce-full
#
# REDUCED (what RESULTS.md reports; fits ~40 minutes on 2 shared cores). Every step resumes and
# adds to the same folder; the analysis covers whatever tasks exist there.
set -euo pipefail
OUT=${OUT:-reproduce-results}
JOBS=${JOBS:-2}
COMMON=(--n-lambdas 10 --n-jobs "$JOBS" --output-dir "$OUT")
# 1. Full training data, all benchmarks with a test split, both chains, all 37 cascades.
llmcopula reproduce "${COMMON[@]}" --methods markov-copula,grid,grid-labels,oracle --n-train all
# 2. BO on full training data: MMLU / Llama chain, cascades with k >= 3 (same 10-λ grid as ours).
llmcopula reproduce "${COMMON[@]}" --benchmarks mmlu --chains llama --k-min 3 \
    --methods markov-copula,bo --n-train all
# 3. Low-sample regime without BO: MMLU / Llama, two cascades, 20 seeds per n.
llmcopula reproduce "${COMMON[@]}" --benchmarks mmlu --chains llama --cascades 0-2-4,0-1-2-3-4 \
    --methods markov-copula,grid --n-train 10,20,30,50,100 --seeds 20
# 4. Low-sample regime with BO: MMLU / Llama, cascade 0-2-4, n <= 30, 5 seeds.
llmcopula reproduce "${COMMON[@]}" --benchmarks mmlu --chains llama --cascades 0-2-4 \
    --methods markov-copula,grid,bo --n-train 10,20,30 --seeds 5
