"""EmoProsody (European Portuguese, Castro & Lima 2010): flat wavs named like ``62pA_fear8.wav``
(number, s sentence / p pseudo-sentence, speaker A/B, emotion, item) beside the tab-separated
appendices `` Castro_2010_AppxB_Sents.txt`` / `` Castro_2010_AppxB_Pseudosents.txt`` (their
names start with a space; 5 header lines; one row per validated stimulus). The label comes
from the file name; the appendices are only used to flag files they do not list."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, display_path, paper_label_map, scan_files, walk_files

LANGUAGE = "POR"
LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "disgust": NativeLabel("disgust", "disgust"),
    "fear": NativeLabel("fear", "fear"),
    "happy": NativeLabel("happy", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sad": NativeLabel("sad", "sadness"),
    "surprise": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^\d+[sp](?P<speaker>[AB])_(?P<emotion>[A-Za-z]+)\d+$")
EXPECTED = "NN{s,p}{A,B}_emotionN.wav, e.g. 62pA_fear8.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion, speaker A/B) from an EmoProsody file name, or None."""
    m = STEM.match(path.stem.strip())
    return (m["emotion"].lower(), m["speaker"]) if m else None


def read_appendix(path: Path) -> set[str]:
    """Stimulus ids listed in one appendix file (tab separated, 5 header lines, 'Stimulus ' column)."""
    for enc in ("utf-8", "cp1252"):
        try:
            df = pd.read_csv(path, sep="\t", skiprows=5, header=0, dtype=str, encoding=enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        return set()
    cols = {str(c).strip().lower(): c for c in df.columns}
    col = cols.get("stimulus", df.columns[0])
    return {str(v).strip() for v in df[col].dropna() if str(v).strip()}


def scan_emoprosody(root: Path) -> Scan:
    """Scan the Castro & Lima sentences and pseudo-sentences (two speakers, A and B)."""
    scan = scan_files(root, "emoprosody", LANGUAGE, LABEL_MAP, parse, EXPECTED)
    texts, _ = walk_files(root, (".txt",))
    appendices = [p for p in texts if "castro_2010_appxb" in p.name.strip().lower()]
    if not appendices:
        scan.notes.append("Castro_2010_AppxB_*.txt appendices not found (not needed: labels come from file names)")
        return scan
    listed: set[str] = set()
    for p in appendices:
        try:
            listed |= read_appendix(p)
        except Exception as e:  # a damaged appendix must not stop the scan
            scan.notes.append(f"could not read {display_path(p.name)!r}: {type(e).__name__}: {e}")
    unlisted = [it for it in scan.items if Path(it.path).stem not in listed]
    if listed and unlisted:
        scan.notes.append(
            f"{len(unlisted)} file(s) are not listed in the appendices, e.g. {Path(unlisted[0].path).name}"
        )
    return scan


LOADER = Loader("emoprosody", scan_emoprosody, LABEL_MAP, LABELS)
