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
import csv
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator
from tqdm.auto import tqdm
from transformers import AutoConfig, pipeline

from hf_ser.console import ArgumentParser, check_local_folder, command, setup_logging
from hf_ser.data.audio import AudioError, PreprocessConfig, check_audio_file, finish_mono, load_mono
from hf_ser.data.corpora.manifest import MANIFEST_SUFFIXES, read_manifest_rows
from hf_ser.data.corpora.scan import AUDIO_EXTENSIONS, walk_files
from hf_ser.errors import EXIT_FAILED, EXIT_OK, UserError
from hf_ser.infer.export import OnnxAudioClassifier, loading_bars
from hf_ser.infer.segments import VadParams, fixed_segments, iter_segment_audio, vad_segments
from hf_ser.safe_io import atomic_write_text, display_path, safe_name, spreadsheet_safe

logger = logging.getLogger("hf_ser.infer.predict")

FORMATS = ("csv", "jsonl", "json", "table")
SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
SEGMENT_MODES = ("auto", "none", "vad", "fixed")
AGGREGATES = ("mean", "max", "vote")
COLUMNS = ("path", "kind", "start", "end", "label", "score", "scores", "error")
DEFAULT_MAX_SECONDS = PreprocessConfig().max_seconds  # the training crop (20 s)
NONE_READ_SECONDS = 600.0  # `--segment none` decodes at most this much of a file: 38 MB at 16 kHz
LONG_FILE_SECONDS = 300.0  # a file at least this long gets its own progress bars (VAD, segments)
POOL_SECONDS = 300.0  # audio gathered (19 MB as float32) and sorted by length before each classifier pass;
# the files whose segments are in the pool are "in flight": a kill loses at most them
POOL_ITEMS = 512  # ... or this many segments, whichever comes first
# Ogg Opus (.opus) is read by libsndfile >= 1.0.29 (soundfile lists OPUS among the OGG subtypes)
SOUNDFILE_OPUS = "OPUS" in sf.available_subtypes("OGG")
# what a folder scan classifies: the formats soundfile decodes, plus those only ffmpeg decodes (each of those
# files gets a row saying how to convert it when the ffmpeg binary is absent)
FFMPEG_EXTENSIONS: tuple[str, ...] = (".m4a", ".aac", ".mp4", ".wma", ".webm", ".amr", ".3gp", ".mka") + tuple(
    e for e, ok in ((".opus", SOUNDFILE_OPUS), (".mp3", ".mp3" in AUDIO_EXTENSIONS)) if not ok
)
SCAN_EXTENSIONS: tuple[str, ...] = AUDIO_EXTENSIONS + ((".opus",) if SOUNDFILE_OPUS else ()) + FFMPEG_EXTENSIONS
FFMPEG_TIMEOUT = 3600.0  # s: decoding an hour of AAC takes seconds; only a wedged ffmpeg takes this long
EMOTION_COLOURS = {
    "anger": "#d62728",
    "disgust": "#2ca02c",
    "fear": "#9467bd",
    "happiness": "#ff7f0e",
    "neutral": "#0f7f8c",
    "sadness": "#1f4fb4",
}
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
MINUTES_FROM = 120.0  # s: a timeline this long or longer is labelled in minutes
POINTS_FROM = 20  # segments: above this many, probabilities are drawn as joined points at segment centres
SKIPPED = "skipped"  # the reason of a folder file that is not audio (the error column of its row)


class PredictError(UserError):
    """A usage problem (no input, model not loadable); the message names the cause and the fix."""


@dataclass(frozen=True)
class PredictOptions:
    """How files are cut into segments, classified and summarised (the CLI flags of the same names).

    hop None means half a window (overlapping windows: every moment is seen by two windows, so a change
    of emotion is not missed at a window edge). max_seconds is the crop for ``none`` and the longest
    VAD segment or window (0/None: no limit).
    """

    segment: str = "auto"
    window: float = 4.0
    hop: float | None = None
    vad: VadParams = field(default_factory=VadParams)
    max_seconds: float | None = DEFAULT_MAX_SECONDS
    aggregate: str = "mean"
    top_k: int | None = None
    batch_size: int = 8
    pool_seconds: float = POOL_SECONDS

    def checked(self) -> PredictOptions:
        """These options with the VAD's max segment tied to max_seconds; UserError naming a bad value."""
        if self.segment not in SEGMENT_MODES:
            raise UserError(f"--segment must be one of {', '.join(SEGMENT_MODES)}, got {self.segment!r}")
        if self.aggregate not in AGGREGATES:
            raise UserError(f"--aggregate must be one of {', '.join(AGGREGATES)}, got {self.aggregate!r}")
        if self.batch_size < 1 or (self.top_k is not None and self.top_k < 1):
            raise UserError("--batch_size and --top_k must be at least 1")
        if self.pool_seconds <= 0:
            raise UserError("--pool_seconds must be positive")
        if self.window <= 0 or (self.hop is not None and self.hop <= 0):
            raise UserError("--window and --hop must be positive")
        if self.segment == "fixed" and self.max_seconds and self.window > self.max_seconds:
            raise UserError(
                f"--window {self.window:g} is longer than --max_seconds {self.max_seconds:g} (the "
                "training crop); use a shorter window or raise --max_seconds"
            )
        vad = replace(self.vad, max_segment=float(self.max_seconds or 0))
        try:
            vad.check()
        except ValueError as e:
            raise UserError(str(e)) from None
        return replace(self, vad=vad, max_seconds=self.max_seconds or None)

    @property
    def window_hop(self) -> float:
        """The hop between fixed windows (half a window unless given)."""
        return self.hop if self.hop else self.window / 2


