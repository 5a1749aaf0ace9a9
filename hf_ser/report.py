"""Tables 2 and 3 of the paper (and the Section 4.3 lineage claim) from a folder of runs.

Every training run writes ``<RUNS_DIR>/<run>/metrics.json``. This module gathers them,
merges runs that differ only by seed (mean ± std), and writes Markdown, CSV, LaTeX and
a heat map for each table into ``RUNS_DIR/report/``::

    python -m hf_ser.report runs/paper --paper [--ci] [--output_dir DIR]

Runs are read with :func:`hf_ser.runs.load_records` (staging, report and analysis folders are never
read). Every cell carries a 95% bootstrap confidence interval (over test utterances from each run's
``predictions.csv``, and over seeds when there are several) in ``<table>.json`` and ``<table>_cells.csv``,
and, with ``--ci``, in the Markdown and LaTeX tables too. The Section 4.3 check gives each held-out
language's own-group margin over the other group's mean a paired bootstrap CI and p-value, Holm-corrected
over the languages compared (:mod:`hf_ser.stats`); ``claims.md`` says in words which margins are significant.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hf_ser import labels, paper_results
from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import UserError
from hf_ser.metrics import F1_DEFINITION
from hf_ser.runs import RunRecordError, load_records, read_predictions
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path, spreadsheet_safe
from hf_ser.stats import ALPHA, DEFAULT_RESAMPLES, bootstrap_ci, holm, paired_margin_test, pooled_margin_test

logger = logging.getLogger(__name__)

ROW_HEADER = "Train Set"
PAPER_PREFIX = "Paper: "
NOT_EVALUATED = "//"
TIE_POINTS = 0.05  # margins smaller than this (in UAR points) are ties at one-decimal precision

TABLE2_TITLE = "Table 2. UAR / F1 of single-language and multilingual models (%, higher is better)."
TABLE3_TITLE = "Table 3. UAR / F1 cross-lingual generalization across unseen languages (%, higher is better)."
F1_NOTE = f"F1 = {F1_DEFINITION}."
CI_NOTE = "[low, high] = 95% bootstrap CI over test utterances (and seeds)."


@dataclass(frozen=True)
class Cell:
    """One `UAR / F1` cell in percent; the std fields are set when it averages several seeds."""

    uar: float
    f1: float
    uar_std: float | None = None
    f1_std: float | None = None
    n_seeds: int = 1
    wa: float | None = field(default=None, compare=False)
    uar_ci: tuple[float, float] | None = field(default=None, compare=False)
    f1_ci: tuple[float, float] | None = field(default=None, compare=False)
    wa_ci: tuple[float, float] | None = field(default=None, compare=False)
    n: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.n_seeds > 1 and self.uar_std is not None and self.f1_std is not None:
            return f"{self.uar:.1f}±{self.uar_std:.1f} / {self.f1:.1f}±{self.f1_std:.1f}"
        return f"{self.uar:.1f} / {self.f1:.1f}"

    def text(self, ci: bool = False) -> str:
        """The cell as printed; with `ci`, each value followed by its 95% CI, e.g. `58.4 [55.0, 61.9] / ...`."""
        if not ci or self.uar_ci is None or self.f1_ci is None:
            return str(self)
        return (
            f"{self.uar:.1f} [{self.uar_ci[0]:.1f}, {self.uar_ci[1]:.1f}] / "
            f"{self.f1:.1f} [{self.f1_ci[0]:.1f}, {self.f1_ci[1]:.1f}]"
        )

    def as_dict(self) -> dict:
        """JSON form (percent): values, stds, CIs, seeds, test size."""
        return {
            "uar": self.uar,
            "f1": self.f1,
            "wa": self.wa,
            "uar_std": self.uar_std,
            "f1_std": self.f1_std,
            "uar_ci": list(self.uar_ci) if self.uar_ci else None,
            "f1_ci": list(self.f1_ci) if self.f1_ci else None,
            "wa_ci": list(self.wa_ci) if self.wa_ci else None,
            "n_seeds": self.n_seeds,
            "n": self.n,
        }


@dataclass
class Table:
    """A results table: a title, language columns and rows of (train-set label, cells)."""

    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell | None]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rule_before: list[int] = field(default_factory=list)  # row indices preceded by a rule (paper rows)
    name: str = "table"

    @property
    def caption(self) -> str:
        """Title followed by the notes (seeds, `//`, provenance of paper rows)."""
        return " ".join([self.title, *self.notes])


# ----------------------------------------------------------------------------- loading


def _sort_key_language(code: str) -> tuple[int, str]:
    order = list(labels.LANGUAGES)
    return (order.index(code), code) if code in order else (len(order), code)


def _paper_order(codes: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(codes, key=_sort_key_language))


def _train_label(codes: Sequence[str]) -> str:
    return ", ".join(_paper_order(codes))


class NoRuns(UserError, FileNotFoundError):
    """No usable run under the folder given (a UserError: exit 2; also a FileNotFoundError for older callers)."""


def load_runs(runs_dir: str | Path) -> list[dict]:
    """Every run record under `runs_dir` (via :func:`hf_ser.runs.load_records`), as dicts.

    Staging, report and analysis folders are never read. Unusable records are skipped with a warning naming
    the file. Each returned dict is the record's JSON form plus ``"_path"`` (its metrics.json) and
    ``"_folder"`` (the run folder, where ``predictions.csv`` lives). Raises :class:`NoRuns` when nothing is usable.
    """
    root = Path(runs_dir)
    if not root.is_dir():
        raise NoRuns(
            f"runs folder {display_path(root)} does not exist; run `python -m hf_ser.recipe ...` first "
            "to train the grid"
        )
    problems: list[str] = []

    def skipped(path: Path, err: Exception) -> None:
        """Warn about one unusable record and remember it."""
        logger.warning("skipping %s: %s", display_path(path), err)
        problems.append(display_path(path))

    runs, frozen = [], 0
    for folder, record in load_records(root, on_error=skipped):
        if record.protocol.get("upstream") == "frozen":  # frozen-upstream runs have their own table (hf_ser.upstream)
            frozen += 1
            continue
        data = record.to_dict()
        data["_path"] = str(folder / "metrics.json")
        data["_folder"] = str(folder)
        runs.append(data)
    if frozen:
        logger.info("%d frozen-upstream run(s) left out of Tables 2 and 3 (see their upstream.md)", frozen)
    if not runs and not problems:
        raise NoRuns(
            f"no metrics.json found under {display_path(root)}; run `python -m hf_ser.recipe ...` first "
            "(each run writes <RUNS_DIR>/<run>/metrics.json)"
        )
    if not runs:
        raise NoRuns(
            f"none of the {len(problems)} metrics.json files under {display_path(root)} could be read "
            "(see the warnings above); rerun `python -m hf_ser.recipe ...` to regenerate them"
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


# ----------------------------------------------------------------------------- seeds


@dataclass
class _Experiment:
    """All seeds of one run configuration."""

    family: str
    group: str | None
    train: tuple[str, ...]
    heldout: str | None
    runs: list[dict]
    variant: str | None = None  # balancing-ablation variant and/or backbone (when runs differ in it), else None

    @property
    def label(self) -> str:
        return _train_label(self.train) + (f" [{self.variant}]" if self.variant else "")

    @property
    def seeds(self) -> list[int | None]:
        return [r.get("seed") for r in self.runs]

    def cell(self, lang: str, n_resamples: int = DEFAULT_RESAMPLES) -> Cell | None:
        """Mean (± sample std) over the seeds that evaluated `lang`, in percent, with 95% bootstrap CIs.

        CIs come from the seeds' predictions.csv (utterances resampled within each seed, seeds resampled when
        there are several); a cell whose runs lack predictions, or `n_resamples` 0, has none.
        """
        evaluated = [r for r in self.runs if lang in r["metrics"]]
        if not evaluated:
            return None
        uars = [100.0 * r["metrics"][lang]["uar"] for r in evaluated]
        f1s = [100.0 * r["metrics"][lang]["f1"] for r in evaluated]
        was = [r["metrics"][lang].get("wa") for r in evaluated]
        wa = 100.0 * statistics.fmean(was) if all(isinstance(w, (int, float)) for w in was) else None
        extra = _cell_intervals(evaluated, lang, n_resamples)
        if len(evaluated) == 1:
            return Cell(uars[0], f1s[0], wa=wa, **extra)
        return Cell(
            statistics.fmean(uars),
            statistics.fmean(f1s),
            statistics.stdev(uars),
            statistics.stdev(f1s),
            len(evaluated),
            wa=wa,
            **extra,
        )


def _cell_intervals(runs: list[dict], lang: str, n_resamples: int) -> dict:
    """{'uar_ci', 'f1_ci', 'wa_ci', 'n'} in percent from the runs' predictions (empty when any run lacks them)."""
    if n_resamples <= 0:
        return {}
    pairs = []
    for run in runs:
        df = run_predictions(run, lang)
        if df is None or not len(df):
            return {}
        pairs.append((df["y_true"].to_numpy(), df["y_pred"].to_numpy()))
    out: dict = {"n": len(pairs[0][0])}
    for metric in ("uar", "f1", "wa"):
        ci = bootstrap_ci(pairs, metric, n_resamples=n_resamples, seed=0)
        out[f"{metric}_ci"] = (100.0 * ci["low"], 100.0 * ci["high"])
    return out


