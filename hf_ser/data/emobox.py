"""EmoBox's published folds laid over the user's own corpus files (``--split emobox --fold k``).

EmoBox (Ma et al., Interspeech 2024) publishes, per dataset,
``data/<dataset>/fold_<k>/<dataset>_{train,test}_fold_<k>.jsonl``
(one JSON object a line: ``key``, ``wav``, ``emo``, ...) and ``data/<dataset>/label_map.json`` (native label ->
``Angry/Disgust/Fear/Happy/Neutral/Sad/Surprise/...``). Its ``wav`` paths carry EmoBox's own download layout
(``downloads/cafe/CaFE_48k/...``) and some folder names are mis-decoded (``Dégoût`` appears as ``D‚go–t``,
``Oréau`` as a decomposed ``Ore\\u0301au``), so rows are matched on what identifies a file, not the full path:

1. the file stem, accent-folded and lower-cased, with every run of other characters made ``_``;
2. when several of the user's files share it, the one whose parent folders agree most with the row's (tail match);
3. failing both, the stem with every non-ASCII character dropped on both sides (mojibake-proof).

Rows of a user's parquet table (``file::row`` paths, e.g. RESD from the Hub) are named by the table's ``name``
(or ``path``) column. With the ``paper`` label set, labels map through ``label_map.json`` to the six classes and
rows that map elsewhere (Surprise, Enthusiastic) are left out; with any other label set every fold row is laid over
the user's rows, which already hold only the run's classes. The matched test set is exactly the fold's test rows
(of the run's classes) found among the user's files; unmatched rows, label disagreements, and speakers present in
both train and test of a published fold are reported.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow.parquet as pq

from hf_ser.errors import UserError
from hf_ser.labels import EMOTIONS
from hf_ser.safe_io import display_path

logger = logging.getLogger(__name__)

TABLE_ROW_SEP = "::"

# EmoBox dataset folder (data/<folder>/ of github.com/emo-box/EmoBox) -> hf_ser corpus name, for the corpora both
# use: all 32. Folder names as EmoBox's repository spells them (asvpesd, jlcorpus, msppodcast).
EMOBOX_CORPORA: dict[str, str] = {
    "aesdd": "aesdd",
    "ased": "ased",
    "asvpesd": "asvp_esd",
    "cafe": "cafe",
    "casia": "casia",
    "cremad": "crema_d",
    "emns": "emns",
    "emodb": "emodb",
    "emovdb": "emovdb",
    "emovo": "emovo",
    "emozionalmente": "emozionalmente",
    "enterface": "enterface",
    "esd": "esd",
    "iemocap": "iemocap",
    "jlcorpus": "jl_corpus",
    "m3ed": "m3ed",
    "mead": "mead",
    "meld": "meld",
    "mer2023": "mer2023",
    "mesd": "mesd",
    "msppodcast": "msp_podcast",
    "oreau": "oreau",
    "pavoque": "pavoque",
    "polish": "polish",
    "ravdess": "ravdess",
    "resd": "resd",
    "savee": "savee",
    "shemo": "shemo",
    "subesco": "subesco",
    "tess": "tess",
    "turevdb": "turevdb",
    "urdu": "urdu",
}
# EmoBox names a dataset's label map label_map.json, EMOVO's label_dict.json (same content: native label -> class).
LABEL_MAP_FILES = ("label_map.json", "label_dict.json")
# EmoBox's label_map values -> the six classes; anything else (Surprise, Enthusiastic, ...) is dropped.
EMOBOX_LABELS: dict[str, str] = {
    "angry": "anger",
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "happiness": "happiness",
    "joy": "happiness",
    "neutral": "neutral",
    "sad": "sadness",
    "sadness": "sadness",
}
EXAMPLES = 10  # unmatched rows listed per dataset in the report


def fold_key(text: str) -> str:
    """Accent-folded, lower-cased text with every run of characters other than a-z/0-9 made one '_'."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def ascii_key(text: str) -> str:
    """Only the ASCII letters and digits of `text` (NFC first), lower-cased: equal for a name and its mojibake."""
    return re.sub(r"[^a-z0-9]+", "", unicodedata.normalize("NFC", text).lower().encode("ascii", "ignore").decode())


