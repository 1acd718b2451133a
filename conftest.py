"""Collection settings for the whole repository: the test suite and the docstring examples of
the package (``pytest --doctest-modules llmcopula``).

Package modules that need an optional dependency are collected only when it is installed, and
the deprecated module aliases (which warn on import and hold nothing to test) never are.
"""

from __future__ import annotations

import importlib.util

#: Package module -> the optional packages its import or its examples need.
OPTIONAL_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "llmcopula/fusion/hf.py": ("torch", "transformers"),
    "llmcopula/serve/gateway.py": ("fastapi", "httpx"),
}

#: Deprecated aliases of moved modules, kept for one release.
DEPRECATED_ALIASES: tuple[str, ...] = (
    "llmcopula/cascade/calibration.py",
    "llmcopula/cascade/transforms.py",
    "llmcopula/cascade/pair_copulas.py",
)


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


collect_ignore = [path for path, deps in OPTIONAL_DEPENDENCIES.items()
                  if any(_missing(d) for d in deps)]
collect_ignore += list(DEPRECATED_ALIASES)
