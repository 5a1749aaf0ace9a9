"""Tables 2 and 3 of the paper (and the Section 4.3 lineage claim) from a folder of runs.

Every training run writes ``<RUNS_DIR>/<run>/metrics.json``. This module gathers them,
merges runs that differ only by seed (mean ± std), and writes Markdown, CSV, LaTeX and
a heat map for each table into ``RUNS_DIR/report/``::

    python -m hf_ser.report runs/paper --paper
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hf_ser import labels, paper_results

logger = logging.getLogger(__name__)

FAMILIES = ("single_language", "multilingual", "cross_group", "few_shot")
SKIP_DIRS = ("report", "analysis")
ROW_HEADER = "Train Set"
PAPER_PREFIX = "Paper: "
NOT_EVALUATED = "//"
TIE_POINTS = 0.05  # margins smaller than this (in UAR points) are ties at one-decimal precision

TABLE2_TITLE = "Table 2. UAR / F1 of single-language and multilingual models (%, higher is better)."
TABLE3_TITLE = "Table 3. UAR / F1 cross-lingual generalization across unseen languages (%, higher is better)."


@dataclass(frozen=True)
class Cell:
    """One `UAR / F1` cell in percent; the std fields are set when it averages several seeds."""

    uar: float
    f1: float
    uar_std: float | None = None
    f1_std: float | None = None
    n_seeds: int = 1

    def __str__(self) -> str:
        if self.n_seeds > 1 and self.uar_std is not None and self.f1_std is not None:
            return f"{self.uar:.1f}±{self.uar_std:.1f} / {self.f1:.1f}±{self.f1_std:.1f}"
        return f"{self.uar:.1f} / {self.f1:.1f}"


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


def _validate(data: Any) -> str | None:
    """Return why a metrics.json payload is unusable, or None when it is fine."""
    if not isinstance(data, dict):
        return "top level is not a JSON object"
    for key in ("run", "family", "train_languages", "metrics"):
        if key not in data:
            return f"missing key {key!r}"
    if data["family"] not in FAMILIES:
        return f"unknown family {data['family']!r} (expected one of {', '.join(FAMILIES)})"
    if not isinstance(data["train_languages"], list) or not data["train_languages"]:
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


def load_runs(runs_dir: str | Path) -> list[dict]:
    """Read every ``metrics.json`` under `runs_dir` (recursively, skipping report/ and analysis/).

    Unreadable or partial files are skipped with a warning naming the file. Each returned
    dict is the file's content plus ``"_path"``.
    """
    root = Path(runs_dir)
    if not root.is_dir():
        raise FileNotFoundError(
            f"runs folder {root} does not exist; run `python -m hf_ser.recipe ...` first to train the grid"
        )
    paths = sorted(
        p for p in root.rglob("metrics.json") if not any(part in SKIP_DIRS for part in p.relative_to(root).parts[:-1])
    )
    if not paths:
        raise FileNotFoundError(
            f"no metrics.json found under {root}; run `python -m hf_ser.recipe ...` first "
            "(each run writes <RUNS_DIR>/<run>/metrics.json)"
        )
    runs = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            logger.warning("skipping %s: cannot read it as JSON (%s)", path, err)
            continue
        problem = _validate(data)
        if problem is not None:
            logger.warning("skipping %s: %s", path, problem)
            continue
        data = dict(data)
        data["train_languages"] = [str(c).upper() for c in data["train_languages"]]
        data["_path"] = str(path)
        runs.append(data)
    if not runs:
        raise FileNotFoundError(
            f"none of the {len(paths)} metrics.json files under {root} could be read (see the warnings above); "
            "rerun `python -m hf_ser.recipe ...` to regenerate them"
        )
    return runs


# ----------------------------------------------------------------------------- seeds


@dataclass
class _Experiment:
    """All seeds of one run configuration."""

    family: str
    group: str | None
    train: tuple[str, ...]
    heldout: str | None
    runs: list[dict]

    @property
    def label(self) -> str:
        return _train_label(self.train)

    @property
    def seeds(self) -> list[int | None]:
        return [r.get("seed") for r in self.runs]

    def cell(self, lang: str) -> Cell | None:
        """Mean (± sample std) over the seeds that evaluated `lang`, in percent."""
        values = [(r["metrics"][lang]["uar"], r["metrics"][lang]["f1"]) for r in self.runs if lang in r["metrics"]]
        if not values:
            return None
        uars = [100.0 * u for u, _ in values]
        f1s = [100.0 * f for _, f in values]
        if len(values) == 1:
            return Cell(uars[0], f1s[0])
        return Cell(
            statistics.fmean(uars), statistics.fmean(f1s), statistics.stdev(uars), statistics.stdev(f1s), len(values)
        )


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


def _experiments(runs: list[dict], family: str) -> list[_Experiment]:
    """Group the runs of one family by configuration, merging seeds."""
    by_key: dict[tuple, _Experiment] = {}
    for run in runs:
        if run["family"] != family:
            continue
        train = _paper_order(run["train_languages"])
        key = (family, run.get("group"), train, _heldout(run))
        exp = by_key.setdefault(key, _Experiment(family, run.get("group"), train, _heldout(run), []))
        duplicate = next((r for r in exp.runs if r.get("seed") == run.get("seed")), None)
        if duplicate is not None:
            logger.warning(
                "duplicate run for %s seed %s: keeping %s, ignoring %s",
                run["run"], run.get("seed"), duplicate["_path"], run["_path"],
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
        text += " Paper-protocol fallback: " + "; ".join(
            f"{lang} ({fell_back[lang]})" for lang in _paper_order(fell_back)) + "."
    return text


def _finish(table: Table, experiments: list[_Experiment]) -> Table:
    cells = [c for _, row in table.rows for c in row if c is not None]
    notes = (_seed_note(experiments, cells), _split_note(experiments), f"{NOT_EVALUATED} = not evaluated.")
    table.notes = [n for n in notes if n]
    return table


# ----------------------------------------------------------------------------- tables


def _row(exp: _Experiment, columns: list[str], shown: Sequence[str]) -> list[Cell | None]:
    wanted = set(shown)
    return [exp.cell(lang) if lang in wanted else None for lang in columns]


def _add_paper_rows(table: Table, paper_rows: list[tuple[str, dict[str, tuple[float, float]]]], source: str) -> None:
    table.rule_before.append(len(table.rows))
    for label, cells in paper_rows:
        row = [Cell(*cells[lang]) if lang in cells else None for lang in table.columns]
        table.rows.append((PAPER_PREFIX + label, row))
    table.notes.append(f"Rows prefixed '{PAPER_PREFIX.strip()}' are the published numbers of {source}.")


def table2(runs: list[dict], paper: bool = False) -> Table:
    """Table 2: `Individual` (single-language runs), one row per group, `All`; optional paper rows."""
    columns = list(labels.LANGUAGES)
    table = Table(TABLE2_TITLE, columns, name="table2")
    used: list[_Experiment] = []

    singles = _experiments(runs, "single_language")
    individual: list[Cell | None] = [None] * len(columns)
    for exp in singles:
        if len(exp.train) != 1:
            logger.warning(
                "single_language run %s trains on %s: not one language, left out", exp.runs[0]["run"], exp.label
            )
            continue
        lang = exp.train[0]
        if lang in columns and (cell := exp.cell(lang)) is not None:
            individual[columns.index(lang)] = cell
            used.append(exp)
    if any(c is not None for c in individual):
        table.rows.append(("Individual", individual))

    multi = _experiments(runs, "multilingual")
    placed: set[int] = set()
    for group, members in labels.groups().items():
        # Its group field names it (recipes run on a subset of languages keep the group) or it trains on exactly it.
        matches = [
            i for i, e in enumerate(multi) if e.group == group or (e.group != "all" and set(e.train) == set(members))
        ]
        if not matches:
            continue
        if len(matches) > 1:
            logger.warning("several multilingual configurations train on %s; using the first", group)
        exp = multi[matches[0]]
        placed.update(matches)
        table.rows.append((labels.group_title(group), _row(exp, columns, members)))
        used.append(exp)
    everything = set(columns)
    all_idx = [i for i, e in enumerate(multi) if e.group == "all" or set(e.train) == everything]
    all_idx = [i for i in all_idx if i not in placed]
    if all_idx:
        exp = multi[all_idx[0]]
        placed.update(all_idx)
        table.rows.append(("All", _row(exp, columns, columns)))
        used.append(exp)
    for i, exp in enumerate(multi):  # user-defined language sets: keep them, labelled by their languages
        if i not in placed:
            table.rows.append((exp.label, _row(exp, columns, columns)))
            used.append(exp)

    table = _finish(table, used)
    if paper:
        _add_paper_rows(table, list(paper_results.TABLE2.items()), paper_results.TABLE2_SOURCE)
    return table


def _own_group(exp: _Experiment) -> str | None:
    if exp.heldout and exp.heldout in labels.LANGUAGES:
        return labels.LANGUAGES[exp.heldout].group
    return exp.group


def table3(runs: list[dict], paper: bool = False) -> Table:
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
        table.rows.append((exp.label, _row(exp, columns, shown)))
    table = _finish(table, experiments)
    if paper:
        rows = [(_train_label(train), cells) for train, cells in paper_results.TABLE3.items()]
        _add_paper_rows(table, rows, paper_results.TABLE3_SOURCE)
    return table


# ----------------------------------------------------------------------------- rendering


def _cell_text(cell: Cell | None) -> str:
    return NOT_EVALUATED if cell is None else str(cell)


def to_markdown(table: Table) -> str:
    """GitHub Markdown: bold title + notes, then the table; a marker row separates paper rows."""
    lines = [f"**{table.title}** {' '.join(table.notes)}".rstrip(), ""]
    lines.append("| " + " | ".join([ROW_HEADER, *table.columns]) + " |")
    lines.append("|" + "|".join(["---"] * (len(table.columns) + 1)) + "|")
    for i, (label, cells) in enumerate(table.rows):
        if i in table.rule_before:
            lines.append("| " + " | ".join(["**— paper —**", *[""] * len(table.columns)]) + " |")
        lines.append("| " + " | ".join([label, *(_cell_text(c) for c in cells)]) + " |")
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    """CSV with a `Train Set` column and one `UAR / F1` column per language."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([ROW_HEADER, *table.columns])
    for label, cells in table.rows:
        writer.writerow([label, *(_cell_text(c) for c in cells)])
    return buffer.getvalue()


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _latex(text: str) -> str:
    out = "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)
    return out.replace("±", r"$\pm$").replace("—", "---").replace("–", "--")


