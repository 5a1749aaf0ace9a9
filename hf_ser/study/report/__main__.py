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
import logging
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import UserError
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path
from hf_ser.study import paper_results
from hf_ser.study.report.claim_text import claim_line, claims_markdown, claims_payload, lineage_text
from hf_ser.study.report.claims import check_lineage_claim, paper_runs
from hf_ser.study.report.heatmap import plot_table
from hf_ser.study.report.protocols import write_protocol_report
from hf_ser.study.report.provenance import provenance, provenance_text
from hf_ser.study.report.render import to_cells_csv, to_csv, to_json, to_latex, to_markdown
from hf_ser.study.report.runs import load_runs
from hf_ser.study.report.tables import table2, table3
from hf_ser.study.report.transfer import write_transfer_section
from hf_ser.study.stats import DEFAULT_RESAMPLES
from hf_ser.study.transfer.runs_acoustic import MEASURE, MEASURES

# One logger for the whole package, named as before the split: log lines read "hf_ser.study.report: ...".
logger = logging.getLogger("hf_ser.study.report")


def write_report(
    runs_dir: str | Path,
    paper: bool = False,
    out_dir: str | Path | None = None,
    ci: bool = False,
    n_resamples: int = DEFAULT_RESAMPLES,
    acoustic: str = MEASURE,
    acoustic_backbone: str | None = None,
) -> Path:
    """Write tables and the claim check into ``RUNS_DIR/report`` (or `out_dir`), then print them; return the folder.
    A transfer grid's section holds its acoustic control measured by `acoustic` (and `acoustic_backbone`).

    Runs of a standard protocol (leave-one-session-out, EmoBox folds) also give ``protocols.md``/``.csv``/``.json``
    (:mod:`hf_ser.study.report.protocols`). Per table: ``.md``/``.csv``/``.tex`` (CIs in the cells with `ci`),
    ``.png``, and ``.json`` plus ``_cells.csv``
    (always with 95% CIs when predictions exist). Claims: ``claims.md`` and ``claims.json``. Every file is written
    before anything is printed, so a closed stdout (``| head``) never costs a file.
    """
    runs = load_runs(runs_dir)
    out = Path(out_dir) if out_dir is not None else Path(runs_dir) / "report"
    transfer_options = {"acoustic": acoustic, "backbone": acoustic_backbone}
    sets = runs_by_label_set(runs)
    if len(sets) == 1:  # the usual case, and every paper grid: the report as it always was
        label_set, group = next(iter(sets.items()))
        printed = _write_tables(
            group, runs_dir, out, paper and label_set == "paper", ci, n_resamples, label_set, transfer_options
        )
    else:  # a table compares runs on one set of classes: never mix label sets
        printed = [
            f"{len(runs)} runs with {len(sets)} label sets: each is reported on its own (tables and claims are "
            "never mixed across label sets), in " + ", ".join(f"label_set-{_slug(k)}/" for k in sets)
        ]
        for label_set, group in sets.items():
            printed.append(f"\n=== label set: {label_set} ({len(group)} runs)")
            sub = out / f"label_set-{_slug(label_set)}"
            printed += _write_tables(
                group, runs_dir, sub, paper and label_set == "paper", ci, n_resamples, label_set, transfer_options
            )
    printed.append(f"\nReport written to {display_path(out)}")
    print("\n".join(printed))
    return out


def runs_by_label_set(runs: list[dict]) -> dict[str, list[dict]]:
    """Runs grouped by their classes ('paper' for the six emotions, else the class names), in first-seen order."""
    out: dict[str, list[dict]] = {}
    for r in runs:
        out.setdefault(r.get("_label_set", "paper"), []).append(r)
    return out


def _slug(label_set: str) -> str:
    """A folder name for a label set ('anger happiness' -> 'anger-happiness')."""
    return "-".join(label_set.split()) or "paper"


def _write_tables(
    runs: list[dict],
    runs_dir: str | Path,
    out: Path,
    paper: bool,
    ci: bool,
    n_resamples: int,
    label_set: str,
    transfer_options: dict | None = None,
) -> list[str]:
    """Write one label set's tables and claim check into `out` (a transfer grid's section with
    `transfer_options`: its acoustic measure and backbone); returns the lines to print."""
    out.mkdir(parents=True, exist_ok=True)
    few_shot = sum(r["family"] == "few_shot" for r in runs)
    if few_shot:
        logger.info("%d few_shot run(s) are not part of Tables 2 and 3", few_shot)
    prov = provenance(runs)
    context = provenance_text(prov)
    if label_set != "paper":
        context = f"Label set: {label_set}. {context}".strip()
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
    protocols = write_protocol_report(runs, runs_dir, out)  # session / EmoBox runs: protocols.md, .csv, .json
    if protocols:
        printed.append(protocols)

    transfer_runs = [r for r in runs if r["family"] == "transfer"]
    if transfer_runs:  # issue 27: transfer.json, transfer.md and their figures
        printed += write_transfer_section(runs_dir, out, transfer_runs, **(transfer_options or {}))
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
    return printed


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
    parser.add_argument(
        "--acoustic",
        choices=MEASURES,
        default=MEASURE,
        help="transfer grids: the acoustic control, the long-term average spectrum (ltas, default) or the mean "
        "utterance embedding of a frozen backbone (embedding)",
    )
    parser.add_argument(
        "--acoustic_backbone", default=None, help="--acoustic embedding: the backbone (default: the grid's own)"
    )
    args = parser.parse_args(argv)
    setup_logging()
    if args.n_resamples < 0:
        raise UserError(f"--n_resamples must be >= 0, got {args.n_resamples}")
    write_report(
        args.runs_dir,
        paper=args.paper,
        out_dir=args.output_dir,
        ci=args.ci,
        n_resamples=args.n_resamples,
        acoustic=args.acoustic,
        acoustic_backbone=args.acoustic_backbone,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
