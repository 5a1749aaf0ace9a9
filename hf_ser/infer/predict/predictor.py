"""Classifying files segment by segment: the :class:`Predictor` (segmentation, a length-sorted classifier
pool, rows in input order), the aggregation of segments into the file's scores, and :func:`predict_files` /
:func:`classify`."""

from __future__ import annotations

import logging
import os
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from hf_ser.data.audio import AudioError, PreprocessConfig, check_audio_file, finish_mono, load_mono
from hf_ser.infer.predict.inputs import FFMPEG_EXTENSIONS, ffmpeg_decode
from hf_ser.infer.predict.model import classifier_labels, classifier_rate
from hf_ser.infer.predict.options import AGGREGATES, DEFAULT_MAX_SECONDS, POOL_ITEMS, PredictOptions
from hf_ser.infer.segments import fixed_segments, iter_segment_audio, vad_segments
from hf_ser.safe_io import display_path

logger = logging.getLogger("hf_ser.infer.predict")

NONE_READ_SECONDS = 600.0  # `--segment none` decodes at most this much of a file: 38 MB at 16 kHz
LONG_FILE_SECONDS = 300.0  # a file at least this long gets its own progress bars (VAD, segments)


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
