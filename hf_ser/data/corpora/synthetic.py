"""A synthetic multilingual emotional speech corpus, synthesised locally with eSpeak NG.

No download, no licence question: every utterance is rendered on the spot by the
eSpeak NG library bundled in the ``espeakng-loader`` wheel (driven with ctypes,
22.05 kHz, resampled to 16 kHz with ``soxr``), so tests, tutorials and CI can run
the whole pipeline on speech in the ten languages of the study.

What is in it
-------------
* Languages: every code of :data:`SENTENCES` (the ten of ``labels.LANGUAGES``), eight
  emotionally neutral sentences each, in the language's own script (Arabic is Modern
  Standard Arabic: eSpeak has no Moroccan voice). eSpeak voices in :data:`ESPEAK_VOICES`.
* Speakers: eSpeak voice variants (``fr+f2``, ``en+m3``, ...), alternating male and
  female, a different subset per language; speaker id ``<LANG>-<voice>`` (``FRE-fr+f2``).
* Emotions: each of ``labels.EMOTIONS`` is a :class:`Profile` -- eSpeak prosody (speaking
  rate, base pitch, pitch range, volume) plus post effects: amplitude tremor and vibrato
  (fear), a low-pass "muffled" voice (sadness), harder dynamics, pre-emphasis and soft
  clipping (anger), breathy noise and creak (disgust). Happiness is fast, high and wide in
  pitch range; neutral is eSpeak's default. Every utterance draws its own jitter (rate x
  exp(N(0, 0.07)), pitch +N(0, 6), range +N(0, 10), volume +N(0, 12), effect strengths
  x U(0.5, 1.3), gain N(0, 1.5) dB) from a generator seeded by (seed, language, emotion,
  index), so no two utterances are alike while classes stay learnable: logistic regression
  on pitch / MFCC statistics separates them well, raw-waveform models have to work for it.
* 0.1-0.3 s of leading and trailing silence (jittered) over a -70 dBFS noise floor, for
  the silence trimmer downstream.

The planted lineage effect (``lineage_shift``)
----------------------------------------------
At ``lineage_shift=0`` every language uses the same profiles. At ``s > 0`` each language
group (``labels.LANGUAGES[code].group``) has its own way of expressing emotions, drawn
by :func:`lineage_style` from a generator seeded by the SHA-256 of the group *name* (so a
group added with ``labels.register_language`` gets its own style, no code change):

1. a 3-cycle over three of the five non-neutral emotions: each of them is pulled a
   fraction ``min(1, s)`` of the way towards the base profile (prosody *and* effects) of
   the next emotion in the cycle, so at ``s=1`` the three trade their expressions;
2. per non-neutral emotion, prosody offsets times ``s``: rate x exp(U(-0.12, 0.12)), pitch
   +U(-8, 8), range +U(-15, 15), volume +U(-15, 15).

Neutral never moves. For the two default groups this gives:

* ``neo_latin``: anger -> sadness -> happiness -> anger (Neo-Latin anger is slow, low and
  muffled like sadness; Neo-Latin sadness has happiness' rate, pitch and range; Neo-Latin
  happiness has anger's loudness and hard dynamics);
* ``others``: anger -> happiness -> disgust -> anger (the others' anger sounds happy, their
  happiness slow, low, breathy and creaky, their disgust loud and clipped), and their fear
  is faster and lower than Neo-Latin fear.

So at ``s=1`` four of the five non-neutral emotions sound different across groups and
alike within a group, while the six emotions stay as distinct from each other inside every
group as at ``s=0`` (the cycle permutes expressions, it does not merge them): a model trained
on four Neo-Latin languages transfers to the fifth much better than one trained on the
other group, which hears Neo-Latin anger as sadness, sadness as anger, happiness as disgust
and disgust as happiness. ``0 < s < 1`` plants a weaker, partial version (at ``s=0.5``
each cycled emotion sits half-way between its own and the next one's expression).
``hf-ser synthetic --show_profiles --lineage_shift 1`` prints the profiles.

Build and cache
---------------
:func:`build_synthetic_corpus` writes ``<root>/synthetic-<hash>/`` (the hash covers every
parameter, the sentences, voices, language groups, eSpeak's version and
:data:`FORMAT_VERSION`): ``params.json``, ``<LANG>/<emotion>/<LANG>_<emotion>_<i>.wav``
(16 kHz mono PCM_16), ``stats.json`` (durations, synthesis times) and, last and atomically,
``manifest.csv`` (``path,label,language,speaker,corpus``). A finished build is reused at
once; a killed one resumes (each WAV is itself written atomically). Same parameters give
byte-identical WAVs: eSpeak NG keeps state in C statics (pitch flutter index, gain
control) from one utterance to the next, so the library is loaded from a private copy
and unloaded again around every utterance, and its random generator is re-seeded.
"""

