"""``hf-ser predict PATH... --model DIR_OR_HUB_ID``: label the emotion of audio files, over time.

PATH can be audio files, folders (searched recursively) or manifests (.csv / .jsonl with a ``path`` column;
relative paths are resolved against the manifest's folder). In a folder every file is accounted for: the formats
soundfile decodes (wav, flac, ogg, opus, aiff/aif, mp3) are classified; m4a/aac/mp4/wma/webm are decoded by the
``ffmpeg`` binary when it is installed (else their row says how to convert them); any other file gets a
``skipped`` row. Files are checked before anything opens them (a FIFO or a header
claiming 2e9 Hz is an error row, never a hang or a huge allocation), decoded block by block with soundfile,
prepared as for training (mono 16 kHz, DC removed, silence trimmed, loudness normalised) and classified by the
stock ``transformers.pipeline("audio-classification")``, segments of many files batched in length order.

Segments (``--segment``):
  auto   (default) ``none`` for a file of at most --max_seconds (20 s, the training crop), ``vad`` above;
  none   one label for the whole clip (a longer file is classified on its first --max_seconds of speech);
  vad    speech segments found by the silero VAD (``silero-vad`` package, model inside its wheel), split to
         at most --max_seconds, pauses under --merge_gap closed;
  fixed  windows of --window seconds every --hop seconds.
Each file gives one row per segment (``kind`` = segment: path, start, end, label, score, scores, error) and
then one file row (``kind`` = file) aggregating its segments: the duration-weighted mean of the segment
probabilities (``--aggregate mean``), the per-emotion maximum (``max``) or the share of segment votes
(``vote``). A file classified whole (``none``) has only its file row.

Output (``--format``, default from the --output suffix: .csv, .jsonl, .json; else a table on stdout): CSV and
JSON Lines are written file by file as results come (flushed after each file's file row, which is always its
last row), so ``--resume`` skips the files whose file row is already in --output and drops the rows of a file
cut short by a kill: a killed run loses at most the file in flight and never duplicates a row. JSON (one array)
is written once, atomically, at the end (and on Ctrl-C); use csv or jsonl for runs you may have to resume.

Every input gets a row: unreadable, empty, silent or implausible files (and any error while reading one)
get ``error`` set and the run goes on. Exit status: 0 when at least one file was classified, 1 when none
could be, 2 on a usage mistake. ``--plot DIR`` draws one emotion timeline PNG per file.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import EXIT_FAILED, EXIT_OK, UserError
from hf_ser.infer.predict.inputs import SKIPPED, scan_inputs
from hf_ser.infer.predict.model import load_classifier
from hf_ser.infer.predict.options import (
    AGGREGATES,
    DEFAULT_MAX_SECONDS,
    POOL_SECONDS,
    SEGMENT_MODES,
    PredictError,
    PredictOptions,
)
from hf_ser.infer.predict.predictor import Predictor
from hf_ser.infer.predict.rows import FORMATS, RowWriter, format_for, resume_key
from hf_ser.infer.predict.timeline import plot_name, plot_timeline
from hf_ser.infer.segments import VadParams
from hf_ser.safe_io import display_path

logger = logging.getLogger("hf_ser.infer.predict")

EXAMPLES = """
Examples:
  hf-ser predict clip.wav --model runs/demo/multi-neo_latin-seed0
  hf-ser predict recordings/ --model org/ser-model --output labels.csv --verbose
  hf-ser predict interview.m4a --segment vad --plot timelines/ --model runs/demo/multi-neo_latin-seed0
  hf-ser predict recordings/ --onnx runs/demo/onnx --format jsonl | head -1
"""


def build_parser() -> ArgumentParser:
    """The predict command's flags."""
    doc = __doc__ or ""
    parser = ArgumentParser(
        prog="hf-ser predict",
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1] + EXAMPLES,
    )
    _add_io_arguments(parser)
    _add_segment_arguments(parser)
    _add_vad_arguments(parser)
    _add_run_arguments(parser)
    return parser