# ----------------------------------------------------------------------------- inputs and model


@dataclass
class Inputs:
    """What the paths given to predict expand to: the files to classify, in order, and why some are skipped.

    ``skipped`` maps a file found in a folder that is not audio (``notes.txt``) to the reason; such a file is
    still in ``files`` so that it gets its row in order (with the reason as its error). ``hidden`` counts the
    dot files and macOS metadata a folder scan ignores; ``empty`` lists the folders that hold no file at all.
    """

    files: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    hidden: int = 0
    empty: list[str] = field(default_factory=list)


def scan_inputs(paths: Sequence[str | Path]) -> Inputs:
    """Expand files, folders (recursive) and manifests into the files to classify, in the order given.

    In a folder every file is accounted for: audio files (SCAN_EXTENSIONS) are classified, any other file gets
    a ``skipped`` row naming its suffix. Only regular files are read as manifests; anything else (a missing
    path, a FIFO named ``x.wav``) is passed on and becomes an error row when it is checked.
    """
    out = Inputs()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found, hidden = walk_files(p, ("",))  # "" matches every name: nothing in the folder goes unseen
            out.hidden += hidden
            if not found:
                out.empty.append(display_path(p) + (f" ({hidden} hidden file(s) ignored)" if hidden else ""))
            for f in map(str, found):
                out.files.append(f)
                suffix = Path(f).suffix.lower()
                if suffix not in SCAN_EXTENSIONS:
                    out.skipped[f] = f"{SKIPPED}: not an audio file ({suffix or 'no suffix'})"
        elif p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES:
            try:
                rows = read_manifest_rows(p)
            except (ValueError, UnicodeDecodeError, csv.Error) as e:
                raise PredictError(f"cannot read the manifest {display_path(p)}: {display_path(str(e))}") from None
            if rows and "path" not in rows[0]:
                raise PredictError(
                    f"manifest {display_path(p)} has no 'path' column (columns: "
                    f"{', '.join(map(str, rows[0]))}); add one with the audio file of each row"
                )
            for row in rows:
                q = Path(str(row["path"]).strip())
                out.files.append(str(q if q.is_absolute() else p.parent / q))
        else:
            out.files.append(str(p))  # a missing, special or unreadable file becomes an error row
    return out


def collect_inputs(paths: Sequence[str | Path]) -> list[str]:
    """The audio files to classify from files, folders and manifests (:func:`scan_inputs` minus skipped files)."""
    inputs = scan_inputs(paths)
    return [f for f in inputs.files if f not in inputs.skipped]