def _stem(name: str) -> str:
    """File name without its (audio) extension."""
    base = PurePosixPath(name.replace("\\", "/")).name
    return base.rsplit(".", 1)[0] if "." in base else base


def _parents(path: str) -> list[str]:
    """Folded parent folder names of a path, nearest first."""
    parts = PurePosixPath(path.replace("\\", "/")).parts[:-1]
    return [fold_key(p) for p in reversed(parts)]


def _tail_score(a: list[str], b: list[str]) -> int:
    """Number of leading equal items (nearest parent folders that agree)."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


# ----------------------------------------------------------------------------- reading EmoBox files


def label_map_file(folder: Path) -> Path:
    """A dataset folder's ``label_map.json``, or its ``label_dict.json`` (EMOVO's) when only that exists."""
    for name in LABEL_MAP_FILES:
        if (folder / name).is_file():
            return folder / name
    return folder / LABEL_MAP_FILES[0]


def dataset_dir(emobox_dir: str | Path, dataset: str) -> Path | None:
    """EmoBox's folder of one dataset under the folder the user gave (its repo root, its ``data/`` or the dataset)."""
    root = Path(emobox_dir)
    for cand in (root / "data" / dataset, root / dataset, root):
        if label_map_file(cand).is_file() and any(cand.glob("fold_*")):
            if cand == root and root.name != dataset:
                continue
            return cand
    return None


def available_datasets(emobox_dir: str | Path) -> dict[str, Path]:
    """{EmoBox dataset name: its folder} for the datasets hf_ser can use that exist under `emobox_dir`."""
    out = {}
    for name in EMOBOX_CORPORA:
        found = dataset_dir(emobox_dir, name)
        if found is not None:
            out[name] = found
    return out


def read_jsonl(path: Path) -> list[dict]:
    """Rows of an EmoBox ``.jsonl`` file (blank lines skipped); UserError naming the line when one is not JSON."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"cannot read EmoBox fold file {display_path(path)}: {e}") from None
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise UserError(f"{display_path(path)} line {i} is not JSON ({e})") from None
        if not isinstance(row, dict) or "wav" not in row or "emo" not in row:
            raise UserError(f"{display_path(path)} line {i}: an EmoBox row needs 'wav' and 'emo'")
        rows.append(row)
    return rows


def fold_numbers(folder: Path) -> list[int]:
    """The fold numbers k of an EmoBox dataset folder's ``fold_<k>`` sub-folders, sorted."""
    return sorted(int(m.group(1)) for p in folder.glob("fold_*") if (m := re.fullmatch(r"fold_(\d+)", p.name)))


def fold_file(fold_dir: Path, dataset: str, part: str, fold: int) -> Path:
    """A fold's ``<dataset>_<part>_fold_<k>.jsonl``; EmoBox also spells some ``..._fold<k>.jsonl`` (EmoDB's), used
    when the first is absent. The first spelling is returned when neither exists (for the error message)."""
    main = fold_dir / f"{dataset}_{part}_fold_{fold}.jsonl"
    if main.is_file():
        return main
    other = fold_dir / f"{dataset}_{part}_fold{fold}.jsonl"
    return other if other.is_file() else main


def read_fold(folder: Path, dataset: str, fold: int) -> tuple[list[dict], list[dict], dict[str, str | None]]:
    """(train rows, test rows, native label -> emotion or None) of one EmoBox dataset and fold."""
    fold_dir = folder / f"fold_{fold}"
    paths = [fold_file(fold_dir, dataset, part, fold) for part in ("train", "test")]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        have = fold_numbers(folder)
        raise UserError(
            f"EmoBox {dataset}: no fold {fold} ({display_path(missing[0])} missing); its folds: "
            f"{', '.join(map(str, have)) or 'none'}"
        )
    map_file = label_map_file(folder)
    try:
        raw = json.loads(map_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"EmoBox {dataset}: cannot read {display_path(map_file)} ({e})") from None
    label_map = {str(k): EMOBOX_LABELS.get(str(v).strip().lower()) for k, v in raw.items()}
    return read_jsonl(paths[0]), read_jsonl(paths[1]), label_map


