"""Tests for hf_ser.infer.app: the Gradio demo served on 127.0.0.1 and called through gradio_client gives
hf_ser.infer.predict's probabilities; the Space folder; the missing-extra message."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from hf_ser.data.corpora.synthetic.build import plan_utterances
from hf_ser.data.corpora.synthetic.espeak import get_engine
from hf_ser.data.corpora.synthetic.profiles import emotion_profile
from hf_ser.data.corpora.synthetic.render import render_utterance
from hf_ser.errors import UserError
from hf_ser.infer import app
from hf_ser.infer.predict.model import load_classifier
from hf_ser.infer.predict.options import PredictOptions
from hf_ser.infer.predict.predictor import Predictor, classify
from hf_ser.labels import EMOTIONS
from hf_ser.train.modeling import build_model
from hf_ser.train.runs import STAGING_MARKER

SR = 16_000
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("one_torch_thread")
gradio_client = pytest.importorskip("gradio_client", reason="the app extra (pip install hf_ser[app]) is not installed")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A demo-tiny checkpoint in a run folder layout, with a training_args.bin that must never be staged."""
    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    model, extractor = build_model("demo-tiny")
    model.save_pretrained(run / "model")
    extractor.save_pretrained(run / "model")
    (run / "model" / "training_args.bin").write_bytes(b"hub_token=hf_fake")
    return run / "model"


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    """About 7 s of eSpeak NG speech (three sentences): segmented by the VAD when --max_seconds is 3."""
    engine = get_engine()
    waves = [
        render_utterance(engine, u, emotion_profile(u.emotion, "others"), seed=0)[0]
        for u in plan_utterances(["ENG"], 1, 2)[:3]
    ]
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    sf.write(path, np.concatenate(waves).astype(np.float32) / 32768, SR)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_app_on_localhost_gives_predicts_probabilities(model_dir, speech, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "hf_ser.infer.app", "--model", str(model_dir), "--port", str(port)]
        + ["--max_seconds", "3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    assert page.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not answer on 127.0.0.1"
                time.sleep(0.5)
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        bars, plot, table = client.predict(gradio_client.handle_file(str(speech)), api_name=f"/{app.API_NAME}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    classifier = load_classifier(str(model_dir), "cpu")
    rows = classify([speech], classifier, PredictOptions(max_seconds=3.0, window=1.0))
    expected = rows[-1]["probs"]
    got = {c["label"]: c["confidence"] for c in bars["confidences"]}
    assert got.keys() == set(EMOTIONS) and bars["label"] == rows[-1]["label"]
    assert all(abs(got[k] - expected[k]) < 1e-5 for k in EMOTIONS)
    segments = [r for r in rows if r["kind"] == "segment"]
    assert len(table["data"]) == len(segments) >= 2  # longer audio: the segments...
    assert [row[2] for row in table["data"]] == [r["label"] for r in segments]
    assert plot is not None  # ... and the timeline


def test_analyse_short_clip_has_no_timeline_and_errors_are_messages(model_dir, tmp_path):
    classifier = load_classifier(str(model_dir), "cpu")
    predictor = Predictor(classifier)
    clip = tmp_path / "clip.wav"
    t = np.arange(SR) / SR
    sf.write(clip, (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), SR)
    probs, figure, table = app.analyse(str(clip), predictor)
    assert set(probs) == set(EMOTIONS) and abs(sum(probs.values()) - 1) < 1e-4
    assert figure is None and table == []
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    with pytest.raises(ValueError, match="silent"):
        app.analyse(str(silent), predictor)
    with pytest.raises(ValueError, match="upload or record"):
        app.analyse(None, predictor)


def test_stage_space_copies_the_model_without_training_arguments(model_dir, tmp_path):
    out = app.stage_space(model_dir.parent, tmp_path / "space")
    names = {p.name for p in out.iterdir()}
    assert {"app.py", "requirements.txt", "README.md", "model", STAGING_MARKER} <= names
    assert {p.name for p in (out / "model").iterdir()} == {
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    }
    readme = (out / "README.md").read_text()
    assert readme.startswith("---\n") and "sdk: gradio" in readme and "app_file: app.py" in readme
    assert "hf_ser[app]" in (out / "requirements.txt").read_text()
    compile((out / "app.py").read_text(), "app.py", "exec")
    assert not any(b"hf_fake" in p.read_bytes() for p in out.rglob("*") if p.is_file())
    hub = app.stage_space("someone/ser-model", tmp_path / "hub_space")
    assert not (hub / "model").exists() and "someone/ser-model" in (hub / "app.py").read_text()
    assert "  - someone/ser-model" in (hub / "README.md").read_text()


def test_missing_gradio_is_a_one_line_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "gradio", None)  # what an environment without the extra looks like to import
    with pytest.raises(UserError, match=r"pip install hf_ser\[app\]"):
        app.require_gradio()


def test_an_example_opens_the_page_already_classified(model_dir, tmp_path, capsys):
    classifier = load_classifier(str(model_dir), "cpu")
    clip = tmp_path / "clip.wav"
    t = np.arange(SR) / SR
    sf.write(clip, (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), SR)
    demo = app.build_demo(classifier, example=str(clip))
    config = demo.get_config_file()
    loads = [d for d in config["dependencies"] if any(t[1] == "load" for t in d["targets"])]
    assert len(loads) == 1  # the example is classified when the page opens (checked in a headless browser too)
    assert app.main(["--model", str(model_dir), "--example", str(tmp_path / "missing.wav")]) == 2
    assert "--example" in capsys.readouterr().err


def test_the_app_answers_with_a_label_set_models_own_classes(tmp_path):
    """A 4-class model (--label_set anger happiness neutral sadness): the app's probabilities are its four."""
    four = ["anger", "happiness", "neutral", "sadness"]
    torch.manual_seed(0)
    model, extractor = build_model("demo-tiny", labels=four)
    model.save_pretrained(tmp_path / "model")
    extractor.save_pretrained(tmp_path / "model")
    predictor = Predictor(load_classifier(str(tmp_path / "model"), "cpu"))
    clip = tmp_path / "clip.wav"
    sf.write(clip, (0.3 * np.sin(2 * np.pi * 180 * np.arange(SR) / SR)).astype(np.float32), SR)
    probs, _, _ = app.analyse(str(clip), predictor)
    assert sorted(probs) == four and abs(sum(probs.values()) - 1) < 1e-4
