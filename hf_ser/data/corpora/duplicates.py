"""Duplicates in a corpus scan: the same file reached twice, or a byte-identical copy of it elsewhere in the tree, is
one recording and is kept once (:func:`dedupe`), with a skip naming the kept row for every other occurrence."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hf_ser.data.corpora.scan import TABLE_ROW_SEP, CorpusError, Item
from hf_ser.safe_io import display_path


def item_labels(item: Item) -> tuple[str, str]:
    """(native name, canonical name) of a kept item (its label for an item :func:`map_labels` did not make)."""
    return item.native or item.label, item.canonical or item.label


def file_identity(item: Item) -> str:
    """What makes two items the same audio: the resolved file (symlinks, ``..`` and relative paths undone),
    plus the row for a table cell."""
    file, sep, row = item.path.rpartition(TABLE_ROW_SEP) if item.column else (item.path, "", "")
    return os.path.realpath(file) + (sep + row + "\0" + str(item.column) if item.column else "")


def _copy_key(item: Item) -> tuple[str, str, str, int] | None:
    """(file name, language, speaker, size) of an item's audio file, the cheap first test for a second copy of one
    recording (a copy keeps its speaker: files of two speakers are never merged, however alike); None for a table
    cell or a file that cannot be stat'ed (reading it reports the problem later)."""
    if item.column:
        return None
    try:
        return Path(item.path).name.lower(), item.language, item.speaker, os.stat(item.path).st_size
    except OSError:
        return None


def _content_hash(path: str, cache: dict[str, str]) -> str:
    """sha256 of a file's bytes (memoised in `cache`), read only for files whose name and size collide."""
    if path not in cache:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        cache[path] = digest.hexdigest()
    return cache[path]


def _same_copy(seen: Item, item: Item, hashes: dict[str, str]) -> bool:
    """Whether two different paths hold the same recording: same file name, same size and same bytes. Distributors'
    copies repeat whole trees (Kaggle's RAVDESS ships every file under both ``Actor_NN/`` and
    ``audio_speech_actors_01-24/Actor_NN/``); a same-named file with other bytes (MELD's ``dia0_utt0`` in train and
    dev) is a different recording and is kept."""
    try:
        return _content_hash(seen.path, hashes) == _content_hash(item.path, hashes)
    except OSError:
        return False


def dedupe(items: list[Item]) -> tuple[list[Item], list[dict]]:
    """Keep each audio file once (first occurrence); the others become 'duplicate' skips naming the kept row.

    The same file reached twice (a relative and an absolute path, a symlink) and a byte-identical copy under the same
    file name elsewhere in the tree both count as one recording: keeping both would weigh it twice and could put it
    on both sides of a split. The same file under two different labels is a CorpusError naming both rows: no label
    can be trusted for it. Byte-identical copies under two labels are both skipped, with that reason.
    """
    first: dict[str, Item] = {}
    copies: dict[tuple[str, str, str, int], list[Item]] = {}
    hashes: dict[str, str] = {}
    kept, skipped, conflicted = [], [], set()
    for it in items:
        key = file_identity(it)
        seen = first.get(key)
        if seen is None:
            copy_key = _copy_key(it)
            twin = next((s for s in copies.get(copy_key, ()) if _same_copy(s, it, hashes)), None)
            if twin is None:
                first[key] = it
                kept.append(it)
                if copy_key is not None:
                    copies.setdefault(copy_key, []).append(it)
            elif item_labels(twin)[1] != item_labels(it)[1]:
                conflicted.add(file_identity(twin))
                skipped.append(
                    {
                        "path": it.path,
                        "reason": f"same bytes as {display_path(twin.path)} but labelled "
                        f"{item_labels(it)[1]!r}, not {item_labels(twin)[1]!r}; both left out",
                    }
                )
            else:
                skipped.append(
                    {
                        "path": it.path,
                        "reason": f"duplicate of {display_path(twin.path)} (a copy: same name and bytes, kept once)",
                    }
                )
        elif item_labels(seen)[1] != item_labels(it)[1]:
            raise CorpusError(
                f"{display_path(it.path)} is listed twice with different labels: {item_labels(seen)[1]!r} (as "
                f"{display_path(seen.path)}) and {item_labels(it)[1]!r}; fix the manifest or label map so each "
                "file has one label"
            )
        else:
            skipped.append(
                {"path": it.path, "reason": f"duplicate of {display_path(seen.path)} (same file, kept once)"}
            )
    if conflicted:
        skipped += [
            {"path": it.path, "reason": "a byte-identical copy elsewhere has another label; both left out"}
            for it in kept
            if file_identity(it) in conflicted
        ]
        kept = [it for it in kept if file_identity(it) not in conflicted]
    return kept, skipped
