"""The two ways a push fails: :class:`HubError`, the user's to fix (exit 2), and :class:`HubUnreachable`, the
Hub's (exit 1)."""

from __future__ import annotations

from hf_ser.errors import UserError


class HubError(UserError):
    """A push that cannot go on because of what was given (run folder, repo id, token); the message says what to do.
    The run folder is left as it was."""


class HubUnreachable(RuntimeError):
    """The Hub could not be reached or refused the upload for its own reasons: the work failed (exit 1)."""
