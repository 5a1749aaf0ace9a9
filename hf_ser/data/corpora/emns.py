"""EMNS, the Emotive Narrative Storytelling corpus (English, one speaker; OpenSLR 136): ``metadata.csv`` and the
recordings as ``.webm`` (Opus, 48 kHz), named ``recorded_audio_RF6OuQ4.webm`` as EmoBox's
``data/emns/emns.jsonl`` lists them (in its ``cleaned_webm/`` folder; OpenSLR also ships ``raw_webm``). The
OpenSLR ``metadata.csv`` is ``|``-separated, with the columns id, utterance, description, emotion, date_created,
status, gender, age, level, audio_recording (``wavs/recorded_audio_RF6OuQ4.webm``) and user_id; a comma-separated
copy (the Hub's) reads the same. soundfile cannot decode WebM: convert each recording beside itself, keeping its
name (``ffmpeg -i x.webm -ac 1 x.wav``). Rows are matched by the file stem of ``audio_recording``, whatever its
folder. Emotions (EmoBox's spelling, capitalised in the CSV): Angry, Disgust, Excited, Happy, Neutral, Sad,
Sarcastic, Surprise. Speaker = ``user_id`` (one speaker)."""

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

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "disgust": NativeLabel("disgust", "disgust"),
    "excited": NativeLabel("excited", "excitement"),
    "happy": NativeLabel("happy", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sad": NativeLabel("sad", "sadness"),
    "sarcastic": NativeLabel("sarcastic", "sarcasm"),
    "surprise": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
COLUMNS = ("audio_recording", "emotion")
CONVERT = (
    "convert each recording beside itself, keeping its name: for f in $(find . -name '*.webm'); do "
    'ffmpeg -loglevel error -i "$f" -ac 1 "${f%.webm}.wav"; done'
)


def find_metadata(root: Path) -> Path:
    """The CSV below `root` whose header has ``audio_recording`` and ``emotion`` (CorpusNotFound when none)."""
    csvs, _ = walk_files(root, (".csv",))
    for p in csvs:
        header = p.open(encoding="utf-8-sig", errors="replace").readline().lower()
        if all(c in header for c in COLUMNS):
            return p
    raise CorpusNotFound(
        f"emns: no metadata CSV with audio_recording and emotion columns under {display_path(root)}; the labels "
        "are only in that file"
    )


def scan_emns(root: Path) -> Scan:
    """Scan EMNS: one item per metadata row whose converted audio exists."""
    csv_path = find_metadata(root)
    df = read_metadata_csv(csv_path, COLUMNS)
    files, ignored = walk_files(root, AUDIO_EXTENSIONS)
    if not files and walk_files(root, (".webm",))[0]:
        raise CorpusNotFound(f"emns: only .webm recordings under {display_path(root)}; {CONVERT}")
    by_stem = {p.stem: p for p in files}
    items, skipped, used = [], [], set()
    for row in df.to_dict("records"):
        ref = Path(str(row["audio_recording"]).strip())
        p = by_stem.get(ref.stem)
        if p is None:
            skipped.append({"path": str(csv_path.parent / ref), "reason": f"missing file (listed in {csv_path.name})"})
            continue
        used.add(p)
        speaker = str(row.get("user_id", "") or "").strip() or "emns"
        items.append(Item(str(p), str(row["emotion"]).strip().lower(), LANGUAGE, speaker, "emns"))
    skipped += [{"path": str(p), "reason": f"not listed in {csv_path.name} (no label)"} for p in files if p not in used]
    return Scan("emns", items, dict(LABEL_MAP), skipped, hidden_note(ignored))


LOADER = Loader("emns", scan_emns, LABEL_MAP, LABELS)
