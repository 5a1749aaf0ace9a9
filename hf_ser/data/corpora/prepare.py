"""From a corpus scan to a cached, preprocessed ``datasets.Dataset``, the same way for every corpus.

:func:`prepare_scan` maps labels (dropped and unknown labels counted), removes duplicate files (the
same file reached twice, e.g. by a relative and an absolute path, or a byte-identical copy under the same
name elsewhere in the tree, is kept once and reported; the same file under two different labels is an
error naming both), decodes and preprocesses with one batched ``datasets.map`` (num_proc) whose
output, the usable rows only, *is* the cached dataset (Arrow, memory-mapped, written once), and
writes a report. The cache is keyed by the scan (every
file's path, size and mtime, the labels, the skips) and the preprocessing config, so a changed
corpus folder invalidates it. Each shard's size and sha256 are recorded at preparation and checked
when the cache is read: a truncated or corrupted cache is rebuilt with a warning. One process
prepares a given corpus at a time (an OS lock on the cache entry), so parallel jobs share one
preparation.

Cache layout: ``<cache_dir>/<corpus>/<key>/{report.json, dataset/{shards.json, data*.arrow}}``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from pathlib import Path

import datasets
import numpy as np

from hf_ser.data.audio import (
    AudioError,
    PreprocessConfig,
    check_audio_file,
    encode_wav,
    load_prepared,
    preprocess,
    read_audio,
)
from hf_ser.data.corpora.duplicates import dedupe, item_labels
from hf_ser.data.corpora.scan import TABLE_ROW_SEP, CorpusError, CorpusNotFound, Item, NativeLabel, Scan
from hf_ser.data.corpora.table import read_table_audio
from hf_ser.labels import EMOTIONS, SAMPLING_RATE
from hf_ser.safe_io import display_path, inside, safe_name, storage_error

logger = logging.getLogger(__name__)

PREP_VERSION = 5  # bump when preparation output changes for the same inputs (4: every canonical row, native column;
# 5: byte-identical copies of a file kept once)
NOT_PAPER = -1  # ``label`` of a prepared row whose class is outside the paper's six (kept for other label sets)

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
# The cached schema: FEATURES plus each row's native label and canonical name (hf_ser.labels.CANONICAL_EMOTIONS),
# so any label set (hf_ser.data.label_set) can be built from one preparation. ``label`` is the paper id or NOT_PAPER.
PREPARED_FEATURES = datasets.Features(
    {**FEATURES, "native": datasets.Value("string"), "canonical": datasets.Value("string")}
)
LABEL_COLUMNS = ("native", "canonical")


def default_cache_dir() -> Path:
    """Where prepared corpora are cached: $HF_SER_CACHE or ~/.cache/hf_ser."""
    return Path(os.environ.get("HF_SER_CACHE", Path.home() / ".cache" / "hf_ser"))


# ----------------------------------------------------------------------------- preparation


def _native_of(labels: dict[str, NativeLabel], key: str, label: str, target: str | None) -> tuple[str, str | None]:
    """(native name, canonical name) of one item's label: the corpus's declared :class:`NativeLabel` when it has
    one (a paper target the user's label map chose wins for the canonical name, and a paper class it maps to null
    stays dropped in every label set), else the label itself and its paper target (None: no canonical name, the
    row is not prepared)."""
    declared = labels.get(key)
    if declared is None:
        return label, target
    if target is None and declared.canonical in EMOTIONS:  # a paper class the user's label map dropped: dropped
        return declared.name, None
    return declared.name, target if target is not None else declared.canonical


def map_labels(scan: Scan) -> tuple[list[Item], Counter, list[dict]]:
    """Split items into kept, dropped counts (labels outside the paper's six) and unknown-label skips.

    A kept item's ``label`` is its paper emotion, or "" for a row outside the six that has a canonical name
    (a declared native label such as RAVDESS 'calm': prepared for other label sets, left out of ``paper``);
    ``native``/``canonical`` are set on every kept item.
    """
    kept, dropped, skipped = [], Counter(), []
    lowered = {str(k).strip().lower(): v for k, v in scan.label_map.items()}
    declared = {str(k).strip().lower(): v for k, v in scan.labels.items()}
    for it in scan.items:
        key = str(it.label).strip().lower()
        if key not in lowered:
            skipped.append({"path": it.path, "reason": f"unknown label {it.label!r}"})
            continue
        target = lowered[key]
        if target is not None and target not in EMOTIONS:
            raise CorpusError(f"{scan.corpus}: label map sends {it.label!r} to {target!r}, not one of {EMOTIONS}")
        native, canonical = _native_of(declared, key, str(it.label), target)
        if target is None:
            dropped[str(it.label)] += 1
            if canonical is None:
                continue
        kept.append(Item(it.path, target or "", it.language, it.speaker, it.corpus, it.column, native, canonical))
    return kept, dropped, skipped


def never_prepared(scan: Scan) -> dict[str, int]:
    """Native label -> items of `scan` that no label set keeps, as :func:`map_labels` decides: a dropped label
    without a canonical name, or a paper class the user's label map sends to null. They are never prepared."""
    lowered = {str(k).strip().lower(): v for k, v in scan.label_map.items()}
    declared = {str(k).strip().lower(): v for k, v in scan.labels.items()}
    out: Counter = Counter()
    for it in scan.items:
        key = str(it.label).strip().lower()
        if key in lowered and lowered[key] is None:
            native, canonical = _native_of(declared, key, str(it.label), None)
            if canonical is None:
                out[native] += 1
    return dict(sorted(out.items()))


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
    h.update(
        json.dumps(
            {
                "v": PREP_VERSION,
                "cfg": cfg.to_dict(),
                "corpus": scan.corpus,
                "map": sorted((str(k), str(v)) for k, v in scan.label_map.items()),
                "labels": sorted((str(k), v.name, v.canonical) for k, v in scan.labels.items()),
                "notes": scan.notes,
            },
            sort_keys=True,
        ).encode()
    )
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
        meta["error"] = f"unexpected {type(e).__name__}: {display_path(str(e))}"
        return None, meta
    row = {
        "audio": {"bytes": encode_wav(wave, cfg.sampling_rate), "path": example["path"]},
        "label": example["label"],
        "native": example["native"],
        "canonical": example["canonical"],
        "language": example["language"],
        "corpus": example["corpus"],
        "speaker": example["speaker"],
        "path": example["path"],
        "length": len(wave),
    }
    return row, meta


def _prepare_batch(batch: dict, indices: list[int], cfg: PreprocessConfig, log_dir: str) -> dict:
    """Batched datasets.map function: returns only the usable rows, in the PREPARED_FEATURES schema.

    Every row's outcome (error, sample rate, channels) goes to a per-process JSONL file in
    `log_dir`, read back for the report; the map output is then the final dataset, written
    once, with no filtering copy.
    """
    out: dict[str, list] = {k: [] for k in PREPARED_FEATURES}
    metas = []
    for i in range(len(batch["path"])):
        row, meta = _prepare_one({k: v[i] for k, v in batch.items()}, cfg)
        metas.append({"index": indices[i], **meta})
        if row is not None:
            for k in PREPARED_FEATURES:
                out[k].append(row[k])
    with open(os.path.join(log_dir, f"outcome-{os.getpid()}.jsonl"), "a", encoding="utf-8") as f:
        f.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in metas)
    return out


