"""Waveform preprocessing (done once, cached) and training-time augmentation.

Preparation: decode with soundfile -> mono -> resample to 16 kHz (soxr) -> trim
leading/trailing silence -> loudness-normalise (ITU-R BS.1770, pyloudnorm) ->
store as 16-bit PCM. Per-utterance mean-variance normalisation happens when a
batch is built, through the feature extractor's ``do_normalize`` (the same call
``pipeline("audio-classification")`` makes at inference).

Augmentation (train split only): light Gaussian noise at a random SNR *before*
mean-variance normalisation, random gain *after* it. A gain applied before the
normalisation would be divided out again, so it would change nothing.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf
import soxr

from .labels import SAMPLING_RATE

LFS_PREFIX = b"version https://git-lfs"


class AudioError(Exception):
    """A file that cannot be used; ``reason`` is a short, stable phrase for reports."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PreprocessConfig:
    """Parameters of the one-off preparation; part of every cache key."""

    sampling_rate: int = SAMPLING_RATE
    trim_top_db: float = 40.0
    silence_floor_dbfs: float = -65.0
    target_lufs: float = -23.0
    min_seconds: float = 0.25
    max_seconds: float | None = 20.0

    def to_dict(self) -> dict:
        """Plain dict (for cache keys and metrics.json)."""
        return asdict(self)


def is_lfs_pointer(path: str | Path) -> bool:
    """True if `path` is a git-LFS pointer file instead of audio."""
    try:
        with open(path, "rb") as f:
            return f.read(len(LFS_PREFIX)) == LFS_PREFIX
    except OSError:
        return False


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode a file with soundfile into float32 ``(frames, channels)`` and its sample rate."""
    p = Path(path)
    if not p.is_file():
        raise AudioError("missing file", str(p))
    if p.stat().st_size == 0:
        raise AudioError("empty file", str(p))
    if is_lfs_pointer(p):
        raise AudioError("git-LFS pointer", "run `git lfs pull` in the corpus clone to fetch the audio")
    try:
        # bytes: soundfile cannot encode str paths holding undecodable (surrogate-escaped) bytes
        data, sr = sf.read(os.fsencode(p), dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise AudioError("unreadable", f"{type(e).__name__}: {e}") from None
    return _check_decoded(data, int(sr))


def read_audio_bytes(data: bytes) -> tuple[np.ndarray, int]:
    """Decode the bytes of an encoded audio file (WAV, FLAC, AIFF, OGG...) like :func:`read_audio`."""
    if not data:
        raise AudioError("empty file", "0 bytes")
    if data[: len(LFS_PREFIX)] == LFS_PREFIX:
        raise AudioError("git-LFS pointer", "the table holds a git-LFS pointer instead of audio")
    try:
        wave, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as e:
        detail = str(e).split(": ", 1)[-1] if "BytesIO" in str(e) else str(e)  # drop the file-object repr
        raise AudioError("unreadable", f"{type(e).__name__}: {detail}") from None
    return _check_decoded(wave, int(sr))


def _check_decoded(data: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    if data.shape[0] == 0:
        raise AudioError("empty audio", "0 frames")
    if not np.isfinite(data).all():
        raise AudioError("non-finite samples", "NaN or Inf in the signal")
    return data, sr


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average the channels of ``(frames, channels)`` (or pass a 1-d signal through)."""
    if data.ndim == 1:
        return data
    if data.shape[1] == 1:
        return data[:, 0]
    # a strided sum is several times faster than ndarray.mean(axis=1) on (frames, 2) arrays
    out = data[:, 0].copy()
    for c in range(1, data.shape[1]):
        out += data[:, c]
    out *= np.float32(1.0 / data.shape[1])
    return out