def to_latex(table: Table) -> str:
    """A booktabs ``table*`` (needs ``\\usepackage{booktabs,graphicx}``); `\\midrule` before paper rows."""
    lines = [
        "% requires \\usepackage{booktabs,graphicx}",
        "\\begin{table*}[t]",
        "\\centering",
        f"\\caption{{{_latex(table.caption)}}}",
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
        lines.append(" & ".join(_latex(t) for t in [label, *(_cell_text(c) for c in cells)]) + " \\\\")
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
        runs.append({
            "run": f"paper-{heldout}", "family": "cross_group", "train_languages": list(train),
            "group": labels.LANGUAGES[heldout].group if heldout in labels.LANGUAGES else None,
            "heldout_language": heldout, "seed": None, "_path": paper_results.TABLE3_SOURCE,
            "metrics": {lang: {"uar": u / 100.0, "f1": f / 100.0} for lang, (u, f) in cells.items()},
        })
    return runs


def check_lineage_claim(runs: list[dict]) -> list[dict]:
    """Section 4.3: for each held-out language, is its best unseen UAR the one trained on its own group?

    Candidates are the cross_group configurations that evaluated the language without
    training on it; the margin is own-group UAR minus the best other-group UAR (points).
    Comparing one own-group run with the best of N others is biased against the own group,
    so ``mean_margin`` (own-group UAR minus the mean of the other-group runs) is given too.
    """
    experiments = _experiments(runs, "cross_group")
    results = []
    for group, members in labels.groups().items():
        for lang in members:
            candidates = []
            for exp in experiments:
                if lang in exp.train or (cell := exp.cell(lang)) is None:
                    continue
                inside = [c for c in exp.train if c in members]
                kind = "own" if len(inside) == len(exp.train) else ("other" if not inside else "mixed")
                candidates.append({"train": exp.label, "kind": kind, "uar": cell.uar, "f1": cell.f1,
                                   "n_seeds": cell.n_seeds})
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
            results.append({
                "language": lang, "group": group, "group_title": labels.group_title(group),
                "best_uar": best["uar"], "best_f1": best["f1"], "best_train": best["train"], "best_kind": best["kind"],
                "best_is_own_group": best["kind"] == "own",
                "own_group_uar": best_own["uar"], "own_group_train": best_own["train"],
                "best_other_uar": None if best_other is None else best_other["uar"],
                "best_other_train": None if best_other is None else best_other["train"],
                "margin": margin, "verdict": verdict,
                "mean_other_uar": mean_other, "std_other_uar": std_other, "n_other": len(others),
                "mean_margin": None if mean_other is None else best_own["uar"] - mean_other,
                "candidates": candidates,
            })
    return results


_KIND_TEXT = {"own": "own group", "other": "other group", "mixed": "mixed groups"}


def claim_line(result: dict) -> str:
    """One printable line, e.g. `FRE: best unseen UAR 58.4 from ITA, POR, ROM, SPA (own group) -> yes ...`."""
    line = (f"{result['language']}: best unseen UAR {result['best_uar']:.1f} from {result['best_train']} "
            f"({_KIND_TEXT[result['best_kind']]}) -> {result['verdict']}")
    if result["margin"] is None:
        return line + " (no other-group run evaluated it)"
    return (line + f" (margin {result['margin']:+.1f} points: own group {result['own_group_uar']:.1f} vs "
            f"best other {result['best_other_uar']:.1f} from {result['best_other_train']}; "
            f"{_mean_text(result)}, margin over mean {result['mean_margin']:+.1f})")


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
    return (f"Lineage claim (Sec. 4.3): {k} of {len(judged)} held-out languages transfer best within their own group "
            f"({', '.join(parts)}{tie_text}). Own group above the other group's mean: {'; '.join(means)}.")


def claims_markdown(results: list[dict], title: str) -> str:
    """The claim check as a Markdown section: a table plus the summary line."""
    lines = [f"## {title}", "", claim_summary(results), "",
             "| Held-out | Group | Own-group UAR (train set) | Best other-group UAR (train set) "
             "| Margin (points) | Own group best? | Other-group mean ± std (runs) | Margin over mean |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        other = "//" if r["best_other_uar"] is None else f"{r['best_other_uar']:.1f} ({r['best_other_train']})"
        margin = "//" if r["margin"] is None else f"{r['margin']:+.1f}"
        mean = "//" if r["mean_other_uar"] is None else (
            f"{r['mean_other_uar']:.1f} ± {r['std_other_uar']:.1f} ({r['n_other']})")
        mean_margin = "//" if r["mean_margin"] is None else f"{r['mean_margin']:+.1f}"
        lines.append(f"| {r['language']} | {r['group_title']} | {r['own_group_uar']:.1f} ({r['own_group_train']}) | "
                     f"{other} | {margin} | {r['verdict']} | {mean} | {mean_margin} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- report


def write_report(runs_dir: str | Path, paper: bool = False, out_dir: str | Path | None = None) -> Path:
    """Write tables (md/csv/tex/png) and the claim check into ``RUNS_DIR/report`` (or `out_dir`); print them."""
    runs = load_runs(runs_dir)
    out = Path(out_dir) if out_dir is not None else Path(runs_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    few_shot = sum(r["family"] == "few_shot" for r in runs)
    if few_shot:
        logger.info("%d few_shot run(s) are not part of Tables 2 and 3", few_shot)

    for table in (table2(runs, paper=paper), table3(runs, paper=paper)):
        if not table.rows:
            print(f"{table.name}: no matching runs, skipped\n")
            continue
        markdown = to_markdown(table)
        (out / f"{table.name}.md").write_text(markdown, encoding="utf-8")
        (out / f"{table.name}.csv").write_text(to_csv(table), encoding="utf-8")
        (out / f"{table.name}.tex").write_text(to_latex(table), encoding="utf-8")
        plot_table(table, out / f"{table.name}.png")
        print(markdown)

    claims = check_lineage_claim(runs)
    payload: dict[str, Any] = {"source": str(runs_dir), "summary": claim_summary(claims), "languages": claims}
    markdown = claims_markdown(claims, "Section 4.3 lineage claim: these runs")
    print("Section 4.3 lineage claim (these runs):")
    for line in [*(claim_line(r) for r in claims), payload["summary"]]:
        print(line)
    if paper:
        published = check_lineage_claim(paper_runs())
        payload["paper"] = {"source": paper_results.TABLE3_SOURCE, "summary": claim_summary(published),
                            "languages": published}
        markdown += "\n" + claims_markdown(published, "Section 4.3 lineage claim: the paper's Table 3")
        print("\nSection 4.3 lineage claim (the paper's Table 3):")
        for line in [*(claim_line(r) for r in published), payload["paper"]["summary"]]:
            print(line)
    (out / "claims.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "claims.md").write_text(markdown, encoding="utf-8")
    print(f"\nReport written to {out}")
    return out


def main(argv: Sequence[str] | None = None) -> Path:
    """CLI: ``python -m hf_ser.report RUNS_DIR [--paper] [--out DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m hf_ser.report",
        description="Build the paper's Tables 2 and 3 (md, csv, tex, png) and the Sec. 4.3 claim check from runs.",
    )
    parser.add_argument("runs_dir", type=Path, help="folder holding <run>/metrics.json files")
    parser.add_argument("--paper", action="store_true", help="append the paper's published rows for comparison")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: RUNS_DIR/report)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        return write_report(args.runs_dir, paper=args.paper, out_dir=args.out)
    except FileNotFoundError as err:
        parser.error(str(err))  # exits with status 2


if __name__ == "__main__":
    main()
