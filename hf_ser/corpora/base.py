"""The common path from a corpus scan to a cached, preprocessed ``datasets.Dataset``.

A corpus loader only *scans*: it walks the folder, reads metadata, and returns
:class:`Scan` (one :class:`Item` per audio file with its native label, and the
native-label -> emotion map). :func:`prepare_scan` does the rest for every
corpus alike: label mapping (dropped and unknown labels counted), decoding and
preprocessing with one batched ``datasets.map`` (num_proc) whose output, the usable rows
only, *is* the cached dataset (Arrow, memory-mapped, written once: memory does not grow
with the corpus), a report, and a cache keyed by the scan (every file's path, size and
mtime, the labels, the skips) and the preprocessing config, so a changed corpus folder
invalidates it.

An :class:`Item` usually names an audio file. It can also name one cell of a
table (a parquet or Arrow file, as the Hugging Face Hub ships audio): then
``path`` is ``"<table file>::<row>"`` and ``column`` names the audio column; the
cell (encoded bytes, or a path) is read lazily inside the map, one row group at a
time, so a corpus never sits in memory.

Cache layout: ``<cache_dir>/<corpus>/<key>/{report.json, dataset/{shards.json, data*.arrow}}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import datasets
import numpy as np

from ..audio import (
    AudioError, PreprocessConfig, check_audio_file, encode_wav, is_lfs_pointer, load_prepared, preprocess, read_audio,
)
from ..labels import EMOTIONS, SAMPLING_RATE

logger = logging.getLogger(__name__)

PREP_VERSION = 3  # bump when preparation output changes for the same inputs

FEATURES = datasets.Features(
    {
        "audio": datasets.Audio(sampling_rate=SAMPLING_RATE, decode=False),
        "label": datasets.ClassLabel(names=list(EMOTIONS)),
        "language": datasets.Value("string"),
        "corpus": datasets.Value("string"),
        "speaker": datasets.Value("string"),
        "path": datasets.Value("string"),
        "length": datasets.Value("int32"),
    }
)

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3")
# Folders that never hold corpus audio: macOS zip metadata and VCS internals.
IGNORED_DIRS = frozenset({"__MACOSX", ".git", ".svn", ".hg"})
TABLE_ROW_SEP = "::"


@dataclass
class Item:
    """One audio file (or one table row, see the module docstring) found by a scan, with its native label."""

    path: str
    label: str
    language: str
    speaker: str
    corpus: str
    column: str | None = None  # audio column when ``path`` is "<table file>::<row>"


@dataclass
class Scan:
    """What a loader found: items, files it could not use, and its native label map."""

    corpus: str
    items: list[Item]
    label_map: dict[str, str | None]
    skipped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class CorpusNotFound(FileNotFoundError):
    """A corpus folder (or its audio) is missing; the message says where it looked and what to do.

    ``report`` holds the preparation report when files were scanned but none was usable.
    """

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report


def default_cache_dir() -> Path:
    """Where prepared corpora are cached: $HF_SER_CACHE or ~/.cache/hf_ser."""
    return Path(os.environ.get("HF_SER_CACHE", Path.home() / ".cache" / "hf_ser"))


def display_path(path: str | os.PathLike) -> str:
    """A printable, UTF-8-safe form of a path (undecodable bytes in a file name become U+FFFD)."""
    return os.fspath(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# ----------------------------------------------------------------------------- folder walking


def is_hidden(name: str) -> bool:
    """True for names a loader ignores silently: dot files such as ``.DS_Store`` and the
    ``._foo.wav`` AppleDouble resource forks that macOS puts in zips."""
    return name.startswith(".")


def _walk(root: str | Path):
    """os.walk that follows symlinked folders (corpora are often linked in) but never loops."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        yield dirpath, dirnames, filenames