from __future__ import annotations

import _ctypes
import argparse
import atexit
import csv
import ctypes
import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import espeakng_loader
import numpy as np
import pandas as pd
import soundfile as sf
import soxr
from scipy.signal import butter, lfilter, sosfilt
from tqdm.auto import tqdm

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import UserError
from hf_ser.labels import EMOTION2ID, EMOTIONS, LANGUAGES, SAMPLING_RATE, check_languages

logger = logging.getLogger(__name__)

CORPUS_NAME = "synthetic"
FORMAT_VERSION = 1  # bump when the audio for the same parameters changes
BASE_RATE_WPM = 165.0
MANIFEST_COLUMNS: tuple[str, ...] = ("path", "label", "language", "speaker", "corpus")

# eSpeak NG voice for each language code of labels.LANGUAGES (extend both tables to add one).
ESPEAK_VOICES: dict[str, str] = {
    "FRE": "fr",
    "ITA": "it",
    "POR": "pt",
    "ROM": "ro",
    "SPA": "es",
    "ARA": "ar",
    "BEN": "bn",
    "CHI": "cmn",
    "ENG": "en",
    "RUS": "ru",
}

# Voice variants used as speakers, male and female alternating.
VARIANTS: tuple[str, ...] = ("m1", "f2", "m3", "f4", "m5", "f1", "m7", "f3", "m2", "f5", "m4", "m6")