# ----------------------------------------------------------------------------- the cache


def _sha256(path: Path) -> str:
    """sha256 of a file, read in 8 MB blocks (about 1 s per GB here: cheap next to any training)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_shard_index(folder: Path, shards: list[str]) -> None:
    """shards.json: every shard's name, size and sha256, in the order the map wrote them."""
    entries = [{"name": n, "size": (folder / n).stat().st_size, "sha256": _sha256(folder / n)} for n in shards]
    (folder / "shards.json").write_text(json.dumps(entries, indent=1))


def cache_problem(entry: Path) -> str | None:
    """Why a cache entry cannot be used (missing/unreadable index or report, a shard of the wrong size or
    checksum), or None when it is intact."""
    try:
        json.loads((entry / "report.json").read_text(encoding="utf-8"))
        index = json.loads((entry / "dataset" / "shards.json").read_text())
    except FileNotFoundError:
        return "incomplete"
    except (OSError, ValueError) as e:
        return f"unreadable index ({e})"
    if not isinstance(index, list) or not all(
        isinstance(e, dict) and {"name", "size", "sha256"} <= set(e) for e in index
    ):
        return "written by an older version without checksums"
    for e in index:
        shard = entry / "dataset" / e["name"]
        try:
            size = shard.stat().st_size
        except OSError:
            return f"shard {e['name']} is missing"
        if size != e["size"]:
            return f"shard {e['name']} is {size} bytes, {e['size']} were written (truncated?)"
        if _sha256(shard) != e["sha256"]:
            return f"shard {e['name']} does not match its checksum (corrupted)"
    return None


