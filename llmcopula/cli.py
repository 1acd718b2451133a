"""The ``llmcopula`` command line: ``tune``, ``select`` and ``reproduce``.

Thin by design: each subcommand parses its options, calls the library and prints or writes the
result. Bad input surfaces as a one-line error message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]

# Subcommand modules; each provides ``add_parser(subparsers)`` and sets ``func`` to run it.
_SUBCOMMANDS = ("llmcopula.cascade.cli", "llmcopula.selection.cli", "llmcopula.experiments.cli",
                "llmcopula.serve.cli", "llmcopula.planning.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmcopula", allow_abbrev=False,
        description="Copula models of several LLMs' confidences and errors: cascade threshold "
                    "tuning, ensemble selection, and their evaluation on bundled real data.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"llmcopula {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"llmcopula {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
