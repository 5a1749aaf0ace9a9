"""The acoustic control of a measured grid: unit x unit distance between the long-term average spectra (LTAS) of
each unit's test audio (:mod:`hf_ser.study.transfer.acoustic`), computed once and cached beside the runs.

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
from tqdm.auto import tqdm

from hf_ser.labels import SAMPLING_RATE
from hf_ser.safe_io import atomic_write_json, display_path
from hf_ser.study.transfer.acoustic import acoustic_distance, long_term_average_spectrum

logger = logging.getLogger("hf_ser.study.transfer")

ACOUSTIC = "acoustic"
MEASURE = "ltas"
CACHE_FILE = "transfer_acoustic.json"
MAX_UTTERANCES = 200  # an LTAS settles within ~50 utterances; 200 bounds a real 13-corpus grid to ~2,600 reads


@dataclass(frozen=True)
class AcousticControl:
    """The control's matrix over the units (None when it could not be computed), what it measures and why not."""

    matrix: np.ndarray | None
    measure: str = MEASURE
    note: str = ""
    cached: bool = False


def _key(labels: Sequence[str], audio: Mapping[str, Sequence[str]]) -> str:
    """Cache key: the units and their (capped) audio paths."""
    blob = json.dumps({u: _picked(audio.get(u, [])) for u in labels}, sort_keys=True)
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


def acoustic_control(labels: Sequence[str], audio: Mapping[str, Sequence[str]], cache_dir: Path) -> AcousticControl:
    """The LTAS distance between the units' test audio (module docstring); cached in ``cache_dir``."""
    key = _key(labels, audio)
    cache = cache_dir / CACHE_FILE
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return AcousticControl(np.asarray(stored["matrix"], dtype=float), stored["measure"], stored["note"], True)
    except (OSError, ValueError, KeyError):
        pass
    missing = [u for u in labels if not audio.get(u)]
    if missing:
        return AcousticControl(None, note=f"no test audio listed for {', '.join(missing)}: no acoustic control")
    spectra = []
    try:
        for u in tqdm(labels, desc="acoustic control (LTAS)", unit="unit"):
            spectra.append(long_term_average_spectrum([_read(p) for p in _picked(audio[u])]))
    except (OSError, RuntimeError, ValueError) as e:
        return AcousticControl(None, note=f"test audio unreadable ({str(e).splitlines()[0]}): no acoustic control")
    matrix = acoustic_distance(spectra)
    note = f"LTAS distance over <= {MAX_UTTERANCES} test utterances per unit, bands z-scored across units"
    try:
        atomic_write_json(cache, {"key": key, "measure": MEASURE, "note": note, "matrix": matrix.tolist()})
    except OSError as e:
        logger.warning("acoustic control not cached in %s: %s", display_path(cache), e)
    return AcousticControl(matrix, MEASURE, note)
