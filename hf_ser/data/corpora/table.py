"""Corpora shipped as tables: parquet files, Arrow files (a ``save_to_disk`` folder or the
``datasets`` cache) and Hugging Face Hub datasets, mapped to the same scan as a folder.

The audio column may hold a struct ``{bytes, path}`` (the Hub's ``Audio`` feature), a
struct ``{array, sampling_rate}``, raw encoded bytes, or a path. Rows with bytes become
table-cell items (``"<file>::<row>"``, decoded lazily in the preparation map, one row
group in memory at a time); rows with only a path become ordinary file items.
"""

from __future__ import annotations

import bisect
import json
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hf_ser.data.audio import AudioError, check_decoded, is_lfs_pointer, read_audio, read_audio_bytes
from hf_ser.data.corpora.manifest import DEFAULT_LABEL_MAP, resolve_language
from hf_ser.data.corpora.scan import TABLE_ROW_SEP, CorpusError, CorpusNotFound, Item, Scan, display_path, walk_files

TABLE_SUFFIXES: tuple[str, ...] = (".parquet", ".arrow")
AUDIO_COLUMNS: tuple[str, ...] = ("audio", "speech", "wav", "file", "path", "filename", "file_name")
LABEL_COLUMNS: tuple[str, ...] = ("label", "emotion", "labels", "emotion_label", "class")
SPEAKER_COLUMNS: tuple[str, ...] = ("speaker", "speaker_id", "actor", "spk", "client_id")
LANGUAGE_COLUMNS: tuple[str, ...] = ("language", "lang", "locale")

SpeakerFn = Callable[[dict], str]


# ----------------------------------------------------------------------------- reading tables


def _open_arrow(file: str | Path) -> pa.Table:
    """Memory-map an Arrow IPC file (stream format as written by ``datasets``, or file format)."""
    source = pa.memory_map(str(file))
    try:
        return pa.ipc.open_stream(source).read_all()
    except pa.ArrowInvalid:
        source = pa.memory_map(str(file))
        return pa.ipc.open_file(source).read_all()


def table_schema(file: str | Path) -> pa.Schema:
    """Schema of a parquet or Arrow file (without reading its data)."""
    if str(file).lower().endswith(".parquet"):
        return pq.read_schema(str(file))
    return _open_arrow(file).schema


def _iter_batches(file: Path, columns: list[str], batch_size: int = 64) -> Iterator[pa.RecordBatch]:
    if file.suffix.lower() == ".parquet":
        yield from pq.ParquetFile(str(file)).iter_batches(batch_size=batch_size, columns=columns)
    else:
        yield from _open_arrow(file).select(columns).to_batches(max_chunksize=batch_size)


def class_label_names(schema: pa.Schema, column: str) -> list[str] | None:
    """Names of a ClassLabel column, read from the ``huggingface`` schema metadata ``datasets`` writes."""
    meta = (schema.metadata or {}).get(b"huggingface")
    if not meta:
        return None
    try:
        feats = json.loads(meta).get("info", {}).get("features", {})
    except (ValueError, AttributeError):
        return None
    feat = feats.get(column) if isinstance(feats, dict) else None
    if isinstance(feat, dict) and feat.get("_type") == "ClassLabel":
        return list(feat.get("names") or [])
    return None


def _pick(
    names: Iterable[str], wanted: str | None, candidates: tuple[str, ...], what: str, file: Path, required: bool = True
) -> str | None:
    names = list(names)
    if wanted:
        if wanted not in names:
            raise CorpusError(f"{display_path(file)}: no column {wanted!r} for the {what}; columns: {', '.join(names)}")
        return wanted
    lowered = {n.lower(): n for n in names}
    for c in candidates:
        if c in lowered:
            return lowered[c]
    if required:
        raise CorpusError(
            f"{display_path(file)}: no {what} column (looked for {', '.join(candidates)}); "
            f"columns: {', '.join(names)}. Name it with the {what.split()[0]}_column option."
        )
    return None


def table_files(source: str | Path) -> list[Path]:
    """The parquet/Arrow files of `source` (a file, or every one below a folder), sorted."""
    p = Path(source)
    if p.is_file():
        return [p]
    files, _ = walk_files(p, TABLE_SUFFIXES)
    return files


# ----------------------------------------------------------------------------- scanning


@dataclass
class _TableScan:
    """What scanning every file of a table source shares, and what it collects."""

    name: str
    base: Path
    language: str | None
    audio_column: str | None
    label_column: str | None
    speaker_column: str | None
    speaker_fn: SpeakerFn | None
    items: list[Item] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    file_index: dict[str, Path] | None = None  # file name -> path below `base`, built on first need

    def find(self, p: str, file: Path) -> Path:
        """An audio path from a table cell: relative to the table, then to `base`, then by file name below `base`."""
        resolved = _resolve(p, file, self.base)
        if resolved is not None:
            return resolved
        if self.file_index is None:
            found, _ = walk_files(self.base if self.base.is_dir() else self.base.parent)
            self.file_index = {f.name: f for f in found}
        return self.file_index.get(Path(p).name, Path(p) if Path(p).is_absolute() else file.parent / p)


