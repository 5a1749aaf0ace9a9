"""Recipe CLI: clear errors for bad input, and a tiny --demo run end to end (resumable)."""

import json
import logging
import os

import datasets
import pytest

from hf_ser.experiments.families import Run
from hf_ser.experiments.recipe.__main__ import main
from hf_ser.experiments.recipe.parse import parse_recipe
from hf_ser.experiments.recipe.plan import PlannedRun
from hf_ser.experiments.recipe.training import train_run


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return code, out.out + out.err


def test_unknown_recipe_lists_available(capsys):
    code, text = _run(capsys, ["no_such_recipe"])
    assert code == 2 and "unknown recipe 'no_such_recipe'" in text and "neo_latin" in text


def test_unknown_key(capsys):
    code, text = _run(capsys, ["neo_latin", "--no_such_key", "3"])
    assert code == 2 and "--no_such_key" in text


def test_micro_batch_must_hold_whole_contrastive_groups(capsys):
    code, text = _run(capsys, ["neo_latin", "--demo", "--per_device_train_batch_size", "24"])
    assert code == 2 and "--contrastive_group_size 16" in text and "16 or 32" in text
    code, text = _run(capsys, ["neo_latin", "--demo", "--length_buckets", "-1"])
    assert code == 2 and "--length_buckets" in text


def test_unknown_language_code(capsys):
    code, text = _run(capsys, ["neo_latin", "--demo", "--languages", "FRE", "XYZ"])
    assert code == 2 and "unknown language code 'XYZ'" in text and "FRE ITA POR" in text


def test_missing_data_root_says_what_and_where(capsys, tmp_path):
    code, text = _run(
        capsys, ["neo_latin", "--data_root", str(tmp_path / "nowhere"), "--output_dir", str(tmp_path / "o")]
    )
    assert code == 2
    for name in ("oreau", "cafe", "emozionalmente", "emouerj", "emoprosody", "red", "mesd", "emofilm"):
        assert name in text
    assert str(tmp_path / "nowhere") in text and "zenodo" in text.lower() and "--demo" in text


def test_yaml_layers_and_cli_override():
    r = parse_recipe(["neo_latin", "--demo", "--learning_rate", "0.005"])
    m, d, s, t, overridden = r.model, r.data, r.ser, r.training, r.demo_overrides
    assert s.experiment == "multilingual" and s.groups == ["neo_latin"]
    assert t.learning_rate == 0.005 and "learning_rate" not in overridden  # the command line wins over demo.yaml
    assert m.model_name_or_path == "demo-tiny" and d.demo
    r = parse_recipe(["all"])
    m, s, t = r.model, r.ser, r.training
    assert t.learning_rate == 1e-4 and t.weight_decay == 1e-5 and t.per_device_train_batch_size == 16
    assert t.gradient_accumulation_steps == 4 and t.max_grad_norm == 1.0 and t.num_train_epochs == 10
    assert s.contrastive_weight == 0.1 and s.temperature == 0.07 and m.classifier_proj_size == 256


@pytest.mark.slow
def test_demo_run_end_to_end_and_resume(capsys, tmp_path, hf_ser_cache):
    out = tmp_path / "runs"
    argv = [
        "neo_latin",
        "--demo",
        "--languages",
        "FRE",
        "ITA",
        "--synthetic_per_cell",
        "4",
        "--num_train_epochs",
        "1",
        "--output_dir",
        str(out),
    ]
    code, text = _run(capsys, argv)
    assert code == 0, text
    run = out / "multi-neo_latin-seed0"
    m = json.loads((run / "metrics.json").read_text())
    assert m["train_languages"] == ["FRE", "ITA"] and set(m["metrics"]) == {"FRE", "ITA", "all"}
    for v in m["metrics"].values():
        assert 0 <= v["uar"] <= 1 and 0 <= v["f1"] <= 1 and v["n"] > 0
    assert len(m["confusion"]["matrix"]) == 6 and m["config"]["data"]["demo"] is True
    assert (run / "model" / "config.json").is_file() and (run / "model" / "preprocessor_config.json").is_file()
    assert not (run / "checkpoints").exists()
    stamp = os.stat(run / "metrics.json").st_mtime_ns
    code, text = _run(capsys, argv)  # second run: the finished run is reused, not retrained
    assert code == 0 and os.stat(run / "metrics.json").st_mtime_ns == stamp


