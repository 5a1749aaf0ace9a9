"""Tests of the eSpeak NG synthetic corpus (hf_ser.data.corpora.synthetic): all fast (a few seconds)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hf_ser.data.corpora.synthetic import build, espeak, languages, profiles
from hf_ser.data.corpora.synthetic.__main__ import main
from hf_ser.errors import UserError
from hf_ser.labels import EMOTIONS, LANGUAGES, SAMPLING_RATE, groups

LANGS = ["FRE", "CHI"]  # one Neo-Latin, one other; Chinese script
PER_CELL = 2


def _build(root: Path, **kw) -> Path:
    args = dict(per_cell=PER_CELL, languages=LANGS, seed=0, speakers_per_language=2)
    args.update(kw)
    return build.build_synthetic_corpus(root, **args)


def _rows(manifest: Path) -> list[dict]:
    with open(manifest, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _f0(x: np.ndarray, sr: int = SAMPLING_RATE) -> float:
    """Crude mean F0 (Hz): autocorrelation peak in 60-500 Hz over loud 40 ms frames."""
    frame, hop, out = int(0.04 * sr), int(0.01 * sr), []
    for s in range(0, len(x) - frame, hop):
        f = x[s : s + frame] - x[s : s + frame].mean()
        if np.sqrt(np.mean(f**2)) < 0.01:
            continue
        ac = np.correlate(f, f, "full")[frame - 1 :]
        lo, hi = sr // 500, sr // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.4 * ac[0]:
            out.append(sr / lag)
    return float(np.mean(out))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The same tiny build twice (two roots) and once with lineage_shift=1."""
    return {
        "a": _build(tmp_path_factory.mktemp("a")),
        "b": _build(tmp_path_factory.mktemp("b")),
        "shift": _build(tmp_path_factory.mktemp("s"), lineage_shift=1.0),
    }


def test_manifest_and_audio(built):
    manifest = built["a"]
    assert manifest.name == "manifest.csv" and manifest.parent.name.startswith("synthetic-")
    rows = _rows(manifest)
    assert list(rows[0]) == ["path", "label", "language", "speaker", "corpus"]
    assert len(rows) == len(LANGS) * len(EMOTIONS) * PER_CELL
    for lang in LANGS:
        for emo in EMOTIONS:
            assert sum(r["language"] == lang and r["label"] == emo for r in rows) == PER_CELL
    assert {r["corpus"] for r in rows} == {"synthetic"}
    assert {r["speaker"] for r in rows if r["language"] == "FRE"} <= {
        f"FRE-{v}" for v in build._speaker_voices("FRE", 2)
    }
    assert len({r["speaker"] for r in rows}) == 2 * len(LANGS)
    for r in rows:
        path = manifest.parent / r["path"]
        assert not Path(r["path"]).is_absolute() and path.is_file()
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (SAMPLING_RATE, 1, "PCM_16", "WAV")
        x, _ = sf.read(str(path))
        assert np.sqrt(np.mean(x**2)) > 0.01, f"{path} is (nearly) silent"
        lead, tail = x[: int(0.09 * SAMPLING_RATE)], x[-int(0.09 * SAMPLING_RATE) :]
        assert 0 < np.abs(lead).max() < 0.005 and 0 < np.abs(tail).max() < 0.005, "padding: low noise floor"
    assert (manifest.parent / "params.json").is_file()
    stats = json.loads((manifest.parent / "stats.json").read_text())
    assert set(stats["mean_duration_seconds"]) == set(LANGS)
    assert all(1.0 < d < 8.0 for d in stats["mean_duration_seconds"].values())
    assert stats["synthesis_seconds_per_utterance"] > 0


