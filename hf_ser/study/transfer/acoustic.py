"""The corpus control (paper Section 4.4): a distance between corpora's recordings that knows nothing of language.

Corpora differ in microphones, rooms, speakers and material; a transfer advantage between two corpora that sound
alike can pass for a language effect. The control is a distance between per-corpus acoustic summaries:

- :func:`long_term_average_spectrum` — the long-term average log power spectrum (LTAS) of a list of waveforms
  (Welch's method per waveform, powers averaged with each waveform weighted by its length, then dB);
- :func:`acoustic_distance` — corpus x corpus Euclidean distance between the per-corpus mean feature vectors
  (an LTAS, or the mean utterance embedding from a frozen backbone: the caller supplies them), each dimension
  z-scored across corpora first so that no band or embedding unit dominates by its scale alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import welch
from scipy.spatial.distance import pdist, squareform

from hf_ser.labels import SAMPLING_RATE

LTAS_NFFT = 512  # 32 ms at 16 kHz: 257 bands of 31 Hz, fine enough for formant regions, stable over short clips


def long_term_average_spectrum(
    waveforms: Sequence[np.ndarray], sampling_rate: int = SAMPLING_RATE, n_fft: int = LTAS_NFFT
) -> np.ndarray:
    """The long-term average spectrum of `waveforms` in dB (n_fft // 2 + 1 bands), one vector per corpus.

    Welch's power spectral density of each waveform (Hann windows of `n_fft` samples, half overlap), averaged
    over waveforms weighted by their sample counts (a long utterance holds more of the corpus's sound), then
    ``10 log10`` with a floor of 1e-12 so digital silence stays finite. A waveform shorter than `n_fft` is
    zero-padded to one window.
    """
    if not len(waveforms):
        raise ValueError("a long-term average spectrum needs at least one waveform")
    total = np.zeros(n_fft // 2 + 1)
    weight = 0
    for wav in waveforms:
        x = np.asarray(wav, dtype=np.float64).ravel()
        if not len(x):
            continue
        padded = np.pad(x, (0, max(0, n_fft - len(x))))
        _, psd = welch(padded, fs=sampling_rate, nperseg=n_fft)
        total += psd * len(x)
        weight += len(x)
    if not weight:
        raise ValueError("a long-term average spectrum needs at least one non-empty waveform")
    return 10.0 * np.log10(np.maximum(total / weight, 1e-12))


def corpus_summary(features: np.ndarray) -> np.ndarray:
    """One corpus's feature vector: the mean over rows of an (utterances x dims) matrix, or a vector as is."""
    arr = np.asarray(features, dtype=np.float64)
    if arr.ndim == 1:
        return arr
    if arr.ndim != 2 or not len(arr):
        raise ValueError("per-corpus features must be a vector or a non-empty (utterances x dims) matrix")
    return arr.mean(axis=0)


def acoustic_distance(features: Sequence[np.ndarray], standardise: bool = True) -> np.ndarray:
    """Corpus x corpus acoustic distance (symmetric, zero diagonal) from per-corpus feature matrices.

    Each corpus is summarised by :func:`corpus_summary`; with `standardise` every dimension is z-scored across
    corpora (a constant dimension is left at zero) before the Euclidean distance, so a loud low band or a
    large-scale embedding unit does not decide the distance alone. Raises ValueError when the corpora's
    dimensions differ.
    """
    summaries = [corpus_summary(f) for f in features]
    if len({len(s) for s in summaries}) != 1:
        raise ValueError("every corpus needs features of the same dimension")
    x = np.stack(summaries)
    if standardise and len(x) > 1:
        sd = x.std(axis=0)
        x = np.where(sd > 0, (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)
    return squareform(pdist(x, metric="euclidean"))
