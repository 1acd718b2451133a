"""End-to-end DeePEn fusion of two language models with different tokenizers.

Two small numpy MLP language models are trained here on the King James Bible (Genesis to Numbers;
public domain, from the Debian package ``bible-kjv-text``, read with ``bible-kjv``'s reader): a
character-level model ("char") and a BPE model ("bpe", vocabulary learned with the `tokenizers`
library). They are evaluated on held-out text (Deuteronomy: the first ``--dev`` characters tune
the fusion weights, the next ``--test`` characters are the test span), alone and fused with
:mod:`llmcopula.fusion`, with either model as the main one. The common footing across
tokenisations (bits per character; next-character accuracy at word-piece boundaries) is explained
in ``benchmarks/fusion_lm/evaluation.py``.

Run ``python benchmarks/bench_fusion.py`` (a few minutes on 2 cores; needs ``pip install
tokenizers`` and ``apt-get install -y bible-kjv``), or ``--smoke`` for a seconds-long run on the
Zen of Python. BLAS is limited to one thread unless ``OPENBLAS_NUM_THREADS`` is set, because the
matrices are small and threads only add contention.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fusion_lm.corpus import kjv_text, split_text, zen_of_python  # noqa: E402
from benchmarks.fusion_lm.evaluation import (  # noqa: E402
    bits,
    char_log_marginal,
    first_char_matrix,
    token_spans,
)
from benchmarks.fusion_lm.mlp_lm import MLPLanguageModel, context_windows  # noqa: E402
from benchmarks.fusion_lm.tokenization import BPETokenizer, CharTokenizer  # noqa: E402
from llmcopula.fusion import (  # noqa: E402
    DeePEnFusion,
    aggregate,
    fit_fusion_weights,
    fuse_logits,
    inverse_mirror,
    relative_distributions,
)


@dataclass
class Config:
    bpe_vocab: int = 512
    char_context: int = 12
    bpe_context: int = 6
    dim: int = 24
    hidden: int = 192
    steps_char: int = 2000
    steps_bpe: int = 1500
    dev_chars: int = 5000
    test_chars: int = 20000
    mirror_tol: float = 1e-7
    mirror_maxiter: int = 100
    seed: int = 0


SMOKE = Config(bpe_vocab=120, char_context=6, bpe_context=3, dim=8, hidden=16, steps_char=30,
               steps_bpe=30, dev_chars=150, test_chars=200, mirror_maxiter=20)


def load_text(smoke: bool, cfg: Config) -> tuple[str, str, str, str]:
    if smoke:
        train, dev, test = split_text(zen_of_python(), cfg.dev_chars, cfg.test_chars)
        return train, dev, test, "Zen of Python (`import this`, PSF licence)"
    train = kjv_text("Gen1:1-Num36:13")
    held = kjv_text("Deu1:1-34:12")
    dev, test = held[: cfg.dev_chars], held[cfg.dev_chars: cfg.dev_chars + cfg.test_chars]
    return train, dev, test, "KJV Bible (Debian bible-kjv-text 4.38, public domain)"


def _row_nll(logprobs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return -logprobs[np.arange(targets.size), targets]


def run(cfg: Config, smoke: bool = False, log=print) -> dict:
    t_start = time.perf_counter()
    train, dev, test, source = load_text(smoke, cfg)
    held = dev + test
    log(f"text: {source}; train {len(train)} chars, dev {len(dev)}, test {len(test)}")

    char_tok = CharTokenizer(train)
    bpe_tok = BPETokenizer(train, cfg.bpe_vocab)
    char_lm = MLPLanguageModel(char_tok, context=cfg.char_context, dim=cfg.dim,
                               hidden=cfg.hidden, seed=cfg.seed)
    bpe_lm = MLPLanguageModel(bpe_tok, context=cfg.bpe_context, dim=cfg.dim, hidden=cfg.hidden,
                              seed=cfg.seed + 1)
    t0 = time.perf_counter()
    char_lm.fit(np.array(char_tok.encode(train)), steps=cfg.steps_char, seed=cfg.seed)
    bpe_lm.fit(np.array(bpe_tok.encode(train)), steps=cfg.steps_bpe, seed=cfg.seed + 1)
    train_s = time.perf_counter() - t0
    log(f"trained both models in {train_s:.1f} s")

    # ---- positions: BPE canonical tokens of the held-out text, and every character
    ids_b = np.array(bpe_tok.encode(held))
    starts, lengths = token_spans(list(ids_b), bpe_tok.vocabulary)
    ids_c = np.array(char_tok.encode(held))
    ctx_c_all = context_windows(ids_c, cfg.char_context)
    ctx_b_all = context_windows(ids_b, cfg.bpe_context)
    M = first_char_matrix(bpe_tok.vocabulary, char_tok.vocabulary)
    fusion_c = DeePEnFusion(main=0).fit([char_lm, bpe_lm])
    fusion_b = DeePEnFusion(main=1).fit([char_lm, bpe_lm])
    transfers = fusion_c.transfers_

    def split(part: str) -> dict:
        lo, hi = (64, len(dev)) if part == "dev" else (len(dev), len(held))
        tok = np.flatnonzero((starts >= lo) & (starts + lengths <= hi))
        span = np.arange(starts[tok[0]], starts[tok[-1]] + lengths[tok[-1]])
        bpe_at_chars = bpe_lm.logprobs(bpe_lm.contexts_for_prefixes([held[:i] for i in span]))
        return {
            "tok": tok, "span": span, "n_chars": span.size,
            "boundary_rows": np.searchsorted(span, starts[tok]),
            "char_all": char_lm.logprobs(ctx_c_all[span]),
            "bpe_at_chars": bpe_at_chars,
            "bpe_tok": bpe_lm.logprobs(ctx_b_all[tok]),
            "char_at_bound": char_lm.logprobs(ctx_c_all[starts[tok]]),
            "y_char": ids_c[span], "y_bound": ids_c[starts[tok]], "y_tok": ids_b[tok],
        }

    dv, te = split("dev"), split("test")
    log(f"test span: {te['n_chars']} chars, {te['tok'].size} BPE tokens")

    mirror_opts = {"tol": cfg.mirror_tol, "maxiter": cfg.mirror_maxiter}
    weights: dict[tuple[int, str], np.ndarray] = {}
    for main in (0, 1):
        for method in ("adamw", "mirror"):
            logits = ([dv["char_all"], dv["bpe_at_chars"]] if main == 0
                      else [dv["char_at_bound"], dv["bpe_tok"]])
            y = dv["y_char"] if main == 0 else dv["y_tok"]
            opts = mirror_opts if method == "mirror" else {}
            # The precise solver is costly inside Nelder-Mead; a grid is enough for it.
            fit = fit_fusion_weights(logits, y, transfers, main=main, method=method,
                                     resolution=10, refine=method == "adamw", **opts)
            weights[(main, method)] = fit.weights
            log(f"dev-tuned weights main={['char', 'bpe'][main]} {method}: "
                f"{np.round(fit.weights, 3).tolist()} (dev NLL {fit.score:.4f})")

    rows = []

    def add(name: str, nll_total: float, bound_lp: np.ndarray, all_lp: np.ndarray | None,
            flips: float | None = None) -> None:
        rows.append({
            "system": name,
            "bpc": bits(nll_total) / te["n_chars"],
            "boundary_char_acc": float((bound_lp.argmax(axis=1) == te["y_bound"]).mean()),
            "boundary_char_ppl": float(np.exp(_row_nll(bound_lp, te["y_bound"]).mean())),
            "all_char_acc": None if all_lp is None
            else float((all_lp.argmax(axis=1) == te["y_char"]).mean()),
            "flip_rate": flips, "max_certified_gap": None,
        })

    add("char alone", _row_nll(te["char_all"], te["y_char"]).sum(),
        te["char_all"][te["boundary_rows"]], te["char_all"])
    bpe_bound = char_log_marginal(te["bpe_tok"], M)
    add("bpe alone", _row_nll(te["bpe_tok"], te["y_tok"]).sum(), bpe_bound, None)
    # Upper reference, not a fusion: the linear pool of the two next-character distributions at
    # word-piece boundaries (only defined there).
    pool = np.logaddexp(te["char_at_bound"], bpe_bound) - np.log(2.0)
    rows_pool = float((pool.argmax(axis=1) == te["y_bound"]).mean())

    timings = {}
    for main in (0, 1):
        for method in ("adamw", "mirror"):
            for wname in ("uniform", "dev-tuned"):
                w = None if wname == "uniform" else weights[(main, method)]
                logits = ([te["char_all"], te["bpe_at_chars"]] if main == 0
                          else [te["char_at_bound"], te["bpe_tok"]])
                opts = mirror_opts if method == "mirror" else {}
                t0 = time.perf_counter()
                out = fuse_logits(logits, transfers, main=main, weights=w, method=method, **opts)
                timings[f"main={main} {method} {wname}"] = time.perf_counter() - t0
                lp = out.log_probs()
                solver = "AdamW 5 steps (reference)" if method == "adamw" else "mirror (precise)"
                name = f"fusion, main={['char', 'bpe'][main]}, {wname} weights, {solver}"
                if main == 0:
                    add(name, _row_nll(lp, te["y_char"]).sum(), lp[te["boundary_rows"]], lp,
                        float(out.differs_from_main.mean()))
                else:
                    add(name, _row_nll(lp, te["y_tok"]).sum(), char_log_marginal(lp, M), None,
                        float(out.differs_from_main.mean()))
                if method == "mirror":  # the solver's certificate, from a direct call
                    rbar = aggregate(relative_distributions(logits, transfers), w)
                    res = inverse_mirror(logits[main], transfers[main], rbar, **opts)
                    rows[-1]["max_certified_gap"] = float(np.max(res.gap))

    diag = fusion_c.diagnostics()
    diagnostics = {
        "n_anchors": diag.n_anchors,
        "coverage": {"char": float(diag.coverage[0]), "bpe": float(diag.coverage[1])},
        "anchor_condition_number": {
            "char": diag.conditioning[0].anchor_condition_number,
            "bpe": diag.conditioning[1].anchor_condition_number},
        "anchor_self_mass": {"char": diag.conditioning[0].anchor_self_mass,
                             "bpe": diag.conditioning[1].anchor_self_mass},
        "mean_row_entropy_nats": {"char": diag.conditioning[0].mean_row_entropy,
                                  "bpe": diag.conditioning[1].mean_row_entropy},
        "mean_anchor_consistency": float(np.nanmean(diag.anchor_consistency)),
    }
    prompt = held[:40] if not smoke else held[:10]
    n_new = 60 if not smoke else 5
    gen = {
        "prompt": prompt,
        "char alone": DeePEnFusion(lr=0.0).fit([char_lm, bpe_lm]).generate(
            prompt, max_new_tokens=n_new).text,
        "fusion main=char": fusion_c.generate(prompt, max_new_tokens=n_new).text,
        "fusion main=bpe": fusion_b.generate(prompt, max_new_tokens=n_new // 3).text,
    }
    return {
        "source": source, "config": cfg.__dict__, "rows": rows,
        "linear_pool_boundary_acc": rows_pool, "diagnostics": diagnostics,
        "weights": {f"main={k[0]} {k[1]}": v.tolist() for k, v in weights.items()},
        "generation": gen, "train_seconds": train_s, "fusion_seconds": timings,
        "total_seconds": time.perf_counter() - t_start,
        "test_chars": int(te["n_chars"]), "test_bpe_tokens": int(te["tok"].size),
    }


def markdown(res: dict) -> str:
    lines = ["| system | BPC | next-char acc. at word-piece starts | next-char ppl at word-piece "
             "starts | next-char acc. at every char | flip rate vs main | max certified gap |",
             "|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        f = (lambda x, fmt: "—" if x is None else format(x, fmt))
        lines.append(f"| {r['system']} | {r['bpc']:.3f} | {r['boundary_char_acc']:.3f} | "
                     f"{r['boundary_char_ppl']:.2f} | {f(r['all_char_acc'], '.3f')} | "
                     f"{f(r['flip_rate'], '.3f')} | {f(r['max_certified_gap'], '.1e')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run on the Zen of Python")
    parser.add_argument("--json", type=Path, help="write all results to this JSON file")
    args = parser.parse_args(argv)
    cfg = SMOKE if args.smoke else Config()
    res = run(cfg, smoke=args.smoke)
    print(markdown(res))
    print(json.dumps({k: res[k] for k in ("diagnostics", "weights", "generation",
                                          "linear_pool_boundary_acc", "train_seconds",
                                          "fusion_seconds", "total_seconds")}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