# Emotionally neutral sentences; the same eight meanings in every language.
SENTENCES: dict[str, tuple[str, ...]] = {
    "FRE": (
        "Le train part demain matin à huit heures.",
        "La salle de réunion est au deuxième étage.",
        "Elle a posé les clés sur la table de la cuisine.",
        "Nous lirons le rapport cet après-midi.",
        "Le magasin ferme à sept heures du soir.",
        "Mon frère a acheté un nouveau vélo bleu.",
        "La lettre est arrivée mardi.",
        "Il y a douze chaises dans la salle de classe.",
    ),
    "ITA": (
        "Il treno parte domani mattina alle otto.",
        "La sala riunioni è al secondo piano.",
        "Lei ha messo le chiavi sul tavolo della cucina.",
        "Leggeremo il rapporto questo pomeriggio.",
        "Il negozio chiude alle sette di sera.",
        "Mio fratello ha comprato una nuova bicicletta blu.",
        "La lettera è arrivata martedì.",
        "Ci sono dodici sedie nell'aula.",
    ),
    "POR": (
        "O comboio parte amanhã de manhã às oito horas.",
        "A sala de reuniões fica no segundo andar.",
        "Ela pôs as chaves na mesa da cozinha.",
        "Vamos ler o relatório esta tarde.",
        "A loja fecha às sete horas da noite.",
        "O meu irmão comprou uma bicicleta azul nova.",
        "A carta chegou na terça-feira.",
        "Há doze cadeiras na sala de aula.",
    ),
    "ROM": (
        "Trenul pleacă mâine dimineață la ora opt.",
        "Sala de ședințe este la etajul doi.",
        "Ea a pus cheile pe masa din bucătărie.",
        "Vom citi raportul în după-amiaza aceasta.",
        "Magazinul se închide la ora șapte seara.",
        "Fratele meu și-a cumpărat o bicicletă nouă albastră.",
        "Scrisoarea a sosit marți.",
        "Sunt douăsprezece scaune în sala de clasă.",
    ),
    "SPA": (
        "El tren sale mañana por la mañana a las ocho.",
        "La sala de reuniones está en el segundo piso.",
        "Ella dejó las llaves en la mesa de la cocina.",
        "Leeremos el informe esta tarde.",
        "La tienda cierra a las siete de la tarde.",
        "Mi hermano compró una bicicleta azul nueva.",
        "La carta llegó el martes.",
        "Hay doce sillas en el aula.",
    ),
    "ARA": (
        "القطار يغادر غدا صباحا في الساعة الثامنة.",
        "قاعة الاجتماعات في الطابق الثاني.",
        "وضعت المفاتيح على طاولة المطبخ.",
        "سنقرأ التقرير بعد الظهر.",
        "يغلق المتجر في الساعة السابعة مساء.",
        "اشترى أخي دراجة زرقاء جديدة.",
        "وصلت الرسالة يوم الثلاثاء.",
        "يوجد اثنا عشر كرسيا في الفصل.",
    ),
    "BEN": (
        "ট্রেনটি আগামীকাল সকাল আটটায় ছাড়বে।",
        "সভাকক্ষটি দোতলায়।",
        "সে চাবিগুলো রান্নাঘরের টেবিলে রেখেছে।",
        "আমরা আজ বিকেলে প্রতিবেদনটি পড়ব।",
        "দোকানটি সন্ধ্যা সাতটায় বন্ধ হয়।",
        "আমার ভাই একটি নতুন নীল সাইকেল কিনেছে।",
        "চিঠিটি মঙ্গলবার এসেছে।",
        "শ্রেণিকক্ষে বারোটি চেয়ার আছে।",
    ),
    "CHI": (
        "火车明天早上八点出发。",
        "会议室在二楼。",
        "她把钥匙放在厨房的桌子上。",
        "我们今天下午读这份报告。",
        "商店晚上七点关门。",
        "我哥哥买了一辆新的蓝色自行车。",
        "信是星期二到的。",
        "教室里有十二把椅子。",
    ),
    "ENG": (
        "The train leaves tomorrow morning at eight.",
        "The meeting room is on the second floor.",
        "She put the keys on the kitchen table.",
        "We will read the report this afternoon.",
        "The shop closes at seven in the evening.",
        "My brother bought a new blue bicycle.",
        "The letter arrived on Tuesday.",
        "There are twelve chairs in the classroom.",
    ),
    "RUS": (
        "Поезд отправляется завтра в восемь утра.",
        "Переговорная находится на втором этаже.",
        "Она положила ключи на кухонный стол.",
        "Мы прочитаем отчёт сегодня днём.",
        "Магазин закрывается в семь часов вечера.",
        "Мой брат купил новый синий велосипед.",
        "Письмо пришло во вторник.",
        "В классе двенадцать стульев.",
    ),
}


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class Profile:
    """How one emotion is rendered: eSpeak prosody plus post-effect strengths (0-1)."""

    rate: float  # multiple of BASE_RATE_WPM
    pitch: float  # eSpeak base pitch, 0-100 (50 = voice default)
    pitch_range: float  # eSpeak pitch range, 0-100 (50 = default, 0 = monotone)
    volume: float  # eSpeak volume, 0-200 (100 = default)
    tremor: float = 0.0  # amplitude tremor and vibrato at 5-8.5 Hz
    lowpass: float = 0.0  # muffled voice: low-pass cut-off from 7.5 kHz down to 2.25 kHz
    drive: float = 0.0  # harder dynamics, pre-emphasis and soft clipping
    breath: float = 0.0  # breathy high-passed noise following the speech envelope
    creak: float = 0.0  # creaky voice: 35-60 Hz pulsed amplitude modulation

    def as_array(self) -> np.ndarray:
        """The fields as a float vector, in declaration order."""
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)

    @classmethod
    def from_array(cls, values: np.ndarray) -> Profile:
        """Inverse of :meth:`as_array`, clipping every field to its valid range."""
        lo = np.array([0.5, 0.0, 0.0, 10.0, 0, 0, 0, 0, 0], dtype=np.float64)
        hi = np.array([2.2, 100.0, 100.0, 200.0, 1, 1, 1, 1, 1], dtype=np.float64)
        v = np.clip(np.asarray(values, dtype=np.float64), lo, hi)
        return cls(*(float(x) for x in v))


