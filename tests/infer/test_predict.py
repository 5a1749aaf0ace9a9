"""Tests for hf_ser.infer.predict: inputs, agreement with a direct pipeline() call, segments and aggregation,
outputs (csv/jsonl/json/table), resume after a kill, hostile inputs, plots, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.colors
import numpy as np
import pytest
import soundfile as sf
import torch

from hf_ser.console import run_command
from hf_ser.data.audio import PreprocessConfig, finish_mono, load_prepared
from hf_ser.data.corpora.synthetic.build import plan_utterances
from hf_ser.data.corpora.synthetic.espeak import get_engine
from hf_ser.data.corpora.synthetic.profiles import emotion_profile
from hf_ser.data.corpora.synthetic.render import render_utterance
from hf_ser.infer.predict import inputs, predictor
from hf_ser.infer.predict.__main__ import main
from hf_ser.infer.predict.inputs import collect_inputs
from hf_ser.infer.predict.model import load_classifier, resolve_model
from hf_ser.infer.predict.options import PredictError, PredictOptions
from hf_ser.infer.predict.predictor import aggregate, classify, pick_label
from hf_ser.infer.predict.timeline import label_colours, timeline_figure
from hf_ser.labels import EMOTIONS
from hf_ser.train.modeling import build_model

SR = 16_000
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


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
    return load_classifier(str(model_dir), "cpu")


def speech_like(seconds: float, sr: int = SR, seed: int = 0, channels: int = 1) -> np.ndarray:
    """A voiced-sounding signal (harmonics with a moving pitch, amplitude envelope, light noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
    x = (0.2 * x + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    return np.stack([x * 0.9**c for c in range(channels)], axis=1) if channels > 1 else x


def write(path: Path, wave: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(os.fsencode(path), wave, sr)
    return path


def broken_files(folder: Path) -> list[Path]:
    """An empty file, bytes that are no audio, and a silent recording."""
    folder.mkdir(parents=True, exist_ok=True)
    empty, garbage = folder / "empty.wav", folder / "garbage.wav"
    empty.write_bytes(b"")
    garbage.write_bytes(b"RIFF not really a wave file" * 20)
    silent = write(folder / "silent.wav", np.zeros(SR // 2, dtype=np.float32))
    return [empty, garbage, silent]


def wav_with_rate(path: Path, rate: int, frames: int = 1600) -> Path:
    """A 16-bit mono WAV whose header claims `rate` Hz (any value a corrupt header may hold)."""
    data = (np.sin(np.arange(frames) / 5) * 8000).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, (rate * 2) & 0xFFFFFFFF, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def direct(classifier, wave: np.ndarray) -> dict[str, float]:
    """The stock pipeline called on one array: label -> probability."""
    return {o["label"]: o["score"] for o in classifier({"raw": wave, "sampling_rate": SR}, top_k=None)}


def cli(*args: str) -> int:
    """Run the command under the exit-code convention (UserError -> 2)."""
    return run_command(main, [*map(str, args), "--no_progress"])


def file_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["kind"] == "file"]


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
    files = collect_inputs([tmp_path / "data", manifest, jsonl, tmp_path / "missing.wav"])
    assert files == [str(b), str(a), str(a), str(b), str(b), str(tmp_path / "missing.wav")]
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\na.wav,anger\n")
    with pytest.raises(PredictError, match="no 'path' column"):
        collect_inputs([bad])


def test_resolve_model_accepts_a_run_folder(model_dir, tmp_path):
    assert resolve_model(str(model_dir.parent)) == str(model_dir)
    assert resolve_model(str(model_dir)) == str(model_dir)
    assert resolve_model("someone/ser-model") == "someone/ser-model"
    with pytest.raises(PredictError, match="no config.json"):
        resolve_model(str(tmp_path))


def fake_m4a(path: Path) -> Path:
    """The first bytes of an MPEG-4 audio file (an ftyp box, brand M4A): what libsndfile cannot read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack(">I", 24) + b"ftypM4A " + b"\0\0\0\0M4A isom" + b"\0" * 200)
    return path


def test_a_folder_accounts_for_every_file_without_ffmpeg(tmp_path, model_dir, capsys, monkeypatch):
    """wav classified, m4a says it needs ffmpeg and how to convert, txt skipped: a row each, counted, listed."""
    monkeypatch.setattr(inputs.shutil, "which", lambda name: None)  # a machine without ffmpeg
    folder = tmp_path / "mixed"
    write(folder / "a.wav", speech_like(1.0))
    fake_m4a(folder / "b.m4a")
    (folder / "notes.txt").write_text("not audio")
    (folder / ".DS_Store").write_bytes(b"x")
    assert cli(folder, "--model", model_dir, "--format", "jsonl", "--verbose") == 0
    out = capsys.readouterr()
    rows = {Path(r["path"]).name: r for r in map(json.loads, out.out.splitlines())}
    assert set(rows) == {"a.wav", "b.m4a", "notes.txt"}
    assert rows["a.wav"]["label"] in EMOTIONS
    assert (
        rows["b.m4a"]["error"].startswith("needs ffmpeg: libsndfile cannot read .m4a")
        and "ffmpeg -i" in (rows["b.m4a"]["error"])
    )
    assert rows["notes.txt"]["error"] == "skipped: not an audio file (.txt)"
    assert "classified 1 of 2 audio file(s)" in out.err and "skipped 1 file(s)" in out.err
    assert "1 needs ffmpeg" in out.err and "ignored 1 hidden file(s)" in out.err
    assert "notes.txt: skipped" in out.err and "b.m4a: needs ffmpeg" in out.err  # --verbose lists them
    assert cli(folder / "b.m4a", "--model", model_dir) == 1  # given directly: the same reason, never "Format not..."
    assert "needs ffmpeg" in capsys.readouterr().out


@pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="the ffmpeg binary is not installed (apt-get install ffmpeg)"
)
def test_opus_and_m4a_are_decoded_when_ffmpeg_is_there(tmp_path, model_dir, capsys):
    wav = write(tmp_path / "src" / "a.wav", speech_like(1.5))
    folder = tmp_path / "in"
    folder.mkdir()
    for suffix, codec in ((".opus", "libopus"), (".m4a", "aac")):
        subprocess.run(["ffmpeg", "-v", "error", "-i", wav, "-c:a", codec, folder / f"a{suffix}"], check=True)
    assert cli(folder, "--model", model_dir, "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in rows] == ["a.m4a", "a.opus"]
    assert all(r["label"] in EMOTIONS and r["end"] == pytest.approx(1.5, abs=0.1) for r in rows)
    assert not list(Path(tempfile.gettempdir()).glob("hf_ser-*.wav"))  # the ffmpeg decodes are gone


def test_a_missing_model_folder_says_so_and_a_hub_id_still_goes_to_the_hub(tmp_path, model_dir, capsys):
    f = write(tmp_path / "a.wav", speech_like(0.5))
    for missing in ("/no/such/folder", "./nope", "~/nope-hf-ser", f"{tmp_path}/typo"):
        assert cli(f, "--model", missing) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--model" in err and "does not exist" in err, err
    assert resolve_model("org/name") == "org/name"  # no local org/ folder: a Hub id
    assert cli(f) == 2 and "--model" in capsys.readouterr().err


def test_a_closed_pipe_ends_predict_quietly(tmp_path, model_dir):
    """`hf-ser predict DIR | head -1`: exit 0 or 141, never a traceback; stdout closed at once: exactly 141."""
    for i in range(3):
        write(tmp_path / "in" / f"a{i}.wav", speech_like(0.5, seed=i))
    command = [sys.executable, "-m", "hf_ser.cli", "predict", tmp_path / "in", "--model", model_dir, "--no_progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for read_first_line in (True, False):
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if read_first_line:
            assert proc.stdout.readline().startswith(b"path")
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
        assert code in ((0, 141) if read_first_line else (141,)), err
        assert "Traceback" not in err and "Exception ignored" not in err, err


# ----------------------------------------------------------------------------- classification


def test_same_predictions_as_pipeline_on_the_same_arrays(tmp_path, classifier):
    files = []
    for i, (seconds, sr, channels) in enumerate(
        [
            (0.6, 16000, 1),
            (2.4, 22050, 1),
            (1.1, 44100, 2),
            (0.8, 8000, 1),
            (3.0, 16000, 2),
            (0.5, 48000, 1),
            (1.7, 16000, 1),
        ]
    ):
        files.append(write(tmp_path / f"f{i}.wav", speech_like(seconds, sr, seed=i, channels=channels), sr))
    rows = classify(files, classifier, PredictOptions(batch_size=3))
    assert [r["path"] for r in rows] == [str(f) for f in files]  # input order, although batched by length
    assert all(r["kind"] == "file" for r in rows)  # short clips: classified whole
    for f, row in zip(files, rows):
        expected = direct(classifier, load_prepared(f, PreprocessConfig(max_seconds=None)))
        assert row["error"] is None and row["start"] == 0.0 and row["end"] == round(sf.info(f).duration, 3)
        assert row["label"] == max(expected, key=expected.get)
        assert row["scores"].keys() == expected.keys() == set(EMOTIONS)
        assert all(abs(row["scores"][k] - expected[k]) < 1e-5 for k in expected)
        assert row["score"] == row["scores"][row["label"]]


def test_top_k_orders_and_truncates_scores(tmp_path, classifier):
    f = write(tmp_path / "a.wav", speech_like(0.7))
    (row,) = classify([f], classifier, PredictOptions(top_k=2))
    values = list(row["scores"].values())
    assert len(values) == 2 and values == sorted(values, reverse=True) and values[0] == row["score"]
    assert len(row["probs"]) == len(EMOTIONS)


def test_broken_files_get_error_rows_and_the_rest_is_classified(tmp_path, classifier):
    good = [write(tmp_path / f"ok{i}.wav", speech_like(0.6, seed=i)) for i in range(3)]
    bad = broken_files(tmp_path / "bad") + [tmp_path / "missing.wav"]
    rows = classify([good[0], *bad, *good[1:]], classifier)
    by_path = {r["path"]: r for r in rows}
    assert all(by_path[str(f)]["label"] in EMOTIONS and by_path[str(f)]["error"] is None for f in good)
    errors = {Path(p).name: r["error"] for p, r in by_path.items() if r["error"]}
    assert errors.keys() == {"empty.wav", "garbage.wav", "silent.wav", "missing.wav"}
    assert errors["empty.wav"].startswith("empty file") and errors["garbage.wav"].startswith("unreadable")
    assert errors["silent.wav"].startswith("silent") and errors["missing.wav"].startswith("missing file")
    assert all(by_path[str(f)]["label"] is None and by_path[str(f)]["scores"] is None for f in bad)


def test_segment_none_crops_like_training_and_says_so(tmp_path, classifier, caplog):
    f = write(tmp_path / "long.wav", speech_like(2.5))
    (row,) = classify([f], classifier, PredictOptions(segment="none", max_seconds=1.0, window=1.0))
    expected = direct(classifier, load_prepared(f, PreprocessConfig(max_seconds=1.0)))
    assert all(abs(row["scores"][k] - expected[k]) < 1e-5 for k in expected)
    assert "--segment vad or fixed" in caplog.text


def espeak_speech(n: int) -> np.ndarray:
    """`n` English eSpeak NG sentences one after the other (real speech for the VAD), float32 at 16 kHz."""
    engine = get_engine()
    utterances = plan_utterances(["ENG"], 1, 2)[:n]
    return (
        np.concatenate(
            [render_utterance(engine, u, emotion_profile("neutral", "others"), seed=0)[0] for u in utterances]
        ).astype(np.float32)
        / 32768
    )


def test_auto_segments_long_files_with_the_vad(tmp_path, classifier):
    speech = espeak_speech(3)  # > 6 s, pauses under 0.6 s
    short, long = write(tmp_path / "short.wav", speech_like(1.0)), write(tmp_path / "long.wav", speech)
    rows = classify([short, long], classifier, PredictOptions(max_seconds=3.0, window=1.0))
    assert [r["kind"] for r in rows if r["path"] == str(short)] == ["file"]
    kinds = [r["kind"] for r in rows if r["path"] == str(long)]
    assert kinds[-1] == "file" and kinds.count("segment") >= 2  # split to at most 3 s
    assert all(r["end"] - r["start"] <= 3.0 + 1e-6 for r in rows if r["kind"] == "segment")
    assert rows[-1]["error"] is None and rows[-1]["label"] in EMOTIONS
    assert all(r["end"] - r["start"] <= 3.0 + 1e-6 for r in rows if r["kind"] == "segment")


def test_fixed_windows_and_the_duration_weighted_mean(tmp_path, classifier):
    speech = speech_like(5.0, seed=4)
    speech[2 * SR : 4 * SR] = 0.0  # a silent window in the middle
    f = write(tmp_path / "long.wav", speech)
    rows = classify([f], classifier, PredictOptions(segment="fixed", window=2.0, hop=2.0))
    *seg, whole = rows
    assert [(r["start"], r["end"]) for r in seg] == [(0.0, 2.0), (2.0, 4.0), (3.0, 5.0)]
    assert seg[1]["error"].startswith("silent") and seg[1]["label"] is None
    wave = speech
    cfg = PreprocessConfig(max_seconds=None)
    for r, (s, e) in zip((seg[0], seg[2]), ((0, 2 * SR), (3 * SR, 5 * SR))):
        p = direct(classifier, finish_mono(wave[s:e].astype(np.float32), cfg))
        assert r["label"] == max(p, key=p.get) and all(abs(r["probs"][k] - p[k]) < 1e-4 for k in EMOTIONS)
    mean = {k: (seg[0]["probs"][k] + seg[2]["probs"][k]) / 2 for k in EMOTIONS}  # equal durations
    assert whole["kind"] == "file" and whole["label"] == max(mean, key=mean.get)
    assert all(abs(whole["scores"][k] - mean[k]) < 1e-6 for k in EMOTIONS)


def test_a_file_with_only_silent_windows_is_an_error_row(tmp_path, classifier):
    f = write(tmp_path / "quiet.wav", np.zeros(4 * SR, dtype=np.float32))
    rows = classify([f], classifier, PredictOptions(segment="fixed", window=2.0, hop=2.0))
    assert len(rows) == 3 and all(r["error"] for r in rows)
    assert rows[-1]["kind"] == "file" and rows[-1]["error"].startswith("no segment could be classified")


def test_aggregations():
    spans = [(0.0, 1.0), (1.0, 4.0), (4.0, 5.0)]
    probs = [np.array([0.9, 0.1]), np.array([0.2, 0.8]), np.array([0.7, 0.3])]
    np.testing.assert_allclose(aggregate(spans, probs, "mean"), [(0.9 + 0.6 + 0.7) / 5, (0.1 + 2.4 + 0.3) / 5])
    np.testing.assert_allclose(aggregate(spans, probs, "max"), [0.9, 0.8])
    np.testing.assert_allclose(aggregate(spans, probs, "vote"), [2 / 3, 1 / 3])
    assert pick_label(np.array([0.5, 0.5]), tie_break=np.array([0.3, 0.7])) == 1


def test_unexpected_exception_while_reading_is_that_files_error_row(tmp_path, classifier, monkeypatch):
    good, bad = write(tmp_path / "good.wav", speech_like(0.6)), write(tmp_path / "bad.wav", speech_like(0.6))
    real = predictor.load_mono

    def flaky(path, *args, **kwargs):
        if Path(path).name == "bad.wav":
            raise ZeroDivisionError("boom")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(predictor, "load_mono", flaky)
    rows = classify([bad, good], classifier)
    assert rows[0]["error"] == "unexpected error: ZeroDivisionError: boom" and rows[1]["label"] in EMOTIONS


# ----------------------------------------------------------------------------- CLI and outputs


def test_cli_json_on_stdout_summary_on_stderr(tmp_path, model_dir, capsys):
    files = [write(tmp_path / f"a{i}.wav", speech_like(0.5, seed=i)) for i in range(3)]
    broken = broken_files(tmp_path / "bad")
    assert cli(tmp_path, "--model", model_dir, "--format", "json", "--top_k", "3", "--batch_size", "2") == 0
    out = capsys.readouterr()
    rows = json.loads(out.out)
    assert len(rows) == 6 and {r["path"] for r in rows} == {str(f) for f in files + broken}
    assert sum(r["error"] is None for r in rows) == 3 and all(r["kind"] == "file" for r in rows)
    assert all(len(r["scores"]) == 3 for r in rows if r["error"] is None)
    assert "files/s" in out.err and "real time" in out.err and "3 error(s)" in out.err


def test_cli_csv_file_and_exit_code_when_nothing_is_classified(tmp_path, model_dir, capsys):
    broken_files(tmp_path / "bad")
    out_csv = tmp_path / "out" / "pred.csv"
    assert cli(tmp_path / "bad", "--model", model_dir, "--output", out_csv) == 1
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 3 and all(r["error"] and not r["label"] for r in rows)
    err = capsys.readouterr().err
    assert "nothing classified: 0 of 3 audio file(s)" in err and "files/s" not in err and "real time" not in err


def test_cli_table_and_segmented_jsonl(tmp_path, model_dir, capsys):
    f = write(tmp_path / "long.wav", speech_like(2.2))
    assert cli(f, "--model", model_dir.parent, "--top_k", "2") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["path", "kind", "span", "label", "score", "scores", "error"]
    assert table[1].startswith(str(f)) and table[1].split()[4] in EMOTIONS
    out = tmp_path / "out.jsonl"
    assert cli(f, "--model", model_dir, "--segment", "fixed", "--window", "1", "--hop", "1", "--output", out) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["kind"], r["start"], r["end"]) for r in rows] == [
        ("segment", 0.0, 1.0),
        ("segment", 1.0, 2.0),
        ("segment", 1.2, 2.2),
        ("file", 0.0, 2.2),
    ]
    assert all(r["label"] in EMOTIONS and len(r["scores"]) == 6 for r in rows)


def test_cli_usage_errors_exit_2(tmp_path, model_dir, capsys):
    (tmp_path / "empty_dir").mkdir()
    assert cli(tmp_path / "empty_dir", "--model", model_dir) == 2
    err = capsys.readouterr().err
    assert "no file found in" in err and err.count("\n") == 1  # one message, not a warning and an error
    f = write(tmp_path / "a.wav", speech_like(0.5))
    assert cli(f, "--model", tmp_path / "empty_dir") == 2
    assert "no config.json" in capsys.readouterr().err
    assert cli(f, "--model", model_dir, "--segment", "fixed", "--window", "30") == 2
    assert cli(f, "--model", model_dir, "--output", tmp_path / "x.txt") == 2
    assert cli(f, "--model", model_dir, "--resume") == 2
    assert cli(f, "--model", model_dir, "--segment", "bogus") == 2
    err = capsys.readouterr().err
    assert "--window 30 is longer than --max_seconds" in err and "Traceback" not in err


def test_plot_writes_one_timeline_per_file(tmp_path, model_dir):
    files = [write(tmp_path / "in" / f"{name}.wav", speech_like(3.0, seed=i)) for i, name in enumerate(("a", "b"))]
    plots = tmp_path / "plots"
    assert (
        cli(
            *files,
            "--model",
            model_dir,
            "--segment",
            "fixed",
            "--window",
            "1",
            "--plot",
            plots,
            "--output",
            tmp_path / "o.csv",
        )
        == 0
    )
    pngs = sorted(plots.glob("*.png"))
    assert [p.name.split("-")[0] for p in pngs] == ["a", "b"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000 for p in pngs)


# ----------------------------------------------------------------------------- resume


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_resume_drops_a_file_cut_short_and_finishes_the_rest(tmp_path, model_dir, fmt):
    files = [write(tmp_path / "in" / f"u{i}.wav", speech_like(2.0, seed=i)) for i in range(4)]
    args = [tmp_path / "in", "--model", model_dir, "--segment", "fixed", "--window", "1"]
    full = tmp_path / f"full.{fmt}"
    assert cli(*args, "--output", full) == 0
    text = full.read_text()
    lines = text.splitlines(keepends=True)
    # as a kill leaves it: two files complete, the third's segment rows without its file row, half a line
    third = [i for i, line in enumerate(lines) if "u2.wav" in line]
    cut = "".join(lines[: third[-1]]) + lines[third[-1]][:25]
    partial = tmp_path / f"partial.{fmt}"
    partial.write_text(cut)
    assert cli(*args, "--output", partial, "--resume") == 0
    assert partial.read_text() == text
    assert cli(*args, "--output", partial, "--resume") == 0  # all done: nothing added
    assert partial.read_text() == text
    assert len(files) == 4


@pytest.mark.slow
def test_killed_run_resumed_gives_the_uninterrupted_output(tmp_path, model_dir):
    for i in range(24):
        write(tmp_path / "in" / f"u{i:02d}.wav", speech_like(3.0, seed=i))
    command = [
        sys.executable,
        "-m",
        "hf_ser.infer.predict",
        str(tmp_path / "in"),
        "--model",
        str(model_dir),
        "--segment",
        "fixed",
        "--window",
        "1",
        "--hop",
        "0.5",
        "--batch_size",
        "1",
        "--pool_seconds",
        "3",
        "--no_progress",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
    }
    full, killed = tmp_path / "full.csv", tmp_path / "killed.csv"
    subprocess.run([*command, "--output", str(full)], env=env, check=True, timeout=300, capture_output=True)
    process = subprocess.Popen([*command, "--output", str(killed)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if killed.exists() and killed.read_text().count(",file,") >= 4:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = killed.read_text().count(",file,")
    assert 4 <= done < 24
    subprocess.run(
        [*command, "--output", str(killed), "--resume"], env=env, check=True, timeout=300, capture_output=True
    )
    assert killed.read_text() == full.read_text()
    rows = list(csv.reader(io.StringIO(full.read_text())))
    assert len(rows) == len({tuple(r[:4]) for r in rows})  # no duplicate row


# ----------------------------------------------------------------------------- hostile inputs


@pytest.mark.slow
def test_hostile_inputs_each_get_a_reason_and_nothing_hangs(tmp_path, model_dir):
    data = tmp_path / "data"
    data.mkdir()
    for rate in (1, 3, 2_000_000_000):
        wav_with_rate(data / f"rate_{rate}.wav", rate)
    os.mkfifo(data / "fifo.wav")
    (data / "inner").mkdir()
    os.mkfifo(data / "inner" / "pipe.flac")
    write(data / "ok.wav", speech_like(1.0))
    write(data / "surround.wav", speech_like(1.0, sr=192_000, channels=6), 192_000)
    undecodable = os.fsdecode(b"caf\xe9-\xff.wav")
    write(data / undecodable, speech_like(0.8, seed=3))
    write(data / "=HYPERLINK(1).wav", speech_like(0.8, seed=4))
    direct_fifo = tmp_path / "x.wav"
    os.mkfifo(direct_fifo)
    out = tmp_path / "out" / "result.csv"
    before = set(tmp_path.rglob("*"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hf_ser.infer.predict",
            ".",
            str(direct_fifo),
            "--model",
            str(model_dir),
            "--output",
            str(out),
            "--no_progress",
        ],
        check=False,
        cwd=data,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
        capture_output=True,
        timeout=120,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, err
    assert "Traceback" not in err
    assert set(tmp_path.rglob("*")) - before == {out.parent, out}  # nothing written anywhere else
    rows = {r["path"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert len(rows) == 10

    def row(name: str) -> dict:
        (key,) = [k for k in rows if k.endswith(name)]
        return rows[key]

    for rate in (1, 3, 2_000_000_000):
        assert row(f"rate_{rate}.wav")["error"].startswith(("implausible sample rate", "unreadable"))
    assert row("fifo.wav")["error"].startswith("not a regular file") and "FIFO" in row("fifo.wav")["error"]
    assert row("pipe.flac")["error"].startswith("not a regular file")
    assert rows[str(direct_fifo)]["error"].startswith("not a regular file")
    assert row("ok.wav")["label"] in EMOTIONS and row("surround.wav")["label"] in EMOTIONS
    assert row("caf\ufffd-\ufffd.wav")["label"] in EMOTIONS  # printable, never UnicodeEncodeError
    assert rows["'=HYPERLINK(1).wav"]["label"] in EMOTIONS  # a formula cell is neutralised
    assert not any(k.startswith(("=", "+", "-", "@")) for k in rows)


def test_folder_of_100_wavs_with_3_broken_in_input_order_across_many_pools(tmp_path, model_dir, capsys):
    folder = tmp_path / "wavs"
    for i in range(97):
        write(folder / f"spk{i % 7}" / f"utt{i:03d}.wav", speech_like(0.3 + (i % 5) * 0.2, seed=i))
    broken_files(folder)
    assert cli(folder, "--model", model_dir, "--format", "jsonl", "--batch_size", "16", "--pool_seconds", "5") == 0
    out = capsys.readouterr()
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert [r["path"] for r in rows] == collect_inputs([folder])  # input order, whatever the batching
    assert sum(r["label"] in EMOTIONS and r["error"] is None for r in rows) == 97
    assert sorted(Path(r["path"]).name for r in rows if r["error"]) == ["empty.wav", "garbage.wav", "silent.wav"]
    assert "classified 97 of 100 audio file(s)" in out.err


def test_options_can_be_given_as_keywords(tmp_path, classifier):
    f = write(tmp_path / "a.wav", speech_like(3.0))
    rows = classify([f], classifier, segment="fixed", window=1.0, hop=1.0, top_k=1)
    assert [r["kind"] for r in rows] == ["segment"] * 3 + ["file"] and all(len(r["scores"]) == 1 for r in rows)
    with pytest.raises(TypeError):
        classify([f], classifier, chunk_seconds=1.0)  # replaced by segment="fixed", window=S


def test_the_timeline_of_a_long_file_has_a_label_band_and_minutes():
    """60 segments over 10 minutes: one band cell per segment in its label's colour, m:ss ticks, no grey neutral."""
    rng = np.random.default_rng(0)
    rows = []
    for k in range(60):
        probs = dict(zip(EMOTIONS, rng.dirichlet(np.ones(6)).tolist()))
        label = max(probs, key=probs.get)
        rows.append({"kind": "segment", "start": 10.0 * k + 2, "end": 10.0 * k + 8, "probs": probs, "label": label})
    rows.append({"kind": "file", "path": "long.wav", "start": 0.0, "end": 600.0, "label": "neutral", "score": 0.4})
    fig = timeline_figure(rows)
    band, ax = fig.axes[:2]
    assert len(band.patches) == 60
    colours = label_colours(EMOTIONS)
    expected = [colours[r["label"]] for r in rows[:-1]]
    assert [matplotlib.colors.to_hex(p.get_facecolor()) for p in band.patches] == expected
    assert colours["neutral"] not in ("#7f7f7f", "#808080") and len(set(colours.values())) == 6
    fig.canvas.draw()
    assert ax.get_xlabel() == "time (min:s)" and "10:00" in [t.get_text() for t in ax.get_xticklabels()]
