"""Speed of the bivariate copula families against statsmodels and pyvinecopulib.

For each family at Kendall's tau = 0.5 (Student t with df = 4), times ``cdf``, ``pdf``,
``hfunc1`` and ``hinv1`` on the same seeded random points of the unit square with
``time.perf_counter``, single-threaded (``threadpoolctl``), in ``--repeats`` paired rounds: each
round times ours and both peers back to back, and the reported ratio is the median over rounds
of ours / the faster peer of that round (times: medians), so that a change of machine load
between rounds does not bias the ratio. statsmodels
has cdf/pdf for every family except the t cdf, and h-functions only for Frank
(``cdfcond_2g1`` / ``ppfcond_2g1``). The "agree" column is the largest difference between our
values and pyvinecopulib's on the benchmark points (relative for pdf, absolute otherwise), so
a fast wrong answer shows up.

Targets: every operation within 1.2x of the faster peer, except the Independence pdf (the
peers return a constant without looking at the input; ours validates it, a fixed cost of a
few milliseconds per million points); Gaussian cdf at least 10x faster than statsmodels.

Usage::

    python benchmarks/bench_copulas.py [--n 1000000] [--repeats 5] [--markdown]
        [--families Gumbel,Frank] [--ops cdf,hinv1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyvinecopulib as pv
import statsmodels
from statsmodels.distributions.copula import api as smc
from threadpoolctl import threadpool_limits

from llmcopula.copulas.registry import get_family

OPS = ("cdf", "pdf", "hfunc1", "hinv1")


def _families() -> list[tuple[str, Any, Any, pv.Bicop]]:
    """(label, our copula, statsmodels copula, pyvinecopulib Bicop), all at tau = 0.5."""
    tau = 0.5
    gaussian = get_family("gaussian").from_tau(tau)
    student = get_family("student").from_tau(tau, df=4.0)
    clayton = get_family("clayton").from_tau(tau)
    gumbel = get_family("gumbel").from_tau(tau)
    frank = get_family("frank").from_tau(tau)
    rho = float(gaussian.params[0])
    t_rho, t_df = (float(p) for p in student.params)

    def bicop(family: Any, *params: float) -> pv.Bicop:
        if not params:
            return pv.Bicop(family=family)
        return pv.Bicop(family=family, parameters=np.array(params, dtype=float).reshape(-1, 1))

    return [
        ("Independence", get_family("independence")(), smc.IndependenceCopula(),
         bicop(pv.families.indep)),
        ("Gaussian", gaussian, smc.GaussianCopula(corr=rho), bicop(pv.families.gaussian, rho)),
        ("Student", student, smc.StudentTCopula(corr=t_rho, df=t_df),
         bicop(pv.families.student, t_rho, t_df)),
        ("Clayton", clayton, smc.ClaytonCopula(theta=float(clayton.params[0])),
         bicop(pv.families.clayton, float(clayton.params[0]))),
        ("Gumbel", gumbel, smc.GumbelCopula(theta=float(gumbel.params[0])),
         bicop(pv.families.gumbel, float(gumbel.params[0]))),
        ("Frank", frank, smc.FrankCopula(theta=float(frank.params[0])),
         bicop(pv.families.frank, float(frank.params[0]))),
    ]


def _statsmodels_op(label: str, cop: Any, op: str) -> Callable[[np.ndarray], Any] | None:
    if op == "cdf":
        return None if label == "Student" else cop.cdf
    if op == "pdf":
        return cop.pdf
    if label == "Frank" and op == "hfunc1":
        return cop.cdfcond_2g1
    if label == "Frank" and op == "hinv1":
        return lambda u: cop.ppfcond_2g1(u[:, 1:2], u[:, 0:1])
    return None


def _time(f: Callable[[np.ndarray], Any], u: np.ndarray) -> tuple[float, Any]:
    start = time.perf_counter()
    out = f(u)
    return time.perf_counter() - start, out


def _difference(op: str, ours: np.ndarray, theirs: np.ndarray) -> float:
    ours, theirs = np.ravel(ours), np.ravel(theirs)
    if op == "pdf":
        return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))
    return float(np.max(np.abs(ours - theirs)))


def run(n: int, repeats: int, seed: int = 20240601, families: list[str] | None = None,
        ops: tuple[str, ...] = OPS) -> list[dict[str, Any]]:
    u = np.random.default_rng(seed).random((n, 2))
    rows = []
    with threadpool_limits(1):
        for label, ours, sm, bicop in _families():
            if families is not None and label not in families:
                continue
            for op in ops:
                sm_op = _statsmodels_op(label, sm, op)
                times: dict[str, list[float]] = {"ours": [], "statsmodels": [], "pv": []}
                ratios = []
                v_ours = v_pv = None
                for _ in range(repeats):  # one paired round: ours, then each peer
                    t_ours, v_ours = _time(getattr(ours, op), u)
                    t_sm = _time(sm_op, u)[0] if sm_op is not None else None
                    t_pv, v_pv = _time(getattr(bicop, op), u)
                    times["ours"].append(t_ours)
                    times["pv"].append(t_pv)
                    if t_sm is not None:
                        times["statsmodels"].append(t_sm)
                    ratios.append(t_ours / min(t for t in (t_sm, t_pv) if t is not None))
                rows.append({
                    "family": label, "op": op, "ours": float(np.median(times["ours"])),
                    "statsmodels": (float(np.median(times["statsmodels"]))
                                    if times["statsmodels"] else None),
                    "pyvinecopulib": float(np.median(times["pv"])),
                    "ratio": float(np.median(ratios)),
                    "agree": _difference(op, v_ours, v_pv),
                })
    return rows


def machine_note() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{cpu}; {os.cpu_count()} logical cores (1 thread used); load average {load}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"statsmodels {statsmodels.__version__}, pyvinecopulib {pv.__version__}"
    )


def _fmt(t: float | None) -> str:
    return "—" if t is None else f"{t:.4f}"


def table(rows: list[dict[str, Any]], markdown: bool) -> str:
    header = ["family", "op", "ours (s)", "statsmodels (s)", "pyvinecopulib (s)",
              "ours / faster peer", "agree (vs pyvinecopulib)"]
    body = [[r["family"], r["op"], _fmt(r["ours"]), _fmt(r["statsmodels"]),
             _fmt(r["pyvinecopulib"]), f"{r['ratio']:.2f}", f"{r['agree']:.1e}"] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header)] + [fmt.format(*row) for row in body])


#: Operations exempt from the 1.2x target, and why.
EXEMPT = {("Independence", "pdf"): "the peers return a constant without reading the input; "
                                   "ours validates it (NaN and range checks)"}
TARGET = 1.2


def checks(rows: list[dict[str, Any]]) -> str:
    slow = [f"{r['family']} {r['op']} ({r['ratio']:.2f}x)" for r in rows
            if r["ratio"] > TARGET and (r["family"], r["op"]) not in EXEMPT]
    lines = [f"every operation within {TARGET}x of the faster peer (except "
             + ", ".join(f"{f} {o}" for f, o in EXEMPT) + "): "
             + ("PASS" if not slow else "FAIL — slower: " + "; ".join(slow))]
    gauss = [r for r in rows if r["family"] == "Gaussian" and r["op"] == "cdf"]
    if gauss:
        speedup = gauss[0]["statsmodels"] / gauss[0]["ours"]
        lines.append(f"Gaussian cdf >= 10x faster than statsmodels: "
                     f"{'PASS' if speedup >= 10 else 'FAIL'} ({speedup:.1f}x)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of points")
    parser.add_argument("--repeats", type=int, default=5, help="paired rounds (medians)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--families", default=None,
                        help="comma-separated subset, e.g. Gumbel,Frank (default: all)")
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated subset of "
                        + ",".join(OPS))
    args = parser.parse_args(argv)
    before = machine_note()
    rows = run(args.n, args.repeats,
               families=None if args.families is None else args.families.split(","),
               ops=tuple(args.ops.split(",")))
    print(f"n = {args.n:,} seeded uniform points, median of {args.repeats} paired rounds; "
          f"tau = 0.5 (t: df = 4)")
    print(f"machine before: {before}")
    print(f"machine after:  {machine_note()}")
    print()
    print(table(rows, args.markdown))
    print()
    print(checks(rows))


if __name__ == "__main__":
    main()
