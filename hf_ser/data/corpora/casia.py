"""CASIA (Mandarin, the public 1200-utterance part of the CASIA Chinese emotional corpus): four speakers (liuchanhg,
wangzhe, zhaoquanyin, ZhaoZuoxiang), ``<speaker>/<emotion>/201.wav``, emotion folders angry, fear, happy, neutral,
sad, surprise, each holding 201.wav-250.wav (EmoBox's ``data/casia/data.seg.audmap``: ``wangzhe/neutral/239.wav``).
Label = the emotion folder, speaker = the folder above it (lower case)."""

from __future__ import annotations

from pathlib import Path

from hf_ser.data.corpora.scan import Loader, NativeLabel, Scan, paper_label_map, scan_files

LANGUAGE = "CHI"
LABELS: dict[str, NativeLabel] = {
    "angry": NativeLabel("angry", "anger"),
    "fear": NativeLabel("fear", "fear"),
    "happy": NativeLabel("happy", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sad": NativeLabel("sad", "sadness"),
    "surprise": NativeLabel("surprise", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
SPEAKERS = ("liuchanhg", "wangzhe", "zhaoquanyin", "zhaozuoxiang")
EXPECTED = "<speaker>/<emotion>/NNN.wav, e.g. liuchanhg/angry/201.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion folder, speaker folder) of a CASIA file, or None when either is not CASIA's."""
    emotion, speaker = path.parent.name.lower(), path.parent.parent.name.lower()
    if not path.stem.isdigit() or speaker not in SPEAKERS:
        return None
    return emotion, speaker


def scan_casia(root: Path) -> Scan:
    """Scan CASIA (4 speakers x 6 emotions x 50 sentences)."""
    return scan_files(root, "casia", LANGUAGE, LABEL_MAP, parse, EXPECTED)


LOADER = Loader("casia", scan_casia, LABEL_MAP, LABELS)
