"""The import rules of ARCHITECTURE.md, enforced: a wrong arrow between layers fails here.

The tables below are the source of truth. To add a package, put it in a layer of ``LAYERS``
(and, if it must be narrower than its layer allows, in ``ONLY``); a package that is in no layer
fails ``test_every_package_is_placed_in_a_layer``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "llmcopula"

#: Bottom to top. A module may import its own package and any package of a lower layer; never a
#: package of its own layer (peers stay independent) or of a higher one.
LAYERS: list[set[str]] = [
    {"__init__", "_validation", "_estimator", "_deprecation", "_cli_errors",
     "_cli_columns"},                                            # foundations
    {"copulas", "datasets", "calibration", "policy"},            # models of data, file formats
    {"cascade", "selection", "ranking", "fusion", "monitoring"},  # methods
    {"experiments", "serve", "deploy", "planning"},              # harnesses and services
    {"cli"},                                                     # the command line
]

#: Packages narrower than their layer: the only llmcopula packages they may import.
ONLY: dict[str, set[str]] = {
    # copulas and datasets depend on nothing app-level
    "copulas": {"_validation", "_estimator", "_deprecation"},
    "datasets": {"_validation", "_estimator", "_deprecation"},
    "calibration": {"_validation", "_estimator", "_deprecation"},
    # a deployable policy loads without the fitting stack: no other llmcopula module at all
    "policy": set(),
    # drift checks of a deployed policy: what the gateway may use, so no fitting code either
    "monitoring": {"policy", "_validation", "_deprecation"},
    # the gateway applies policies; it never fits (no cascade, copulas, selection, calibration)
    "serve": {"policy", "datasets", "monitoring", "_validation", "_deprecation"},
    "cascade": {"copulas", "datasets", "calibration", "policy",
                "_validation", "_estimator", "_deprecation", "_cli_errors", "_cli_columns",
                "__init__"},
}

#: Packages whose third-party imports are restricted (the standard library is always allowed).
THIRD_PARTY: dict[str, set[str]] = {
    "policy": {"numpy"},
}

_LAYER_OF = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def _package_of(path: Path) -> str:
    """The package of a module; a package's ``cli.py`` (its subcommand) is command line, layer 4,
    as ARCHITECTURE.md places it."""
    if path.name == "cli.py":
        return "cli"
    rel = path.relative_to(PACKAGE)
    head = rel.parts[0]
    return head[:-3] if head.endswith(".py") else head


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, wherever it appears (inside
    functions and ``if TYPE_CHECKING:`` blocks included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None or target == "llmcopula":
                # "from . import x" / "from llmcopula import x": each name may be a subpackage
                out.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
            else:
                out.append((node.lineno, target))
    return out


def _target_package(module: str) -> str | None:
    """The llmcopula package a module belongs to (None for other libraries)."""
    parts = module.split(".")
    if parts[0] != "llmcopula":
        return None
    if len(parts) == 1:
        return "__init__"
    name = parts[1]
    return name if name in _LAYER_OF or (PACKAGE / name).is_dir() or (
        PACKAGE / f"{name}.py").is_file() else "__init__"


def violation(importer: str, module: str) -> str | None:
    """Why package ``importer`` may not import ``module``, or None if it may."""
    target = _target_package(module)
    if target is None:
        allowed = THIRD_PARTY.get(importer)
        top = module.split(".")[0]
        if allowed is not None and top not in allowed and top not in sys.stdlib_module_names:
            return f"{importer} may import only {sorted(allowed)} and the standard library"
        return None
    if target == importer:
        return None
    if importer in ONLY:
        return None if target in ONLY[importer] else (
            f"{importer} may import only {sorted(ONLY[importer]) or 'no llmcopula module'}")
    if target not in _LAYER_OF:
        return f"{target} is in no layer"
    if _LAYER_OF[target] >= _LAYER_OF[importer]:
        where = "its own layer" if _LAYER_OF[target] == _LAYER_OF[importer] else "a higher layer"
        return f"{target} is in {where}"
    return None


def _files():
    return sorted(p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts)


def test_every_package_is_placed_in_a_layer():
    unplaced = sorted({_package_of(p) for p in _files()} - set(_LAYER_OF))
    assert unplaced == [], f"add {unplaced} to LAYERS in {Path(__file__).name}"


def test_no_import_crosses_the_layer_rules():
    problems = []
    for path in _files():
        importer = _package_of(path)
        for line, module in _imports(path):
            why = violation(importer, module)
            if why:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}: "
                                f"{why}")
    assert problems == []


@pytest.mark.parametrize("importer, module, allowed", [
    ("cascade", "llmcopula.copulas.registry", True),
    ("cascade", "llmcopula.policy", True),
    ("cascade", "llmcopula.ranking", False),          # a peer
    ("copulas", "llmcopula.cascade.model", False),     # upward
    ("copulas", "llmcopula.datasets", False),          # nothing app-level
    ("datasets", "llmcopula._validation", True),
    ("calibration", "llmcopula.datasets", False),
    ("policy", "llmcopula._validation", False),        # no llmcopula module at all
    ("policy", "numpy", True),
    ("policy", "json", True),
    ("policy", "scipy.stats", False),
    ("serve", "llmcopula.policy", True),
    ("serve", "llmcopula.cascade", False),
    ("serve", "llmcopula.calibration", False),
    ("serve", "llmcopula.monitoring", True),
    ("monitoring", "llmcopula.cascade", False),
    ("experiments", "llmcopula.cascade.methods", True),
    ("experiments", "llmcopula.cli", False),
    ("ranking", "llmcopula.calibration", True),
    ("cli", "llmcopula.experiments", True),
    ("planning", "llmcopula.cascade.methods", True),  # above both methods it compares
    ("planning", "llmcopula.selection", True),
    ("selection", "llmcopula.planning", False),        # upward
    ("planning", "llmcopula.experiments", False),      # a peer
    ("cli", "llmcopula._cli_errors", True),
    ("selection", "llmcopula._cli_errors", True),
])
def test_the_checker_flags_wrong_arrows(importer, module, allowed):
    assert (violation(importer, module) is None) is allowed


def test_relative_imports_are_resolved(tmp_path):
    path = PACKAGE / "cascade" / "baselines" / "grid.py"
    found = {m for _, m in _imports(path)}
    assert "llmcopula.cascade.frontier" in found and "llmcopula.calibration" in found
