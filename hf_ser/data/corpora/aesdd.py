"""AESDD, the Acted Emotional Speech Dynamic Database (Greek): ``<emotion>/a01 (1).wav``, emotion folders anger,
disgust, fear, happiness, sadness, as EmoBox's ``data/aesdd/data.seg.audmap`` lists them. The file name is the
emotion letter (a d f h s), the utterance number (01-20) and the actor's number in parentheses (1-6), which is the
speaker. The real names include retakes with a letter after the parenthesis (``a06 (5)b.wav``, ``s01 (5)a.wav``) and
a zero-padded actor (``f10 (01).wav``, ``d03 (01).wav``: actor 1). No neutral class."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "ELL"
LABELS: dict[str, NativeLabel] = {
    "a": NativeLabel("anger", "anger"),
    "d": NativeLabel("disgust", "disgust"),
    "f": NativeLabel("fear", "fear"),
    "h": NativeLabel("happiness", "happiness"),
    "s": NativeLabel("sadness", "sadness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<emotion>[a-z])(?P<utterance>\d{2})\s*\((?P<actor>\d+)\)\s*[a-z]?$")
EXPECTED = "eNN (A).wav, e.g. anger/a01 (1).wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, actor number without zero padding: ``(01)`` is actor 1) of an AESDD file name, or None."""
    m = STEM.match(path.stem.strip())
    return (m["emotion"], str(int(m["actor"]))) if m else None


def scan_aesdd(root: Path) -> Scan:
    """Scan AESDD (5 classes)."""
    return scan_files(root, "aesdd", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("aesdd", scan_aesdd, LABEL_MAP, LABELS)
