"""Small numpy language models with different tokenizers, for the end-to-end fusion benchmark.

Nothing here is part of the installed package: it trains a character-level and a BPE-level
MLP language model on public-domain text and measures DeePEn fusion on a common per-character
footing (see ``benchmarks/bench_fusion.py``).
"""
