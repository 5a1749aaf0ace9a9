"""One utterance of the synthetic corpus: jittered eSpeak prosody, post effects, padding, int16 at 16 kHz."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import soxr
from scipy.signal import butter, lfilter, sosfilt

from hf_ser.data.corpora.synthetic.espeak import ESpeakNG
from hf_ser.data.corpora.synthetic.profiles import BASE_RATE_WPM, Profile
from hf_ser.labels import EMOTION2ID, SAMPLING_RATE


@dataclass(frozen=True)
class Utterance:
    """One planned utterance of the corpus."""

    language: str
    emotion: str
    index: int
    voice: str
    speaker: str
    text: str

    @property
    def relpath(self) -> str:
        """Path relative to the corpus folder."""
        return f"{self.language}/{self.emotion}/{self.language}_{self.emotion}_{self.index:04d}.wav"


def _moving_average(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average of `x` over `n` samples (at least 1), same length as `x`."""
    return np.convolve(x, np.ones(max(n, 1)) / max(n, 1), mode="same")


def _apply_effects(x: np.ndarray, sr: int, p: Profile, fx: np.ndarray, noise: np.random.Generator) -> np.ndarray:
    """Post effects of profile `p` on float audio `x`; `fx` are 8 uniform draws, `noise` feeds noise."""
    n = len(x)
    t = np.arange(n) / sr
    if p.tremor > 0:
        f, phase = 5.0 + 3.5 * fx[0], 2 * np.pi * fx[1]
        lfo = np.sin(2 * np.pi * f * t + phase)
        delay = 0.04 * p.tremor / (2 * np.pi * f) * sr * (1.0 + lfo)  # vibrato: +-4 % pitch at tremor=1
        x = np.interp(np.arange(n) - delay, np.arange(n), x)
        x = x * (1.0 + 0.5 * p.tremor * lfo)
    if p.lowpass > 0:
        cutoff = 7500.0 * 0.3**p.lowpass
        x = sosfilt(butter(4, cutoff, fs=sr, output="sos"), x)
    if p.drive > 0:
        peak = np.max(np.abs(x)) + 1e-9
        env = _moving_average(np.abs(x), int(0.02 * sr))
        x = x * (env / (env.max() + 1e-9) + 1e-3) ** (0.6 * p.drive)
        x = x + 0.8 * p.drive * np.diff(x, prepend=x[0])
        g = 1.0 + 5.0 * p.drive
        x = np.tanh(g * x / (np.max(np.abs(x)) + 1e-9)) / np.tanh(g) * peak
    if p.breath > 0:
        hiss = sosfilt(butter(2, 1500.0, btype="highpass", fs=sr, output="sos"), noise.standard_normal(n))
        hiss /= np.sqrt(np.mean(hiss**2)) + 1e-9
        x = x + 0.9 * p.breath * _moving_average(np.abs(x), int(0.03 * sr)) * hiss
    if p.creak > 0:
        rate = 35.0 + 25.0 * fx[2]
        periods = sr / rate * (1.0 + 0.3 * (noise.random(int(1.3 * n * rate / sr) + 2) - 0.5))
        pulses = np.zeros(n)
        pos = np.cumsum(periods).astype(np.int64)
        pulses[pos[pos < n]] = 1.0
        pulses = np.clip(lfilter([1.0], [1.0, -np.exp(-1.0 / (0.004 * sr))], pulses), 0.0, 1.0)
        c = 0.6 * p.creak
        x = x * ((1.0 - c) + c * pulses)
    return x


def render_utterance(engine: ESpeakNG, utt: Utterance, profile: Profile, seed: int) -> tuple[np.ndarray, dict]:
    """Synthesise one utterance as int16 at 16 kHz; also returns the jittered parameters used."""
    ss = np.random.SeedSequence([seed, zlib.crc32(utt.language.encode()), EMOTION2ID[utt.emotion], utt.index])
    r_prosody, r_noise = (np.random.default_rng(s) for s in ss.spawn(2))
    # Fixed number of draws in a fixed order, whatever the profile: the jitter of an
    # utterance does not depend on lineage_shift (only its profile does).
    z = r_prosody.standard_normal(5)
    fx_scale = r_prosody.uniform(0.5, 1.3, 5)
    fx = r_prosody.uniform(0.0, 1.0, 8)
    pads = r_prosody.uniform(0.1, 0.3, 2)

    rate = BASE_RATE_WPM * profile.rate * float(np.exp(0.07 * z[0]))
    pitch = float(np.clip(profile.pitch + 6.0 * z[1], 0, 100))
    prange = float(np.clip(profile.pitch_range + 10.0 * z[2], 0, 100))
    volume = float(np.clip(profile.volume + 12.0 * z[3], 10, 200))
    gain_db = 1.5 * float(z[4])
    effects = Profile(
        profile.rate, pitch, prange, volume, *(float(min(1.0, s * v)) for s, v in zip(fx_scale, profile.as_array()[4:]))
    )

    wav = engine.synthesize(utt.text, utt.voice, rate=rate, pitch=pitch, pitch_range=prange, volume=volume)
    voiced = np.flatnonzero(np.abs(wav.astype(np.int32)) > 16)
    wav = wav[voiced[0] : voiced[-1] + 1]
    x = soxr.resample(wav.astype(np.float64) / 32768.0, engine.sample_rate, SAMPLING_RATE, quality="HQ")
    x = _apply_effects(x, SAMPLING_RATE, effects, fx, r_noise) * 10 ** (gain_db / 20)

    lead, tail = (int(round(p * SAMPLING_RATE)) for p in pads)
    x = np.concatenate([np.zeros(lead), x, np.zeros(tail)])
    x = x + r_noise.standard_normal(len(x)) * 10 ** (-70 / 20)
    peak = np.max(np.abs(x))
    if peak > 0.98:
        x *= 0.98 / peak
    out = np.round(x * 32767.0).astype(np.int16)
    info = {"rate_wpm": rate, "pitch": pitch, "range": prange, "volume": volume, "gain_db": gain_db}
    return out, info
