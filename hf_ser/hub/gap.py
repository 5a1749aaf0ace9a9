"""The pipeline gap: the run's test files classified through plain ``pipeline()`` and through ``hf-ser predict``,
and the UAR that skipping the training preparation costs (:func:`measure_pipeline_gap`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hf_ser.data.audio import AudioError, PreprocessConfig, read_audio, resample, to_mono
from hf_ser.hub.run_folder import find_run_dir
from hf_ser.infer.predict.model import load_classifier
from hf_ser.infer.predict.predictor import classify
from hf_ser.metrics import uar
from hf_ser.train.runs import RunRecord, RunRecordError, prediction_labels, read_predictions

# Test files classified both ways when a card is written (a seeded sample above this): the demo's 270 take a few
# seconds on a CPU; 500 XLS-R 300M clips about 5 minutes on one CPU core (seconds on a GPU).
PIPELINE_CHECK_FILES = 500


@dataclass(frozen=True)
class PipelineGap:
    """UAR of the run's model on its own test files, fed two ways; measured when the card is written.

    ``uar_raw``: stock ``pipeline("audio-classification")`` on each file decoded by soundfile, averaged to mono and
    resampled to 16 kHz, nothing else (the card's plain snippet). ``uar_prepared``: ``hf-ser predict`` on the same
    files, i.e. the training preparation (:func:`hf_ser.data.audio.prepare_for_pipeline`) before the same pipeline.
    """

    n: int  # files classified both ways
    n_test: int  # rows of predictions.csv
    uar_raw: float
    uar_prepared: float
    uar_recorded: float | None  # the run's own test UAR on the same files (from predictions.csv)
    agreement: float  # share of the files given the same label both ways

    @property
    def gap_points(self) -> float:
        """Prepared minus raw UAR, in percentage points."""
        return 100 * (self.uar_prepared - self.uar_raw)


def _raw_pipeline_input(path: str, sampling_rate: int) -> dict:
    """A file as the card's plain snippet feeds it: soundfile decode, channel mean, soxr resample; nothing else."""
    data, sr = read_audio(path)
    return {"raw": resample(to_mono(data), sr, sampling_rate), "sampling_rate": sampling_rate}


def measure_pipeline_gap(
    run_dir: str | Path, max_files: int = PIPELINE_CHECK_FILES, seed: int = 0, device: str | None = None
) -> tuple[PipelineGap | None, str]:
    """Classify the run's test files through plain ``pipeline()`` and through ``hf-ser predict``; (gap, note).

    The files are those listed in ``predictions.csv`` that are readable here (a seeded sample of `max_files` when
    there are more). Returns (None, why) when nothing could be measured: no predictions, files not on this
    machine (the card was written elsewhere), `max_files` 0.
    """
    run_dir = find_run_dir(run_dir)
    if max_files <= 0:
        return None, "not measured (`--pipeline_check 0`)"
    try:
        preds = read_predictions(run_dir)
    except RunRecordError:
        return None, "not measured: the run has no predictions.csv"
    readable = preds[[Path(p).is_file() for p in preds["path"]]]
    if readable.empty:
        return None, (
            f"not measured: none of the {len(preds)} test files named in predictions.csv is readable where the card "
            "was written"
        )
    if len(readable) > max_files:
        readable = readable.sample(n=max_files, random_state=seed).sort_index()
    data_cfg = RunRecord.load(run_dir).config.get("data", {})
    max_seconds = data_cfg.get("max_seconds", PreprocessConfig().max_seconds)
    classifier = load_classifier(str(run_dir / "model"), device)
    sr = int(classifier.feature_extractor.sampling_rate)
    paths = list(readable["path"])
    prepared = {row["path"]: row for row in classify(paths, classifier, segment="none", max_seconds=max_seconds)}
    labels = {e: i for i, e in enumerate(prediction_labels(preds))}  # the run's classes, in id order
    y_true, y_raw, y_prep, y_rec = [], [], [], []
    for path, truth, recorded in zip(paths, readable["y_true"], readable["y_pred"]):
        row = prepared.get(path)
        if row is None or row["error"]:
            continue
        try:
            out = classifier(_raw_pipeline_input(path, sr), top_k=1)
        except AudioError:
            continue
        y_true.append(int(truth))
        y_raw.append(labels[out[0]["label"]])
        y_prep.append(labels[row["label"]])
        y_rec.append(int(recorded))
    if not y_true:
        return None, "not measured: no test file could be classified both ways"
    gap = PipelineGap(
        n=len(y_true),
        n_test=len(preds),
        uar_raw=uar(y_true, y_raw),
        uar_prepared=uar(y_true, y_prep),
        uar_recorded=uar(y_true, y_rec),
        agreement=float(np.mean(np.array(y_raw) == np.array(y_prep))),
    )
    return gap, "measured"
