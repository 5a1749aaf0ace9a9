"""Tables 2 and 3 of the paper (and the Section 4.3 lineage claim) from a folder of runs.

Every training run writes ``<RUNS_DIR>/<run>/metrics.json``. This module gathers them,
merges runs that differ only by seed (mean ± std), and writes Markdown, CSV, LaTeX and
a heat map for each table into ``RUNS_DIR/report/``::

    hf-ser report runs/paper --paper [--ci] [--output_dir DIR]

Runs are read with :func:`hf_ser.train.runs.load_records` (staging, report and analysis folders are never
read). Every cell carries a 95% bootstrap confidence interval (over test utterances from each run's
``predictions.csv``, and over seeds when there are several) in ``<table>.json`` and ``<table>_cells.csv``,
and, with ``--ci``, in the Markdown and LaTeX tables too. The Section 4.3 check ranks each held-out language's
own-group configuration among the configurations that evaluated it and tests the summed ranks exactly
(:func:`hf_ser.study.stats.lineage_rank_test`, the only source of "significant"); margins get hierarchical-bootstrap
CIs; the utterance-only paired test is printed as conditional on the trained networks. ``claims.md`` and
``claims.json`` name the null of every p-value and the runs' provenance (corpus, backbone, epochs, seeds, split,
shift); every file is written before anything is printed.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import logging
import statistics
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hf_ser import labels
from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import UserError
from hf_ser.metrics import F1_DEFINITION
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path, spreadsheet_safe
from hf_ser.study import paper_results
from hf_ser.study.stats import (
    ALPHA,
    BEST_COUNT_NULL,
    CONDITIONAL_NULL,
    DEFAULT_RESAMPLES,
    RANK_NULL,
    bootstrap_ci,
    hierarchical_margin_ci,
    holm,
    lineage_rank_test,
    own_rank,
    paired_margin_test,
)
from hf_ser.train.runs import RunRecordError, load_records, read_predictions

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
    provenance: str = ""  # what produced the rows (corpus, backbone, epochs, seeds, split, shift); see provenance()

    @property
    def caption(self) -> str:
        """Title followed by the notes (seeds, `//`, provenance of paper rows) and the runs' provenance."""
        return " ".join(filter(None, [self.title, *self.notes, self.provenance]))


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
    """Every run record under `runs_dir` (via :func:`hf_ser.train.runs.load_records`), as dicts.

    Staging, report and analysis folders are never read. Unusable records are skipped with a warning naming
    the file. Each returned dict is the record's JSON form plus ``"_path"`` (its metrics.json) and
    ``"_folder"`` (the run folder, where ``predictions.csv`` lives). Raises :class:`NoRuns` when nothing is usable.
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
    frames = []
    for run in runs:
        df = run_predictions(run, lang)
        if df is None or not len(df):
            return {}
        frames.append(df.drop_duplicates("path").sort_values("path"))
    # Seeds that predicted the same test set share one utterance resample; k-fold folds (different sets) do not.
    shared = all(list(f["path"]) == list(frames[0]["path"]) for f in frames[1:])
    pairs = [(f["y_true"].to_numpy(), f["y_pred"].to_numpy()) for f in frames]
    out: dict = {"n": len(pairs[0][0])}
    for metric in ("uar", "f1", "wa"):
        ci = bootstrap_ci(pairs, metric, n_resamples=n_resamples, seed=0, shared_utterances=shared)
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
        table.rows.append((f"{_external_row_kind(exp)}: {name}", _row(exp, columns, columns, n_resamples)))
        used.append(exp)

    table = _finish(table, used)
    if paper:
        _add_paper_rows(table, list(paper_results.TABLE2.items()), paper_results.TABLE2_SOURCE)
    return table


def _external_models(runs: list[dict]) -> list[tuple[str, _Experiment]]:
    """(model name, its evaluations) of every `external` record (hf_ser.infer.evaluate), one per model in name order."""
    by_name: dict[str, _Experiment] = {}
    for run in runs:
        if run["family"] == "external":
            name = str(run.get("name") or run["run"])
            by_name.setdefault(name, _Experiment("external", None, (), None, [])).runs.append(run)
    return sorted(by_name.items())


def _external_row_kind(exp: _Experiment) -> str:
    """How an evaluated model's row is labelled, from its records' ``protocol.zero_shot`` (hf_ser.infer.evaluate):
    'zero-shot' only for a model known not to be trained on any tested language."""
    flags = {(run.get("protocol") or {}).get("zero_shot") for run in exp.runs}
    if flags == {True}:
        return "External model, zero-shot"
    if False in flags:
        return "Existing model, trained on a tested language, scored as is"
    return "Existing model (training languages unknown), scored as is"


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
    """The notes printed with the table: its notes, the CI note when CIs are shown, the runs' provenance."""
    notes = [*table.notes, CI_NOTE] if ci and _has_ci(table) else list(table.notes)
    return [*notes, table.provenance] if table.provenance else notes


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
    if table.provenance:  # the file carries what produced it
        writer.writerow([spreadsheet_safe(f"Notes: {' '.join(_notes(table, ci))}")])
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
    "provenance",
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
                    "" if label.startswith(PAPER_PREFIX) else spreadsheet_safe(table.provenance),
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
        "provenance_text": table.provenance,
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


