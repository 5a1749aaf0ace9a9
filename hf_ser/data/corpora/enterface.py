"""eNTERFACE'05 (English spoken by 42 non-native subjects): the distribution holds video,
``subject 1/anger/sentence 1/s1_an_1.avi`` (subject, emotion code, sentence). The audio has to be extracted
first, keeping each name: ``ffmpeg -i s1_an_1.avi -vn -ac 1 s1_an_1.wav`` (EmoBox reads such wavs). Codes: an
anger, di disgust, fe fear, ha happiness, sa sadness, su surprise; no neutral. Speaker = the subject number
(a few names are written ``s_12_an_1``)."""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import (
    AUDIO_EXTENSIONS,
    CorpusNotFound,
    Loader,
    NativeLabel,
    Scan,
    display_path,
    paper_label_map,
    scan_files,
    walk_files,
)

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "an": NativeLabel("anger", "anger"),
    "di": NativeLabel("disgust", "disgust"),
    "fe": NativeLabel("fear", "fear"),
    "ha": NativeLabel("happiness", "happiness"),
    "sa": NativeLabel("sadness", "sadness"),
    "su": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^s_?(?P<subject>\d+)_(?P<emotion>[a-z]{2})_(?P<sentence>\d+)$", re.IGNORECASE)
EXPECTED = "sN_ee_N.wav (audio extracted from sN_ee_N.avi), e.g. s1_an_1.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion code, subject) from an eNTERFACE file name, or None."""
    m = STEM.match(path.stem.strip())
    return (m["emotion"].lower(), f"s{int(m['subject'])}") if m else None


def scan_enterface(root: Path) -> Scan:
    """Scan eNTERFACE'05 from audio extracted beside the videos (CorpusNotFound with the command when only
    videos are there)."""
    files, ignored = walk_files(root, AUDIO_EXTENSIONS)
    if not files:
        videos, _ = walk_files(root, (".avi",))
        if videos:
            raise CorpusNotFound(
                f"enterface: {len(videos)} video file(s) but no audio under {display_path(root)}; extract the "
                "audio beside each video, keeping its name: for f in $(find . -name '*.avi'); do "
                'ffmpeg -loglevel error -i "$f" -vn -ac 1 "${f%.avi}.wav"; done'
            )
    return scan_files(root, "enterface", LANGUAGE, LABEL_MAP, parse, EXPECTED, files=files, ignored=ignored)


LOADER = Loader("enterface", scan_enterface, LABEL_MAP, LABELS)
