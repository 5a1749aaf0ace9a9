"""Writing results safely: printable paths, spreadsheet-safe CSV cells, atomic files, folders checked.

Everything hf_ser writes to a CSV, JSON file, log line or report goes through these functions:

- :func:`display_path` turns any path (file names may hold bytes that are not UTF-8) into text that
  can always be encoded;
- :func:`spreadsheet_safe` neutralises cells a spreadsheet would run as a formula (``=``, ``+``,
  ``-``, ``@``, tab or carriage return first: the OWASP CSV-injection rule) by prefixing a quote;
- :func:`atomic_write_text` / :func:`atomic_write_json` write through a unique temporary file in the
  same folder and ``os.replace`` it, so a reader never sees half a file and two writers of one file
  never collide on a shared temporary name;
- :func:`inside` checks that a path resolves inside a root folder (cache paths built from user
  input must never escape it);
- :func:`storage_error` turns a read-only folder or a full disk into one message naming the folder
  and the fix.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hf_ser.errors import StorageError, UserError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def display_path(path: str | os.PathLike | bytes) -> str:
    """A printable, UTF-8-safe form of a path (undecodable bytes in a file name become U+FFFD)."""
    raw = os.fsdecode(path) if isinstance(path, bytes) else os.fspath(path)
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def spreadsheet_safe(value: Any) -> Any:
    """`value` with a leading quote when it is text a spreadsheet would evaluate as a formula.

    Numbers pass unchanged (a negative score is data, not a formula); text is made UTF-8-safe first.
    """
    if not isinstance(value, str):
        return value
    text = display_path(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a unique temporary file in the same folder, then rename.

    The temporary name is unique per call (``tempfile.mkstemp``), so concurrent writers of one file
    never remove each other's temporary file; the last rename wins and readers see a whole file.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """:func:`atomic_write_text` of `obj` as indented JSON (arrays as lists, other non-JSON values as ``str``)."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n")
    return Path(path)


def _json_default(obj: Any) -> Any:
    """JSON form of numpy arrays and scalars (``tolist``) and of anything else (``str``)."""
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)


def inside(root: str | os.PathLike, path: str | os.PathLike) -> Path:
    """`path` resolved, after checking that it lies inside `root` (resolved); raises UserError otherwise."""
    base = Path(root).resolve()
    full = Path(path).resolve()
    if full != base and base not in full.parents:
        raise UserError(
            f"{display_path(full)} would lie outside {display_path(base)}; "
            "a name taken from the input must not leave the folder given"
        )
    return full


def safe_name(text: str) -> str:
    """A single path component made from user text: separators, ``..`` and control characters replaced by '_'."""
    cleaned = "".join(c if (c.isalnum() or c in "-_.+") else "_" for c in display_path(text)).strip("._")
    return cleaned or "_"


def storage_error(err: OSError, folder: str | os.PathLike) -> StorageError | None:
    """A StorageError naming `folder` and the fix for a read-only folder or a full disk; None for other errors."""
    where = display_path(folder)
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(
            f"cannot write in {where} ({os.strerror(err.errno)}): make it writable or choose "
            "another folder with the matching --output_dir / --cache_dir flag"
        )
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(
            f"no space left on the device holding {where}: free space there or choose another "
            "folder with the matching --output_dir / --cache_dir flag"
        )
    return None
