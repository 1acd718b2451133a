"""Execute the notebooks as Jupyter does, store their outputs, and render the gallery figures.

    python tools/notebooks.py            # execute notebooks/*.ipynb in place, write docs/figures/
    python tools/notebooks.py --check    # execute into memory, compare with the committed files

Each notebook runs in a fresh Jupyter kernel started **without** ``MPLBACKEND`` in its
environment, as in a user's Jupyter: ipykernel only selects its inline backend when that variable
is unset, and a shell or CI job that exports ``MPLBACKEND=Agg`` would otherwise make every figure
vanish. The kernel's working directory is a temporary directory, so files a notebook writes never
land in the repository.

A code cell tagged ``gallery:NAME`` (cell metadata ``tags``) has its first figure written to
``docs/figures/NAME.png``; the README shows these. The test suite
(``tests/test_notebooks.py``) runs the same functions in CI: every notebook executes, every
plotting cell displays an image, the text outputs agree with the committed ones up to numerical
noise, and every gallery figure is rendered — so neither the notebooks' outputs nor the figures
can go stale silently.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIGURES = ROOT / "docs" / "figures"
GALLERY_TAG = "gallery:"
TIMEOUT_S = 900

# A cell draws a figure when its code (imports aside) creates or fills matplotlib axes, or uses
# one of the package's Display classes.
_PLOTTING = re.compile(
    r"\bplt\.(subplots|subplot|figure|plot|hist|bar|barh|scatter|imshow)\("
    r"|\.(plot|hist|scatter|bar|barh|errorbar|fill_between|contour)\("
    r"|\bDisplay\.from_\w+\(|\.from_(model|frontier|predictions|triples?)\("
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def kernel_environment() -> dict[str, str]:
    """The caller's environment without ``MPLBACKEND`` (see the module docstring)."""
    return {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}


def execute(path: str | os.PathLike[str], *, timeout: int = TIMEOUT_S) -> Any:
    """Run every cell of the notebook at ``path`` in a fresh kernel; return the executed
    notebook (the file is not modified). Raises ``nbclient.exceptions.CellExecutionError``
    naming the failing cell."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="llmcopula-nb-") as work:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": work}}, record_timing=False)
        client.execute(env=kernel_environment())
    return normalise(nb)


def normalise(nb: Any) -> Any:
    """Drop what changes from run to run without changing the content (kernel and language
    versions), so that re-executing an unchanged notebook gives an unchanged file."""
    nb.metadata.pop("widgets", None)
    lang = nb.metadata.get("language_info")
    if lang is not None:
        nb.metadata["language_info"] = {"name": lang.get("name", "python")}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def is_plotting_cell(cell: Any) -> bool:
    """Whether a code cell draws a figure (by its source; import lines are ignored)."""
    if cell.cell_type != "code":
        return False
    code = "\n".join(line for line in cell.source.splitlines()
                     if not re.match(r"\s*(from\s+\S+\s+)?import\s", line))
    return bool(_PLOTTING.search(code))


def images(cell: Any) -> list[bytes]:
    """The PNG images a code cell displayed."""
    out = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            out.append(base64.b64decode(data["image/png"]))
    return out


def cells_without_figures(nb: Any) -> list[int]:
    """Indices of plotting cells that displayed no image."""
    return [i for i, cell in enumerate(nb.cells) if is_plotting_cell(cell) and not images(cell)]


def gallery(nb: Any) -> dict[str, bytes]:
    """``{name: png}`` for every cell tagged ``gallery:name`` (its first image)."""
    out = {}
    for i, cell in enumerate(nb.cells):
        for tag in cell.metadata.get("tags", []):
            if tag.startswith(GALLERY_TAG):
                found = images(cell)
                if not found:
                    raise ValueError(f"cell {i} is tagged {tag!r} but displayed no image")
                out[tag[len(GALLERY_TAG):]] = found[0]
    return out


def write_gallery(nb: Any, directory: str | os.PathLike[str]) -> list[Path]:
    """Write the notebook's gallery figures into ``directory``; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, png in gallery(nb).items():
        path = directory / f"{name}.png"
        path.write_bytes(png)
        paths.append(path)
    return paths


def text_outputs(cell: Any) -> str:
    """What a code cell printed or returned as text (streams and ``text/plain``)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            parts.append(output.get("text", ""))
        elif "data" in output and "image/png" not in output["data"]:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def _numbers_agree(a: str, b: str, rel: float, abs_: float) -> bool:
    x, y = float(a), float(b)
    return math.isclose(x, y, rel_tol=rel, abs_tol=abs_)


def text_differences(committed: Any, executed: Any, *, rel: float = 0.02,
                     abs_: float = 2e-3) -> list[str]:
    """Cells whose text output differs between two versions of a notebook.

    Words must match exactly; numbers may differ by ``rel`` (relative) or ``abs_`` (absolute),
    which absorbs the last printed digit moving between library versions but not a change of
    method or data."""
    problems = []
    if len(committed.cells) != len(executed.cells):
        return [f"{len(committed.cells)} cells committed, {len(executed.cells)} executed"]
    for i, (c, e) in enumerate(zip(committed.cells, executed.cells)):
        if c.cell_type != "code":
            continue
        tc, te = text_outputs(c), text_outputs(e)
        if _NUMBER.sub("#", tc) != _NUMBER.sub("#", te):
            problems.append(f"cell {i}: committed output {tc[:200]!r} but the run printed "
                            f"{te[:200]!r}")
            continue
        pairs = zip(_NUMBER.findall(tc), _NUMBER.findall(te))
        bad = [(a, b) for a, b in pairs if not _numbers_agree(a, b, rel, abs_)]
        if bad:
            problems.append(f"cell {i}: numbers differ (committed, run): {bad[:5]}")
    return problems


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; compare with the committed notebooks and exit 1 on a "
                             "difference")
    parser.add_argument("--figures-dir", type=Path, default=FIGURES,
                        help="where the gallery figures go (default: docs/figures)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks or notebook_paths():
        print(f"executing {path.name} ...", flush=True)
        nb = execute(path)
        missing = cells_without_figures(nb)
        if missing:
            print(f"  plotting cells without a figure: {missing}")
            status = 1
        if args.check:
            for line in text_differences(nbformat.read(path, as_version=4), nb):
                print(f"  {line}")
                status = 1
        else:
            nbformat.write(nb, path)
            for fig in write_gallery(nb, args.figures_dir):
                print(f"  wrote {fig.relative_to(ROOT) if fig.is_relative_to(ROOT) else fig}")
    return status


if __name__ == "__main__":
    sys.exit(main())
