"""Smoke tests of the benchmark scripts: each runs in a tiny configuration and ends with its JSON line."""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest
import torch

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))


def last_json_line(capsys: pytest.CaptureFixture) -> dict:
    """The JSON object on the last non-empty line of what was printed."""
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines, "the benchmark printed nothing"
    return json.loads(lines[-1])


@pytest.mark.parametrize(
    "name, keys",
    [
        ("trainer_overhead", ("ratio", "ratio_of_medians", "loss_extra_ms", "sampler_ms_per_batch")),
        ("eval_order", ("speedup", "same_metrics", "padded_samples_ratio", "max_logit_diff")),
        ("input_pipeline", ("samples_per_s", "cache_bytes_per_audio_second", "profile_us_per_sample")),
    ],
)
def test_quick_run_ends_with_its_json_line(name: str, keys: tuple[str, ...], capsys: pytest.CaptureFixture) -> None:
    returned = importlib.import_module(name).main(["--quick"])
    printed = last_json_line(capsys)
    assert printed == json.loads(json.dumps(returned))
    assert printed["benchmark"] == name
    assert set(keys) <= set(printed)
    headline = printed[keys[0]]
    assert isinstance(headline, float) and math.isfinite(headline) and headline > 0


def test_eval_order_restores_the_metrics(capsys: pytest.CaptureFixture) -> None:
    importlib.import_module("eval_order").main(["--quick"])
    result = last_json_line(capsys)
    assert result["same_metrics"] is True and result["same_predictions"] is True
    assert result["max_logit_diff"] < 1e-4


def test_input_pipeline_cache_is_16_bit_pcm(capsys: pytest.CaptureFixture) -> None:
    importlib.import_module("input_pipeline").main(["--quick"])
    result = last_json_line(capsys)
    # 16-bit PCM at 16 kHz is 32,000 bytes per second; the WAV headers and the other columns add a little
    assert 32_000 <= result["cache_bytes_per_audio_second"] < 33_000


@pytest.mark.skipif(torch.cuda.is_available(), reason="the skip path only runs without CUDA")
def test_gpu_benchmark_skips_without_cuda(capsys: pytest.CaptureFixture) -> None:
    returned = importlib.import_module("gpu").main([])
    out = capsys.readouterr().out
    assert "no CUDA device: skipped" in out
    assert json.loads(out.strip().splitlines()[-1]) == returned == {"benchmark": "gpu", "skipped": "no CUDA"}


def test_gpu_flops_formula_counts_frames_and_parameters() -> None:
    gpu = importlib.import_module("gpu")
    from hf_ser.train.modeling import build_model

    model, _ = build_model("demo-tiny")
    config = model.config
    matmul_params = sum(
        p.numel()
        for name, p in model.named_parameters()
        if p.dim() > 1
        and not name.startswith(("wav2vec2.feature_extractor", "classifier"))
        and not name.endswith("original0")  # the weight-norm magnitude of the positional conv
    )
    for samples in (16_000, 48_000):
        frames = gpu.conv_frames(config, samples)[-1]
        assert frames == int(model._get_feat_extract_output_lengths(torch.tensor(samples)))
        conv, rest = gpu.forward_flops(config, samples)
        attention = config.num_hidden_layers * 4.0 * frames * frames * config.hidden_size
        # every weight matrix after the conv encoder does one multiply-accumulate per frame
        assert rest - attention == pytest.approx(2.0 * matmul_params * frames, rel=1e-6)
        assert gpu.training_flops(config, samples) == pytest.approx(conv + 3 * rest)
        assert gpu.training_flops(config, samples, frozen_encoder=False) == pytest.approx(3 * (conv + rest))


