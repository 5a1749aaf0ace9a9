"""One command-line convention for every ``hf-ser`` command: logging, argument errors, exit codes.

- Logging: :func:`setup_logging` (one format, INFO for hf_ser, WARNING for libraries).
- Argument mistakes: :class:`ArgumentParser` (and the :class:`OneLineErrors` mixin for
  ``HfArgumentParser``) raise :class:`~hf_ser.errors.UserError` instead of printing usage and exiting.
- Exit codes: :func:`run_command` runs a ``main(argv) -> int`` and prints a UserError as one
  line with exit 2; any other exception (a bug) keeps its traceback and exits 1. Every command's
  ``main`` is decorated with :func:`command`, so calling it from Python behaves like the shell.
- A closed stdout (``hf-ser predict DIR | head -1``) ends the command quietly with exit 141 (128 + SIGPIPE, what
  a shell reports for ``git log | head -1``), here once for every command: no traceback, and nothing more is
  written to the closed pipe. Files a command writes before it prints are therefore never lost to a pipe.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Callable, Sequence

from hf_ser.errors import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_USAGE, UserError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO) -> None:
    """The one logging setup: timestamps, level, logger name; hf_ser at `level`, libraries at WARNING."""
    logging.basicConfig(format=LOG_FORMAT, datefmt="%H:%M:%S", level=logging.WARNING, force=True)
    logging.getLogger("hf_ser").setLevel(level)


class OneLineErrors:
    """Mixin for argparse parsers: a bad flag raises UserError (one line, exit 2) instead of usage + exit."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        """Raise the argparse message as a UserError naming the command's --help."""
        raise UserError(f"{message} (see `{self.prog} --help`)")


class PlainHelp:
    """Mixin for argparse parsers: help text without the reStructuredText double backticks the docstrings it is
    cut from use (``--flag`` reads as --flag in a terminal)."""

    def format_help(self) -> str:
        """argparse's help with every double backtick removed."""
        return super().format_help().replace("``", "")


class ArgumentParser(PlainHelp, OneLineErrors, argparse.ArgumentParser):
    """argparse with one-line errors and no abbreviated flags (``--out`` must not silently mean ``--output_dir``);
    used by every hf_ser command."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):  # noqa: D401 - argparse's method
        """argparse's parse_args, except that an unknown flag after a sub-command (``hf-ser hub push --x``) is
        reported by that sub-command's parser, whose --help lists the flags it takes."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            chosen_parser(self, parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def chosen_parser(parser: argparse.ArgumentParser, parsed: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost sub-command parser `parsed` went through (`parser` itself without sub-commands)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and action.dest != argparse.SUPPRESS:
            name = getattr(parsed, action.dest, None)
            if name in action.choices:
                return chosen_parser(action.choices[name], parsed)
    return parser


def silence_stdout() -> None:
    """Point the process's stdout at /dev/null after the reader of a pipe went away.

    Python flushes stdout again at exit; without this that flush raises BrokenPipeError a second time and prints
    "Exception ignored ..." (the recipe of the Python docs, "Note on SIGPIPE"). A stdout that is not a real file
    (a test's StringIO) is left alone.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def run_command(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run `main(argv)` under the exit-code convention: UserError -> one line on stderr, exit 2.

    A closed stdout (BrokenPipeError, `| head`) exits 141 without a traceback; other exceptions propagate (their
    traceback is printed by Python, exit 1); Ctrl-C exits 130. stdout is flushed here, so output buffered until
    the end meets a closed pipe inside this handler rather than at interpreter exit.
    """
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return EXIT_FAILED if code is None else int(code)


def command(main: Callable[[Sequence[str] | None], int]) -> Callable[[Sequence[str] | None], int]:
    """Decorator for a command's ``main(argv) -> int``: the same function under :func:`run_command`, so a user
    mistake returns 2 with one line whether the command runs from the shell, ``hf-ser`` or Python."""

    @functools.wraps(main)
    def wrapped(argv: Sequence[str] | None = None) -> int:
        return run_command(main, argv)

    return wrapped


def looks_like_path(value: str) -> bool:
    """True when a --model value is meant as a local path rather than a Hub id (``org/name``).

    A path: absolute, ``./``, ``../`` or ``~``-rooted, more than one ``/`` (a Hub id has exactly one), a Windows
    separator, or a value whose parent folder exists here (``runs/typo`` when ``runs/`` is a folder). Anything
    else (``org/name`` with no local ``org/`` folder) goes to the Hub.
    """
    text = str(value)
    if text.startswith(("/", "./", "../", "~", ".\\", "..\\")) or text in (".", "..") or "\\" in text:
        return True
    if text.count("/") > 1 or (os.sep != "/" and os.sep in text):
        return True
    parent = os.path.dirname(text)
    return bool(parent) and os.path.isdir(parent)


def check_local_folder(value: str, flag: str) -> None:
    """UserError naming `flag` when `value` looks like a local path (:func:`looks_like_path`) and is no folder."""
    if not looks_like_path(value):
        return
    path = os.path.expanduser(value)
    if os.path.isdir(path):
        return
    what = "is a file, not a folder" if os.path.exists(path) else "does not exist"
    raise UserError(f"{flag} {value}: the folder {what}; give a run folder, its model/ folder, or a Hub id")
