"""URDU (Latif et al. 2018; Urdu talk-show speech): ``<Emotion>/SM1_F1_A01.wav`` in the folders Angry, Happy,
Neutral and Sad, as EmoBox's ``data/urdu/urdu.jsonl`` lists them (``Neutral/SM20_F8_N012.wav``,
``Happy/SM7_F28_H0100.wav``; EmoBox's label is the letter before the number, which agrees with the folder). The
label is the folder; the speaker is the file name's first field (``SM1``: S, gender M/F, number): SM1-SM27 and
SF1-SF11 there, 38 speakers in all."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, ancestor_named, paper_label_map, scan_files

LANGUAGE = "URD"
LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "happy": NativeLabel("happy", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sad": NativeLabel("sad", "sadness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>S[MF]\d+)_", re.IGNORECASE)
EXPECTED = "<Emotion>/SM1_F1_A01.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion folder, speaker) of an URDU file, or None."""
    m = STEM.match(path.stem)
    label = ancestor_named(path, LABELS, levels=1)
    return (label, m["speaker"].upper()) if m and label else None


def scan_urdu(root: Path) -> Scan:
    """Scan URDU (4 classes, 400 utterances)."""
    return scan_files(root, "urdu", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("urdu", scan_urdu, LABEL_MAP, LABELS)
