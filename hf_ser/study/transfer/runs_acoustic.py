"""The acoustic control of a measured grid: unit x unit distance between per-unit summaries of each unit's test
audio (:mod:`hf_ser.study.transfer.acoustic`), computed once and cached beside the runs. Two measures:

- ``ltas`` (default): the long-term average spectrum; recording conditions, microphones and rooms, fast;
- ``embedding``: the mean utterance embedding of a frozen backbone (the last hidden layer averaged over frames,
  then over the unit's utterances; by default the backbone the grid's source models fine-tuned, loaded as a
  training run loads it, a random demo backbone drawn with seed 0). It sees more than the spectrum (voice, speaking
  style) and knows nothing of the emotion labels; it costs one forward pass per utterance.

The audio is the test utterances the runs scored (paths from their ``predictions.csv``), read with soundfile and
resampled to 16 kHz. At most :data:`MAX_UTTERANCES` per unit are read, evenly spaced over the sorted paths. The
cache, ``<RUNS_DIR>/transfer_acoustic.json``, is keyed by the units and their paths; another grid or a new unit
recomputes it. When a unit's audio cannot be read (moved, deleted), the control is left out and the reason is
stated in the output: the fit then has no corpus control.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch
from tqdm.auto import tqdm

from hf_ser.errors import UserError
from hf_ser.labels import SAMPLING_RATE
from hf_ser.safe_io import atomic_write_json, display_path
from hf_ser.study.transfer.acoustic import acoustic_distance, long_term_average_spectrum
from hf_ser.train.modeling import build_model, input_name

logger = logging.getLogger("hf_ser.study.transfer")

ACOUSTIC = "acoustic"
MEASURE = "ltas"
MEASURES = ("ltas", "embedding")
CACHE_FILE = "transfer_acoustic.json"
MAX_UTTERANCES = 200  # an LTAS settles within ~50 utterances; 200 bounds a real 13-corpus grid to ~2,600 reads


@dataclass(frozen=True)
class AcousticControl:
    """The control's matrix over the units (None when it could not be computed), what it measures and why not."""

    matrix: np.ndarray | None
    measure: str = MEASURE
    note: str = ""
    cached: bool = False


def _key(labels: Sequence[str], audio: Mapping[str, Sequence[str]], measure: str = MEASURE, backbone: str = "") -> str:
    """Cache key: the units and their (capped) audio paths, and for a measure other than the LTAS (whose key is
    as before) the measure and its backbone."""
    units = {u: _picked(audio.get(u, [])) for u in labels}
    blob = json.dumps(
        units if measure == MEASURE else {"units": units, "measure": measure, "backbone": backbone}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _picked(paths: Sequence[str]) -> list[str]:
    """At most MAX_UTTERANCES paths, evenly spaced over the sorted list (deterministic)."""
    ordered = sorted(paths)
    if len(ordered) <= MAX_UTTERANCES:
        return ordered
    return [ordered[i] for i in np.linspace(0, len(ordered) - 1, MAX_UTTERANCES).round().astype(int)]


def _read(path: str) -> np.ndarray:
    """One utterance as mono float at 16 kHz."""
    wav, sr = sf.read(path, dtype="float32", always_2d=True)
    wav = wav.mean(axis=1)
    return soxr.resample(wav, sr, SAMPLING_RATE) if sr != SAMPLING_RATE else wav


def frozen_backbone(name: str) -> tuple[torch.nn.Module, object]:
    """The backbone `name` (an id, a folder or a demo alias) as a training run builds it, in eval mode, with a
    fixed seed so that a random demo backbone is the same network every time; UserError naming it when it cannot
    be loaded."""
    torch.manual_seed(0)
    try:
        model, extractor = build_model(name)
    except (OSError, ValueError) as e:
        raise UserError(
            f"--acoustic embedding: the backbone {name!r} could not be loaded ({str(e).splitlines()[0]}); "
            "give one with --acoustic_backbone or use --acoustic ltas"
        ) from None
    return model.eval(), extractor


def embedding_summary(paths: Sequence[str], model: torch.nn.Module, extractor: object) -> np.ndarray:
    """One unit's summary: the mean over utterances of the frozen model's last hidden layer averaged over frames
    (one utterance per forward pass, so no padding enters the average)."""
    rows = []
    key = input_name(extractor)
    for path in paths:
        inputs = extractor(_read(path), sampling_rate=SAMPLING_RATE, return_tensors="pt")
        with torch.no_grad():
            out = model(**{key: inputs[key]}, output_hidden_states=True)
        rows.append(out.hidden_states[-1][0].mean(dim=0).float().numpy())
    return np.mean(rows, axis=0)


def _summaries(labels: Sequence[str], audio: Mapping[str, Sequence[str]], measure: str, backbone: str) -> list:
    """Each unit's summary vector under `measure` (LTAS or frozen-backbone embedding), with a progress bar."""
    if measure == "embedding":
        model, extractor = frozen_backbone(backbone)
        summarise = lambda paths: embedding_summary(paths, model, extractor)  # noqa: E731
    else:
        summarise = lambda paths: long_term_average_spectrum([_read(p) for p in paths])  # noqa: E731
    return [summarise(_picked(audio[u])) for u in tqdm(labels, desc=f"acoustic control ({measure})", unit="unit")]


def acoustic_control(
    labels: Sequence[str],
    audio: Mapping[str, Sequence[str]],
    cache_dir: Path,
    measure: str = MEASURE,
    backbone: str = "",
) -> AcousticControl:
    """The acoustic distance between the units' test audio under `measure` (module docstring); cached in
    ``cache_dir``. UserError for an unknown measure or an embedding without a backbone."""
    if measure not in MEASURES:
        raise UserError(f"--acoustic must be one of {', '.join(MEASURES)}, not {measure!r}")
    if measure == "embedding" and not backbone:
        raise UserError("--acoustic embedding needs a backbone: the runs name none; give --acoustic_backbone")
    key = _key(labels, audio, measure, backbone)
    cache = cache_dir / CACHE_FILE
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return AcousticControl(np.asarray(stored["matrix"], dtype=float), stored["measure"], stored["note"], True)
    except (OSError, ValueError, KeyError):
        pass
    missing = [u for u in labels if not audio.get(u)]
    if missing:
        return AcousticControl(None, measure, f"no test audio listed for {', '.join(missing)}: no acoustic control")
    try:
        summaries = _summaries(labels, audio, measure, backbone)
    except (OSError, RuntimeError, ValueError) as e:
        return AcousticControl(None, measure, f"test audio unreadable ({str(e).splitlines()[0]}): no acoustic control")
    matrix = acoustic_distance(summaries)
    what = "LTAS distance" if measure == MEASURE else f"distance between mean {backbone} embeddings (frozen)"
    dims = "bands" if measure == MEASURE else "dimensions"
    note = f"{what} over <= {MAX_UTTERANCES} test utterances per unit, {dims} z-scored across units"
    try:
        atomic_write_json(cache, {"key": key, "measure": measure, "note": note, "matrix": matrix.tolist()})
    except OSError as e:
        logger.warning("acoustic control not cached in %s: %s", display_path(cache), e)
    return AcousticControl(matrix, measure, note)
