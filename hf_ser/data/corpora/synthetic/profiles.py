"""Emotion profiles of the synthetic corpus: eSpeak prosody and post effects per emotion, per language group.

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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import numpy as np

from hf_ser.data.corpora.synthetic.languages import DEFAULT_LANGUAGES
from hf_ser.labels import EMOTIONS, LANGUAGES

BASE_RATE_WPM = 165.0


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
    groups = groups or sorted({LANGUAGES[c].group for c in DEFAULT_LANGUAGES if c in LANGUAGES})
    names = [f.name for f in fields(Profile)]
    lines = [f"{'group':<12}{'emotion':<11}" + "".join(f"{n:>12}" for n in names)]
    for g in groups:
        for e in EMOTIONS:
            v = emotion_profile(e, g, lineage_shift).as_array()
            lines.append(f"{g:<12}{e:<11}" + "".join(f"{x:>12.2f}" for x in v))
    return "\n".join(lines)
