"""CREMA-D (English): ``AudioWAV/1001_DFA_ANG_XX.wav`` (actor, sentence, emotion, intensity),
16 kHz mono, from the GitHub repository, whose audio is stored in git-LFS.

Only ``AudioWAV/`` is read when present (the clone also has ``AudioMP3/`` copies of the
same clips). A clone made without git-LFS holds pointer files: every one is skipped as
'git-LFS pointer' and the report says how to fetch the audio. ``1076_MTI_SAD_XX.wav`` is
silent and ends up skipped as 'silent after trimming'.
"""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import (
    Loader,
    NativeLabel,
    Scan,
    find_named_dirs,
    lfs_pointer_note,
    paper_label_map,
    scan_files,
    walk_dirs,
    walk_files,
)

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "ANG": NativeLabel("anger", "anger"),
    "DIS": NativeLabel("disgust", "disgust"),
    "FEA": NativeLabel("fear", "fear"),
    "HAP": NativeLabel("happy", "happiness"),
    "NEU": NativeLabel("neutral", "neutral"),
    "SAD": NativeLabel("sad", "sadness"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Za-z]{3})_(?P<level>[A-Z]{1,2})$")
REPO = "https://github.com/CheyneyComputerScience/CREMA-D"
EXPECTED = "AAAA_SSS_EMO_LV.wav, e.g. 1001_DFA_ANG_XX.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion code, actor) from a CREMA-D file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"].upper(), m["actor"]) if m else None


def scan_crema_d(root: Path) -> Scan:
    """Scan CREMA-D (the AudioWAV folder when there is one)."""
    dirs = find_named_dirs(root, r"^AudioWAV$")
    if dirs:
        files, ignored = walk_dirs(dirs, (".wav",))
    else:
        files, ignored = walk_files(root, (".wav",))
    scan = scan_files(root, "crema_d", LANGUAGE, LABEL_MAP, parse, EXPECTED, files=files, ignored=ignored)
    lfs_pointer_note(scan, f"the audio of {REPO} is stored with git-LFS; or download the WAVs from the repository page")
    return scan


LOADER = Loader("crema_d", scan_crema_d, LABEL_MAP, LABELS)