def _scan_file(file: Path, scan: _TableScan) -> None:
    """Add one table file's rows to `scan` (an Item per usable row, a skip with its reason per other row)."""
    schema = table_schema(file)
    cols = schema.names
    a_col = _pick(cols, scan.audio_column, AUDIO_COLUMNS, "audio column", file)
    l_col = _pick(cols, scan.label_column, LABEL_COLUMNS, "label column", file)
    s_col = _pick(cols, scan.speaker_column, SPEAKER_COLUMNS, "speaker column", file, required=False)
    g_col = _pick(cols, None, LANGUAGE_COLUMNS, "language column", file, required=False)
    extra = [c for c in ("name", "path") if c in cols and c not in (a_col, l_col)]
    read_cols = list(dict.fromkeys([a_col, l_col] + [c for c in (s_col, g_col) if c] + extra))
    names = class_label_names(schema, l_col)
    a_type = schema.field(a_col).type
    row = 0
    for batch in _iter_batches(file, read_cols):
        n = batch.num_rows
        data = {c: batch.column(i) for i, c in enumerate(read_cols)}
        has_bytes, paths = _audio_refs(data[a_col], a_type, n)
        labels = data[l_col].to_pylist()
        scalars = {c: data[c].to_pylist() for c in read_cols if c != a_col}
        for i in range(n):
            ref = f"{file}{TABLE_ROW_SEP}{row + i}"
            fields = {c: scalars[c][i] for c in scalars}
            label = labels[i]
            if names is not None and isinstance(label, int) and 0 <= label < len(names):
                label = names[label]
            lang = resolve_language(fields.get(g_col) if g_col else None) or resolve_language(scan.language)
            if lang is None:
                scan.skipped.append({"path": ref, "reason": f"unknown language {fields.get(g_col) or scan.language!r}"})
                continue
            if scan.speaker_fn is not None:
                speaker = scan.speaker_fn(fields)
            else:
                speaker = str(fields.get(s_col) or "unknown") if s_col else "unknown"
            label = "" if label is None else str(label)
            if has_bytes[i]:
                scan.items.append(Item(ref, label, lang, speaker, scan.name, a_col))
            elif not paths[i]:
                scan.skipped.append({"path": ref, "reason": "no audio in row (neither bytes nor a path)"})
            else:
                scan.items.append(Item(str(scan.find(paths[i], file)), label, lang, speaker, scan.name))
        row += n


def scan_table(
    source: str | Path | list[Path],
    label_map: dict[str, str | None] | None = None,
    *,
    corpus: str | None = None,
    language: str | None = None,
    audio_column: str | None = None,
    label_column: str | None = None,
    speaker_column: str | None = None,
    speaker_fn: SpeakerFn | None = None,
    default_label_map: bool = True,
    base: str | Path | None = None,
) -> Scan:
    """Scan parquet/Arrow table(s); `language` fills rows without a language column.

    Label names go through `label_map` (on top of the default synonyms unless
    ``default_label_map=False``); an integer ClassLabel column is turned into its names.
    Relative audio paths resolve against the table's folder, then `base` (default: `source`).
    The keyword options are also what ``--option KEY=VALUE`` of ``hf-ser corpora prepare`` sets.
    """
    files = [Path(f).absolute() for f in source] if isinstance(source, list) else table_files(Path(source).absolute())
    if base is not None:
        base = Path(base)
    elif isinstance(source, list):
        base = files[0].parent if files else Path(".")
    else:
        base = Path(source).absolute()
    if not files:
        raise CorpusNotFound(f"{display_path(base)}: no .parquet or .arrow file found")
    scan = _TableScan(
        corpus or (base.stem if base.is_file() else base.name) or "table",
        base,
        language,
        audio_column,
        label_column,
        speaker_column,
        speaker_fn,
    )
    pointers = 0
    for file in files:
        if is_lfs_pointer(file):
            pointers += 1
            scan.skipped.append(
                {"path": str(file), "reason": "git-LFS pointer (run `git lfs pull` to fetch the table)"}
            )
            continue
        _scan_file(file, scan)
    notes = [f"{pointers} table file(s) are git-LFS pointers: run `git lfs pull` in the clone"] if pointers else []
    lm = dict(DEFAULT_LABEL_MAP) if default_label_map else {}
    lm.update(label_map or {})
    return Scan(scan.name, scan.items, lm, scan.skipped, notes)


