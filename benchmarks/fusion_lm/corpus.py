"""Public-domain English text for the fusion benchmark.

Primary source: the King James Version of the Bible (1611; public domain), as shipped by the
Debian packages ``bible-kjv-text`` (the compressed text, ``/usr/lib/bible.data``) and
``bible-kjv`` (the ``bible`` reader); version 4.38 was used. Install with
``apt-get install -y bible-kjv``. The packaging is GPL-2+, the text itself is out of copyright.

Fallback for smoke tests: ``this.s``, the Zen of Python (PSF licence), which ships with every
Python interpreter.
"""

from __future__ import annotations

import codecs
import re
import shutil
import subprocess

__all__ = ["kjv_text", "zen_of_python", "split_text"]

_VERSE_NUMBER = re.compile(r"^\s*\d+\s+")


def kjv_text(verses: str) -> str:
    """Plain text of a KJV verse range such as ``"Gen1:1-Num36:13"``, one space between lines.

    Chapter headings and verse numbers are removed; line wrapping is undone.
    """
    exe = shutil.which("bible")
    if exe is None:
        raise RuntimeError(
            "the `bible` reader is not installed; run `apt-get install -y bible-kjv` "
            "(Debian packages bible-kjv and bible-kjv-text)"
        )
    out = subprocess.run([exe, verses], check=True, capture_output=True, text=True).stdout
    words = []
    for line in out.splitlines():
        line = line.strip()
        if not line or re.fullmatch(r"[1-3]?\s?[A-Za-z ]+ \d+", line):  # chapter heading
            continue
        words.append(_VERSE_NUMBER.sub("", line))
    return re.sub(r"\s+", " ", " ".join(words)).strip()


def zen_of_python() -> str:
    """The Zen of Python (``import this``) as one line of text, without printing it."""
    import importlib
    import io
    from contextlib import redirect_stdout

    with redirect_stdout(io.StringIO()):
        this = importlib.import_module("this")
    return re.sub(r"\s+", " ", codecs.decode(this.s, "rot13")).strip()


def split_text(text: str, dev_chars: int, test_chars: int) -> tuple[str, str, str]:
    """Train / dev / test: the last ``dev_chars + test_chars`` characters are held out."""
    n_hold = dev_chars + test_chars
    if n_hold >= len(text):
        raise ValueError(f"text: {len(text)} characters cannot hold out {n_hold}")
    train = text[:-n_hold]
    dev = text[-n_hold:-test_chars]
    test = text[-test_chars:]
    return train, dev, test
