"""MSP-Podcast (English podcast speech, UT Dallas, academic licence): ``Audios/MSP-PODCAST_0001_0008.wav`` (EmoBox's
fold files list the same names, ``data/msppodcast/fold_1/msppodcast_test_fold_1.jsonl``, under its own ``Audio/``
download folder) and ``Labels/labels_consensus.csv``, which some releases spell ``labels_concensus.csv``: a header
row, then FileName (with ``.wav``), EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set. EmoClass codes:
A anger, S sadness, H happiness, U surprise, F fear, D disgust, C contempt, N neutral, O other, X no agreement.
Speaker = SpkrID (``Unknown`` for many files: kept as 'unknown'). Releases that ship only
``labels_consensus.json`` need that CSV (or a manifest)."""

from __future__ import annotations

from pathlib import Path

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
LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv")  # the second spelling is a real release's


def find_labels_csv(root: Path) -> Path:
    """``Labels/labels_consensus.csv`` (or ``labels_concensus.csv``) below `root` (CorpusNotFound when absent)."""
    found, _ = walk_files(root, (".csv",))
    found = [p for p in found if p.name.lower() in LABEL_FILES]
    if not found:
        raise CorpusNotFound(
            f"msp_podcast: Labels/labels_consensus.csv (or labels_concensus.csv) not found under "
            f"{display_path(root)}; the labels are only in that file: extract the release's Labels/ folder beside "
            "Audios/"
        )
    return found[0]


def scan_msp_podcast(root: Path) -> Scan:
    """Scan MSP-Podcast: one item per labels_consensus.csv row whose audio exists."""
    csv_path = find_labels_csv(root)
    df = read_metadata_csv(csv_path, COLUMNS)
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
        speaker = str(row.spkrid).strip()
        speaker = "unknown" if not speaker or speaker.lower() == "unknown" else speaker
        items.append(Item(str(p), str(row.emoclass).strip(), LANGUAGE, speaker, "msp_podcast"))
    skipped += [{"path": str(p), "reason": f"not listed in {csv_path.name} (no label)"} for p in files if p not in used]
    return Scan("msp_podcast", items, dict(LABEL_MAP), skipped, hidden_note(ignored))


LOADER = Loader("msp_podcast", scan_msp_podcast, LABEL_MAP, LABELS)
