"""TESS, the Toronto Emotional Speech Set (Canadian English): two speakers, OAF (older) and YAF (younger), files
``<speaker>_<word>_<emotion>.wav``, e.g. ``YAF_wife_sad.wav``, ``YAF_tool_ps.wav``, flat as EmoBox's
``data/tess/data.seg.audmap`` lists them (copies that nest them in per-speaker-and-emotion folders read the same: the
label and speaker come from the file name only, matched case-insensitively). ``ps`` is pleasant surprise."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "disgust": NativeLabel("disgust", "disgust"),
    "fear": NativeLabel("fear", "fear"),
    "happy": NativeLabel("happy", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "ps": NativeLabel("pleasant surprise", "surprise"),
    "sad": NativeLabel("sad", "sadness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>[OY]AF)_(?P<word>[A-Za-z]+)_(?P<emotion>[A-Za-z]+)$", re.IGNORECASE)
EXPECTED = "OAF_word_emotion.wav, e.g. OAF_back_angry.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion, speaker OAF/YAF) from a TESS file name, or None."""
    m = STEM.match(path.stem.strip())
    return (m["emotion"].lower(), m["speaker"].upper()) if m else None


def scan_tess(root: Path) -> Scan:
    """Scan TESS (2800 files, 2 speakers, 7 classes)."""
    return scan_files(root, "tess", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("tess", scan_tess, LABEL_MAP, LABELS)
