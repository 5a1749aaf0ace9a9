"""EmoV-DB (English, OpenSLR 115): one archive per speaker and emotion, ``bea_Amused.tar.gz``, extracting to
``amused_1-15_0001.wav``; the archive's folder (``bea_Amused/``) names the speaker (bea, jenie, josh, sam).
Emotions: amused, angry, disgusted, neutral, sleepy. The label is the file name's first field; the speaker is
the folder ``<speaker>_<Emotion>`` above the file, or a speaker folder (``bea/``)."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "amused": NativeLabel("amused", "amusement"),
    "angry": NativeLabel("angry", "anger"),
    "disgusted": NativeLabel("disgusted", "disgust"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sleepy": NativeLabel("sleepy", "sleepiness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
SPEAKERS = ("bea", "jenie", "josh", "sam")
STEM = re.compile(r"^(?P<emotion>[a-z]+)_\d+-\d+_\d{4}$", re.IGNORECASE)
EXPECTED = "<speaker>_<Emotion>/emotion_N-M_NNNN.wav, e.g. bea_Amused/amused_1-15_0001.wav"


def speaker_of(path: Path) -> str | None:
    """The speaker named by the nearest folder ``bea_Amused`` or ``bea`` above `path`, or None."""
    for parent in list(path.parents)[:3]:
        head = parent.name.split("_", 1)[0].lower()
        if head in SPEAKERS:
            return head
    return None


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion, speaker) of an EmoV-DB file, or None."""
    m = STEM.match(path.stem)
    speaker = speaker_of(path)
    return (m["emotion"].lower(), speaker) if m and speaker else None


def scan_emovdb(root: Path) -> Scan:
    """Scan EmoV-DB (4 speakers, 5 classes)."""
    return scan_files(root, "emovdb", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("emovdb", scan_emovdb, LABEL_MAP, LABELS)