def _fold(run: dict) -> int | None:
    """The k-fold / EmoBox fold a run tested on, or None for a single split."""
    data = run.get("data_args") or (run.get("config") or {}).get("data") or {}
    return data.get("fold") if data.get("split") in ("kfold", "emobox") else None


def _replicate(run: dict) -> tuple:
    """What tells two runs of one configuration apart: (seed, fold). Folds of a k-fold grid are merged like seeds."""
    return (run.get("seed"), _fold(run))


def _heldout(run: dict) -> str | None:
    heldout = run.get("heldout_language")
    if heldout:
        return str(heldout).upper()
    if run["family"] != "cross_group":
        return None
    # Older files may lack the field: the held-out language is the one of the group not trained on.
    members = labels.groups().get(run.get("group") or "", [])
    missing = [c for c in members if c not in run["train_languages"]]
    return missing[0] if len(missing) == 1 else None


TABLE_FAMILIES = ("single_language", "multilingual", "cross_group")


def _backbone(run: dict) -> str:
    """The short name of the backbone a run fine-tuned (the last part of its model_name_or_path)."""
    name = str((run.get("config") or {}).get("model", {}).get("model_name_or_path") or "")
    return name.rstrip("/").rsplit("/", 1)[-1] or "?"


def _experiments(runs: list[dict], family: str) -> list[_Experiment]:
    """Group the runs of one family by configuration, merging seeds.

    Runs that differ in backbone are different configurations: when the runs hold more than one backbone, each
    row is labelled with its backbone, so backbones compare side by side.
    """
    by_key: dict[tuple, _Experiment] = {}
    several = len({_backbone(r) for r in runs if r["family"] in TABLE_FAMILIES}) > 1
    for run in runs:
        if run["family"] != family:
            continue
        train = _paper_order(run["train_languages"])
        variant = " ".join(filter(None, [run.get("variant"), _backbone(run) if several else None])) or None
        key = (family, run.get("group"), train, _heldout(run), variant)
        exp = by_key.setdefault(key, _Experiment(family, run.get("group"), train, _heldout(run), [], variant))
        duplicate = next((r for r in exp.runs if _replicate(r) == _replicate(run)), None)
        if duplicate is not None:
            logger.warning(
                "duplicate run for %s seed %s: keeping %s, ignoring %s",
                run["run"],
                run.get("seed"),
                duplicate["_path"],
                run["_path"],
            )
            continue
        exp.runs.append(run)
    return list(by_key.values())


