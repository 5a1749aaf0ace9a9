"""--label_set end to end: a 4-class IEMOCAP model and an 8-class RAVDESS model trained (demo-tiny, 1 epoch) on
the fixture trees, their id2label, the label report in the record and data_report.json, and
pipeline("audio-classification") answering with the model's own labels."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from transformers import pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from emobox_fixtures import make_iemocap, make_ravdess  # noqa: E402

from hf_ser.experiments.families import plan_runs  # noqa: E402
from hf_ser.experiments.recipe.__main__ import main  # noqa: E402
from hf_ser.experiments.recipe.parse import parse_recipe  # noqa: E402
from hf_ser.experiments.recipe.plan import run_config  # noqa: E402

FOUR = ["anger", "happiness", "neutral", "sadness"]


def _train(tmp_path: Path, corpus: str, *label_set: str) -> Path:
    """One single_language ENG run on `corpus`'s fixture tree with `label_set`; returns the run folder."""
    out = tmp_path / "runs"
    argv = ["single_language", "--demo", "--corpora", corpus, "--data_root", str(tmp_path / "data")]
    argv += ["--languages", "ENG", "--num_train_epochs", "1", "--cache_dir", str(tmp_path / "cache")]
    argv += ["--output_dir", str(out), "--label_set", *label_set]
    assert main(argv) == 0
    return out / "single-ENG-seed0"


def test_iemocap_four_classes_train_with_excited_merged(tmp_path, capsys):
    make_iemocap(tmp_path / "data")
    run = _train(tmp_path, "iemocap", *FOUR)
    config = json.loads((run / "model" / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(4)] == FOUR
    record = json.loads((run / "metrics.json").read_text())
    assert record["confusion"]["labels"] == FOUR and len(record["confusion"]["matrix"]) == 4
    labels = record["label_set"]
    assert labels["classes"] == FOUR and labels["merged"] == {"iemocap": {"happiness": ["excited", "happy"]}}
    assert labels["dropped"] == {"iemocap": {"frustrated": 1, "no agreement": 1, "surprised": 1}}
    rows = {s: sum(n for c in labels[s]["iemocap"].values() for n in c.values()) for s in ("train", "test")}
    assert rows["train"] + rows["test"] == 9 and record["train_size"] == rows["train"]
    report = json.loads((tmp_path / "runs" / "data_report.json").read_text())["preparation"]["label_set"]
    assert report["classes"] == FOUR and report["merged"] == labels["merged"]
    header = (run / "predictions.csv").read_text().splitlines()[0]
    assert header.endswith(",".join(f"p_{c}" for c in FOUR))
    classify = pipeline("audio-classification", model=str(run / "model"), device="cpu")
    answer = classify(np.zeros(8000, dtype=np.float32), top_k=None)
    assert sorted(a["label"] for a in answer) == sorted(FOUR)


def test_ravdess_native_trains_an_eight_class_model(tmp_path):
    make_ravdess(tmp_path / "data")
    run = _train(tmp_path, "ravdess", "native")
    config = json.loads((run / "model" / "config.json").read_text())
    assert len(config["id2label"]) == 8 and "calm" in config["label2id"] and "surprised" in config["label2id"]
    record = json.loads((run / "metrics.json").read_text())
    assert len(record["confusion"]["matrix"]) == 8 and record["label_set"]["label_set"] == "native"


def test_native_with_several_corpora_names_the_flag(tmp_path, capsys):
    make_iemocap(tmp_path / "data")
    make_ravdess(tmp_path / "data")
    argv = ["single_language", "--demo", "--corpora", "iemocap", "ravdess", "--data_root", str(tmp_path / "data")]
    argv += ["--languages", "ENG", "--cache_dir", str(tmp_path / "cache"), "--output_dir", str(tmp_path / "o")]
    assert main([*argv, "--label_set", "native"]) == 2
    assert "--label_set native takes one corpus's own classes" in capsys.readouterr().err


def test_unknown_class_lists_the_valid_ones(capsys):
    assert main(["single_language", "--demo", "--label_set", "anger", "joy"]) == 2
    err = capsys.readouterr().err
    assert "--label_set: unknown class 'joy'; give 'paper', 'native' or names from: anger disgust" in err


@pytest.mark.parametrize("extra", [[], ["--label_set", "paper"], ["--label_set", "Paper"]])
def test_paper_keeps_the_run_hash_it_had(extra):
    """The default label set leaves a run's config (and so its hash and folder reuse) as before the key existed."""
    recipe = parse_recipe(["single_language", "--demo", *extra])
    assert recipe.data.label_set == ["paper"]
    run = plan_runs("single_language", ["FRE"], None, 1)[0]
    assert "label_set" not in run_config(run, recipe, {})["data"]