BASE_PROFILES: dict[str, Profile] = {
    "anger": Profile(rate=1.10, pitch=58, pitch_range=78, volume=150, drive=0.8),
    "disgust": Profile(rate=0.86, pitch=40, pitch_range=62, volume=95, breath=0.6, creak=0.6),
    "fear": Profile(rate=1.28, pitch=74, pitch_range=32, volume=85, tremor=0.8),
    "happiness": Profile(rate=1.12, pitch=68, pitch_range=88, volume=120),
    "neutral": Profile(rate=1.00, pitch=50, pitch_range=50, volume=100),
    "sadness": Profile(rate=0.76, pitch=36, pitch_range=20, volume=70, lowpass=0.75),
}

LINEAGE_PULL = 1.0  # fraction of the way to the next emotion of the cycle, per unit of shift
LINEAGE_DELTA = np.array([0.12, 8.0, 15.0, 15.0])  # max |offset|: log-rate, pitch, range, volume
_LINEAGE_SALT = "hf_ser.synthetic.lineage"


@dataclass(frozen=True)
class LineageStyle:
    """A language group's own way of expressing emotions (see the module docstring)."""

    group: str
    cycle: tuple[str, str, str]
    offsets: dict[str, tuple[float, float, float, float]]  # emotion -> (log-rate, pitch, range, volume)


def lineage_style(group: str) -> LineageStyle:
    """The style of `group`, a deterministic function of its name (SHA-256 seeded generator)."""
    digest = hashlib.sha256(f"{_LINEAGE_SALT}:{group}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    expressive = [e for e in EMOTIONS if e != "neutral"]
    cycle = tuple(str(e) for e in rng.permutation(expressive)[:3])
    offsets = {e: tuple(float(x) for x in rng.uniform(-1.0, 1.0, 4) * LINEAGE_DELTA) for e in expressive}
    return LineageStyle(group, cycle, offsets)  # type: ignore[arg-type]


def emotion_profile(emotion: str, group: str, lineage_shift: float = 0.0) -> Profile:
    """The profile of `emotion` for a language of `group`; all groups alike at lineage_shift=0."""
    if emotion not in BASE_PROFILES:
        raise ValueError(f"unknown emotion {emotion!r}; known: {', '.join(EMOTIONS)}")
    base = BASE_PROFILES[emotion]
    if lineage_shift <= 0 or emotion == "neutral":
        return base
    style = lineage_style(group)
    v = base.as_array()
    if emotion in style.cycle:
        target = style.cycle[(style.cycle.index(emotion) + 1) % len(style.cycle)]
        w = min(1.0, LINEAGE_PULL * lineage_shift)
        v = (1.0 - w) * v + w * BASE_PROFILES[target].as_array()
    d = np.asarray(style.offsets[emotion]) * lineage_shift
    v[0] *= float(np.exp(d[0]))
    v[1:4] += d[1:4]
    return Profile.from_array(v)


def describe_profiles(lineage_shift: float = 0.0, groups: list[str] | None = None) -> str:
    """A text table of the profile of every emotion in every group."""
    groups = groups or sorted({LANGUAGES[c].group for c in ESPEAK_VOICES if c in LANGUAGES})
    names = [f.name for f in fields(Profile)]
    lines = [f"{'group':<12}{'emotion':<11}" + "".join(f"{n:>12}" for n in names)]
    for g in groups:
        for e in EMOTIONS:
            v = emotion_profile(e, g, lineage_shift).as_array()
            lines.append(f"{g:<12}{e:<11}" + "".join(f"{x:>12.2f}" for x in v))
    return "\n".join(lines)


# --------------------------------------------------------------------------- eSpeak NG


class ESpeakError(RuntimeError):
    """eSpeak NG could not be loaded, did not know a voice, or produced no audio."""


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4}