def corpus_folds(emobox_dir: str | Path, corpus: str) -> tuple[str, list[int]] | None:
    """(EmoBox dataset name, its fold numbers) of an hf_ser corpus under `emobox_dir`; None when EmoBox has no
    folder for it there (or no fold in it)."""
    dataset = next((ds for ds, name in EMOBOX_CORPORA.items() if name == corpus), None)
    if dataset is None:
        return None
    folder = dataset_dir(emobox_dir, dataset)
    if folder is None or not fold_numbers(folder):
        return None
    return dataset, fold_numbers(folder)


# ----------------------------------------------------------------------------- the user's files


def _table_names(table: str, cache: dict) -> list[str] | None:
    """File names of a parquet table's rows (``name``/``path``/``file`` column, else ``audio.path``), read once."""
    if table in cache:
        return cache[table]
    names = None
    try:
        schema = pq.read_schema(table)
        column = next((c for c in ("name", "path", "file", "file_name") if c in schema.names), None)
        if column is not None:
            names = [str(v) for v in pq.read_table(table, columns=[column]).column(column).to_pylist()]
        elif "audio" in schema.names:  # Hub audio column: a struct whose 'path' is the original file name
            cells = pq.read_table(table, columns=["audio"]).column("audio").to_pylist()
            names = [str((c or {}).get("path") or "") if isinstance(c, dict) else "" for c in cells]
    except (OSError, ValueError) as e:
        logger.warning("cannot read file names from %s (%s): its rows cannot be matched to EmoBox", table, e)
    cache[table] = names
    return names


def identifying_name(path: str, cache: dict) -> str:
    """The name that identifies a user's row: its path, or for ``table::row`` the row's file name in the table."""
    if TABLE_ROW_SEP not in path:
        return path
    table, row = path.rsplit(TABLE_ROW_SEP, 1)
    names = _table_names(table, cache)
    if names is None or not row.isdigit() or int(row) >= len(names):
        return path
    return names[int(row)]


class _Index:
    """The user's rows of one corpus, indexed by folded stem and by ASCII-only stem."""

    def __init__(self, rows: np.ndarray, paths: Sequence[str], cache: dict):
        self.by_stem: dict[str, list[int]] = defaultdict(list)
        self.by_ascii: dict[str, list[int]] = defaultdict(list)
        self.parents: dict[int, list[str]] = {}
        for i in rows:
            name = identifying_name(paths[i], cache)
            self.by_stem[fold_key(_stem(name))].append(int(i))
            self.by_ascii[ascii_key(_stem(name))].append(int(i))
            self.parents[int(i)] = _parents(name)

    def match(self, wav: str) -> tuple[int | None, str]:
        """(row index, '') or (None, why) for one EmoBox ``wav`` path."""
        for table, key in ((self.by_stem, fold_key(_stem(wav))), (self.by_ascii, ascii_key(_stem(wav)))):
            cands = table.get(key, [])
            if len(cands) == 1:
                return cands[0], ""
            if len(cands) > 1:
                want = _parents(wav)
                scores = [_tail_score(want, self.parents[c]) for c in cands]
                best = max(scores)
                if scores.count(best) == 1:
                    return cands[scores.index(best)], ""
                return None, f"{len(cands)} of your files share this name and its folders"
        return None, "no file with this name"


# ----------------------------------------------------------------------------- the split