def walk_files(root: str | Path, extensions: Iterable[str] = AUDIO_EXTENSIONS) -> tuple[list[Path], int]:
    """Every file below `root` whose suffix is in `extensions` (case-insensitive), sorted by path,
    and how many hidden/macOS-metadata files were ignored on the way."""
    exts = tuple(e.lower() for e in extensions)
    found, ignored = [], 0
    for dirpath, dirnames, filenames in _walk(root):
        kept_dirs = []
        for d in dirnames:
            if d in IGNORED_DIRS or is_hidden(d):
                ignored += sum(len(f) for _, _, f in os.walk(os.path.join(dirpath, d)))
            else:
                kept_dirs.append(d)
        dirnames[:] = sorted(kept_dirs)
        for name in filenames:
            if not name.lower().endswith(exts):
                continue
            if is_hidden(name):
                ignored += 1
                continue
            found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: os.fsencode(p)), ignored


def hidden_note(ignored: int) -> list[str]:
    """A scan note for ignored macOS metadata / hidden files (empty when there were none)."""
    if not ignored:
        return []
    return [f"ignored {ignored} hidden or macOS metadata file(s) (._*, .DS_Store, __MACOSX/)"]


def find_named_dirs(root: Path, pattern: str) -> list[Path]:
    """Outermost folders below `root` whose name matches the regex `pattern` (case-insensitive)."""
    rx = re.compile(pattern, re.IGNORECASE)
    out: list[Path] = []
    for dirpath, dirnames, _ in _walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS and not is_hidden(d))
        matched = [d for d in dirnames if rx.search(display_path(d))]
        out += [Path(dirpath) / d for d in matched]
        dirnames[:] = [d for d in dirnames if d not in matched]  # do not descend into a match
    return out


def read_metadata_csv(path: Path, required: Iterable[str]) -> "pd.DataFrame":
    """A corpus's metadata CSV as strings, with lower-cased, stripped column names.

    Comma first (the distributed files are comma separated); if that lacks a `required`
    column the delimiter is sniffed. Raises ValueError naming the file and its columns.
    """
    import pandas as pd

    required = [c.lower() for c in required]
    df = None
    for sep in (",", None):
        df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, engine="python" if sep is None else "c",
                         encoding="utf-8-sig")
        df.columns = [str(c).strip().lower() for c in df.columns]
        if all(c in df.columns for c in required):
            return df
    raise ValueError(f"{display_path(path)} lacks column(s) {', '.join(c for c in required if c not in df.columns)}; "
                     f"it has {', '.join(df.columns)}")


ParseFn = Callable[[Path], "tuple[str, str] | None"]


def scan_files(
    root: Path,
    corpus: str,
    language: str,
    label_map: dict[str, str | None],
    parse: ParseFn,
    expected: str,
    extensions: Iterable[str] = (".wav",),
    files: list[Path] | None = None,
    ignored: int = 0,
) -> Scan:
    """Scan a corpus whose labels are in its file names: ``parse(path) -> (native label, speaker)``
    or None for a name that does not follow the corpus convention (skipped, with `expected` in the reason)."""
    if files is None:
        files, ignored = walk_files(root, extensions)
    items, skipped = [], []
    for p in files:
        parsed = parse(p)
        if parsed is None:
            skipped.append({"path": str(p), "reason": f"unrecognised file name (expected {expected})"})
            continue
        label, speaker = parsed
        items.append(Item(str(p), label, language, speaker, corpus))
    return Scan(corpus, items, dict(label_map), skipped, hidden_note(ignored))


def lfs_pointer_note(scan: Scan, hint: str = "") -> None:
    """Add a note to `scan` when most of its audio files are git-LFS pointers (a clone without `git lfs pull`)."""
    files = [it.path for it in scan.items if it.column is None]
    if not files:
        return
    pointers = sum(is_lfs_pointer(p) for p in files)
    if pointers and pointers * 2 >= len(files):
        scan.notes.append(
            f"{pointers} of {len(files)} audio files are git-LFS pointer files, not audio: run "
            "`git lfs install && git lfs pull` inside the clone to fetch the audio" + (f" ({hint})" if hint else "")
        )


# ----------------------------------------------------------------------------- preparation


