"""Build and cache the synthetic corpus: plan the utterances, synthesise the missing ones, write the manifest.

No download, no licence question: every utterance is rendered on the spot by the
eSpeak NG library bundled in the ``espeakng-loader`` wheel (driven with ctypes,
22.05 kHz, resampled to 16 kHz with ``soxr``), so tests, tutorials and CI can run
the whole pipeline on speech in the ten languages of the study.

What is in it
-------------
* Languages: every code of :data:`~.languages.SENTENCES` (the ten of ``labels.LANGUAGES``), eight
  emotionally neutral sentences each, in the language's own script (Arabic is Modern
  Standard Arabic: eSpeak has no Moroccan voice). eSpeak voices in :data:`~.languages.ESPEAK_VOICES`.
* Speakers: eSpeak voice variants (``fr+f2``, ``en+m3``, ...), alternating male and
  female, a different subset per language; speaker id ``<LANG>-<voice>`` (``FRE-fr+f2``).
* Emotions: each of ``labels.EMOTIONS`` is a :class:`~.profiles.Profile` -- eSpeak prosody (speaking
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

The planted lineage effect (``lineage_shift``): see :mod:`hf_ser.data.corpora.synthetic.profiles`; the planted
genetic-distance effect (``genetic_shift``): see :mod:`hf_ser.data.corpora.synthetic.genetic`.

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

import csv
import hashlib
import json
import logging
import os
import time
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from hf_ser.data.corpora.synthetic.espeak import ESpeakError, get_engine
from hf_ser.data.corpora.synthetic.genetic import genetic_profile
from hf_ser.data.corpora.synthetic.languages import DEFAULT_LANGUAGES, ESPEAK_VOICES, SENTENCES, VARIANTS
from hf_ser.data.corpora.synthetic.profiles import emotion_profile
from hf_ser.data.corpora.synthetic.render import Utterance, render_utterance
from hf_ser.errors import UserError
from hf_ser.labels import EMOTIONS, LANGUAGES, SAMPLING_RATE, check_languages

logger = logging.getLogger("hf_ser.data.corpora.synthetic")  # the package's name: log lines read as before

CORPUS_NAME = "synthetic"
FORMAT_VERSION = 1  # bump when the audio for the same parameters changes
MANIFEST_COLUMNS: tuple[str, ...] = ("path", "label", "language", "speaker", "corpus")


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
    """The checked language codes of a build (default: the paper's ten, :data:`DEFAULT_LANGUAGES`); errors name
    the fix."""
    codes = check_languages(list(languages) if languages is not None else list(DEFAULT_LANGUAGES))
    for code in codes:
        if code not in ESPEAK_VOICES or code not in SENTENCES:
            raise ValueError(
                f"language {code} has no synthetic voice or sentences; add ESPEAK_VOICES[{code!r}] and "
                f"SENTENCES[{code!r}] (>= 6 sentences) in hf_ser/data/corpora/synthetic/languages.py"
            )
        if len(SENTENCES[code]) < 6:
            raise ValueError(f"SENTENCES[{code!r}] has {len(SENTENCES[code])} sentences; give at least 6")
    if len(set(codes)) != len(codes):
        raise UserError(f"languages has duplicates: {codes}")
    return codes


def _write_atomic(path: Path, write) -> None:
    """Call `write` on a temporary file beside `path`, then move it into place (no half-written file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def language_profile(emotion: str, language: str, lineage_shift: float, genetic_shift: float = 0.0):
    """The profile `language` renders `emotion` with: its group's (lineage_shift), moved by genetic_shift."""
    base = emotion_profile(emotion, LANGUAGES[language].group, lineage_shift)
    return genetic_profile(base, emotion, language, genetic_shift)


def corpus_params(
    codes: list[str],
    per_cell: int,
    seed: int,
    lineage_shift: float,
    speakers_per_language: int,
    engine_version: str,
    genetic_shift: float = 0.0,
) -> dict:
    """Everything the corpus depends on (its folder name is a hash of this): sizes, voices, sentences, profiles.
    The genetic keys appear only when genetic_shift > 0, so every earlier build keeps its hash and folder."""
    params = {
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
    if genetic_shift > 0:
        params["genetic_shift"] = float(genetic_shift)
        params["genetic_profiles"] = {
            c: {e: asdict(language_profile(e, c, lineage_shift, genetic_shift)) for e in EMOTIONS} for c in codes
        }
    return params


def _synthesise(
    engine, out: Path, plan: list, codes: list[str], seed: int, lineage_shift: float, genetic_shift: float = 0.0
) -> tuple[list, dict]:
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
            profile = language_profile(utt.emotion, utt.language, lineage_shift, genetic_shift)
            audio, _ = render_utterance(engine, utt, profile, seed)
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
    genetic_shift: float = 0.0,
) -> Path:
    """Synthesise (once; cached by parameters) the corpus under `root`; returns its manifest.csv.

    per_cell utterances per (language, emotion); ``lineage_shift`` > 0 plants the
    group-specific emotion styles described in :mod:`hf_ser.data.corpora.synthetic.profiles`.
    """
    if per_cell < 1:
        raise UserError(f"per_cell must be >= 1, got {per_cell}")
    if lineage_shift < 0:
        raise UserError(f"lineage_shift must be >= 0, got {lineage_shift}")
    if genetic_shift < 0:
        raise UserError(f"genetic_shift must be >= 0, got {genetic_shift}")
    codes = _check_languages(languages)
    outside = [c for c in codes if not LANGUAGES[c].group]
    if lineage_shift > 0 and outside:
        raise UserError(
            f"lineage_shift plants the paper's Neo-Latin/others effect; {', '.join(outside)} "
            "is outside that split: leave it out of the languages or use genetic_shift"
        )
    engine = get_engine()
    params = corpus_params(codes, per_cell, seed, lineage_shift, speakers_per_language, engine.version, genetic_shift)
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
    rows, stats = _synthesise(engine, out, plan, codes, seed, lineage_shift, genetic_shift)
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
