"""The record of a finished run, its identity, and the lock that gives a run folder one writer.

A run folder ``<output_dir>/<run>/`` holds ``metrics.json`` (a :class:`RunRecord`), ``predictions.csv``
(one row per test utterance, :func:`write_predictions`) and ``model/``. Every module that reads or writes
runs (recipe, few_shot, report, hub, analysis, evaluate) goes through this module (:mod:`hf_ser.train.run_data`
rebuilds a finished run's datasets from its record).

- **Identity.** :func:`config_hash` hashes what determines a result: the run's configuration *and* the
  fingerprint of the data it trained and tested on (:func:`~hf_ser.data.fingerprint.data_fingerprint`: each row's path,
  label, language, corpus, speaker, length and the file's size and mtime). Editing a manifest row, a
  label map or an audio file changes the identity of exactly the runs whose rows changed.
- **Atomic.** Records are written through a unique temporary file and renamed
  (:func:`hf_ser.safe_io.atomic_write_json`): a reader sees the old record or the new one, never half.
- **One writer.** :class:`RunLock` takes an OS lock (``fcntl.flock``) on ``<run>/.lock``. The kernel
  releases it when the process dies, so a SIGKILL never leaves a stale lock; a second process that asks
  for a held lock gets :class:`RunBusy` at once.
- **Finding runs.** :func:`find_run_folders` walks a runs folder for ``metrics.json`` but never reads a
  staging folder (``hub/``, ``report/``, ``analysis/``, anything holding :data:`STAGING_MARKER`) and
  never descends into a run folder, so a staged copy can never shadow the run it came from.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hf_ser.errors import UserError
from hf_ser.labels import EMOTIONS
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path, spreadsheet_safe

RECORD_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.csv"
LOCK_FILE = ".lock"
STAGING_MARKER = ".hf_ser-staging"  # written into every folder that copies a run (hub staging), never read as a run
SKIP_DIRS = frozenset({"report", "analysis", "hub", "checkpoints", "model"})
SCHEMA_VERSION = 2
FAMILIES = ("single_language", "multilingual", "cross_group", "few_shot", "external", "transfer")


class RunRecordError(UserError):
    """A metrics.json that cannot be used as a run record; the message names the file and what is wrong."""


class RunBusy(RuntimeError):
    """Another live process holds the run folder's lock."""


