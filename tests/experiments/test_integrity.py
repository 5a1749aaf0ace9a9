"""Results that follow the data, one writer per run, hostile input, and secrets (issue: results you can trust)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hf_ser.data.corpora import CorpusError, prepare_scan, scan_manifest
from hf_ser.data.dataset import DataArguments, split_dataset
from hf_ser.errors import StorageError
from hf_ser.labels import EMOTIONS
from hf_ser.study.report.render import to_csv
from hf_ser.study.report.runs import load_runs
from hf_ser.study.report.tables import table2

SR = 16_000


def tone(path: Path, emotion: int, seconds: float = 0.6, seed: int = 0) -> Path:
    """A WAV whose pitch depends on the emotion (learnable in one epoch by the tiny model)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    wave = 0.3 * np.sin(2 * np.pi * (140 + 70 * emotion) * t) + 0.01 * rng.standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(os.fsencode(path), wave.astype(np.float32), SR, subtype="PCM_16")
    return path


def manifest_corpus(root: Path, languages=("FRE", "ITA"), per_emotion: int = 3) -> Path:
    """A manifest with `per_emotion` utterances of each emotion per language, two speakers each."""
    rows = []
    for lang in languages:
        for e, emotion in enumerate(EMOTIONS):
            for k in range(per_emotion):
                wav = tone(root / lang / f"{emotion}_{k}.wav", e, 0.5 + 0.1 * k, seed=k)
                rows.append(
                    {
                        "path": str(wav.relative_to(root)),
                        "label": emotion,
                        "language": lang,
                        "speaker": f"{lang}{k % 2}",
                    }
                )
    return write_manifest(root / "manifest.csv", rows)


def write_manifest(path: Path, rows: list[dict]) -> Path:
    """Write rows as a CSV manifest."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def read_rows(path: Path) -> list[dict]:
    """A CSV manifest's rows."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------- duplicates


def test_duplicates_are_kept_once_and_never_leak_into_test(tmp_path):
    root = tmp_path / "corpus"
    manifest = manifest_corpus(root, per_emotion=4)
    rows = read_rows(manifest)
    dupes = [{**r, "path": str((root / r["path"]).resolve())} for r in rows]  # the same files by absolute path
    dupes += [{**r, "path": f"FRE/../{r['path']}"} for r in rows]  # and through '..'
    write_manifest(manifest, rows + dupes)
    ds, rep = prepare_scan(scan_manifest(manifest), tmp_path / "cache")
    assert len(ds) == len(rows)
    reasons = [s["reason"] for s in rep["skipped"]]
    assert sum(r.startswith("duplicate of") for r in reasons) == 2 * len(rows)
    for protocol in ("paper", "speaker"):
        train, test, _ = split_dataset(ds, DataArguments(split=protocol))
        resolved = [{os.path.realpath(p) for p in part["path"]} for part in (train, test)]
        assert not resolved[0] & resolved[1], protocol


def test_one_file_with_two_labels_is_an_error_naming_both(tmp_path):
    root = tmp_path / "corpus"
    manifest = manifest_corpus(root, languages=("FRE",), per_emotion=2)
    rows = read_rows(manifest)
    write_manifest(manifest, rows + [{**rows[0], "label": "sadness"}])
    with pytest.raises(CorpusError, match="listed twice with different labels") as err:
        prepare_scan(scan_manifest(manifest), tmp_path / "cache")
    assert "anger" in str(err.value) and "sadness" in str(err.value)


# ----------------------------------------------------------------------------- the cache


