"""Reading a runs folder: every usable run record (:func:`load_runs`) and a run's cached predictions.csv."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from hf_ser import labels
from hf_ser.errors import UserError
from hf_ser.safe_io import display_path
from hf_ser.train.runs import RunRecordError, load_records, read_predictions

# One logger for the whole package, named as before the split: log lines read "hf_ser.study.report: ...".
logger = logging.getLogger("hf_ser.study.report")


class NoRuns(UserError, FileNotFoundError):
    """No usable run under the folder given (a UserError: exit 2; also a FileNotFoundError for older callers)."""


def load_runs(runs_dir: str | Path) -> list[dict]:
    """Every run record under `runs_dir` (via :func:`hf_ser.train.runs.load_records`), as dicts.

    Staging, report and analysis folders are never read. Unusable records are skipped with a warning naming
    the file. Each returned dict is the record's JSON form plus ``"_path"`` (its metrics.json) and
    ``"_folder"`` (the run folder, where ``predictions.csv`` lives) and ``"_label_set"`` (RunRecord.label_set). Raises
    :class:`NoRuns` when nothing is usable.
    """
    root = Path(runs_dir)
    if not root.is_dir():
        raise NoRuns(
            f"runs folder {display_path(root)} does not exist; run `hf-ser recipe ...` first to train the grid"
        )
    problems: list[str] = []

    def skipped(path: Path, err: Exception) -> None:
        """Warn about one unusable record and remember it."""
        logger.warning("skipping %s: %s", display_path(path), err)
        problems.append(display_path(path))

    runs, frozen = [], 0
    for folder, record in load_records(root, on_error=skipped):
        if record.protocol.get("upstream") == "frozen":  # frozen-upstream runs: their own table (upstream)
            frozen += 1
            continue
        data = record.to_dict()
        data["_path"] = str(folder / "metrics.json")
        data["_folder"] = str(folder)
        data["_label_set"] = record.label_set  # tables never mix runs of different classes
        runs.append(data)
    if frozen:
        logger.info("%d frozen-upstream run(s) left out of Tables 2 and 3 (see their upstream.md)", frozen)
    if not runs and not problems:
        raise NoRuns(
            f"no metrics.json found under {display_path(root)}; run `hf-ser recipe ...` first "
            "(each run writes <RUNS_DIR>/<run>/metrics.json)"
        )
    if not runs:
        raise NoRuns(
            f"none of the {len(problems)} metrics.json files under {display_path(root)} could be read "
            "(see the warnings above); rerun `hf-ser recipe ...` to regenerate them"
        )
    return runs


# ----------------------------------------------------------------------------- predictions


@functools.lru_cache(maxsize=256)
def _predictions_cached(folder: str, stamp: tuple) -> Any:
    """A run's predictions.csv (cached per file state `stamp`); None when the run has none."""
    try:
        return read_predictions(folder)
    except RunRecordError as err:
        logger.info("%s: no confidence intervals (%s)", display_path(folder), err)
        return None


def run_predictions(run: dict, language: str) -> Any:
    """The run's predictions for one language (DataFrame with path, y_true, y_pred), or None without predictions.csv."""
    folder = run.get("_folder")
    if not folder:
        return None
    path = Path(folder) / "predictions.csv"
    try:
        st = path.stat()
    except OSError:
        return None
    df = _predictions_cached(str(folder), (st.st_size, st.st_mtime_ns))
    if df is None:
        return None
    return df[df["language"].astype(str).str.upper() == language]


def report_groups(runs: list[dict]) -> dict[str, list[str]]:
    """Group -> languages the lineage claim and Tables 2-3 read: the paper's split, or, for a grid over lineages
    (``hf-ser recipe germanic_slavic``, ``--groups romance germanic ...``), the groups its cross_group and
    multilingual runs name, with their members from the language table (labels.resolve_groups)."""
    paper = labels.groups()
    named: list[str] = []
    for r in runs:
        g = r.get("group")
        if r.get("family") in ("cross_group", "multilingual") and g and g != "all" and g not in named:
            named.append(str(g))
    if not named or set(named) <= set(paper):
        return paper
    try:
        return labels.resolve_groups(named)
    except UserError as exc:  # groups of another table (a user lineage not registered here): the paper's split
        logger.warning("the runs' groups %s are not this table's (%s); reading them as the paper's split", named, exc)
        return paper
