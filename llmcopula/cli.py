"""The ``llmcopula`` command line: ``tune``, ``select``, ``reproduce``, ``serve``, ``replay`` and
``monitor``.

Thin by design: each subcommand parses its options, calls the library and prints or writes the
result. :func:`main` is the one error boundary (see :mod:`llmcopula._cli_errors`): bad input of
any kind (an option, a file, the data in it) ends as one line
``llmcopula <command>: error: <what>: <why>`` on stderr and exit status 2; a command that ran
but did nothing or had failures exits 1; a traceback means a bug (``--debug`` shows it for
input errors too).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from ._cli_errors import (
    EXIT_USAGE,
    OUTPUT_DIR_OPTIONS,
    OUTPUT_FILE_OPTIONS,
    ArgumentParser,
    UsageError,
    check_output_dir,
    check_output_file,
    describe_error,
    name_options,
    one_line_warnings,
)

__all__ = ["main", "build_parser"]

# Subcommand modules; each provides ``add_parser(subparsers)`` and sets ``func`` to run it.
_SUBCOMMANDS = ("llmcopula.cascade.cli", "llmcopula.selection.cli", "llmcopula.experiments.cli",
                "llmcopula.serve.cli", "llmcopula.planning.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="llmcopula",
        description="Copula models of several LLMs' confidences and errors: cascade threshold "
                    "tuning, ensemble selection, and their evaluation on bundled real data.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"llmcopula {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of any error (also accepted after the command)")
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


def _subcommand(parser: argparse.ArgumentParser, command: str | None
                ) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return None


def _check_outputs(args: argparse.Namespace, sub: argparse.ArgumentParser) -> None:
    """Every file or folder the command will write can be written: checked before any work."""
    for action in sub._actions:
        value = getattr(args, action.dest, None)
        if value is None or not action.option_strings:
            continue
        if action.dest in OUTPUT_FILE_OPTIONS:
            check_output_file(value, action.option_strings[-1])
        elif action.dest in OUTPUT_DIR_OPTIONS:
            check_output_dir(value, action.option_strings[-1])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status:
    0 done, 1 ran but did nothing or had failures (or, for ``monitor``, an alarm), 2 bad
    input."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    prog, sub = parser.prog, None
    try:
        args, extra = parser.parse_known_args(argv)
        sub = _subcommand(parser, getattr(args, "command", None))
        if sub is not None:
            prog = sub.prog
        if extra:
            raise UsageError(f"{' '.join(extra)}: unrecognized argument(s) (see {prog} -h)")
        if sub is None or not hasattr(args, "func"):
            names = ", ".join(a for a in _commands(parser))
            raise UsageError(f"COMMAND: missing; one of {names} (see {prog} -h)")
        _check_outputs(args, sub)
        with one_line_warnings(prog):
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `llmcopula tune ... | head`: the reader left, not an error
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:  # pragma: no cover
            pass
        return 0
    except Exception as exc:
        what = describe_error(exc)
        if what is None:
            raise  # a bug: keep the traceback
        if isinstance(exc, UsageError) and getattr(exc, "prog", None):
            prog = exc.prog  # type: ignore[attr-defined]
        if sub is not None and not isinstance(exc, UsageError):
            what = name_options(what, sub)
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {' '.join(what.split())}", file=sys.stderr)
        return EXIT_USAGE


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