def _seed_note(experiments: list[_Experiment], cells_used: list[Cell]) -> str:
    counts = sorted({c.n_seeds for c in cells_used})
    seeds = sorted({s for e in experiments for s in e.seeds if s is not None})
    named = f" ({', '.join(str(s) for s in seeds)})" if seeds else ""
    if not counts:
        return ""
    folds = sorted({f for e in experiments for r in e.runs if (f := _fold(r)) is not None})
    if folds and counts != [1]:
        return (
            f"Mean ± std over {counts[0] if len(counts) == 1 else f'{counts[0]}–{counts[-1]}'} runs per cell "
            f"(seeds{named} x folds {', '.join(map(str, folds))})."
        )
    if counts == [1]:
        return f"One seed per cell{named}."
    if len(counts) == 1:
        return f"Mean ± std over {counts[0]} seeds{named}."
    return f"Mean ± std over {counts[0]}–{counts[-1]} seeds per cell{named}; plain values come from one seed."


def _split_note(experiments: list[_Experiment]) -> str:
    """Empty for the paper protocol; otherwise which protocol, and the languages that fell back from it."""
    runs = [r for e in experiments for r in e.runs]
    protocols = sorted({str(((r.get("config") or {}).get("data") or {}).get("split", "paper")) for r in runs})
    if protocols in ([], ["paper"]):
        return ""
    if protocols != ["speaker"]:
        return f"Runs mix split protocols ({', '.join(protocols)}): cells may not compare like with like."
    fell_back: dict[str, str] = {}
    for r in runs:
        for lang, note in (r.get("split_notes") or {}).items():
            if note and "fell back" in note:
                fell_back[lang] = note
    text = "Speaker-independent split (no speaker in both train and test)."
    if fell_back:
        text += (
            " Paper-protocol fallback: "
            + "; ".join(f"{lang} ({fell_back[lang]})" for lang in _paper_order(fell_back))
            + "."
        )
    return text


def _selection_note(experiments: list[_Experiment]) -> str:
    """Which model-selection protocol produced the numbers, from the records' ``protocol`` (empty for the paper's)."""
    runs = [r for e in experiments for r in e.runs]
    kinds = sorted({str((r.get("protocol") or {}).get("model_selection") or "last epoch") for r in runs})
    if kinds in ([], ["last epoch"]):
        return ""
    if len(kinds) == 1:
        return f"Model selection: {kinds[0]}."
    return f"Runs mix model-selection protocols ({'; '.join(kinds)}): cells may not compare like with like."


def _finish(table: Table, experiments: list[_Experiment]) -> Table:
    cells = [c for _, row in table.rows for c in row if c is not None]
    notes = (
        _seed_note(experiments, cells),
        _split_note(experiments),
        _selection_note(experiments),
        F1_NOTE,
        f"{NOT_EVALUATED} = not evaluated.",
    )
    table.notes = [n for n in notes if n]
    return table


# ----------------------------------------------------------------------------- tables


def _row(exp: _Experiment, columns: list[str], shown: Sequence[str], n_resamples: int) -> list[Cell | None]:
    """The row's cells: `exp`'s cell for each shown language, None (`//`) elsewhere."""
    wanted = set(shown)
    return [exp.cell(lang, n_resamples) if lang in wanted else None for lang in columns]


def _add_paper_rows(table: Table, paper_rows: list[tuple[str, dict[str, tuple[float, float]]]], source: str) -> None:
    table.rule_before.append(len(table.rows))
    for label, cells in paper_rows:
        row = [Cell(*cells[lang]) if lang in cells else None for lang in table.columns]
        table.rows.append((PAPER_PREFIX + label, row))
    table.notes.append(f"Rows prefixed '{PAPER_PREFIX.strip()}' are the published numbers of {source}.")


def table2(runs: list[dict], paper: bool = False, n_resamples: int = DEFAULT_RESAMPLES) -> Table:
    """Table 2: `Individual` (single-language runs), one row per group, `All`; optional paper rows."""
    columns = list(labels.LANGUAGES)
    table = Table(TABLE2_TITLE, columns, name="table2")
    used: list[_Experiment] = []

    singles = _experiments(runs, "single_language")
    for variant in sorted({exp.variant for exp in singles}, key=lambda v: v or ""):  # one row per backbone/variant
        individual: list[Cell | None] = [None] * len(columns)
        for exp in (e for e in singles if e.variant == variant):
            if len(exp.train) != 1:
                logger.warning(
                    "single_language run %s trains on %s: not one language, left out", exp.runs[0]["run"], exp.label
                )
                continue
            lang = exp.train[0]
            if lang in columns and (cell := exp.cell(lang, n_resamples)) is not None:
                individual[columns.index(lang)] = cell
                used.append(exp)
        if any(c is not None for c in individual):
            table.rows.append(("Individual" + (f" [{variant}]" if variant else ""), individual))

    multi = _experiments(runs, "multilingual")
    placed: set[int] = set()
    for group, members in labels.groups().items():
        # Its group field names it (recipes run on a subset of languages keep the group) or it trains on exactly it.
        matches = [
            i for i, e in enumerate(multi) if e.group == group or (e.group != "all" and set(e.train) == set(members))
        ]
        if not matches:
            continue
        placed.update(matches)
        variants = [multi[i].variant for i in matches]
        if len(matches) > 1 and len(set(variants)) < len(variants):
            logger.warning("several multilingual configurations train on %s; using the first", group)
            matches = matches[:1]
        for i in matches:  # one row per balancing-ablation variant, or the one configuration
            exp = multi[i]
            title = labels.group_title(group) + (f" [{exp.variant}]" if exp.variant else "")
            table.rows.append((title, _row(exp, columns, members, n_resamples)))
            used.append(exp)
    everything = set(columns)
    all_idx = [i for i, e in enumerate(multi) if e.group == "all" or set(e.train) == everything]
    all_idx = [i for i in all_idx if i not in placed]
    if all_idx:
        placed.update(all_idx)
        all_variants = [multi[i].variant for i in all_idx]
        for i in all_idx if len(set(all_variants)) == len(all_variants) else all_idx[:1]:
            exp = multi[i]
            table.rows.append(
                ("All" + (f" [{exp.variant}]" if exp.variant else ""), _row(exp, columns, columns, n_resamples))
            )
            used.append(exp)
    for i, exp in enumerate(multi):  # user-defined language sets: keep them, labelled by their languages
        if i not in placed:
            table.rows.append((exp.label, _row(exp, columns, columns, n_resamples)))
            used.append(exp)

    for name, exp in _external_models(runs):  # existing models scored without training, one row each
        table.rows.append((f"External model, zero-shot: {name}", _row(exp, columns, columns, n_resamples)))
        used.append(exp)

    table = _finish(table, used)
    if paper:
        _add_paper_rows(table, list(paper_results.TABLE2.items()), paper_results.TABLE2_SOURCE)
    return table


