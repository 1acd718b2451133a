"""llmcopula: copula models of the confidences and errors of several LLMs, for cheaper and more
accurate cascades, ensembles and fusion."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("llmcopula")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
