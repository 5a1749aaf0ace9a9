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
import stat
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf
import soxr
from audiomentations import AddGaussianSNR, Gain

from hf_ser.labels import SAMPLING_RATE
from hf_ser.safe_io import display_path

LFS_PREFIX = b"version https://git-lfs"
MIN_SAMPLE_RATE = 4_000  # below this no speech band survives; headers claiming 1 or 3 Hz are corrupt
MAX_SAMPLE_RATE = 768_000  # the highest rate audio interfaces record; 2e9 Hz would make soxr allocate gigabytes
MAX_CHANNELS = 64
BLOCK_SECONDS = 10.0  # decoding block: 10 s of 192 kHz x 6 channels is 46 MB as float32


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
    """True if `path` is a git-LFS pointer file instead of audio (a FIFO or device is never opened: it would block)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as f:
            return f.read(len(LFS_PREFIX)) == LFS_PREFIX
    except OSError:
        return False


def check_audio_file(path: str | Path) -> sf._SoundFileInfo:
    """Check a file before decoding it and return soundfile's header info; AudioError naming the problem.

    Looked at, in order, without reading any audio: the path is a regular file (a FIFO or device named
    ``*.wav`` would block a reader forever), not empty, not a git-LFS pointer, has a readable header,
    a sample rate in [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE] (a header claiming 1 Hz or 2e9 Hz would make the
    resampler allocate gigabytes), 1 to MAX_CHANNELS channels and at least one frame.
    """
    p = Path(os.fsdecode(path)) if isinstance(path, bytes) else Path(path)
    try:
        st = os.stat(p)
    except OSError as e:
        raise AudioError("missing file", f"{display_path(p)} ({os.strerror(e.errno) if e.errno else e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise AudioError("not a regular file", f"{display_path(p)} is a {_file_kind(st.st_mode)}")
    if st.st_size == 0:
        raise AudioError("empty file", display_path(p))
    if is_lfs_pointer(p):
        raise AudioError("git-LFS pointer", "run `git lfs pull` in the corpus clone to fetch the audio")
    try:
        info = sf.info(os.fsencode(p))  # bytes: soundfile cannot encode surrogate-escaped str paths
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise AudioError("unreadable", f"{type(e).__name__}: {display_path(str(e))}") from None
    _check_header(int(info.samplerate), int(info.channels), int(info.frames))
    return info


def _file_kind(mode: int) -> str:
    """'FIFO', 'directory', 'socket', ... for a non-regular file's st_mode."""
    for test, name in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return name
    return "special file"