def _load_prepared(folder: Path) -> datasets.Dataset:
    """The cached dataset: the map's Arrow shard(s), memory-mapped, in the order they were written."""
    names = [e["name"] for e in json.loads((folder / "shards.json").read_text())]
    parts = [datasets.Dataset.from_file(str(folder / n)) for n in names]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


class _EntryLock:
    """OS lock (fcntl.flock) on ``<entry>.lock`` beside a cache entry: one process prepares a corpus at a time;
    the others wait and then read its result. Released by the kernel if the holder dies."""

    def __init__(self, entry: Path):
        self.path = entry.with_name(entry.name + ".lock")
        self.fd: int | None = None

    def __enter__(self) -> _EntryLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


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
        "cache": display_path(target) if target else None,
    }


def _raw_dataset(kept: list[Item]) -> datasets.Dataset:
    """The map's input: one row per kept item (the source path as bytes, so any file name survives Arrow)."""
    return datasets.Dataset.from_dict(
        {
            "path": [display_path(it.path) for it in kept],
            "source": [os.fsencode(it.path) for it in kept],
            "column": [it.column or "" for it in kept],
            "label": [EMOTIONS.index(it.label) if it.label else NOT_PAPER for it in kept],
            "native": [item_labels(it)[0] for it in kept],
            "canonical": [item_labels(it)[1] for it in kept],
            "language": [it.language for it in kept],
            "corpus": [it.corpus for it in kept],
            "speaker": [display_path(it.speaker) for it in kept],
        },
        features=datasets.Features(
            {
                "path": datasets.Value("string"),
                "source": datasets.Value("binary"),
                "column": datasets.Value("string"),
                "label": FEATURES["label"],
                "native": datasets.Value("string"),
                "canonical": datasets.Value("string"),
                "language": datasets.Value("string"),
                "corpus": datasets.Value("string"),
                "speaker": datasets.Value("string"),
            }
        ),
    )


