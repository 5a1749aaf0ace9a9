"""A :class:`~hf_ser.study.report.cells.Table` as text: Markdown, CSV (wide and one line per cell), JSON, LaTeX."""

from __future__ import annotations

import csv
import io

from hf_ser.safe_io import spreadsheet_safe
from hf_ser.study.report.cells import NOT_EVALUATED, PAPER_PREFIX, Cell, Table

ROW_HEADER = "Train Set"
CI_NOTE = "[low, high] = 95% bootstrap CI over test utterances (and seeds)."


def _cell_text(cell: Cell | None, ci: bool = False) -> str:
    """A cell as text, `//` when not evaluated; with `ci`, with its 95% CIs."""
    return NOT_EVALUATED if cell is None else cell.text(ci)


def _has_ci(table: Table) -> bool:
    """Whether any cell of the table has a bootstrap CI."""
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
    """Numbers with two decimals, '' for None (the long CSV's cells)."""
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
    """`text` escaped for LaTeX, with ±, em and en dashes in LaTeX's own spelling."""
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
