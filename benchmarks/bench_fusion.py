"""DeePEn fusion of two BPE language models trained on complementary halves of a text.

Two small numpy MLP language models with 4,096-token BPE vocabularies (learned with the
`tokenizers` library) are trained on the two halves of the King James Bible (Genesis to Psalms
67, and Psalms 68 to Revelation), with chapters held out throughout the book for dev and test.
Their vocabularies overlap widely (most words are whole tokens in both), and each model knows
the names and idioms of its own half. On held-out text the benchmark compares, over several
training seeds:

* each model alone;
* the segment-level linear pool of the two models over "word + space" segments (uniform and
  dev-tuned weight), the plain baseline a fusion claim is made against;
* DeePEn as published (embedding transfer, 5 AdamW steps, uniform weights);
* DeePEn with the string-based transfers (shared prefix, or the main model's pieces) and the
  word-start lookahead, in the configuration that is best on dev data (kept only if it beats the
  published one there), uniform and dev-tuned weights.

The main model is the better one on dev data. Metrics: bits per character and next-character
accuracy at shared token boundaries (``benchmarks/fusion_lm/evaluation.py``), with intervals over
seeds (t) and over test blocks (block bootstrap, one block per held-out chapter).

Run ``python benchmarks/bench_fusion.py`` (about 25 CPU-minutes, so 13 to 15 minutes on 2 idle
cores; needs ``pip install tokenizers`` and ``apt-get install -y bible-kjv``), or ``--quick`` for
a seconds-long run on the excerpt bundled under ``tests/fusion/data`` (no Debian package needed).
BLAS is limited to one thread per process unless ``OPENBLAS_NUM_THREADS`` is set; models, then
evaluations, run in parallel (``--n-jobs``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.special import logsumexp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fusion_lm.corpus import (  # noqa: E402
    complementary_split,
    kjv_chapters,
    read_chapters,
)
from benchmarks.fusion_lm.evaluation import (  # noqa: E402
    SystemScore,
    block_ids,
    char_log_marginal,
    first_char_matrix,
    fit_pool_weight,
    pool_char_logprobs,
    pool_segments,
    score_model,
    segment_starts,
    system_score,
)
from benchmarks.fusion_lm.mlp_lm import MLPLanguageModel  # noqa: E402
from benchmarks.fusion_lm.tokenization import BPETokenizer  # noqa: E402
from llmcopula.fusion import (  # noqa: E402
    DeePEnFusion,
    FusionCoverageWarning,
    TokenPieces,
    common_anchors,
    fit_fusion_weights,
    fuse_relative,
    relative_distributions,
    shared_prefix_transfer,
    split_partial_word,
    transfer_matrix,
    word_start_relative,
)
from llmcopula.fusion.diagnostics import anchor_mass  # noqa: E402


@dataclass(frozen=True)
class Config:
    vocab: tuple[int, int] = (4096, 4096)
    context: int = 8
    dim: int = 24
    hidden: int = 192
    steps: int = 1500
    seeds: tuple[int, ...] = (0, 1, 2)
    held_every: int = 20
    dev_chars: int = 400
    test_chars: int = 1000
    grid: int = 10
    refine: bool = True             # Brent's search after the grid for the improved weights
    mirror_tol: float = 1e-7
    mirror_maxiter: int = 100
    n_bootstrap: int = 2000
    generate_chars: int = 60


QUICK = Config(vocab=(250, 250), context=4, dim=8, hidden=16, steps=40, seeds=(0, 1),
               held_every=4, dev_chars=800, test_chars=1500, grid=4, refine=False,
               mirror_maxiter=20, n_bootstrap=200, generate_chars=8)

SYSTEMS = (
    "model A alone", "model B alone",
    "segment pool, uniform", "segment pool, dev-tuned",
    "DeePEn (published), uniform",
    "DeePEn (improved), uniform", "DeePEn (improved), dev-tuned",
)
VARIANTS = {  # name -> (transfer, inverse method, lookahead); evaluated on dev, uniform weights
    "published: embedding transfer, AdamW": ("embedding", "adamw", False),
    "shared-prefix transfer, AdamW": ("shared-prefix", "adamw", False),
    "shared-prefix transfer, mirror": ("shared-prefix", "mirror", False),
    "shared-prefix + lookahead, AdamW": ("shared-prefix", "adamw", True),
    "shared-prefix + lookahead, mirror": ("shared-prefix", "mirror", True),
    "main-pieces transfer, AdamW": ("main-pieces", "adamw", False),
    "main-pieces transfer, mirror": ("main-pieces", "mirror", False),
    "main-pieces + lookahead, AdamW": ("main-pieces", "adamw", True),
    "main-pieces + lookahead, mirror": ("main-pieces", "mirror", True),
}
PUBLISHED = "published: embedding transfer, AdamW"


def load_split(cfg: Config, quick: bool):
    chapters = read_chapters() if quick else kjv_chapters()
    source = ("KJV excerpt bundled in tests/fusion/data (Genesis 1-8, Matthew 1-8)" if quick
              else "KJV Bible (Debian bible-kjv-text 4.38)")
    return complementary_split(chapters, held_every=cfg.held_every, dev_chars=cfg.dev_chars,
                               test_chars=cfg.test_chars), source


# --------------------------------------------------------------------------- one text, one main
class Part:
    """Everything the systems need on one held-out text (dev or test) for a given main model."""

    def __init__(self, text: str, blocks: tuple[str, ...], models, main: int, chars: list[str]):
        self.text, self.main, self.asst = text, main, 1 - main
        self.scored = [score_model(m, text) for m in models]
        self.block_starts = np.cumsum([0] + [len(b) + 1 for b in blocks[:-1]])
        self.seg_starts = segment_starts(text)
        S, A = self.scored[main], self.scored[self.asst]
        pos = S.starts
        self.y = S.ids
        self.pos = pos
        arr = np.array(list(text))
        at_word = (pos == 0) | (arr[pos] == " ") | (arr[np.maximum(pos - 1, 0)] == " ")
        a_index = {p: j for j, p in enumerate(A.starts)}
        rows = np.empty((pos.size, len(models[self.asst].vocabulary)))
        canon = at_word & np.isin(pos, A.starts)
        rows[canon] = A.logprobs[[a_index[p] for p in pos[canon]]]
        inside = np.flatnonzero(~canon)
        asst = models[self.asst]
        rows[inside] = asst.logprobs(asst.contexts_for_prefixes([text[:p] for p in pos[inside]]))
        self.z = [None, None]
        self.z[main], self.z[self.asst] = S.logprobs, rows
        # Word-start lookahead for the assistant at positions inside a word.
        self.inside = inside
        # (The BPE pre-tokenizer isolates spaces, so a word starts after its space.)
        self.partials, ws_rows = [], []
        for p in pos[inside]:
            partial = split_partial_word(text[max(0, p - 64):p], space_prefixed=False)[1]
            j = a_index.get(p - len(partial))
            self.partials.append(partial if j is not None else "")
            ws_rows.append(0 if j is None else j)
        self.ws_rows = A.logprobs[np.asarray(ws_rows, dtype=np.intp)]
        # Shared boundaries and next-character targets.
        self.shared = np.intersect1d(S.starts, A.starts)
        self.shared_main_rows = np.searchsorted(pos, self.shared)
        index = {c: i for i, c in enumerate(chars)}
        self.char_targets = np.array([index[c] for c in arr[self.shared]])
        self.M = [first_char_matrix(m.vocabulary, chars) for m in models]
        self.char_lp = [char_log_marginal(s.logprobs[np.searchsorted(s.starts, self.shared)], M)
                        for s, M in zip(self.scored, self.M)]
        self.seg_lp = pool_segments(self.scored, self.seg_starts)

    def relatives(self, transfers, lookahead: bool, anchors, pieces=None) -> list[np.ndarray]:
        rels = relative_distributions(self.z, transfers)
        if lookahead and self.inside.size:
            a = self.asst
            # Both vocabularies isolate spaces, so the main model's partial word is the same.
            rels[a][self.inside] = word_start_relative(
                self.ws_rows, self.partials, anchors.vocabularies[a], anchors.tokens,
                rels[a][self.inside], pieces=pieces,
                main_partials=self.partials if pieces is not None else None)
        return rels

    def score_tokens(self, logprobs: np.ndarray) -> SystemScore:
        nll = -logprobs[np.arange(self.y.size), self.y]
        char_lp = char_log_marginal(logprobs[self.shared_main_rows], self.M[self.main])
        return system_score(nll, self.pos, char_lp, self.shared, self.char_targets,
                            self.block_starts, len(self.text))

    def score_model(self, m: int) -> SystemScore:
        s = self.scored[m]
        return system_score(-s.token_lp, s.starts, self.char_lp[m], self.shared,
                            self.char_targets, self.block_starts, len(self.text))

    def score_pool(self, w: float) -> SystemScore:
        logw = np.log(np.array([w, 1.0 - w]) + 1e-300)[:, None]
        seg = logsumexp(self.seg_lp + logw, axis=0)
        char_lp = pool_char_logprobs(self.scored, self.char_lp, self.shared, self.seg_starts, w)
        return system_score(-seg, self.seg_starts, char_lp, self.shared, self.char_targets,
                            self.block_starts, len(self.text))


class _Anchors:
    def __init__(self, anchors, vocabularies):
        self.tokens, self.indices, self.vocabularies = (anchors.tokens, anchors.indices,
                                                        vocabularies)


# --------------------------------------------------------------------------- tasks
def train_model(seed: int, k: int, cfg: Config, text: str, tokenizer) -> MLPLanguageModel:
    """Model k (0 = A, 1 = B) of a training seed, trained on its half of the text."""
    model = MLPLanguageModel(tokenizer, context=cfg.context, dim=cfg.dim, hidden=cfg.hidden,
                             seed=1000 * seed + k)
    model.fit(np.array(tokenizer.encode(text)), steps=cfg.steps, seed=1000 * seed + k)
    return model


class _Setup:
    """What both evaluation tasks of a seed share: the main model (the better one on dev),
    the anchors and the two held-out texts."""

    def __init__(self, models, cfg: Config, split):
        self.dev_text, self.test_text = " ".join(split.dev), " ".join(split.test)
        dev_single = [score_model(m, self.dev_text) for m in models]
        self.dev_bpc = [float(-s.token_lp.sum() / np.log(2) / len(self.dev_text))
                        for s in dev_single]
        self.main = int(np.argmin(self.dev_bpc))
        self.vocabs = [list(m.vocabulary) for m in models]
        self.anchors = _Anchors(common_anchors(self.vocabs), self.vocabs)
        chars = sorted(set(self.dev_text + self.test_text))
        self.dev = Part(self.dev_text, split.dev, models, self.main, chars)
        self.test = Part(self.test_text, split.test, models, self.main, chars)


def _fused(part: Part, T_main, rels, weights, method: str, cfg: Config) -> np.ndarray:
    mirror = {"tol": cfg.mirror_tol, "maxiter": cfg.mirror_maxiter}
    out = fuse_relative(part.z[part.main], rels, T_main, weights=weights, method=method,
                        **(mirror if method == "mirror" else {}))
    return out.log_probs()


def evaluate_published(seed: int, models, cfg: Config, split) -> dict:
    """DeePEn as published (dense embedding transfers): dev and test BPC, and diagnostics."""
    t0 = time.perf_counter()
    st = _Setup(models, cfg, split)
    main = st.main
    transfers = [transfer_matrix(m.input_embeddings, idx)
                 for m, idx in zip(models, st.anchors.indices)]
    _, method, _ = VARIANTS[PUBLISHED]
    scores = {}
    for name, part in (("dev", st.dev), ("test", st.test)):
        rels = part.relatives(transfers, False, st.anchors)
        scores[name] = part.score_tokens(_fused(part, transfers[main], rels, None, method, cfg))
    T = transfers[main]
    ix = st.anchors.indices[main]
    return {
        "dev_bpc": scores["dev"].bpc, "test": scores["test"],
        "diagnostics": {
            "embedding_transfer_anchor_self_mass": float(np.diag(T[ix]).mean()),
            "embedding_transfer_row_entropy_nats": float(
                -(T * np.log(np.maximum(T, 1e-300))).sum(axis=1).mean()),
        },
        "seconds": time.perf_counter() - t0,
    }


def evaluate_improved(seed: int, models, cfg: Config, split) -> dict:
    """Single models, the segment pool, and the string-transfer variants of DeePEn: the best
    variant on dev (uniform weights), its dev-tuned weights, and everything on test."""
    t0 = time.perf_counter()
    st = _Setup(models, cfg, split)
    main, anchors, vocabs, dev, test = st.main, st.anchors, st.vocabs, st.dev, st.test
    main_pieces = TokenPieces(models[main].tokenize, vocabs[main])
    pieces = {"shared-prefix": None, "main-pieces": main_pieces}
    transfers = {kind: [shared_prefix_transfer(v, anchors.tokens, embeddings=m.input_embeddings,
                                               anchor_idx=idx,
                                               pieces=None if k == main else pieces[kind])
                        for k, (m, v, idx) in enumerate(zip(models, vocabs, anchors.indices))]
                 for kind in pieces}
    mirror = {"tol": cfg.mirror_tol, "maxiter": cfg.mirror_maxiter}

    def relatives(part: Part, name: str):
        kind, method, look = VARIANTS[name]
        return part.relatives(transfers[kind], look, anchors, pieces[kind]), kind, method

    dev_variants = {}
    for name in VARIANTS:
        if name == PUBLISHED:
            continue
        rels, kind, method = relatives(dev, name)
        dev_variants[name] = dev.score_tokens(
            _fused(dev, transfers[kind][main], rels, None, method, cfg)).bpc
    improved = min(dev_variants, key=dev_variants.get)
    rels, kind, method = relatives(dev, improved)
    logits = [None, None]
    logits[main] = dev.z[main]
    fit = fit_fusion_weights(logits, dev.y, transfers[kind], relatives=rels, main=main,
                             method=method, resolution=cfg.grid, refine=cfg.refine,
                             **(mirror if method == "mirror" else {}))
    pool_w = fit_pool_weight(dev.seg_lp)
    # The pool on dev (its weight is fitted there, so the tuned value is in-sample): the
    # improved transfer is meant to close the gap to it.
    dev_pool = {"segment pool, uniform": dev.score_pool(0.5).bpc,
                "segment pool, dev-tuned": dev.score_pool(pool_w).bpc}
    rels, kind, method = relatives(test, improved)
    fused_uniform = _fused(test, transfers[kind][main], rels, None, method, cfg)
    scores = {
        "model A alone": test.score_model(0),
        "model B alone": test.score_model(1),
        "segment pool, uniform": test.score_pool(0.5),
        "segment pool, dev-tuned": test.score_pool(pool_w),
        "DeePEn (improved), uniform": test.score_tokens(fused_uniform),
        "DeePEn (improved), dev-tuned": test.score_tokens(
            _fused(test, transfers[kind][main], rels, fit.weights, method, cfg)),
    }
    ix = anchors.indices[main]
    non_anchor = np.ones(len(vocabs[main]), dtype=bool)
    non_anchor[ix] = False
    diagnostics = {
        "main": "AB"[main], "n_anchors": len(anchors.tokens),
        "anchor_share_of_vocabularies": [len(anchors.tokens) / len(v) for v in vocabs],
        "main_anchor_mass_test": float(anchor_mass(test.z[main], ix).mean()),
        "non_anchor_targets_test": float(non_anchor[test.y].mean()),
        "main_tokens_inside_words_test": float(test.inside.size / test.y.size),
    }
    diagnostics["bits_by_main_tokens_per_segment"] = _bits_by_segment_length(test, fused_uniform)
    generation = None
    if seed == cfg.seeds[0]:  # a sample of the estimator's generation loop, not a metric
        look = VARIANTS[improved][2]
        prompt = split.test[0][:40]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FusionCoverageWarning)
            fusion = DeePEnFusion(main=main, transfer=kind, lookahead=look, method=method,
                                  weights=fit.weights,
                                  solver_options=mirror if method == "mirror" else None)
            fusion.fit(models)
            alone = DeePEnFusion(main=main, lr=0.0).fit(models)
            n_new = cfg.generate_chars // 3
            generation = {
                "prompt": prompt,
                "main alone": alone.generate(prompt, max_new_tokens=n_new).text,
                "fusion (improved, dev-tuned)": fusion.generate(prompt, max_new_tokens=n_new).text,
                "coverage warnings": len(caught),
            }
    return {
        "main": "AB"[main], "dev_bpc_single": st.dev_bpc, "dev_variants": dev_variants,
        "dev_pool": dev_pool,
        "improved_variant": improved, "pool_weight_A": pool_w,
        "weights": {"improved": fit.weights}, "scores": scores, "diagnostics": diagnostics,
        "generation": generation, "seconds": time.perf_counter() - t0,
        "test_chars": len(st.test_text), "test_main_tokens": int(test.y.size),
        "test_shared_boundaries": int(test.shared.size), "test_blocks": len(split.test),
    }


def _bits_by_segment_length(part: Part, fused_logprobs: np.ndarray) -> dict:
    """Test bits of the uniform pool, the fusion and each model, by the number of main-model
    tokens in a segment ("2" is a word that is one token, then the space)."""
    seg_of = block_ids(part.pos, part.seg_starts)
    n_tok = np.bincount(seg_of, minlength=part.seg_starts.size)
    fused = np.bincount(seg_of, weights=fused_logprobs[np.arange(part.y.size), part.y],
                        minlength=part.seg_starts.size)
    pool = logsumexp(part.seg_lp + np.log(0.5), axis=0)
    out = {}
    for label, sel in (("1-2", n_tok <= 2), ("3", n_tok == 3), ("4+", n_tok >= 4)):
        out[label] = {"segments": int(sel.sum()),
                      "pool": float(-pool[sel].sum() / np.log(2)),
                      "fusion": float(-fused[sel].sum() / np.log(2)),
                      "main": float(-part.seg_lp[part.main][sel].sum() / np.log(2)),
                      "assistant": float(-part.seg_lp[part.asst][sel].sum() / np.log(2))}
    return out


def merge(seed: int, published: dict, improved: dict, train_seconds: list[float]) -> dict:
    out = dict(improved)
    out["seed"] = seed
    out["dev_variants"] = {PUBLISHED: published["dev_bpc"], **improved["dev_variants"]}
    best = improved["dev_variants"][improved["improved_variant"]]
    out["improved_kept"] = best < published["dev_bpc"]
    out["improved_closes_pool_gap_on_dev"] = best <= min(improved["dev_pool"].values())
    out["scores"] = {name: (published["test"] if name == "DeePEn (published), uniform"
                            else improved["scores"][name]) for name in SYSTEMS}
    out["diagnostics"] = {**improved["diagnostics"], **published["diagnostics"]}
    out["timings"] = {"train": train_seconds, "published": published["seconds"],
                      "improved": improved["seconds"]}
    return out


# --------------------------------------------------------------------------- intervals
def block_interval(a: SystemScore, b: SystemScore, n_resamples: int, seed: int,
                   what: str = "bpc") -> tuple[float, float]:
    """95% block-bootstrap interval of ``metric(a) - metric(b)`` over the test blocks."""
    if what == "bpc":
        data = (a.bits - b.bits, a.chars)
    else:
        data = (a.correct - b.correct, a.boundaries)

    def ratio(num, den, axis=-1):
        return num.sum(axis=axis) / den.sum(axis=axis)

    res = stats.bootstrap(data, ratio, paired=True, vectorized=True, n_resamples=n_resamples,
                          method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def seed_interval(values) -> tuple[float, float, float]:
    """Mean and 95% t-interval over seeds."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return float(v.mean()), float("nan"), float("nan")
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def summarise(results: list[dict], cfg: Config) -> dict:
    table = {}
    for name in SYSTEMS:
        bpc = [r["scores"][name].bpc for r in results]
        acc = [r["scores"][name].accuracy for r in results]
        table[name] = {"bpc": seed_interval(bpc), "acc": seed_interval(acc),
                       "bpc_per_seed": bpc}
    comparisons = {}
    for name in SYSTEMS[2:]:
        for against in ("best single", "segment pool, dev-tuned"):
            if name == against:
                continue
            per_seed = []
            for r in results:
                s = r["scores"]
                ref = (min((s["model A alone"], s["model B alone"]), key=lambda x: x.bpc)
                       if against == "best single" else s[against])
                d = s[name].bpc - ref.bpc
                lo, hi = block_interval(s[name], ref, cfg.n_bootstrap, r["seed"])
                per_seed.append({"seed": r["seed"], "delta": d, "ci": (lo, hi)})
            comparisons[f"{name} vs {against}"] = {
                "per_seed": per_seed,
                "over_seeds": seed_interval([p["delta"] for p in per_seed]),
                "better_on_every_seed_with_ci": all(p["ci"][1] < 0 for p in per_seed),
            }
    dev = {name: seed_interval([r["dev_variants"][name] for r in results]) for name in VARIANTS}
    for name in results[0]["dev_pool"]:
        dev[name] = seed_interval([r["dev_pool"][name] for r in results])
    return {"table": table, "comparisons": comparisons, "dev_variants": dev}