def map_labels(scan: Scan) -> tuple[list[Item], Counter, list[dict]]:
    """Split items into kept (label mapped to an emotion), dropped counts, and unknown-label skips."""
    kept, dropped, skipped = [], Counter(), []
    lowered = {str(k).strip().lower(): v for k, v in scan.label_map.items()}
    for it in scan.items:
        key = str(it.label).strip().lower()
        if key not in lowered:
            skipped.append({"path": it.path, "reason": f"unknown label {it.label!r}"})
            continue
        target = lowered[key]
        if target is None:
            dropped[str(it.label)] += 1
            continue
        if target not in EMOTIONS:
            raise ValueError(f"{scan.corpus}: label map sends {it.label!r} to {target!r}, not one of {EMOTIONS}")
        kept.append(Item(it.path, target, it.language, it.speaker, it.corpus, it.column))
    return kept, dropped, skipped


def _stamp(path: str) -> str:
    file = path.rsplit(TABLE_ROW_SEP, 1)[0] if TABLE_ROW_SEP in path else path
    try:
        st = os.stat(file)
        return f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return "missing"


def _fingerprint(scan: Scan, cfg: PreprocessConfig) -> str:
    """Hash of everything the preparation depends on: config, every item (with size and mtime), skips, label map."""
    h = hashlib.sha256()
    h.update(json.dumps({"v": PREP_VERSION, "cfg": cfg.to_dict(), "corpus": scan.corpus,
                         "map": sorted((str(k), str(v)) for k, v in scan.label_map.items()),
                         "notes": scan.notes}, sort_keys=True).encode())
    stamps: dict[str, str] = {}
    for it in sorted(scan.items, key=lambda i: (i.path, i.column or "")):
        file = it.path.rsplit(TABLE_ROW_SEP, 1)[0] if it.column else it.path
        if file not in stamps:
            stamps[file] = _stamp(file)
        line = "\0".join((it.path, it.column or "", it.label, it.language, it.speaker, it.corpus, stamps[file]))
        h.update(line.encode("utf-8", "surrogateescape") + b"\n")
    for s in sorted(scan.skipped, key=lambda s: (str(s.get("path")), str(s.get("reason")))):
        h.update(f"skip\0{s.get('path')}\0{s.get('reason')}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


def load_item_audio(source: str, column: str | None = None) -> tuple[np.ndarray, int]:
    """Decode one item: a file path, or (with `column`) the audio cell of ``"<table file>::<row>"``."""
    if not column:
        return read_audio(source)
    from .table import read_table_audio  # table.py imports this module

    file, row = source.rsplit(TABLE_ROW_SEP, 1)
    return read_table_audio(file, int(row), column)


def _prepare_one(example: dict, cfg: PreprocessConfig) -> tuple[dict | None, dict]:
    """Decode + preprocess one raw row, never raise: (output row or None, metadata for the report)."""
    meta = {"path": example["path"], "error": "", "orig_sr": 0, "channels": 0}
    try:
        source, column = os.fsdecode(example["source"]), example["column"] or None
        if column:
            data, sr = load_item_audio(source, column)
            meta["orig_sr"], meta["channels"] = sr, int(data.shape[1])
            wave = preprocess(data, sr, cfg)
        else:  # a file: header checked first, decoded block by block (memory bounded by the output)
            info = check_audio_file(source)
            meta["orig_sr"], meta["channels"] = int(info.samplerate), int(info.channels)
            wave = load_prepared(source, cfg)
    except AudioError as e:
        meta["error"] = e.reason + (f" ({e.detail})" if e.detail else "")
        return None, meta
    except Exception as e:  # one bad file must never stop a preparation
        meta["error"] = f"unexpected {type(e).__name__}: {e}"
        return None, meta
    row = {"audio": {"bytes": encode_wav(wave, cfg.sampling_rate), "path": example["path"]},
           "label": example["label"], "language": example["language"], "corpus": example["corpus"],
           "speaker": example["speaker"], "path": example["path"], "length": len(wave)}
    return row, meta


def _prepare_batch(batch: dict, indices: list[int], cfg: PreprocessConfig, log_dir: str) -> dict:
    """Batched datasets.map function: returns only the usable rows, in the FEATURES schema.

    Every row's outcome (error, sample rate, channels) goes to a per-process JSONL file in
    `log_dir`, read back for the report; the map output is then the final dataset, written
    once, with no filtering copy.
    """
    out: dict[str, list] = {k: [] for k in FEATURES}
    metas = []
    for i in range(len(batch["path"])):
        row, meta = _prepare_one({k: v[i] for k, v in batch.items()}, cfg)
        metas.append({"index": indices[i], **meta})
        if row is not None:
            for k in FEATURES:
                out[k].append(row[k])
    with open(os.path.join(log_dir, f"outcome-{os.getpid()}.jsonl"), "a", encoding="utf-8") as f:
        f.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in metas)
    return out


