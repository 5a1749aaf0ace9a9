"""Local paths cut out of what goes to the Hub (metrics.json, training_args.json), and Hub ids told apart from
local paths."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

# Keys whose values are local paths: only the last component is kept.
PATH_KEYS = frozenset(
    {
        "data_root",
        "cache_dir",
        "output_dir",
        "logging_dir",
        "predictions",
        "predictions_path",
        "path",
        "run_dir",
        "corpora",
        "resume_from_checkpoint",
    }
)
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_hub_id(name: str | None) -> bool:
    """True for 'owner/name' ids that are not local paths."""
    return bool(name) and bool(HUB_ID.match(name)) and not Path(name).expanduser().exists()


def _is_local_path(value: str) -> bool:
    """Absolute, home-relative, dot-relative or Windows-drive paths (relative 'a/b' strings are left alone)."""
    return (
        os.path.isabs(value)
        or value.startswith(("~", "./", "../", ".\\", "..\\"))
        or bool(re.match(r"^[A-Za-z]:[\\/]", value))
    )


def last_part(value: str) -> str:
    """The last component of a path (a file or folder name), with / or \\ as separator."""
    return re.split(r"[\\/]", value.rstrip("/\\"))[-1] or value


def scrub_paths(obj: Any, key: str | None = None) -> Any:
    """Copy of a JSON-like object with local paths cut to their last component (a folder or file name)."""
    if isinstance(obj, dict):
        return {k: scrub_paths(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub_paths(v, key) for v in obj]
    if not isinstance(obj, str):
        return obj
    has_sep = "/" in obj or "\\" in obj
    if (key in PATH_KEYS and has_sep) or _is_local_path(obj):
        return last_part(obj)
    if key == "model_name_or_path" and has_sep and not is_hub_id(obj):
        return last_part(obj)
    return obj