@dataclass
class RunRecord:
    """What a finished run produced and how; ``metrics.json`` on disk.

    ``metrics`` maps each evaluated language (and ``all``) to ``{"uar", "f1", "wa", "n"}`` fractions.
    ``protocol`` says how the numbers were produced (split, model selection, metric definitions) so
    tables and model cards can state it; ``details`` holds family-specific fields (few-shot shots,
    an external model's label mapping, ...). Fields a reader does not know are kept in ``details``.
    """

    run: str
    family: str
    train_languages: list[str]
    eval_languages: list[str]
    metrics: dict[str, dict[str, float]]
    name: str = ""
    group: str | None = None
    heldout_language: str | None = None
    seed: int | None = None
    confusion: dict | None = None
    confusion_by_language: dict = field(default_factory=dict)
    train_size: int | None = None
    test_size: int | None = None
    train_corpora: list[str] = field(default_factory=list)
    split_notes: dict = field(default_factory=dict)
    train_loss: float | None = None
    train_seconds: float | None = None
    config: dict = field(default_factory=dict)
    config_hash: str = ""
    versions: dict = field(default_factory=dict)
    data_args: dict = field(default_factory=dict)
    protocol: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_dict(cls, data: Any, source: str | os.PathLike = "metrics.json") -> RunRecord:
        """Build a record from a parsed metrics.json (this version's or an older one); RunRecordError if unusable."""
        where = display_path(source)
        problem = _problem(data)
        if problem:
            raise RunRecordError(f"{where}: {problem}; rerun the recipe that wrote it to regenerate it")
        names = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        extra = {k: v for k, v in data.items() if k not in names}
        known["details"] = {**extra, **(known.get("details") or {})}
        known["train_languages"] = [str(c).upper() for c in known["train_languages"]]
        known["eval_languages"] = [
            str(c).upper() for c in known.get("eval_languages") or [k for k in data["metrics"] if k != "all"]
        ]
        known.setdefault("schema_version", 1)
        return cls(**known)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> RunRecord:
        """The record in ``folder/metrics.json``; RunRecordError naming the file when it is missing or unusable."""
        path = Path(folder) / RECORD_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunRecordError(
                f"{display_path(path)} not found: {display_path(folder)} is not a finished "
                "hf_ser run (train it with `hf-ser recipe ...` first)"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunRecordError(f"{display_path(path)} cannot be read as JSON ({e})") from None
        return cls.from_dict(data, path)

    @property
    def labels(self) -> list[str]:
        """The run's classes in id order: its label set's (``--label_set``, kept in details), else its confusion
        matrix's, else the six emotions (records written before label sets)."""
        label_set = self.details.get("label_set")
        if isinstance(label_set, dict) and label_set.get("classes"):
            return [str(c) for c in label_set["classes"]]
        if isinstance(self.confusion, dict) and self.confusion.get("labels"):
            return [str(c) for c in self.confusion["labels"]]
        return list(EMOTIONS)

    @property
    def label_set(self) -> str:
        """A short name of the run's classes for tables: 'paper' for the six emotions, else the class names."""
        labels = self.labels
        return "paper" if labels == list(EMOTIONS) else " ".join(labels)

    # ------------------------------------------------------------------ writing

    def to_dict(self) -> dict:
        """The JSON form (details flattened back beside the known fields, as metrics.json always had them)."""
        d = dataclasses.asdict(self)
        details = d.pop("details")
        return {**details, **d} if details else d

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``folder/metrics.json`` atomically (unique temporary file, then rename); returns its path."""
        path = Path(folder) / RECORD_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, self.to_dict())
        return path

    # ------------------------------------------------------------------ convenience

    @property
    def folder_name(self) -> str:
        """The run folder's name (``<name>-seed<s>``)."""
        return self.run

    def score(self, language: str, metric: str = "uar") -> float | None:
        """One metric of one language as a fraction, or None when it was not evaluated."""
        return (self.metrics.get(language) or {}).get(metric)


def _problem(data: Any) -> str | None:
    """Why a parsed metrics.json is not a usable record, or None."""
    if not isinstance(data, dict):
        return "the top level is not a JSON object"
    for key in ("run", "family", "train_languages", "metrics"):
        if key not in data:
            return f"missing key {key!r}"
    if data["family"] not in FAMILIES:
        return f"unknown family {data['family']!r} (expected one of {', '.join(FAMILIES)})"
    if not isinstance(data["train_languages"], list) or (not data["train_languages"] and data["family"] != "external"):
        return "train_languages must be a non-empty list"
    metrics = data["metrics"]
    if not isinstance(metrics, dict) or not metrics:
        return "metrics is empty"
    for lang, values in metrics.items():
        if not isinstance(values, dict):
            return f"metrics[{lang!r}] is not an object"
        for name in ("uar", "f1"):
            value = values.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
                return f"metrics[{lang!r}][{name!r}] is missing or not a number"
            if not 0.0 <= value <= 1.0:
                return f"metrics[{lang!r}][{name!r}]={value} is not a fraction in [0, 1]"
    return None


# ----------------------------------------------------------------------------- identity


def config_hash(config: dict) -> str:
    """16 hex digits identifying a run: sha256 of its configuration (which includes the data fingerprint)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def finished_record(folder: str | os.PathLike, expected_hash: str) -> RunRecord | None:
    """The folder's record when it exists, is readable and has `expected_hash`; otherwise None."""
    try:
        record = RunRecord.load(folder)
    except RunRecordError:
        return None
    return record if record.config_hash == expected_hash else None


def run_state(folder: str | os.PathLike, expected_hash: str) -> str:
    """'finished' (a record with this identity), 'running elsewhere' (locked by a live process) or 'to do'."""
    if finished_record(folder, expected_hash) is not None:
        return "finished"
    return "running elsewhere" if is_locked(folder) else "to do"


# ----------------------------------------------------------------------------- lock


class RunLock:
    """Exclusive OS lock on a run folder (``<run>/.lock``, ``fcntl.flock``); released on exit or process death.

    ``RunLock(folder)`` raises :class:`RunBusy` at ``__enter__`` when another process holds it;
    ``RunLock(folder, wait=True)`` blocks until it is free.
    """

    def __init__(self, folder: str | os.PathLike, wait: bool = False):
        self.folder = Path(folder)
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            raise RunBusy(f"{display_path(self.folder)} is being written by another process") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def is_locked(folder: str | os.PathLike) -> bool:
    """True when another live process holds the run folder's lock."""
    path = Path(folder) / LOCK_FILE
    if not path.is_file():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we took
    return False


# ----------------------------------------------------------------------------- finding and reading runs


def find_run_folders(root: str | os.PathLike) -> list[Path]:
    """Run folders under `root` (folders with metrics.json), sorted; staging, report and analysis folders are
    never entered, nor is anything below a run folder."""
    root = Path(root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if STAGING_MARKER in filenames or (here != root and here.name in SKIP_DIRS):
            dirnames[:] = []
            continue
        if RECORD_FILE in filenames:
            found.append(here)
            dirnames[:] = []  # a run folder's sub-folders (hub/, model/, ...) are never runs
            continue
        dirnames.sort()
    return sorted(found)


def load_records(root: str | os.PathLike, on_error=None) -> list[tuple[Path, RunRecord]]:
    """(folder, record) of every run under `root`; an unusable record goes to ``on_error(path, err)``, left out."""
    out = []
    for folder in find_run_folders(root):
        try:
            out.append((folder, RunRecord.load(folder)))
        except RunRecordError as e:
            if on_error is not None:
                on_error(folder / RECORD_FILE, e)
    return out


# ----------------------------------------------------------------------------- predictions


PREDICTION_META = ("path", "language", "corpus", "speaker")


def write_predictions(
    path: str | os.PathLike, meta: dict[str, Sequence], logits: np.ndarray, labels: Sequence[str] = EMOTIONS
) -> None:
    """``predictions.csv``: one row per test utterance (path, language, corpus, speaker, label, pred, p_<emotion>).

    `meta` holds the PREDICTION_META columns and integer ``label``; probabilities are the softmax of `logits`.
    Text cells go through :func:`hf_ser.safe_io.spreadsheet_safe` (printable, never a formula); written atomically.
    """
    logits = np.asarray(logits, dtype=np.float64)
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    df = pd.DataFrame({k: [spreadsheet_safe(str(v)) for v in meta[k]] for k in PREDICTION_META})
    df["label"] = [labels[int(i)] for i in meta["label"]]
    df["pred"] = [labels[int(i)] for i in logits.argmax(-1)]
    for i, e in enumerate(labels):
        df[f"p_{e}"] = probs[:, i].round(5)
    atomic_write_text(path, df.to_csv(index=False))


def prediction_labels(df: pd.DataFrame) -> list[str]:
    """The class names of a predictions.csv DataFrame, in id order (its ``p_<class>`` columns)."""
    return [c[2:] for c in df.columns if c.startswith("p_")] or list(EMOTIONS)


def read_predictions(folder: str | os.PathLike) -> pd.DataFrame:
    """A run's predictions.csv as a DataFrame with integer ``y_true`` / ``y_pred`` columns (class indices of the
    run's label set, read from its ``p_<class>`` columns in order: the six emotions for a paper run)."""
    path = Path(folder) / PREDICTIONS_FILE
    if not path.is_file():
        raise RunRecordError(f"{display_path(path)} not found: the run did not finish or predates predictions.csv")
    df = pd.read_csv(path, keep_default_na=False, dtype={"speaker": str, "path": str})
    names = prediction_labels(df)
    index = {e: i for i, e in enumerate(names)}
    bad = sorted((set(df["label"]) | set(df["pred"])) - set(index))
    if bad:
        raise RunRecordError(f"{display_path(path)}: labels outside the run's classes: {', '.join(map(str, bad))}")
    df["y_true"] = df["label"].map(index)
    df["y_pred"] = df["pred"].map(index)
    return df
