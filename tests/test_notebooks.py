"""The notebooks, run as a Jupyter user runs them: each executes in a fresh kernel, every plotting
cell displays its figure, the committed outputs are those the code produces, and the gallery
figures of the README are rendered from them (``tools/notebooks.py``).

The kernels start without ``MPLBACKEND`` whatever the test process has (CI and developers often
export ``MPLBACKEND=Agg``, which would stop ipykernel from selecting its inline backend).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("llmcopula_notebook_tool",
                                                  ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
NOTEBOOKS = tool.notebook_paths()
IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_notebooks_to_run():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_notebook_carries_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), \
        "not executed top to bottom: run python tools/notebooks.py"
    assert tool.cells_without_figures(nb) == [], "run python tools/notebooks.py"
    assert any(tool.images(c) for c in code)


def test_every_gallery_figure_is_committed_and_shown_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set()
    for path in NOTEBOOKS:
        names |= set(tool.gallery(nbformat.read(path, as_version=4)))
    assert names, "no cell is tagged gallery:NAME"
    for name in names:
        assert (ROOT / "docs" / "figures" / f"{name}.png").is_file(), name
        assert f"docs/figures/{name}.png" in readme, name
    shown = set(re.findall(r"docs/figures/([\w-]+)\.png", readme))
    assert shown <= names, f"the README shows figures no notebook renders: {shown - names}"


def test_committed_gallery_figures_are_the_committed_notebooks_images():
    """With the slow test below (the committed outputs are what the code produces), this closes
    the chain: a figure in docs/figures cannot differ from what the notebook draws."""
    for path in NOTEBOOKS:
        for name, png in tool.gallery(nbformat.read(path, as_version=4)).items():
            committed = (ROOT / "docs" / "figures" / f"{name}.png").read_bytes()
            assert committed == png, f"docs/figures/{name}.png is stale: run python " \
                                     f"tools/notebooks.py {path.relative_to(ROOT)}"


def test_plotting_cells_are_recognised():
    cell = nbformat.v4.new_code_cell
    assert tool.is_plotting_cell(cell("fig, ax = plt.subplots()\nax.plot([1, 2])"))
    assert tool.is_plotting_cell(cell("ErrorCostCurveDisplay.from_frontier(f, ax=ax)"))
    assert tool.is_plotting_cell(cell("disp = ReliabilityDisplay.from_model(model, test)"))
    assert not tool.is_plotting_cell(cell("import matplotlib.pyplot as plt\nx = 1"))
    assert not tool.is_plotting_cell(cell("from llmcopula.cascade import ErrorCostCurveDisplay"))
    assert not tool.is_plotting_cell(nbformat.v4.new_markdown_cell("plt.plot(x)"))


def test_text_comparison_allows_numerical_noise_but_not_a_changed_result():
    def nb(text):
        out = nbformat.v4.new_output("stream", name="stdout", text=text)
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print()", outputs=[out])])

    assert tool.text_differences(nb("A = 0.2646 over 18-344 $/M\n"),
                                 nb("A = 0.2647 over 18-344 $/M\n")) == []
    assert tool.text_differences(nb("A = 0.2646\n"), nb("A = 0.2846\n"))
    assert tool.text_differences(nb("picks (0, 3, 4)\n"), nb("picks (0, 1, 2)\n"))
    assert tool.text_differences(nb("greedy-mi picks\n"), nb("top-k picks\n"))


@pytest.mark.slow
def test_kernel_shows_figures_even_when_the_caller_exports_mplbackend(tmp_path, monkeypatch):
    """The harness itself: inline figures although the test process has MPLBACKEND=Agg, and a
    cell that switches to Agg is caught as a plotting cell without a figure."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    cells = [nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1])"),
             nbformat.v4.new_code_cell("import matplotlib\nmatplotlib.use('Agg')"),
             nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 0])")]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}),
        path)
    executed = tool.execute(path, timeout=120)
    assert len(tool.images(executed.cells[0])) == 1
    assert tool.cells_without_figures(executed) == [2]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_shows_every_figure_and_matches_its_committed_outputs(path, tmp_path):
    executed = tool.execute(path)
    assert tool.cells_without_figures(executed) == []
    committed = nbformat.read(path, as_version=4)
    assert tool.text_differences(committed, executed) == [], \
        "the committed outputs are stale: run python tools/notebooks.py"
    written = tool.write_gallery(executed, tmp_path)
    assert {p.stem for p in written} == set(tool.gallery(committed))
    assert all(p.stat().st_size > 5_000 for p in written)