class _Killed(Exception):
    pass


@pytest.mark.slow
def test_killed_training_resumes_to_the_same_result(tmp_path, monkeypatch):
    """Kill a run after its first epoch checkpoint; the rerun resumes and ends exactly as an uninterrupted run."""
    from conftest import tone_dataset
    from transformers import TrainerCallback

    from hf_ser.experiments.families import Run
    from hf_ser.experiments.recipe import training
    from hf_ser.experiments.recipe.plan import PlannedRun

    ds = tone_dataset(48, languages=("FRE", "ITA"))
    train, test = ds.select(range(0, 36)), ds.select(range(36, 48))
    run = Run("multi-test", "multilingual", ("FRE", "ITA"), ("FRE", "ITA"), "neo_latin")

    def job(out):
        recipe = parse_recipe(
            [
                "neo_latin",
                "--demo",
                "--num_train_epochs",
                "2",
                "--output_dir",
                str(out),
                "--logging_steps",
                "1",
                "--use_cpu",
                "true",
            ]
        )
        return recipe, PlannedRun(0, run, out / run.dirname, train, train.select([]), test, {"test": str(out)}, "hash")

    recipe, planned = job(tmp_path / "straight")
    straight = training.train_run(planned, recipe, {})

    class KillAfterFirstEpoch(TrainerCallback):
        def on_epoch_begin(self, targs, state, control, **kw):
            if state.epoch and state.epoch >= 1:
                raise _Killed()

    class KilledTrainer(training.SERTrainer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.add_callback(KillAfterFirstEpoch())

    recipe, planned = job(tmp_path / "killed")
    monkeypatch.setattr(training, "SERTrainer", KilledTrainer)
    with pytest.raises(_Killed):
        training.train_run(planned, recipe, {})
    out = tmp_path / "killed" / run.dirname
    assert not (out / "metrics.json").exists() and list((out / "checkpoints").glob("checkpoint-*"))
    monkeypatch.undo()
    resumed = training.train_run(planned, recipe, {})
    assert resumed.metrics == straight.metrics
    assert resumed.confusion == straight.confusion
    # the probabilities, not only the argmax: the resumed model is the uninterrupted one
    assert (out / "predictions.csv").read_text() == (
        tmp_path / "straight" / run.dirname / "predictions.csv"
    ).read_text()


def test_half_written_checkpoint_is_skipped(tmp_path):
    from hf_ser.experiments.recipe.training import last_complete_checkpoint

    assert last_complete_checkpoint(tmp_path / "none") is None
    good, broken, empty = (tmp_path / f"checkpoint-{n}" for n in (4, 8, 12))
    for d in (good, broken, empty):
        d.mkdir()
    (good / "trainer_state.json").write_text('{"global_step": 4}')
    (broken / "trainer_state.json").write_text('{"global_st')  # killed while writing the state file
    assert last_complete_checkpoint(tmp_path) == str(good)
    assert not broken.exists() and not empty.exists() and good.is_dir()


def _grid(out, *extra):
    import subprocess
    import sys

    argv = [
        sys.executable,
        "-m",
        "hf_ser.experiments.recipe",
        "single_language",
        "--demo",
        "--languages",
        "FRE",
        "ITA",
        "SPA",
        "--synthetic_per_cell",
        "4",
        "--num_train_epochs",
        "4",
        "--output_dir",
        str(out),
        *extra,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.slow
def test_killed_grid_resumes_to_the_same_tables(tmp_path, hf_ser_cache):
    """SIGKILL a grid mid-training: the rerun skips finished runs, resumes the killed one, and the tables match."""
    import signal
    import time

    from hf_ser.study.report.render import to_csv
    from hf_ser.study.report.runs import load_runs
    from hf_ser.study.report.tables import table2

    straight = _grid(tmp_path / "straight")
    assert straight.wait(timeout=600) == 0, straight.stdout.read()

    killed_dir = tmp_path / "killed"
    proc = _grid(killed_dir)
    deadline = time.time() + 600
    victim = None
    while victim is None and proc.poll() is None and time.time() < deadline:
        if list(killed_dir.glob("*/metrics.json")):  # one run finished; wait for the next one's first checkpoint
            victim = next(
                (
                    run
                    for run in sorted(killed_dir.glob("single-*"))
                    if not (run / "metrics.json").exists()
                    and list(run.glob("checkpoints/checkpoint-*/trainer_state.json"))
                ),
                None,
            )
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert victim is not None, "the grid finished before it could be killed"
    finished = {p: p.stat().st_mtime_ns for p in killed_dir.glob("*/metrics.json")}
    assert finished and victim / "metrics.json" not in finished
    for p in finished:
        assert json.loads(p.read_text())["config_hash"]  # whole files only: written then renamed

    rerun = _grid(killed_dir)
    log = rerun.communicate(timeout=600)[0]
    assert rerun.returncode == 0, log
    assert f"{victim.name}: resuming from" in log
    for p, stamp in finished.items():
        assert p.stat().st_mtime_ns == stamp, f"{p.parent.name} was trained again"
        assert f"{p.parent.name}: finished earlier" in log

    tables = [to_csv(table2(load_runs(d))) for d in (tmp_path / "straight", killed_dir)]
    assert tables[0] == tables[1] and tables[0].count("\n") >= 2


def test_device_defaults_on_cpu_are_unchanged():
    """CPU: the paper's 16 x 4, fp32 under mixed_precision auto, no loader workers."""
    training = parse_recipe(["single_language"]).training
    assert (training.per_device_train_batch_size, training.gradient_accumulation_steps) == (16, 4)
    assert not training.fp16 and not training.bf16 and training.dataloader_num_workers == 0


def test_gpu_defaults_by_memory_and_bf16_support(monkeypatch, caplog):
    """CUDA: 64 x 1 on a large GPU (32 x 2 on 40 GiB, 16 x 4 on 24 GiB), logged; nothing when the user set the
    micro-batch or the accumulation; auto precision is bf16 where native, else fp16, and fp32 on CPU."""
    import logging

    import torch

    from hf_ser.experiments.recipe.devices import auto_mixed_precision, gpu_batch_defaults

    caplog.set_level(logging.INFO, logger="hf_ser")
    assert gpu_batch_defaults(set(), 141) == {"per_device_train_batch_size": 64, "gradient_accumulation_steps": 1}
    assert "micro-batch 64 x 1" in caplog.text
    assert gpu_batch_defaults(set(), 40)["per_device_train_batch_size"] == 32
    assert gpu_batch_defaults(set(), 24)["per_device_train_batch_size"] == 16
    assert gpu_batch_defaults({"per_device_train_batch_size"}, 141) == {}
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: not including_emulation)
    assert auto_mixed_precision(True) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert auto_mixed_precision(True) == "fp16"  # emulated bf16 only (pre-Ampere): fp16
    assert auto_mixed_precision(False) == "no"


def test_sdpa_backend_is_a_key_outside_the_run_hash():
    """--sdpa_backend parses, is listed in --help with the WavLM note, and does not change a run's identity."""
    from hf_ser.experiments.recipe.plan import run_config

    a, b = parse_recipe(["single_language"]), parse_recipe(["single_language", "--sdpa_backend", "math"])
    assert b.model.sdpa_backend == "math"
    run = type("R", (), {"to_dict": lambda self: {}})()
    assert run_config(run, a, {}) == run_config(run, b, {})


def test_a_run_without_data_is_skipped_and_leaves_no_folder(tmp_path, caplog):
    empty = datasets.Dataset.from_dict({"path": [], "language": [], "label": []})
    rows = datasets.Dataset.from_dict({"path": ["a.wav"], "language": ["DEU"], "label": [0]})
    run = Run("transfer-DEU", "transfer", ("DEU",), ("DEU",), "")
    job = PlannedRun(0, run, tmp_path / "transfer-DEU-seed0", empty, empty, rows, {}, "0" * 16)
    with caplog.at_level(logging.WARNING, logger="hf_ser"):
        assert train_run(job, None, {}) is None
    assert not job.folder.exists() and "no training data; skipped" in caplog.text
