"""EmoFilm: ``wav_corpus/*.wav`` named ``f_ans001aes.wav`` (gender, emotion, number, take letter,
language en/es/it). ``ans`` fear, ``gio`` happiness, ``rab`` anger, ``tri`` sadness and
``dis`` = *contempt* (disprezzo), dropped: it is not disgust. No neutral class. Speakers
are only in ``f_m_corpus_it_es_en_legend.xlsx`` (sheets female/male: file, speaker, film).

The paper uses the Spanish part (``part='es'``, default); ``part='all'`` or ``'en'``/``'it'``
load the others (languages ENG / ITA)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from hf_ser.data.corpora.scan import (
    CorpusError,
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

LABELS: dict[str, NativeLabel] = {
    "ans": NativeLabel("fear", "fear"),  # ansia
    "gio": NativeLabel("joy", "happiness"),  # gioia
    "rab": NativeLabel("anger", "anger"),  # rabbia
    "tri": NativeLabel("sadness", "sadness"),  # tristezza
    "dis": NativeLabel("contempt", "contempt"),  # disprezzo = contempt, not disgust
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
PARTS: dict[str, str] = {"es": "SPA", "en": "ENG", "it": "ITA"}
STEM = re.compile(r"^(?P<gender>[fm])_(?P<emotion>[a-z]{3})(?P<number>\d{3})(?P<take>[a-z])(?P<lang>en|es|it)", re.I)
EXPECTED = "g_emoNNNtLL.wav, e.g. f_ans001aes.wav"
UNKNOWN_SPEAKER = re.compile(r"^[?\s]*$")
# Spelling variants of the same dubbing actors in the legend (accents and case are folded first).
SPEAKER_ALIASES: dict[str, str] = {
    "constantino romero 6": "constantino romero",
    "giuppi izzo": "giuppy izzo",
    "massimo de ambrosio": "massimo de ambrosis",
    "robert duval": "robert duvall",
}


def _parts(part: str | list[str] | tuple[str, ...]) -> set[str]:
    if isinstance(part, str):
        part = [p for p in part.replace(" ", ",").split(",") if p]  # "es", "es,it" (command line)
    wanted = {p.strip().lower() for p in part}
    if "all" in wanted:
        return set(PARTS)
    bad = wanted - set(PARTS)
    if bad:
        raise CorpusError(f"emofilm: unknown part(s) {sorted(bad)}; use one of {sorted(PARTS)} or 'all'")
    return wanted


def normalize_speaker(name: object) -> str | None:
    """Fold accents, case and punctuation of a legend speaker name; None for unknown ('?')."""
    if name is None or (isinstance(name, float) and name != name):
        return None
    s = str(name)
    if UNKNOWN_SPEAKER.match(s):
        return None
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()
    s = " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())
    return SPEAKER_ALIASES.get(s, s) or None


def read_legend(path: Path) -> dict[str, str]:
    """File stem -> speaker from the legend workbook (every sheet with 'file' and 'speaker' columns)."""
    out: dict[str, str] = {}
    for sheet in pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl").values():
        file_col = next((c for c in sheet.columns if "file" in str(c).lower()), None)
        spk_col = next(
            (c for c in sheet.columns if any(w in str(c).lower() for w in ("speaker", "actor", "dubber"))), None
        )
        if file_col is None or spk_col is None:
            continue
        for f, spk in zip(sheet[file_col], sheet[spk_col]):
            if isinstance(f, str) and f.strip():
                speaker = normalize_speaker(spk)
                if speaker:
                    out[Path(f.strip()).stem] = speaker
    return out


def scan_emofilm(root: Path, part: str | list[str] = "es") -> Scan:
    """Scan EmoFilm; `part` is 'es' (default, the paper's), 'en', 'it', several ('es,it' or a list), or 'all'."""
    wanted = _parts(part)
    dirs = find_named_dirs(root, r"^wav_corpus$")
    files, ignored = walk_dirs(dirs or [root], (".wav",))
    notes = hidden_note(ignored)
    legends, _ = walk_files(root, (".xlsx",))
    legends = [p for p in legends if "legend" in p.name.lower()]
    legend: dict[str, str] = {}
    if legends:
        try:
            legend = read_legend(legends[0])
        except Exception as e:  # an unreadable legend costs the speakers, not the corpus
            notes.append(f"could not read {display_path(legends[0].name)}: {type(e).__name__}: {e}")
    else:
        notes.append("f_m_corpus_it_es_en_legend.xlsx not found: speakers are 'unknown'")
    items, skipped, other = [], [], 0
    for p in files:
        m = STEM.match(p.stem)
        if not m:
            skipped.append({"path": str(p), "reason": f"unrecognised file name (expected {EXPECTED})"})
            continue
        lang = m["lang"].lower()
        if lang not in wanted:
            other += 1
            continue
        speaker = legend.get(p.stem, "unknown")
        items.append(Item(str(p), m["emotion"].lower(), PARTS[lang], speaker, "emofilm"))
    if other:
        notes.append(f"{other} file(s) of other languages left out (part={sorted(wanted)}; part='all' keeps them)")
    if legend:
        unknown = sum(it.speaker == "unknown" for it in items)
        if unknown:
            notes.append(f"{unknown} file(s) have no speaker in the legend: speaker 'unknown'")
    return Scan("emofilm", items, dict(LABEL_MAP), skipped, notes)


LOADER = Loader("emofilm", scan_emofilm, LABEL_MAP, LABELS)
