"""The one exception type for a user's mistake, and the exit codes every command uses.

Every ``hf-ser`` command exits 0 when its work is done, 1 when the work failed (for example no file
could be classified, or a step of ``analysis all`` failed), 2 when the user's input is wrong, and 141 when
the reader of its output went away (``| head``).
A :class:`UserError` is printed as one line without a traceback; any other exception is a bug and
keeps its traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports when the reader of a pipe (`| head`) stopped early


class UserError(Exception):
    """A mistake in what the user gave (a flag, a path, a file, a recipe key): printed as one line, exit 2.

    The message names the input at fault and, where there is one, the fix.
    """


class StorageError(UserError):
    """A folder the user chose cannot be written (read-only, no space): the message names it and the fix."""
