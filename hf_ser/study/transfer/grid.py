"""A measured transfer grid read from a runs folder, and its fit: what ``hf-ser report`` and ``hf-ser sources`` share.

:func:`read_transfer_grid` gathers the ``transfer`` family's runs (``hf-ser recipe transfer``) into a source x
target matrix of UAR (percent), each cell the mean over its seeds. At the language level a cell is the run's own
per-language UAR; at the corpus level (``--unit corpus``: a run named ``transfer-<CORPUS>``) it is the UAR over
that target corpus's rows of the run's ``predictions.csv``. :func:`grid_distances` gives the linguistic distances
over the grid's units (the shipped snapshot for the paper's languages, else URIEL+ with its pair cache) and the
acoustic control (:mod:`hf_ser.study.transfer.runs_acoustic`); :func:`fit_grid` fits the transfer model.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hf_ser.errors import UserError
from hf_ser.metrics import uar
from hf_ser.safe_io import display_path
from hf_ser.study.transfer.distances import (
    ALL_DISTANCES,
    DistanceSet,
    language_distances,
    study_distances,
    unit_distances,
)
from hf_ser.study.transfer.model import DEFAULT_PERMUTATIONS, TransferFit, fit_transfer
from hf_ser.study.transfer.runs_acoustic import ACOUSTIC, MEASURE, AcousticControl, acoustic_control
from hf_ser.train.runs import RunRecord, RunRecordError, load_records, read_predictions

logger = logging.getLogger("hf_ser.study.transfer")

MAKE_RUNS = "hf-ser recipe transfer --output_dir {runs} (add --demo to try it on the synthetic corpus)"
MIN_UNITS = 3  # a and b effects plus one beta need more cells than parameters: 3 units give 6 cells for 5+1


@dataclass(frozen=True)
class MeasuredGrid:
    """Transfer measured by a grid of runs: ``values[i, j]`` = mean UAR (%) of source ``labels[i]`` on target
    ``labels[j]`` over ``n_seeds[i, j]`` seeds (NaN where no run scored the pair)."""

    unit: str  # "language" or "corpus"
    labels: tuple[str, ...]
    languages: dict[str, str]  # unit -> its language code
    values: np.ndarray
    n_seeds: np.ndarray
    test_audio: dict[str, list[str]] = field(default_factory=dict)  # unit -> its test utterances' audio paths
    runs: tuple[str, ...] = ()
    backbone: str = ""  # the backbone the source models fine-tuned (the embedding control's default)


def _unit_of(record: RunRecord) -> tuple[str, str]:
    """(unit kind, source label) of a transfer run: ``transfer-FRE`` is a language, ``transfer-CaFE`` a corpus."""
    label = (record.name or record.run).removeprefix("transfer-")
    return ("language", label) if label in record.train_languages else ("corpus", label)


def _scores(record: RunRecord, folder: Path, unit: str) -> tuple[dict[str, float], dict[str, list[str]], dict]:
    """A run's UAR (%) per target unit, its test audio per unit, and each unit's language."""
    try:
        df = read_predictions(folder)
    except RunRecordError:
        df = None
    if unit == "language":
        scores = {l: 100.0 * m["uar"] for l, m in record.metrics.items() if l != "all"}
        audio = {} if df is None else {l: list(g["path"]) for l, g in df.groupby("language")}
        return scores, audio, {l: l for l in scores}
    if df is None:
        raise UserError(f"{display_path(folder)} has no predictions.csv: a corpus-level grid needs it (rerun the run)")
    scores = {c: 100.0 * uar(g["y_true"].to_numpy(), g["y_pred"].to_numpy()) for c, g in df.groupby("corpus")}
    langs = {c: str(g["language"].iloc[0]) for c, g in df.groupby("corpus")}
    return scores, {c: list(g["path"]) for c, g in df.groupby("corpus")}, langs


def read_transfer_grid(runs_dir: str | Path) -> MeasuredGrid:
    """The transfer matrix of every ``transfer`` run under `runs_dir` (module docstring).

    One-line :class:`UserError` when the folder holds no transfer run (with the command that makes them), when
    language- and corpus-level runs are mixed, or when fewer than :data:`MIN_UNITS` sources were trained.
    """
    root = Path(runs_dir)
    if not root.is_dir():
        raise UserError(f"runs folder {display_path(root)} does not exist; make it with {MAKE_RUNS.format(runs=root)}")
    records = [(f, r) for f, r in load_records(root) if r.family == "transfer"]
    if not records:
        raise UserError(f"no transfer run under {display_path(root)}; make them with {MAKE_RUNS.format(runs=root)}")
    kinds = {_unit_of(r)[0] for _, r in records}
    if len(kinds) > 1:
        raise UserError(f"{display_path(root)} mixes language- and corpus-level transfer runs; keep one per folder")
    unit = kinds.pop()
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    audio: dict[str, list[str]] = {}
    languages: dict[str, str] = {}
    sources = []
    for folder, record in records:
        kind, source = _unit_of(record)
        scores, paths, langs = _scores(record, folder, unit)
        languages.update(langs)
        languages.setdefault(source, record.train_languages[0])
        sources.append(source)
        for target, value in scores.items():
            cells[(source, target)].append(value)
        for target, p in paths.items():
            audio.setdefault(target, p)
    labels = tuple(sorted(set(sources), key=lambda s: (languages.get(s, s), s)))
    if len(labels) < MIN_UNITS:
        raise UserError(
            f"{display_path(root)} has transfer runs for {len(labels)} source(s) ({', '.join(labels)}); the transfer "
            f"model needs at least {MIN_UNITS} (train more with {MAKE_RUNS.format(runs=root)} --languages ...)"
        )
    n = len(labels)
    values, counts = np.full((n, n), np.nan), np.zeros((n, n), dtype=int)
    for i, s in enumerate(labels):
        for j, t in enumerate(labels):
            if cells.get((s, t)):
                values[i, j], counts[i, j] = float(np.mean(cells[(s, t)])), len(cells[(s, t)])
    backbones = [str((r.config.get("model") or {}).get("model_name_or_path") or "") for _, r in records]
    backbone = max(set(backbones), key=backbones.count) if backbones else ""
    return MeasuredGrid(unit, labels, languages, values, counts, audio, tuple(r.run for _, r in records), backbone)


def grid_distances(grid: MeasuredGrid, cache_dir: str | Path | None = None) -> DistanceSet:
    """The linguistic distances between the grid's languages: the shipped snapshot of the table's seventeen when
    every one is in it (no URIEL+ call), else URIEL+ (pairs cached in `cache_dir`)."""
    langs = list(dict.fromkeys(grid.languages[u] for u in grid.labels))
    snapshot = study_distances()
    if all(l in snapshot.labels for l in langs):
        idx = [snapshot.index(l) for l in langs]
        pick = {k: m[np.ix_(idx, idx)] for k, m in snapshot.matrices.items()}
        raw = {k: m[np.ix_(idx, idx)] for k, m in snapshot.raw.items()}
        imputed = {k: tuple(p for p in v if p[0] in langs and p[1] in langs) for k, v in snapshot.imputed.items()}
        codes = tuple(snapshot.codes[i] for i in idx)
        return DistanceSet(tuple(langs), codes, pick, raw, imputed, snapshot.dropped, snapshot.source)
    return language_distances(langs, cache_dir, ALL_DISTANCES)


@dataclass(frozen=True)
class GridFit:
    """A measured grid, the distances it was fitted on, the acoustic control and the fit."""

    grid: MeasuredGrid
    distances: DistanceSet
    acoustic: AcousticControl
    fit: TransferFit


def fit_grid(
    runs_dir: str | Path,
    cache_dir: str | Path | None = None,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    acoustic: str = MEASURE,
    backbone: str | None = None,
) -> GridFit:
    """Read the grid, its distances and acoustic control (cached in `runs_dir`), and fit the transfer model with
    the acoustic distance held fixed (a control) when every unit's test audio could be read. `acoustic` is the
    control's measure ('ltas', or 'embedding': mean utterance embeddings of the frozen `backbone`, by default the
    one the grid's source models fine-tuned)."""
    grid = read_transfer_grid(runs_dir)
    ds = grid_distances(grid, cache_dir)
    matrices = unit_distances(ds, {u: grid.languages[u] for u in grid.labels})
    tested = {k: matrices[k] for k in ALL_DISTANCES if k in matrices}
    control = acoustic_control(grid.labels, grid.test_audio, Path(runs_dir), acoustic, backbone or grid.backbone)
    controls = {ACOUSTIC: control.matrix} if control.matrix is not None else {}
    fit = fit_transfer(grid.values, grid.labels, tested, controls, n_permutations=n_permutations, seed=seed)
    return GridFit(grid, ds, control, fit)