def _check_header(sr: int, channels: int, frames: int) -> None:
    """AudioError for a sample rate outside the sane range, no or too many channels, or no frames."""
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise AudioError("implausible sample rate", f"{sr} Hz; accepted: {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError("implausible channel count", f"{channels}; accepted: 1 to {MAX_CHANNELS}")
    if frames == 0:
        raise AudioError("empty audio", "0 frames")


def iter_mono_blocks(
    path: str | Path,
    target_sr: int = SAMPLING_RATE,
    block_seconds: float = BLOCK_SECONDS,
    start: float = 0.0,
    stop: float | None = None,
):
    """Decode a file block by block into mono float32 at `target_sr` (streaming soxr), between `start` and `stop` s.

    Memory stays at one block whatever the file's length, rate or channel count (a 192 kHz 6-channel
    block of 10 s is 46 MB as float32). Yields 1-d arrays; raises AudioError like :func:`check_audio_file`.
    """
    info = check_audio_file(path)
    sr = int(info.samplerate)
    first = int(round(start * sr))
    last = int(info.frames) if stop is None else min(int(info.frames), int(round(stop * sr)))
    stream = None if sr == target_sr else soxr.ResampleStream(sr, target_sr, 1, dtype="float32", quality="HQ")
    block = max(1, int(block_seconds * sr))
    try:
        with sf.SoundFile(os.fsencode(Path(path))) as f:
            if first:
                f.seek(first)
            remaining = last - first
            while remaining > 0:
                data = f.read(min(block, remaining), dtype="float32", always_2d=True)
                if len(data) == 0:
                    break
                remaining -= len(data)
                if not np.isfinite(data).all():
                    raise AudioError("non-finite samples", "NaN or Inf in the signal")
                mono = to_mono(data)
                out = mono if stream is None else stream.resample_chunk(mono, last=remaining <= 0)
                if len(out):
                    yield out
    except AudioError:
        raise
    except Exception as e:  # a header that lied about its length, a truncated body, ...
        raise AudioError("unreadable", f"{type(e).__name__}: {display_path(str(e))}") from None


def load_mono(path: str | Path, target_sr: int = SAMPLING_RATE, stop: float | None = None) -> np.ndarray:
    """A whole file (or its first `stop` seconds) as mono float32 at `target_sr`, decoded block by block.

    Peak memory is the output (64 kB per second at 16 kHz) plus one block, whatever the file's own rate
    and channel count: a 1-hour file costs 230 MB, never the 2.6 GB of a 6-channel 48 kHz decode.
    """
    info = check_audio_file(path)
    frames = int(info.frames) if stop is None else min(int(info.frames), int(round(stop * info.samplerate)))
    out = np.empty(int(np.ceil(frames * target_sr / info.samplerate)) + 64, dtype=np.float32)  # filled in place
    n = 0
    for block in iter_mono_blocks(path, target_sr, stop=stop):
        if n + len(block) > len(out):  # the resampler's rounding gave more than estimated
            out = np.concatenate([out[:n], np.empty(len(block), dtype=np.float32)])
        out[n : n + len(block)] = block
        n += len(block)
    if n == 0:
        raise AudioError("empty audio", "0 frames")
    return out[:n]


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode a (short) file with soundfile into float32 ``(frames, channels)`` and its sample rate.

    The file is checked first (:func:`check_audio_file`); long files are better read with
    :func:`load_mono` / :func:`iter_mono_blocks`, whose memory does not grow with channels and rate.
    """
    check_audio_file(path)
    try:
        data, sr = sf.read(os.fsencode(Path(path)), dtype="float32", always_2d=True)
    except Exception as e:
        raise AudioError("unreadable", f"{type(e).__name__}: {display_path(str(e))}") from None
    return check_decoded(data, int(sr))


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
    return check_decoded(wave, int(sr))


def check_decoded(data: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """AudioError for a decoded signal with no frames, non-finite samples or an implausible rate/channel count."""
    _check_header(sr, int(data.shape[1]) if data.ndim == 2 else 1, int(data.shape[0]))
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

    Frame energies are measured on the signal without its mean, so a DC offset neither hides silence
    nor makes a constant signal look like speech. Raises AudioError('silent') when no frame is above
    ``floor_dbfs``.
    """
    hop = max(1, int(sr * frame_ms / 1000))
    rms_db = frame_rms_db(wave, hop, offset=float(wave.mean(dtype=np.float64)))
    peak = rms_db.max()
    if peak < floor_dbfs:
        raise AudioError("silent after trimming", f"loudest frame {peak:.1f} dBFS")
    voiced = np.flatnonzero(rms_db > max(peak - top_db, floor_dbfs))
    start, stop = voiced[0] * hop, min(len(wave), (voiced[-1] + 1) * hop)
    return wave[start:stop]


def frame_rms_db(wave: np.ndarray, hop: int, offset: float = 0.0, chunk_frames: int = 4096) -> np.ndarray:
    """RMS level (dBFS) of consecutive `hop`-sample frames of ``wave - offset`` (a lone short tail is one frame).

    Computed in chunks of frames, so memory stays small for an hour of audio (a float64 copy of the
    whole signal would be 460 MB).
    """
    n = len(wave) // hop
    if n == 0:
        return np.array([10 * np.log10(np.mean(np.square(wave.astype(np.float64) - offset)) + 1e-20)])
    out = np.empty(n)
    for a in range(0, n, chunk_frames):
        b = min(n, a + chunk_frames)
        frames = wave[a * hop : b * hop].reshape(b - a, hop).astype(np.float64) - offset
        out[a:b] = 10 * np.log10(np.mean(np.square(frames), axis=1) + 1e-20)
    return out


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
    """Mono, resample, remove DC, trim, crop and loudness-normalise one decoded signal; float32 at cfg.sampling_rate."""
    return finish_mono(resample(to_mono(data), sr, cfg.sampling_rate), cfg)


def prepare_for_pipeline(wave: np.ndarray, sr: int, max_seconds: float | None = 20.0) -> np.ndarray:
    """The exact preparation training applied, for feeding ``pipeline("audio-classification")`` a numpy array.

    `wave` is a decoded signal, ``(frames,)`` or ``(frames, channels)`` (any float or integer dtype, e.g. what
    ``soundfile.read`` returns), at `sr` Hz. Returns float32 mono at 16 kHz: channels averaged, resampled (soxr),
    DC removed, leading/trailing silence trimmed, cropped to `max_seconds` (the run's ``--max_seconds``, default
    20 s; None keeps everything) and loudness-normalised to -23 LUFS (BS.1770) -- the same functions that prepared
    the training and test audio, and that ``hf-ser predict`` applies to a whole clip. Use it as::

        classifier({"raw": prepare_for_pipeline(wave, sr), "sampling_rate": 16000})

    The pipeline's feature extractor then does the rest (per-utterance mean-variance normalisation, or Whisper's
    log-mel). Without it the model sees the leading/trailing silence it never saw in training, which changes the
    per-utterance normalisation and the mean pooling (the model card states the UAR this costs). Raises
    AudioError for a silent or too short (< 0.25 s after trimming) signal.
    """
    data = np.asarray(wave)
    if data.dtype.kind in "iu":  # integer PCM (e.g. soundfile with dtype='int16'): scale to [-1, 1]
        data = data.astype(np.float32) / np.float32(np.iinfo(data.dtype).max)
    data = data.astype(np.float32, copy=False)
    if data.ndim not in (1, 2):
        raise ValueError(f"expected a (frames,) or (frames, channels) array, got shape {data.shape}")
    check_decoded(data if data.ndim == 2 else data[:, None], int(sr))
    return preprocess(data, int(sr), PreprocessConfig(max_seconds=max_seconds))


def finish_mono(wave: np.ndarray, cfg: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """The preparation of a mono signal already at cfg.sampling_rate: DC removed, trimmed, cropped, normalised.

    The crop comes before loudness normalisation, so the loudness is that of what is kept and an hour
    of audio never goes through the meter (utterances under the crop length are unaffected by the order).
    """
    dc = np.float32(wave.mean(dtype=np.float64))
    wave = trim_silence(wave, cfg.sampling_rate, cfg.trim_top_db, cfg.silence_floor_dbfs)  # a view
    if len(wave) < cfg.min_seconds * cfg.sampling_rate:
        raise AudioError("too short", f"{len(wave) / cfg.sampling_rate:.2f} s after trimming")
    if cfg.max_seconds:
        wave = wave[: int(cfg.max_seconds * cfg.sampling_rate)]
    return loudness_normalize(wave - dc, cfg.sampling_rate, cfg.target_lufs)


def load_prepared(path: str | Path, cfg: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Decode a file block by block and prepare it (:func:`finish_mono`): the path preparation and predict share."""
    return finish_mono(load_mono(path, cfg.sampling_rate), cfg)


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16 (the compact cache format: 32 kB per second at 16 kHz)."""
    return np.clip(np.round(wave * 32767.0), -32768, 32767).astype(np.int16)


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
        self.noise = AddGaussianSNR(min_snr_db=min_snr_db, max_snr_db=max_snr_db, p=noise_p)
        self.gain = Gain(min_gain_db=-gain_db, max_gain_db=gain_db, p=gain_p)

    def __call__(self, wave: np.ndarray, sr: int = SAMPLING_RATE) -> np.ndarray:
        """Augment one float32 waveform; returns the model input (already normalised)."""
        wave = self.noise(samples=wave, sample_rate=sr)
        wave = mean_variance_normalize(wave)
        return self.gain(samples=wave, sample_rate=sr).astype(np.float32, copy=False)

    def without_normalization(self, wave: np.ndarray, sr: int = SAMPLING_RATE) -> np.ndarray:
        """Noise then gain with no mean-variance normalisation (for log-mel models, whose scale depends on level)."""
        wave = self.noise(samples=wave, sample_rate=sr)
        return self.gain(samples=wave, sample_rate=sr).astype(np.float32, copy=False)