def _fmt(ci: tuple[float, float, float], digits: int = 3) -> str:
    m, lo, hi = ci
    if np.isnan(lo):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})"


def markdown(summary: dict, results: list[dict]) -> str:
    seeds = ", ".join(str(r["seed"]) for r in results)
    lines = [f"| system | BPC, mean over seeds (95% t-interval) | BPC per seed ({seeds}) | "
             "next-char acc. at shared boundaries |", "|---|---|---|---|"]
    for name, row in summary["table"].items():
        per = " / ".join(f"{b:.3f}" for b in row["bpc_per_seed"])
        lines.append(f"| {name} | {_fmt(row['bpc'])} | {per} | {_fmt(row['acc'])} |")
    lines += ["", "| comparison (Δ BPC, negative = first is better) | mean over seeds (95% "
              "t-interval) | per seed: Δ [95% block-bootstrap interval] | better on every "
              "seed, interval excluding 0 |", "|---|---|---|---|"]
    for name, c in summary["comparisons"].items():
        per = "; ".join(f"{p['delta']:+.3f} [{p['ci'][0]:+.3f}, {p['ci'][1]:+.3f}]"
                        for p in c["per_seed"])
        lines.append(f"| {name} | {_fmt(c['over_seeds'])} | {per} | "
                     f"{'yes' if c['better_on_every_seed_with_ci'] else 'no'} |")
    lines += ["", "| DeePEn variant (dev, uniform weights), and the pool on dev | dev BPC, mean "
              "over seeds (95% t-interval) |", "|---|---|"]
    for name, ci in summary["dev_variants"].items():
        lines.append(f"| {name} | {_fmt(ci)} |")
    lines += ["", "Improved variant chosen on dev, per seed: " + "; ".join(
        f"{r['seed']}: {r['improved_variant']} (beats the published on dev: "
        f"{'yes' if r['improved_kept'] else 'no'}; at least as good as the pool on dev: "
        f"{'yes' if r['improved_closes_pool_gap_on_dev'] else 'no'})" for r in results)]
    return "\n".join(lines)


