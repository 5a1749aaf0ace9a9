"""The data fingerprint: 16 hex digits over a split's rows and the files behind them.

A run's identity (:func:`hf_ser.train.runs.config_hash`) hashes its configuration together with this fingerprint,
so editing a manifest row, a label map or an audio file changes the identity of exactly the runs whose rows changed.
It lives in the data stage because it reads nothing but rows and files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from hf_ser.data.corpora.scan import TABLE_ROW_SEP


def _stamp(path: str) -> str:
    """'size:mtime_ns' of the file behind a row path (a table row's file for 'file::row'), or 'missing'."""
    file = path.rsplit(TABLE_ROW_SEP, 1)[0] if TABLE_ROW_SEP in path else path
    try:
        st = os.stat(file)
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def data_fingerprint(rows: dict[str, Sequence]) -> str:
    """16 hex digits over a split's rows: (path, label, language, corpus, speaker, length, file size and mtime).

    `rows` maps those column names to equal-length sequences (a ``datasets.Dataset`` column dict). Rows are
    sorted first, so the order a split was built in does not matter; any added, removed or relabelled row,
    and any audio file rewritten since, changes the fingerprint.
    """
    cols = ("path", "label", "language", "corpus", "speaker", "length")
    table = sorted(zip(*(list(map(str, rows[c])) for c in cols)))
    h = hashlib.sha256()
    for row in table:
        h.update("\0".join((*row, _stamp(row[0]))).encode("utf-8", "surrogateescape") + b"\n")
    return h.hexdigest()[:16]
