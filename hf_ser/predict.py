"""``python -m hf_ser.predict PATH... --model DIR_OR_HUB_ID``: label the emotion of audio files.

PATH can be audio files, folders (searched recursively for the formats soundfile decodes: wav, flac, ogg,
aiff/aif and, with libsndfile >= 1.1, mp3) or manifests (.csv / .jsonl with a ``path`` column; relative paths
are resolved against the manifest's folder). Files are decoded with soundfile (no ffmpeg), prepared exactly as
for training (:func:`hf_ser.audio.preprocess`: mono, resampling, silence trimming, loudness normalisation)
and classified by the stock ``transformers.pipeline("audio-classification")`` in batches of similar length.
Results come back in input order, one row per file: ``path, label, score, scores, error``.

Unreadable, empty or silent files get a row with ``error`` set and the run goes on; the exit code is non-zero
only when no file at all could be classified. ``--chunk_seconds S`` classifies long recordings in windows of
about S seconds and reports every window and, per file, the mean of the window probabilities.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from .audio import AudioError, PreprocessConfig, preprocess, read_audio, resample, to_mono
from .corpora.base import walk_files
from .corpora.manifest import read_manifest_rows
from .sampling import length_sorted_order

logger = logging.getLogger("hf_ser.predict")

MANIFEST_SUFFIXES = (".csv", ".jsonl", ".ndjson")
FORMATS = ("table", "json", "csv")
DEFAULT_MAX_SECONDS = PreprocessConfig().max_seconds  # the training crop


class PredictError(RuntimeError):
    """A usage problem (no input, model not loadable); the message names the cause and the fix."""


def audio_extensions() -> tuple[str, ...]:
    """File suffixes searched in folders: the formats this soundfile build can decode."""
    exts = [".wav", ".flac", ".ogg", ".aiff", ".aif"]
    if "MP3" in sf.available_formats():
        exts.append(".mp3")
    return tuple(exts)


def collect_inputs(paths: Sequence[str | Path]) -> list[str]:
    """Expand files, folders (recursive) and manifests into a list of audio paths, in the order given."""
    files: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found, _ = walk_files(p, audio_extensions())
            if not found:
                logger.warning("no audio file (%s) under %s", " ".join(audio_extensions()), p)
            files += [str(f) for f in found]
        elif p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES:
            rows = read_manifest_rows(p)
            if rows and "path" not in rows[0]:
                raise PredictError(f"manifest {p} has no 'path' column (columns: {', '.join(rows[0])}); "
                                   f"add one with the audio file of each row")
            for row in rows:
                q = Path(str(row["path"]).strip())
                files.append(str(q if q.is_absolute() else p.parent / q))
        else:
            files.append(str(p))  # a missing or unreadable file becomes an error row
    return files


def resolve_model(model: str) -> str:
    """A model folder (a run folder's model/ is found too) or a Hub id, as given."""
    p = Path(model).expanduser()
    if p.is_dir():
        if (p / "config.json").is_file():
            return str(p)
        if (p / "model" / "config.json").is_file():
            return str(p / "model")
        raise PredictError(f"{p} holds no config.json: give a run's model/ folder, a folder written by "
                           f"`python -m hf_ser.hub push --dry_run`, or a Hub model id")
    return model


def load_classifier(model: str, device: str | None = None, onnx: str | None = None):
    """The stock ``pipeline("audio-classification")`` of a local folder or Hub id, on `device` (default: cuda if any).

    With `onnx` (issue 15): an onnxruntime classifier of that exported folder/file, same call interface.
    """
    from transformers import pipeline

    if onnx:  # issue 15: ONNX export (hf_ser.export), optional onnxruntime extra
        from .export import OnnxAudioClassifier

        return OnnxAudioClassifier(onnx)

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise PredictError("--device cuda was asked but torch sees no CUDA GPU; use --device cpu")
    path = resolve_model(model)
    try:
        return pipeline("audio-classification", model=path, feature_extractor=path, device=device)
    except (OSError, ValueError) as e:
        raise PredictError(
            f"could not load the model {model!r}: {e}\nGive a run's model/ folder, a folder written by "
            f"`python -m hf_ser.hub push --dry_run`, or a Hub id (downloaded once into the Hugging Face cache; "
            f"with HF_HUB_OFFLINE=1 only the cache is used).") from None


def split_windows(wave: np.ndarray, sr: int, seconds: float) -> list[tuple[float, float, np.ndarray]]:
    """Consecutive windows of `seconds` (start s, end s, samples); a tail shorter than half a window joins the last one."""
    hop = max(1, int(round(seconds * sr)))
    starts = list(range(0, len(wave), hop))
    if len(starts) > 1 and len(wave) - starts[-1] < hop / 2:
        starts.pop()
    ends = starts[1:] + [len(wave)]
    return [(s / sr, e / sr, wave[s:e]) for s, e in zip(starts, ends)]


def _duration(path: str) -> float:
    try:
        info = sf.info(path)
        return info.frames / info.samplerate
    except Exception:  # unreadable: it fails again, with its reason, when decoded
        return 0.0


def _top(probs: dict[str, float], k: int) -> dict[str, float]:
    return dict(sorted(probs.items(), key=lambda kv: -kv[1])[:k])


def classify(
    files: Sequence[str | Path],
    classifier,
    top_k: int | None = None,
    batch_size: int = 8,
    chunk_seconds: float | None = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    progress: bool = True,
) -> list[dict]:
    """One row per file, in input order: path, label, score, scores (top_k label -> probability), error.

    With `chunk_seconds`, rows also hold ``windows`` (start, end, label, score, scores, error per window) and
    the file's label is the arg-max of the mean window probabilities.
    """
    files = [str(f) for f in files]
    sr = int(classifier.feature_extractor.sampling_rate)
    config = classifier.model.config
    k = config.num_labels if top_k is None else max(1, min(int(top_k), config.num_labels))
    cfg = PreprocessConfig(sampling_rate=sr, max_seconds=None)
    rows = [{"path": f, "label": None, "score": None, "scores": None, "error": None} for f in files]
    windows: list[list[dict]] = [[] for _ in files]
    order = length_sorted_order([int(_duration(f) * sr) for f in files])
    position = np.empty(len(files), dtype=np.int64)
    position[order] = np.arange(len(files))
    queue: deque[tuple[int, int]] = deque()  # (file, window) of every array handed to the pipeline, in order
    cropped: list[str] = []

    def arrays() -> Iterator[dict]:
        for i in order:
            try:
                data, file_sr = read_audio(files[i])
                if chunk_seconds:
                    pieces = split_windows(resample(to_mono(data), file_sr, sr), sr, chunk_seconds)
                else:
                    wave = preprocess(data, file_sr, cfg)
                    if max_seconds and len(wave) > max_seconds * sr:
                        wave = wave[: int(max_seconds * sr)]
                        cropped.append(files[i])
                    pieces = [(0.0, len(wave) / sr, wave)]
            except AudioError as e:
                rows[i]["error"] = str(e)
                continue
            for w, (start, end, piece) in enumerate(pieces):
                if chunk_seconds:
                    windows[i].append({"start": round(start, 3), "end": round(end, 3), "label": None,
                                       "score": None, "scores": None, "error": None})
                    try:
                        piece = preprocess(piece, sr, cfg)
                    except AudioError as e:
                        windows[i][w]["error"] = str(e)
                        continue
                queue.append((int(i), w))
                yield {"raw": piece, "sampling_rate": sr}

    window_probs: list[list[np.ndarray]] = [[] for _ in files]
    labels = [config.id2label[j] for j in range(config.num_labels)]
    with tqdm(total=len(files), unit="file", desc="classifying", disable=not progress or None) as bar:
        for out in classifier(arrays(), batch_size=batch_size, top_k=None):
            i, w = queue.popleft()
            probs = {d["label"]: float(d["score"]) for d in out}
            target = windows[i][w] if chunk_seconds else rows[i]
            best = max(probs, key=probs.get)
            target.update(label=best, score=probs[best], scores=_top(probs, k))
            window_probs[i].append(np.array([probs[label] for label in labels]))
            bar.update(int(position[i]) - bar.n)  # files earlier in the length order are finished
        bar.update(len(files) - bar.n)
    if chunk_seconds:
        for i, row in enumerate(rows):
            row["windows"] = windows[i]
            if row["error"]:
                continue
            if not window_probs[i]:
                row["error"] = "no window could be classified: every window is silent or too short"
                continue
            mean = np.mean(window_probs[i], axis=0)
            probs = {label: float(p) for label, p in zip(labels, mean)}
            best = labels[int(mean.argmax())]
            row.update(label=best, score=probs[best], scores=_top(probs, k))
    if cropped:
        logger.warning("%d file(s) longer than %g s after trimming were classified on their first %g s (the training "
                       "crop), e.g. %s; use --chunk_seconds to cover them whole", len(cropped), max_seconds,
                       max_seconds, cropped[0])
    return rows


# ----------------------------------------------------------------------------- output


def _fmt(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _rounded(scores: dict[str, float] | None) -> dict[str, float] | None:
    return None if scores is None else {k: round(v, 6) for k, v in scores.items()}


def to_json(rows: list[dict]) -> str:
    """A JSON list with one object per file (windows nested under ``windows`` in chunk mode)."""
    def clean(r: dict) -> dict:
        out = {**r, "score": None if r["score"] is None else round(r["score"], 6), "scores": _rounded(r["scores"])}
        if "windows" in r:
            out["windows"] = [clean(w) for w in r["windows"]]
        return out

    return json.dumps([clean(r) for r in rows], indent=2, ensure_ascii=False)


def _flat_rows(rows: list[dict]) -> tuple[list[str], list[dict]]:
    if not any("windows" in r for r in rows):
        return ["path", "label", "score", "scores", "error"], rows
    flat = []
    for r in rows:
        ws = r.get("windows", [])
        span = {"start": ws[0]["start"], "end": ws[-1]["end"]} if ws else {"start": None, "end": None}
        flat.append({**r, "kind": "file", **span})
        flat += [{"path": r["path"], "kind": "window", **w} for w in ws]
    return ["path", "kind", "start", "end", "label", "score", "scores", "error"], flat


def to_csv(rows: list[dict]) -> str:
    """CSV, one row per file (and per window, ``kind`` = file | window, in chunk mode); scores as JSON."""
    columns, flat = _flat_rows(rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in flat:
        writer.writerow({**r, "score": _fmt(r["score"], 6),
                         "scores": "" if r["scores"] is None else json.dumps(_rounded(r["scores"])),
                         "error": r["error"] or ""})
    return buf.getvalue()


def to_table(rows: list[dict]) -> str:
    """An aligned text table for the terminal."""
    columns, flat = _flat_rows(rows)
    header = ["path", "window", "label", "score", "scores", "error"] if "kind" in columns else \
        ["path", "label", "score", "scores", "error"]
    lines = []
    for r in flat:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in (r["scores"] or {}).items())
        cells = {"path": r["path"] if r.get("kind", "file") == "file" else "",
                 "window": "" if r.get("start") is None else f"{r['start']:.2f}-{r['end']:.2f} s",
                 "label": r["label"] or "-", "score": _fmt(r["score"], 3), "scores": scores, "error": r["error"] or ""}
        lines.append([cells[c] for c in header])
    widths = [max(len(h), *(len(l[j]) for l in lines)) if lines else len(h) for j, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(l, widths)).rstrip() for l in lines]
    return "\n".join(out)


WRITERS = {"table": to_table, "json": to_json, "csv": to_csv}


def _format_for(output: str | None, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower().lstrip(".") if output else ""
    return suffix if suffix in ("json", "csv") else "table"


def error_summary(rows: list[dict]) -> str:
    """'3 error(s): 1 empty file, 1 unreadable, ...' (empty when there is none)."""
    reasons = Counter(r["error"].split(":")[0] for r in rows if r["error"])
    if not reasons:
        return ""
    return f"{sum(reasons.values())} error(s): " + ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code (0 when at least one file was classified)."""
    parser = argparse.ArgumentParser(prog="python -m hf_ser.predict", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("paths", nargs="+", help="audio files, folders or manifests (.csv/.jsonl with a path column)")
    parser.add_argument("--model", required=True, help="model folder (a run's model/ or a --dry_run folder) or Hub id")
    parser.add_argument("--top_k", type=int, default=None, help="labels listed in `scores` (default: all)")
    parser.add_argument("--format", choices=FORMATS, default=None, help="output format (default: from --output, else table)")
    parser.add_argument("--output", default=None, help="write to this file instead of stdout")
    parser.add_argument("--batch_size", type=int, default=8, help="files per forward pass (sorted by length)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--chunk_seconds", type=float, default=None, help="classify windows of this length")
    parser.add_argument("--onnx", default=None, help="run this ONNX export (python -m hf_ser.export) with onnxruntime")
    parser.add_argument("--max_seconds", type=float, default=DEFAULT_MAX_SECONDS,
                        help="without --chunk_seconds, classify the first S seconds (the training crop; 0 = whole file)")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    if args.top_k is not None and args.top_k < 1:
        parser.error("--top_k must be at least 1")
    if args.batch_size < 1 or (args.chunk_seconds is not None and args.chunk_seconds <= 0):
        parser.error("--batch_size and --chunk_seconds must be positive")
    try:
        files = collect_inputs(args.paths)
        if not files:
            raise PredictError(f"no audio file found in {' '.join(args.paths)} (searched for {' '.join(audio_extensions())})")
        classifier = load_classifier(args.model, args.device, onnx=args.onnx)
    except (PredictError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows = classify(files, classifier, top_k=args.top_k, batch_size=args.batch_size,
                    chunk_seconds=args.chunk_seconds, max_seconds=args.max_seconds or None)
    seconds = max(time.perf_counter() - start, 1e-9)
    text = WRITERS[_format_for(args.output, args.format)](rows)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    n_ok = sum(r["error"] is None for r in rows)
    summary = error_summary(rows)
    print(f"classified {n_ok} of {len(rows)} file(s) in {seconds:.1f} s: {len(rows) / seconds:.1f} files/s"
          + (f"; {summary}" if summary else "") + (f"; wrote {args.output}" if args.output else ""), file=sys.stderr)
    if n_ok == 0:
        print("error: no file could be classified (see the error column)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