def ffmpeg_decode(path: str, sampling_rate: int) -> str:
    """Decode a file libsndfile cannot read (AAC in .m4a, ...) with the ffmpeg binary into a temporary mono
    float32 WAV at `sampling_rate`; returns its path (the caller deletes it). AudioError when ffmpeg is absent
    (with the command that converts the file) or fails.
    """
    name = display_path(path)
    binary = shutil.which("ffmpeg")
    if binary is None:
        raise AudioError(
            "needs ffmpeg",
            f"libsndfile cannot read {Path(path).suffix or 'this format'} files; convert it with "
            f"`ffmpeg -i '{name}' '{Path(name).with_suffix('.wav')}'`, or install ffmpeg and hf-ser decodes it itself",
        )
    fd, tmp = tempfile.mkstemp(suffix=".wav", prefix="hf_ser-")
    os.close(fd)
    command = [binary, "-nostdin", "-v", "error", "-y", "-i", path, "-vn", "-ac", "1", "-ar", str(sampling_rate)]
    try:
        done = subprocess.run(
            [*command, "-c:a", "pcm_f32le", "-f", "wav", tmp], capture_output=True, timeout=FFMPEG_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        os.unlink(tmp)
        raise AudioError("unreadable", f"ffmpeg took over {FFMPEG_TIMEOUT:g} s on {name}") from None
    if done.returncode != 0:
        os.unlink(tmp)
        reason = " ".join(done.stderr.decode("utf-8", "replace").split())[-200:]
        raise AudioError("unreadable", f"ffmpeg could not decode it: {display_path(reason)}")
    return tmp


def resolve_model(model: str, flag: str = "--model") -> str:
    """A model folder (a run folder's model/ is found too) or a Hub id, as given.

    A value that looks like a local path (:func:`~hf_ser.console.looks_like_path`) and is not a folder is a
    UserError naming `flag`, never a Hub lookup with a confusing "Repo id must be..." message.
    """
    check_local_folder(model, flag)
    p = Path(model).expanduser()
    if p.is_dir():
        if (p / "config.json").is_file():
            return str(p)
        if (p / "model" / "config.json").is_file():
            return str(p / "model")
        raise PredictError(
            f"{flag} {display_path(p)} holds no config.json: give a run's model/ folder, a folder written "
            f"by `hf-ser hub push --dry_run`, or a Hub model id"
        )
    return model


# config keys that differ between a model folder and its ONNX export without changing the model
_CONFIG_NOISE = (
    "_name_or_path",
    "transformers_version",
    "torch_dtype",
    "dtype",
    "architectures",
    "_attn_implementation",
)


def check_same_model(model: str, onnx: str) -> None:
    """UserError when --model and --onnx name different models (their config.json differ beyond bookkeeping).

    --onnx alone is enough (the export carries its config.json and extractor); --model beside it is only checked.
    """
    path = resolve_model(model)
    folder = Path(onnx) if Path(onnx).is_dir() else Path(onnx).parent
    try:
        mine = AutoConfig.from_pretrained(path).to_dict()
        theirs = AutoConfig.from_pretrained(folder).to_dict()
    except (OSError, ValueError) as e:
        raise PredictError(
            f"cannot compare --model {model} with --onnx {display_path(onnx)} ({display_path(str(e))[:120]}); "
            "drop --model: the ONNX export carries its own config"
        ) from None
    differ = sorted(k for k in mine.keys() | theirs.keys() if k not in _CONFIG_NOISE and mine.get(k) != theirs.get(k))
    if differ:
        raise PredictError(
            f"--model {model} and --onnx {display_path(onnx)} are different models (config differs in "
            f"{', '.join(differ[:5])}); give --onnx alone"
        )


def load_classifier(model: str | None, device: str | None = None, onnx: str | None = None, progress: bool = True):
    """The stock ``pipeline("audio-classification")`` of a local folder or Hub id, on `device` (default: cuda if any).

    Everything else in this module uses only this interface, so any object offering it can stand in (an
    ONNX Runtime session, a remote endpoint): ``classifier(iterable of {"raw", "sampling_rate"}, batch_size=,
    top_k=None)`` yielding one list of ``{"label", "score"}`` per input, ``classifier.feature_extractor.sampling_rate``
    and ``classifier.model.config.id2label``. With `onnx`, an onnxruntime session of that export
    (``hf-ser export``) is that object, and `model` (optional) must be the same model. `progress` False hides
    transformers' "Loading weights" bar.
    """

    if onnx:  # an ONNX export, run by onnxruntime (the onnx extra)
        if Path(onnx).suffix != ".onnx":  # a folder (a .onnx file is checked by the classifier)
            check_local_folder(onnx, "--onnx")
        if model:
            check_same_model(model, onnx)
        return OnnxAudioClassifier(onnx)
    if not model:
        raise PredictError("give the model: --model RUN_OR_MODEL_DIR_OR_HUB_ID, or --onnx EXPORT_DIR")
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise PredictError("--device cuda was asked but torch sees no CUDA GPU; use --device cpu")
    path = resolve_model(model)
    try:
        with loading_bars(progress):
            return pipeline("audio-classification", model=path, feature_extractor=path, device=device)
    except (OSError, ValueError) as e:
        raise PredictError(
            f"could not load --model {model!r}: {display_path(str(e))} -- give a run's model/ folder, a folder "
            f"written by `hf-ser hub push --dry_run`, or a Hub id (downloaded once into the Hugging Face "
            f"cache; with HF_HUB_OFFLINE=1 only the cache is used)"
        ) from None


def classifier_labels(classifier) -> list[str]:
    """The model's labels in class-index order."""
    id2label = classifier.model.config.id2label
    return [id2label[i] for i in range(len(id2label))]


def classifier_rate(classifier) -> int:
    """The sampling rate the classifier's feature extractor expects."""
    return int(classifier.feature_extractor.sampling_rate)


# ----------------------------------------------------------------------------- classification


@dataclass
class _Job:
    """One input file on its way through segmentation, the classifier pool and aggregation."""

    path: str
    mode: str = "none"
    duration: float = 0.0
    spans: list[tuple[float, float]] = field(default_factory=list)
    probs: dict[int, np.ndarray] = field(default_factory=dict)
    seg_errors: dict[int, str] = field(default_factory=dict)
    submitted: int = 0
    planned: bool = False
    error: str | None = None
    bar: tqdm | None = None


def error_reason(e: BaseException) -> str:
    """A one-line reason for an error row: an AudioError's own text, else the exception's type and message."""
    text = (
        str(e) if isinstance(e, AudioError) else f"unexpected error: {type(e).__name__}" + (f": {e}" if str(e) else "")
    )
    return " ".join(display_path(text).split())


def aggregate(spans: Sequence[tuple[float, float]], probs: Sequence[np.ndarray], how: str = "mean") -> np.ndarray:
    """The file's scores from its segments' probability vectors (one per span, same order).

    mean: duration-weighted mean (a 10 s segment counts ten times a 1 s one); max: per-emotion maximum over
    the segments (the strongest moment of each emotion; not a distribution); vote: share of segments whose
    label is each emotion (ties are broken by the mean, see :func:`pick_label`).
    """
    p = np.asarray(probs, dtype=np.float64)
    if how == "mean":
        w = np.array([max(e - s, 1e-3) for s, e in spans])
        return (p * w[:, None]).sum(axis=0) / w.sum()
    if how == "max":
        return p.max(axis=0)
    if how == "vote":
        return np.bincount(p.argmax(axis=1), minlength=p.shape[1]) / len(p)
    raise ValueError(f"unknown aggregation {how!r}; use one of {', '.join(AGGREGATES)}")


def pick_label(scores: np.ndarray, tie_break: np.ndarray | None = None) -> int:
    """Index of the highest score; among equal scores (a tied vote) the one with the highest `tie_break`."""
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    if len(best) > 1 and tie_break is not None:
        return int(best[np.argmax(tie_break[best])])
    return int(best[0])


class Predictor:
    """Classify files segment by segment with bounded memory; :meth:`run` yields each file's rows in input order.

    Segments of consecutive files are gathered in a pool (at most ``options.pool_seconds`` of audio or
    POOL_ITEMS segments), sorted by length and passed to the classifier in batches, so little padding is
    computed and a long file's segments never sit in memory all at once. A file's rows come out once all
    its segments are classified and every earlier file's rows are out.
    """

    def __init__(
        self,
        classifier,
        options: PredictOptions = PredictOptions(),
        progress: bool = False,
        skipped: dict[str, str] | None = None,
    ):
        """Bind a classifier (see :func:`load_classifier`) and checked options; files in `skipped` (path ->
        reason, see :class:`Inputs`) get a row with that reason and are never opened."""
        self.classifier = classifier
        self.skipped = skipped or {}
        self.options = options.checked()
        self.labels = classifier_labels(classifier)
        self.sr = classifier_rate(classifier)
        self.progress = progress
        self.pool: list[tuple[_Job, int, np.ndarray]] = []
        self.pool_samples = 0
        self.queue: deque[_Job] = deque()
        self.audio_seconds = 0.0
        self.cropped: list[str] = []

    # -- segmentation ----------------------------------------------------------------------------
    def _mode(self, duration: float) -> str:
        """The segmentation used for a file of `duration` seconds (``auto`` resolved)."""
        if self.options.segment != "auto":
            return self.options.segment
        return "none" if duration <= (self.options.max_seconds or DEFAULT_MAX_SECONDS) else "vad"

    def _bar(self, job: _Job, total: float, unit: str, desc: str) -> tqdm | None:
        """A second progress bar for a long file (None for short files or without progress)."""
        if not self.progress or job.duration < LONG_FILE_SECONDS:
            return None
        return tqdm(total=total, unit=unit, desc=desc, position=1, leave=False, disable=None)

    def _readable(self, path: str) -> str:
        """`path` when soundfile reads it, else a temporary WAV decoded by ffmpeg (FFMPEG_EXTENSIONS only);
        AudioError with the reason (a skipped file, no ffmpeg and how to convert, an unreadable file)."""
        if path in self.skipped:
            raise AudioError(*self.skipped[path].split(": ", 1))
        try:
            check_audio_file(path)
            return path
        except AudioError as e:
            if e.reason != "unreadable" or Path(path).suffix.lower() not in FFMPEG_EXTENSIONS:
                raise
        return ffmpeg_decode(path, self.sr)

    def _segments(self, job: _Job) -> Iterator[tuple[int, np.ndarray]]:
        """(span index, prepared samples) of each segment of a file; a segment that fails is noted in the job.

        A file only ffmpeg decodes is read from a temporary WAV, deleted once its segments are read."""
        source = self._readable(job.path)
        try:
            yield from self._source_segments(job, source)
        finally:
            if source != job.path:
                os.unlink(source)

    def _source_segments(self, job: _Job, source: str) -> Iterator[tuple[int, np.ndarray]]:
        """:meth:`_segments` reading the audio from `source` (the file itself or its ffmpeg decode)."""
        info = check_audio_file(source)
        job.duration = info.frames / info.samplerate
        self.audio_seconds += job.duration
        job.mode = self._mode(job.duration)
        opts = self.options
        if job.mode == "none":
            stop = NONE_READ_SECONDS if job.duration > NONE_READ_SECONDS else None
            wave = load_mono(source, self.sr, stop=stop)
            if opts.max_seconds and len(wave) > opts.max_seconds * self.sr:
                self.cropped.append(job.path)
            job.spans = [(0.0, job.duration)]
            yield 0, finish_mono(wave, PreprocessConfig(sampling_rate=self.sr, max_seconds=opts.max_seconds))
            return
        if job.mode == "vad":
            bar = self._bar(job, round(job.duration, 1), "s", "VAD")
            try:
                job.spans = vad_segments(source, opts.vad, on_block=(lambda n: bar.update(n / 16000)) if bar else None)
            finally:
                if bar:
                    bar.close()
            if not job.spans:
                raise AudioError("no speech found", f"the VAD found no speech (threshold {opts.vad.threshold:g})")
        else:
            job.spans = fixed_segments(job.duration, opts.window, opts.window_hop)
        job.bar = self._bar(job, len(job.spans), "segment", "segments")
        cfg = PreprocessConfig(sampling_rate=self.sr, max_seconds=None)
        for k, raw in iter_segment_audio(source, job.spans, self.sr):
            try:
                if len(raw) == 0:
                    raise AudioError("empty segment", "beyond the decoded audio")
                wave = finish_mono(raw, cfg)
            except AudioError as e:
                job.seg_errors[k] = error_reason(e)
                continue
            yield k, wave

    # -- classification --------------------------------------------------------------------------
    def _classify_pool(self) -> None:
        """Classify every pooled segment, longest first, and store its probabilities in its job."""
        items = sorted(self.pool, key=lambda item: -len(item[2]))
        self.pool, self.pool_samples = [], 0
        if not items:
            return
        inputs = ({"raw": wave, "sampling_rate": self.sr} for _, _, wave in items)
        outputs = self.classifier(inputs, batch_size=self.options.batch_size, top_k=None)
        for (job, k, _), out in zip(items, outputs):
            scores = {d["label"]: float(d["score"]) for d in out}
            job.probs[k] = np.array([scores[label] for label in self.labels])
            if job.bar is not None:
                job.bar.update(1)

    def _finished(self) -> Iterator[list[dict]]:
        """Rows of the files at the head of the queue whose segments are all classified, in input order."""
        while self.queue and self.queue[0].planned and len(self.queue[0].probs) == self.queue[0].submitted:
            job = self.queue.popleft()
            if job.bar is not None:
                job.bar.close()
            yield self.rows(job)

    def run(self, files: Iterable[str | Path]) -> Iterator[list[dict]]:
        """Each file's rows (its segment rows, then its file row), in input order, as soon as they are ready."""
        for path in files:
            job = _Job(str(path))
            self.queue.append(job)
            segments = self._segments(job)
            while True:
                try:
                    k, wave = next(segments)
                except StopIteration:
                    break
                except Exception as e:  # any failure while reading one file is that file's error row
                    job.error = error_reason(e)
                    logger.debug("%s failed", display_path(job.path), exc_info=True)
                    break
                self.pool.append((job, k, wave))
                self.pool_samples += len(wave)
                job.submitted += 1
                if self.pool_samples >= self.options.pool_seconds * self.sr or len(self.pool) >= POOL_ITEMS:
                    self._classify_pool()
                    yield from self._finished()
            job.planned = True
            yield from self._finished()
        self._classify_pool()
        yield from self._finished()
        if self.cropped:
            logger.warning(
                "%d file(s) were classified on their first %g s (the training crop), e.g. %s; use "
                "--segment vad or fixed to cover them whole",
                len(self.cropped),
                self.options.max_seconds,
                display_path(self.cropped[0]),
            )

    # -- rows ------------------------------------------------------------------------------------
    def _row(
        self,
        job: _Job,
        kind: str,
        start: float,
        end: float,
        probs: np.ndarray | None,
        error: str | None,
        tie_break: np.ndarray | None = None,
    ) -> dict:
        """One output row; ``scores`` holds the top_k labels, ``probs`` (not written) all of them."""
        row = {
            "path": job.path,
            "kind": kind,
            "start": round(float(start), 3),
            "end": round(float(end), 3),
            "label": None,
            "score": None,
            "scores": None,
            "error": error,
            "probs": None,
        }
        if probs is not None and error is None:
            best = pick_label(probs, tie_break)
            order = np.argsort(-probs, kind="stable")[: self.options.top_k or len(self.labels)]
            row.update(
                label=self.labels[best],
                score=float(probs[best]),
                scores={self.labels[j]: float(probs[j]) for j in order},
                probs={label: float(p) for label, p in zip(self.labels, probs)},
            )
        return row

    def rows(self, job: _Job) -> list[dict]:
        """A finished job's rows: one per segment (none for a whole-clip file) and the file row last."""
        if job.mode == "none" or not job.spans:
            return [self._row(job, "file", 0.0, job.duration, job.probs.get(0), job.error)]
        order = sorted(range(len(job.spans)), key=lambda k: job.spans[k])
        out = []
        for k in order:
            error = job.seg_errors.get(k)
            if k not in job.probs and error is None:
                error = job.error or "not classified"
            out.append(self._row(job, "segment", *job.spans[k], job.probs.get(k), error))
        done = [k for k in order if k in job.probs]
        if job.error:
            return out + [self._row(job, "file", 0.0, job.duration, None, job.error)]
        if not done:
            reasons = Counter(job.seg_errors[k].split(":")[0] for k in job.seg_errors)
            detail = ", ".join(f"{n} {r}" for r, n in reasons.most_common())
            return out + [self._row(job, "file", 0.0, job.duration, None, f"no segment could be classified: {detail}")]
        spans = [job.spans[k] for k in done]
        probs = [job.probs[k] for k in done]
        scores = aggregate(spans, probs, self.options.aggregate)
        tie = aggregate(spans, probs, "mean") if self.options.aggregate == "vote" else None
        return out + [self._row(job, "file", 0.0, job.duration, scores, None, tie)]


def predict_files(
    files: Iterable[str | Path], classifier, options: PredictOptions | None = None, progress: bool = False, **overrides
) -> Iterator[list[dict]]:
    """Each file's rows (segments, then the file row), in input order, as they are produced.

    `overrides` are PredictOptions fields (``segment="vad"``, ``top_k=2``...) applied to `options`.
    """
    options = replace(options or PredictOptions(), **overrides)
    yield from Predictor(classifier, options, progress).run(files)


def classify(
    files: Iterable[str | Path], classifier, options: PredictOptions | None = None, progress: bool = False, **overrides
) -> list[dict]:
    """All rows of all files in one list (the segment rows of each file before its file row)."""
    return [row for rows in predict_files(files, classifier, options, progress, **overrides) for row in rows]


# ----------------------------------------------------------------------------- output


def _num(x: float | None, digits: int) -> str:
    """A number cell ('' for None)."""
    return "" if x is None else f"{x:.{digits}f}"


def _rounded(scores: dict[str, float] | None) -> dict[str, float] | None:
    """Scores rounded to 6 decimals (None stays None)."""
    return None if scores is None else {k: round(v, 6) for k, v in scores.items()}


def json_record(row: dict) -> dict:
    """The JSON / JSON Lines object of a row (printable path and error)."""
    return {
        "path": display_path(row["path"]),
        "kind": row["kind"],
        "start": row["start"],
        "end": row["end"],
        "label": row["label"],
        "score": None if row["score"] is None else round(row["score"], 6),
        "scores": _rounded(row["scores"]),
        "error": row["error"],
    }


def csv_record(row: dict) -> list[str]:
    """The CSV cells of a row: printable, one line each, formula-like text neutralised."""
    return [
        spreadsheet_safe(display_path(row["path"])),
        row["kind"],
        _num(row["start"], 3),
        _num(row["end"], 3),
        spreadsheet_safe(row["label"] or ""),
        _num(row["score"], 6),
        "" if row["scores"] is None else json.dumps(_rounded(row["scores"])),
        spreadsheet_safe(" ".join((row["error"] or "").split())),
    ]


def to_table(rows: Sequence[dict]) -> str:
    """An aligned text table for the terminal (segment rows indented under their path)."""
    header = ["path", "kind", "span", "label", "score", "scores", "error"]
    lines = []
    for r in rows:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in (r["scores"] or {}).items())
        lines.append(
            [
                display_path(r["path"]),
                r["kind"],
                f"{r['start']:.2f}-{r['end']:.2f} s",
                r["label"] or "-",
                _num(r["score"], 3),
                scores,
                r["error"] or "",
            ]
        )
    widths = [max(len(h), *(len(line[j]) for line in lines)) if lines else len(h) for j, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join(out)


def format_for(output: str | None, fmt: str | None) -> str:
    """The output format: --format, else from the --output suffix, else a table on stdout."""
    if fmt:
        return fmt
    if not output:
        return "table"
    suffix = Path(output).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise UserError(
            f"cannot tell the format of --output {display_path(output)} from its suffix; use .csv, "
            ".jsonl or .json, or give --format"
        )
    return SUFFIX_FORMATS[suffix]


def resume_key(path: str, fmt: str) -> str:
    """How a path appears in the output (the key --resume matches inputs on)."""
    return spreadsheet_safe(display_path(path)) if fmt == "csv" else display_path(path)


def read_finished(output: Path, fmt: str) -> tuple[list, dict[str, bool], bool]:
    """Records already in `output` for files that are complete, their path keys (-> classified?), and
    whether anything was dropped (rows of a file cut short, a half-written last line).

    A file is complete when its file row (always written last) is there; the rows of any other file are
    dropped, so rerunning it gives no duplicates.
    """
    text = output.read_text(encoding="utf-8", errors="replace")
    truncated = bool(text) and not text.endswith("\n")
    if truncated:
        text = text[: text.rfind("\n") + 1]
    if fmt == "csv":
        parsed = list(csv.reader(io.StringIO(text)))
        if parsed and parsed[0] != list(COLUMNS):
            raise UserError(
                f"{display_path(output)} is not a predict CSV (header {','.join(parsed[0])[:80]}); "
                "give another --output or drop --resume"
            )
        records = [r for r in parsed[1:] if len(r) == len(COLUMNS)]
        dropped = len(records) != len(parsed) - 1
        keyed = [(r[0], r[1], r[7]) for r in records]
    elif fmt == "jsonl":
        records, dropped = [], False
        for line in text.splitlines():
            try:
                obj = json.loads(line)
                if isinstance(obj, dict) and set(COLUMNS) <= obj.keys():
                    records.append(obj)
                    continue
            except json.JSONDecodeError:
                pass
            dropped = True
        keyed = [(r["path"], r["kind"], r["error"]) for r in records]
    else:
        try:
            records = json.loads(text) if text.strip() else []
            assert isinstance(records, list) and all(set(COLUMNS) <= r.keys() for r in records)
        except (json.JSONDecodeError, AssertionError, AttributeError):
            raise UserError(
                f"{display_path(output)} is not a complete predict JSON array, so it cannot be resumed; "
                "use --format csv or jsonl for runs you may have to resume"
            ) from None
        dropped = False
        keyed = [(r["path"], r["kind"], r["error"]) for r in records]
    done = {key: not error for key, kind, error in keyed if kind == "file"}
    kept = [r for r, (key, _, _) in zip(records, keyed) if key in done]
    return kept, done, truncated or dropped or len(kept) != len(records)


class RowWriter:
    """Writes rows as files finish: CSV / JSON Lines appended and flushed per file, JSON and table at close."""

    def __init__(self, fmt: str, output: str | None, resume: bool = False):
        """Open `output` (stdout when None); with `resume`, keep the complete files already written there."""
        self.fmt, self.output = fmt, Path(output) if output else None
        self.done: dict[str, bool] = {}
        self.held: list = []  # json records / table rows, written at close
        existing: list = []
        if resume and self.output is not None and self.output.is_file() and self.output.stat().st_size:
            existing, self.done, dropped = read_finished(self.output, fmt)
            if dropped and fmt != "json":
                logger.info("dropped the rows of a file cut short in %s; it is classified again", display_path(output))
                atomic_write_text(self.output, self._text(existing, header=True))
        if fmt in ("json", "table"):
            self.held = existing
            self.stream = None
            return
        if self.output is None:
            self.stream = sys.stdout
        else:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            append = resume and bool(existing)
            self.stream = self.output.open("a" if append else "w", encoding="utf-8", newline="")
            if append:
                return
        if fmt == "csv":
            self.stream.write(self._text([], header=True))

    def _text(self, records: list, header: bool = False) -> str:
        """CSV or JSON Lines text of already formatted records."""
        if self.fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            if header:
                writer.writerow(COLUMNS)
            writer.writerows(records)
            return buf.getvalue()
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)

    def write(self, rows: Sequence[dict]) -> None:
        """Write one file's rows (its file row last) and flush, so a kill never leaves half a file unseen."""
        if self.fmt == "table":
            self.held += rows
        elif self.fmt == "json":
            self.held += [json_record(r) for r in rows]
        else:
            records = [csv_record(r) if self.fmt == "csv" else json_record(r) for r in rows]
            self.stream.write(self._text(records))
            self.stream.flush()

    def close(self) -> None:
        """Write the held JSON array or table, close the file."""
        if self.fmt == "json":
            text = json.dumps(self.held, indent=2, ensure_ascii=False) + "\n"
            if self.output is None:
                sys.stdout.write(text)
            else:
                self.output.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self.output, text)
        elif self.fmt == "table":
            text = to_table(self.held) + "\n"
            if self.output is None:
                sys.stdout.write(text)
            else:
                atomic_write_text(self.output, text)
        elif self.stream is not None and self.stream is not sys.stdout:
            self.stream.close()


