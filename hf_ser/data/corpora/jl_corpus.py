"""JL-Corpus (New Zealand English, Kaggle "JL corpus"): ``Raw JL corpus (unchecked and unannotated)/JL(wav+txt)/
male2_concerned_6b_1.wav``, as EmoBox's ``data/jlcorpus/jlcorpus.jsonl`` lists it: speaker (female1, female2,
male1, male2), emotion, sentence id (``6b``), take; a ``.txt`` transcript beside each file is ignored. Five
primary emotions (angry, sad, neutral, happy, excited) and five secondary ones (anxious, apologetic, assertive,
concerned, encouraging); EmoBox's label map uses all ten."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "sad": NativeLabel("sad", "sadness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "happy": NativeLabel("happy", "happiness"),
    "excited": NativeLabel("excited", "excitement"),
    "anxious": NativeLabel("anxious", "anxiety"),
    "apologetic": NativeLabel("apologetic", "apology"),
    "assertive": NativeLabel("assertive", "assertiveness"),
    "concerned": NativeLabel("concerned", "concern"),
    "encouraging": NativeLabel("encouraging", "encouragement"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<speaker>(?:fe)?male\d)_(?P<emotion>[a-z]+)_(?P<sentence>\d+[a-z]?)_(?P<take>\d+)$", re.I)
EXPECTED = "speaker_emotion_sentence_take.wav, e.g. female1_angry_1a_1.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion, speaker) from a JL-Corpus file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"].lower(), m["speaker"].lower()) if m else None


def scan_jl_corpus(root: Path) -> Scan:
    """Scan JL-Corpus (4 speakers, 10 classes)."""
    return scan_files(root, "jl_corpus", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("jl_corpus", scan_jl_corpus, LABEL_MAP, LABELS)
