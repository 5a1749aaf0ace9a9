"""The transfer family: its runs (one source per language, or per corpus with --unit corpus, scored on every
language), its recipe, keys that leave every other run's identity as it was, and a source model reused."""

import pytest

from hf_ser.experiments.families import corpus_transfer_runs, plan_runs
from hf_ser.experiments.recipe.__main__ import main
from hf_ser.experiments.recipe.arguments import RecipeError
from hf_ser.experiments.recipe.parse import parse_recipe
from hf_ser.experiments.recipe.plan import run_config
from hf_ser.train.runs import RunRecord


def test_one_source_per_language_scored_on_every_language_with_seeds():
    runs = plan_runs("transfer", ["FRE", "ITA", "ENG"], seeds=2)
    assert [r.dirname for r in runs[:3]] == ["transfer-FRE-seed0", "transfer-ITA-seed0", "transfer-ENG-seed0"]
    assert all(r.eval_languages == ("FRE", "ITA", "ENG") and len(r.train_languages) == 1 for r in runs)
    assert {r.seed for r in runs} == {0, 1} and runs[0].family == "transfer"


def test_corpus_unit_gives_one_source_per_corpus_with_the_corpus_in_its_identity():
    runs = corpus_transfer_runs(plan_runs("transfer", ["FRE", "ENG"], seeds=2), {"FRE": ["CaFE", "Oreau"]})
    assert [r.dirname for r in runs] == ["transfer-CaFE-seed0", "transfer-Oreau-seed0"] + [
        "transfer-CaFE-seed1",
        "transfer-Oreau-seed1",
    ]
    assert runs[0].extra == {"train_corpus": "CaFE"} and runs[0].train_languages == ("FRE",)
    assert runs[0].to_dict()["name"] == "transfer-CaFE"


def test_the_recipe_parses_and_bad_units_are_one_line_errors():
    recipe = parse_recipe(["transfer", "--demo"])
    assert recipe.ser.experiment == "transfer" and recipe.ser.unit == "language"
    assert recipe.data.synthetic_per_cell == 30 and recipe.training.num_train_epochs == 8
    assert len(recipe.ser.languages) == len(recipe.data.synthetic_languages) == 17  # the demo speaks all 17
    ten = parse_recipe(["transfer", "--demo", "--languages", "FRE", "ITA", "ENG"])
    assert ten.data.synthetic_languages is None  # the paper's ten: the corpus (and runs) of every other demo grid
    assert parse_recipe(["transfer", "--languages", "DEU", "FRE"]).data.synthetic_languages is None  # real data
    assert parse_recipe(["transfer", "--unit", "corpus"]).ser.unit == "corpus"
    with pytest.raises(RecipeError, match="--unit must be"):
        parse_recipe(["transfer", "--unit", "speaker"])


def test_new_keys_leave_the_identity_of_other_runs_as_it_was():
    run = type("R", (), {"to_dict": lambda self: {}})()
    plain = run_config(run, parse_recipe(["single_language"]), {})
    assert "genetic_shift" not in plain["data"] and "unit" not in plain["ser"] and "source_runs" not in plain["ser"]
    shifted = run_config(run, parse_recipe(["single_language", "--genetic_shift", "1"]), {})
    assert shifted["data"]["genetic_shift"] == 1.0
    assert run_config(run, parse_recipe(["single_language", "--unit", "corpus"]), {}) == plain


@pytest.mark.slow  # 3 + 3 tiny demo runs: ~60 s on 2 idle cores, 130 s on busy ones
def test_demo_transfer_grid_reuses_finished_single_language_models(tmp_path, hf_ser_cache, capsys):
    """A single_language grid first; the transfer grid on the same data and options evaluates those models on
    every language instead of training again, and lists its runs as finished afterwards."""
    tiny = ["--demo", "--languages", "FRE", "ITA", "ENG", "--synthetic_per_cell", "3", "--num_train_epochs", "1"]
    single, out = tmp_path / "single", tmp_path / "transfer"
    assert main(["single_language", *tiny, "--output_dir", str(single)]) == 0
    assert main(["transfer", *tiny, "--output_dir", str(out), "--source_runs", str(single)]) == 0
    record = RunRecord.load(out / "transfer-ITA-seed0")
    assert record.family == "transfer" and set(record.metrics) == {"FRE", "ITA", "ENG", "all"}
    assert record.details["reused_from"].endswith("single-ITA-seed0") and record.train_seconds is None
    same = RunRecord.load(single / "single-ITA-seed0").metrics["ITA"]
    assert record.metrics["ITA"]["uar"] == same["uar"]  # the same model on the same test rows
    capsys.readouterr()
    assert main(["transfer", *tiny, "--output_dir", str(out), "--list_runs"]) == 0
    assert capsys.readouterr().out.count("finished") == 3