def run(cfg: Config, quick: bool = False, n_jobs: int = 1, log=print) -> dict:
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    split, source = load_split(cfg, quick)
    log(f"text: {source}; train halves {split.train_names[0]} ({len(split.train[0])} chars) and "
        f"{split.train_names[1]} ({len(split.train[1])} chars); dev {len(split.dev)} blocks, "
        f"test {len(split.test)} blocks")
    alphabet = "".join(sorted(set("".join(split.train + split.dev + split.test))))
    tokenizers = [BPETokenizer(text, v, alphabet=alphabet)
                  for text, v in zip(split.train, cfg.vocab)]
    # Two balanced phases of parallel tasks: the 2 x seeds models, then two evaluation tasks
    # per seed (the dense published DeePEn, and everything else).
    parallel = Parallel(n_jobs=n_jobs)
    jobs = [(seed, k) for seed in cfg.seeds for k in (0, 1)]
    t0 = time.perf_counter()
    trained = parallel(delayed(_timed)(train_model, seed, k, cfg, split.train[k], tokenizers[k])
                       for seed, k in jobs)
    models = {job: model for job, (model, _) in zip(jobs, trained)}
    train_seconds = {job: sec for job, (_, sec) in zip(jobs, trained)}
    log(f"trained {len(jobs)} models in {time.perf_counter() - t0:.0f} s")
    tasks = [(seed, task) for seed in cfg.seeds for task in ("published", "improved")]
    outputs = parallel(delayed(evaluate_published if task == "published" else evaluate_improved)(
        seed, [models[(seed, 0)], models[(seed, 1)]], cfg, split) for seed, task in tasks)
    by_task = dict(zip(tasks, outputs))
    results = [merge(seed, by_task[(seed, "published")], by_task[(seed, "improved")],
                     [train_seconds[(seed, 0)], train_seconds[(seed, 1)]])
               for seed in cfg.seeds]
    summary = summarise(results, cfg)
    return {
        "source": source, "config": asdict(cfg), "train_halves": split.train_names,
        "test_blocks": split.test_names, "results": results, "summary": summary,
        "total_seconds": time.perf_counter() - t_start,
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
    }


