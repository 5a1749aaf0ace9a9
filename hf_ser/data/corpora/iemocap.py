"""IEMOCAP (English, USC SAIL): ``IEMOCAP_full_release/Session1-5/sentences/wav/<dialog>/<turn>.wav`` with the
labels in ``Session*/dialog/EmoEvaluation/<dialog>.txt``, one summary line per turn:
``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]`` (the evaluators' own lines
below it are ignored), as IEMOCAP's files have it; the wav paths are the ones EmoBox's
``data/iemocap/iemocap.jsonl`` lists (``Session1/sentences/wav/Ses01F_impro04/Ses01F_impro04_F000.wav``).
Categories: ang hap exc sad neu fru sur fea dis oth xxx (xxx: no majority; EmoBox keeps ang hap exc sad neu).

Speaker: the session and the gender of the turn's speaker, e.g. ``Ses01F`` for ``Ses01M_script01_1_F004`` (the
letter after ``Ses01`` in the dialog name says who wore the markers, not who speaks: the turn's own F/M does).
The session is the speaker's first five characters (``Ses01``), which the leave-one-session-out protocol groups
on. Only ``sentences/wav`` is read: ``dialog/wav`` holds whole dialogues, not turns. In the ``paper`` label set
``exc`` merges into happiness, as SUPERB's four-class setting does.
"""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import (
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
    "ang": NativeLabel("angry", "anger"),
    "hap": NativeLabel("happy", "happiness"),
    "exc": NativeLabel("excited", "happiness"),  # merged into happiness, as SUPERB does
    "sad": NativeLabel("sad", "sadness"),
    "neu": NativeLabel("neutral", "neutral"),
    "fru": NativeLabel("frustrated", "frustration"),
    "sur": NativeLabel("surprised", "surprise"),
    "fea": NativeLabel("fearful", "fear"),
    "dis": NativeLabel("disgusted", "disgust"),
    "oth": NativeLabel("other", "other"),
    "xxx": NativeLabel("no agreement", "other"),
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(?P<turn>Ses\d{2}[FM]\S*)\s+(?P<label>[a-z]{3})\b")
TURN = re.compile(r"^(?P<session>Ses\d{2})[FM]_.*_(?P<gender>[FM])\d{3}$")


def speaker_of(turn: str) -> str | None:
    """``Ses01F`` for turn ``Ses01M_script01_1_F004`` (session + the turn speaker's gender), None if malformed."""
    m = TURN.match(turn)
    return f"{m['session']}{m['gender']}" if m else None


def session_of(speaker: str) -> str:
    """The session of an IEMOCAP speaker id: its first five characters (``Ses01F`` -> ``Ses01``)."""
    return speaker[:5]


def read_labels(root: Path) -> tuple[dict[str, tuple[str, Path]], int]:
    """Turn name -> (label, EmoEvaluation file) from every ``EmoEvaluation/*.txt`` below `root`, and how many
    evaluation files were read."""
    texts, _ = walk_files(root, (".txt",))
    texts = [p for p in texts if p.parent.name.lower() == "emoevaluation"]
    labels: dict[str, tuple[str, Path]] = {}
    for p in texts:
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            m = LINE.match(line)
            if m:
                labels[m["turn"]] = (m["label"], p)
    return labels, len(texts)


def scan_iemocap(root: Path) -> Scan:
    """Scan IEMOCAP: one item per turn wav under ``sentences/wav`` that has a label line."""
    labels, n_files = read_labels(root)
    if not n_files:
        raise CorpusNotFound(
            f"iemocap: no Session*/dialog/EmoEvaluation/*.txt under {display_path(root)}; the labels are only in "
            "those files: extract the whole IEMOCAP_full_release"
        )
    dirs = find_named_dirs(root, r"^sentences$")
    files, ignored = walk_dirs([d / "wav" for d in dirs if (d / "wav").is_dir()] or [root], (".wav",))
    items, skipped, seen = [], [], set()
    for p in files:
        found = labels.get(p.stem)
        speaker = speaker_of(p.stem)
        if found is None or speaker is None:
            why = "no label line in dialog/EmoEvaluation" if speaker else "not an IEMOCAP turn name (SesNNX_..._F000)"
            skipped.append({"path": str(p), "reason": f"{why} (expected Session*/sentences/wav/<dialog>/<turn>.wav)"})
            continue
        seen.add(p.stem)
        items.append(Item(str(p), found[0], LANGUAGE, speaker, "iemocap"))
    for turn, (_, txt) in sorted(labels.items()):
        if turn not in seen:
            skipped.append(
                {
                    "path": f"{txt.parent.parent.parent}/sentences/wav/{turn.rsplit('_', 1)[0]}/{turn}.wav",
                    "reason": f"missing file (listed in {txt.name})",
                }
            )
    return Scan("iemocap", items, dict(LABEL_MAP), skipped, hidden_note(ignored))


LOADER = Loader("iemocap", scan_iemocap, LABEL_MAP, LABELS)
