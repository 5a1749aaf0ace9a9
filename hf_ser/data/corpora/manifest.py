"""Any corpus described by a manifest: CSV/TSV, JSONL or a JSON list with ``path, label, language``
(optional ``speaker, corpus``). Relative paths resolve against the manifest's folder; native
label names go through a label map (synonyms of the six emotions by default, extended or
overridden by the user's ``label_map``). See docs/manifests.md."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hf_ser.data.corpora.scan import CorpusError, CorpusNotFound, Item, Scan, display_path
from hf_ser.labels import EMOTION_ALIASES, EMOTIONS, resolve_language
from hf_ser.safe_io import safe_name

# Native names met in public corpora -> the six classes (None = drop, counted in the report).
DEFAULT_LABEL_MAP: dict[str, str | None] = {
    **EMOTION_ALIASES,
    **dict.fromkeys(("surprise", "surprised", "sur", "calm", "contempt", "enthusiasm", "boredom", "other"), None),
}
REQUIRED = ("path", "label", "language")
MANIFEST_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json")


def load_label_map(spec: str | Path | dict | None) -> dict[str, str | None]:
    """A label map from a dict, a JSON file, or an inline JSON object (``'{"colere": "anger"}'``).

    Values must be one of the six emotions, or null to drop the label (counted in the report).
    """
    if spec is None:
        return {}
    if isinstance(spec, dict):
        mapping = spec
    else:
        text = str(spec)
        p = Path(text)
        if not text.lstrip().startswith("{") and p.is_file():
            text = p.read_text(encoding="utf-8")
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as e:
            raise CorpusError(f"label map {spec!s:.80} is neither a JSON file nor a JSON object ({e.msg})") from None
    if not isinstance(mapping, dict):
        raise CorpusError('a label map is a JSON object: {"native label": "emotion" or null}')
    out: dict[str, str | None] = {}
    for k, v in mapping.items():
        target = None if v is None or str(v).strip().lower() in ("", "none", "null", "drop") else str(v).strip().lower()
        if target is not None and target not in EMOTIONS:
            raise CorpusError(f"label map sends {k!r} to {v!r}; allowed: {', '.join(EMOTIONS)} or null (drop)")
        out[str(k)] = target
    return out


def read_manifest_rows(path: Path) -> list[dict]:
    """Rows of a CSV/TSV (delimiter sniffed among , ; tab |), JSONL or JSON-list manifest.

    Bytes that are not UTF-8 (a file name listed in Latin-1 by a shell script) are kept as surrogate escapes,
    so the path still names the file on disk; reports print them through display_path.
    """
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        if text.lstrip().startswith("["):
            rows = json.loads(text)
            if not all(isinstance(r, dict) for r in rows):
                raise CorpusError(f"{path}: a JSON manifest is a list of objects")
            return rows
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise CorpusError(
                        f"{path}:{n}: not a JSON object ({e.msg}); a JSONL manifest has one object per line"
                    ) from None
        return rows
    lines = text.splitlines()
    try:
        dialect = csv.Sniffer().sniff(lines[0] if lines else ",", delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return [{(k or "").strip(): v for k, v in row.items()} for row in csv.DictReader(lines, dialect=dialect)]


def scan_manifest(
    manifest: str | Path,
    label_map: dict[str, str | None] | str | Path | None = None,
    corpus: str | None = None,
    language: str | None = None,
) -> Scan:
    """Scan a manifest file; `language`/`corpus` fill the columns when the manifest lacks them.

    Labels map through the default synonyms, then a ``label_map.json`` beside the manifest, then
    `label_map`. A missing audio file is not an error here: the preparation reports it as
    skipped ('missing file').
    """
    path = Path(manifest).absolute()
    if not path.is_file():
        raise CorpusNotFound(f"manifest {display_path(path)} does not exist")
    rows = read_manifest_rows(path)
    if not rows:
        raise CorpusError(f"manifest {display_path(path)} has no rows")
    have = set(rows[0])
    missing = [c for c in REQUIRED if c not in have and not (c == "language" and language)]
    if missing:
        raise CorpusError(
            f"manifest {display_path(path)} lacks column(s) {', '.join(missing)}; it has {', '.join(sorted(have))}. "
            f"Required: {', '.join(REQUIRED)}; optional: speaker, corpus."
        )
    corpora = {str(r.get("corpus") or "").strip() for r in rows} - {""}
    name = corpus or (corpora.pop() if len(corpora) == 1 else None)
    name = safe_name(name or (path.parent.name if path.stem.lower() == "manifest" else path.stem))
    items, skipped = [], []
    for n, row in enumerate(rows, 1):
        raw = str(row.get("path") or "").strip()
        if not raw:
            skipped.append({"path": f"{display_path(path)}:{n}", "reason": "empty path"})
            continue
        p = Path(raw)
        p = p if p.is_absolute() else (path.parent / p)
        lang = resolve_language(row.get("language")) or resolve_language(language)
        if lang is None:
            skipped.append({"path": str(p), "reason": f"unknown language {row.get('language') or language!r}"})
            continue
        items.append(
            Item(
                str(p),
                str(row.get("label") or "").strip(),
                lang,
                str(row.get("speaker") or "").strip() or "unknown",
                safe_name(str(row.get("corpus") or "").strip()) if row.get("corpus") else name,
            )
        )
    lm = dict(DEFAULT_LABEL_MAP)
    beside = path.parent / "label_map.json"
    if beside.is_file():
        lm.update(load_label_map(beside))
    lm.update(load_label_map(label_map))
    return Scan(name, items, lm, skipped)
