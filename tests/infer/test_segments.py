"""Tests for hf_ser.infer.segments: fixed windows, gap merging, streamed segment audio, the silero VAD on speech.

The long recording is built from eSpeak NG utterances (real synthetic speech, so the VAD fires) of known
emotion with pauses between them; its true speech boundaries are where each utterance's level is within
40 dB of its loudest 10 ms frame.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from hf_ser.data.audio import load_mono, load_prepared
from hf_ser.data.corpora.synthetic.build import plan_utterances
from hf_ser.data.corpora.synthetic.espeak import get_engine
from hf_ser.data.corpora.synthetic.profiles import emotion_profile
from hf_ser.data.corpora.synthetic.render import render_utterance
from hf_ser.infer import segments
from hf_ser.infer.predict.model import load_classifier
from hf_ser.infer.predict.options import PredictOptions
from hf_ser.infer.predict.predictor import classify
from hf_ser.labels import EMOTIONS
from hf_ser.train.modeling import build_model

SR = 16_000
pytestmark = pytest.mark.usefixtures("one_torch_thread")
PAUSES = (0.8, 1.2, 0.7, 1.5, 0.9)  # seconds of silence between the six utterances


def speech_extent(wave: np.ndarray, hop: int = 160) -> tuple[float, float]:
    """(start s, end s) of the frames within 40 dB of the loudest 10 ms frame."""
    n = len(wave) // hop
    level = 10 * np.log10(np.mean(wave[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1) + 1e-20)
    voiced = np.flatnonzero(level > level.max() - 40)
    return voiced[0] * hop / SR, (voiced[-1] + 1) * hop / SR


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> dict:
    """Six utterances (one per emotion, English eSpeak voices) alone as files and joined with pauses."""
    folder = tmp_path_factory.mktemp("speech")
    engine = get_engine()
    utterances = [u for u in plan_utterances(["ENG"], 1, 2)]
    waves, alone = [], []
    for u in utterances:
        pcm, _ = render_utterance(engine, u, emotion_profile(u.emotion, "others"), seed=0)
        wave = pcm.astype(np.float32) / 32768
        alone.append(folder / f"{u.emotion}.wav")
        sf.write(alone[-1], wave, SR)
        waves.append(wave)
    parts, truth, t = [np.zeros(SR // 2, np.float32)], [], 0.5
    for i, wave in enumerate(waves):
        start, end = speech_extent(wave)
        truth.append((t + start, t + end))
        pause = PAUSES[i] if i < len(PAUSES) else 0.6
        parts += [wave, np.zeros(int(pause * SR), np.float32)]
        t += len(wave) / SR + pause
    joined = folder / "joined.wav"
    sf.write(joined, np.concatenate(parts), SR)
    return {"joined": joined, "alone": alone, "truth": truth, "emotions": [u.emotion for u in utterances]}


class SpectrumClassifier:
    """A stand-in with the pipeline's interface: nearest long-term spectrum among reference utterances.

    The long-term average spectrum does not move when the audio is shifted by a few samples (a random
    wav2vec2 does), so equal labels mean the segment holds the same speech as the utterance alone.
    """

    def __init__(self, references: dict[str, np.ndarray]):
        self.labels = list(references)
        self.centroids = np.stack([self.spectrum(w) for w in references.values()])
        self.feature_extractor = type("FE", (), {"sampling_rate": SR})()
        self.model = type("M", (), {"config": type("C", (), {"id2label": dict(enumerate(self.labels))})()})()

    @staticmethod
    def spectrum(wave: np.ndarray) -> np.ndarray:
        n = len(wave) // 512
        frames = wave[: n * 512].reshape(n, 512) * np.hanning(512)
        return np.log(np.abs(np.fft.rfft(frames, axis=1)).mean(axis=0) + 1e-6)

    def __call__(self, inputs, batch_size=1, top_k=None):
        for item in inputs:
            d = np.linalg.norm(self.centroids - self.spectrum(item["raw"]), axis=1)
            p = np.exp(-(d - d.min()))
            p /= p.sum()
            yield [{"label": lab, "score": float(s)} for lab, s in sorted(zip(self.labels, p), key=lambda x: -x[1])]


# ----------------------------------------------------------------------------- pure functions


def test_fixed_windows_cover_the_file_with_full_length_windows():
    assert segments.fixed_segments(10.0, 4.0, 2.0) == [(0.0, 4.0), (2.0, 6.0), (4.0, 8.0), (6.0, 10.0)]
    assert segments.fixed_segments(9.0, 4.0, 4.0) == [(0.0, 4.0), (4.0, 8.0), (5.0, 9.0)]
    assert segments.fixed_segments(3.0, 4.0, 2.0) == [(0.0, 3.0)]
    with pytest.raises(ValueError):
        segments.fixed_segments(3.0, 0.0, 1.0)


def test_merge_close_joins_short_gaps_within_the_length_limit():
    spans = [(0.0, 1.0), (1.2, 2.0), (3.0, 4.0), (4.1, 9.0)]
    assert segments.merge_close(spans, 0.3, None) == [(0.0, 2.0), (3.0, 9.0)]
    assert segments.merge_close(spans, 0.3, 5.5) == [(0.0, 2.0), (3.0, 4.0), (4.1, 9.0)]
    assert segments.merge_close(spans, 0.0, None) == spans


def test_vad_params_are_checked():
    segments.VadParams().check()
    for bad in ({"threshold": 1.5}, {"min_silence": -1}, {"max_segment": 0.5}):
        with pytest.raises(ValueError):
            segments.VadParams(**bad).check()


def test_segment_audio_streamed_equals_slices_of_the_whole_signal(tmp_path):
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(25 * SR)).astype(np.float32)  # 25 s: crosses 10 s decoding blocks
    path = tmp_path / "noise.wav"
    sf.write(path, wave, SR, subtype="FLOAT")
    spans = [(12.0, 21.0), (0.5, 2.0), (1.0, 3.0), (9.5, 10.5), (24.0, 26.0)]  # unordered, overlapping, past the end
    whole = load_mono(path)
    got = dict(segments.iter_segment_audio(path, spans))
    assert sorted(got) == list(range(len(spans)))
    for k, (s, e) in enumerate(spans):
        np.testing.assert_array_equal(got[k], whole[int(s * SR) : int(e * SR)])


# ----------------------------------------------------------------------------- VAD on speech


def test_blockwise_vad_probabilities_match_one_pass(recording):
    wave = load_mono(recording["joined"])
    signal = np.tile(wave, 4)  # > 2 blocks of 30 s
    blocks = [signal[i : i + 7919] for i in range(0, len(signal), 7919)]  # odd block sizes
    streamed = segments.speech_probabilities(blocks)
    model = segments.load_vad()
    padded = np.pad(signal, (0, -len(signal) % 512))
    with torch.no_grad():
        one_pass = model.audio_forward(torch.from_numpy(padded)[None], SR)[0].numpy()
    assert streamed.shape == one_pass.shape
    assert np.abs(streamed - one_pass).max() < 1e-5  # the block size changes nothing
    assert (streamed > 0.5).mean() > 0.3  # speech is found


def test_vad_boundaries_within_0_3_s_of_the_truth(recording):
    spans = segments.vad_segments(recording["joined"])
    truth = recording["truth"]
    assert len(spans) == len(truth)
    errors = [max(abs(s - ts), abs(e - te)) for (s, e), (ts, te) in zip(spans, truth)]
    assert max(errors) < 0.3, errors


def test_each_segment_gets_the_label_of_its_utterance_alone(recording, tmp_path):
    references = {e: load_prepared(p) for e, p in zip(recording["emotions"], recording["alone"])}
    classifier = SpectrumClassifier(references)
    alone = classify(recording["alone"], classifier, PredictOptions(segment="none"))
    assert [r["label"] for r in alone] == recording["emotions"]  # each utterance is its own class
    rows = classify([recording["joined"]], classifier, PredictOptions(segment="vad"))
    seg = [r for r in rows if r["kind"] == "segment"]
    assert [r["label"] for r in seg] == [r["label"] for r in alone]
    assert rows[-1]["kind"] == "file" and rows[-1]["label"] in EMOTIONS
    assert sorted(rows[-1]["scores"]) == sorted(EMOTIONS)


def test_real_model_gives_each_segment_its_utterance_probabilities(recording, tmp_path):
    torch.manual_seed(0)
    model, extractor = build_model("demo-tiny")
    model.save_pretrained(tmp_path / "m")
    extractor.save_pretrained(tmp_path / "m")
    classifier = load_classifier(str(tmp_path / "m"), "cpu")
    alone = classify(recording["alone"], classifier, PredictOptions(segment="none"))
    rows = classify([recording["joined"]], classifier, PredictOptions(segment="vad"))
    seg = [r for r in rows if r["kind"] == "segment"]
    assert [r["label"] for r in seg] == [r["label"] for r in alone]
    for a, s in zip(alone, seg):
        assert max(abs(a["probs"][k] - s["probs"][k]) for k in EMOTIONS) < 0.02


def test_vad_on_silence_and_noise_finds_no_speech(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "hiss.wav"
    sf.write(path, (0.001 * rng.standard_normal(3 * SR)).astype(np.float32), SR)
    assert segments.vad_segments(path) == []
    references = {"anger": np.ones(SR, np.float32), "fear": np.zeros(SR, np.float32)}
    (row,) = classify([path], SpectrumClassifier(references), PredictOptions(segment="vad"))
    assert row["kind"] == "file" and row["label"] is None and row["error"].startswith("no speech found")