def resample(wave: np.ndarray, orig_sr: int, target_sr: int = SAMPLING_RATE) -> np.ndarray:
    """Resample a mono signal with soxr (no-op when the rates match)."""
    if orig_sr == target_sr:
        return wave.astype(np.float32, copy=False)
    return soxr.resample(wave, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def trim_silence(
    wave: np.ndarray, sr: int, top_db: float = 40.0, floor_dbfs: float = -65.0, frame_ms: float = 25.0
) -> np.ndarray:
    """Cut leading/trailing frames quieter than ``top_db`` below the loudest frame.

    Raises AudioError('silent') when no frame is above ``floor_dbfs``.
    """
    hop = max(1, int(sr * frame_ms / 1000))
    n = len(wave) // hop
    if n == 0:
        frames = wave[None, :]
    else:
        frames = wave[: n * hop].reshape(n, hop)
    rms_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
    peak = rms_db.max()
    if peak < floor_dbfs:
        raise AudioError("silent after trimming", f"loudest frame {peak:.1f} dBFS")
    voiced = np.flatnonzero(rms_db > max(peak - top_db, floor_dbfs))
    start, stop = voiced[0] * hop, min(len(wave), (voiced[-1] + 1) * hop)
    return wave[start:stop]


def loudness_normalize(wave: np.ndarray, sr: int, target_lufs: float = -23.0) -> np.ndarray:
    """Scale to ``target_lufs`` integrated loudness (BS.1770), then keep the peak below 0 dBFS."""
    block = min(0.4, len(wave) / sr)
    meter = pyloudnorm.Meter(sr, block_size=block)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loudness = meter.integrated_loudness(wave.astype(np.float64))
    if not np.isfinite(loudness):
        raise AudioError("silent after trimming", "loudness is -inf")
    out = wave * np.float32(10 ** ((target_lufs - loudness) / 20))
    peak = float(np.abs(out).max())
    if peak > 0.99:
        out *= np.float32(0.99 / peak)
    return out.astype(np.float32, copy=False)


def preprocess(data: np.ndarray, sr: int, cfg: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Mono, resample, trim, loudness-normalise and crop one decoded signal; float32 at cfg.sampling_rate."""
    wave = resample(to_mono(data), sr, cfg.sampling_rate)
    wave = trim_silence(wave, cfg.sampling_rate, cfg.trim_top_db, cfg.silence_floor_dbfs)
    if len(wave) < cfg.min_seconds * cfg.sampling_rate:
        raise AudioError("too short", f"{len(wave) / cfg.sampling_rate:.2f} s after trimming")
    wave = loudness_normalize(wave, cfg.sampling_rate, cfg.target_lufs)
    if cfg.max_seconds:
        wave = wave[: int(cfg.max_seconds * cfg.sampling_rate)]
    return wave


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16 (the compact cache format: 32 kB per second at 16 kHz)."""
    return np.clip(np.round(wave * 32767.0), -32768, 32767).astype(np.int16)


def from_pcm16(pcm: np.ndarray) -> np.ndarray:
    """int16 -> float32 in [-1, 1]."""
    return np.asarray(pcm, dtype=np.float32) * np.float32(1.0 / 32767.0)


def encode_wav(wave: np.ndarray, sr: int = SAMPLING_RATE) -> bytes:
    """float32 waveform -> bytes of a 16-bit PCM WAV file (the cache format: 32 kB per second)."""
    buf = io.BytesIO()
    sf.write(buf, to_pcm16(wave), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def decode_wav(data: bytes | dict) -> np.ndarray:
    """Bytes of a cached WAV (or a datasets Audio dict with 'bytes') -> float32 mono waveform."""
    raw = data["bytes"] if isinstance(data, dict) else data
    wave, _ = sf.read(io.BytesIO(raw), dtype="float32")
    return wave if wave.ndim == 1 else wave.mean(axis=1)


def mean_variance_normalize(wave: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance, exactly as Wav2Vec2FeatureExtractor(do_normalize=True)."""
    return (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)


class TrainAugment:
    """Light noise (random SNR) before, random gain after mean-variance normalisation."""

    def __init__(
        self,
        noise_p: float = 0.5,
        min_snr_db: float = 20.0,
        max_snr_db: float = 40.0,
        gain_p: float = 0.5,
        gain_db: float = 6.0,
    ):
        from audiomentations import AddGaussianSNR, Gain

        self.noise = AddGaussianSNR(min_snr_db=min_snr_db, max_snr_db=max_snr_db, p=noise_p)
        self.gain = Gain(min_gain_db=-gain_db, max_gain_db=gain_db, p=gain_p)

    def __call__(self, wave: np.ndarray, sr: int = SAMPLING_RATE) -> np.ndarray:
        """Augment one float32 waveform; returns the model input (already normalised)."""
        wave = self.noise(samples=wave, sample_rate=sr)
        wave = mean_variance_normalize(wave)
        return self.gain(samples=wave, sample_rate=sr).astype(np.float32, copy=False)
