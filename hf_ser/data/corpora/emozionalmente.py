"""Emozionalmente (Italian): ``audio/<timestamp>.wav`` with the labels only in
``metadata/samples.csv`` (``file_name, sentence, sentence_language, actor, emotion_expressed``);
speakers are the ``actor`` column. Mostly 16 kHz, some files at 44.1 kHz."""

from __future__ import annotations

from pathlib import Path

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

LANGUAGE = "ITA"
LABELS: dict[str, NativeLabel] = {
    "anger": NativeLabel("anger", "anger"),
    "disgust": NativeLabel("disgust", "disgust"),
    "fear": NativeLabel("fear", "fear"),
    "joy": NativeLabel("joy", "happiness"),
    "neutrality": NativeLabel("neutrality", "neutral"),
    "sadness": NativeLabel("sadness", "sadness"),
    "surprise": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
COLUMNS = ("file_name", "actor", "emotion_expressed")


def find_samples_csv(root: Path) -> Path:
    """``metadata/samples.csv`` anywhere below `root` (raises CorpusNotFound naming the file)."""
    found, _ = walk_files(root, (".csv",))
    found = [p for p in found if p.name.lower() == "samples.csv"]
    found.sort(key=lambda p: (p.parent.name.lower() != "metadata", len(p.parts)))
    if not found:
        raise CorpusNotFound(
            f"emozionalmente: metadata/samples.csv not found under {display_path(root)}; the labels are only in "
            "that file: extract the whole Zenodo archive (audio/ and metadata/)"
        )
    return found[0]


def scan_emozionalmente(root: Path) -> Scan:
    """Scan Emozionalmente: one item per row of samples.csv whose audio file exists."""
    csv_path = find_samples_csv(root)
    df = read_metadata_csv(csv_path, COLUMNS)
    files, ignored = walk_files(root, AUDIO_EXTENSIONS)
    by_name = {p.name: p for p in files}
    by_stem = {p.stem: p for p in files}
    items, skipped, used = [], [], set()
    for row in df.itertuples(index=False):
        name = str(row.file_name).strip()
        p = by_name.get(Path(name).name) or by_stem.get(Path(name).stem)
        if p is None:
            skipped.append(
                {
                    "path": str(csv_path.parent.parent / "audio" / name),
                    "reason": "missing file (listed in metadata/samples.csv)",
                }
            )
            continue
        if p in used:
            continue
        used.add(p)
        items.append(
            Item(
                str(p),
                str(row.emotion_expressed).strip(),
                LANGUAGE,
                str(row.actor).strip() or "unknown",
                "emozionalmente",
            )
        )
    for p in files:
        if p not in used:
            skipped.append({"path": str(p), "reason": "not listed in metadata/samples.csv (no label)"})
    return Scan("emozionalmente", items, dict(LABEL_MAP), skipped, hidden_note(ignored))


LOADER = Loader("emozionalmente", scan_emozionalmente, LABEL_MAP, LABELS)