def test_a_corrupted_or_truncated_cache_is_rebuilt(tmp_path, caplog):
    manifest = manifest_corpus(tmp_path / "corpus", languages=("FRE",), per_emotion=2)
    ds, rep = prepare_scan(scan_manifest(manifest), tmp_path / "cache")
    audio = list(ds["audio"])  # read now: the dataset memory-maps the shard corrupted below
    shard = next(Path(rep["cache"]).glob("dataset/*.arrow"))
    original = shard.read_bytes()
    data = bytearray(original)
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    shard.write_bytes(bytes(data))
    again, _ = prepare_scan(scan_manifest(manifest), tmp_path / "cache")
    assert "does not match its checksum" in caplog.text and shard.read_bytes() == original
    assert list(again["audio"]) == audio
    shard.write_bytes(original[: len(original) // 3])  # truncated
    caplog.clear()
    prepare_scan(scan_manifest(manifest), tmp_path / "cache")
    assert "truncated" in caplog.text and shard.read_bytes() == original


def test_corpus_names_from_a_manifest_never_leave_the_cache(tmp_path):
    root = tmp_path / "corpus"
    manifest = manifest_corpus(root, languages=("FRE",), per_emotion=2)
    rows = [{**r, "corpus": "../../escape"} for r in read_rows(manifest)]
    write_manifest(manifest, rows)
    cache = tmp_path / "cache"
    _, rep = prepare_scan(scan_manifest(manifest), cache)
    assert Path(rep["cache"]).resolve().is_relative_to(cache.resolve())
    assert not (tmp_path / "escape").exists() and not (cache.parent.parent / "escape").exists()


def test_an_unwritable_cache_is_one_message_naming_the_folder(tmp_path, monkeypatch):
    manifest = manifest_corpus(tmp_path / "corpus", languages=("FRE",), per_emotion=2)

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(StorageError, match="cannot write in .*cache.*--cache_dir"):
        prepare_scan(scan_manifest(manifest), tmp_path / "cache")


# ----------------------------------------------------------------------------- hostile files in a corpus


def hostile_files(root: Path) -> dict[str, str]:
    """Bad files next to good ones; returns name -> the reason expected in the report."""
    root.mkdir(parents=True, exist_ok=True)
    tone(root / "good.wav", 0)
    expected = {}
    for rate in (1, 3, 2_000_000_000):
        p = tone(root / f"rate{rate}.wav", 1)
        data = bytearray(p.read_bytes())
        data[24:28] = rate.to_bytes(4, "little")
        p.write_bytes(bytes(data))
        expected[p.name] = "implausible sample rate"
    os.mkfifo(root / "fifo.wav")
    expected["fifo.wav"] = "not a regular file"
    sf.write(root / "dc.wav", np.full(SR, 0.02, dtype=np.float32), SR)
    expected["dc.wav"] = "silent"
    (root / "empty.wav").write_bytes(b"")
    expected["empty.wav"] = "empty file"
    (root / "garbage.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    expected["garbage.wav"] = "unreadable"
    odd = os.fsdecode(b"caf\xe9.wav")  # a Latin-1 file name: not UTF-8
    tone(root / odd, 2)
    return expected


def test_hostile_files_each_get_a_reason_and_the_rest_is_prepared(tmp_path):
    root = tmp_path / "corpus"
    expected = hostile_files(root)
    rows = [{"path": name, "label": "anger", "language": "FRE"} for name in [*expected, "good.wav"]]
    rows.append({"path": os.fsdecode(b"caf\xe9.wav"), "label": "happiness", "language": "FRE"})
    manifest = root / "manifest.jsonl"
    manifest.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8", errors="surrogateescape"
    )
    out = tmp_path / "prep.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hf_ser.data.corpora",
            "prepare",
            str(manifest),
            "--cache_dir",
            str(tmp_path / "cache"),
            "--num_proc",
            "1",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    rep = next(iter(json.loads(out.read_text(encoding="utf-8")).values()))
    assert rep["kept_total"] == 2
    reasons = {Path(s["path"]).name: s["reason"] for s in rep["skipped"]}
    for name, reason in expected.items():
        assert reason in reasons[name], (name, reasons.get(name))


# ----------------------------------------------------------------------------- runs follow the data


def recipe(out: Path, manifest: Path, *extra: str) -> subprocess.CompletedProcess:
    """A demo single_language grid on the manifest, one epoch, in a subprocess."""
    argv = [
        sys.executable,
        "-m",
        "hf_ser.experiments.recipe",
        "single_language",
        "--demo",
        "--corpora",
        str(manifest),
        "--languages",
        "FRE",
        "ITA",
        "--num_train_epochs",
        "1",
        "--output_dir",
        str(out),
        *extra,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_editing_one_manifest_row_retrains_exactly_the_affected_run(tmp_path):
    manifest = manifest_corpus(tmp_path / "corpus")
    out = tmp_path / "runs"
    env_cache = ["--cache_dir", str(tmp_path / "cache")]
    first = recipe(out, manifest, *env_cache)
    assert first.returncode == 0, first.stderr
    stamps = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/metrics.json")}
    assert set(stamps) == {"single-FRE-seed0", "single-ITA-seed0"}
    rows = read_rows(manifest)
    i = next(i for i, r in enumerate(rows) if r["language"] == "ITA" and r["label"] == "anger")
    rows[i]["label"] = "disgust"
    write_manifest(manifest, rows)
    second = recipe(out, manifest, *env_cache)
    assert second.returncode == 0, second.stderr
    assert "single-FRE-seed0: finished earlier" in second.stderr
    assert (out / "single-FRE-seed0" / "metrics.json").stat().st_mtime_ns == stamps["single-FRE-seed0"]
    assert (out / "single-ITA-seed0" / "metrics.json").stat().st_mtime_ns != stamps["single-ITA-seed0"]
    assert second.stderr.count(": training on") == 1


@pytest.mark.slow
def test_two_grids_on_one_folder_train_every_run_once(tmp_path):
    manifest = manifest_corpus(tmp_path / "corpus", languages=("FRE", "ITA", "SPA"))
    cache = ["--cache_dir", str(tmp_path / "cache")]
    alone = recipe(tmp_path / "alone", manifest, *cache, "--languages", "FRE", "ITA", "SPA")
    assert alone.returncode == 0, alone.stderr
    argv = [
        sys.executable,
        "-m",
        "hf_ser.experiments.recipe",
        "single_language",
        "--demo",
        "--corpora",
        str(manifest),
        "--languages",
        "FRE",
        "ITA",
        "SPA",
        "--num_train_epochs",
        "1",
        "--output_dir",
        str(tmp_path / "shared"),
        *cache,
    ]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    logs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    trained = sum(log.count(": training on") for log in logs)
    assert trained == 3, logs  # three runs, each trained by exactly one of the two grids
    tables = [to_csv(table2(load_runs(d))) for d in (tmp_path / "alone", tmp_path / "shared")]
    assert tables[0] == tables[1]


@pytest.mark.slow
def test_a_hub_token_reaches_no_file(tmp_path):
    token = "hf_FAKEtoken1234567890abcdefSECRET"
    manifest = manifest_corpus(tmp_path / "corpus", languages=("FRE",), per_emotion=2)
    out = tmp_path / "runs"
    done = recipe(
        out,
        manifest,
        "--cache_dir",
        str(tmp_path / "cache"),
        "--languages",
        "FRE",
        "--hub_token",
        token,
        "--save_strategy",
        "epoch",
        "--keep_checkpoints",
        "true",
    )
    assert done.returncode == 0, done.stderr
    run = out / "single-FRE-seed0"
    from hf_ser.hub.push import push_run

    push_run(run, "someone/demo", dry_run=True)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "training_args.bin" for p in files) and (run / "hub" / "README.md").is_file()
    leaks = [p for p in files if token.encode() in p.read_bytes()]
    assert leaks == [] and token not in done.stdout + done.stderr
