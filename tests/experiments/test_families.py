"""The experiment families plan the paper's grid: 23 runs, the cross-group runs, seeds."""

from hf_ser.experiments.families import named_group_languages, plan_runs
from hf_ser.experiments.recipe.parse import parse_recipe
from hf_ser.experiments.recipe.plan import run_languages


def test_paper_grid_has_23_runs():
    from hf_ser.labels import study_languages

    runs = plan_runs("paper", study_languages())  # what the paper recipe plans (labels.groups())
    assert len(runs) == 23
    xg = [r for r in runs if r.family == "cross_group"]
    assert len(xg) == 10
    r = next(r for r in xg if r.heldout_language == "FRE")
    assert r.train_languages == ("ITA", "POR", "ROM", "SPA")
    assert r.eval_languages == ("FRE", "ARA", "BEN", "CHI", "ENG", "RUS")
    assert len(plan_runs("single_language", ["FRE", "ITA"], seeds=3)) == 6


def test_a_grid_over_lineages_leaves_one_out_per_lineage_and_tests_the_other():
    runs = plan_runs("cross_group", ["ENG", "RUS", "DEU", "POL"], ["Germanic", "slavic"])
    assert [(r.name, r.train_languages, r.eval_languages) for r in runs] == [
        ("xgroup-germanic-minus-ENG", ("DEU",), ("ENG", "RUS", "POL")),
        ("xgroup-germanic-minus-DEU", ("ENG",), ("DEU", "RUS", "POL")),
        ("xgroup-slavic-minus-RUS", ("POL",), ("RUS", "ENG", "DEU")),
        ("xgroup-slavic-minus-POL", ("RUS",), ("POL", "ENG", "DEU")),
    ]
    assert named_group_languages("cross_group", ["germanic", "slavic"]) == ["ENG", "DEU", "RUS", "POL"]
    assert named_group_languages("cross_group", ["neo_latin"]) is None  # paper groups: the whole split, as before
    one = plan_runs("cross_group", ["FRE", "ITA", "ENG", "RUS"], ["neo_latin"])
    assert one[0].eval_languages == ("FRE", "ENG", "RUS")  # held out against the other paper group, as before


def test_the_germanic_slavic_recipe_plans_four_runs_on_a_demo_corpus_with_deu_and_pol():
    recipe = parse_recipe(["germanic_slavic", "--demo"])
    assert run_languages(recipe.ser) == ["ENG", "DEU", "RUS", "POL"]
    assert recipe.data.synthetic_languages[-2:] == ["DEU", "POL"] and len(recipe.data.synthetic_languages) == 12
    assert parse_recipe(["cross_group", "--demo"]).data.synthetic_languages is None  # the paper's demo corpus
