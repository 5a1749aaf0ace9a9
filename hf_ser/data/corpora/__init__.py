"""Corpus loaders: a registry of scanners by corpus name, and one entry point, :func:`load_corpus`.

A source is a registered corpus name (its folder under the data root), a manifest file
(CSV/TSV/JSONL), a parquet/Arrow file or folder, or a Hugging Face Hub dataset id. All of
them end in the same :data:`FEATURES` schema through :func:`prepare_scan`.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import datasets

from hf_ser.data.audio import PreprocessConfig
from hf_ser.data.corpora.manifest import MANIFEST_SUFFIXES, load_label_map, scan_manifest
from hf_ser.data.corpora.prepare import FEATURES, default_cache_dir, format_report, prepare_scan
from hf_ser.data.corpora.registry import LOADERS, register_loader
from hf_ser.data.corpora.resd import dialogue_id
from hf_ser.data.corpora.scan import AUDIO_EXTENSIONS, CorpusError, CorpusNotFound, Item, Scan, lfs_pointer_note
from hf_ser.data.corpora.table import TABLE_SUFFIXES, scan_hub, scan_table
from hf_ser.labels import CORPORA
from hf_ser.safe_io import display_path

MANIFEST_NAMES: tuple[str, ...] = ("manifest.csv", "manifest.tsv", "manifest.jsonl", "manifest.json")


def corpus_folder(data_root: str | Path, name: str) -> Path:
    """The folder a corpus is expected in: ``<data_root>/<name>``."""
    return Path(data_root) / CORPORA[name].folder if name in CORPORA else Path(data_root) / name


def _get_it(name: str, root: Path) -> str:
    """Where to get a registered corpus and what to do with it (for error messages)."""
    info = CORPORA.get(name)
    where = display_path(root)
    if info is None:
        return f"Put its files (or a manifest.csv, see docs/manifests.md) in {where}/."
    if name in LOADERS:
        return (
            f"Get {info.title} from {info.url} and extract it into {where}/ (any sub-folder layout below it is fine)."
        )
    return (
        f"Get {info.title} from {info.url}, extract it into {where}/ and describe it with {where}/manifest.csv "
        "(path,label,language[,speaker]; see docs/manifests.md)."
    )


def find_manifest(root: Path) -> Path | None:
    """``manifest.{csv,tsv,jsonl,json}`` directly in `root`, if any."""
    return next((root / m for m in MANIFEST_NAMES if (root / m).is_file()), None)


def corpus_status(name: str, data_root: str | Path) -> str:
    """'found', 'manifest', 'empty' (folder without audio) or 'missing', for the `list` command."""
    root = corpus_folder(data_root, name)
    if not root.is_dir():
        return "missing"
    if find_manifest(root):
        return "manifest"
    exts = AUDIO_EXTENSIONS + (".parquet", ".arrow")
    for _, _, files in os.walk(root, followlinks=True):
        if any(f.lower().endswith(exts) and not f.startswith(".") for f in files):
            return "found"
    return "empty"


def _call_loader(name: str, root: Path, options: dict) -> Scan:
    """Call corpus `name`'s scan function with `options`, rejecting options it does not take (CorpusError)."""
    fn = LOADERS[name].scan
    params = inspect.signature(fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(options) - set(list(params)[1:]))
        if unknown:
            accepted = ", ".join(list(params)[1:]) or "none"
            raise CorpusError(f"corpus {name!r} does not take option(s) {', '.join(unknown)}; it accepts: {accepted}")
    return fn(root, **options)


def scan_corpus(name: str, data_root: str | Path, **options) -> Scan:
    """Scan a registered corpus (or a manifest placed at ``<data_root>/<name>/manifest.csv``).

    ``label_map=`` (dict, JSON file or inline JSON) extends/overrides the corpus's map;
    other options go to the corpus's loader (e.g. ``release='_01'`` for Oréau).
    """
    label_map = load_label_map(options.pop("label_map", None))
    language = options.pop("language", None)  # only for manifests: a layout loader knows its language
    root = corpus_folder(Path(data_root).absolute(), name)
    if not root.is_dir():
        raise CorpusNotFound(f"corpus {name!r}: folder {display_path(root)} does not exist. {_get_it(name, root)}")
    manifest = find_manifest(root)
    if manifest is not None:
        info = CORPORA.get(name)
        return scan_manifest(
            manifest, label_map=label_map, corpus=name, language=language or (info.language if info else None)
        )
    if name not in LOADERS:
        raise CorpusNotFound(
            f"corpus {name!r} has no layout loader and {display_path(root)} holds no manifest. {_get_it(name, root)}"
        )
    scan = _call_loader(name, root, options)
    scan.label_map.update(label_map)
    scan.labels = {**LOADERS[name].labels, **scan.labels}
    if not any("git-LFS" in n for n in scan.notes):
        lfs_pointer_note(scan)
    return scan


