"""EMOVO (Italian, Costantini et al. 2014): six actors, one folder each, ``f1/dis-f1-b1.wav``, as EmoBox's
``data/emovo/emovo.jsonl`` lists them. The file name is the emotion code, the actor (f1 f2 f3 m1 m2 m3, also the
folder) and the sentence (b1-b3, d1-d2, l1-l4, n1-n5: 14 sentences), 48 kHz. Codes (EmoBox's
``data/emovo/label_dict.json``): rab anger (rabbia), dis disgust (disgusto), pau fear (paura), gio joy (gioia),
neu neutral, tri sadness (tristezza), sor surprise (sorpresa). 7 x 14 x 6 = 588 files."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "ITA"
LABELS: dict[str, NativeLabel] = {
    "rab": NativeLabel("anger", "anger"),  # rabbia
    "dis": NativeLabel("disgust", "disgust"),  # disgusto
    "pau": NativeLabel("fear", "fear"),  # paura
    "gio": NativeLabel("joy", "happiness"),  # gioia
    "neu": NativeLabel("neutral", "neutral"),
    "tri": NativeLabel("sadness", "sadness"),  # tristezza
    "sor": NativeLabel("surprise", "surprise"),  # sorpresa
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<emotion>[a-z]{3})-(?P<actor>[fm]\d)-(?P<sentence>[a-z]\d)$", re.IGNORECASE)
EXPECTED = "<actor>/eee-<actor>-<sentence>.wav, e.g. f1/dis-f1-b1.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion code, actor) from an EMOVO file name, or None."""
    m = STEM.match(path.stem.strip())
    return (m["emotion"].lower(), m["actor"].lower()) if m else None


def scan_emovo(root: Path) -> Scan:
    """Scan EMOVO (6 actors, 7 classes)."""
    return scan_files(root, "emovo", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("emovo", scan_emovo, LABEL_MAP, LABELS)
