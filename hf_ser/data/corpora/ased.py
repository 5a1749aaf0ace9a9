"""ASED, the Amharic Speech Emotion Dataset: ``05Angry/a5-02-01-01-33.wav``, folders 01Neutral, 02Fearful,
03Happy, 04Sad, 05Angry (as EmoBox's ``data/ased/ased.jsonl`` lists them: ``02Fearful/f2-01-02-02-41.wav``,
``04Sad/s4-06-02-02-41.wav``). The file name starts with the emotion letter and number (n1 neutral, f2 fear, h3
happy, s4 sad, a5 angry; a capital letter is accepted too), then four two-digit fields, the last of which is the
speaker (01-65)."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "AMH"
LABELS: dict[str, NativeLabel] = {
    "n": NativeLabel("neutral", "neutral"),
    "f": NativeLabel("fearful", "fear"),
    "h": NativeLabel("happy", "happiness"),
    "s": NativeLabel("sad", "sadness"),
    "a": NativeLabel("angry", "anger"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<emotion>[A-Za-z])\d-\d{2}-\d{2}-\d{2}-(?P<speaker>\d{2})$")
EXPECTED = "eN-NN-NN-NN-SS.wav, e.g. 01Neutral/n1-04-02-01-31.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, speaker) from an ASED file name, or None."""
    m = STEM.match(path.stem.strip())
    return (m["emotion"].lower(), m["speaker"]) if m else None


def scan_ased(root: Path) -> Scan:
    """Scan ASED (5 classes)."""
    return scan_files(root, "ased", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("ased", scan_ased, LABEL_MAP, LABELS)