# ----------------------------------------------------------------------------- timeline plot


def plot_name(path: str) -> str:
    """PNG file name of a file's timeline: its stem made safe plus a hash of the full path (no collisions)."""
    digest = hashlib.sha1(os.fsencode(path)).hexdigest()[:8]
    return f"{safe_name(Path(path).stem)[:80]}-{digest}.png"


def label_colours(labels: Sequence[str]) -> dict[str, str]:
    """A colour per label: fixed ones for the six emotions (neutral a dark teal that reads on white and beside the
    shading, not a grey), matplotlib's tab10 for any other label of an external model."""
    spare = iter(c for c in TAB10 if c not in EMOTION_COLOURS.values())
    return {label: EMOTION_COLOURS.get(label) or next(spare, "#000000") for label in labels}


def _band_cells(segments: Sequence[dict], overlapping: bool) -> list[tuple[float, float, str]]:
    """(start, end, top label) of each cell of the label band: a segment's own span, or for overlapping windows
    the stretch closer to that window's centre than to its neighbours' (so cells never cover each other)."""
    if not overlapping:
        return [(r["start"], r["end"], r["label"]) for r in segments]
    centres = [(r["start"] + r["end"]) / 2 for r in segments]
    cells = []
    for k, r in enumerate(segments):
        lo = r["start"] if k == 0 else max(r["start"], (centres[k - 1] + centres[k]) / 2)
        hi = r["end"] if k == len(segments) - 1 else min(r["end"], (centres[k] + centres[k + 1]) / 2)
        cells.append((lo, hi, r["label"]))
    return cells


