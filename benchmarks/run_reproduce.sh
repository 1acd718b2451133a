#!/usr/bin/env bash
# The cascade-tuner comparison (`llmcopula reproduce`) behind the "Cascade comparison" section of
# benchmarks/RESULTS.md.
#
# FULL protocol (many CPU-hours, dominated by BO at ~30-50 GP fits per λ-run; use a big machine):
#   llmcopula reproduce --n-train 10,20,30,50,100,all --seeds 20 --n-lambdas 30 \
#       --methods markov-copula,empirical-copula,empirical-copula-phi,grid,bo,oracle \
#       --n-jobs 16 --output-dir reproduce-full
#
# REDUCED run reported in RESULTS.md (2 cores). Every command resumes and adds to the same
# folder; the analysis (CSVs, plots, report*.md) covers whatever task files exist there, so the
# steps can be run in any order. `--ours` only chooses which method the tables compare with the
# others (the task files are shared), e.g. `--ours markov-copula` re-analyses without new work.
set -euo pipefail
OUT=${OUT:-reproduce-results}
JOBS=${JOBS:-2}
COMMON=(--n-lambdas 20 --output-dir "$OUT" --n-jobs "$JOBS")
export OPENBLAS_NUM_THREADS=1
# 1. Full training data: all benchmarks with a test split, both chains, all 37 cascades.
llmcopula reproduce "${COMMON[@]}" --methods empirical-copula,markov-copula,grid,oracle \
    --n-train all --ours empirical-copula
llmcopula reproduce "${COMMON[@]}" --methods empirical-copula-phi --n-train all
# 2. Low-sample regime: Llama chain, 4 cascades of k = 3, 3, 4, 5: 5 subsamples per n with
#    every method, then 20 subsamples per n for both models and grid search.
llmcopula reproduce "${COMMON[@]}" --benchmarks mmlu,medmcqa,triviaqa --chains llama \
    --cascades 0-2-4,0-1-3,0-2-3-4,0-1-2-3-4 \
    --methods markov-copula,empirical-copula,empirical-copula-phi,grid --n-train 10,20,30 \
    --seeds 5 --no-plots
llmcopula reproduce "${COMMON[@]}" --benchmarks mmlu,medmcqa,triviaqa --chains llama \
    --cascades 0-2-4,0-1-3,0-2-3-4,0-1-2-3-4 \
    --methods markov-copula,empirical-copula,grid --n-train 10,20,30 --seeds 20 --no-plots
# 3. BO on full training data: Llama chain, cascades of k = 3, 4, 5 on every benchmark.
llmcopula reproduce "${COMMON[@]}" --benchmarks mmlu,medmcqa,triviaqa --chains llama \
    --cascades 0-2-4,0-2-3-4,0-1-2-3-4 --methods bo --n-train all --no-plots
# 4. BO in the low-sample regime: cascade 0-2-4 of MMLU and MedMCQA, 4 subsamples per n (the
#    other methods' tasks on these subsamples exist from step 2 and are skipped).
llmcopula reproduce "${COMMON[@]}" --benchmarks mmlu,medmcqa --chains llama --cascades 0-2-4 \
    --methods bo --n-train 10,20,30 --seeds 4 --no-plots
# 5. The tables with each of our models as "ours".
for ours in markov-copula empirical-copula empirical-copula-phi; do
    llmcopula reproduce --n-lambdas 20 --output-dir "$OUT" --methods "$ours" --n-train all \
        --ours "$ours" --quiet
done