def _audio_refs(audio: pa.Array, a_type: pa.DataType, n: int) -> tuple[list[bool], list[str | None]]:
    """Per row: does the audio cell carry data (bytes / samples), and its path if any."""
    if pa.types.is_struct(a_type):
        fields = [a_type.field(i).name for i in range(a_type.num_fields)]
        if "bytes" in fields:
            b = pc.struct_field(audio, "bytes")  # respects null structs, unlike StructArray.field
            has = pc.and_(pc.is_valid(b), pc.greater(pc.binary_length(b), 0)).fill_null(False).to_pylist()
        elif "array" in fields:
            has = pc.is_valid(pc.struct_field(audio, "array")).to_pylist()
        else:
            has = [False] * n
        paths = pc.struct_field(audio, "path").to_pylist() if "path" in fields else [None] * n
        return has, paths
    if pa.types.is_binary(a_type) or pa.types.is_large_binary(a_type):
        return pc.is_valid(audio).to_pylist(), [None] * n
    if pa.types.is_string(a_type) or pa.types.is_large_string(a_type):
        return [False] * n, audio.to_pylist()
    if pa.types.is_list(a_type) or pa.types.is_large_list(a_type):
        raise CorpusError("a bare list of samples has no sampling rate; store {array, sampling_rate} or encoded bytes")
    raise CorpusError(f"audio column of type {a_type} is not supported (expected a struct, bytes or a path)")


def _resolve(p: str, file: Path, base: Path) -> Path | None:
    """A path from a table: absolute, or relative to the table's folder or to the source folder."""
    cand = Path(p)
    if cand.is_absolute():
        return cand if cand.is_file() else None
    for root in (file.parent, base if base.is_dir() else base.parent):
        if (root / cand).is_file():
            return root / cand
    return None


def scan_hub(
    repo_id: str,
    split: str | None = None,
    label_map: dict[str, str | None] | None = None,
    corpus: str | None = None,
    language: str | None = None,
    **columns,
) -> Scan:
    """Scan a Hugging Face Hub dataset (downloaded once by ``datasets.load_dataset`` into its cache)."""
    ds = datasets.load_dataset(repo_id, split=split)
    parts = list(ds.values()) if isinstance(ds, datasets.DatasetDict) else [ds]
    files = [Path(cf["filename"]) for d in parts for cf in d.cache_files]
    if not files:
        raise CorpusError(f"{repo_id}: load_dataset returned an in-memory dataset; save it with save_to_disk first")
    return scan_table(files, label_map=label_map, corpus=corpus or repo_id.split("/")[-1], language=language, **columns)


# ----------------------------------------------------------------------------- lazy cell reading

_ARROW_TABLES: OrderedDict[str, pa.Table] = OrderedDict()
_PARQUET: dict = {"file": None, "meta": None, "starts": None, "group": None, "table": None}


def _cell(file: str, row: int, column: str):
    if file.lower().endswith(".parquet"):
        st = _PARQUET
        if st["file"] != file:
            pf = pq.ParquetFile(file)
            starts, acc = [], 0
            for g in range(pf.metadata.num_row_groups):
                starts.append(acc)
                acc += pf.metadata.row_group(g).num_rows
            st.update(file=file, meta=pf, starts=starts, group=None, table=None)
        g = bisect.bisect_right(st["starts"], row) - 1
        if st["group"] != (g, column):
            st["table"] = st["meta"].read_row_group(g, columns=[column])
            st["group"] = (g, column)
        return st["table"].column(column)[row - st["starts"][g]].as_py()
    table = _ARROW_TABLES.get(file)
    if table is None:
        table = _ARROW_TABLES[file] = _open_arrow(file)
        while len(_ARROW_TABLES) > 4:
            _ARROW_TABLES.popitem(last=False)
    return table.column(column)[row].as_py()


def read_table_audio(file: str, row: int, column: str) -> tuple[np.ndarray, int]:
    """Decode the audio cell at `row` of `column` in a parquet/Arrow file into ``(frames, channels)``, rate."""
    if not os.path.isfile(file):
        raise AudioError("missing file", file)
    try:
        value = _cell(file, row, column)
    except (IndexError, KeyError, pa.ArrowException) as e:
        raise AudioError("unreadable", f"row {row} of {file}: {e}") from None
    if isinstance(value, dict):
        if value.get("bytes"):
            return read_audio_bytes(value["bytes"])
        if value.get("array") is not None:
            sr = int(value.get("sampling_rate") or 0)
            if sr <= 0:
                raise AudioError("unreadable", "an audio array without a sampling_rate")
            arr = np.asarray(value["array"], dtype=np.float32)
            return check_decoded(arr[:, None] if arr.ndim == 1 else arr, sr)
        value = value.get("path")
    if isinstance(value, (bytes, bytearray)):
        return read_audio_bytes(bytes(value))
    if isinstance(value, str) and value:
        p = Path(value)
        return read_audio(p if p.is_absolute() else Path(file).parent / p)
    raise AudioError("empty audio", f"row {row} of {file} holds no audio")
