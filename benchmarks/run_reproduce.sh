#!/usr/bin/env bash
# The cascade-tuner comparison (`llmcopula reproduce`) behind the "Cascade comparison" section of
# benchmarks/RESULTS.md.
#
# FULL protocol (many CPU-hours, dominated by BO at ~30-50 GP fits per λ-run; use a big machine):
#   llmcopula reproduce --n-train 10,20,30,50,100,all --seeds 20 --n-lambdas 30 \
#       --methods markov-copula,grid,bo,oracle,grid-labels --n-jobs 16 --output-dir reproduce-full
#
# REDUCED run reported in RESULTS.md (2 cores shared with other jobs, load average 8-13). Every
# command resumes and adds to the same folder; the analysis (CSVs, plots, report.md) covers
# whatever task files exist there, so the steps can be run in any order or in parallel.
set -euo pipefail
OUT=${OUT:-reproduce-results}
JOBS=${JOBS:-2}
COMMON=(--n-lambdas 10 --output-dir "$OUT")
# 1. Full training data, all benchmarks with a test split, both chains, all 37 cascades.
llmcopula reproduce "${COMMON[@]}" --n-jobs "$JOBS" \
    --methods markov-copula,grid,grid-labels,oracle --n-train all
# 2. BO on full training data: MMLU / Llama chain, cascades of k = 3, 4, 5 (same 10-λ grid).
llmcopula reproduce "${COMMON[@]}" --n-jobs "$JOBS" --benchmarks mmlu --chains llama \
    --cascades 0-1-2,0-2-4 --methods markov-copula,bo --n-train all
llmcopula reproduce "${COMMON[@]}" --n-jobs "$JOBS" --benchmarks mmlu --chains llama \
    --cascades 0-2-3-4,0-1-2-3-4 --methods markov-copula,bo --n-train all --no-plots
# 3. Low-sample regime (ours vs grid): MMLU / Llama, two cascades, 5 seeds per n
#    (stopped when the time budget ran out; see RESULTS.md for which n finished).
llmcopula reproduce "${COMMON[@]}" --n-jobs 1 --benchmarks mmlu --chains llama \
    --cascades 0-2-4,0-1-2-3-4 --methods markov-copula,grid --n-train 10,20,30,50,100 \
    --seeds 5 --no-plots
# 4. Low-sample regime with BO: MMLU / Llama, cascade 0-2-4, n <= 30, 5 seeds (ours and grid
#    tasks of these subsamples already exist from step 3 and are skipped).
llmcopula reproduce "${COMMON[@]}" --n-jobs "$JOBS" --benchmarks mmlu --chains llama \
    --cascades 0-2-4 --methods markov-copula,grid,bo --n-train 10,20,30 --seeds 5 --no-plots
