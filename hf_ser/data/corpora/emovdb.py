"""EmoV-DB (English, OpenSLR 115): one archive per speaker and emotion, ``bea_Amused.tar.gz``, extracting to the
folder ``bea_Amused/`` of files such as ``amused_1-15_0001.wav``, as EmoBox's ``data/emovdb/emovdb.jsonl`` lists
them. Speakers bea, jenie, josh and sam (not every speaker recorded every emotion); emotion folders Amused, Angry,
Disgusted, Neutral, Sleepy. The file names start with a different word than the folder: ``bea_Angry/anger_*``,
``bea_Disgusted/disgust_*``, ``bea_Sleepy/sleepiness_*`` (``amused_*`` and ``neutral_*`` agree), and the sentence
range uses ``-`` or ``_`` (``amused_1-15_0011``, ``amused_141_168_0145``). The native label is the folder's
emotion (amused, angry, disgusted, neutral, sleepy), read from the file name's first word; the speaker is the
folder ``<speaker>_<Emotion>`` above the file, or a speaker folder (``bea/``)."""

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
# the first word of a file name -> the native label (the folder's emotion)
FILE_WORDS: dict[str, str] = {
    "amused": "amused",
    "anger": "angry",
    "angry": "angry",
    "disgust": "disgusted",
    "disgusted": "disgusted",
    "neutral": "neutral",
    "sleepiness": "sleepy",
    "sleepy": "sleepy",
}
STEM = re.compile(r"^(?P<word>[a-z]+)_\d+[-_]\d+_\d{4}$", re.IGNORECASE)
EXPECTED = "<speaker>_<Emotion>/word_N-M_NNNN.wav, e.g. bea_Angry/anger_1-28_0022.wav"


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
    label = FILE_WORDS.get(m["word"].lower()) if m else None
    speaker = speaker_of(path)
    return (label, speaker) if label and speaker else None


def scan_emovdb(root: Path) -> Scan:
    """Scan EmoV-DB (4 speakers, 5 classes)."""
    return scan_files(root, "emovdb", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("emovdb", scan_emovdb, LABEL_MAP, LABELS)
