"""ESD, the Emotional Speech Dataset (Zhou et al. 2021): ten Mandarin speakers (0001-0010) and ten English speakers
(0011-0020), one corpus with two languages. ``Emotion Speech Dataset/0001/Angry/0001_000351.wav``, as EmoBox's
``data/esd/data.seg.audmap`` lists it (Neutral 0001_000001-000350, then Angry from 000351); the first release splits
each emotion folder into ``train/``, ``evaluation/`` and ``test/``, which is read the same. Emotion folders: Angry,
Happy, Neutral, Sad, Surprise (the label comes from the folder; the per-speaker ``0001.txt`` transcripts are not
needed). Speaker = the four-digit id; its language follows from it. ``part`` picks 'all' (default), 'zh' (CHI) or
'en' (ENG)."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import (
    CorpusError,
    Item,
    Loader,
    NativeLabel,
    Scan,
    ancestor_named,
    hidden_note,
    paper_label_map,
    walk_files,
)

LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "happy": NativeLabel("happy", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sad": NativeLabel("sad", "sadness"),
    "surprise": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>\d{4})_(?P<number>\d{6})$")
PARTS = {"zh": "CHI", "en": "ENG"}
EXPECTED = "<speaker>/<Emotion>/[train|evaluation|test/]SSSS_NNNNNN.wav, e.g. 0001/Angry/0001_000351.wav"


def language_of(speaker: str) -> str:
    """CHI for speakers 0001-0010, ENG for 0011-0020."""
    return "CHI" if int(speaker) <= 10 else "ENG"


def scan_esd(root: Path, part: str = "all") -> Scan:
    """Scan ESD; `part` is 'all' (default), 'zh' or 'en'."""
    if part not in ("all", *PARTS):
        raise CorpusError(f"esd: part must be 'all', 'zh' or 'en', not {part!r}")
    wanted = set(PARTS.values()) if part == "all" else {PARTS[part]}
    files, ignored = walk_files(root, (".wav",))
    items, skipped, other = [], [], 0
    for p in files:
        m = STEM.match(p.stem)
        label = ancestor_named(p, LABELS)
        if not m or label is None or not 1 <= int(m["speaker"]) <= 20:
            skipped.append({"path": str(p), "reason": f"unrecognised file name or folder (expected {EXPECTED})"})
            continue
        lang = language_of(m["speaker"])
        if lang not in wanted:
            other += 1
            continue
        items.append(Item(str(p), label, lang, m["speaker"], "esd"))
    notes = hidden_note(ignored) + (
        [f"{other} file(s) of the other language left out (part={part!r})"] if other else []
    )
    return Scan("esd", items, dict(LABEL_MAP), skipped, notes)


LOADER = Loader("esd", scan_esd, LABEL_MAP, LABELS)