def _match_part(
    dataset: str,
    fold: int,
    part: str,
    part_rows: list[dict],
    label_map: dict,
    index: _Index,
    canonical: np.ndarray,
    used: dict[int, str],
    paper: bool = True,
) -> tuple[list[int], dict]:
    """Match the six-class rows of one part (train or test) of a fold to the user's rows (every row of the part
    when the run's label set is not the paper's: the user's rows are then already those of its classes, and a fold
    row outside them is reported unmatched). `canonical` is each user row's canonical class name, against which
    the fold's label is checked where EmoBox's label names one of the six.

    Returns (matched row indices, the part's report). `used` (row index -> part) is shared by both parts of
    the fold, so a file matched twice is reported the second time, not used twice.
    """
    six = [r for r in part_rows if not paper or label_map.get(str(r["emo"])) is not None]
    unknown = sorted({str(r["emo"]) for r in part_rows if str(r["emo"]) not in label_map})
    matched, unmatched, disagree = [], [], 0
    for r in six:
        i, why = index.match(str(r["wav"]))
        if i is None:
            unmatched.append({"key": r.get("key"), "wav": r["wav"], "reason": why})
            continue
        if i in used:
            unmatched.append(
                {
                    "key": r.get("key"),
                    "wav": r["wav"],
                    "reason": f"the same file as another row of the {used[i]} fold",
                }
            )
            continue
        used[i] = part
        matched.append(i)
        emo = label_map.get(str(r["emo"]))
        disagree += emo is not None and canonical[i] != emo
    info = {
        "rows": len(part_rows),
        "six_class_rows": len(six),
        "matched": len(matched),
        "unmatched": len(unmatched),
        "unmatched_examples": unmatched[:EXAMPLES],
        "label_disagreements": int(disagree),
        "labels_not_in_label_map": unknown,
    }
    if unmatched:
        logger.warning(
            "EmoBox %s fold %d %s: %d of %d six-class rows not found among your files (e.g. %s)",
            dataset,
            fold,
            part,
            len(unmatched),
            len(six),
            unmatched[0]["wav"],
        )
    return matched, info


def _speakers_in_both(dataset: str, fold: int, speakers_arr: np.ndarray, matched_by_part: dict) -> list[str]:
    """The (known) speakers of the matched rows that the fold puts in both train and test, with a warning."""
    spk_train = {s for s in speakers_arr[matched_by_part["train"]] if s.strip().lower() not in ("", "unknown")}
    spk_test = {s for s in speakers_arr[matched_by_part["test"]] if s.strip().lower() not in ("", "unknown")}
    both = sorted(spk_train & spk_test)
    if both:
        logger.warning(
            "EmoBox %s fold %d puts %d speaker(s) in both train and test: %s",
            dataset,
            fold,
            len(both),
            ", ".join(both[:10]),
        )
    return both


def _lay_fold(
    dataset: str,
    corpus: str,
    folder: Path,
    fold: int,
    arrays: tuple[list[str], np.ndarray, np.ndarray, np.ndarray],
    covered: np.ndarray,
    cache: dict,
    paper: bool = True,
) -> tuple[dict[str, list[int]], dict]:
    """Lay one dataset's fold over the rows of its corpus: marks them `covered` (in place).

    `arrays` are the user's (paths, corpora, canonical class names, speakers). Returns the matched row indices per part
    ("train", "test") and the dataset's report.
    """
    paths, corpora_arr, canonical, speakers_arr = arrays
    train_rows, test_rows, label_map = read_fold(folder, dataset, fold)
    rows = np.flatnonzero(corpora_arr == corpus)
    covered[rows] = True
    index = _Index(rows, paths, cache)
    info: dict = {"corpus": corpus, "fold": fold, "folder": display_path(folder)}
    matched_by_part: dict[str, list[int]] = {}
    used: dict[int, str] = {}
    for part, part_rows in (("train", train_rows), ("test", test_rows)):
        matched_by_part[part], info[part] = _match_part(
            dataset, fold, part, part_rows, label_map, index, canonical, used, paper
        )
    info["speakers_in_train_and_test"] = _speakers_in_both(dataset, fold, speakers_arr, matched_by_part)
    outside = int(covered[rows].sum() - len(matched_by_part["train"]) - len(matched_by_part["test"]))
    info["your_rows_in_neither"] = outside
    return matched_by_part, info


