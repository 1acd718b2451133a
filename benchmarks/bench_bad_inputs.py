"""The catalogue of bad input, counted: what ``benchmarks/RESULTS.md`` records as
"bad inputs tried: N; clear errors: N; tracebacks: 0; silent: 0".

1. Every command line of ``tests/hardening/_bad_inputs.py`` (``CLAIMS``), run in-process: a
   *clear* error is exactly one line ``llmcopula <command>: error: <what>: <why>`` with exit
   status 2 that matches the claim; the degenerate-but-valid inputs (``VALID_EDGES``) must work.
2. Every corrupted argument of the public functions of ``copulas``, ``cascade``, ``selection``,
   ``ranking`` and ``fusion`` (``tests/hardening/_api_cases.py``): a ValueError naming the
   argument, or input that the function's contract documents as valid.
3. The hypothesis fuzz properties of ``tests/hardening/test_cli_fuzz.py`` with ``--examples``
   random examples each (CI runs 25 derandomised ones).
4. ``equicorrelated_bayes_error``: the bisection against the exhaustive minimum over every
   threshold (the previous algorithm), time and peak memory, in the same run.

Run ``python benchmarks/bench_bad_inputs.py [--examples 200]`` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "hardening"))

from _api_cases import NOT_MUTATED, cases, public_callables, run_case  # noqa: E402
from _bad_inputs import CLAIMS, VALID_EDGES, make_files, run_claim  # noqa: E402


def command_lines() -> Counter:
    paths = make_files(Path(tempfile.mkdtemp()))
    kinds: Counter = Counter()
    for claim in CLAIMS:
        outcome = run_claim(claim, paths)
        kinds[outcome.kind] += 1
        if outcome.kind != "clear":
            print(f"  {outcome.kind}: {claim.name}: {outcome.detail} {outcome.stderr!r}")
    for claim in VALID_EDGES:
        outcome = run_claim(claim, paths)
        kinds["valid edge works" if outcome.kind == "clear" else "valid edge fails"] += 1
    return kinds


def public_functions() -> tuple[Counter, int]:
    kinds: Counter = Counter()
    all_cases = cases()
    for case in all_cases:
        kind, detail = run_case(case)
        kinds[kind] += 1
        if kind not in ("clear", "accepted"):
            print(f"  {kind}: {case.id}: {detail[:200]}")
    return kinds, len({c.template.name.split("[")[0] for c in all_cases})


def fuzz(examples: int) -> str:
    env = dict(os.environ, LLMCOPULA_FUZZ_EXAMPLES=str(examples), HYPOTHESIS_PROFILE="explore")
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "tests" / "hardening" / "test_cli_fuzz.py")],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    return res.stdout.strip().splitlines()[-1]


def bayes_error_scaling() -> list[str]:
    import numpy as np

    from llmcopula.selection import equicorrelated_bayes_error
    from llmcopula.selection.floors import _equicorrelated_sf

    def exhaustive(n, p, rho, prior):
        t = np.arange(-1.0, n + 1.0)
        ones = np.ones_like(t)
        sf = _equicorrelated_sf(t, n * ones, p * ones, rho * ones)
        return float(np.min((1 - prior) * sf + prior * sf[::-1]))

    def measure(f, *args):
        tracemalloc.start()
        start = time.perf_counter()
        value = float(f(*args))
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return value, seconds, peak

    lines = ["| n | bisection (s) | peak MB | exhaustive (s) | peak MB | ratio | abs. diff |",
             "|---|---|---|---|---|---|---|"]
    for n in (100, 1000, 3000):
        new = measure(equicorrelated_bayes_error, n, 0.3, 0.2, 0.3)
        old = measure(exhaustive, n, 0.3, 0.2, 0.3)
        lines.append(f"| {n} | {new[1]:.3f} | {new[2]:.1f} | {old[1]:.2f} | {old[2]:.0f} | "
                     f"{old[1] / new[1]:.1f}x | {abs(new[0] - old[0]):.1e} |")
    for n in (10**4, 10**6):
        new = measure(equicorrelated_bayes_error, n, 0.3, 0.2, 0.3)
        lines.append(f"| {n} | {new[1]:.3f} | {new[2]:.1f} | (not run: O(n) memory) | | | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200,
                        help="hypothesis examples per fuzz property (default 200; 0: no fuzz)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    cli = command_lines()
    api, n_functions = public_functions()
    bad = sum(v for k, v in cli.items() if "valid edge" not in k)
    print(f"command lines: {bad} bad inputs tried; clear errors: {cli['clear']}; tracebacks: "
          f"{cli['traceback']}; silent: {cli['silent']}; unclear: {cli['unclear']}; "
          f"degenerate but valid inputs that work: {cli['valid edge works']} of "
          f"{cli['valid edge works'] + cli['valid edge fails']}")
    tried = sum(api.values())
    print(f"public functions ({n_functions} functions and methods): {tried} corrupted "
          f"arguments tried; clear errors: {api['clear']}; valid by contract and accepted: "
          f"{api['accepted']}; tracebacks: {api['traceback']}; silent: {api['silent']}; "
          f"unclear: {api['unclear']}")
    exported = public_callables()
    print(f"public callables exported by the five packages: {len(exported)}; not mutated, each "
          f"with its reason in NOT_MUTATED (result records, abstract bases, re-exports, "
          f"functions of checked objects only): {len(NOT_MUTATED)}")
    total = bad + tried - api["accepted"]
    clear = cli["clear"] + api["clear"]
    print(f"TOTAL bad inputs tried: {total}; clear errors: {clear}; tracebacks: "
          f"{cli['traceback'] + api['traceback']}; silent: {cli['silent'] + api['silent']}")
    if args.examples > 0:
        print(f"fuzz ({args.examples} examples per property): {fuzz(args.examples)}")
    print("\n".join(bayes_error_scaling()))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
