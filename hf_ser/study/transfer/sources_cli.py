"""``hf-ser sources TARGET --runs RUNS``: which of a transfer grid's source languages (or corpora) to train on for a
TARGET language, any language URIEL+ knows, in the study or not.

The grid's transfer runs (``hf-ser recipe transfer``) are fitted (:func:`hf_ser.study.transfer.grid.fit_grid`),
then the sources are ranked by predicted transfer a_s + sum_k beta_k d_k(s, TARGET) with prediction intervals from
the jackknife over languages (:func:`hf_ser.study.transfer.sources.rank_for_target`).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.data.corpora import default_cache_dir
from hf_ser.errors import EXIT_OK, UserError
from hf_ser.safe_io import display_path
from hf_ser.study.transfer.grid import GridFit, fit_grid
from hf_ser.study.transfer.model import DEFAULT_PERMUTATIONS
from hf_ser.study.transfer.runs_acoustic import MEASURE, MEASURES
from hf_ser.study.transfer.sources import SourceRanking, rank_for_target, ranking_rows, write_ranking

EXAMPLES = """examples:
  hf-ser sources cat --runs runs/transfer                 # Catalan: rank the grid's languages, suggest 3 sources
  hf-ser sources Hungarian --runs runs/transfer --k 2     # a language name works too
  hf-ser sources hin --runs runs/transfer-corpus --unit corpus --output hin.csv   # corpora, saved as CSV
  hf-ser sources cat --runs runs/transfer --output cat.json                       # everything, as JSON

Make a grid first:  hf-ser recipe transfer --output_dir runs/transfer  (--demo --genetic_shift 2 to try it)
"""


def build_parser() -> ArgumentParser:
    """The command's arguments."""
    parser = ArgumentParser(
        prog="hf-ser sources",
        description=textwrap.fill(
            "Rank the source languages (or corpora) of a transfer grid for TARGET by predicted transfer "
            "a_s + sum_k beta_k d_k(s, TARGET), with prediction intervals, the distances that drive the ranking "
            "and a suggested multi-source set.",
            88,
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", help="ISO 639-3 code, study code or language name URIEL+ knows (cat, hun, Catalan)")
    parser.add_argument("--runs", type=Path, required=True, help="folder of a transfer grid (hf-ser recipe transfer)")
    parser.add_argument(
        "--unit", choices=("language", "corpus"), default=None, help="check the grid's unit (default: as trained)"
    )
    parser.add_argument("--k", type=int, default=3, help="size of the suggested multi-source set (default 3)")
    parser.add_argument("--output", type=Path, default=None, help="save the ranking: .csv (rows) or .json (all)")
    parser.add_argument(
        "--n_permutations",
        type=int,
        default=DEFAULT_PERMUTATIONS,
        help="relabellings for the distances' p-values (default %(default)s)",
    )
    parser.add_argument(
        "--acoustic",
        choices=MEASURES,
        default=MEASURE,
        help="the acoustic control: long-term average spectrum (ltas, default) or frozen-backbone embedding",
    )
    parser.add_argument(
        "--acoustic_backbone", default=None, help="--acoustic embedding: the backbone (default: the grid's own)"
    )
    return parser


def format_ranking(ranking: SourceRanking, gf: GridFit) -> str:
    """The ranking for a terminal: the table, the drivers, the suggested set and every rule that was applied."""
    level = round(100 * ranking.level)
    lines = [
        f"Sources for {ranking.name} ({ranking.code}), {gf.grid.unit} level; predicted UAR with {level}% interval:"
    ]
    for row in ranking_rows(ranking):
        lines.append(
            f"  {row['rank']:>2}. {row['source']:<14} {row['predicted']:6.1f}  [{row['low']:6.1f}, {row['high']:6.1f}]"
            f"  source effect {row['source_effect']:+.1f}"
        )
    drivers = ", ".join(f"{d.term} {100 * d.share:.0f}%" for d in ranking.drivers)
    lines.append(f"What drives the ranking (share of the spread across sources): {drivers}")
    lines.append(f"Suggested set of {len(ranking.suggested)}: {', '.join(ranking.suggested)}")
    lines.append(f"Distances used: {', '.join(ranking.used) or 'none'}")
    if ranking.lacking:
        lines.append(
            f"Lacking for {ranking.code} (held at the study mean, not used to rank): {', '.join(ranking.lacking)}"
        )
    if ranking.imputed:
        lines.append("Imputed pairs: " + ", ".join(f"{d} {a}-{b}" for d, a, b in ranking.imputed))
    if gf.fit.missing_pairs:
        pairs = ", ".join(f"{a}->{b}" for a, b in gf.fit.missing_pairs)
        lines.append(f"Pairs without a run, left out of the fit (the model is fitted on the other cells): {pairs}")
    if gf.acoustic.matrix is None:
        lines.append(f"No acoustic control: {gf.acoustic.note}")
    lines += [f"Note: {n}" for n in ranking.notes]
    return "\n".join(lines)


@command
def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; exit 0, or 2 with one line for a user mistake."""
    args = build_parser().parse_args(argv)
    setup_logging()
    if args.k < 1:
        raise UserError(f"--k must be >= 1, not {args.k}")
    gf = fit_grid(
        args.runs,
        cache_dir=default_cache_dir() / "urielplus",
        n_permutations=args.n_permutations,
        acoustic=args.acoustic,
        backbone=args.acoustic_backbone,
    )
    if args.unit and args.unit != gf.grid.unit:
        raise UserError(
            f"{display_path(args.runs)} is a {gf.grid.unit}-level grid, not {args.unit}; make one with "
            f"`hf-ser recipe transfer --unit {args.unit}`"
        )
    ranking = rank_for_target(
        gf.fit, args.target, args.k, default_cache_dir() / "urielplus", source_languages=gf.grid.languages
    )
    if args.output is not None:
        write_ranking(ranking, args.output)
    print(format_ranking(ranking, gf))
    if args.output is not None:
        print(f"saved {display_path(args.output)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
