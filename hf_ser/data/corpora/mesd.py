"""MESD (Mexican Spanish): flat ``Emotion_Voice_Corpus_word.wav``, e.g. ``Disgust_C_A_basta_ya.wav``;
the word may itself contain ``_``. No speaker ids are published: the voice type (F female,
M male, C child) stands in for the speaker. 48 kHz, 24-bit."""

from __future__ import annotations

from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "SPA"
LABELS: dict[str, NativeLabel] = {
    "anger": NativeLabel("anger", "anger"),
    "disgust": NativeLabel("disgust", "disgust"),
    "fear": NativeLabel("fear", "fear"),
    "happiness": NativeLabel("happiness", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sadness": NativeLabel("sadness", "sadness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
EXPECTED = "Emotion_Voice_Corpus_word.wav, e.g. Disgust_C_A_basta_ya.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion, voice type) from a MESD file name, or None."""
    parts = path.stem.split("_", 3)
    if len(parts) != 4 or not parts[0] or parts[1].upper() not in ("F", "M", "C") or not parts[3]:
        return None
    return parts[0], parts[1].upper()


def scan_mesd(root: Path) -> Scan:
    """Scan MESD (speaker = voice type F/M/C, the only speaker information it ships)."""
    scan = scan_files(root, "mesd", LANGUAGE, LABEL_MAP, parse, EXPECTED)
    scan.notes.append("MESD publishes no speaker ids: 'speaker' is the voice type (F, M, C)")
    return scan


LOADER = Loader("mesd", scan_mesd, LABEL_MAP, LABELS)