def _external_models(runs: list[dict]) -> list[tuple[str, _Experiment]]:
    """(model name, its evaluations) of every `external` record (hf_ser.evaluate), one per model in name order."""
    by_name: dict[str, _Experiment] = {}
    for run in runs:
        if run["family"] == "external":
            name = str(run.get("name") or run["run"])
            by_name.setdefault(name, _Experiment("external", None, (), None, [])).runs.append(run)
    return sorted(by_name.items())


def _own_group(exp: _Experiment) -> str | None:
    if exp.heldout and exp.heldout in labels.LANGUAGES:
        return labels.LANGUAGES[exp.heldout].group
    return exp.group


def table3(runs: list[dict], paper: bool = False, n_resamples: int = DEFAULT_RESAMPLES) -> Table:
    """Table 3: one row per cross_group configuration (held-out language + the other groups)."""
    columns = list(labels.LANGUAGES)
    table = Table(TABLE3_TITLE, columns, name="table3")
    group_order = list(labels.groups())
    experiments = _experiments(runs, "cross_group")

    def order(exp: _Experiment) -> tuple:
        group = _own_group(exp)
        g = group_order.index(group) if group in group_order else len(group_order)
        return (g, _sort_key_language(exp.heldout) if exp.heldout else (len(columns) + 1, ""), exp.label)

    experiments.sort(key=order)
    for exp in experiments:
        own = _own_group(exp)
        shown = [c for c in columns if c == exp.heldout or (c in labels.LANGUAGES and labels.LANGUAGES[c].group != own)]
        table.rows.append((exp.label, _row(exp, columns, shown, n_resamples)))
    table = _finish(table, experiments)
    if paper:
        rows = [(_train_label(train), cells) for train, cells in paper_results.TABLE3.items()]
        _add_paper_rows(table, rows, paper_results.TABLE3_SOURCE)
    return table


# ----------------------------------------------------------------------------- rendering


def _cell_text(cell: Cell | None, ci: bool = False) -> str:
    return NOT_EVALUATED if cell is None else cell.text(ci)


def _has_ci(table: Table) -> bool:
    return any(c is not None and c.uar_ci is not None for _, row in table.rows for c in row)


def _notes(table: Table, ci: bool) -> list[str]:
    return [*table.notes, CI_NOTE] if ci and _has_ci(table) else list(table.notes)


def to_markdown(table: Table, ci: bool = False) -> str:
    """GitHub Markdown: bold title + notes, then the table; a marker row separates paper rows.

    With `ci`, cells that have a bootstrap CI show it after each value.
    """
    lines = [f"**{table.title}** {' '.join(_notes(table, ci))}".rstrip(), ""]
    lines.append("| " + " | ".join([ROW_HEADER, *table.columns]) + " |")
    lines.append("|" + "|".join(["---"] * (len(table.columns) + 1)) + "|")
    for i, (label, cells) in enumerate(table.rows):
        if i in table.rule_before:
            lines.append("| " + " | ".join(["**— paper —**", *[""] * len(table.columns)]) + " |")
        lines.append("| " + " | ".join([label, *(_cell_text(c, ci) for c in cells)]) + " |")
    return "\n".join(lines) + "\n"


def to_csv(table: Table, ci: bool = False) -> str:
    """CSV with a `Train Set` column and one `UAR / F1` column per language (text cells spreadsheet-safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([ROW_HEADER, *table.columns])
    for label, cells in table.rows:
        writer.writerow([spreadsheet_safe(label), *(_cell_text(c, ci) for c in cells)])
    return buffer.getvalue()


CELL_COLUMNS = (
    "train_set",
    "language",
    "uar",
    "uar_low",
    "uar_high",
    "f1",
    "f1_low",
    "f1_high",
    "wa",
    "wa_low",
    "wa_high",
    "uar_std",
    "f1_std",
    "n_seeds",
    "n",
)


def to_cells_csv(table: Table) -> str:
    """Long CSV: one line per evaluated cell with UAR, F1, WA (percent), their 95% CIs, stds, seeds and test size."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CELL_COLUMNS)
    for label, cells in table.rows:
        for lang, c in zip(table.columns, cells):
            if c is None:
                continue
            ci = {m: getattr(c, f"{m}_ci") or (None, None) for m in ("uar", "f1", "wa")}
            writer.writerow(
                [
                    spreadsheet_safe(label),
                    lang,
                    *_fmt(c.uar, *ci["uar"], c.f1, *ci["f1"], c.wa, *ci["wa"], c.uar_std, c.f1_std),
                    c.n_seeds,
                    c.n or "",
                ]
            )
    return buffer.getvalue()


def _fmt(*values: float | None) -> list[str]:
    return ["" if v is None else f"{v:.2f}" for v in values]


