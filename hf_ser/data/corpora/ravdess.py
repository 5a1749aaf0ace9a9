"""RAVDESS (North American English, Zenodo 1188976): ``Audio_Speech_Actors_01-24/Actor_21/03-01-06-01-01-01-21.wav``
(as EmoBox's ``data/ravdess/data.seg.audmap`` lists it), seven two-digit fields: modality (01 audio-video, 02 video,
03 audio), vocal channel (01 speech, 02 song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful,
07 disgust, 08 surprised), intensity (01 normal, 02 strong; neutral has no strong), statement, repetition, actor
(01-24; odd male, even female).

Speaker = the actor field. Audio-only files (modality 03) are read; ``channel`` picks speech (default, the 1440 files
EmoBox uses), song (``Audio_Song_Actors_01-24``, no disgust or surprised) or both (``all``).
"""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import CorpusError, Loader, NativeLabel, Scan, paper_label_map, scan_files, walk_files

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "01": NativeLabel("neutral", "neutral"),
    "02": NativeLabel("calm", "calm"),
    "03": NativeLabel("happy", "happiness"),
    "04": NativeLabel("sad", "sadness"),
    "05": NativeLabel("angry", "anger"),
    "06": NativeLabel("fearful", "fear"),
    "07": NativeLabel("disgust", "disgust"),
    "08": NativeLabel("surprised", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(
    r"^(?P<modality>0[123])-(?P<channel>0[12])-(?P<emotion>\d{2})-(?P<intensity>0[12])-(?P<statement>0[12])"
    r"-(?P<repetition>0[12])-(?P<actor>\d{2})$"
)
CHANNELS = {"speech": ("01",), "song": ("02",), "all": ("01", "02")}
EXPECTED = "MM-VV-EE-II-SS-RR-AA.wav, e.g. 03-01-05-01-02-01-12.wav"


def scan_ravdess(root: Path, channel: str = "speech") -> Scan:
    """Scan RAVDESS; `channel` is 'speech' (default), 'song' or 'all'."""
    if channel not in CHANNELS:
        raise CorpusError(f"ravdess: channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    files, ignored = walk_files(root, (".wav",))
    other = {p for p in files if (m := STEM.match(p.stem)) and m["channel"] not in CHANNELS[channel]}
    files = [p for p in files if p not in other]

    def parse(path: Path) -> tuple[str, str] | None:
        """(emotion code, actor) from a RAVDESS file name, or None (and None for a video-only modality)."""
        m = STEM.match(path.stem)
        return (m["emotion"], m["actor"]) if m and m["modality"] == "03" else None

    scan = scan_files(root, "ravdess", LANGUAGE, LABEL_MAP, parse, EXPECTED, files=files, ignored=ignored)
    if other:
        scan.notes.append(f"{len(other)} file(s) of the other vocal channel left out (channel={channel!r})")
    return scan


LOADER = Loader("ravdess", scan_ravdess, LABEL_MAP, LABELS)
