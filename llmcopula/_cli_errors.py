"""The command line's error boundary: what turns bad input into one line on stderr.

Every subcommand reports a problem with the user's input (a file, an option, the data in a file)
as one line ``llmcopula <command>: error: <what>: <why>`` and exit status 2. The pieces:

* :class:`UsageError`, a ``ValueError`` for problems found by the command line itself;
* :class:`ArgumentParser`, whose parse errors raise :class:`UsageError` instead of printing the
  usage and exiting (the usage stays behind ``-h``);
* :func:`describe_error`, which turns an exception caused by input into ``<what>: <why>`` (a
  ``ValueError`` as it is, an ``OSError`` with the file it names), or returns ``None`` for a
  real bug, whose traceback must stay visible;
* :func:`name_options`, which puts the option a library argument came from in front of a
  library message (``lambdas: ...`` becomes ``--lambda: ...``);
* :func:`check_output_file` and :func:`check_output_dir`, run before any work so that an
  unwritable ``--output`` fails in a second, not after the fit;
* :func:`one_line_warnings`, which prints warnings as ``llmcopula <command>: warning: ...``.

Only the standard library is used here, so the module sits with the foundations.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["UsageError", "ArgumentParser", "describe_error", "for_file", "check_same_models",
           "name_options",
           "check_output_file", "check_output_dir", "one_line_warnings", "EXIT_USAGE",
           "EXIT_FAILED", "OUTPUT_FILE_OPTIONS", "OUTPUT_DIR_OPTIONS"]

#: Exit status for bad input (argparse's convention).
EXIT_USAGE = 2
#: Exit status when the command ran but did nothing useful or some of its work failed.
EXIT_FAILED = 1

#: Destinations (argparse ``dest``) of options that name a file the command will write: checked
#: before the command runs.
OUTPUT_FILE_OPTIONS = ("output", "json", "plot", "write_policy")
#: Destinations of options that name a folder the command will write into.
OUTPUT_DIR_OPTIONS = ("output_dir",)

#: Library argument names whose option has another name.
_ALIASES = {"rng": "seed", "benchmark": "benchmarks", "chain": "chains", "method": "methods",
            "n_calls": "bo_calls", "n_boot": "n_boot", "faults": "fault", "delays": "delay",
            "calls": "call_log"}


class UsageError(ValueError):
    """Bad input detected by the command line (an option, a file, a combination of options).

    A ``ValueError``, so library code and the command line report it the same way.
    """


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` that raises :class:`UsageError` on a parse error.

    argparse prints the usage and exits on an error; the command line instead reports one line
    naming the option (``--train: expected one argument``). Abbreviated long options are off:
    ``--bench`` is not silently taken for ``--benchmark``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        exc = UsageError(_tidy_argparse_message(message, self.prog))
        exc.prog = self.prog  # type: ignore[attr-defined]  # the (sub)command that failed
        raise exc


def _tidy_argparse_message(message: str, prog: str) -> str:
    # "argument --train: expected one argument" -> "--train: expected one argument"
    message = re.sub(r"^argument ([^:]+?)/[^:]*:", r"argument \1:", message)
    message = re.sub(r"^argument ", "", message)
    if message.startswith("the following arguments are required: "):
        names = message.split(": ", 1)[1]
        message = f"{names}: required"
    elif message.startswith("unrecognized arguments: "):
        extra = message.split(": ", 1)[1]
        message = f"{extra}: unrecognized argument(s)"
    return f"{message} (see {prog} -h)"


def describe_error(exc: BaseException) -> str | None:
    """``<what>: <why>`` for an exception caused by input, ``None`` for anything else.

    ``ValueError`` (which includes :class:`UsageError`, ``UnicodeDecodeError`` and the fitting
    code's input errors) is input by the package's convention. An ``OSError`` that names a file
    is about a path the user gave. Everything else is a bug and keeps its traceback.
    """
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    if isinstance(exc, ValueError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {_os_reason(exc)}"
    return None


def _os_reason(exc: OSError) -> str:
    reasons = {errno.ENOENT: "no such file or folder", errno.EISDIR: "is a folder, not a file",
               errno.ENOTDIR: "a part of the path is a file, not a folder",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on the device",
               errno.EEXIST: "exists and is not a folder"}
    return reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)


def for_file(option: str, path: str | os.PathLike[str], exc: ValueError) -> UsageError:
    """The error of a file given with ``option``: ``<option> <path>: <why>``.

    ``why`` is the reader's message without its own ``source:`` / path prefix, so the line
    names the option, the file, and what the reader found (a column, a row, a query).
    """
    message = str(exc).removeprefix("source: ").removeprefix(f"{path}: ")
    return UsageError(f"{option} {path}: {message}")


def check_same_models(models: Any, reference: Any, *, where: str, reference_where: str,
                      order: bool = True) -> None:
    """Raise :class:`UsageError` naming the models that differ between two logs.

    ``models`` belong to the log described by ``where`` (``"--test test.csv"``) and must equal
    ``reference`` (from ``reference_where``), in the same order unless ``order=False``. Names are
    quoted with ``repr`` so that a trailing space shows (``'gpt-4o '``).
    """
    got, want = [str(m) for m in models], [str(m) for m in reference]
    if got == want or (not order and sorted(got) == sorted(want)):
        return
    missing = [m for m in want if m not in got]
    extra = [m for m in got if m not in want]
    parts = []
    if missing:
        parts.append(f"lacks {', '.join(map(repr, missing))} of {reference_where}")
    if extra:
        parts.append(f"has {', '.join(map(repr, extra))}, not in {reference_where}")
    if not parts:
        parts.append(f"orders the models {got} but {reference_where} has {want}")
    raise UsageError(f"{where}: models differ: {'; '.join(parts)}")


def name_options(message: str, parser: argparse.ArgumentParser) -> str:
    """Replace a leading library argument name by the option that set it.

    Library functions name their arguments (``lambdas: must be ...``); on the command line the
    user knows the options (``--lambda``). A message that starts with ``name:`` where ``name``
    is the destination of one of ``parser``'s options (directly or through a known alias, such
    as ``rng`` for ``--seed``) gets that option's flag instead. Other messages are unchanged.
    """
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(\s*:)", message)
    if match is None:
        return message
    name = match.group(1)
    flags = {a.dest: a.option_strings[-1] for a in parser._actions if a.option_strings}
    flag = flags.get(name) or flags.get(_ALIASES.get(name, ""))
    if flag is None:
        return message
    return flag + message[match.end(1):]


def check_output_file(path: str | os.PathLike[str], option: str) -> None:
    """Raise :class:`UsageError` unless ``path`` can be written: its folder exists and takes a
    new file, and the path itself is not a folder. Nothing is left behind."""
    target = Path(path)
    if str(path) == "":
        raise UsageError(f"{option}: an empty path")
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    _check_writable_dir(target.parent, option, path, creating=False)
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"{option} {path}: the file exists and is not writable")


def check_output_dir(path: str | os.PathLike[str], option: str) -> None:
    """Raise :class:`UsageError` unless ``path`` is a writable folder or can be created as
    one (its nearest existing ancestor is a writable folder)."""
    target = Path(path)
    if str(path) == "":
        raise UsageError(f"{option}: an empty path")
    if target.exists():
        if not target.is_dir():
            raise UsageError(f"{option} {path}: exists and is not a folder")
        _check_writable_dir(target, option, path, creating=False)
        return
    _check_writable_dir(target.parent, option, path, creating=True)


def _check_writable_dir(folder: Path, option: str, path: Any, *, creating: bool) -> None:
    folder = folder if str(folder) else Path(".")
    probe = folder
    while creating and not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the folder will be created: its nearest existing ancestor counts
    if not probe.exists():
        raise UsageError(f"{option} {path}: the folder {str(folder)!r} does not exist")
    if not probe.is_dir():
        raise UsageError(f"{option} {path}: {str(probe)!r} is a file, not a folder")
    try:  # os.access is not enough (root, read-only mounts): try it
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".llmcopula-write-check-"):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write in {str(probe)!r} "
                         f"({_os_reason(exc)})") from None


@contextlib.contextmanager
def one_line_warnings(prog: str) -> Iterator[None]:
    """Within the block, warnings print as one line ``<prog>: warning: <message>`` (without
    the source line Python adds). Recording warnings (``catch_warnings(record=True)``,
    ``pytest.warns``) is unaffected: only the formatting is replaced."""
    original = warnings.formatwarning

    def fmt(message: Any, category: Any, filename: str, lineno: int,
            line: str | None = None) -> str:
        text = " ".join(str(message).split())
        return f"{prog}: warning: {text}\n"

    warnings.formatwarning = fmt
    try:
        yield
    finally:
        warnings.formatwarning = original
