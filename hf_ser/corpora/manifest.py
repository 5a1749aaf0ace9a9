"""Any corpus described by a manifest: CSV or JSONL with ``path, label, language``
(optional ``speaker, corpus``). Relative paths resolve against the manifest's folder;
native label names go through a label map (synonyms of the six emotions by default)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..labels import EMOTIONS, LANGUAGES
from .base import CorpusNotFound, Item, Scan

# Native names met in public corpora -> the six classes (None = drop, counted in the report).
DEFAULT_LABEL_MAP: dict[str, str | None] = {
    **{e: e for e in EMOTIONS},
    "angry": "anger", "ang": "anger", "disgusted": "disgust", "dis": "disgust", "fearful": "fear",
    "fea": "fear", "happy": "happiness", "joy": "happiness", "hap": "happiness", "neutrality": "neutral",
    "neu": "neutral", "sad": "sadness", "surprise": None, "surprised": None, "sur": None, "calm": None,
    "contempt": None, "enthusiasm": None, "boredom": None, "other": None,
}
REQUIRED = ("path", "label", "language")


def read_manifest_rows(path: Path) -> list[dict]:
    """Rows of a CSV (any delimiter csv.Sniffer detects) or JSONL manifest."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: not a JSON object ({e.msg}); a JSONL manifest has one object per line") from None
        return rows
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return list(csv.DictReader(text.splitlines(), dialect=dialect))


def scan_manifest(
    manifest: str | Path,
    label_map: dict[str, str | None] | None = None,
    corpus: str | None = None,
    language: str | None = None,
) -> Scan:
    """Scan a manifest file; `language`/`corpus` fill the columns when the manifest lacks them."""
    path = Path(manifest)
    if not path.is_file():
        raise CorpusNotFound(f"manifest {path} does not exist")
    rows = read_manifest_rows(path)
    name = corpus or path.stem
    if not rows:
        raise ValueError(f"manifest {path} has no rows")
    have = set(rows[0])
    missing = [c for c in REQUIRED if c not in have and not (c == "language" and language)]
    if missing:
        raise ValueError(
            f"manifest {path} lacks column(s) {', '.join(missing)}; it has {', '.join(sorted(have))}. "
            f"Required: {', '.join(REQUIRED)}; optional: speaker, corpus."
        )
    items, skipped = [], []
    for row in rows:
        p = Path(str(row["path"]).strip())
        p = p if p.is_absolute() else (path.parent / p)
        lang = str(row.get("language") or language or "").strip().upper()
        if lang not in LANGUAGES:
            skipped.append({"path": str(p), "reason": f"unknown language {lang!r}"})
            continue
        items.append(Item(str(p), str(row["label"]).strip(), lang, str(row.get("speaker") or "unknown"),
                          str(row.get("corpus") or name)))
    lm = dict(DEFAULT_LABEL_MAP)
    lm.update(label_map or {})
    return Scan(name, items, lm, skipped)
