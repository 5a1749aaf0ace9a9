"""``python -m hf_ser.analysis {layers,tsne,confusion,all} ...``: one command per figure (see the package docstring)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __doc__ as PACKAGE_DOC
from .features import AnalysisError


def _common(p: argparse.ArgumentParser, model: bool = True) -> None:
    if model:
        p.add_argument("--model", default=None,
                       help="embed with this backbone instead of RUN_DIR/model (hub id, folder, 'demo-tiny' = random "
                            "init) to compare a frozen with the fine-tuned model; the run's splits are used")
    p.add_argument("--batch_size", type=int, default=8, help="utterances per forward pass (length-ordered batches)")
    p.add_argument("--device", default=None, help="'cuda' or 'cpu' (default: cuda when available)")
    p.add_argument("--seed", type=int, default=0, help="seed of probes' CV folds, t-SNE and subsampling")


def build_parser() -> argparse.ArgumentParser:
    """The CLI parser with its four sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m hf_ser.analysis", description=PACKAGE_DOC,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("layers", help="Fig. 1: per-layer linear probes (UAR / F1 against layer)")
    p.add_argument("run_dir")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="score the probes on the test split (fit on train), or by 5-fold CV inside train")
    p.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the logistic regression")
    p.add_argument("--out", default=None, help="output folder (default RUN_DIR/analysis)")
    _common(p)

    p = sub.add_parser("tsne", help="Fig. 2 / 4: t-SNE coloured by emotion and by language, with silhouettes")
    p.add_argument("run_dir")
    p.add_argument("--layers", type=int, nargs="+", default=None,
                   help="layers to map (default: two layers scaled like the paper's 4 and 18 of 24)")
    p.add_argument("--space", choices=("layers", "projector"), default="layers",
                   help="'projector' = the 256-d pooled projection (classifier input)")
    p.add_argument("--split", choices=("test", "train"), default="test")
    p.add_argument("--max_points", type=int, default=2000, help="seeded subsample above this many utterances")
    p.add_argument("--perplexity", type=float, default=30.0)
    p.add_argument("--out", default=None, help="output folder (default RUN_DIR/analysis)")
    _common(p)

    p = sub.add_parser("confusion", help="Fig. 3: row-normalised confusion matrices from predictions.csv")
    p.add_argument("run_dir")
    p.add_argument("--top", type=int, default=3, help="how many most-confused cells / pairs to list")
    p.add_argument("--out", default=None, help="output folder (default RUN_DIR/analysis)")

    p = sub.add_parser("all", help="every figure of every run of a grid + RUNS_DIR/analysis/index.{md,html}")
    p.add_argument("runs_dir")
    p.add_argument("--layers", type=int, nargs="+", default=None, help="t-SNE layers (default: scaled 4 and 18 of 24)")
    p.add_argument("--only", nargs="+", choices=("layers", "tsne", "projector", "confusion"), default=None,
                   help="render only these figures")
    p.add_argument("--max_points", type=int, default=2000)
    _common(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code (2 on a user mistake)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "layers":
            from .layers import run_layers

            run_layers(args.run_dir, args.split, args.model, args.out, args.batch_size, args.device, args.C, args.seed)
        elif args.command == "tsne":
            from .tsne import run_tsne

            run_tsne(args.run_dir, args.layers, args.space, args.split, args.model, args.out, args.batch_size,
                     args.device, args.seed, args.max_points, args.perplexity)
        elif args.command == "confusion":
            from .confusion import run_confusion

            run_confusion(args.run_dir, args.out, args.top)
        else:
            from .index import STEPS, run_all

            run_all(args.runs_dir, args.model, args.layers, tuple(args.only or STEPS), args.batch_size, args.device,
                    args.seed, args.max_points)
    except (AnalysisError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