def _load_prepared(folder: Path) -> datasets.Dataset:
    """The cached dataset: the map's Arrow shard(s), memory-mapped, in the order they were written."""
    files = json.loads((folder / "shards.json").read_text())
    parts = [datasets.Dataset.from_file(str(folder / f)) for f in files]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def _channel_name(n: int) -> str:
    return {1: "mono", 2: "stereo"}.get(int(n), f"{int(n)}ch")


def _base_report(scan: Scan, dropped: Counter, skipped: list[dict], target: Path | None) -> dict:
    return {
        "corpus": scan.corpus,
        "files_seen": len(scan.items) + len(scan.skipped),
        "kept": {e: 0 for e in EMOTIONS},
        "kept_total": 0,
        "dropped": dict(sorted(dropped.items())),
        "skipped": skipped,
        "speakers": 0,
        "hours": 0.0,
        "sample_rates": {},
        "channels": {},
        "notes": list(scan.notes),
        "cache": str(target) if target else None,
    }


def prepare_scan(
    scan: Scan,
    cache_dir: str | Path | None = None,
    cfg: PreprocessConfig = PreprocessConfig(),
    num_proc: int | None = None,
) -> tuple[datasets.Dataset, dict]:
    """Preprocess a scan into the common schema (cached) and return (dataset, report).

    Raises CorpusNotFound (with ``.report``) when no item has a 6-class label; when items have
    labels but no file decodes (e.g. all git-LFS pointers) the dataset is empty and the report says why.
    """
    kept, dropped, skipped = map_labels(scan)
    skipped = [{"path": display_path(s["path"]), "reason": str(s["reason"])} for s in list(scan.skipped) + skipped]
    cache_root = Path(cache_dir) if cache_dir else default_cache_dir() / "prepared"
    key = _fingerprint(scan, cfg)
    target = cache_root / scan.corpus / key
    if (target / "report.json").is_file() and (target / "dataset" / "shards.json").is_file():
        logger.info("%s: using cached preparation %s", scan.corpus, target)
        return _load_prepared(target / "dataset"), json.loads((target / "report.json").read_text())
    report = _base_report(scan, dropped, skipped, target)
    if not kept:
        raise CorpusNotFound(
            f"{scan.corpus}: no usable audio with a 6-class label was found "
            f"({len(scan.items)} files scanned, {len(skipped)} skipped). "
            + (" ".join(scan.notes) if scan.notes else "Check the folder layout against docs/corpora.md."),
            report={**report, "cache": None},
        )
    raw = datasets.Dataset.from_dict(
        {
            "path": [display_path(it.path) for it in kept],
            "source": [os.fsencode(it.path) for it in kept],
            "column": [it.column or "" for it in kept],
            "label": [EMOTIONS.index(it.label) for it in kept],
            "language": [it.language for it in kept],
            "corpus": [it.corpus for it in kept],
            "speaker": [display_path(it.speaker) for it in kept],
        },
        features=datasets.Features(
            {"path": datasets.Value("string"), "source": datasets.Value("binary"), "column": datasets.Value("string"),
             "label": FEATURES["label"], "language": datasets.Value("string"), "corpus": datasets.Value("string"),
             "speaker": datasets.Value("string")}
        ),
    )
    nproc = num_proc if num_proc is not None else min(os.cpu_count() or 1, 8)
    nproc = max(1, min(nproc, len(kept) // 50 or 1))
    tmp = target.with_name(f"{key}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "dataset").mkdir(parents=True)
    (tmp / "outcomes").mkdir()
    try:
        processed = raw.map(
            _prepare_batch,
            fn_kwargs={"cfg": cfg, "log_dir": str(tmp / "outcomes")},
            batched=True,
            batch_size=16,
            with_indices=True,
            remove_columns=raw.column_names,
            num_proc=nproc if nproc > 1 else None,
            features=FEATURES,
            cache_file_name=str(tmp / "dataset" / "data.arrow"),
            writer_batch_size=64,
            desc=f"Preparing {scan.corpus}",
        )
        shards = [Path(f["filename"]).name for f in processed.cache_files]
        by_index = {}  # keyed by row: a row is counted once even if datasets ever calls the function twice
        for f in sorted((tmp / "outcomes").glob("*.jsonl")):
            for line in f.read_text(encoding="utf-8").splitlines():
                if line:
                    o = json.loads(line)
                    by_index[o["index"]] = o
        outcomes = [by_index[i] for i in sorted(by_index)]
        kept_meta = processed.select_columns(["label", "speaker", "length"]).to_pandas()
        del processed
        report["skipped"] += [{"path": o["path"], "reason": o["error"]} for o in outcomes if o["error"]]
        seen = [o for o in outcomes if o["orig_sr"] > 0]
        counts = Counter(kept_meta["label"].tolist())
        report.update(
            kept={EMOTIONS[i]: int(counts.get(i, 0)) for i in range(len(EMOTIONS))},
            kept_total=int(len(kept_meta)),
            speakers=int(kept_meta["speaker"].nunique()),
            hours=round(float(kept_meta["length"].sum()) / cfg.sampling_rate / 3600, 4),
            sample_rates={str(k): int(v) for k, v in sorted(Counter(o["orig_sr"] for o in seen).items())},
            channels={_channel_name(k): int(v) for k, v in sorted(Counter(o["channels"] for o in seen).items())},
        )
        if kept_meta.empty:  # e.g. a clone without `git lfs pull`: an empty dataset, and the report says why
            logger.warning("%s: none of the %d labelled files could be used (first reason: %s)",
                           scan.corpus, len(kept), report["skipped"][-1]["reason"])
        (tmp / "dataset" / "shards.json").write_text(json.dumps(shards))
        for p in (tmp / "dataset").iterdir():  # datasets' lock files and anything that is not a shard
            if p.name not in shards and p.name != "shards.json":
                p.unlink()
        shutil.rmtree(tmp / "outcomes")
        (tmp / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _load_prepared(target / "dataset"), report


def format_report(report: dict, max_skips: int = 20) -> str:
    """Human-readable multi-line summary of one corpus report."""
    lines = [f"== {report['corpus']}: {report['kept_total']} kept of {report['files_seen']} files, "
             f"{report['speakers']} speakers, {report['hours']:.3f} h"]
    lines.append("   kept:    " + ", ".join(f"{k} {v}" for k, v in report["kept"].items()))
    if report["dropped"]:
        lines.append("   dropped: " + ", ".join(f"{k} {v}" for k, v in report["dropped"].items()))
    if report["sample_rates"] or report.get("channels"):
        lines.append("   sample rates: " + ", ".join(f"{k} Hz x{v}" for k, v in report["sample_rates"].items())
                     + "; channels: " + ", ".join(f"{k} x{v}" for k, v in report.get("channels", {}).items()))
    if report["skipped"]:
        lines.append(f"   skipped: {len(report['skipped'])}")
        for s in report["skipped"][:max_skips]:
            lines.append(f"     - {s['path']}: {s['reason']}")
        if len(report["skipped"]) > max_skips:
            lines.append(f"     ... {len(report['skipped']) - max_skips} more in the JSON report")
    for n in report.get("notes", []):
        lines.append(f"   note: {n}")
    return "\n".join(lines)


ScanFn = Callable[..., Scan]