def to_json(table: Table) -> dict:
    """The table as JSON: title, notes, columns and rows of cells (percent, with CIs)."""
    return {
        "name": table.name,
        "title": table.title,
        "notes": table.notes,
        "columns": table.columns,
        "rows": [
            {
                "train_set": label,
                "paper": i >= min(table.rule_before, default=len(table.rows)),
                "cells": {lang: c.as_dict() for lang, c in zip(table.columns, cells) if c is not None},
            }
            for i, (label, cells) in enumerate(table.rows)
        ],
    }


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _latex(text: str) -> str:
    out = "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)
    return out.replace("±", r"$\pm$").replace("—", "---").replace("–", "--")


def to_latex(table: Table, ci: bool = False) -> str:
    """A booktabs ``table*`` (needs ``\\usepackage{booktabs,graphicx}``); `\\midrule` before paper rows; CIs if `ci`."""
    lines = [
        "% requires \\usepackage{booktabs,graphicx}",
        "\\begin{table*}[t]",
        "\\centering",
        f"\\caption{{{_latex(' '.join([table.title, *_notes(table, ci)]))}}}",
        f"\\label{{tab:{table.name}}}",
        "\\resizebox{\\textwidth}{!}{%",
        f"\\begin{{tabular}}{{l{'c' * len(table.columns)}}}",
        "\\toprule",
        " & ".join(_latex(h) for h in [ROW_HEADER, *table.columns]) + " \\\\",
        "\\midrule",
    ]
    for i, (label, cells) in enumerate(table.rows):
        if i in table.rule_before and i > 0:
            lines.append("\\midrule")
        lines.append(" & ".join(_latex(t) for t in [label, *(_cell_text(c, ci) for c in cells)]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}}", "\\end{table*}"]
    return "\n".join(lines) + "\n"


def plot_table(table: Table, path: str | Path) -> Path:
    """Heat map of the table: colour = UAR (0-100 %), text = the cell; `//` cells are grey."""
    if not table.rows:
        raise ValueError(f"{table.name} has no rows to plot")
    values = np.array([[np.nan if c is None else c.uar for c in cells] for _, cells in table.rows], dtype=float)
    n_rows, n_cols = values.shape
    with_std = any(c is not None and c.n_seeds > 1 for _, cells in table.rows for c in cells)
    cell_w = 1.55 if with_std else 1.0
    label_w = 0.09 * max(len(label) for label, _ in table.rows) + 0.4
    fig = Figure(figsize=(label_w + cell_w * n_cols + 1.2, 1.2 + 0.42 * n_rows), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0.0, vmax=100.0, aspect="auto")
    for r, (_, cells) in enumerate(table.rows):
        for c, cell in enumerate(cells):
            if cell is None:
                continue
            red, green, blue, _ = cmap(cell.uar / 100.0)
            colour = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
            ax.text(c, r, str(cell), ha="center", va="center", fontsize=7, color=colour)
    for index in table.rule_before:
        if 0 < index < n_rows:
            ax.axhline(index - 0.5, color="black", linewidth=2.0)
    ax.set_xticks(range(n_cols), table.columns)
    ax.set_yticks(range(n_rows), [label for label, _ in table.rows])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_title(table.title, fontsize=9)
    fig.colorbar(image, ax=ax, label="UAR (%)", fraction=0.03, pad=0.01)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    return path


# ----------------------------------------------------------------------------- Section 4.3 claim


def paper_runs() -> list[dict]:
    """The paper's Table 3 as cross_group run dicts, so the claim check can run on it too."""
    runs = []
    for train, cells in paper_results.TABLE3.items():
        heldout = paper_results.TABLE3_HELDOUT[train]
        runs.append(
            {
                "run": f"paper-{heldout}",
                "family": "cross_group",
                "train_languages": list(train),
                "group": labels.LANGUAGES[heldout].group if heldout in labels.LANGUAGES else None,
                "heldout_language": heldout,
                "seed": None,
                "_path": paper_results.TABLE3_SOURCE,
                "metrics": {lang: {"uar": u / 100.0, "f1": f / 100.0} for lang, (u, f) in cells.items()},
            }
        )
    return runs


