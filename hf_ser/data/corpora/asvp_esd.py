"""ASVP-ESD, the Audio, Speech and Vision Processing Lab Emotional Sound Database (speech and non-speech sounds
from films, TV and the web; mostly English): ``Audio/actor_36/03-01-09-01-06-36-02-02-01-39.wav``, RAVDESS's
coding extended: modality, vocal channel (01 speech, 02 non-speech), emotion, intensity, statement, actor, then
further fields (age, source, language, a second emotion) that vary in number. Speaker = the actor field.
Emotion codes as EmoBox's label map gives them: 01 boredom, 02 neutral, 03 happy, 04 sad, 05 angry, 06 fear,
07 disgust, 08 surprise, 09 excited, 10 pleasure, 11 pain, 12 disappointment, 13 breath, 17 unknown."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "01": NativeLabel("boredom", "boredom"),
    "02": NativeLabel("neutral", "neutral"),
    "03": NativeLabel("happy", "happiness"),
    "04": NativeLabel("sad", "sadness"),
    "05": NativeLabel("angry", "anger"),
    "06": NativeLabel("fear", "fear"),
    "07": NativeLabel("disgust", "disgust"),
    "08": NativeLabel("surprise", "surprise"),
    "09": NativeLabel("excited", "excitement"),
    "10": NativeLabel("pleasure", "pleasure"),
    "11": NativeLabel("pain", "pain"),
    "12": NativeLabel("disappointment", "disappointment"),
    "13": NativeLabel("breath", "other"),
    "17": NativeLabel("unknown", "other"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^03-0[12]-(?P<emotion>\d{2})-0[12]-\d{2}-(?P<actor>\d+)(?:-\d+)*$")
EXPECTED = "03-VV-EE-II-SS-AA[-...].wav, e.g. Audio/actor_36/03-01-09-01-06-36-02-02-01-39.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion code, actor) from an ASVP-ESD file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"], m["actor"]) if m else None


def scan_asvp_esd(root: Path) -> Scan:
    """Scan ASVP-ESD (speech and non-speech sounds alike)."""
    return scan_files(root, "asvp_esd", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("asvp_esd", scan_asvp_esd, LABEL_MAP, LABELS)
