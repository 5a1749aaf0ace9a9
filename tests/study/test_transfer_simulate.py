"""study.transfer.simulate: the transfer model's calibration on simulated grids with the paper's real URIEL+
distances (family-wise false-positive rate with no distance effect, power at planted effects), and the simulator."""

from dataclasses import replace

import numpy as np
import pytest

from hf_ser.study.transfer.distances import paper_distances
from hf_ser.study.transfer.model import draw_permutations, fit_transfer, permutation_pvalues
from hf_ser.study.transfer.simulate import (
    TransferSpec,
    classical_mds,
    flag_rate,
    format_power_table,
    power_table,
    simulate_grid,
)

ALPHA = 0.05


def monte_carlo_bound(rate: float, n: int, z: float = 2.0) -> float:
    """`rate` plus z binomial standard errors at n grids: the tolerance of a simulated rate."""
    return rate + z * np.sqrt(rate * (1 - rate) / n)


@pytest.mark.slow
def test_with_no_distance_effect_the_family_wise_rate_is_at_most_five_percent():
    # strong source/target effects, 3 seeds of SD 3 points, a corpus effect correlated with genetic distance,
    # the acoustic control in the model, Holm over six distances: a flag is a false positive.
    result = flag_rate(TransferSpec(), n_grids=400, n_permutations=499, seed=11)
    print(f"\nfamily-wise false-positive rate: {result.any_rate:.1%} (SE {result.se:.1%}, {result.n_grids} grids)")
    assert result.any_rate <= monte_carlo_bound(ALPHA, 400)  # 5% + 2 SE = 7.2%
    assert result.planted_rate <= monte_carlo_bound(ALPHA, 400)


@pytest.mark.slow
def test_power_at_planted_genetic_effects_is_measured_and_printed():
    rows = power_table(TransferSpec(), effects=(0.0, 2.0, 4.0, 6.0), n_grids=150, seed=21)
    print("\n" + format_power_table(rows))
    by_effect = {r.effect: r for r in rows}
    assert by_effect[0.0].any_rate <= monte_carlo_bound(ALPHA, 150)
    assert by_effect[4.0].planted_rate >= 0.5 and by_effect[6.0].planted_rate >= 0.8
    assert by_effect[6.0].planted_rate > by_effect[2.0].planted_rate > by_effect[0.0].planted_rate


def test_a_simulated_grid_has_the_papers_distances_and_a_corpus_effect_correlated_with_language():
    ds = paper_distances()
    grid = simulate_grid(TransferSpec(), seed=0)
    assert grid.labels == ds.labels and grid.values.shape == (10, 10)
    assert np.isnan(np.diag(grid.values)).all() and np.isfinite(grid.values[~np.eye(10, dtype=bool)]).all()
    np.testing.assert_array_equal(grid.distances["genetic"], ds.matrices["genetic"])
    off = ~np.eye(10, dtype=bool)
    r = [
        np.corrcoef(simulate_grid(TransferSpec(), seed=s).acoustic[off], ds.matrices["genetic"][off])[0, 1]
        for s in range(40)
    ]
    assert np.mean(r) > 0.2  # related languages' corpora sound alike, on average
    strong = simulate_grid(replace(TransferSpec(), effect=20.0, seed_sd=0.1, pair_sd=0.1, corpus_effect=0.0), seed=1)
    fit = fit_transfer(strong.values, strong.labels, {"genetic": strong.distances["genetic"]}, n_permutations=199)
    assert fit.effect("genetic").beta < 0 and fit.effect("genetic").p < 0.05


def test_the_lean_p_values_equal_the_full_fits():
    grid = simulate_grid(replace(TransferSpec(), effect=3.0), seed=2)
    perms = draw_permutations(10, 199, seed=3)
    lean = permutation_pvalues(grid.values, grid.distances, {"acoustic": grid.acoustic}, perms)
    full = fit_transfer(grid.values, grid.labels, grid.distances, {"acoustic": grid.acoustic}, permutations=perms)
    assert lean == pytest.approx({e.name: e.p for e in full.effects if not e.control})


def test_classical_mds_recovers_a_euclidean_configuration():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(8, 2))
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    coords = classical_mds(d, 2)
    np.testing.assert_allclose(np.sqrt(((coords[:, None] - coords[None]) ** 2).sum(-1)), d, atol=1e-9)


def test_the_power_table_prints_one_row_per_effect():
    rows = power_table(TransferSpec(), effects=(0.0, 5.0), n_grids=4, n_permutations=99)
    text = format_power_table(rows)
    assert len(text.splitlines()) == 4 and "| 5 | genetic |" in text