class ESpeakNG:
    """eSpeak NG through ctypes, synchronous mode; every utterance on a freshly loaded library.

    eSpeak keeps C statics from one utterance to the next, so the output of an utterance
    would depend on what was said before it. Loading a private copy of the library and
    unloading it (``dlclose``) after each utterance makes every utterance history-free.
    """

    def __init__(self) -> None:
        self._data = espeakng_loader.get_data_path().encode()
        self._private = Path(tempfile.mkdtemp(prefix="hf_ser-espeak-"))
        atexit.register(shutil.rmtree, self._private, True)
        self._lib_path = str(self._private / "libespeak-ng.so")
        shutil.copyfile(espeakng_loader.get_library_path(), self._lib_path)
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced for the library's lifetime
        lib = self._load()
        try:
            version = ctypes.c_char_p()
            lib.espeak_Info.restype = ctypes.c_char_p
            lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
            self.version: str = (lib.espeak_Info(ctypes.byref(version)) or b"?").decode()
        finally:
            self._unload(lib)

    def _collect(self, wav, n: int, events) -> int:
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def _load(self) -> ctypes.CDLL:
        lib = ctypes.CDLL(self._lib_path, mode=getattr(os, "RTLD_LOCAL", 0))
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, self._data, _INITIALIZE_DONT_EXIT)
        if sr <= 0:
            raise ESpeakError(f"espeak_Initialize failed ({sr}) with data {self._data.decode()}")
        self.sample_rate = int(sr)
        lib.espeak_SetSynthCallback(self._callback)
        if hasattr(lib, "espeak_ng_SetRandSeed"):
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            lib.espeak_ng_SetRandSeed(0)
        return lib

    @staticmethod
    def _unload(lib: ctypes.CDLL) -> None:
        lib.espeak_Terminate()
        dlclose = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
        if dlclose is not None:
            dlclose(lib._handle)

    def has_voice(self, voice: str) -> bool:
        """Whether eSpeak knows `voice` (a name like ``fr`` or ``fr+f2``)."""
        lib = self._load()
        try:
            return lib.espeak_SetVoiceByName(voice.encode()) == 0
        finally:
            self._unload(lib)

    def synthesize(
        self, text: str, voice: str, *, rate: float, pitch: float, pitch_range: float, volume: float
    ) -> np.ndarray:
        """Int16 samples at :attr:`sample_rate` for `text` spoken by `voice` with this prosody."""
        lib = self._load()
        try:
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ESpeakError(f"eSpeak NG has no voice {voice!r}; see espeak-ng-data/voices and lang/")
            for name, value in (("rate", rate), ("pitch", pitch), ("range", pitch_range), ("volume", volume)):
                lib.espeak_SetParameter(_PARAM[name], int(round(value)), 0)
            self._chunks = []
            buf = text.encode("utf-8") + b"\0"
            err = lib.espeak_Synth(buf, len(buf), 0, 0, 0, _CHARS_UTF8, None, None)
            if err != 0:
                raise ESpeakError(f"espeak_Synth failed ({err}) for voice {voice!r}, text {text!r}")
            wav = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        finally:
            self._unload(lib)
        self._chunks = []
        if not np.any(np.abs(wav.astype(np.int32)) > 16):
            raise ESpeakError(f"eSpeak NG produced no audio for voice {voice!r}, text {text!r}")
        return wav


@functools.lru_cache(maxsize=1)
def get_engine() -> ESpeakNG:
    """The process-wide :class:`ESpeakNG` (one private copy of the library)."""
    return ESpeakNG()


# --------------------------------------------------------------------------- rendering


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


# --------------------------------------------------------------------------- corpus