def _read_outcomes(folder: Path) -> list[dict]:
    """Per-row outcomes from the map's JSONL logs, one per row index (a row is counted once even if
    datasets ever called the function twice)."""
    by_index = {}
    for f in sorted(folder.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line:
                o = json.loads(line)
                by_index[o["index"]] = o
    return [by_index[i] for i in sorted(by_index)]


def _finish_report(report: dict, outcomes: list[dict], kept_meta, cfg: PreprocessConfig, paper: set[int]) -> None:
    """Fill the report's counts, hours, sample rates and channels from the outcomes and the kept rows.

    Those fields describe the paper's rows (row indices `paper`), as before label sets existed; the rows outside
    the six have their native counts in ``native_labels`` and their decoding failures in ``skipped_other_labels``.
    """
    errors = [o for o in outcomes if o["error"]]
    report["skipped"] += [{"path": o["path"], "reason": o["error"]} for o in errors if o["index"] in paper]
    report["skipped_other_labels"] = [
        {"path": o["path"], "reason": o["error"]} for o in errors if o["index"] not in paper
    ]
    seen = [o for o in outcomes if o["orig_sr"] > 0 and o["index"] in paper]
    natives = Counter(zip(kept_meta["native"].tolist(), kept_meta["canonical"].tolist()))
    kept_meta = kept_meta[kept_meta["label"] != NOT_PAPER]  # the paper's rows: its counts stay as they were
    counts = Counter(kept_meta["label"].tolist())
    report.update(
        kept={EMOTIONS[i]: int(counts.get(i, 0)) for i in range(len(EMOTIONS))},
        kept_total=int(len(kept_meta)),
        native_labels=[{"native": n, "canonical": c, "rows": int(k)} for (n, c), k in natives.items()],
        speakers=int(kept_meta["speaker"].nunique()),
        hours=round(float(kept_meta["length"].sum()) / cfg.sampling_rate / 3600, 4),
        sample_rates={str(k): int(v) for k, v in sorted(Counter(o["orig_sr"] for o in seen).items())},
        channels={_channel_name(k): int(v) for k, v in sorted(Counter(o["channels"] for o in seen).items())},
    )


def _build_entry(
    kept: list[Item], report: dict, target: Path, key: str, cfg: PreprocessConfig, num_proc: int | None, corpus: str
) -> None:
    """Run the preparation map into a temporary folder beside `target` and rename it into place."""
    nproc = num_proc if num_proc is not None else min(os.cpu_count() or 1, 8)
    nproc = max(1, min(nproc, len(kept) // 50 or 1))
    raw = _raw_dataset(kept)
    tmp = target.with_name(f"{key}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "dataset").mkdir(parents=True)
        (tmp / "outcomes").mkdir()
        processed = raw.map(
            _prepare_batch,
            fn_kwargs={"cfg": cfg, "log_dir": str(tmp / "outcomes")},
            batched=True,
            batch_size=16,
            with_indices=True,
            remove_columns=raw.column_names,
            num_proc=nproc if nproc > 1 else None,
            features=PREPARED_FEATURES,
            cache_file_name=str(tmp / "dataset" / "data.arrow"),
            writer_batch_size=64,
            desc=f"Preparing {corpus}",
        )
        shards = [Path(f["filename"]).name for f in processed.cache_files]
        kept_meta = processed.select_columns(["label", "native", "canonical", "speaker", "length"]).to_pandas()
        del processed
        paper = {i for i, it in enumerate(kept) if it.label}
        _finish_report(report, _read_outcomes(tmp / "outcomes"), kept_meta, cfg, paper)
        if kept_meta.empty:  # e.g. a clone without `git lfs pull`: an empty dataset, and the report says why
            logger.warning(
                "%s: none of the %d labelled files could be used (first reason: %s)",
                corpus,
                len(kept),
                report["skipped"][-1]["reason"],
            )
        for p in (tmp / "dataset").iterdir():  # datasets' lock files and anything that is not a shard
            if p.name not in shards:
                p.unlink()
        _write_shard_index(tmp / "dataset", shards)
        shutil.rmtree(tmp / "outcomes")
        (tmp / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def prepare_scan(
    scan: Scan,
    cache_dir: str | Path | None = None,
    cfg: PreprocessConfig = PreprocessConfig(),
    num_proc: int | None = None,
    view: str = "paper",
) -> tuple[datasets.Dataset, dict]:
    """Preprocess a scan (cached) and return (dataset, report).

    The cache holds every row with a canonical name (PREPARED_FEATURES); `view` 'paper' returns the paper's rows in
    the common FEATURES schema (the same rows, in the same order, as before label sets existed), 'all' every
    prepared row with its ``native`` and ``canonical`` columns (``label`` NOT_PAPER outside the six), for
    :mod:`hf_ser.data.label_set`. Raises CorpusNotFound (with ``.report``) when the view has no item; when items
    have labels but no file decodes (e.g. all git-LFS pointers) the dataset is empty and the report says why.
    A read-only cache folder or a full disk is a UserError naming the folder.
    """
    kept, dropped, skipped = map_labels(scan)
    kept, duplicates = dedupe(kept)
    skipped = [
        {"path": display_path(s["path"]), "reason": str(s["reason"])} for s in list(scan.skipped) + skipped + duplicates
    ]
    cache_root = Path(cache_dir) if cache_dir else default_cache_dir() / "prepared"
    key = _fingerprint(scan, cfg)
    target = inside(cache_root, cache_root / safe_name(scan.corpus) / key)
    report = _base_report(scan, dropped, skipped, target)
    if not kept or (view == "paper" and not any(it.label for it in kept)):
        raise CorpusNotFound(
            f"{scan.corpus}: no usable audio with a {'6-class' if view == 'paper' else 'known'} label was found "
            f"({len(scan.items)} files scanned, {len(skipped)} skipped). "
            + (" ".join(scan.notes) if scan.notes else "Check the folder layout against docs/corpora.md."),
            report={**report, "cache": None},
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _EntryLock(target):
            problem = cache_problem(target) if target.exists() else "absent"
            if problem is None:
                logger.info("%s: using cached preparation %s", scan.corpus, display_path(target))
                report = json.loads((target / "report.json").read_text())
                return prepared_view(_load_prepared(target / "dataset"), view), report
            if problem not in ("absent", "incomplete"):
                logger.warning(
                    "%s: the prepared cache %s is unusable (%s); preparing it again",
                    scan.corpus,
                    display_path(target),
                    problem,
                )
            _build_entry(kept, report, target, key, cfg, num_proc, scan.corpus)
    except OSError as e:
        friendly = storage_error(e, cache_root)
        if friendly is None:
            raise
        raise friendly from None
    return prepared_view(_load_prepared(target / "dataset"), view), report


def prepared_view(ds: datasets.Dataset, view: str = "paper") -> datasets.Dataset:
    """`ds` (the PREPARED_FEATURES cache) as `view` asks: 'all' as is, 'paper' its paper rows (order kept) without
    the native/canonical columns, i.e. exactly the FEATURES dataset of the paper's six classes."""
    if view == "all":
        return ds
    if view != "paper":
        raise ValueError(f"view must be 'paper' or 'all', not {view!r}")
    labels = np.asarray(ds["label"])
    if (labels == NOT_PAPER).any():
        ds = ds.select(np.flatnonzero(labels != NOT_PAPER))
    return ds.remove_columns(list(LABEL_COLUMNS))


def format_report(report: dict, max_skips: int = 20) -> str:
    """Human-readable multi-line summary of one corpus report."""
    lines = [
        f"== {report['corpus']}: {report['kept_total']} kept of {report['files_seen']} files, "
        f"{report['speakers']} speakers, {report['hours']:.3f} h"
    ]
    lines.append("   kept:    " + ", ".join(f"{k} {v}" for k, v in report["kept"].items()))
    if report["dropped"]:
        lines.append("   dropped: " + ", ".join(f"{k} {v}" for k, v in report["dropped"].items()))
    return "\n".join(lines + format_report_details(report, max_skips))


def format_report_details(report: dict, max_skips: int = 20, rates_of: str = "") -> list[str]:
    """The lines of :func:`format_report` after the counts: sample rates and channels (`rates_of`: which rows they
    describe, when not obvious), skipped files, notes."""
    lines = []
    if report["sample_rates"] or report.get("channels"):
        lines.append(
            f"   sample rates{rates_of}: "
            + ", ".join(f"{k} Hz x{v}" for k, v in report["sample_rates"].items())
            + "; channels: "
            + ", ".join(f"{k} x{v}" for k, v in report.get("channels", {}).items())
        )
    if report["skipped"]:
        lines.append(f"   skipped: {len(report['skipped'])}")
        for s in report["skipped"][:max_skips]:
            lines.append(f"     - {s['path']}: {s['reason']}")
        if len(report["skipped"]) > max_skips:
            lines.append(f"     ... {len(report['skipped']) - max_skips} more in the JSON report")
    for n in report.get("notes", []):
        lines.append(f"   note: {n}")
    return lines