def _heat_panel(
    fig: Figure, ax: Any, rows: list[tuple[str, list[Cell | None]]], columns: list[str], title: str, cmap_name: str
) -> None:
    """One heat map of `rows` on its own colour scale (the panel's UAR range, colour map `cmap_name`) and bar."""
    values = np.array([[np.nan if c is None else c.uar for c in cells] for _, cells in rows], dtype=float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
    if high - low < 1.0:
        low, high = low - 0.5, high + 0.5
    cmap = colormaps[cmap_name].with_extremes(bad="#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low, vmax=high, aspect="auto")
    for r, (_, cells) in enumerate(rows):
        for c, cell in enumerate(cells):
            if cell is None:
                continue
            red, green, blue, _ = cmap((cell.uar - low) / (high - low))
            colour = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
            ax.text(c, r, str(cell), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=8, loc="left")
    fig.colorbar(image, ax=ax, label="UAR (%)", fraction=0.03, pad=0.01)


def table_figure(table: Table) -> Figure:
    """The heat map of the table: colour = UAR, text = the cell; `//` cells are grey.

    The paper's published rows (``--paper``) are a separate panel with their own colour scale and colour bar:
    real-corpus numbers and demo numbers on one scale would read as comparable. The runs' provenance is printed
    under the figure.
    """
    if not table.rows:
        raise ValueError(f"{table.name} has no rows to plot")
    cut = min((i for i in table.rule_before if 0 < i < len(table.rows)), default=len(table.rows))
    if min(table.rule_before, default=1) == 0:
        cut = 0  # only paper rows
    halves = (
        (table.rows[:cut], "these runs", "viridis"),
        (table.rows[cut:], "the paper's published numbers", "cividis"),  # another map: visibly another scale
    )
    panels = [half for half in halves if half[0]]
    with_std = any(c is not None and c.n_seeds > 1 for _, cells in table.rows for c in cells)
    cell_w = 1.55 if with_std else 1.0
    label_w = 0.09 * max(len(label) for label, _ in table.rows) + 0.4
    heights = [len(rows) for rows, _, _ in panels]
    fig = Figure(
        figsize=(label_w + cell_w * len(table.columns) + 1.2, 1.6 + 0.42 * sum(heights) + 0.6 * len(panels)),
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, (rows, name, cmap_name) in zip(axes, panels):
        scale = "own colour scale" if len(panels) > 1 else "colour = UAR"
        _heat_panel(fig, ax, rows, table.columns, f"{name} ({scale})", cmap_name)
    fig.suptitle(table.title, fontsize=9)
    if table.provenance:
        fig.supxlabel(table.provenance, fontsize=7)
    return fig


def plot_table(table: Table, path: str | Path) -> Path:
    """Write :func:`table_figure` to `path` (PNG, 150 dpi); returns the path."""
    fig = table_figure(table)
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


def check_lineage_claim(runs: list[dict], n_resamples: int = DEFAULT_RESAMPLES, alpha: float = ALPHA) -> list[dict]:
    """Section 4.3, per held-out language: is its best unseen UAR the one trained on its own group, and by how much?

    Candidates are the cross_group configurations that evaluated the language without training on it, each
    scored by its mean over seeds. ``margin`` is own-group UAR minus the best other-group UAR (the paper's
    reading; one against the best of N is biased against the own group), ``mean_margin`` own-group UAR minus
    the mean of the other-group configurations (:func:`hf_ser.study.stats.config_margin`: every configuration weighs
    the same whatever its seed count; the CI and the conditional test use the same definition).

    Per language: ``rank`` of the own configuration among the ``n_configs`` (1 = best) and ``p_rank`` =
    rank / n_configs, exact under :data:`hf_ser.study.stats.RANK_NULL` (never below 1/6 with six configurations, so
    no single language can be significant; ``significant`` is its Holm-corrected decision). With predictions.csv
    (and `n_resamples` > 0): ``mean_margin_ci`` from the hierarchical bootstrap (configurations, seeds and
    utterances), and ``p_conditional`` / ``p_conditional_holm``, the utterance-only paired test, which holds the
    trained networks fixed (:data:`hf_ser.study.stats.CONDITIONAL_NULL`) and never decides ``significant``.
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
            rank = own_rank(best_own["uar"], other_uars) if others else None
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
                    "rank": rank,
                    "n_configs": len(others) + 1 if others else None,
                    "p_rank": None if rank is None else rank / (len(others) + 1),
                    "significant": None,
                    **_margin_tests(
                        lang,
                        [e for e in tested["own"] if e.label == best_own["train"]][:1],
                        tested["other"],
                        n_resamples,
                        alpha,
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


_NO_TEST = {
    "tested_margin": None,
    "mean_margin_ci": None,
    "p_conditional": None,
    "p_conditional_holm": None,
    "n_test": None,
}


def _margin_tests(lang: str, own: list[_Experiment], other: list[_Experiment], n_resamples: int, alpha: float) -> dict:
    """Hierarchical-bootstrap CI of the margin and the conditional paired test (percent points), or None fields.

    The configurations' seeds are aligned by test path; both use :func:`hf_ser.study.stats.config_margin`'s definition.
    """
    if n_resamples <= 0 or not own or not other:
        return dict(_NO_TEST)
    configs = [[r for r in e.runs if lang in r["metrics"]] for e in (*own, *other)]
    configs = [c for c in configs if c]
    if len(configs) < 2 or not configs[0]:
        return dict(_NO_TEST)
    aligned = _aligned(lang, [r for c in configs for r in c])
    if aligned is None:
        return dict(_NO_TEST)
    y_true, flat = aligned
    grouped, i = [], 0
    for c in configs:
        grouped.append(flat[i : i + len(c)])
        i += len(c)
    seed = sum(map(ord, lang))
    ci = hierarchical_margin_ci(y_true, grouped[0], grouped[1:], "uar", n_resamples, alpha, seed=seed)
    conditional = paired_margin_test(y_true, grouped[0], grouped[1:], "uar", n_resamples, alpha, seed=seed)
    return {
        "tested_margin": 100.0 * ci["margin"],  # equals mean_margin when the predictions match metrics.json
        "mean_margin_ci": [100.0 * ci["low"], 100.0 * ci["high"]],
        "p_conditional": conditional["p"],
        "p_conditional_holm": None,
        "n_test": ci["n"],
        "_draws": 100.0 * ci["draws"],
    }


def _correct(results: list[dict], alpha: float) -> None:
    """Holm over the languages, in place: rank p-values -> ``significant``; conditional p -> ``p_conditional_holm``."""
    ranked = [r for r in results if r.get("p_rank") is not None]
    _, significant = holm([r["p_rank"] for r in ranked], alpha)
    for r, sig in zip(ranked, significant):
        r["significant"] = bool(sig)
    tested = [r for r in results if r.get("p_conditional") is not None]
    adjusted, _ = holm([r["p_conditional"] for r in tested], alpha)
    for r, p in zip(tested, adjusted):
        r["p_conditional_holm"] = p


EXCHANGEABILITY = (
    "Assumption: apart from lineage, the configurations that evaluate a held-out language are exchangeable. Each "
    "trains on four languages: the own-group configuration on the held-out language's four relatives, each "
    "other-group configuration on four of the other group's five (the five together cover all of them). "
    "Differences in corpus size, recording conditions or label sets between the groups' training data break "
    "this; the test over both groups cancels a group whose models are better everywhere, a per-group test cannot."
)


def lineage_test(results: list[dict], alpha: float = ALPHA) -> dict:
    """The headline, configuration-level test over every ranked held-out language, and descriptive per-group figures.

    Returns {'test': {...}, 'groups': {group: {...}}} or {} when nothing was ranked. ``test`` is
    :func:`hf_ser.study.stats.lineage_rank_test` over all languages (the only source of ``significant``), with the mean
    margin and its CI (each language's hierarchical-bootstrap draws averaged, languages resampled independently).
    Each group gets the paper's statistic, "own group best for k of n", with its exact p under the rank null with
    independent languages, the rank-sum p, and the mean margin; they are descriptive (a per-group test cannot tell
    lineage from one group's training data being better everywhere, and configurations shared between a group's
    languages make its languages dependent).
    """
    ranked = [r for r in results if r.get("rank") is not None]
    if not ranked:
        return {}

    def summary(rows: list[dict]) -> dict:
        """Rank test, best count and mean margin (with CI where every row has draws) over `rows`."""
        t = lineage_rank_test([r["own_group_uar"] for r in rows], [_other_uars(r) for r in rows], alpha)
        draws = [r.get("_draws") for r in rows]
        ci = None
        if all(d is not None for d in draws):
            mean = np.mean(np.stack(draws), axis=0)
            ci = [float(np.quantile(mean, alpha / 2)), float(np.quantile(mean, 1 - alpha / 2))]
        return {
            "languages": [r["language"] for r in rows],
            "n_languages": len(rows),
            "rank_sum": t["rank_sum"],
            "expected_rank_sum": float(sum((m + 1) / 2 for m in t["sizes"])),
            "p": t["p"],
            "best_count": t["best_count"],
            "p_best_count": t["p_best_count"],
            "mean_margin": float(np.mean([r["mean_margin"] for r in rows])),
            "mean_margin_ci": ci,
        }

    overall = summary(ranked)
    test = {
        "statistic": "sum over held-out languages of the own-group configuration's rank (1 = best)",
        **overall,
        "null": RANK_NULL,
        "p_best_count_null": BEST_COUNT_NULL,
        "alternative": "own-group configurations rank higher (one-sided)",
        "assumption": EXCHANGEABILITY,
        "ci_method": "hierarchical bootstrap (configurations, seeds, utterances) per language, languages averaged",
        "alpha": alpha,
        "significant": bool(overall["p"] <= alpha),
    }
    groups = {}
    for group in dict.fromkeys(r["group"] for r in ranked):
        g = summary([r for r in ranked if r["group"] == group])
        groups[group] = {
            **g,
            "p_null": RANK_NULL + "; per group, also independent languages",
            "p_best_count_null": BEST_COUNT_NULL,
            "note": "descriptive: decides nothing (a per-group test cannot separate lineage from this group's "
            "training data being better everywhere)",
        }
    return {"test": test, "groups": groups}


def _other_uars(result: dict) -> list[float]:
    """The UARs of the configurations other than the own-group one that evaluated the result's language."""
    return [c["uar"] for c in result["candidates"] if c["kind"] != "own"]


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
        f"{_mean_text(result)}, margin over mean {result['mean_margin']:+.1f}{_ci_text(result)}; "
        f"own rank {result['rank']} of {result['n_configs']})"
    )


def _ci_text(result: dict) -> str:
    """`` [95% CI a, b]`` (hierarchical bootstrap) or '' without predictions."""
    if result.get("mean_margin_ci") is None:
        return ""
    low, high = result["mean_margin_ci"]
    return f" [95% CI {low:+.1f}, {high:+.1f}]"


def format_p(p: float | None) -> str:
    """A p-value for a table cell: 3 decimals, '< 0.001', or '//' when not computed."""
    if p is None:
        return "//"
    return f"{p:.3f}" if p >= 0.001 else "< 0.001"


def format_p_is(p: float) -> str:
    """A p-value in a sentence: 'p = 0.016' or 'p < 0.001'."""
    return f"p = {p:.3f}" if p >= 0.001 else "p < 0.001"


def lineage_text(check: dict) -> list[str]:
    """The headline test and the per-group figures in words, every p-value with the null it tests."""
    if not check:
        return ["Lineage test: nothing to rank (no held-out language was evaluated by both groups' configurations)."]
    t = check["test"]
    ci = t["mean_margin_ci"]
    ci_text = f" [95% CI {ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else ""
    verdict = "significant" if t["significant"] else "not significant"
    lines = [
        f"Lineage test (configuration level, exact rank test over {t['n_languages']} held-out languages): own-group "
        f"rank sum {t['rank_sum']} (expected {t['expected_rank_sum']:g} without a lineage effect), one-sided "
        f"{format_p_is(t['p'])}: {verdict} at {t['alpha']:g}. Mean own-group margin {t['mean_margin']:+.1f} points"
        f"{ci_text}. Null tested: {t['null']}.",
        EXCHANGEABILITY,
    ]
    for group, g in check["groups"].items():
        ci = g["mean_margin_ci"]
        lines.append(
            f"{labels.group_title(group)} (descriptive): own group best for {g['best_count']} of {g['n_languages']} "
            f"(the paper's statistic), {format_p_is(g['p_best_count'])} under the rank null with independent "
            "languages; "
            f"rank sum {g['rank_sum']}, {format_p_is(g['p'])} (same null); mean margin {g['mean_margin']:+.1f}"
            + (f" [95% CI {ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else "")
            + ". A per-group figure cannot tell lineage from this group's training data being better everywhere."
        )
    return lines


def conditional_summary(results: list[dict]) -> str:
    """The utterance-only paired tests in words, labelled as conditional on the trained networks; '' when none ran."""
    tested = [r for r in results if r.get("p_conditional") is not None]
    if not tested:
        return ""
    small = [r for r in tested if r["p_conditional_holm"] <= ALPHA]
    listed = ", ".join(f"{r['language']} {r['mean_margin']:+.1f}" for r in small) or "none"
    return (
        f"Conditional on these trained networks (utterance-only paired bootstrap, Holm over {len(tested)} "
        f"languages): Holm p <= {ALPHA} for {len(small)} ({listed}). This holds the trainings fixed: it says "
        "these particular networks differ on these languages, not that lineage matters; retraining moves UAR "
        "by a few points, which this test ignores."
    )


def _mean_text(result: dict) -> str:
    if result["n_other"] == 1:
        return f"other-group mean {result['mean_other_uar']:.1f} of 1 configuration"
    return (
        f"other-group mean {result['mean_other_uar']:.1f}±{result['std_other_uar']:.1f} of "
        f"{result['n_other']} configurations"
    )


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


P_LEGEND = (
    "p-values: *p (rank null)* = rank / configurations compared, exact under: {rank}. *p (conditional)* and its "
    "Holm correction: {conditional}; it never decides significance. 95% CI of the margin: hierarchical bootstrap "
    "over configurations, seeds and test utterances."
)


def claims_markdown(results: list[dict], title: str, context: str = "") -> str:
    """The claim check as a Markdown section: context, summary, the lineage test, a per-language table, a legend."""
    tested = any(r.get("p_conditional") is not None for r in results)
    lines = [f"## {title}", ""]
    if context:
        lines += [context, ""]
    lines += [claim_summary(results), ""]
    lines += [*(f"{line}\n" for line in lineage_text(lineage_test(results)))]
    if tested:
        lines += [conditional_summary(results), ""]
    lines += [
        "| Held-out | Group | Own-group UAR (train set) | Best other-group UAR (train set) "
        "| Margin (points) | Own group best? | Other-group mean ± std (configurations) | Margin over mean "
        "| Own rank | p (rank null) |" + (" 95% CI | p (conditional) | Holm p (conditional) |" if tested else ""),
        "|---|---|---|---|---|---|---|---|---|---|" + ("---|---|---|" if tested else ""),
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
        rank = "//" if r["rank"] is None else f"{r['rank']} of {r['n_configs']}"
        row = (
            f"| {r['language']} | {r['group_title']} | {r['own_group_uar']:.1f} ({r['own_group_train']}) | "
            f"{other} | {margin} | {r['verdict']} | {mean} | {mean_margin} | {rank} | {format_p(r['p_rank'])} |"
        )
        if tested:
            if r.get("p_conditional") is None:
                row += " // | // | // |"
            else:
                low, high = r["mean_margin_ci"]
                conditional = f"{format_p(r['p_conditional'])} | {format_p(r['p_conditional_holm'])}"
                row += f" [{low:+.1f}, {high:+.1f}] | {conditional} |"
        lines.append(row)
    lines += ["", P_LEGEND.format(rank=RANK_NULL, conditional=CONDITIONAL_NULL)]
    return "\n".join(lines) + "\n"


def claims_payload(results: list[dict], alpha: float = ALPHA) -> dict:
    """claims.json's view of one claim check: summary, the lineage test, per-language rows (no bootstrap draws)."""
    return {
        "summary": claim_summary(results),
        "lineage_test": lineage_test(results, alpha),
        "conditional": conditional_summary(results),
        "p_value_nulls": {
            "p_rank": RANK_NULL,
            "p_conditional": CONDITIONAL_NULL,
            "p_conditional_holm": CONDITIONAL_NULL + "; Holm-corrected over the languages",
        },
        "languages": [{k: v for k, v in r.items() if not k.startswith("_")} for r in results],
    }


# ----------------------------------------------------------------------------- report


def provenance(runs: list[dict]) -> dict:
    """What produced the runs, from their records: corpus, backbone, epochs, seeds, split, lineage_shift, test size.

    Every field is a sorted list of the distinct values found (empty when no record says); ``synthetic`` is True
    when every run used the built-in synthetic demo corpus, and ``simulated`` when the records come from
    :mod:`hf_ser.study.lineage_sim`.
    """
    table_runs = [r for r in runs if r["family"] in TABLE_FAMILIES] or runs

    def distinct(values) -> list:
        return sorted({v for v in values if v is not None}, key=str)

    def data(r: dict) -> dict:
        return r.get("data_args") or (r.get("config") or {}).get("data") or {}

    simulated = all("simulated" in (r.get("config") or {}) for r in table_runs)
    corpora = distinct(c for r in table_runs for c in r.get("train_corpora") or [])
    synthetic = bool(table_runs) and all(
        (data(r).get("demo") and not data(r).get("corpora"))
        or any("synthetic" in str(c) for c in r.get("train_corpora") or [])
        for r in table_runs
    )
    seeds_per_config: dict[tuple, int] = {}
    for r in table_runs:
        key = (r["family"], tuple(sorted(r["train_languages"])), r.get("heldout_language"), _backbone(r))
        seeds_per_config[key] = seeds_per_config.get(key, 0) + 1
    test_sizes = distinct(
        m.get("n") for r in table_runs for k, m in r["metrics"].items() if k != "all" and isinstance(m, dict)
    )
    return {
        "simulated": simulated,
        "synthetic": synthetic and not simulated,
        "corpora": corpora,
        "backbones": [] if simulated else distinct(_backbone(r) for r in table_runs if _backbone(r) != "?"),
        "epochs": distinct(((r.get("config") or {}).get("training") or {}).get("num_train_epochs") for r in table_runs),
        "seeds_per_configuration": distinct(seeds_per_config.values()),
        "folds": distinct(_fold(r) for r in table_runs),
        "split": distinct(data(r).get("split", "paper") for r in table_runs if data(r)) or [],
        "lineage_shift": distinct(data(r).get("lineage_shift") for r in table_runs if data(r).get("demo")),
        "test_utterances_per_language": [min(test_sizes), max(test_sizes)] if test_sizes else [],
        "n_runs": len(table_runs),
    }


def provenance_text(prov: dict) -> str:
    """One sentence: what the runs are (corpus, model, epochs, seeds, split, shift); '' when no record says."""

    def join(values: list) -> str:
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)

    parts = []
    if prov["simulated"]:
        parts.append("simulated predictions (hf_ser.study.lineage_sim), no trained model")
    elif prov["synthetic"]:
        parts.append("synthetic eSpeak demo corpus (not real emotional speech)")
    elif prov["corpora"]:
        parts.append(f"corpora {join(prov['corpora'])}")
    if prov["backbones"]:
        parts.append(f"backbone {join(prov['backbones'])}")
    if prov["epochs"]:
        parts.append(f"{join(prov['epochs'])} epochs")
    if prov["seeds_per_configuration"]:
        runs = join(prov["seeds_per_configuration"])
        folds = prov.get("folds")
        parts.append(
            f"{runs} runs per configuration (seeds x folds {join(folds)})"
            if folds
            else f"{runs} seed(s) per configuration"
        )
    if prov["split"]:
        parts.append(f"split {join(prov['split'])}")
    if prov["lineage_shift"]:
        parts.append(f"lineage_shift {join(prov['lineage_shift'])}")
    if prov["test_utterances_per_language"]:
        low, high = prov["test_utterances_per_language"]
        parts.append(f"{low if low == high else f'{low}-{high}'} test utterances per language")
    return ("Runs: " + "; ".join(parts) + ".") if parts else ""


def write_report(
    runs_dir: str | Path,
    paper: bool = False,
    out_dir: str | Path | None = None,
    ci: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> Path:
    """Write tables and the claim check into ``RUNS_DIR/report`` (or `out_dir`), then print them; return the folder.

    Per table: ``.md``/``.csv``/``.tex`` (CIs in the cells with `ci`), ``.png``, and ``.json`` plus ``_cells.csv``
    (always with 95% CIs when predictions exist). Claims: ``claims.md`` and ``claims.json``. Every file is written
    before anything is printed, so a closed stdout (``| head``) never costs a file.
    """
    runs = load_runs(runs_dir)
    out = Path(out_dir) if out_dir is not None else Path(runs_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    few_shot = sum(r["family"] == "few_shot" for r in runs)
    if few_shot:
        logger.info("%d few_shot run(s) are not part of Tables 2 and 3", few_shot)
    prov = provenance(runs)
    context = provenance_text(prov)
    printed: list[str] = []

    for table in (
        table2(runs, paper=paper, n_resamples=n_resamples),
        table3(runs, paper=paper, n_resamples=n_resamples),
    ):
        if not table.rows:
            printed.append(f"{table.name}: no matching runs, skipped\n")
            continue
        table.provenance = context
        markdown = to_markdown(table, ci)
        atomic_write_text(out / f"{table.name}.md", markdown)
        atomic_write_text(out / f"{table.name}.csv", to_csv(table, ci))
        atomic_write_text(out / f"{table.name}_cells.csv", to_cells_csv(table))
        atomic_write_json(out / f"{table.name}.json", {**to_json(table), "provenance": prov})
        atomic_write_text(out / f"{table.name}.tex", to_latex(table, ci))
        plot_table(table, out / f"{table.name}.png")
        printed.append(markdown)

    claims = check_lineage_claim(runs, n_resamples)
    payload: dict[str, Any] = {
        "source": display_path(runs_dir),
        "provenance": prov,
        "context": context,
        **claims_payload(claims),
    }
    markdown = claims_markdown(claims, "Section 4.3 lineage claim: these runs", context)
    printed += [
        "Section 4.3 lineage claim (these runs):",
        *([context] if context else []),
        *(claim_line(r) for r in claims),
        payload["summary"],
        *lineage_text(payload["lineage_test"]),
        *([payload["conditional"]] if payload["conditional"] else []),
    ]
    if paper:
        published = check_lineage_claim(paper_runs(), 0)
        payload["paper"] = {"source": paper_results.TABLE3_SOURCE, **claims_payload(published)}
        markdown += "\n" + claims_markdown(
            published,
            "Section 4.3 lineage claim: the paper's Table 3",
            f"Published numbers ({paper_results.TABLE3_SOURCE}); real corpora, one training per configuration.",
        )
        printed += [
            "\nSection 4.3 lineage claim (the paper's Table 3):",
            *(claim_line(r) for r in published),
            payload["paper"]["summary"],
            *lineage_text(payload["paper"]["lineage_test"]),
        ]
    atomic_write_json(out / "claims.json", payload)
    atomic_write_text(out / "claims.md", markdown)
    printed.append(f"\nReport written to {display_path(out)}")
    print("\n".join(printed))
    return out


HELP_EXAMPLES = """examples:
  hf-ser report runs/paper-demo --paper          # Tables 2-3 beside the paper's, claim check, heat maps
  hf-ser report runs/xg --ci --output_dir out/   # CIs printed in the Markdown/LaTeX cells too
  hf-ser report runs/xg --n_resamples 0          # no bootstrap (fast): point values and the rank test only
"""


@command
def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``hf-ser report RUNS_DIR [--paper] [--ci] [--n_resamples N] [--output_dir DIR]``; exit code."""
    parser = ArgumentParser(
        prog="hf-ser report",
        description=textwrap.fill(
            "Build the paper's Tables 2 and 3 (md, csv, json, tex, png) with 95% bootstrap CIs and the "
            "Sec. 4.3 claim check from a folder of runs: an exact rank test over the trained configurations "
            "(the only source of 'significant'), hierarchical-bootstrap CIs of the margins, and the utterance-only "
            "paired test labelled as conditional on the trained networks.",
            88,
        ),
        epilog=HELP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs_dir", type=Path, help="folder holding <run>/metrics.json files")
    parser.add_argument("--paper", action="store_true", help="append the paper's published rows for comparison")
    parser.add_argument("--ci", action="store_true", help="show the 95%% CIs in the Markdown and LaTeX tables too")
    parser.add_argument(
        "--n_resamples",
        type=int,
        default=DEFAULT_RESAMPLES,
        help="bootstrap resamples for CIs and the conditional test (0 = none; default %(default)s)",
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