def test_run_all_writes_results_and_checks_targets(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run_all = importlib.import_module("run_all")
    out = tmp_path / "results.json"
    out.write_text(json.dumps({"gpu": {"benchmark": "gpu", "skipped": "no CUDA"}}))
    assert run_all.main(["--only", "padding", "--quick", "--output", str(out)]) == 0
    results = json.loads(out.read_text())
    assert set(results) == {"padding", "gpu"}  # --only keeps the other stored results
    assert set(run_all.REQUIRED_KEYS["padding"]) <= set(results["padding"])
    text = capsys.readouterr().out
    assert "padding: padded_fraction" in text and "(target <= 0.15)" in text
    assert "distinct_shapes_per_epoch" in text and "(target <= 32)" in text


def test_padding_data_root_fails_clearly_instead_of_using_synthetic_durations(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    padding = importlib.import_module("padding")
    with pytest.raises(SystemExit) as exit_info:
        padding.main(["--data_root", str(tmp_path / "absent"), "--corpora", "cafe"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "--data_root" in captured.err and "cafe" in captured.err and "synthetic data" not in captured.out


def test_targets_report_missing_and_unmet_figures() -> None:
    run_all = importlib.import_module("run_all")
    lines, all_met = run_all.summary(
        {"trainer_overhead": {"ratio": 1.2}, "eval_order": {"speedup": 2.0}}, {"trainer_overhead": 1.0}
    )
    assert not all_met
    assert any("ratio = 1.2" in line and "NOT met" in line for line in lines)
    assert any("same_metrics" in line and "missing" in line for line in lines)


GPU_CONFIG_KEYS = (
    "shape_buckets",
    "micro_batch",
    "contrastive_group",
    "samples_per_s",
    "mfu",
    "audio_hours_per_gpu_hour",
)


def test_gpu_benchmark_code_path_on_cpu(capsys: pytest.CaptureFixture) -> None:
    """`--cpu_smoke` runs the GPU benchmark's training, timing, FLOPs, projection and eval-order code with demo-tiny;
    one case here (the slow test below runs them all)."""
    argv = "--cpu_smoke --cases paper_16x4 --runs_per_gpu 1 --size 64 --eval_size 16".split()
    returned = importlib.import_module("gpu").main(argv)
    assert last_json_line(capsys) == json.loads(json.dumps(returned))
    (config,) = returned["configs"]
    assert "error" not in config, config
    assert set(GPU_CONFIG_KEYS) <= set(config)
    assert config["samples"] == 2 * 64 and config["samples_per_s"] > 0 and 0 < config["mfu"] <= config["mfu_padded"]
    assert config["micro_batch"] == "16x4" and config["contrastive_group"] == 16
    assert returned["eval_order"]["same_metrics"] is True and "error" not in returned["eval_order"]
    # the paper grid at one seed: 4,054 audio-hours x 3 seeds in docs/cluster.md
    assert returned["paper_grid_audio_hours"] == pytest.approx(4054 / 3, rel=0.01)


@pytest.mark.slow
def test_gpu_benchmark_cpu_smoke_runs_every_case(capsys: pytest.CaptureFixture) -> None:
    """The Bar: `gpu.py --cpu_smoke` runs every case (buckets, SDPA kernels, 64 x 1 in groups of 16, fp16/bf16,
    compile, two runs side by side in worker processes) without an error, with the keys of the JSON line and a
    projected paper-grid time."""
    returned = importlib.import_module("gpu").main(["--cpu_smoke"])
    assert last_json_line(capsys) == json.loads(json.dumps(returned))
    names = [c["case"] for c in returned["configs"]]
    assert {"paper_16x4", "buckets_16x4", "sdpa_cudnn", "gpu_default", "gpu_default_compile"} <= set(names)
    assert "runs_per_gpu_2" in names
    for config in returned["configs"]:
        assert "error" not in config, config
        assert set(GPU_CONFIG_KEYS) <= set(config)
    default = next(c for c in returned["configs"] if c["case"] == "gpu_default")
    assert default["micro_batch"] == "64x1" and default["contrastive_group"] == 16
    assert returned["projected_paper_grid_hours"] > 0 and "error" not in returned["eval_order"]
