"""Tests for hf_ser.predict: inputs, agreement with a direct pipeline() call, errors, windows, CLI output."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from hf_ser import predict
from hf_ser.audio import PreprocessConfig, preprocess, read_audio, resample, to_mono
from hf_ser.labels import EMOTIONS
from hf_ser.modeling import build_model

SR = 16_000


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A demo-tiny checkpoint in a run folder layout (<run>/model/)."""
    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    model, extractor = build_model("demo-tiny")
    model.save_pretrained(run / "model")
    extractor.save_pretrained(run / "model")
    return run / "model"


@pytest.fixture(scope="module")
def classifier(model_dir):
    return predict.load_classifier(str(model_dir), "cpu")


def speech_like(seconds: float, sr: int = SR, seed: int = 0, channels: int = 1) -> np.ndarray:
    """A voiced-sounding signal (harmonics with a moving pitch, amplitude envelope, light noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
    x = 0.2 * x + 0.01 * rng.standard_normal(len(t))
    x = x.astype(np.float32)
    return np.stack([x, 0.5 * x], axis=1) if channels == 2 else x


def write(path: Path, wave: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave, sr)
    return path


def broken_files(folder: Path) -> list[Path]:
    """An empty file, bytes that are no audio, and a silent recording."""
    folder.mkdir(parents=True, exist_ok=True)
    empty, garbage = folder / "empty.wav", folder / "garbage.wav"
    empty.write_bytes(b"")
    garbage.write_bytes(b"RIFF not really a wave file" * 20)
    silent = write(folder / "silent.wav", np.zeros(SR // 2, dtype=np.float32))
    return [empty, garbage, silent]


def direct(classifier, wave: np.ndarray) -> dict[str, float]:
    """The stock pipeline called on one array: label -> probability."""
    return {o["label"]: o["score"] for o in classifier({"raw": wave, "sampling_rate": SR}, top_k=None)}


# ----------------------------------------------------------------------------- inputs


def test_collect_inputs_folders_manifests_and_plain_paths(tmp_path):
    a = write(tmp_path / "data" / "x" / "a.wav", speech_like(0.5))
    b = write(tmp_path / "data" / "b.flac", speech_like(0.5), SR)
    (tmp_path / "data" / "notes.txt").write_text("not audio")
    (tmp_path / "data" / "._a.wav").write_bytes(b"macOS metadata")
    manifest = tmp_path / "list.csv"
    manifest.write_text("path,label\ndata/x/a.wav,anger\n" + f"{b},sadness\n")
    jsonl = tmp_path / "list.jsonl"
    jsonl.write_text(json.dumps({"path": "data/b.flac"}) + "\n")
    files = predict.collect_inputs([tmp_path / "data", manifest, jsonl, tmp_path / "missing.wav"])
    assert files == [str(b), str(a), str(a), str(b), str(b), str(tmp_path / "missing.wav")]

    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\na.wav,anger\n")
    with pytest.raises(predict.PredictError, match="no 'path' column"):
        predict.collect_inputs([bad])


def test_resolve_model_accepts_a_run_folder(model_dir, tmp_path):
    assert predict.resolve_model(str(model_dir.parent)) == str(model_dir)
    assert predict.resolve_model(str(model_dir)) == str(model_dir)
    assert predict.resolve_model("someone/ser-model") == "someone/ser-model"
    with pytest.raises(predict.PredictError, match="no config.json"):
        predict.resolve_model(str(tmp_path))


def test_split_windows_folds_a_short_tail_into_the_last_window():
    wave = np.zeros(int(3.2 * SR), dtype=np.float32)
    spans = [(s, e) for s, e, _ in predict.split_windows(wave, SR, 1.0)]
    assert spans == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.2)]
    spans = [(s, e) for s, e, _ in predict.split_windows(np.zeros(int(3.6 * SR), dtype=np.float32), SR, 1.0)]
    assert spans == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 3.6)]
    assert [(s, e) for s, e, _ in predict.split_windows(wave[: SR // 4], SR, 1.0)] == [(0.0, 0.25)]


# ----------------------------------------------------------------------------- classification


def test_same_predictions_as_pipeline_on_the_same_arrays(tmp_path, classifier):
    files = []
    for i, (seconds, sr, channels) in enumerate([(0.6, 16000, 1), (2.4, 22050, 1), (1.1, 44100, 2), (0.8, 8000, 1),
                                                 (3.0, 16000, 2), (0.5, 48000, 1), (1.7, 16000, 1)]):
        files.append(write(tmp_path / f"f{i}.wav", speech_like(seconds, sr, seed=i, channels=channels), sr))
    rows = predict.classify(files, classifier, batch_size=3, progress=False)
    cfg = PreprocessConfig(max_seconds=None)
    assert [r["path"] for r in rows] == [str(f) for f in files]      # input order, although batched by length
    for f, row in zip(files, rows):
        expected = direct(classifier, preprocess(*read_audio(f), cfg))
        assert row["error"] is None
        assert row["label"] == max(expected, key=expected.get)
        assert row["scores"].keys() == expected.keys() == set(EMOTIONS)
        assert all(abs(row["scores"][k] - expected[k]) < 1e-5 for k in expected)
        assert row["score"] == row["scores"][row["label"]]


def test_top_k_orders_and_truncates_scores(tmp_path, classifier):
    f = write(tmp_path / "a.wav", speech_like(0.7))
    (row,) = predict.classify([f], classifier, top_k=2, progress=False)
    assert len(row["scores"]) == 2
    values = list(row["scores"].values())
    assert values == sorted(values, reverse=True) and values[0] == row["score"]


def test_broken_files_get_error_rows_and_the_rest_is_classified(tmp_path, classifier):
    good = [write(tmp_path / f"ok{i}.wav", speech_like(0.6, seed=i)) for i in range(3)]
    bad = broken_files(tmp_path / "bad") + [tmp_path / "missing.wav"]
    rows = predict.classify([good[0], *bad, *good[1:]], classifier, progress=False)
    by_path = {r["path"]: r for r in rows}
    assert all(by_path[str(f)]["label"] in EMOTIONS and by_path[str(f)]["error"] is None for f in good)
    errors = {Path(p).name: r["error"] for p, r in by_path.items() if r["error"]}
    assert errors.keys() == {"empty.wav", "garbage.wav", "silent.wav", "missing.wav"}
    assert errors["empty.wav"].startswith("empty file") and errors["garbage.wav"].startswith("unreadable")
    assert errors["silent.wav"].startswith("silent") and errors["missing.wav"].startswith("missing file")
    assert all(by_path[str(f)]["label"] is None and by_path[str(f)]["scores"] is None for f in bad)


def test_long_files_are_cropped_like_training_unless_chunked(tmp_path, classifier, caplog):
    f = write(tmp_path / "long.wav", speech_like(2.5))
    (row,) = predict.classify([f], classifier, max_seconds=1.0, progress=False)
    wave = preprocess(*read_audio(f), PreprocessConfig(max_seconds=1.0))
    expected = direct(classifier, wave)
    assert all(abs(row["scores"][k] - expected[k]) < 1e-5 for k in expected)
    assert "--chunk_seconds" in caplog.text


def test_chunked_rows_average_window_probabilities(tmp_path, classifier):
    speech = speech_like(3.2, seed=4)
    speech[SR: 2 * SR] = 0.0                                          # a silent second window
    f = write(tmp_path / "long.wav", speech)
    (row,) = predict.classify([f], classifier, chunk_seconds=1.0, progress=False)
    assert [(w["start"], w["end"]) for w in row["windows"]] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.2)]
    assert row["windows"][1]["error"].startswith("silent") and row["windows"][1]["label"] is None
    wave = resample(to_mono(read_audio(f)[0]), SR, SR)
    cfg = PreprocessConfig(max_seconds=None)
    probs = [direct(classifier, preprocess(wave[s:e], SR, cfg)) for s, e in ((0, SR), (2 * SR, len(wave)))]
    for w, p in zip((row["windows"][0], row["windows"][2]), probs):
        assert w["label"] == max(p, key=p.get) and abs(w["score"] - p[w["label"]]) < 1e-5
    mean = {k: (probs[0][k] + probs[1][k]) / 2 for k in EMOTIONS}
    assert row["label"] == max(mean, key=mean.get)
    assert all(abs(row["scores"][k] - mean[k]) < 1e-5 for k in EMOTIONS)


def test_chunked_file_with_only_silence_is_an_error_row(tmp_path, classifier):
    f = write(tmp_path / "quiet.wav", np.zeros(2 * SR, dtype=np.float32))
    (row,) = predict.classify([f], classifier, chunk_seconds=1.0, progress=False)
    assert row["label"] is None and "no window could be classified" in row["error"]
    assert len(row["windows"]) == 2 and all(w["error"] for w in row["windows"])


# ----------------------------------------------------------------------------- CLI


def test_cli_json_on_stdout_throughput_on_stderr(tmp_path, model_dir, capsys):
    files = [write(tmp_path / f"a{i}.wav", speech_like(0.5, seed=i)) for i in range(3)]
    broken = broken_files(tmp_path / "bad")
    code = predict.main([str(tmp_path), "--model", str(model_dir), "--format", "json", "--top_k", "3",
                         "--batch_size", "2", "--device", "cpu"])
    out = capsys.readouterr()
    assert code == 0
    rows = json.loads(out.out)
    assert len(rows) == 6 and {r["path"] for r in rows} == {str(f) for f in files + broken}
    assert sum(r["error"] is None for r in rows) == 3
    assert all(len(r["scores"]) == 3 for r in rows if r["error"] is None)
    assert "files/s" in out.err and "3 error(s)" in out.err


def test_cli_csv_file_and_exit_code_when_nothing_is_classified(tmp_path, model_dir, capsys):
    broken_files(tmp_path / "bad")
    out_csv = tmp_path / "out" / "pred.csv"
    assert predict.main([str(tmp_path / "bad"), "--model", str(model_dir), "--output", str(out_csv)]) == 1
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 3 and all(r["error"] and not r["label"] for r in rows)
    assert "no file could be classified" in capsys.readouterr().err


def test_cli_table_and_chunked_csv(tmp_path, model_dir, capsys):
    f = write(tmp_path / "long.wav", speech_like(2.2))
    assert predict.main([str(f), "--model", str(model_dir.parent), "--top_k", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["path", "label", "score", "scores", "error"]
    assert table[1].startswith(str(f)) and table[1].split()[1] in EMOTIONS
    assert predict.main([str(f), "--model", str(model_dir), "--chunk_seconds", "1", "--format", "csv", "--top_k", "2"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["kind"], r["start"], r["end"]) for r in rows] == [
        ("file", "0.0", "2.2"), ("window", "0.0", "1.0"), ("window", "1.0", "2.2")]
    assert all(r["label"] in EMOTIONS and len(json.loads(r["scores"])) == 2 for r in rows)


def test_cli_usage_errors_exit_2(tmp_path, model_dir, capsys):
    (tmp_path / "empty_dir").mkdir()
    assert predict.main([str(tmp_path / "empty_dir"), "--model", str(model_dir)]) == 2
    assert "no audio file found" in capsys.readouterr().err
    f = write(tmp_path / "a.wav", speech_like(0.5))
    assert predict.main([str(f), "--model", str(tmp_path / "empty_dir")]) == 2
    assert "no config.json" in capsys.readouterr().err


def test_folder_of_200_wavs_with_3_broken(tmp_path, model_dir, capsys):
    folder = tmp_path / "wavs"
    for i in range(197):
        write(folder / f"spk{i % 7}" / f"utt{i:03d}.wav", speech_like(0.5, seed=i))
    broken_files(folder)
    start = time.perf_counter()
    assert predict.main([str(folder), "--model", str(model_dir), "--format", "json", "--batch_size", "16"]) == 0
    elapsed = time.perf_counter() - start
    out = capsys.readouterr()
    rows = json.loads(out.out)
    assert len(rows) == 200
    assert sum(r["label"] in EMOTIONS and r["error"] is None for r in rows) == 197
    assert sorted(Path(r["path"]).name for r in rows if r["error"]) == ["empty.wav", "garbage.wav", "silent.wav"]
    assert "classified 197 of 200 file(s)" in out.err and "files/s" in out.err
    assert elapsed < 120