def _timed(fn, *args):
    t0 = time.perf_counter()
    return fn(*args), time.perf_counter() - t0


def _json_default(x):
    if isinstance(x, SystemScore):
        return {"bpc": x.bpc, "accuracy": x.accuracy}
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    raise TypeError(type(x).__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny run on the bundled excerpt (seconds; used by the CI test)")
    parser.add_argument("--n-jobs", type=int, default=2, help="seeds run in parallel")
    parser.add_argument("--seeds", type=str, help="comma-separated training seeds")
    parser.add_argument("--json", type=Path, help="write all results to this JSON file")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else Config()
    if args.seeds:
        cfg = replace(cfg, seeds=tuple(int(s) for s in args.seeds.split(",")))
    res = run(cfg, quick=args.quick, n_jobs=args.n_jobs)
    print(markdown(res["summary"], res["results"]))
    for r in res["results"]:
        print(json.dumps({k: r[k] for k in ("seed", "main", "improved_variant", "improved_kept",
                                            "improved_closes_pool_gap_on_dev",
                                            "dev_pool", "pool_weight_A", "weights", "diagnostics",
                                            "timings", "seconds", "generation")},
                         default=_json_default))
    print(f"total {res['total_seconds']:.0f} s; load average at start "
          f"{res['load_average_start']}, at end {res['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=_json_default))


if __name__ == "__main__":
    main()
