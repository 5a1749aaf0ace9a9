"""MELD, the Multimodal EmotionLines Dataset (English, from the TV series Friends): ``MELD.Raw`` holds the
labels in ``train_sent_emo.csv``, ``dev_sent_emo.csv`` and ``test_sent_emo.csv`` (columns Utterance, Speaker,
Emotion, Sentiment, Dialogue_ID, Utterance_ID, Season, Episode, StartTime, EndTime after ``Sr No.``, as
declare-lab/MELD's CSVs have them) and the clips as video in ``train_splits/``, ``dev_splits_complete/`` and
``output_repeated_splits_test/``, named ``dia0_utt0.mp4`` (EmoBox's ``data/meld`` files list
``train/train_splits/dia0_utt0.mp4`` and ``output_repeated_splits_test/dia113_utt16.mp4``; any folder above
them is fine). The same ``diaN_uttM``
name recurs in every split, so a row is matched inside its own split's folder. The audio has to be extracted
beside each clip first, keeping its name (``ffmpeg -i dia0_utt0.mp4 -vn -ac 1 dia0_utt0.wav``). Emotions:
neutral, joy, sadness, anger, surprise, fear, disgust. Speaker = the Speaker column (the character)."""

from __future__ import annotations

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
    find_named_dirs,
    hidden_note,
    paper_label_map,
    walk_dirs,
    walk_files,
)

LANGUAGE = "ENG"
LABELS: dict[str, NativeLabel] = {
    "neutral": NativeLabel("neutral", "neutral"),
    "joy": NativeLabel("joy", "happiness"),
    "sadness": NativeLabel("sadness", "sadness"),
    "anger": NativeLabel("anger", "anger"),
    "surprise": NativeLabel("surprise", "surprise"),
    "fear": NativeLabel("fear", "fear"),
    "disgust": NativeLabel("disgust", "disgust"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
SPLITS = {"train": r"^train_splits$", "dev": r"^dev_splits_complete$", "test": r"^output_repeated_splits_test$"}
EXTRACT = (
    "extract the audio beside each clip, keeping its name: for f in $(find . -name '*.mp4'); do "
    'ffmpeg -loglevel error -i "$f" -vn -ac 1 "${f%.mp4}.wav"; done'
)


def read_split(csv_path: Path) -> pd.DataFrame:
    """One ``*_sent_emo.csv`` as strings (undecodable bytes replaced: the utterance text is not needed)."""
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8", encoding_errors="replace")
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def scan_meld(root: Path) -> Scan:
    """Scan MELD: one item per CSV row whose extracted audio is in its split's folder."""
    csvs, _ = walk_files(root, (".csv",))
    items, skipped, used, ignored, n_video = [], [], set(), 0, 0
    for split, folder_rx in SPLITS.items():
        csv_path = next((p for p in csvs if p.name.lower() == f"{split}_sent_emo.csv"), None)
        folders = find_named_dirs(root, folder_rx)
        if csv_path is None or not folders:
            continue
        files, hidden = walk_dirs(folders, AUDIO_EXTENSIONS)
        ignored += hidden
        n_video += len(walk_dirs(folders, (".mp4",))[0])
        by_stem = {p.stem: p for p in files}
        for row in read_split(csv_path).itertuples(index=False):
            stem = f"dia{row.dialogue_id}_utt{row.utterance_id}"
            p = by_stem.get(stem)
            if p is None:
                skipped.append(
                    {"path": str(folders[0] / f"{stem}.wav"), "reason": f"missing file (listed in {csv_path.name})"}
                )
                continue
            used.add(p)
            items.append(Item(str(p), row.emotion.strip().lower(), LANGUAGE, row.speaker.strip() or "unknown", "meld"))
        skipped += [
            {"path": str(p), "reason": f"not listed in {csv_path.name} (no label)"} for p in files if p not in used
        ]
    if not items and n_video:
        raise CorpusNotFound(f"meld: {n_video} video clip(s) but no audio under {display_path(root)}; {EXTRACT}")
    if not items and not skipped:
        raise CorpusNotFound(
            f"meld: no {{train,dev,test}}_sent_emo.csv beside train_splits/, dev_splits_complete/ or "
            f"output_repeated_splits_test/ under {display_path(root)}; extract MELD.Raw.tar.gz and its split archives"
        )
    return Scan("meld", items, dict(LABEL_MAP), skipped, hidden_note(ignored))


LOADER = Loader("meld", scan_meld, LABEL_MAP, LABELS)