def check_lineage_claim(
    runs: list[dict], n_resamples: int = DEFAULT_RESAMPLES, alpha: float = ALPHA, comparisons: list | None = None
) -> list[dict]:
    """Section 4.3: for each held-out language, is its best unseen UAR the one trained on its own group?

    Candidates are the cross_group configurations that evaluated the language without
    training on it; the margin is own-group UAR minus the best other-group UAR (points).
    Comparing one own-group run with the best of N others is biased against the own group,
    so ``mean_margin`` (own-group UAR minus the mean of the other-group runs) is given too, and it is the
    one tested: a paired bootstrap over the held-out language's test utterances (rows of every compared
    run's predictions.csv aligned by path and resampled jointly) gives its 95% CI (``mean_margin_ci``) and
    p-value; Holm's correction over all languages tested gives ``p_holm`` and ``significant``. Runs without
    predictions.csv (or `n_resamples` 0) leave those fields None. When `comparisons` is a list, each tested
    language's aligned ``(language, group, y_true, own predictions, other predictions)`` is appended to it.
    """
    experiments = _experiments(runs, "cross_group")
    results = []
    for group, members in labels.groups().items():
        for lang in members:
            candidates = []
            tested: dict[str, list[_Experiment]] = {"own": [], "other": []}
            for exp in experiments:
                if lang in exp.train or (cell := exp.cell(lang, 0)) is None:
                    continue
                inside = [c for c in exp.train if c in members]
                kind = "own" if len(inside) == len(exp.train) else ("other" if not inside else "mixed")
                candidates.append(
                    {"train": exp.label, "kind": kind, "uar": cell.uar, "f1": cell.f1, "n_seeds": cell.n_seeds}
                )
                tested["own" if kind == "own" else "other"].append(exp)
            own = [c for c in candidates if c["kind"] == "own"]
            if not own:
                continue  # never held out of its own group
            others = [c for c in candidates if c["kind"] != "own"]
            best_own = max(own, key=lambda c: c["uar"])
            best_other = max(others, key=lambda c: c["uar"]) if others else None
            other_uars = np.array([c["uar"] for c in others], dtype=float)
            mean_other = float(other_uars.mean()) if others else None
            std_other = float(other_uars.std(ddof=1)) if len(others) > 1 else (0.0 if others else None)
            if best_other is None:
                margin, verdict, best = None, "n/a", best_own
            else:
                margin = best_own["uar"] - best_other["uar"]
                verdict = "tie" if abs(margin) < TIE_POINTS else ("yes" if margin > 0 else "no")
                best = best_own if margin > -TIE_POINTS else best_other
            results.append(
                {
                    "language": lang,
                    "group": group,
                    "group_title": labels.group_title(group),
                    "best_uar": best["uar"],
                    "best_f1": best["f1"],
                    "best_train": best["train"],
                    "best_kind": best["kind"],
                    "best_is_own_group": best["kind"] == "own",
                    "own_group_uar": best_own["uar"],
                    "own_group_train": best_own["train"],
                    "best_other_uar": None if best_other is None else best_other["uar"],
                    "best_other_train": None if best_other is None else best_other["train"],
                    "margin": margin,
                    "verdict": verdict,
                    "mean_other_uar": mean_other,
                    "std_other_uar": std_other,
                    "n_other": len(others),
                    "mean_margin": None if mean_other is None else best_own["uar"] - mean_other,
                    **_margin_test(
                        lang,
                        group,
                        [e for e in tested["own"] if e.label == best_own["train"]],
                        tested["other"],
                        n_resamples,
                        alpha,
                        comparisons,
                    ),
                    "candidates": candidates,
                }
            )
    _correct(results, alpha)
    return results


def _aligned(lang: str, runs: list[dict]) -> tuple[Any, list[Any]] | None:
    """(y_true, [y_pred per run]) over the held-out language's utterances every run predicted, aligned by path."""
    frames = []
    for run in runs:
        df = run_predictions(run, lang)
        if df is None or not len(df):
            return None
        frames.append(df.drop_duplicates("path").set_index("path"))
    common = frames[0].index
    for df in frames[1:]:
        common = common.intersection(df.index)
    if not len(common):
        return None
    if any(len(df) != len(common) for df in frames):
        logger.warning("%s: runs predicted different test utterances; comparing the %d they share", lang, len(common))
    common = common.sort_values()
    y_true = frames[0].loc[common, "y_true"].to_numpy()
    if any((df.loc[common, "y_true"].to_numpy() != y_true).any() for df in frames[1:]):
        logger.warning("%s: runs disagree on test labels; margin not tested", lang)
        return None
    return y_true, [df.loc[common, "y_pred"].to_numpy() for df in frames]


def _margin_test(
    lang: str,
    group: str,
    own: list[_Experiment],
    other: list[_Experiment],
    n_resamples: int,
    alpha: float,
    comparisons: list | None = None,
) -> dict:
    """Paired bootstrap of the own-group margin over the other-group mean (percent points), or None fields."""
    empty = {"mean_margin_ci": None, "p_value": None, "p_holm": None, "significant": None, "n_test": None}
    if n_resamples <= 0 or not own or not other:
        return empty
    own_runs = [r for e in own for r in e.runs if lang in r["metrics"]]
    other_runs = [r for e in other for r in e.runs if lang in r["metrics"]]
    aligned = _aligned(lang, own_runs + other_runs)
    if aligned is None:
        return empty
    y_true, preds = aligned
    if comparisons is not None:
        comparisons.append((lang, group, y_true, preds[: len(own_runs)], preds[len(own_runs) :]))
    test = paired_margin_test(
        y_true, preds[: len(own_runs)], preds[len(own_runs) :], "uar", n_resamples, alpha, seed=sum(map(ord, lang))
    )
    return {
        **empty,
        "mean_margin_ci": [100.0 * test["low"], 100.0 * test["high"]],
        "p_value": test["p"],
        "n_test": test["n"],
        "tested_margin": 100.0 * test["margin"],
    }


def pooled_lineage_test(runs: list[dict], n_resamples: int = DEFAULT_RESAMPLES, alpha: float = ALPHA) -> dict:
    """The mean own-group margin over all tested held-out languages (and per group), one pooled paired bootstrap each.

    Returns {'all': test, '<group>': test, ...} in percent points (see :func:`hf_ser.stats.pooled_margin_test`);
    empty when no language could be tested (no predictions.csv).
    """
    comparisons: list = []
    check_lineage_claim(runs, n_resamples, alpha, comparisons)
    return pooled_from_comparisons(comparisons, n_resamples, alpha)


def pooled_text(pooled: dict) -> str:
    """In words: the mean own-group margin over held-out languages with its CI and p-value, overall and per group."""
    parts = []
    for name, t in pooled.items():
        title = "all held-out languages" if name == "all" else labels.group_title(name)
        parts.append(
            f"{title}: mean own-group margin {t['margin']:+.1f} points [95% CI {t['ci'][0]:+.1f}, "
            f"{t['ci'][1]:+.1f}], p = {_p(t['p'])} ({'significant' if t['significant'] else 'not significant'}"
            f", {t['n_languages']} languages)"
        )
    return "Pooled test (one paired bootstrap of the mean margin): " + "; ".join(parts) + "."


