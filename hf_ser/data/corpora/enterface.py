"""eNTERFACE'05 (English spoken by 42 non-native subjects): the distribution holds video,
``subject 1/anger/sentence 1/s1_an_1.avi`` (subject, emotion code, sentence), as EmoBox's
``data/enterface/enterface.jsonl`` lists it. The audio has to be extracted first, keeping each name:
``ffmpeg -i s1_an_1.avi -vn -ac 1 s1_an_1.wav`` (EmoBox reads the ``.avi`` itself). Codes: an anger, di disgust,
fe fear, ha happiness, sa sadness, su surprise; no neutral.

The real names are irregular, and EmoBox keeps every one of them: subject 3 has ``s_3_su_4.avi`` beside
``s3_an_4.avi``; subject 6 has one long take per emotion, ``subject 6/anger/s6_an.avi`` (about 1-2 minutes, no
sentence number); subject 16 has ``s16_su_3avi.avi``; and the folder ``subject 11`` holds files named
``s12_*`` (there is no ``subject 12`` folder). Speaker = the ``subject N`` folder (``s11``), or the file name's
number when the file is not in such a folder."""

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
# s1_an_1, s_3_su_4, s6_an (a whole take), s16_su_3avi (sic)
STEM = re.compile(r"^s_?(?P<subject>\d+)_(?P<emotion>[a-z]{2})(?:_(?P<sentence>\d+))?(?:avi)?$", re.IGNORECASE)
SUBJECT_DIR = re.compile(r"^subject\s*(?P<subject>\d+)$", re.IGNORECASE)
EXPECTED = "subject N/<emotion>/sentence N/sN_ee_N.wav (audio extracted from sN_ee_N.avi), e.g. s1_an_1.wav"


def subject_of(path: Path) -> int | None:
    """The number of the nearest ``subject N`` folder within three levels above `path`, or None."""
    for parent in list(path.parents)[:3]:
        m = SUBJECT_DIR.match(parent.name.strip())
        if m:
            return int(m["subject"])
    return None


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion code, speaker ``sN``) of an eNTERFACE file, or None; the ``subject N`` folder names the speaker
    (``subject 11`` holds files named ``s12_*``), the file name only when there is no such folder."""
    m = STEM.match(path.stem.strip())
    if not m:
        return None
    subject = subject_of(path)
    return m["emotion"].lower(), f"s{subject if subject is not None else int(m['subject'])}"


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
