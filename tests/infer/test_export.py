"""hf_ser.infer.export: ONNX parity with PyTorch on varied-length clips, int8, the pipeline-like classifier, --onnx."""

import numpy as np
import pytest
import soundfile as sf
import torch
from transformers import pipeline

from hf_ser.errors import UserError
from hf_ser.infer.export import INT8_FILE, OnnxAudioClassifier, export_onnx, main
from hf_ser.infer.predict.__main__ import main as predict_main
from hf_ser.train.modeling import build_model

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def _saved(folder, alias):
    torch.manual_seed(0)
    model, fe = build_model(alias)
    model.save_pretrained(folder / "model")
    fe.save_pretrained(folder / "model")
    return folder


@pytest.fixture(scope="module")
def exported(tmp_path_factory, one_torch_thread):
    """A tiny wav2vec2 'run folder' exported to ONNX fp32 + int8 through the command line."""
    import logging

    handlers = logging.getLogger().handlers[:]
    root = _saved(tmp_path_factory.mktemp("run"), "demo-tiny")
    assert main([str(root), "--onnx", "--output_dir", str(root / "onnx"), "--quantize", "int8"]) == 0
    logging.getLogger().handlers[:] = handlers
    return root


def _clips(n, seed=0):
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(int(rng.uniform(0.2, 6.0) * 16000))).astype(np.float32) for _ in range(n)]


@pytest.mark.slow
def test_fp32_parity_on_50_varied_clips(exported):
    """max |logit difference| against PyTorch on the same padded batches < 1e-3 (dynamic batch and length axes)."""
    clf = OnnxAudioClassifier(exported / "onnx", int8=False)
    ref = pipeline("audio-classification", model=str(exported / "model"), device="cpu")
    clips = _clips(50)
    worst = 0.0
    for start in range(0, 50, 7):  # batch sizes 7 and 1, lengths 0.2-6 s
        chunk = clips[start : start + 7]
        batch = ref.feature_extractor(chunk, sampling_rate=16000, padding=True, return_tensors="pt")
        with torch.no_grad():
            torch_logits = ref.model(**batch).logits.numpy()
        worst = max(worst, float(np.abs(clf.logits(chunk) - torch_logits).max()))
    assert worst < 1e-3, worst
    int8 = OnnxAudioClassifier(exported / "onnx", int8=True)
    assert int8.path.name == INT8_FILE
    assert np.abs(int8.logits(clips[:8]) - clf.logits(clips[:8])).max() < 0.2  # quantised, close but not equal


@pytest.mark.slow
def test_classifier_matches_pipeline_interface(exported):
    """Same call forms and output rows as pipeline("audio-classification")."""
    clf = OnnxAudioClassifier(exported / "onnx", int8=False)
    ref = pipeline("audio-classification", model=str(exported / "model"), device="cpu")
    clips = _clips(5, seed=1)
    one = {"raw": clips[0], "sampling_rate": 16000}
    a, b = clf(one, top_k=3), ref(one, top_k=3)
    assert [r["label"] for r in a] == [r["label"] for r in b]
    assert np.allclose([r["score"] for r in a], [r["score"] for r in b], atol=1e-5)
    assert len(clf(one)) == 5  # the pipeline's default top_k
    streamed = list(clf(iter([{"array": c, "sampling_rate": 16000} for c in clips]), batch_size=2, top_k=None))
    assert len(streamed) == 5 and all(len(r) == 6 for r in streamed)
    resampled = clf({"raw": clips[0][::2].copy(), "sampling_rate": 8000}, top_k=None)
    assert len(resampled) == 6
    assert clf.model.config.num_labels == 6 and clf.feature_extractor.sampling_rate == 16000


@pytest.mark.slow
def test_predict_onnx_flag(exported, tmp_path, capsys):
    """hf-ser predict --onnx OUT labels files as the PyTorch model does, with or without --model; a --model that
    is another model is an error."""
    rng = np.random.default_rng(2)
    for i in range(3):
        t = np.arange(int(16000 * (1 + i))) / 16000
        sf.write(
            tmp_path / f"f{i}.wav",
            (0.3 * np.sin(2 * np.pi * (150 + 80 * i) * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32),
            16000,
        )
    files = [str(tmp_path / f"f{i}.wav") for i in range(3)]
    outs = []
    model = ["--model", str(exported / "model")]
    for extra in (model, [*model, "--onnx", str(exported / "onnx")], ["--onnx", str(exported / "onnx")]):
        assert (
            predict_main(
                [
                    *files,
                    "--format",
                    "csv",
                    "--batch_size",
                    "1",
                    "--device",
                    "cpu",
                    *extra,
                ]
            )
            == 0
        )
        outs.append([line.split(",")[:2] for line in capsys.readouterr().out.strip().splitlines()])
    assert outs[0] == outs[1] == outs[2]
    other = _saved(tmp_path / "other", "demo-tiny-hubert")
    assert predict_main([*files, "--model", str(other), "--onnx", str(exported / "onnx")]) == 2
    assert "are different models" in capsys.readouterr().err


def test_export_cli_output_dir_quiet_and_the_old_form(tmp_path, capsys):
    """--output_dir is the folder; the old --onnx OUT still works with a notice; a missing folder says so; the
    libraries' own chatter (torch.onnx progress, warnings) stays hidden without --verbose."""
    root = _saved(tmp_path / "run", "demo-tiny")
    assert main([str(root), "--onnx", str(tmp_path / "old")]) == 0
    out = capsys.readouterr()
    assert (tmp_path / "old" / "model.onnx").is_file() and "--onnx OUT is deprecated" in out.err
    assert "[torch.onnx]" not in out.out + out.err and "UserWarning" not in out.err and "FutureWarning" not in out.err
    assert out.out.strip() == f"run it: hf-ser predict FILES --onnx {tmp_path / 'old'}"
    assert len([line for line in out.err.splitlines() if "hf_ser.infer.export" in line]) == 3  # notice, loaded, fp32
    assert main([str(tmp_path / "nonexist"), "--output_dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert f"error: the model folder {tmp_path / 'nonexist'} does not exist" in err and err.count("\n") == 1


def test_whisper_export_fixed_window(tmp_path, one_torch_thread):
    """Whisper: dynamic batch over the fixed log-mel window; parity with PyTorch."""
    root = _saved(tmp_path, "demo-tiny-whisper")
    export_onnx(root, root / "onnx")
    clf = OnnxAudioClassifier(root / "onnx")
    ref = pipeline("audio-classification", model=str(root / "model"), device="cpu")
    clips = _clips(3, seed=3)
    batch = ref.feature_extractor(clips, sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        torch_logits = ref.model(**batch).logits.numpy()
    assert np.abs(clf.logits(clips) - torch_logits).max() < 1e-3


def test_missing_export_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no ONNX model"):
        OnnxAudioClassifier(tmp_path)
    with pytest.raises(UserError, match="holds no config.json"):
        export_onnx(tmp_path, tmp_path / "out")