def _speaker_voices(code: str, n: int) -> list[str]:
    """`n` voice variants for language `code`: a language-specific even rotation of VARIANTS."""
    if not 1 <= n <= len(VARIANTS):
        raise UserError(f"speakers_per_language must be in 1..{len(VARIANTS)} (eSpeak variants), got {n}")
    start = 2 * (zlib.crc32(code.encode()) % (len(VARIANTS) // 2))
    rotated = VARIANTS[start:] + VARIANTS[:start]
    return [f"{ESPEAK_VOICES[code]}+{v}" for v in rotated[:n]]


def plan_utterances(languages: list[str], per_cell: int, speakers_per_language: int) -> list[Utterance]:
    """Every utterance of a build, in build order: language, emotion, index."""
    plan = []
    for code in languages:
        voices = _speaker_voices(code, speakers_per_language)
        sents = SENTENCES[code]
        for emotion in EMOTIONS:
            for i in range(per_cell):
                voice = voices[i % len(voices)]
                text = sents[(i + i // len(voices)) % len(sents)]
                plan.append(Utterance(code, emotion, i, voice, f"{code}-{voice}", text))
    return plan


def _check_languages(languages: list[str] | tuple[str, ...] | None) -> list[str]:
    codes = check_languages(list(languages) if languages is not None else list(ESPEAK_VOICES))
    for code in codes:
        if code not in ESPEAK_VOICES or code not in SENTENCES:
            raise ValueError(
                f"language {code} has no synthetic voice or sentences; add ESPEAK_VOICES[{code!r}] and "
                f"SENTENCES[{code!r}] (>= 6 sentences) in hf_ser/data/corpora/synthetic.py"
            )
        if len(SENTENCES[code]) < 6:
            raise ValueError(f"SENTENCES[{code!r}] has {len(SENTENCES[code])} sentences; give at least 6")
    if len(set(codes)) != len(codes):
        raise UserError(f"languages has duplicates: {codes}")
    return codes


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def corpus_params(
    codes: list[str], per_cell: int, seed: int, lineage_shift: float, speakers_per_language: int, engine_version: str
) -> dict:
    """Everything the corpus depends on (its folder name is a hash of this): sizes, voices, sentences, profiles."""
    return {
        "corpus": CORPUS_NAME,
        "format_version": FORMAT_VERSION,
        "per_cell": int(per_cell),
        "languages": codes,
        "seed": int(seed),
        "lineage_shift": float(lineage_shift),
        "speakers_per_language": int(speakers_per_language),
        "espeak_ng": engine_version,
        "groups": {c: LANGUAGES[c].group for c in codes},
        "voices": {c: _speaker_voices(c, speakers_per_language) for c in codes},
        "sentences": {c: list(SENTENCES[c]) for c in codes},
        "profiles": {
            g: {e: asdict(emotion_profile(e, g, lineage_shift)) for e in EMOTIONS}
            for g in sorted({LANGUAGES[c].group for c in codes})
        },
    }


def _synthesise(engine, out: Path, plan: list, codes: list[str], seed: int, lineage_shift: float) -> tuple[list, dict]:
    """Render every planned utterance not already on disk; returns the manifest rows and the build statistics."""
    rows, durations, times, reused = [], {c: [] for c in codes}, [], 0
    for utt in tqdm(plan, desc="synthetic corpus", unit="utt"):
        path = out / utt.relpath
        if path.is_file():  # left by a killed build; WAVs are written atomically, so complete
            durations[utt.language].append(sf.info(str(path)).duration)
            reused += 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            group = LANGUAGES[utt.language].group
            audio, _ = render_utterance(engine, utt, emotion_profile(utt.emotion, group, lineage_shift), seed)
            times.append(time.perf_counter() - t0)
            _write_atomic(path, lambda p, a=audio: sf.write(str(p), a, SAMPLING_RATE, subtype="PCM_16", format="WAV"))
            durations[utt.language].append(len(audio) / SAMPLING_RATE)
        rows.append((utt.relpath, utt.emotion, utt.language, utt.speaker, CORPUS_NAME))
    stats = {
        "utterances": len(plan),
        "synthesised": len(times),
        "reused": reused,
        "synthesis_seconds_per_utterance": float(np.mean(times)) if times else None,
        "synthesis_seconds_total": float(np.sum(times)),
        "mean_duration_seconds": {c: float(np.mean(d)) for c, d in durations.items()},
        "total_duration_hours": float(sum(map(sum, durations.values())) / 3600),
    }
    return rows, stats


def _write_manifest(manifest: Path, rows: list) -> None:
    """The corpus manifest (path, label, language, speaker, corpus), written atomically."""

    def write(p: Path) -> None:
        with open(p, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(MANIFEST_COLUMNS)
            writer.writerows(rows)

    _write_atomic(manifest, write)


def build_synthetic_corpus(
    root: str | Path,
    *,
    per_cell: int = 30,
    languages: list[str] | tuple[str, ...] | None = None,
    seed: int = 0,
    lineage_shift: float = 0.0,
    speakers_per_language: int = 4,
) -> Path:
    """Synthesise (once; cached by parameters) the corpus under `root`; returns its manifest.csv.

    per_cell utterances per (language, emotion); ``lineage_shift`` > 0 plants the
    group-specific emotion styles described in the module docstring.
    """
    if per_cell < 1:
        raise UserError(f"per_cell must be >= 1, got {per_cell}")
    if lineage_shift < 0:
        raise UserError(f"lineage_shift must be >= 0, got {lineage_shift}")
    codes = _check_languages(languages)
    engine = get_engine()
    params = corpus_params(codes, per_cell, seed, lineage_shift, speakers_per_language, engine.version)
    blob = json.dumps(params, sort_keys=True, ensure_ascii=False)
    out = Path(root) / f"synthetic-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"
    manifest = out / "manifest.csv"
    if manifest.is_file():
        logger.info("synthetic corpus already built: %s", manifest)
        return manifest

    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(params, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    _write_atomic(out / "params.json", lambda p: p.write_text(text, encoding="utf-8"))
    for code in codes:
        for voice in params["voices"][code]:
            if not engine.has_voice(voice):
                raise ESpeakError(f"eSpeak NG {engine.version} has no voice {voice!r} (language {code})")
    plan = plan_utterances(codes, per_cell, speakers_per_language)
    logger.info(
        "building synthetic corpus in %s: %d languages x %d emotions x %d = %d utterances "
        "(eSpeak NG %s, lineage_shift=%g)",
        out,
        len(codes),
        len(EMOTIONS),
        per_cell,
        len(plan),
        engine.version,
        lineage_shift,
    )
    rows, stats = _synthesise(engine, out, plan, codes, seed, lineage_shift)
    _write_atomic(out / "stats.json", lambda p: p.write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8"))
    if stats["synthesised"]:
        logger.info(
            "synthesised %d utterances in %.1f s (%.1f ms per utterance); %d reused",
            stats["synthesised"],
            stats["synthesis_seconds_total"],
            1000 * stats["synthesis_seconds_per_utterance"],
            stats["reused"],
        )
    logger.info(
        "mean duration per language: %s", ", ".join(f"{c} {d:.2f}s" for c, d in stats["mean_duration_seconds"].items())
    )
    _write_manifest(manifest, rows)
    logger.info("wrote %s", manifest)
    return manifest


# --------------------------------------------------------------------------- CLI


# the examples at the end of --help
EXAMPLES = """examples:
  hf-ser synthetic --output_dir data/synthetic                     # the demo corpus, built locally
  hf-ser synthetic --show_profiles --lineage_shift 1               # the planted lineage effect, per group
"""


@command
def main(argv: list[str] | None = None) -> int:
    """Command line: build the corpus, print the manifest path and a count table."""
    ap = ArgumentParser(
        prog="hf-ser synthetic",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    ap.add_argument("--output_dir", type=Path, help="folder under which synthetic-<hash>/ is written")
    ap.add_argument("--per_cell", type=int, default=30, help="utterances per (language, emotion)")
    ap.add_argument("--languages", nargs="+", default=None, help="language codes (default: all ten)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sentences, speakers and prosody draws")
    ap.add_argument("--lineage_shift", type=float, default=0.0, help="strength of the group-specific styles")
    ap.add_argument("--speakers_per_language", type=int, default=4, help="eSpeak voice variants per language")
    ap.add_argument("--show_profiles", action="store_true", help="print the emotion profiles per group and exit")
    args = ap.parse_args(argv)
    setup_logging()
    if args.show_profiles:
        print(describe_profiles(args.lineage_shift))
        return 0
    if args.output_dir is None:
        raise UserError("--output_dir is required (unless --show_profiles)")
    manifest = build_synthetic_corpus(
        args.output_dir,
        per_cell=args.per_cell,
        languages=args.languages,
        seed=args.seed,
        lineage_shift=args.lineage_shift,
        speakers_per_language=args.speakers_per_language,
    )
    df = pd.read_csv(manifest)
    print(manifest)
    print(pd.crosstab(df["language"], df["label"], margins=True, margins_name="total").to_string())
    stats = json.loads((manifest.parent / "stats.json").read_text(encoding="utf-8"))
    print("mean duration (s): " + ", ".join(f"{c} {d:.2f}" for c, d in stats["mean_duration_seconds"].items()))
    if stats["synthesis_seconds_per_utterance"] is not None:
        print(f"synthesis: {1000 * stats['synthesis_seconds_per_utterance']:.1f} ms per utterance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