def emobox_split(
    paths: Sequence[str],
    corpora: Sequence[str],
    labels: Sequence[int],
    speakers: Sequence[str],
    emobox_dir: str | Path,
    fold: int,
    canonical: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Lay EmoBox's fold `fold` over the user's rows.

    `labels` are the paper's class ids; with another label set (hf_ser.data.label_set) `canonical` gives each row's
    canonical class name instead, and every row of the fold is laid over the user's rows (not only its six-class
    rows).

    Returns (train indices, test indices, covered mask, report). ``covered`` marks the rows of corpora EmoBox has
    a fold for (rows of those corpora absent from the fold are in neither split); the caller splits the other
    rows its own way. ``report[dataset]`` holds the fold's row counts, six-class counts, matches, unmatched
    examples, label disagreements and the speakers the published fold puts in both train and test.
    """
    if not Path(emobox_dir).is_dir():
        raise UserError(
            f"--emobox_dir {display_path(emobox_dir)} is not a folder; clone "
            "https://github.com/emo-box/EmoBox and point --emobox_dir at it (or at its data/ folder)"
        )
    paths = [str(p) for p in paths]
    corpora_arr = np.asarray([str(c) for c in corpora])
    paper = canonical is None
    if paper:
        canonical = [EMOTIONS[int(i)] for i in labels]
    canonical_arr = np.asarray([str(c) for c in canonical])
    speakers_arr = np.asarray([str(s) for s in speakers])
    found = available_datasets(emobox_dir)
    wanted = {ds: name for ds, name in EMOBOX_CORPORA.items() if (corpora_arr == name).any()}
    if not wanted:
        raise UserError(
            f"--split emobox: none of your corpora ({', '.join(sorted(set(corpora_arr)))}) has EmoBox "
            f"folds; EmoBox covers {', '.join(sorted(EMOBOX_CORPORA.values()))}"
        )
    is_train = np.zeros(len(paths), dtype=bool)
    is_test = np.zeros(len(paths), dtype=bool)
    covered = np.zeros(len(paths), dtype=bool)
    report: dict[str, dict] = {}
    cache: dict = {}
    for dataset, corpus in wanted.items():
        if dataset not in found:
            report[dataset] = {
                "corpus": corpus,
                "error": f"no EmoBox folder for {dataset} under "
                f"{display_path(emobox_dir)}: this corpus is split by the fallback protocol",
            }
            logger.warning("EmoBox: %s", report[dataset]["error"])
            continue
        arrays = (paths, corpora_arr, canonical_arr, speakers_arr)
        matched_by_part, info = _lay_fold(dataset, corpus, found[dataset], fold, arrays, covered, cache, paper)
        is_train[matched_by_part["train"]] = True
        is_test[matched_by_part["test"]] = True
        report[dataset] = info
    return np.flatnonzero(is_train), np.flatnonzero(is_test), covered, report


def emobox_notes(languages: Sequence[str], corpora: Sequence[str], covered: np.ndarray, report: dict) -> dict[str, str]:
    """One line per language saying which corpora follow EmoBox's fold, what matched and any speaker overlap."""
    languages_arr, corpora_arr = np.asarray(languages), np.asarray(corpora)
    notes: dict[str, str] = {}
    by_corpus = {info["corpus"]: (ds, info) for ds, info in report.items()}
    for lang in sorted(set(languages_arr.tolist())):
        parts = []
        for corpus in dict.fromkeys(corpora_arr[languages_arr == lang].tolist()):
            ds_info = by_corpus.get(corpus)
            if ds_info is None or "error" in ds_info[1]:
                continue
            ds, info = ds_info
            text = (
                f"{corpus}: EmoBox {ds} fold {info['fold']} ({info['train']['matched']} train / "
                f"{info['test']['matched']} test rows matched"
            )
            missing = info["train"]["unmatched"] + info["test"]["unmatched"]
            if missing:
                text += f", {missing} six-class rows not found among your files"
            text += ")"
            if info["speakers_in_train_and_test"]:
                text += (
                    f"; the published fold has {len(info['speakers_in_train_and_test'])} speaker(s) in both "
                    "train and test"
                )
            parts.append(text)
        if parts:
            notes[lang] = "; ".join(parts)
    return notes