def _add_io_arguments(parser: ArgumentParser) -> None:
    """The inputs, the model and the output: paths, --model, --output, --format, --resume."""
    parser.add_argument("paths", nargs="+", help="audio files, folders or manifests (.csv/.jsonl with a path column)")
    parser.add_argument(
        "--model",
        default=None,
        help="model: a run folder, its model/ folder, a `hub push --dry_run` folder or a Hub id (org/name); "
        "not needed with --onnx",
    )
    parser.add_argument("--output", default=None, help="write to this file (.csv, .jsonl, .json) instead of stdout")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: from --output's suffix, else a table on stdout)",
    )
    parser.add_argument("--resume", action="store_true", help="skip the files already complete in --output")


def _add_segment_arguments(parser: ArgumentParser) -> None:
    """How files are cut into segments: --segment, --window, --hop, --max_seconds."""
    parser.add_argument(
        "--segment",
        choices=SEGMENT_MODES,
        default="auto",
        help="auto: none for files of at most --max_seconds, vad above (default auto)",
    )
    parser.add_argument("--window", type=float, default=4.0, help="--segment fixed: window length in s (default 4)")
    parser.add_argument(
        "--hop", type=float, default=None, help="--segment fixed: s between window starts (default half a window)"
    )
    parser.add_argument(
        "--max_seconds",
        type=float,
        default=DEFAULT_MAX_SECONDS,
        help="longest clip given to the "
        "model: the crop of --segment none and the longest VAD segment (default 20, the training "
        "crop; 0 = no limit)",
    )


def _add_vad_arguments(parser: ArgumentParser) -> None:
    """The VAD's settings (--segment vad), defaults from :class:`VadParams`."""
    d = VadParams()
    parser.add_argument(
        "--vad_threshold",
        type=float,
        default=d.threshold,
        help=f"VAD speech probability threshold (default {d.threshold:g})",
    )
    parser.add_argument(
        "--min_speech",
        type=float,
        default=d.min_speech,
        help=f"drop speech shorter than this, s (default {d.min_speech:g})",
    )
    parser.add_argument(
        "--min_silence",
        type=float,
        default=d.min_silence,
        help=f"a pause this long (s) ends a segment (default {d.min_silence:g})",
    )
    parser.add_argument(
        "--speech_pad",
        type=float,
        default=d.speech_pad,
        help=f"s added on each side of a segment (default {d.speech_pad:g})",
    )
    parser.add_argument(
        "--merge_gap",
        type=float,
        default=d.merge_gap,
        help=f"join segments closer than this, s (default {d.merge_gap:g})",
    )


def _add_run_arguments(parser: ArgumentParser) -> None:
    """Aggregation, batching, device, plots, progress and the ONNX backend."""
    parser.add_argument(
        "--aggregate",
        choices=AGGREGATES,
        default="mean",
        help="file row from its segments: "
        "duration-weighted mean of probabilities (default), per-emotion max, or vote share",
    )
    parser.add_argument("--top_k", type=int, default=None, help="labels listed in `scores` (default: all)")
    parser.add_argument(
        "--batch_size", type=int, default=8, help="segments per forward pass, sorted by length (default 8)"
    )
    parser.add_argument(
        "--pool_seconds",
        type=float,
        default=POOL_SECONDS,
        help="audio (s) gathered and sorted by "
        "length before each pass through the model: more batches better, a kill loses more "
        "(default 300)",
    )
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--plot", default=None, metavar="DIR", help="write one emotion timeline PNG per file here")
    parser.add_argument("--no_progress", action="store_true", help="no progress bars (model loading included)")
    parser.add_argument(
        "--verbose", action="store_true", help="list every skipped or failed file on stderr as it comes"
    )
    parser.add_argument(
        "--onnx",
        default=None,
        metavar="DIR",
        help="run this ONNX export (written by `hf-ser export RUN --output_dir DIR`) with onnxruntime instead of "
        "PyTorch; replaces --model (given both, they must be the same model)",
    )


