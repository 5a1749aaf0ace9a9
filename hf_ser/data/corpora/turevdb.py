"""TurEV-DB, the Turkish Emotional Voice Database: ``Sound Source/<Emotion>/1984_sk_eger.wav`` in the folders Angry,
Calm, Happy and Sad, as EmoBox's ``data/turevdb/data.seg.audmap`` lists them. The label is the folder; the file name
is the speaker id (four digits: 1157 1234 1358 1984 6783 7895), a two-letter code that differs per folder (Calm
``sk``, Happy ``mt``, Sad ``hl``, Angry ``kz``) and the word spoken; the speaker id is the speaker."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, ancestor_named, paper_label_map, scan_files

LANGUAGE = "TUR"
LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "calm": NativeLabel("calm", "calm"),
    "happy": NativeLabel("happy", "happiness"),
    "sad": NativeLabel("sad", "sadness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>\d+)_(?P<code>[a-z]+)_(?P<word>\w+)$", re.IGNORECASE)
EXPECTED = "Sound Source/<Emotion>/SSSS_cc_word.wav, e.g. Sound Source/Calm/1984_sk_eger.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion folder, speaker) of a TurEV-DB file, or None."""
    m = STEM.match(path.stem)
    label = ancestor_named(path, LABELS, levels=1)
    return (label, m["speaker"]) if m and label else None


def scan_turevdb(root: Path) -> Scan:
    """Scan TurEV-DB (4 classes; calm is not neutral)."""
    return scan_files(root, "turevdb", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("turevdb", scan_turevdb, LABEL_MAP, LABELS)
