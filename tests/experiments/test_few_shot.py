"""experiments.few_shot: k-shot draws, step budget, the unseen-language check, the upper bound, outputs, a demo run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_png_not_blank, train_tiny_grid
from transformers import TrainingArguments

from hf_ser.experiments.few_shot.draws import MIN_STEPS, adaptation_args, shot_indices
from hf_ser.experiments.few_shot.inputs import FewShotError, check_unseen
from hf_ser.experiments.few_shot.outputs import plot_few_shot, summarise, to_csv, to_markdown
from hf_ser.experiments.few_shot.upper_bound import upper_bound
from hf_ser.experiments.recipe.__main__ import main as recipe_main
from hf_ser.labels import EMOTIONS
from hf_ser.train.runs import RunRecord

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_shots_are_k_per_emotion_nested_and_seeded():
    labels = np.repeat(np.arange(len(EMOTIONS)), 12)
    labels[labels == 5] = 4  # sadness absent: contributes nothing
    picks = shot_indices(labels, [1, 5, 10], seed=0, language="SPA")
    for k, rows in picks.items():
        counts = np.bincount(labels[rows], minlength=len(EMOTIONS))
        assert counts[:5].tolist() == [k] * 5 and counts[5] == 0
        assert len(set(rows.tolist())) == len(rows)
    assert set(picks[1]) <= set(picks[5]) <= set(picks[10])  # nested
    again = shot_indices(labels, [1, 5, 10], seed=0, language="SPA")
    assert all(np.array_equal(picks[k], again[k]) for k in picks)
    other = shot_indices(labels, [5], seed=1, language="SPA")
    assert not np.array_equal(other[5], picks[5])
    few = shot_indices(np.array([0, 0, 1]), [5], seed=0)[5]  # fewer than k: all of them
    assert sorted(few.tolist()) == [0, 1, 2]


def test_budget_guarantees_min_steps_and_fits_the_batch(tmp_path):
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=16,
        gradient_accumulation_steps=4,
        num_train_epochs=10,
        learning_rate=1e-4,
        report_to=[],
    )
    tiny = adaptation_args(args, 6, tmp_path / "a", seed=3)
    assert tiny.max_steps == MIN_STEPS >= 30 and tiny.per_device_train_batch_size == 6
    assert tiny.gradient_accumulation_steps == 1 and tiny.seed == 3 and tiny.learning_rate == 1e-4
    big = adaptation_args(
        TrainingArguments(
            output_dir=str(tmp_path),
            per_device_train_batch_size=16,
            gradient_accumulation_steps=4,
            num_train_epochs=40,
            report_to=[],
        ),
        120,
        tmp_path / "b",
        seed=0,
    )
    assert big.gradient_accumulation_steps == 4 and big.max_steps == 40 * 2  # ceil(120 / 64) steps per epoch


def _fake_run(
    root: Path,
    name: str,
    family: str,
    train: list[str],
    metrics: dict[str, float],
    seed: int = 0,
    group: str = "neo_latin",
    model: bool = False,
) -> Path:
    run = root / f"{name}-seed{seed}"
    run.mkdir(parents=True)
    RunRecord(
        run=run.name,
        family=family,
        name=name,
        train_languages=train,
        eval_languages=list(metrics),
        group=group,
        seed=seed,
        metrics={l: {"uar": u, "f1": u - 0.01, "n": 10} for l, u in metrics.items()},
        config={"data": {"demo": True, "synthetic_per_cell": 3}},
    ).save(run)
    if model:
        (run / "model").mkdir()
        (run / "model" / "config.json").write_text("{}")
    return run


def test_upper_bound_prefers_the_single_language_run_then_the_group(tmp_path):
    _fake_run(tmp_path, "multi-neo_latin", "multilingual", ["FRE", "SPA"], {"FRE": 0.7, "SPA": 0.8})
    _fake_run(tmp_path, "multi-all", "multilingual", ["FRE", "SPA", "ENG"], {"SPA": 0.9, "ENG": 0.4}, group="all")
    _fake_run(tmp_path, "xgroup-neo_latin-minus-SPA", "cross_group", ["FRE"], {"SPA": 0.99})
    best, candidates = upper_bound(tmp_path, "SPA")
    assert best["name"] == "multi-neo_latin" and best["uar"] == pytest.approx(80.0) and len(candidates) == 2
    _fake_run(tmp_path, "single-SPA", "single_language", ["SPA"], {"SPA": 0.5}, seed=0)
    _fake_run(tmp_path, "single-SPA", "single_language", ["SPA"], {"SPA": 0.6}, seed=1)
    best, _ = upper_bound(tmp_path, "SPA")
    assert best["name"] == "single-SPA" and best["n_seeds"] == 2 and best["uar"] == pytest.approx(55.0)
    assert upper_bound(tmp_path, "ENG")[0]["name"] == "multi-all"
    assert upper_bound(tmp_path, "RUS") == (None, [])
    assert upper_bound(tmp_path / "missing", "SPA") == (None, [])


def test_a_base_that_saw_the_language_is_refused(tmp_path, capsys):
    base = _fake_run(tmp_path, "multi-neo_latin", "multilingual", ["FRE", "ITA"], {"FRE": 0.5}, model=True)
    with pytest.raises(FewShotError, match="never saw it"):
        check_unseen(base, RunRecord.load(base), "ITA")
    code = recipe_main(["few_shot", "--demo", "--base", str(base), "--language", "ITA"])
    assert code == 2 and "was trained on ITA" in capsys.readouterr().err
    code = recipe_main(["few_shot", "--demo", "--base", str(tmp_path / "nope"), "--language", "POR"])
    assert code == 2 and "metrics.json not found" in capsys.readouterr().err
    code = recipe_main(["few_shot", "--demo", "--base", str(base)])
    assert code == 2 and "--language" in capsys.readouterr().err


def test_outputs_show_zero_shot_curve_and_a_missing_upper_bound(tmp_path):
    results = [
        {
            "k": k,
            "seed": s,
            "uar": 0.2 + 0.02 * k + 0.01 * s,
            "f1": 0.15 + 0.02 * k,
            "n_train": 6 * k,
            "steps": 30,
            "run": f"k{k}-seed{s}",
        }
        for k in (1, 5)
        for s in (0, 1)
    ]
    payload = {
        "language": "SPA",
        "base_run": "b",
        "base_train_languages": ["FRE"],
        "n_test": 54,
        "seeds": [0, 1],
        "results": results,
        "summary": summarise(results, {"uar": 0.18, "f1": 0.1}),
        "upper_bound": None,
        "upper_bound_note": "Upper bound not found: ...",
    }
    assert [r["k"] for r in payload["summary"]] == [0, 1, 5]
    assert payload["summary"][2]["uar"] == pytest.approx(30.5)
    md, csv_text = to_markdown(payload), to_csv(payload)
    assert "| 0 | zero-shot (base model) | 0 | 18.0 | 10.0 | 1 |" in md and "not found" in md
    assert csv_text.splitlines()[0].startswith("k,setting") and len(csv_text.splitlines()) == 5
    plot_few_shot(payload, tmp_path / "few_shot.png")
    assert_png_not_blank(tmp_path / "few_shot.png")


@pytest.mark.slow
def test_few_shot_on_a_demo_run(tmp_path_factory, hf_ser_cache, capsys):
    grid = train_tiny_grid(tmp_path_factory)  # FRE + ITA, so POR is unseen
    base = grid / "multi-neo_latin-seed0"
    argv = ["few_shot", "--demo", "--base", str(base), "--language", "POR", "--shots", "1", "2", "--seeds", "1"]
    assert recipe_main(argv) == 0
    out = grid / "few_shot-POR"
    payload = json.loads((out / "few_shot.json").read_text())
    assert [r["k"] for r in payload["summary"]] == [0, 1, 2] and payload["summary"][0]["label"].startswith("zero-shot")
    assert all(r["steps"] >= MIN_STEPS for r in payload["results"])
    assert payload["upper_bound"] is None and "not found" in (out / "few_shot.md").read_text()
    k2 = json.loads((out / "k2-seed0" / "metrics.json").read_text())
    assert k2["family"] == "few_shot" and k2["n_train"] == 12 and k2["eval_languages"] == ["POR"]
    assert set(k2["metrics"]) == {"POR", "all"} and (out / "k2-seed0" / "predictions.csv").is_file()
    assert (out / "few_shot.csv").is_file()
    assert_png_not_blank(out / "few_shot.png")
    stamp = os.stat(out / "k2-seed0" / "metrics.json").st_mtime_ns
    assert recipe_main(argv) == 0  # finished adaptations are reused
    assert os.stat(out / "k2-seed0" / "metrics.json").st_mtime_ns == stamp
