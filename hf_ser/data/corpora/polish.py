"""The Polish emotional speech corpus EmoBox uses (commands spoken by five male speakers): flat
``m3.s_trzymaj_5.wav``: speaker (``m1``-``m5``), emotion letter, command word (nie, oddaj, podaj, stop, tak,
trzymaj), repetition. Letters: a anger (złość), n neutral, s fear (strach), as EmoBox's label map has them."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "POL"
LABELS: dict[str, NativeLabel] = {
    "a": NativeLabel("anger", "anger"),  # złość
    "n": NativeLabel("neutral", "neutral"),
    "s": NativeLabel("fear", "fear"),  # strach
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>[mfMF]\d+)\.(?P<emotion>[a-z])_(?P<word>[^_]+)_(?P<repetition>\d+)$")
EXPECTED = "sN.e_word_R.wav, e.g. m3.s_trzymaj_5.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, speaker) from a file name of the Polish corpus, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"], m["speaker"].lower()) if m else None


def scan_polish(root: Path) -> Scan:
    """Scan the Polish corpus (3 classes)."""
    return scan_files(root, "polish", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("polish", scan_polish, LABEL_MAP, LABELS)
