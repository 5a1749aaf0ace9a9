"""``hf-ser analysis {layers,tsne,confusion,all} ...``: one command per figure (see the package docstring)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import datasets
import transformers

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import EXIT_FAILED, EXIT_OK
from hf_ser.study.analysis import __doc__ as PACKAGE_DOC
from hf_ser.study.analysis.confusion import run_confusion
from hf_ser.study.analysis.index import STEPS, run_all
from hf_ser.study.analysis.layers import run_layers
from hf_ser.study.analysis.tsne import run_tsne


def _common(p: argparse.ArgumentParser, model: bool = True) -> None:
    """Options every model-using figure shares."""
    if model:
        p.add_argument(
            "--model",
            default=None,
            help="embed with this model instead of RUN_DIR/model (Hub id, folder, 'demo-tiny' = random "
            "init) to compare a frozen with the fine-tuned model; the run's splits are used",
        )
    p.add_argument("--batch_size", type=int, default=8, help="utterances per forward pass (length-ordered batches)")
    p.add_argument("--device", default=None, help="'cuda' or 'cpu' (default: cuda when available)")
    p.add_argument("--seed", type=int, default=0, help="seed of probes' CV folds, t-SNE and subsampling")
    p.add_argument(
        "--cache_dir",
        default=None,
        help="where the per-layer features are cached and reused (default: features/ in the output folder; for "
        "`all`, <output folder>/<run>/features, or CACHE_DIR/<run> when given)",
    )
    _no_progress(p)


def _no_progress(p: argparse.ArgumentParser) -> None:
    """The --no_progress flag (every sub-command)."""
    p.add_argument(
        "--no_progress",
        action="store_true",
        help="no progress bars (extraction, probes, the 'Loading weights' bar); for logs and CI",
    )


def build_parser() -> ArgumentParser:
    """The CLI parser with its four sub-commands."""
    parser = ArgumentParser(
        prog="hf-ser analysis", description=PACKAGE_DOC, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    out_help = "output folder (default RUN_DIR/analysis)"

    p = sub.add_parser("layers", help="Fig. 1: per-layer linear probes (UAR / F1 against layer)")
    p.add_argument("run_dir", help="a finished run folder (<output_dir>/<run>)")
    p.add_argument(
        "--split",
        choices=("test", "train"),
        default="test",
        help="score the probes on the test split (fit on train), or by 5-fold CV inside train",
    )
    p.add_argument(
        "--probe_c", type=float, default=1.0, help="inverse regularisation strength C of the logistic-regression probes"
    )
    p.add_argument("--output_dir", default=None, help=out_help)
    _common(p)

    p = sub.add_parser("tsne", help="Fig. 2 / 4: t-SNE coloured by emotion and by language, with silhouettes")
    p.add_argument("run_dir", help="a finished run folder (<output_dir>/<run>)")
    p.add_argument(
        "--layers",
        type=int,
        nargs="+",
        default=None,
        help="layers to map (default: two layers scaled like the paper's 4 and 18 of 24)",
    )
    p.add_argument(
        "--space",
        choices=("layers", "projector"),
        default="layers",
        help="'projector' = the 256-d pooled projection (classifier input)",
    )
    p.add_argument("--split", choices=("test", "train"), default="test", help="which split to map")
    p.add_argument("--max_points", type=int, default=2000, help="seeded subsample above this many utterances")
    p.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity")
    p.add_argument("--output_dir", default=None, help=out_help)
    _common(p)

    p = sub.add_parser("confusion", help="Fig. 3: row-normalised confusion matrices from predictions.csv")
    p.add_argument("run_dir", help="a finished run folder (<output_dir>/<run>)")
    p.add_argument("--top", type=int, default=3, help="how many most-confused cells / pairs to list")
    p.add_argument("--output_dir", default=None, help=out_help)
    _no_progress(p)

    p = sub.add_parser(
        "all",
        help="every figure of every run of a grid + index.{md,html}, all written into RUNS_DIR/analysis (figures and "
        "feature caches included; the run folders are only read)",
    )
    p.add_argument("runs_dir", help="a grid's output folder (holding <run>/metrics.json)")
    p.add_argument("--layers", type=int, nargs="+", default=None, help="t-SNE layers (default: scaled 4 and 18 of 24)")
    p.add_argument("--only", nargs="+", choices=STEPS, default=None, help="render only these figures")
    p.add_argument("--max_points", type=int, default=2000, help="seeded t-SNE subsample above this many utterances")
    p.add_argument("--output_dir", default=None, help="output folder (default RUNS_DIR/analysis)")
    _common(p)
    return parser


@command
def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: 0 when every figure was made, 1 when a step of ``all`` failed, 2 on a user mistake."""
    args = build_parser().parse_args(argv)
    setup_logging()
    progress = not args.no_progress
    if not progress:  # the bars of the libraries too (transformers' "Loading weights", datasets' map)
        transformers.utils.logging.disable_progress_bar()
        datasets.disable_progress_bars()
    opts = {
        "batch_size": getattr(args, "batch_size", 8),
        "device": getattr(args, "device", None),
        "seed": getattr(args, "seed", 0),
        "progress": progress,
    }
    if args.command == "layers":
        run_layers(
            args.run_dir,
            split=args.split,
            model=args.model,
            out=args.output_dir,
            c=args.probe_c,
            cache_dir=args.cache_dir,
            **opts,
        )
    elif args.command == "tsne":
        run_tsne(
            args.run_dir,
            layers=args.layers,
            space=args.space,
            split=args.split,
            model=args.model,
            out=args.output_dir,
            max_points=args.max_points,
            perplexity=args.perplexity,
            cache_dir=args.cache_dir,
            **opts,
        )
    elif args.command == "confusion":
        run_confusion(args.run_dir, args.output_dir, args.top)
    else:
        _, failed = run_all(
            args.runs_dir,
            model=args.model,
            layers=args.layers,
            steps=tuple(args.only or STEPS),
            max_points=args.max_points,
            output_dir=args.output_dir,
            cache_dir=args.cache_dir,
            **opts,
        )
        return EXIT_FAILED if failed else EXIT_OK
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