def _hub_corpus(repo_id: str) -> str | None:
    return next((c.name for c in CORPORA.values() if c.hub_id and c.hub_id.lower() == repo_id.lower()), None)


def scan_source(source: str | Path, data_root: str | Path = "data", **options) -> Scan:
    """Scan any source: a registered corpus name, a manifest file, a parquet/Arrow file or folder,
    or a Hub dataset id (``owner/name``, downloaded by ``datasets.load_dataset``)."""
    s = str(source)
    if s in CORPORA or s in LOADERS:
        return scan_corpus(s, data_root, **options)
    p = Path(s)
    label_map = options.pop("label_map", None)
    if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES:
        return scan_manifest(p, label_map=label_map, corpus=options.get("corpus"), language=options.get("language"))
    if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES or p.is_dir():
        if p.is_dir() and find_manifest(p):
            return scan_manifest(
                find_manifest(p), label_map=label_map, corpus=options.get("corpus"), language=options.get("language")
            )
        return scan_table(p, label_map=load_label_map(label_map), **options)
    if p.exists():
        raise CorpusError(f"{display_path(p)}: not a manifest ({', '.join(MANIFEST_SUFFIXES)}), table or folder")
    looks_like_path = s.startswith((".", "/", "~")) or p.suffix.lower() in MANIFEST_SUFFIXES + TABLE_SUFFIXES
    if looks_like_path:
        raise CorpusNotFound(f"{display_path(p)} does not exist (expected a manifest file or a parquet/Arrow folder)")
    if s.count("/") == 1:
        corpus = _hub_corpus(s)
        lm = {**(LOADERS[corpus].label_map if corpus in LOADERS else {}), **load_label_map(label_map)}
        if corpus:
            info = CORPORA[corpus]
            options.setdefault("corpus", corpus)
            options.setdefault("language", info.language)
            if corpus == "resd":
                options.setdefault("label_column", "emotion")
                options.setdefault("speaker_fn", dialogue_id)
        scan = scan_hub(s, label_map=lm, **options)
        scan.labels = {**(LOADERS[corpus].labels if corpus in LOADERS else {}), **scan.labels}
        return scan
    known = ", ".join(CORPORA)
    raise CorpusNotFound(
        f"{s!r} is neither a known corpus ({known}), nor an existing manifest/table path, nor a Hub id"
    )


def load_corpus(
    name: str,
    data_root: str | Path,
    cache_dir: str | Path | None = None,
    cfg: PreprocessConfig = PreprocessConfig(),
    num_proc: int | None = None,
    view: str = "paper",
    **options,
) -> tuple[datasets.Dataset, dict]:
    """Scan, preprocess and cache one corpus; returns (dataset in the common schema, report).

    `name` is a registered corpus (looked up under `data_root`), or a manifest / parquet / Arrow
    path, or a Hub dataset id; `options` go to the loader (see :func:`scan_corpus`). `view` 'all' keeps the rows
    outside the paper's six, with their native and canonical labels (:func:`~.prepare.prepared_view`).
    """
    return prepare_scan(scan_source(name, data_root, **options), cache_dir, cfg, num_proc, view)


__all__ = [
    "FEATURES",
    "CorpusError",
    "CorpusNotFound",
    "Item",
    "LOADERS",
    "Scan",
    "corpus_folder",
    "corpus_status",
    "default_cache_dir",
    "format_report",
    "load_corpus",
    "prepare_scan",
    "register_loader",
    "scan_corpus",
    "scan_manifest",
    "scan_source",
]
