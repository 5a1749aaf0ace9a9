"""MSP-Podcast (English podcast speech, UT Dallas, academic licence): ``Audios/MSP-PODCAST_0001_0008.wav`` (EmoBox's
fold files list the same names, ``data/msppodcast/fold_1/msppodcast_test_fold_1.jsonl``, under its own ``Audio/``
download folder) and ``Labels/labels_consensus.csv``, which some releases spell ``labels_concensus.csv``: a header
row, then FileName (with ``.wav``), EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set. EmoClass codes:
A anger, S sadness, H happiness, U surprise, F fear, D disgust, C contempt, N neutral, O other, X no agreement.
Speaker = SpkrID; a file whose SpkrID is ``Unknown`` (many are) gets its podcast's pseudo-speaker ``unknown-0001``
(from ``MSP-PODCAST_0001_0043``): one shared 'unknown' speaker would put every such file on one side of a speaker
split, while the podcast keeps together the segments most likely to share a voice. Releases that ship
``Labels/labels_consensus.json`` instead (one object per file name: ``{"MSP-PODCAST_0001_0008.wav": {"EmoClass":
"N", "SpkrID": "127", "Gender": ..., "Split_Set": "Train", ...}}``, as read by public MSP-Podcast preparation scripts)
are read from it; with both, the CSV wins."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from hf_ser.data.corpora.scan import (
    AUDIO_EXTENSIONS,
    CorpusNotFound,
    Item,
    Loader,
    NativeLabel,
    Scan,
    display_path,
    hidden_note,
    paper_label_map,
    read_metadata_csv,
    walk_files,
)

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "A": NativeLabel("angry", "anger"),
    "S": NativeLabel("sad", "sadness"),
    "H": NativeLabel("happy", "happiness"),
    "U": NativeLabel("surprise", "surprise"),
    "F": NativeLabel("fear", "fear"),
    "D": NativeLabel("disgust", "disgust"),
    "C": NativeLabel("contempt", "contempt"),
    "N": NativeLabel("neutral", "neutral"),
    "O": NativeLabel("other", "other"),
    "X": NativeLabel("no agreement", "other"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
COLUMNS = ("filename", "emoclass", "spkrid")
# the CSV spellings first (the second is a real release's), then the JSON newer releases ship
LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv", "labels_consensus.json", "labels_concensus.json")
PODCAST = re.compile(r"^MSP-PODCAST_(?P<podcast>\d+)_\d+", re.IGNORECASE)


def speaker_of(spkrid: str, filename: str) -> str:
    """The row's SpkrID, or for an unknown one the pseudo-speaker of its podcast (``unknown-0001`` for
    ``MSP-PODCAST_0001_0043.wav``; plain ``unknown`` when the name has no podcast number)."""
    speaker = str(spkrid).strip()
    if speaker and speaker.lower() not in ("unknown", "nan"):
        return speaker
    m = PODCAST.match(Path(str(filename).strip()).name)
    return f"unknown-{m['podcast']}" if m else "unknown"


def find_labels_csv(root: Path) -> Path:
    """The consensus label file below `root`, in :data:`LABEL_FILES` order (CorpusNotFound when absent)."""
    found, _ = walk_files(root, (".csv", ".json"))
    found = sorted((p for p in found if p.name.lower() in LABEL_FILES), key=lambda p: LABEL_FILES.index(p.name.lower()))
    if not found:
        raise CorpusNotFound(
            f"msp_podcast: Labels/labels_consensus.csv (or labels_consensus.json) not found under "
            f"{display_path(root)}; the labels are only in that file: extract the release's Labels/ folder beside "
            "Audios/"
        )
    return found[0]


def read_labels_json(path: Path) -> pd.DataFrame:
    """``labels_consensus.json`` as the CSV's columns (filename, emoclass, spkrid); CorpusNotFound naming the file
    when it is not an object of per-file objects with an EmoClass."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusNotFound(f"msp_podcast: {display_path(path)} is not readable JSON ({exc})") from exc
    if not isinstance(payload, dict) or not all(isinstance(v, dict) and "EmoClass" in v for v in payload.values()):
        raise CorpusNotFound(
            f"msp_podcast: {display_path(path)} is not MSP-Podcast's consensus labels (an object of "
            '{"<file>.wav": {"EmoClass": ..., "SpkrID": ...}}); use the release\'s Labels/labels_consensus.csv'
        )
    rows = [(name, str(v["EmoClass"]), str(v.get("SpkrID", ""))) for name, v in payload.items()]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def scan_msp_podcast(root: Path) -> Scan:
    """Scan MSP-Podcast: one item per labels_consensus.csv (or .json) row whose audio exists."""
    csv_path = find_labels_csv(root)
    df = read_labels_json(csv_path) if csv_path.suffix.lower() == ".json" else read_metadata_csv(csv_path, COLUMNS)
    files, ignored = walk_files(root, AUDIO_EXTENSIONS)
    by_name = {p.name: p for p in files}
    items, skipped, used = [], [], set()
    for row in df.itertuples(index=False):
        p = by_name.get(Path(str(row.filename).strip()).name)
        if p is None:
            skipped.append(
                {"path": str(root / "Audios" / row.filename), "reason": f"missing file (listed in {csv_path.name})"}
            )
            continue
        used.add(p)
        speaker = speaker_of(row.spkrid, row.filename)
        items.append(Item(str(p), str(row.emoclass).strip(), LANGUAGE, speaker, "msp_podcast"))
    skipped += [{"path": str(p), "reason": f"not listed in {csv_path.name} (no label)"} for p in files if p not in used]
    return Scan("msp_podcast", items, dict(LABEL_MAP), skipped, hidden_note(ignored))


LOADER = Loader("msp_podcast", scan_msp_podcast, LABEL_MAP, LABELS)
