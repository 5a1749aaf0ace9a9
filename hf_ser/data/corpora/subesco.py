"""SUBESCO (Bangla): flat ``F_01_OISHI_S_10_ANGRY_1.wav`` (gender, number within gender, name,
sentence, emotion, take); speaker = gender + number (``F_01``). One file is named
``..._SURPRISE_3].wav``: stray characters after the take are ignored. Mixed 44.1/48 kHz,
mono and stereo."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "BEN"
LABELS: dict[str, NativeLabel] = {
    "ANGRY": NativeLabel("angry", "anger"),
    "DISGUST": NativeLabel("disgust", "disgust"),
    "FEAR": NativeLabel("fear", "fear"),
    "HAPPY": NativeLabel("happy", "happiness"),
    "NEUTRAL": NativeLabel("neutral", "neutral"),
    "SAD": NativeLabel("sad", "sadness"),
    "SURPRISE": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(
    r"^(?P<gender>[FM])_(?P<number>\d+)_(?P<name>[^_]+)_S_(?P<sentence>\d+)_(?P<emotion>[A-Za-z]+)_(?P<take>\d+)\W*$",
    re.IGNORECASE,
)
EXPECTED = "G_NN_NAME_S_n_EMOTION_t.wav, e.g. F_01_OISHI_S_10_ANGRY_1.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion, speaker) from a SUBESCO file name, or None."""
    m = STEM.match(path.stem.strip())
    return (m["emotion"].upper(), f"{m['gender'].upper()}_{int(m['number']):02d}") if m else None


def scan_subesco(root: Path) -> Scan:
    """Scan SUBESCO (7,000 files; surprise dropped)."""
    return scan_files(root, "subesco", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("subesco", scan_subesco, LABEL_MAP, LABELS)