def pooled_from_comparisons(comparisons: list, n_resamples: int = DEFAULT_RESAMPLES, alpha: float = ALPHA) -> dict:
    """:func:`pooled_lineage_test` on comparisons already collected by :func:`check_lineage_claim`."""
    if not comparisons or n_resamples <= 0:
        return {}
    out = {}
    for name in ("all", *dict.fromkeys(c[1] for c in comparisons)):
        chosen = [c[2:] for c in comparisons if name == "all" or c[1] == name]
        t = pooled_margin_test(chosen, "uar", n_resamples, alpha, seed=len(chosen))
        out[name] = {
            "margin": 100 * t["margin"],
            "ci": [100 * t["low"], 100 * t["high"]],
            "p": t["p"],
            "significant": t["p"] < alpha,
            "n_languages": t["n_languages"],
        }
    return out


def _correct(results: list[dict], alpha: float) -> None:
    """Holm-correct the p-values of all tested languages in place (``p_holm``, ``significant``)."""
    tested = [r for r in results if r.get("p_value") is not None]
    adjusted, significant = holm([r["p_value"] for r in tested], alpha)
    for r, p, sig in zip(tested, adjusted, significant):
        r["p_holm"], r["significant"] = p, bool(sig)


_KIND_TEXT = {"own": "own group", "other": "other group", "mixed": "mixed groups"}


def claim_line(result: dict) -> str:
    """One printable line, e.g. `FRE: best unseen UAR 58.4 from ITA, POR, ROM, SPA (own group) -> yes ...`."""
    line = (
        f"{result['language']}: best unseen UAR {result['best_uar']:.1f} from {result['best_train']} "
        f"({_KIND_TEXT[result['best_kind']]}) -> {result['verdict']}"
    )
    if result["margin"] is None:
        return line + " (no other-group run evaluated it)"
    return (
        line + f" (margin {result['margin']:+.1f} points: own group {result['own_group_uar']:.1f} vs "
        f"best other {result['best_other_uar']:.1f} from {result['best_other_train']}; "
        f"{_mean_text(result)}, margin over mean {result['mean_margin']:+.1f}{_test_text(result)})"
    )


def _test_text(result: dict) -> str:
    """`` [95% CI a, b], p = x, Holm p = y: significant`` or '' when the margin was not tested."""
    if result.get("p_value") is None:
        return ""
    low, high = result["mean_margin_ci"]
    verdict = "significant" if result["significant"] else "not significant"
    return f" [95% CI {low:+.1f}, {high:+.1f}], p = {_p(result['p_value'])}, Holm p = {_p(result['p_holm'])}: {verdict}"


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else "< 0.001"


def _margins(results: list[dict]) -> str:
    """'FRE +6.1, ITA +2.0' (margins over the other group's mean, points)."""
    return ", ".join(f"{r['language']} {r['mean_margin']:+.1f}" for r in results)


def significance_summary(results: list[dict], alpha: float = ALPHA) -> str:
    """In words: which own-group margins over the other group's mean are significant after Holm's correction."""
    tested = [r for r in results if r.get("p_value") is not None]
    if not any(r.get("mean_margin") is not None for r in results):
        return "Significance: nothing to test (no held-out language was evaluated by both groups' runs)."
    if not tested:
        return (
            "Significance: not tested (the compared runs lack predictions.csv, so no bootstrap over test "
            "utterances was possible)."
        )
    sig = [r for r in tested if r["significant"]]
    pos = [r for r in sig if r["mean_margin"] > 0]
    neg = [r for r in sig if r["mean_margin"] <= 0]
    text = (
        f"Significance (paired bootstrap over test utterances, Holm-corrected over {len(tested)} held-out "
        f"languages, alpha {alpha}): "
    )
    parts = []
    if pos:
        parts.append(
            f"{len(pos)} own-group margin{'s are' if len(pos) != 1 else ' is'} significantly above the "
            f"other group's mean ({_margins(pos)})"
        )
    if neg:
        parts.append(f"{len(neg)} significantly below it ({_margins(neg)})")
    rest = [r for r in tested if not r["significant"]]
    if rest:
        parts.append(f"{len(rest)} not distinguishable from noise ({_margins(rest)})")
    return text + "; ".join(parts) + "."


def _mean_text(result: dict) -> str:
    if result["n_other"] == 1:
        return f"other-group mean {result['mean_other_uar']:.1f} of 1 run"
    return f"other-group mean {result['mean_other_uar']:.1f}±{result['std_other_uar']:.1f} of {result['n_other']} runs"


def claim_summary(results: list[dict]) -> str:
    """`k of n held-out languages transfer best within their own group`, with a per-group breakdown."""
    judged = [r for r in results if r["verdict"] != "n/a"]
    if not judged:
        return "Lineage claim (Sec. 4.3): no held-out language was evaluated by both its own group and another group."
    k = sum(r["verdict"] == "yes" for r in judged)
    parts = []
    for group in dict.fromkeys(r["group"] for r in judged):
        rows = [r for r in judged if r["group"] == group]
        parts.append(f"{labels.group_title(group)} {sum(r['verdict'] == 'yes' for r in rows)}/{len(rows)}")
    ties = sum(r["verdict"] == "tie" for r in judged)
    tie_text = f"; {ties} tie{'s' if ties != 1 else ''} within {TIE_POINTS} points" if ties else ""
    means = []
    for group in dict.fromkeys(r["group"] for r in judged):
        m = [r["mean_margin"] for r in judged if r["group"] == group]
        above = sum(x >= TIE_POINTS for x in m)
        means.append(f"{labels.group_title(group)} {above}/{len(m)}, mean {float(np.mean(m)):+.1f} points")
    return (
        f"Lineage claim (Sec. 4.3): {k} of {len(judged)} held-out languages transfer best within their own group "
        f"({', '.join(parts)}{tie_text}). Own group above the other group's mean: {'; '.join(means)}."
    )


