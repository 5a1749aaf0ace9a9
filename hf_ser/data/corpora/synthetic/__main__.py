"""``hf-ser synthetic``: build the corpus and print its manifest path and counts, or print the emotion profiles."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.data.corpora.synthetic import __doc__ as PACKAGE_DOC
from hf_ser.data.corpora.synthetic.build import build_synthetic_corpus
from hf_ser.data.corpora.synthetic.profiles import describe_profiles
from hf_ser.errors import UserError

# the examples at the end of --help
EXAMPLES = """examples:
  hf-ser synthetic --output_dir data/synthetic                     # the demo corpus, built locally
  hf-ser synthetic --show_profiles --lineage_shift 1               # the planted lineage effect, per group
"""


@command
def main(argv: list[str] | None = None) -> int:
    """Command line: build the corpus, print the manifest path and a count table."""
    ap = ArgumentParser(
        prog="hf-ser synthetic",
        description=PACKAGE_DOC.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    ap.add_argument("--output_dir", type=Path, help="folder under which synthetic-<hash>/ is written")
    ap.add_argument("--per_cell", type=int, default=30, help="utterances per (language, emotion)")
    ap.add_argument("--languages", nargs="+", default=None, help="language codes (default: all ten)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sentences, speakers and prosody draws")
    ap.add_argument("--lineage_shift", type=float, default=0.0, help="strength of the group-specific styles")
    ap.add_argument(
        "--genetic_shift", type=float, default=0.0, help="strength of the genetic-distance styles (0 = none)"
    )
    ap.add_argument("--speakers_per_language", type=int, default=4, help="eSpeak voice variants per language")
    ap.add_argument("--show_profiles", action="store_true", help="print the emotion profiles per group and exit")
    args = ap.parse_args(argv)
    setup_logging()
    if args.show_profiles:
        print(describe_profiles(args.lineage_shift))
        return 0
    if args.output_dir is None:
        raise UserError("--output_dir is required (unless --show_profiles)")
    manifest = build_synthetic_corpus(
        args.output_dir,
        per_cell=args.per_cell,
        languages=args.languages,
        seed=args.seed,
        lineage_shift=args.lineage_shift,
        genetic_shift=args.genetic_shift,
        speakers_per_language=args.speakers_per_language,
    )
    df = pd.read_csv(manifest)
    print(manifest)
    print(pd.crosstab(df["language"], df["label"], margins=True, margins_name="total").to_string())
    stats = json.loads((manifest.parent / "stats.json").read_text(encoding="utf-8"))
    print("mean duration (s): " + ", ".join(f"{c} {d:.2f}" for c, d in stats["mean_duration_seconds"].items()))
    if stats["synthesis_seconds_per_utterance"] is not None:
        print(f"synthesis: {1000 * stats['synthesis_seconds_per_utterance']:.1f} ms per utterance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
