"""Public-domain English text for the fusion benchmark, split into complementary halves.

Source: the King James Version of the Bible (1611), as shipped by the Debian packages
``bible-kjv-text`` (the compressed text) and ``bible-kjv`` (the ``bible`` reader); version 4.38
was used. Install with ``apt-get install -y bible-kjv``. The packaging is GPL-2+; Debian ships the
text itself as public domain.

The quick mode (and the CI smoke test) reads ``tests/fusion/data/kjv_excerpt.txt`` instead: the
opening verses of 16 chapters in the reader's output format, made with :func:`write_excerpt`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Chapter", "Split", "EXCERPT", "kjv_chapters", "read_chapters", "write_excerpt",
           "complementary_split"]

EXCERPT = Path(__file__).resolve().parents[2] / "tests" / "fusion" / "data" / "kjv_excerpt.txt"

_HEADING = re.compile(r"[1-3]?\s?[A-Za-z ]+ \d+")
_VERSE_NUMBER = re.compile(r"^\s*\d+\s+")


@dataclass(frozen=True)
class Chapter:
    name: str
    text: str


@dataclass(frozen=True)
class Split:
    """Training halves, and held-out text as blocks (one excerpt of a chapter each)."""

    train: tuple[str, str]
    train_names: tuple[str, str]
    dev: tuple[str, ...]
    test: tuple[str, ...]
    test_names: tuple[str, ...]


def _parse(reader_output: str) -> list[Chapter]:
    chapters: list[Chapter] = []
    name, verses = None, []
    for line in reader_output.splitlines():
        line = line.strip()
        if not line:
            continue
        if _HEADING.fullmatch(line):
            if name is not None:
                chapters.append(Chapter(name, re.sub(r"\s+", " ", " ".join(verses)).strip()))
            name, verses = line, []
            continue
        verses.append(_VERSE_NUMBER.sub("", line))
    if name is not None:
        chapters.append(Chapter(name, re.sub(r"\s+", " ", " ".join(verses)).strip()))
    return chapters


def _reader() -> str:
    exe = shutil.which("bible")
    if exe is None:
        raise RuntimeError(
            "the `bible` reader is not installed; run `apt-get install -y bible-kjv` "
            "(Debian packages bible-kjv and bible-kjv-text), or use --quick"
        )
    return exe


def kjv_chapters(verses: str = "Gen1:1-Rev22:21") -> list[Chapter]:
    """Every chapter of a KJV verse range, as plain text (verse numbers and line wrapping
    removed, one space between verses)."""
    out = subprocess.run([_reader(), verses], check=True, capture_output=True, text=True).stdout
    return _parse(out)


def read_chapters(path: Path = EXCERPT) -> list[Chapter]:
    """Chapters from a file in the ``bible`` reader's output format."""
    return _parse(Path(path).read_text(encoding="utf-8"))


def write_excerpt(path: Path = EXCERPT, *, max_chars: int = 1500) -> None:
    """Write the quick mode's excerpt: the first verses (up to ``max_chars`` characters) of
    Genesis 1-8 and Matthew 1-8, in the reader's format. Needs the Debian package."""
    lines = []
    for book in ("Gen", "Mat"):
        for ch in range(1, 9):
            out = subprocess.run([_reader(), f"{book}{ch}:1-{ch}:200"], check=True,
                                 capture_output=True, text=True).stdout
            kept, size = [], 0
            for line in out.splitlines():
                if _VERSE_NUMBER.match(line) and size > max_chars:
                    break
                kept.append(line)
                size += len(line)
            lines.extend(kept)
    Path(path).write_text("\n".join(lines).strip() + "\n", encoding="utf-8")


def _cut(text: str, n: int) -> str:
    """The first ``n`` characters of ``text``, shortened to end before a space."""
    if len(text) <= n:
        return text
    cut = text.rfind(" ", 0, n)
    return text[: cut if cut > 0 else n]


def complementary_split(chapters: list[Chapter], *, held_every: int, dev_chars: int,
                        test_chars: int) -> Split:
    """Hold out every ``held_every``-th chapter (from the middle of each run of chapters),
    alternately for dev and test, keeping the first ``dev_chars`` / ``test_chars`` characters
    of each; split the remaining chapters, in order, into two halves of equal length: the first
    half trains one model and the second the other."""
    offset = held_every // 2
    held = [c for i, c in enumerate(chapters) if i % held_every == offset]
    rest = [c for i, c in enumerate(chapters) if i % held_every != offset]
    if len(held) < 4 or len(rest) < 2:
        raise ValueError(f"chapters: {len(chapters)} chapters are too few for held_every="
                         f"{held_every}")
    total = sum(len(c.text) for c in rest)
    halves: tuple[list[Chapter], list[Chapter]] = ([], [])
    seen = 0
    for c in rest:
        halves[0 if seen < total / 2 else 1].append(c)
        seen += len(c.text)
    return Split(
        train=(" ".join(c.text for c in halves[0]), " ".join(c.text for c in halves[1])),
        train_names=tuple(f"{h[0].name} - {h[-1].name}" for h in halves),  # type: ignore[arg-type]
        dev=tuple(_cut(c.text, dev_chars) for c in held[0::2]),
        test=tuple(_cut(c.text, test_chars) for c in held[1::2]),
        test_names=tuple(c.name for c in held[1::2]),
    )
