"""train.runs: the run record (round trip, old files, clear errors), identity, atomic writes, the lock, discovery."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.safe_io import atomic_write_json
from hf_ser.train.runs import (
    STAGING_MARKER,
    RunBusy,
    RunLock,
    RunRecord,
    RunRecordError,
    find_run_folders,
    finished_record,
    is_locked,
    read_predictions,
    run_state,
    write_predictions,
)


def record(name="single-FRE-seed0", uar=0.5, **kw) -> RunRecord:
    """A small valid record."""
    return RunRecord(
        run=name,
        family="single_language",
        train_languages=["FRE"],
        eval_languages=["FRE"],
        metrics={"FRE": {"uar": uar, "f1": uar, "wa": uar, "n": 10}, "all": {"uar": uar, "f1": uar, "n": 10}},
        config_hash="h1",
        **kw,
    )


def test_round_trip_keeps_every_field_and_unknown_keys(tmp_path):
    r = record(details={"shots": 5}, protocol={"split": "paper"})
    r.save(tmp_path)
    back = RunRecord.load(tmp_path)
    assert back == r
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert (
        on_disk["shots"] == 5 and on_disk["schema_version"] == 2
    )  # details stay flat, as metrics.json always had them


def test_an_older_metrics_json_still_loads(tmp_path):
    old = {
        "name": "multi-neo_latin",
        "family": "multilingual",
        "train_languages": ["fre", "ita"],
        "eval_languages": ["FRE", "ITA"],
        "group": "neo_latin",
        "heldout_language": None,
        "seed": 0,
        "run": "multi-neo_latin-seed0",
        "metrics": {"FRE": {"uar": 0.6, "f1": 0.5, "n": 3}, "all": {"uar": 0.6, "f1": 0.5, "n": 3}},
        "config_hash": "abc",
        "train_size": 36,
        "data_args": {"demo": True},
    }
    (tmp_path / "metrics.json").write_text(json.dumps(old))
    r = RunRecord.load(tmp_path)
    assert r.schema_version == 1 and r.train_languages == ["FRE", "ITA"] and r.train_size == 36
    assert finished_record(tmp_path, "abc") is not None and finished_record(tmp_path, "other") is None


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "cannot be read as JSON"),
        ('["a"]', "not a JSON object"),
        ('{"run": "x", "family": "single_language", "train_languages": ["FRE"]}', "missing key 'metrics'"),
        ('{"run": "x", "family": "bogus", "train_languages": ["FRE"], "metrics": {}}', "unknown family"),
        (
            '{"run": "x", "family": "single_language", "train_languages": ["FRE"], '
            '"metrics": {"FRE": {"uar": 3, "f1": 0}}}',
            "not a fraction",
        ),
    ],
)
def test_unusable_records_name_the_file(tmp_path, content, message):
    (tmp_path / "metrics.json").write_text(content)
    with pytest.raises(RunRecordError, match=message) as err:
        RunRecord.load(tmp_path)
    assert str(tmp_path / "metrics.json") in str(err.value)
    with pytest.raises(RunRecordError, match="not found"):
        RunRecord.load(tmp_path / "missing")


def _hammer(path, n, tag):
    for i in range(n):
        atomic_write_json(path, {"writer": tag, "i": i, "pad": "x" * 2000})


def test_two_processes_writing_one_file_never_collide(tmp_path):
    """Unique temporary names: 2 x 1,500 concurrent writes, none fails, the file is always whole."""
    path = tmp_path / "metrics.json"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(path, 1500, t)) for t in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    assert json.loads(path.read_text())["i"] == 1499
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary file left behind


def test_fingerprint_follows_rows_not_their_order(tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF0000")
    rows = {
        "path": [str(wav), "b.wav"],
        "label": [0, 1],
        "language": ["FRE", "FRE"],
        "corpus": ["c", "c"],
        "speaker": ["s1", "s2"],
        "length": [10, 20],
    }
    base = data_fingerprint(rows)
    swapped = {k: v[::-1] for k, v in rows.items()}
    assert data_fingerprint(swapped) == base
    assert data_fingerprint({**rows, "label": [0, 2]}) != base  # a relabelled row
    assert data_fingerprint({k: v[:1] for k, v in rows.items()}) != base  # a removed row
    os.utime(wav, ns=(1, 1))
    assert data_fingerprint(rows) != base  # the audio file was rewritten


def test_lock_is_exclusive_and_dies_with_its_process(tmp_path):
    folder = tmp_path / "run"
    code = (
        f"import time; from hf_ser.train.runs import RunLock\n"
        f"with RunLock({str(folder)!r}):\n    print('locked', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    assert is_locked(folder) and run_state(folder, "h") == "running elsewhere"
    with pytest.raises(RunBusy):
        with RunLock(folder):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    deadline = time.time() + 5
    while is_locked(folder) and time.time() < deadline:
        time.sleep(0.05)
    assert not is_locked(folder) and run_state(folder, "h") == "to do"  # no stale lock after SIGKILL
    with RunLock(folder):
        assert is_locked(folder)


def test_discovery_never_reads_staging_folders(tmp_path):
    run = tmp_path / "single-FRE-seed0"
    record(uar=0.5).save(run)
    record(uar=0.9).save(run / "hub")  # a dry-run push staged inside the run
    other = tmp_path / "upload"
    record(uar=0.9).save(other)
    (other / STAGING_MARKER).write_text("")
    record(uar=0.1).save(tmp_path / "report" / "x")
    assert find_run_folders(tmp_path) == [run]


def test_predictions_are_spreadsheet_safe_and_read_back(tmp_path):
    meta = {
        "path": ['=HYPERLINK("x")', "b\udcff.wav"],
        "language": ["FRE", "FRE"],
        "corpus": ["c", "c"],
        "speaker": ["+33", "@me"],
        "label": [0, 3],
    }
    write_predictions(tmp_path / "predictions.csv", meta, np.array([[2.0, 0, 0, 0, 0, 0], [0, 0, 0, 1.0, 0, 0]]))
    text = (tmp_path / "predictions.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'+33" in text and "'@me" in text and "b\ufffd.wav" in text
    df = read_predictions(tmp_path)
    assert df["y_true"].tolist() == [0, 3] and df["y_pred"].tolist() == [0, 3]
