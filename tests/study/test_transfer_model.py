"""study.transfer.model: the transfer regression, MRQAP and Mantel permutation p-values against direct and exact
references, Holm against hand-computed values, missing cells and hostile grids."""

import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from hf_ser.errors import UserError
from hf_ser.study.stats import holm
from hf_ser.study.transfer.model import (
    draw_permutations,
    fit_json,
    fit_transfer,
    fixed_effects_design,
    jackknife_ci,
)

LABELS6 = tuple("ABCDEF")


def sym(rng, n):
    """A random symmetric distance matrix with a zero diagonal."""
    m = rng.random((n, n))
    m = (m + m.T) / 2
    np.fill_diagonal(m, 0.0)
    return m


def grid(rng, n, beta=0.0, d=None, noise=2.0):
    """A transfer matrix with strong source and target effects, `beta` times `d`, and cell noise."""
    d = sym(rng, n) if d is None else d
    t = 50 + rng.normal(0, 6, (n, 1)) + rng.normal(0, 8, (1, n)) + beta * d + rng.normal(0, noise, (n, n))
    return t, d


def off_diagonal(m):
    """The off-diagonal cells in row-major order (the model's cell order when nothing is missing)."""
    return m[~np.eye(len(m), dtype=bool)]


def test_mantel_r_and_partial_mantel_r_equal_a_direct_computation_on_fixed_matrices():
    rng = np.random.default_rng(3)
    t, d = grid(rng, 7, beta=-8.0)
    control = sym(rng, 7)
    fit = fit_transfer(t, tuple("ABCDEFG"), {"d": d}, {"acoustic": control}, n_permutations=99)
    y, x, c = off_diagonal(t), off_diagonal(d), off_diagonal(control)
    assert fit.effect("d").mantel_r == pytest.approx(np.corrcoef(y, x)[0, 1], abs=1e-12)
    ry = y - np.polyval(np.polyfit(c, y, 1), c)
    rx = x - np.polyval(np.polyfit(c, x, 1), c)
    assert fit.effect("d").partial_mantel_r == pytest.approx(np.corrcoef(ry, rx)[0, 1], abs=1e-12)
    # the textbook partial correlation from the three pairwise r's
    r_yx, r_yc, r_xc = np.corrcoef(y, x)[0, 1], np.corrcoef(y, c)[0, 1], np.corrcoef(x, c)[0, 1]
    textbook = (r_yx - r_yc * r_xc) / np.sqrt((1 - r_yc**2) * (1 - r_xc**2))
    assert fit.effect("d").partial_mantel_r == pytest.approx(textbook, abs=1e-12)
    assert fit.effect("acoustic").control and fit.effect("acoustic").p_holm is None


def test_beta_t_and_fixed_effects_are_the_least_squares_fit():
    rng = np.random.default_rng(4)
    t, d = grid(rng, 6, beta=-10.0, noise=0.5)
    fit = fit_transfer(t, LABELS6, {"d": d}, n_permutations=99)
    rows, cols = np.nonzero(~np.eye(6, dtype=bool))
    x = np.hstack([fixed_effects_design(rows, cols, 6), off_diagonal(d)[:, None]])
    y = off_diagonal(t)
    coef, rss, *_ = np.linalg.lstsq(x, y, rcond=None)
    df = len(y) - x.shape[1]
    se = np.sqrt(rss[0] / df * np.linalg.inv(x.T @ x)[-1, -1])
    e = fit.effect("d")
    assert e.beta == pytest.approx(coef[-1]) and e.t == pytest.approx(coef[-1] / se)
    assert abs(e.beta + 10.0) < 1.5  # the planted effect is recovered
    assert fit.target_effects.sum() == pytest.approx(0.0, abs=1e-9)  # sum-to-zero targets
    predicted = fit.source_effects[rows] + fit.target_effects[cols] + e.beta * off_diagonal(d)
    np.testing.assert_allclose(predicted, x @ coef)
    assert e.std_beta == pytest.approx(e.beta * off_diagonal(d).std() / y.std())
    assert e.std_beta_low < e.std_beta < e.std_beta_high and len(fit.jackknife) == 6
    assert 0 < e.partial_r2 <= 1 and 0 < e.unique_r2 <= e.partial_r2