def options_from_args(args) -> PredictOptions:
    """PredictOptions from parsed flags (checked; UserError on a bad value)."""
    vad = VadParams(
        threshold=args.vad_threshold,
        min_speech=args.min_speech,
        min_silence=args.min_silence,
        speech_pad=args.speech_pad,
        merge_gap=args.merge_gap,
    )
    return PredictOptions(
        segment=args.segment,
        window=args.window,
        hop=args.hop,
        vad=vad,
        max_seconds=args.max_seconds,
        aggregate=args.aggregate,
        top_k=args.top_k,
        batch_size=args.batch_size,
        pool_seconds=args.pool_seconds,
    ).checked()


def summary_line(n_done: int, errors: Counter, seconds: float, audio_seconds: float, output: str | None) -> str:
    """The one line predict ends with: how many files were classified, skipped or failed (grouped by reason),
    the speed (only when something was classified: files/s of nothing is noise) and the file written."""
    n_skipped = errors.get(SKIPPED, 0)
    failed = Counter({r: n for r, n in errors.items() if r != SKIPPED})
    n_ok = n_done - n_skipped - sum(failed.values())
    parts = [f"classified {n_ok} of {n_done - n_skipped} audio file(s)"]
    if n_ok:
        parts[0] += f" in {seconds:.1f} s: {n_done / seconds:.1f} files/s, {audio_seconds / seconds:.1f}x real time"
    else:
        parts[0] = f"nothing classified: 0 of {n_done - n_skipped} audio file(s)"
    if n_skipped:
        parts.append(f"skipped {n_skipped} file(s) that are not audio")
    if failed:
        parts.append(f"{sum(failed.values())} error(s): " + ", ".join(f"{n} {r}" for r, n in failed.most_common()))
    if output:
        parts.append(f"wrote {display_path(output)}")
    return "; ".join(parts)


@command
def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code (0 when at least one file was classified, 1 when none was)."""
    setup_logging()
    args = build_parser().parse_args(argv)
    options = options_from_args(args)
    fmt = format_for(args.output, args.format)
    if args.resume and (not args.output or fmt == "table"):
        raise UserError("--resume needs --output in csv, jsonl or json (the file whose finished rows are kept)")
    inputs = scan_inputs(args.paths)
    files = inputs.files
    if not files:
        raise PredictError(f"no file found in {', '.join(inputs.empty)}; give a folder with audio files")
    for folder in inputs.empty:
        logger.warning("no file in %s", folder)
    classifier = load_classifier(args.model, args.device, onnx=args.onnx, progress=not args.no_progress)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a terminal that cannot show a character gets '?', not a crash
    writer = RowWriter(fmt, args.output, resume=args.resume)
    todo = [f for f in files if resume_key(f, fmt) not in writer.done]
    n_ok = sum(writer.done.get(resume_key(f, fmt), False) for f in files if resume_key(f, fmt) in writer.done)
    if len(todo) < len(files):
        logger.info(
            "--resume: %d of %d file(s) already in %s", len(files) - len(todo), len(files), display_path(args.output)
        )
    predictor = Predictor(classifier, options, progress=not args.no_progress, skipped=inputs.skipped)
    start = time.perf_counter()
    n_done, errors = 0, Counter()
    try:
        with tqdm(total=len(todo), unit="file", desc="classifying", disable=args.no_progress or None) as bar:
            for rows in predictor.run(todo):
                writer.write(rows)
                file_row = rows[-1]
                n_done += 1
                if file_row["error"]:
                    errors[file_row["error"].split(":")[0]] += 1
                    if args.verbose:
                        logger.info("%s: %s", display_path(file_row["path"]), file_row["error"])
                else:
                    n_ok += 1
                if args.plot:
                    try:
                        plot_timeline(rows, Path(args.plot) / plot_name(file_row["path"]))
                    except ValueError as e:  # a plot that cannot be drawn never costs the results
                        logger.warning("no timeline for %s: %s", display_path(file_row["path"]), e)
                bar.update(1)
    finally:
        writer.close()
    seconds = max(time.perf_counter() - start, 1e-9)
    line = summary_line(n_done, errors, seconds, predictor.audio_seconds, args.output)
    if inputs.hidden:
        line += f"; ignored {inputs.hidden} hidden file(s)"
    print(line + ("" if n_ok else " (see the error column)"), file=sys.stderr)
    return EXIT_OK if n_ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
