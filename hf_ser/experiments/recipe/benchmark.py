"""EmoBox's intra-corpus protocol over every corpus present (``--split emobox --fold 0``, the ``benchmark`` recipe).

Each corpus EmoBox publishes folds for, and that is present under ``--data_root``, is trained and tested on its
own, once per published fold, into ``<output_dir>/<corpus>/fold<k>`` (one model per corpus and fold, trained on
every language the corpus holds: ESD's English and Mandarin together, as EmoBox does). The corpora found and the
ones skipped, with why, are logged and written to ``<output_dir>/benchmark_corpora.json`` for the report.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np

from hf_ser.data.corpora import corpus_folder
from hf_ser.data.dataset import DataArguments
from hf_ser.data.emobox import EMOBOX_CORPORA, corpus_folds
from hf_ser.errors import UserError
from hf_ser.experiments.recipe.arguments import SERArguments
from hf_ser.safe_io import atomic_write_json, display_path

logger = logging.getLogger("hf_ser")

CORPORA_FILE = "benchmark_corpora.json"  # found and skipped corpora, read by hf_ser.study.report.protocols


@dataclass
class BenchmarkCorpora:
    """The corpora a benchmark runs (corpus -> (EmoBox dataset, fold numbers)) and the ones skipped (-> why)."""

    found: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON form: found corpora with their dataset and folds, skipped corpora with the reason."""
        return {
            "found": {c: {"emobox_dataset": ds, "folds": folds} for c, (ds, folds) in self.found.items()},
            "skipped": dict(self.skipped),
        }


def is_benchmark(data_args: DataArguments) -> bool:
    """True for EmoBox's folds of every corpus in turn: ``--split emobox --fold 0``."""
    return data_args.split == "emobox" and data_args.fold == 0


def benchmark_corpora(data_args: DataArguments) -> BenchmarkCorpora:
    """Which of EmoBox's corpora (those named by ``--corpora``, else all) have a folder under ``--data_root`` and
    fold files under ``--emobox_dir``; the others are skipped with the reason."""
    out = BenchmarkCorpora()
    wanted = set(data_args.corpora or [])
    for dataset, corpus in EMOBOX_CORPORA.items():
        if wanted and corpus not in wanted:
            continue
        folder = corpus_folder(data_args.data_root, corpus)
        if not folder.is_dir():
            out.skipped[corpus] = f"not present: no folder {display_path(folder)}"
            continue
        folds = corpus_folds(data_args.emobox_dir or "", corpus)
        if folds is None:
            out.skipped[corpus] = f"no EmoBox fold files for {dataset} under {display_path(data_args.emobox_dir or '')}"
            continue
        out.found[corpus] = folds
    for corpus in sorted(wanted - set(EMOBOX_CORPORA.values())):
        out.skipped[corpus] = "EmoBox publishes no folds for it"
    return out


def resolve_benchmark(data_args: DataArguments, output_dir: str) -> DataArguments:
    """For a benchmark (:func:`is_benchmark`): the data arguments restricted to the corpora found, after logging
    the found and skipped ones and writing them to ``<output_dir>/benchmark_corpora.json``. Others: unchanged."""
    if not is_benchmark(data_args):
        return data_args
    found = benchmark_corpora(data_args)
    if not found.found:
        reasons = "; ".join(f"{c}: {why}" for c, why in found.skipped.items() if not why.startswith("not present"))
        raise UserError(
            f"benchmark: no corpus with EmoBox folds is present under --data_root {display_path(data_args.data_root)} "
            f"with fold files under --emobox_dir {display_path(data_args.emobox_dir or '')}"
            + (f" ({reasons})" if reasons else "")
            + "; extract the corpora there and clone github.com/emo-box/EmoBox"
        )
    for corpus, (dataset, folds) in found.found.items():
        logger.info("benchmark: %s (EmoBox %s, %d fold(s))", corpus, dataset, len(folds))
    for corpus, why in found.skipped.items():
        logger.info("benchmark: skipping %s: %s", corpus, why)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / CORPORA_FILE, found.to_dict())
    return dataclasses.replace(data_args, corpora=sorted(found.found))


def corpus_languages(ds: datasets.Dataset) -> dict[str, list[str]]:
    """corpus -> the languages of its rows (sorted), from a loaded dataset."""
    corpora, languages = np.asarray(ds["corpus"]), np.asarray(ds["language"])
    return {c: sorted(set(languages[corpora == c].tolist())) for c in sorted(set(corpora.tolist()))}


def benchmark_passes(
    ser_args: SERArguments, data_args: DataArguments, output_dir: str, languages: dict[str, list[str]]
) -> list[tuple[SERArguments, DataArguments, str]]:
    """(ser args, data args, output dir) per corpus and EmoBox fold: the corpus alone (``corpora=[corpus]``, its
    own languages), fold k, into ``<output_dir>/<corpus>/fold<k>``. Corpora with no loaded row are left out."""
    passes = []
    for corpus in data_args.corpora or []:
        if corpus not in languages:
            logger.warning("benchmark: %s has no usable row after preparation: left out", corpus)
            continue
        found = corpus_folds(data_args.emobox_dir or "", corpus)
        for k in found[1] if found else []:
            passes.append(
                (
                    dataclasses.replace(ser_args, languages=languages[corpus]),
                    dataclasses.replace(data_args, corpora=[corpus], fold=k),
                    str(Path(output_dir) / corpus / f"fold{k}"),
                )
            )
    return passes
