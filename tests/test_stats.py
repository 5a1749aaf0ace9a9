"""Bootstrap CIs, the paired margin test and Holm's correction: exact on fixed inputs, calibrated on simulated nulls."""

import numpy as np
import pytest

from hf_ser.metrics import macro_f1, uar, weighted_accuracy
from hf_ser.stats import bootstrap_ci, holm, paired_margin_test, resampled_metric


def simulate(rng, n=180, runs=6, shift=0.0, k=6):
    """Labels and `runs` prediction vectors; run 0 is `shift` more likely correct on every utterance.

    Utterance difficulty is shared by all runs (their errors correlate, as real models' do); with shift 0 the
    runs differ only by chance, like seeds of one configuration.
    """
    y = rng.integers(0, k, n)
    ease = rng.beta(2, 1.5, n)
    preds = []
    for r in range(runs):
        ok = rng.random(n) < np.clip(ease + (shift if r == 0 else 0.0), 0, 1)
        preds.append(np.where(ok, y, (y + rng.integers(1, k, n)) % k))
    return y, preds


def test_resampled_metric_equals_point_metrics_on_identity_resample():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 97), rng.integers(0, 6, 97)  # predictions of classes the labels lack
    idx = np.arange(97)[None, :]
    assert resampled_metric(y, p, idx, "uar", 6)[0] == pytest.approx(uar(y, p))
    assert resampled_metric(y, p, idx, "f1", 6)[0] == pytest.approx(macro_f1(y, p))
    assert resampled_metric(y, p, idx, "wa", 6)[0] == pytest.approx(weighted_accuracy(y, p))


def test_bootstrap_ci_brackets_the_value_and_widens_with_seeds():
    rng = np.random.default_rng(1)
    y, preds = simulate(rng, n=300, runs=3)
    one = bootstrap_ci([(y, preds[0])], n_resamples=500)
    assert one["low"] < one["value"] < one["high"] and one["n_seeds"] == 1
    assert 0.03 < one["high"] - one["low"] < 0.25  # ~±2 SE of a proportion at n=300
    three = bootstrap_ci([(y, p) for p in preds], n_resamples=500)
    assert three["n_seeds"] == 3 and three["low"] < three["value"] < three["high"]


def test_holm_matches_the_step_down_rule():
    adjusted, significant = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert significant == [True, False, False, True]
    assert holm([]) == ([], [])


def test_paired_test_needs_aligned_runs():
    with pytest.raises(ValueError):
        paired_margin_test([0, 1, 2], [[0, 1]], [[0, 1, 2]])


def test_paired_test_detects_a_planted_margin_in_all_ten_languages():
    rng = np.random.default_rng(2)
    ps = []
    for lang in range(10):
        y, preds = simulate(rng, n=180, shift=0.2)
        r = paired_margin_test(y, preds[:1], preds[1:], n_resamples=600, seed=lang)
        assert r["low"] > 0 and r["margin"] > 0.1
        ps.append(r["p"])
    assert all(holm(ps)[1])


def test_null_comparison_is_calibrated():
    """Runs that differ only by chance: about 5% of margins significant at 0.05, rarely more than one in ten.

    Measured with 1,500 simulated comparisons (n = 60/180/400, 400 resamples): 5.4% (normal-theory 5.7%).
    """
    rng = np.random.default_rng(3)
    p_values, families_with_two = [], 0
    for family in range(40):
        ps = []
        for lang in range(10):
            y, preds = simulate(rng, n=120)
            ps.append(paired_margin_test(y, preds[:1], preds[1:], n_resamples=300, seed=family * 10 + lang)["p"])
        p_values += ps
        families_with_two += sum(holm(ps)[1]) > 1
    rate = float(np.mean(np.asarray(p_values) < 0.05))
    assert 0.02 <= rate <= 0.09, rate  # 400 comparisons: SE of the rate ~0.011
    assert families_with_two <= 1


def test_pooled_margin_test_detects_a_small_shift_the_single_tests_miss():
    from hf_ser.stats import pooled_margin_test

    rng = np.random.default_rng(4)
    comparisons = []
    for _ in range(10):
        y, preds = simulate(rng, n=150, shift=0.06)
        comparisons.append((y, preds[:1], preds[1:]))
    pooled = pooled_margin_test(comparisons, n_resamples=600)
    assert pooled["p"] < 0.05 and pooled["low"] > 0 and pooled["n_languages"] == 10
    single = [paired_margin_test(*c, n_resamples=600, seed=i)["p"] for i, c in enumerate(comparisons)]
    assert sum(holm(single)[1]) < 10
