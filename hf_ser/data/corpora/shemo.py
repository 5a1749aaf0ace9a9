"""ShEMO, the Sharif Emotional Speech Database (Persian): ``female/F01A01.wav`` and ``male/M01A01.wav``: gender,
two-digit speaker number, emotion letter, two-digit utterance number. Letters: A anger, F fear, H happiness,
N neutral, S sadness, W surprise (EmoBox's ``data/shemo/shemo.jsonl`` has the same files, ``male/M36S02.wav``,
labelled by name: sad, neutral, fearful, angry, happy, surprised). Speaker = gender + number (``F01``); 87
speakers, 3000 utterances, 44.1 kHz and some 22.05 kHz."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "FAS"
LABELS: dict[str, NativeLabel] = {
    "A": NativeLabel("anger", "anger"),
    "F": NativeLabel("fear", "fear"),
    "H": NativeLabel("happiness", "happiness"),
    "N": NativeLabel("neutral", "neutral"),
    "S": NativeLabel("sadness", "sadness"),
    "W": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>[FM]\d{2})(?P<emotion>[A-Z])(?P<number>\d{2})$")
EXPECTED = "GNNENN.wav, e.g. F01A01.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, speaker) from a ShEMO file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"], m["speaker"]) if m else None


def scan_shemo(root: Path) -> Scan:
    """Scan ShEMO (6 classes)."""
    return scan_files(root, "shemo", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("shemo", scan_shemo, LABEL_MAP, LABELS)
