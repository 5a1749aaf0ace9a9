"""The common path from a corpus scan to a cached, preprocessed ``datasets.Dataset``.

A corpus loader only *scans*: it walks the folder, reads metadata, and returns
:class:`Scan` (one :class:`Item` per audio file with its native label, and the
native-label -> emotion map). :func:`prepare_scan` does the rest for every
corpus alike: label mapping (dropped and unknown labels counted), decoding and
preprocessing with ``datasets.map`` (num_proc, written to Arrow, not RAM), a
report, and a cache keyed by the file list (path, size, mtime) and the
preprocessing config, so a changed corpus folder invalidates it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import datasets

from ..audio import AudioError, PreprocessConfig, encode_wav, preprocess, read_audio
from ..labels import EMOTIONS, SAMPLING_RATE

logger = logging.getLogger(__name__)

PREP_VERSION = 1  # bump when preparation output changes for the same inputs

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


@dataclass
class Item:
    """One audio file found by a scan, with its native (corpus-specific) label."""

    path: str
    label: str
    language: str
    speaker: str
    corpus: str


@dataclass
class Scan:
    """What a loader found: items, files it could not use, and its native label map."""

    corpus: str
    items: list[Item]
    label_map: dict[str, str | None]
    skipped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class CorpusNotFound(FileNotFoundError):
    """A corpus folder (or its audio) is missing; the message says where it looked and what to do."""


def default_cache_dir() -> Path:
    """Where prepared corpora are cached: $HF_SER_CACHE or ~/.cache/hf_ser."""
    return Path(os.environ.get("HF_SER_CACHE", Path.home() / ".cache" / "hf_ser"))


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
        kept.append(Item(it.path, target, it.language, it.speaker, it.corpus))
    return kept, dropped, skipped


def _fingerprint(items: list[Item], cfg: PreprocessConfig) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"v": PREP_VERSION, "cfg": cfg.to_dict()}, sort_keys=True).encode())
    for it in sorted(items, key=lambda i: i.path):
        try:
            st = os.stat(it.path)
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        h.update(f"{it.path}\0{it.label}\0{it.language}\0{it.speaker}\0{it.corpus}\0{stamp}\n".encode())
    return h.hexdigest()[:16]


def _preprocess_example(example: dict, cfg: PreprocessConfig) -> dict:
    """datasets.map function: decode + preprocess one file, never raise."""
    out = {"audio": None, "length": 0, "error": "", "orig_sr": 0, "channels": 0}
    try:
        data, sr = read_audio(example["path"])
        out["orig_sr"], out["channels"] = sr, int(data.shape[1])
        wave = preprocess(data, sr, cfg)
        out["audio"], out["length"] = {"bytes": encode_wav(wave), "path": example["path"]}, len(wave)
    except AudioError as e:
        out["error"] = e.reason + (f" ({e.detail})" if e.detail else "")
    except Exception as e:  # one bad file must never stop a preparation
        out["error"] = f"unexpected {type(e).__name__}: {e}"
    return out


def prepare_scan(
    scan: Scan,
    cache_dir: str | Path | None = None,
    cfg: PreprocessConfig = PreprocessConfig(),
    num_proc: int | None = None,
) -> tuple[datasets.Dataset, dict]:
    """Preprocess a scan into the common schema (cached) and return (dataset, report)."""
    kept, dropped, skipped = map_labels(scan)
    skipped = list(scan.skipped) + skipped
    cache_root = Path(cache_dir) if cache_dir else default_cache_dir() / "prepared"
    key = _fingerprint(kept, cfg)
    target = cache_root / scan.corpus / key
    if (target / "report.json").is_file():
        logger.info("%s: using cached preparation %s", scan.corpus, target)
        return datasets.load_from_disk(str(target / "dataset")), json.loads((target / "report.json").read_text())
    if not kept:
        raise CorpusNotFound(
            f"{scan.corpus}: no usable audio with a 6-class label was found "
            f"({len(scan.items)} files scanned, {len(skipped)} skipped). "
            + (" ".join(scan.notes) if scan.notes else "Check the folder layout against CORPORA.md.")
        )
    raw = datasets.Dataset.from_dict(
        {
            "path": [it.path for it in kept],
            "label": [EMOTIONS.index(it.label) for it in kept],
            "language": [it.language for it in kept],
            "corpus": [it.corpus for it in kept],
            "speaker": [it.speaker for it in kept],
        }
    )
    nproc = num_proc if num_proc is not None else min(os.cpu_count() or 1, 8)
    nproc = max(1, min(nproc, len(kept) // 50 or 1))
    out_features = datasets.Features(
        {**{k: FEATURES[k] for k in ("audio", "length")}, "error": datasets.Value("string"),
         "orig_sr": datasets.Value("int32"), "channels": datasets.Value("int32"),
         "path": datasets.Value("string"), "label": datasets.Value("int64"),
         "language": datasets.Value("string"), "corpus": datasets.Value("string"),
         "speaker": datasets.Value("string")}
    )
    tmp = target.with_name(key + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    processed = raw.map(
        _preprocess_example,
        fn_kwargs={"cfg": cfg},
        num_proc=nproc if nproc > 1 else None,
        features=out_features,
        cache_file_name=str(tmp / "map.arrow"),
        writer_batch_size=64,
        desc=f"Preparing {scan.corpus}",
    )
    meta = processed.select_columns(["path", "error", "orig_sr", "channels", "length", "label", "speaker"])
    meta = meta.to_pandas()
    bad = meta[meta["error"] != ""]
    skipped += [{"path": p, "reason": r} for p, r in zip(bad["path"], bad["error"])]
    good = meta[meta["error"] == ""]
    ds = processed.filter(lambda e: [x == "" for x in e], input_columns="error", batched=True,
                          cache_file_name=str(tmp / "filter.arrow"))
    ds = ds.remove_columns(["error", "orig_sr", "channels"]).cast(FEATURES)
    ds.save_to_disk(str(tmp / "dataset"))
    del processed, ds
    for p in tmp.glob("*.arrow"):  # map/filter/cast intermediates; the dataset lives in tmp/dataset
        p.unlink()
    counts = Counter(good["label"].tolist())
    report = {
        "corpus": scan.corpus,
        "files_seen": len(scan.items) + len(scan.skipped),
        "kept": {EMOTIONS[i]: int(counts.get(i, 0)) for i in range(len(EMOTIONS))},
        "kept_total": int(len(good)),
        "dropped": dict(sorted(dropped.items())),
        "skipped": skipped,
        "speakers": int(good["speaker"].nunique()),
        "hours": round(float(good["length"].sum()) / SAMPLING_RATE / 3600, 4),
        "sample_rates": {str(k): int(v) for k, v in sorted(Counter(meta.loc[meta.orig_sr > 0, "orig_sr"]).items())},
        "channels": {str(k): int(v) for k, v in sorted(Counter(meta.loc[meta.channels > 0, "channels"]).items())},
        "notes": scan.notes,
        "cache": str(target),
    }
    (tmp / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return datasets.load_from_disk(str(target / "dataset")), report


def format_report(report: dict, max_skips: int = 20) -> str:
    """Human-readable multi-line summary of one corpus report."""
    lines = [f"== {report['corpus']}: {report['kept_total']} kept of {report['files_seen']} files, "
             f"{report['speakers']} speakers, {report['hours']:.3f} h"]
    lines.append("   kept:    " + ", ".join(f"{k} {v}" for k, v in report["kept"].items()))
    if report["dropped"]:
        lines.append("   dropped: " + ", ".join(f"{k} {v}" for k, v in report["dropped"].items()))
    lines.append("   sample rates: " + ", ".join(f"{k} Hz x{v}" for k, v in report["sample_rates"].items())
                 + "; channels: " + ", ".join(f"{k}ch x{v}" for k, v in report["channels"].items()))
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
