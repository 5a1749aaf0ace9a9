"""The experiment families plan the paper's grid: 23 runs, the cross-group runs, seeds."""

from hf_ser.experiments.families import plan_runs


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