def test_permutation_p_values_are_within_monte_carlo_error_of_the_exact_ones():
    rng = np.random.default_rng(5)
    t, d = grid(rng, 6, beta=-6.0, noise=3.0)
    other = sym(rng, 6)
    every = np.array(list(itertools.permutations(range(6))))  # all 720 relabellings: the exact distribution
    exact = fit_transfer(t, LABELS6, {"d": d, "other": other}, permutations=every)
    sampled = fit_transfer(t, LABELS6, {"d": d, "other": other}, n_permutations=9_999, seed=1)
    for name in ("d", "other"):
        for attr in ("p", "mantel_p"):
            p_exact = getattr(exact.effect(name), attr)
            p_mc = getattr(sampled.effect(name), attr)
            tolerance = 4 * np.sqrt(p_exact * (1 - p_exact) / 9_999) + 2 / 720  # 4 MC SE + the identity's weight
            assert abs(p_mc - p_exact) <= tolerance, (name, attr, p_mc, p_exact)
    assert exact.effect("d").p < 0.05  # the planted distance is found


def test_holm_equals_hand_computed_step_down_values():
    # p sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> running max 0.06
    adjusted, significant = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert significant == [True, False, False, True]
    rng = np.random.default_rng(6)
    t, d = grid(rng, 6, beta=-8.0)
    fit = fit_transfer(t, LABELS6, {"d": d, "e": sym(rng, 6), "f": sym(rng, 6)}, n_permutations=499)
    p = np.array([e.p for e in fit.effects])
    order = np.argsort(p)
    by_hand = np.maximum.accumulate(np.minimum(1, p[order] * np.array([3, 2, 1])))
    assert [fit.effects[i].p_holm for i in order] == pytest.approx(by_hand.tolist())


def test_missing_cells_are_left_out_and_an_empty_language_is_dropped():
    rng = np.random.default_rng(7)
    t, d = grid(rng, 6, beta=-5.0)
    t[0, 3] = t[2, 1] = np.nan
    fit = fit_transfer(t, LABELS6, {"d": d}, n_permutations=99)
    assert fit.missing_pairs == (("A", "D"), ("C", "B")) and fit.n_cells == 28
    t[5, :] = t[:, 5] = np.nan  # F has no run at all
    fit = fit_transfer(t, LABELS6, {"d": d}, n_permutations=99)
    assert fit.dropped_languages == ("F",) and fit.labels == LABELS6[:5] and fit.n_cells == 18


def test_a_distance_absorbed_by_the_source_and_target_effects_is_dropped_with_its_reason():
    rng = np.random.default_rng(8)
    t, d = grid(rng, 5)
    constant = np.ones((5, 5)) - np.eye(5)
    fit = fit_transfer(t, tuple("ABCDE"), {"d": d, "same_group": constant, "twice": 2 * d}, n_permutations=99)
    assert fit.names == ("d",)
    assert fit.dropped_distances[0][0] == "same_group" and "source and target" in fit.dropped_distances[0][1]
    assert fit.dropped_distances[1] == ("twice", "collinear with d given those effects")


@pytest.mark.parametrize("n", [1, 2])
def test_a_grid_with_too_few_languages_is_a_one_line_error(n):
    with pytest.raises(UserError, match="at least 3 languages") as err:
        fit_transfer(np.ones((n, n)), tuple("ABC")[:n], {"d": np.zeros((n, n))})
    assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="cannot fit|no distance left"):
        fit_transfer(np.random.default_rng(0).random((3, 3)), tuple("ABC"), {"d": sym(np.random.default_rng(1), 3)})


def test_permutations_and_jackknife_helpers():
    perms = draw_permutations(10, 500, seed=0)
    assert perms.shape == (500, 10) and (np.sort(perms, axis=1) == np.arange(10)).all()
    low, high, se = jackknife_ci(1.0, [0.9, 1.1, 1.0, 1.2])
    assert se == pytest.approx(np.sqrt(3 / 4 * np.sum((np.array([0.9, 1.1, 1.0, 1.2]) - 1.05) ** 2)))
    assert low < 1.0 < high
    assert np.isnan(jackknife_ci(1.0, [1.0])[0])


def test_the_permutation_benchmark_runs_and_ends_with_its_json_line(capsys):
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "transfer_perm.py"
    spec = importlib.util.spec_from_file_location("transfer_perm", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    returned = module.main(["--quick"])  # 999 permutations: checks the script, times nothing
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == returned and printed["benchmark"] == "transfer_perm" and printed["permutations"] == 999


def test_the_fit_as_json_holds_every_number_and_no_nan():
    rng = np.random.default_rng(9)
    t, d = grid(rng, 6, beta=-5.0)
    t[1, 2] = np.nan
    payload = json.loads(json.dumps(fit_json(fit_transfer(t, LABELS6, {"d": d}, n_permutations=99)), allow_nan=False))
    assert payload["matrix"][1][2] is None and payload["matrix"][0][0] is None
    assert payload["missing_pairs"] == [["B", "C"]] and payload["effects"][0]["name"] == "d"
    assert {"beta", "std_beta", "std_beta_low", "mantel_r", "p", "p_holm"} <= set(payload["effects"][0])
