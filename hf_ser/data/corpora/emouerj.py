"""emoUERJ (Brazilian Portuguese): flat ``emoUERJ/*.wav`` named ``w04a11.wav``: gender m/w,
actor 01-04 within the gender (speaker = the first three characters), emotion h/a/s/n, take."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "POR"
LABELS: dict[str, NativeLabel] = {
    "a": NativeLabel("anger", "anger"),
    "h": NativeLabel("happiness", "happiness"),
    "n": NativeLabel("neutral", "neutral"),
    "s": NativeLabel("sadness", "sadness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>[mwMW]\d{2})(?P<emotion>[A-Za-z])(?P<take>\d+)$")
EXPECTED = "GAAEtt.wav, e.g. w04a11.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, speaker) from an emoUERJ file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"].lower(), m["speaker"].lower()) if m else None


def scan_emouerj(root: Path) -> Scan:
    """Scan emoUERJ (4 classes: anger, happiness, neutral, sadness)."""
    return scan_files(root, "emouerj", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("emouerj", scan_emouerj, LABEL_MAP, LABELS)
