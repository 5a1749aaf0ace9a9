"""EmoDB, the Berlin Database of Emotional Speech (German): ``wav/03a01Fa.wav``: speaker (03 08 09 10 11 12 13 14 15
16), text (a01-a07, b01-b10), emotion letter, version (a-f: ``08a04Ff``, ``11b10Ae``; EmoBox's
``data/emodb/data.seg.audmap`` lists them). Letters are German initials: W Ärger (anger), L Langeweile (boredom), E
Ekel (disgust), A Angst (fear), F Freude (happiness), T Trauer (sadness), N neutral. The download's other folders
(``lablaut/``, ``labsilb/``, ``silb/``) hold no audio."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "DEU"
LABELS: dict[str, NativeLabel] = {
    "W": NativeLabel("anger", "anger"),  # Ärger / Wut
    "L": NativeLabel("boredom", "boredom"),  # Langeweile
    "E": NativeLabel("disgust", "disgust"),  # Ekel
    "A": NativeLabel("fear", "fear"),  # Angst
    "F": NativeLabel("happiness", "happiness"),  # Freude
    "T": NativeLabel("sadness", "sadness"),  # Trauer
    "N": NativeLabel("neutral", "neutral"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>\d{2})(?P<text>[ab]\d{2})(?P<emotion>[A-Z])(?P<version>[a-z])$")
EXPECTED = "SSTttEv.wav, e.g. 03a01Fa.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, speaker) from an EmoDB file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"], m["speaker"]) if m else None


def scan_emodb(root: Path) -> Scan:
    """Scan EmoDB (535 utterances, 10 speakers)."""
    return scan_files(root, "emodb", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("emodb", scan_emodb, LABEL_MAP, LABELS)
