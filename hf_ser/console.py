"""One command-line convention for every ``hf-ser`` command: logging, argument errors, exit codes.

- Logging: :func:`setup_logging` (one format, INFO for hf_ser, WARNING for libraries).
- Argument mistakes: :class:`ArgumentParser` (and the :class:`OneLineErrors` mixin for
  ``HfArgumentParser``) raise :class:`~hf_ser.errors.UserError` instead of printing usage and exiting.
- Exit codes: :func:`run_command` runs a ``main(argv) -> int`` and prints a UserError as one
  line with exit 2; any other exception (a bug) keeps its traceback and exits 1. Every command's
  ``main`` is decorated with :func:`command`, so calling it from Python behaves like the shell.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Callable, Sequence

from .errors import EXIT_FAILED, EXIT_USAGE, UserError

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


class ArgumentParser(OneLineErrors, argparse.ArgumentParser):
    """argparse with one-line errors and no abbreviated flags (``--out`` must not silently mean ``--output_dir``);
    used by every hf_ser command."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def run_command(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run `main(argv)` under the exit-code convention: UserError -> one line on stderr, exit 2.

    Other exceptions propagate (their traceback is printed by Python, exit 1); Ctrl-C exits 130.
    """
    try:
        code = main(argv)
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