def claims_markdown(results: list[dict], title: str) -> str:
    """The claim check as a Markdown section: a table plus the summary line."""
    tested = any(r.get("p_value") is not None for r in results)
    lines = [f"## {title}", "", claim_summary(results), ""]
    if tested:
        lines += [significance_summary(results), ""]
    lines += [
        "| Held-out | Group | Own-group UAR (train set) | Best other-group UAR (train set) "
        "| Margin (points) | Own group best? | Other-group mean ± std (runs) | Margin over mean |"
        + (" 95% CI | p | Holm p | Significant |" if tested else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|---|---|---|" if tested else ""),
    ]
    for r in results:
        other = "//" if r["best_other_uar"] is None else f"{r['best_other_uar']:.1f} ({r['best_other_train']})"
        margin = "//" if r["margin"] is None else f"{r['margin']:+.1f}"
        mean = (
            "//"
            if r["mean_other_uar"] is None
            else (f"{r['mean_other_uar']:.1f} ± {r['std_other_uar']:.1f} ({r['n_other']})")
        )
        mean_margin = "//" if r["mean_margin"] is None else f"{r['mean_margin']:+.1f}"
        row = (
            f"| {r['language']} | {r['group_title']} | {r['own_group_uar']:.1f} ({r['own_group_train']}) | "
            f"{other} | {margin} | {r['verdict']} | {mean} | {mean_margin} |"
        )
        if tested:
            if r.get("p_value") is None:
                row += " // | // | // | // |"
            else:
                low, high = r["mean_margin_ci"]
                row += (
                    f" [{low:+.1f}, {high:+.1f}] | {_p(r['p_value'])} | {_p(r['p_holm'])} | "
                    f"{'yes' if r['significant'] else 'no'} |"
                )
        lines.append(row)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- report


def write_report(
    runs_dir: str | Path,
    paper: bool = False,
    out_dir: str | Path | None = None,
    ci: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> Path:
    """Write tables and the claim check into ``RUNS_DIR/report`` (or `out_dir`); print them; return the folder.

    Per table: ``.md``/``.csv``/``.tex`` (CIs in the cells with `ci`), ``.png``, and ``.json`` plus ``_cells.csv``
    (always with 95% CIs when predictions exist). Claims: ``claims.md`` and ``claims.json``.
    """
    runs = load_runs(runs_dir)
    out = Path(out_dir) if out_dir is not None else Path(runs_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    few_shot = sum(r["family"] == "few_shot" for r in runs)
    if few_shot:
        logger.info("%d few_shot run(s) are not part of Tables 2 and 3", few_shot)

    for table in (
        table2(runs, paper=paper, n_resamples=n_resamples),
        table3(runs, paper=paper, n_resamples=n_resamples),
    ):
        if not table.rows:
            print(f"{table.name}: no matching runs, skipped\n")
            continue
        markdown = to_markdown(table, ci)
        atomic_write_text(out / f"{table.name}.md", markdown)
        atomic_write_text(out / f"{table.name}.csv", to_csv(table, ci))
        atomic_write_text(out / f"{table.name}_cells.csv", to_cells_csv(table))
        atomic_write_json(out / f"{table.name}.json", to_json(table))
        atomic_write_text(out / f"{table.name}.tex", to_latex(table, ci))
        plot_table(table, out / f"{table.name}.png")
        print(markdown)

    comparisons: list = []
    claims = check_lineage_claim(runs, n_resamples, comparisons=comparisons)
    pooled = pooled_from_comparisons(comparisons, n_resamples)
    payload: dict[str, Any] = {
        "source": display_path(runs_dir),
        "summary": claim_summary(claims),
        "significance": significance_summary(claims),
        "pooled": pooled,
        "languages": claims,
    }
    markdown = claims_markdown(claims, "Section 4.3 lineage claim: these runs")
    if pooled:
        markdown += "\n" + pooled_text(pooled) + "\n"
    print("Section 4.3 lineage claim (these runs):")
    for line in [
        *(claim_line(r) for r in claims),
        payload["summary"],
        payload["significance"],
        *([pooled_text(pooled)] if pooled else []),
    ]:
        print(line)
    if paper:
        published = check_lineage_claim(paper_runs(), 0)
        payload["paper"] = {
            "source": paper_results.TABLE3_SOURCE,
            "summary": claim_summary(published),
            "languages": published,
        }
        markdown += "\n" + claims_markdown(published, "Section 4.3 lineage claim: the paper's Table 3")
        print("\nSection 4.3 lineage claim (the paper's Table 3):")
        for line in [*(claim_line(r) for r in published), payload["paper"]["summary"]]:
            print(line)
    atomic_write_json(out / "claims.json", payload)
    atomic_write_text(out / "claims.md", markdown)
    print(f"\nReport written to {display_path(out)}")
    return out


@command
def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m hf_ser.report RUNS_DIR [--paper] [--ci] [--n_resamples N] [--output_dir DIR]``; exit code."""
    parser = ArgumentParser(
        prog="hf-ser report",
        description="Build the paper's Tables 2 and 3 (md, csv, json, tex, png) with 95%% bootstrap CIs and the "
        "Sec. 4.3 claim check (paired bootstrap, Holm-corrected) from a folder of runs.",
    )
    parser.add_argument("runs_dir", type=Path, help="folder holding <run>/metrics.json files")
    parser.add_argument("--paper", action="store_true", help="append the paper's published rows for comparison")
    parser.add_argument("--ci", action="store_true", help="show the 95%% CIs in the Markdown and LaTeX tables too")
    parser.add_argument(
        "--n_resamples",
        type=int,
        default=DEFAULT_RESAMPLES,
        help="bootstrap resamples for CIs and p-values (0 = none; default %(default)s)",
    )
    parser.add_argument("--output_dir", type=Path, default=None, help="output folder (default: RUNS_DIR/report)")
    args = parser.parse_args(argv)
    setup_logging()
    if args.n_resamples < 0:
        raise UserError(f"--n_resamples must be >= 0, got {args.n_resamples}")
    write_report(args.runs_dir, paper=args.paper, out_dir=args.output_dir, ci=args.ci, n_resamples=args.n_resamples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