def test_deterministic_bytes(built):
    a, b = built["a"].parent, built["b"].parent
    assert a.name == b.name
    files = sorted(p.relative_to(a) for p in a.rglob("*.wav"))
    assert len(files) == len(LANGS) * len(EMOTIONS) * PER_CELL
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    for name in ("manifest.csv", "params.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_engine_is_history_free():
    eng = espeak.get_engine()
    kw = dict(rate=170, pitch=50, pitch_range=50, volume=100)
    first = eng.synthesize("The letter arrived on Tuesday.", "en+f2", **kw)
    eng.synthesize("La lettre est arrivée mardi.", "fr+m3", **kw)
    again = eng.synthesize("The letter arrived on Tuesday.", "en+f2", **kw)
    assert np.array_equal(first, again)


def test_cache_reuse_and_resume(built, tmp_path, monkeypatch):
    manifest = built["a"]
    wavs = sorted(manifest.parent.rglob("*.wav"))
    mtimes = {p: p.stat().st_mtime_ns for p in wavs + [manifest]}

    def boom(*a, **k):
        raise AssertionError("a cached build must not synthesise")

    monkeypatch.setattr(build, "render_utterance", boom)
    assert _build(manifest.parent.parent) == manifest
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    monkeypatch.undo()

    # A killed build (no manifest, one WAV missing) resumes: only the missing file is made, identically.
    root = tmp_path / "resume"
    m = _build(root)
    victim = sorted(m.parent.rglob("*.wav"))[5]
    original = victim.read_bytes()
    victim.unlink()
    m.unlink()
    calls = []
    real = build.render_utterance
    monkeypatch.setattr(build, "render_utterance", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    assert _build(root) == m and m.is_file()
    assert len(calls) == 1 and victim.read_bytes() == original


def test_lineage_profiles():
    # the synthetic corpus speaks the paper's ten languages, whose groups are the paper's split
    assert (
        sorted({LANGUAGES[code].group for code in languages.DEFAULT_LANGUAGES})
        == sorted(groups())
        == ["neo_latin", "others"]
    )
    for e in EMOTIONS:
        assert profiles.emotion_profile(e, "neo_latin", 0.0) == profiles.emotion_profile(e, "others", 0.0)
    assert profiles.emotion_profile("neutral", "neo_latin", 1.0) == profiles.BASE_PROFILES["neutral"]
    moved = [
        e
        for e in EMOTIONS
        if profiles.emotion_profile(e, "neo_latin", 1.0) != profiles.emotion_profile(e, "others", 1.0)
    ]
    assert moved == [e for e in EMOTIONS if e != "neutral"]
    # What the profiles module docstring documents for the two default groups.
    assert profiles.lineage_style("neo_latin").cycle == ("anger", "sadness", "happiness")
    assert profiles.lineage_style("others").cycle == ("anger", "happiness", "disgust")
    nl, ot = (profiles.emotion_profile("fear", g, 1.0) for g in ("neo_latin", "others"))
    assert ot.rate > nl.rate and ot.pitch < nl.pitch
    nl_h, ot_h = (profiles.emotion_profile("happiness", g, 1.0) for g in ("neo_latin", "others"))
    assert nl_h.drive > 0 and ot_h.breath > 0 and ot_h.rate < nl_h.rate
    # A new group gets its own style, deterministically, from its name alone.
    assert profiles.lineage_style("germanic") == profiles.lineage_style("germanic")
    assert profiles.lineage_style("germanic") not in (
        profiles.lineage_style("neo_latin"),
        profiles.lineage_style("others"),
    )


def test_lineage_shift_in_audio(built):
    base, shifted = built["a"].parent, built["shift"].parent
    assert base != shifted

    def pair(lang: str, emo: str, i: int) -> tuple[np.ndarray, np.ndarray]:
        rel = f"{lang}/{emo}/{lang}_{emo}_{i:04d}.wav"
        return sf.read(str(base / rel))[0], sf.read(str(shifted / rel))[0]

    def delta(lang: str, emo: str) -> tuple[float, float]:
        p0, p1 = (profiles.emotion_profile(emo, LANGUAGES[lang].group, s) for s in (0.0, 1.0))
        return p1.rate / p0.rate, p1.pitch - p0.pitch

    for lang in LANGS:
        for i in range(PER_CELL):
            x0, x1 = pair(lang, "neutral", i)
            assert np.array_equal(x0, x1), "neutral must not move"
    # The per-utterance jitter is the same in both builds, so what differs is the profile alone.
    # Sadness: Neo-Latin speeds up, the others slow down (profiles module docstring); durations follow.
    rate_ratio = {lang: delta(lang, "sadness")[0] for lang in LANGS}
    assert rate_ratio["FRE"] > 1.05 and rate_ratio["CHI"] < 0.95
    for lang in LANGS:
        for i in range(PER_CELL):
            x0, x1 = pair(lang, "sadness", i)
            ratio = len(x1) / len(x0)
            assert (ratio < 0.97) if rate_ratio[lang] > 1 else (ratio > 1.03), (lang, i, ratio)
    # Mean F0 follows the largest pitch change planted among these languages and emotions.
    lang, emo = max(((la, e) for la in LANGS for e in EMOTIONS), key=lambda k: abs(delta(*k)[1]))
    dp = delta(lang, emo)[1]
    assert abs(dp) >= 8
    f0_ratio = np.mean([_f0(x1) / _f0(x0) for x0, x1 in (pair(lang, emo, i) for i in range(PER_CELL))])
    assert (f0_ratio > 1.1) if dp > 0 else (f0_ratio < 0.9), (lang, emo, dp, f0_ratio)


def test_every_language_and_voice(tmp_path):
    m = build.build_synthetic_corpus(tmp_path, per_cell=1, speakers_per_language=1)
    rows = _rows(m)
    assert (
        sorted({r["language"] for r in rows})
        == sorted(languages.DEFAULT_LANGUAGES)
        == sorted(c for ls in groups().values() for c in ls)
    )
    for r in rows:
        x, sr = sf.read(str(m.parent / r["path"]))
        assert sr == SAMPLING_RATE and np.sqrt(np.mean(x**2)) > 0.01, r


def test_errors():
    with pytest.raises(UserError, match="unknown language"):
        build.build_synthetic_corpus("/nonexistent", languages=["XXX"])
    with pytest.raises(UserError, match="speakers_per_language"):
        build.build_synthetic_corpus("/nonexistent", languages=["ENG"], speakers_per_language=99)
    with pytest.raises(UserError, match="per_cell"):
        build.build_synthetic_corpus("/nonexistent", per_cell=0)
    with pytest.raises(espeak.ESpeakError, match="no voice"):
        espeak.get_engine().synthesize("x", "zz-nope", rate=170, pitch=50, pitch_range=50, volume=100)


def test_cli(tmp_path, capsys):
    assert (
        main(["--output_dir", str(tmp_path), "--languages", "ENG", "--per_cell", "1", "--speakers_per_language", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "manifest.csv" in out and "ENG" in out and "total" in out and "mean duration" in out


def test_manifest_reader_accepts_it(built):
    from hf_ser.data.corpora.manifest import scan_manifest

    scan = scan_manifest(built["a"], corpus="synthetic")
    assert len(scan.items) == len(LANGS) * len(EMOTIONS) * PER_CELL and not scan.skipped
    assert {it.label for it in scan.items} == set(EMOTIONS) and all(Path(it.path).is_file() for it in scan.items)
