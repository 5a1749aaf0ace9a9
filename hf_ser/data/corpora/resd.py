"""RESD (Russian Emotional Speech Dialogs): the Hub's parquet files (``name, path, emotion,
speech``; train 1116 / test 280) or the older raw layout (``train.csv`` / ``test.csv`` +
wavs). Labels come from ``emotion`` (the file names are inconsistent); the only speaker
information is the dialogue id, the leading number of ``name``. ``enthusiasm`` is dropped.
Audio in parquet is a struct with the encoded bytes (decoded with soundfile) or a path."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.audio import is_lfs_pointer
from hf_ser.data.corpora.scan import (
    AUDIO_EXTENSIONS,
    CorpusNotFound,
    Item,
    Loader,
    NativeLabel,
    Scan,
    display_path,
    hidden_note,
    paper_label_map,
    read_metadata_csv,
    walk_files,
)
from hf_ser.data.corpora.table import TABLE_SUFFIXES, scan_table, table_schema

LANGUAGE = "RUS"
LABELS: dict[str, NativeLabel] = {
    "anger": NativeLabel("anger", "anger"),
    "disgust": NativeLabel("disgust", "disgust"),
    "fear": NativeLabel("fear", "fear"),
    "happiness": NativeLabel("happiness", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sadness": NativeLabel("sadness", "sadness"),
    "enthusiasm": NativeLabel("enthusiasm", "enthusiasm"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
DIALOGUE = re.compile(r"^\s*(\d+)")


def dialogue_id(fields: dict) -> str:
    """Speaker stand-in: the dialogue number at the start of ``name`` (or of the path's file name)."""
    for key in ("name", "path"):
        value = fields.get(key)
        if value:
            m = DIALOGUE.match(Path(str(value)).name)
            if m:
                return f"dialog{int(m[1])}"
    return "unknown"


def _scan_csv(root: Path, csvs: list[Path]) -> Scan:
    files, ignored = walk_files(root, AUDIO_EXTENSIONS)
    by_name = {p.name: p for p in files}
    by_stem = {p.stem: p for p in files}
    items, skipped, used = [], [], set()
    for csv_path in csvs:
        df = read_metadata_csv(csv_path, ("emotion",))
        for row in df.to_dict("records"):
            ref = row.get("path") or row.get("name") or ""
            cand = Path(ref)
            p = next((c for c in (csv_path.parent / cand, root / cand) if ref and c.is_file()), None)
            p = p or by_name.get(cand.name) or by_stem.get(cand.stem) or by_stem.get(Path(row.get("name", "")).stem)
            if p is None:
                skipped.append(
                    {"path": str(csv_path.parent / cand), "reason": f"missing file (listed in {csv_path.name})"}
                )
                continue
            used.add(p)
            items.append(Item(str(p), row.get("emotion", "").strip(), LANGUAGE, dialogue_id(row), "resd"))
    unlisted = [p for p in files if p not in used]
    skipped += [{"path": str(p), "reason": "not listed in train.csv/test.csv (no label)"} for p in unlisted]
    return Scan("resd", items, dict(LABEL_MAP), skipped, hidden_note(ignored))


def scan_resd(root: Path) -> Scan:
    """Scan RESD: parquet/Arrow tables when present, else the CSV + wav layout."""
    tables, _ = walk_files(root, TABLE_SUFFIXES)
    pointers = [t for t in tables if is_lfs_pointer(t)]
    usable = [t for t in tables if t not in pointers and "emotion" in table_schema(t).names]
    if usable or pointers:
        scan = scan_table(
            usable + pointers,
            label_map=LABEL_MAP,
            corpus="resd",
            language=LANGUAGE,
            label_column="emotion",
            speaker_fn=dialogue_id,
            default_label_map=False,
            base=root,
        )
        ignored = len(tables) - len(usable) - len(pointers)
        if ignored:
            scan.notes.append(f"ignored {ignored} table(s) without an 'emotion' column")
        return scan
    csvs, _ = walk_files(root, (".csv",))
    csvs = [p for p in csvs if "emotion" in open(p, encoding="utf-8-sig", errors="replace").readline().lower()]
    if not csvs:
        raise CorpusNotFound(
            f"resd: no parquet file and no train.csv/test.csv with an 'emotion' column under {display_path(root)}; "
            "download the parquet files of https://huggingface.co/datasets/Aniemore/resd into that folder"
        )
    return _scan_csv(root, csvs)


LOADER = Loader("resd", scan_resd, LABEL_MAP, LABELS)