def _time_axis(ax, duration: float) -> None:
    """Seconds on the x axis, or m:ss from MINUTES_FROM seconds on (a 10-minute file reads 0:00 ... 10:00)."""
    if duration < MINUTES_FROM:
        ax.set_xlabel("time (s)")
        return
    ax.set_xlabel("time (min:s)")
    minutes = next((m for m in (1, 2, 5, 10, 15, 30, 60) if duration / (60 * m) <= 12), 120)  # at most 12 ticks
    ax.xaxis.set_major_locator(MultipleLocator(60 * minutes))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(x // 60)}:{int(round(x % 60)):02d}"))


def timeline_figure(rows: Sequence[dict]) -> Figure:
    """One file's emotion timeline: a band with the top label of each segment (readable at any length: a
    10-minute file's 60 segments are coloured blocks), and under it each emotion's probability over time (steps
    over the classified segments, broken where there is no segment; a point per segment at its centre, joined, when
    windows overlap or there are more than POINTS_FROM segments), segments shaded, the file's label in the title;
    minutes on the time axis for long files."""
    file_row = rows[-1]
    segments = [r for r in rows if r["kind"] == "segment" and r["probs"]] or [r for r in rows if r["probs"]]
    labels = list(segments[0]["probs"]) if segments else []
    colours = label_colours(labels)
    duration = max(file_row["end"], 1e-3)
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    band, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 5])
    overlapping = any(b["start"] < a["end"] - 1e-6 for a, b in pairwise(segments))
    # many segments: a point per segment at its centre, joined (flat steps broken at each pause read as dashes)
    as_points = overlapping or len(segments) > POINTS_FROM
    for start, end, label in _band_cells(segments, overlapping):
        band.axvspan(start, end, color=colours.get(label, "#000000"), linewidth=0)
    band.set_yticks([])
    band.set_ylabel("top", rotation=0, ha="right", va="center", fontsize=8)
    band.tick_params(axis="x", labelbottom=False)
    for i, r in enumerate([] if overlapping else segments):  # shading overlapping windows would cover everything
        ax.axvspan(r["start"], r["end"], color="#000000", alpha=0.04 if i % 2 else 0.08, linewidth=0)
    for label in labels:
        xs: list[float] = []
        ys: list[float] = []
        for r in segments:
            if as_points:  # overlapping windows or many segments: one point per segment, at its centre
                xs.append((r["start"] + r["end"]) / 2)
                ys.append(r["probs"][label])
                continue
            if xs and r["start"] > xs[-1] + 1e-6:  # a pause: break the line
                xs.append(np.nan)
                ys.append(np.nan)
            xs += [r["start"], r["end"]]
            ys += [r["probs"][label]] * 2
        ax.plot(xs, ys, color=colours[label], label=label, linewidth=1.2, marker="." if as_points else None, ms=4)
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 1.02)
    _time_axis(ax, duration)
    ax.set_ylabel("probability")
    summary = f"{file_row['label']} ({file_row['score']:.2f})" if file_row["label"] else (file_row["error"] or "")
    band.set_title(f"{display_path(Path(file_row['path']).name)}: {summary}", fontsize=9)
    if labels:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def plot_timeline(rows: Sequence[dict], png: str | Path) -> Path:
    """Save :func:`timeline_figure` of one file's rows as a PNG."""
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    timeline_figure(rows).savefig(png, dpi=110)
    return png


# ----------------------------------------------------------------------------- command


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
    d = VadParams()
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
    return parser


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
