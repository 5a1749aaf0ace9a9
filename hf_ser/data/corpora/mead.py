"""MEAD (English, talking-face corpus): ``<actor>/audio/<emotion>/level_<n>/001.m4a`` per actor archive, as EmoBox's
``data/mead/data.seg.audmap`` lists them (``M040/audio/angry/level_3/018.m4a``). Emotions: angry, contempt,
disgusted, fear, happy, neutral, sad, surprised; levels 1-3 (neutral has level 1 only). The audio is AAC in ``.m4a``,
which soundfile cannot decode: convert it in place, keeping names (``ffmpeg -i 001.m4a 001.wav``); the loader reads
any decodable extension in that layout. Label = the emotion folder, speaker = the actor folder."""

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
    "angry": NativeLabel("angry", "anger"),
    "contempt": NativeLabel("contempt", "contempt"),
    "disgusted": NativeLabel("disgusted", "disgust"),
    "fear": NativeLabel("fear", "fear"),
    "happy": NativeLabel("happy", "happiness"),
    "neutral": NativeLabel("neutral", "neutral"),
    "sad": NativeLabel("sad", "sadness"),
    "surprised": NativeLabel("surprised", "surprise"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
ACTOR = re.compile(r"^[MW]\d{3}$")
EXPECTED = "<actor>/audio/<emotion>/level_<n>/NNN.wav, e.g. M003/audio/angry/level_1/001.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion folder, actor) of a MEAD file, or None when the path is not MEAD's layout."""
    level, emotion = path.parent, path.parent.parent
    audio, actor = emotion.parent, emotion.parent.parent
    if not (path.stem.isdigit() and level.name.startswith("level_") and audio.name == "audio"):
        return None
    return (emotion.name.lower(), actor.name) if ACTOR.match(actor.name) else None


def scan_mead(root: Path) -> Scan:
    """Scan MEAD's audio (converted from m4a; CorpusNotFound with the command when only m4a is there)."""
    files, ignored = walk_files(root, AUDIO_EXTENSIONS)
    if not files:
        m4a, _ = walk_files(root, (".m4a",))
        if m4a:
            raise CorpusNotFound(
                f"mead: {len(m4a)} .m4a file(s) but no decodable audio under {display_path(root)}; convert in place: "
                'for f in $(find . -name \'*.m4a\'); do ffmpeg -loglevel error -i "$f" "${f%.m4a}.wav"; done'
            )
    return scan_files(root, "mead", LANGUAGE, LABEL_MAP, parse, EXPECTED, files=files, ignored=ignored)


LOADER = Loader("mead", scan_mead, LABEL_MAP, LABELS)
