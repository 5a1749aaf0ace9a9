"""Corpus loaders: a registry of scanners by corpus name, and one entry point, :func:`load_corpus`."""

from __future__ import annotations

import importlib
from pathlib import Path

import datasets

from ..audio import PreprocessConfig
from ..labels import CORPORA
from .base import CorpusNotFound, Item, Scan, ScanFn, format_report, prepare_scan
from .manifest import scan_manifest

LOADERS: dict[str, ScanFn] = {}

# One module per corpus under hf_ser/corpora/; each calls register_loader(name) on import.
_LOADER_MODULES: tuple[str, ...] = ()


def register_loader(name: str):
    """Decorator: register ``fn(root: Path, **options) -> Scan`` as the scanner of corpus `name`."""

    def deco(fn: ScanFn) -> ScanFn:
        LOADERS[name] = fn
        return fn

    return deco


for _m in _LOADER_MODULES:
    importlib.import_module(f"{__name__}.{_m}")


def corpus_folder(data_root: str | Path, name: str) -> Path:
    """The folder a corpus is expected in: ``<data_root>/<name>``."""
    return Path(data_root) / CORPORA[name].folder if name in CORPORA else Path(data_root) / name


def scan_corpus(name: str, data_root: str | Path, **options) -> Scan:
    """Scan a registered corpus (or a manifest placed at ``<data_root>/<name>/manifest.{csv,jsonl}``)."""
    root = corpus_folder(data_root, name)
    if not root.is_dir():
        raise CorpusNotFound(f"corpus {name!r}: folder {root} does not exist")
    for m in ("manifest.csv", "manifest.jsonl"):
        if (root / m).is_file():
            info = CORPORA.get(name)
            return scan_manifest(root / m, corpus=name, language=info.language if info else None)
    if name not in LOADERS:
        raise CorpusNotFound(
            f"corpus {name!r} has no layout loader; put a manifest.csv (path,label,language[,speaker]) in {root}"
        )
    return LOADERS[name](root, **options)


def load_corpus(
    name: str,
    data_root: str | Path,
    cache_dir: str | Path | None = None,
    cfg: PreprocessConfig = PreprocessConfig(),
    num_proc: int | None = None,
    **options,
) -> tuple[datasets.Dataset, dict]:
    """Scan, preprocess and cache one corpus; returns (dataset in the common schema, report)."""
    return prepare_scan(scan_corpus(name, data_root, **options), cache_dir, cfg, num_proc)


__all__ = [
    "CorpusNotFound", "Item", "LOADERS", "Scan", "corpus_folder", "format_report", "load_corpus",
    "prepare_scan", "register_loader", "scan_corpus", "scan_manifest",
]
