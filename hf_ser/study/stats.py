"""Uncertainty for the tables and the Section 4.3 claim: which trained configuration transfers best, and how sure.

The unit of replication of the lineage claim is the **trained configuration** (with its seeds), not the test
utterance: two trainings of one configuration differ by a few UAR points, and a test that resamples only
utterances asks whether *these particular networks* differ, not whether lineage matters. So:

- :func:`lineage_rank_test` — the headline test. For each held-out language the own-group configuration is
  ranked among the configurations that evaluated it (about 6: itself and the other group's 5). Under the null
  "lineage does not matter" (the configurations' UARs on that language are exchangeable) its rank is uniform,
  whatever the size of the chance differences between trainings. The statistic is the sum of the ranks over the
  held-out languages, with its exact distribution (independent uniform ranks). Each configuration-pair is
  compared twice in a full cross-group grid (once on each one's held-out language), so a configuration that is
  simply better everywhere cancels out of the sum: shared configuration quality makes the test conservative,
  never liberal (checked by simulation, :mod:`hf_ser.study.lineage_sim`). :func:`best_count_p` gives the paper's own
  statistic, "own group best for k of n", its exact p-value under the same rank null.
- :func:`hierarchical_margin_ci` — the CI of one language's own-group margin (own configuration minus the mean
  of the other-group configurations, each configuration first averaged over its seeds): each resample draws
  one set of test-utterance indices for every run, seeds within each configuration, and the other-group
  configurations (the own configuration gets a configuration-level deviation drawn from their spread).
- :func:`paired_margin_test` — the utterance-only paired bootstrap. It is **conditional on these trained
  networks** (they are held fixed); the report prints it labelled so and never calls it significant.
- :func:`bootstrap_ci` — a cell's CI that covers with any number of seeds or folds: one utterance resample
  shared by the seeds that predicted the same test set, plus a seed-level stage for the variance between
  trainings beyond what the utterances explain.
- :func:`holm` — Holm's step-down correction over a family of p-values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hf_ser.metrics import macro_f1, uar, weighted_accuracy

DEFAULT_RESAMPLES = 2000
ALPHA = 0.05


def _confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """(B, k, k) confusion counts of the resamples ``idx`` (B x n indices) in one vectorised bincount."""
    b = idx.shape[0]
    cells = y_true[idx] * k + y_pred[idx]  # B x n
    offsets = (np.arange(b) * k * k)[:, None]
    return np.bincount((cells + offsets).ravel(), minlength=b * k * k).reshape(b, k, k)


def _uar_from_counts(counts: np.ndarray) -> np.ndarray:
    """UAR of each confusion matrix in ``counts`` (B, k, k), over the classes present in that resample."""
    support = counts.sum(axis=2)
    diag = np.diagonal(counts, axis1=1, axis2=2)
    present = support > 0
    recall = np.where(present, diag / np.maximum(support, 1), 0.0)
    return recall.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _f1_from_counts(counts: np.ndarray) -> np.ndarray:
    """Macro-F1 over the classes present in each resample's references (as :func:`hf_ser.metrics.macro_f1`)."""
    support = counts.sum(axis=2)
    predicted = counts.sum(axis=1)
    tp = np.diagonal(counts, axis1=1, axis2=2)
    denom = support + predicted
    present = support > 0
    f1 = np.where(present & (denom > 0), 2 * tp / np.maximum(denom, 1), 0.0)
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _wa_from_counts(counts: np.ndarray) -> np.ndarray:
    """Accuracy of each confusion matrix in ``counts``."""
    return np.diagonal(counts, axis1=1, axis2=2).sum(axis=1) / np.maximum(counts.sum(axis=(1, 2)), 1)


FROM_COUNTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "uar": _uar_from_counts,
    "f1": _f1_from_counts,
    "wa": _wa_from_counts,
}
POINT: dict[str, Callable] = {"uar": uar, "f1": macro_f1, "wa": weighted_accuracy}  # hf_ser.metrics' definitions


def point_metric(y_true: np.ndarray, y_pred: np.ndarray, metric: str = "uar", num_classes: int | None = None) -> float:
    """The metric of one set of predictions through the counting path (equal to :data:`POINT`'s, tested).

    scikit-learn's argument validation costs about 10 ms a call, which made a report's 60 cells x seeds x 3
    metrics take seconds; counting is microseconds.
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if not len(y_true):
        return float("nan")
    return float(resampled_metric(y_true, y_pred, np.arange(len(y_true))[None, :], metric, num_classes)[0])


def resampled_metric(
    y_true: np.ndarray, y_pred: np.ndarray, idx: np.ndarray, metric: str = "uar", num_classes: int | None = None
) -> np.ndarray:
    """The metric on each row of resample indices ``idx`` (B x n) of one set of predictions; shape (B,)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    k = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    out = np.empty(idx.shape[0])
    step = max(1, 2_000_000 // max(idx.shape[1], 1))  # bounds memory to ~2M indices per chunk
    for s in range(0, idx.shape[0], step):
        out[s : s + step] = FROM_COUNTS[metric](_confusion_counts(y_true, y_pred, idx[s : s + step], k))
    return out


def _as_runs(runs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(y_true, y_pred)`` pairs as int64 arrays."""
    return [(np.asarray(t, dtype=np.int64), np.asarray(p, dtype=np.int64)) for t, p in runs]


def _same_test_set(prepared: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether every run scored the same labels in the same order (seeds of one test set, not k-fold folds)."""
    first = prepared[0][0]
    return all(len(t) == len(first) and np.array_equal(t, first) for t, _ in prepared[1:])


def bootstrap_ci(
    runs: Sequence[tuple[Sequence[int], Sequence[int]]],
    metric: str = "uar",
    n_resamples: int = DEFAULT_RESAMPLES,
    alpha: float = ALPHA,
    seed: int = 0,
    shared_utterances: bool | None = None,
) -> dict:
    """Point estimate (mean over seeds or folds) and percentile CI of a metric, in fractions.

    `runs` holds one ``(y_true, y_pred)`` per seed (or fold). Two stages:

    - utterances: when the runs scored the same test set (`shared_utterances`; by default, when their labels
      are identical), each resample draws **one** set of utterance indices and applies it to every run, because
      every seed fails on the same hard utterances; k-fold folds (different test sets) are resampled
      independently. Drawing each seed's utterances independently made the CI too narrow with shared
      difficulty (coverage 80% at 5 seeds, 68% at 10) and too wide with independent errors (99.7%).
    - seeds: the variance between trainings that the utterances do not explain, ``max(0, var(seed values) -
      mean within-seed resampling variance)``, enters as a Student-t draw with ``seeds - 1`` degrees of
      freedom (the variance is estimated from few seeds). Resampling the seeds themselves would count the
      utterance noise twice.

    Coverage of the nominal 95% is checked by simulation in ``tests/study/test_stats.py`` (1, 3, 5 and 10 seeds,
    shared and independent errors). Returns {'value', 'low', 'high', 'n', 'n_seeds', 'level'}.
    """
    if not runs:
        raise ValueError("bootstrap_ci needs at least one run")
    rng = np.random.default_rng(seed)
    prepared = _as_runs(runs)
    if any(not len(t) for t, _ in prepared):
        raise ValueError("bootstrap_ci needs at least one test utterance per run")
    k = int(max(max(t.max(initial=0), p.max(initial=0)) for t, p in prepared) + 1)
    points = np.array([point_metric(t, p, metric, k) for t, p in prepared])
    s = len(prepared)
    shared = _same_test_set(prepared) if shared_utterances is None else shared_utterances
    per_seed = np.empty((s, n_resamples))
    idx = rng.integers(0, len(prepared[0][0]), size=(n_resamples, len(prepared[0][0]))) if shared else None
    for j, (t, p) in enumerate(prepared):
        draw = idx if shared else rng.integers(0, len(t), size=(n_resamples, len(t)))
        per_seed[j] = resampled_metric(t, p, draw, metric, k)
    stats = per_seed.mean(axis=0)
    if s > 1:
        within = float(np.mean(np.var(per_seed - stats, axis=1, ddof=1))) * s / (s - 1)
        between = max(0.0, float(np.var(points, ddof=1)) - within)
        stats = stats + np.sqrt(between / s) * rng.standard_t(s - 1, size=n_resamples)
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return {
        "value": float(points.mean()),
        "low": float(low),
        "high": float(high),
        "n": len(prepared[0][0]),
        "n_seeds": s,
        "level": 1 - alpha,
    }


def _config_resamples(
    y: np.ndarray, configs: list[list[np.ndarray]], idx: np.ndarray, metric: str, k: int, rng: np.random.Generator
) -> np.ndarray:
    """(configs, B): each configuration's metric on the utterance resamples `idx`, its seeds resampled."""
    out = np.empty((len(configs), idx.shape[0]))
    for c, seeds in enumerate(configs):
        per_seed = np.stack([resampled_metric(y, p, idx, metric, k) for p in seeds])  # (S, B)
        if len(seeds) > 1:
            drawn = rng.integers(0, len(seeds), size=(len(seeds), idx.shape[0]))
            per_seed = np.take_along_axis(per_seed, drawn, axis=0)
        out[c] = per_seed.mean(axis=0)
    return out


def _check_configs(y: np.ndarray, own: Sequence, other: Sequence) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Own seeds and other configurations' seeds as int arrays, each aligned with `y` (ValueError otherwise)."""
    own_p = [np.asarray(p, dtype=np.int64) for p in own]
    other_p = [[np.asarray(p, dtype=np.int64) for p in seeds] for seeds in other]
    if not own_p or not other_p or any(not seeds for seeds in other_p):
        raise ValueError("a margin needs at least one own-group run and one run of each other-group configuration")
    if any(len(p) != len(y) for p in (*own_p, *(p for seeds in other_p for p in seeds))):
        raise ValueError("every run's predictions must be aligned with y_true (same utterances, same order)")
    return own_p, other_p


def config_margin(y_true: Sequence[int], own: Sequence, other: Sequence, metric: str = "uar") -> float:
    """The own-group margin, the one definition used everywhere (fractions).

    The own configuration's metric (mean over its seeds) minus the mean over the other-group configurations of
    each one's metric (mean over its seeds): every configuration weighs the same, whatever its seed count.
    `own` holds the own configuration's per-seed predictions; `other` one list of per-seed predictions per
    configuration.
    """
    y = np.asarray(y_true, dtype=np.int64)
    own_p, other_p = _check_configs(y, own, other)
    own_v = np.mean([point_metric(y, p, metric) for p in own_p])
    return float(own_v - np.mean([np.mean([point_metric(y, p, metric) for p in seeds]) for seeds in other_p]))


def hierarchical_margin_ci(
    y_true: Sequence[int],
    own: Sequence[Sequence[int]],
    other: Sequence[Sequence[Sequence[int]]],
    metric: str = "uar",
    n_resamples: int = DEFAULT_RESAMPLES,
    alpha: float = ALPHA,
    seed: int = 0,
) -> dict:
    """The own-group margin (:func:`config_margin`) with a hierarchical bootstrap CI, in fractions.

    Each resample draws one set of utterance indices for every run (all runs predicted the same utterances),
    seeds with replacement within each configuration, and the other-group configurations with replacement;
    the own configuration, which has no replicate, gets a configuration-level deviation drawn from the other
    configurations' spread on that resample (scaled by sqrt(m/(m-1)) for the m configurations' own mean).
    Conservative: on 300 simulated null languages (six configurations 3.5 points SD apart, 2 seeds of SD 1.2,
    300 utterances) it covered the true margin 98% of the time at a mean width of 21.8 points; with five other
    configurations an honest interval is wide.
    Returns {'margin', 'low', 'high', 'se', 'n', 'n_own', 'n_other', 'draws'} ('draws': the B resampled margins).
    """
    y = np.asarray(y_true, dtype=np.int64)
    own_p, other_p = _check_configs(y, own, other)
    k = int(max(y.max(initial=0), *(p.max(initial=0) for p in (*own_p, *(q for s in other_p for q in s)))) + 1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_resamples, len(y)))
    own_b = _config_resamples(y, [own_p], idx, metric, k, rng)[0]
    other_b = _config_resamples(y, other_p, idx, metric, k, rng)  # (m, B)
    m = len(other_p)
    cols = np.arange(n_resamples)
    if m > 1:
        drawn = rng.integers(0, m, size=(m, n_resamples))
        other_mean = other_b[drawn, cols].mean(axis=0)
        deviation = (other_b[rng.integers(0, m, n_resamples), cols] - other_b.mean(axis=0)) * np.sqrt(m / (m - 1))
        own_b = own_b + deviation
    else:
        other_mean = other_b[0]
    boot = own_b - other_mean
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return {
        "margin": config_margin(y, own_p, other_p, metric),
        "low": float(low),
        "high": float(high),
        "se": float(boot.std(ddof=1)),
        "n": len(y),
        "n_own": len(own_p),
        "n_other": m,
        "draws": boot,
    }


def paired_margin_test(
    y_true: Sequence[int],
    own: Sequence[Sequence[int]],
    other: Sequence[Sequence[Sequence[int]]],
    metric: str = "uar",
    n_resamples: int = DEFAULT_RESAMPLES,
    alpha: float = ALPHA,
    seed: int = 0,
) -> dict:
    """Utterance-only paired bootstrap of the own-group margin: **conditional on these trained networks**.

    `own` holds the own configuration's per-seed predictions, `other` one list of per-seed predictions per
    other-group configuration (the margin is :func:`config_margin`). Each resample draws one set of utterance
    indices and applies it to every run; the networks are held fixed. Its null is "these particular networks
    are equally accurate on this language's utterance population", not "lineage does not matter": two
    trainings of one configuration differ by a few points, and that spread is not in this test (with no
    lineage effect it rejects far more often than 5%). The p-value is two-sided on the centred bootstrap
    distribution (Hall & Wilson 1991), +1 smoothed. Returns fractions:
    {'margin', 'low', 'high', 'p', 'se', 'n', 'n_own', 'n_other'}.
    """
    y = np.asarray(y_true, dtype=np.int64)
    own_p, other_p = _check_configs(y, own, other)
    k = int(max(y.max(initial=0), *(p.max(initial=0) for p in (*own_p, *(q for s in other_p for q in s)))) + 1)
    point = config_margin(y, own_p, other_p, metric)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_resamples, len(y)))
    own_b = np.mean([resampled_metric(y, p, idx, metric, k) for p in own_p], axis=0)
    other_b = np.mean(
        [np.mean([resampled_metric(y, p, idx, metric, k) for p in seeds], axis=0) for seeds in other_p], axis=0
    )
    boot = own_b - other_b
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    p = (1 + np.sum(np.abs(boot - point) >= abs(point))) / (n_resamples + 1)
    return {
        "margin": point,
        "low": float(low),
        "high": float(high),
        "p": float(p),
        "se": float(boot.std(ddof=1)),
        "n": len(y),
        "n_own": len(own_p),
        "n_other": len(other_p),
    }


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> tuple[list[float], list[bool]]:
    """Holm's step-down correction: (adjusted p-values, significant at `alpha`), in the input order.

    Controls the family-wise error rate over all the comparisons (the ten held-out languages) without
    assuming independence; uniformly more powerful than Bonferroni.
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return [], []
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted.tolist(), (adjusted <= alpha).tolist()


# ----------------------------------------------------------------------------- the configuration-level test

RANK_NULL = (
    "lineage does not matter: on each held-out language the configurations that evaluated it are exchangeable, "
    "so the own-group configuration's rank among them is uniform (chance differences between trainings included)"
)
BEST_COUNT_NULL = (
    "rank null with independent languages: the own-group configuration is best on each held-out language with "
    "probability 1/(configurations compared), independently of the other languages"
)
CONDITIONAL_NULL = (
    "conditional on these trained networks: these particular networks are equally accurate on the language's "
    "utterances (trainings held fixed; not a test of lineage)"
)


def own_rank(own: float, others: Sequence[float]) -> int:
    """Rank of the own configuration among itself and `others` (1 = best); ties count against it (conservative)."""
    return 1 + int(np.sum(np.asarray(others, dtype=float) >= own))


def rank_sum_cdf(sizes: Sequence[int]) -> np.ndarray:
    """Exact CDF of a sum of independent uniform ranks on {1..m} for each m in `sizes`: ``cdf[s - len(sizes)]``."""
    dist = np.array([1.0])
    for m in sizes:
        dist = np.convolve(dist, np.full(int(m), 1.0 / int(m)))
    return np.minimum(np.cumsum(dist), 1.0)


def rank_sum_p(ranks: Sequence[int], sizes: Sequence[int]) -> float:
    """One-sided exact p-value P(S <= sum(ranks)) of the summed own-group ranks under the rank null."""
    if len(ranks) != len(sizes) or not len(ranks):
        raise ValueError("rank_sum_p needs one rank per language and as many sizes")
    return float(rank_sum_cdf(sizes)[int(np.sum(ranks)) - len(sizes)])


def best_count_p(k: int, sizes: Sequence[int]) -> float:
    """Exact P(K >= k) where K counts languages whose own configuration ranks first (the paper's "k of n").

    Under the rank null language L's own configuration is best with probability 1/m_L; K is their
    Poisson-binomial sum (binomial(n, 1/6) in the paper's grid: 4 of 5 gives p = 0.0033).
    """
    dist = np.array([1.0])
    for m in sizes:
        dist = np.convolve(dist, [1.0 - 1.0 / m, 1.0 / m])
    return float(min(1.0, dist[int(k) :].sum()))


def lineage_rank_test(own: Sequence[float], others: Sequence[Sequence[float]], alpha: float = ALPHA) -> dict:
    """The configuration-level lineage test over several held-out languages (one-sided: own group better).

    `own[L]` is the own-group configuration's score on held-out language L (mean over its seeds) and
    `others[L]` the scores of the other configurations that evaluated L. Returns {'ranks', 'sizes',
    'rank_sum', 'p', 'significant', 'best_count', 'p_best_count', 'n_languages', 'null'}; `p` is the exact
    one-sided p of the rank sum under :data:`RANK_NULL`.
    """
    if not len(own) or len(own) != len(others):
        raise ValueError("lineage_rank_test needs one own score and one list of other scores per language")
    ranks = [own_rank(o, rest) for o, rest in zip(own, others)]
    sizes = [len(rest) + 1 for rest in others]
    p = rank_sum_p(ranks, sizes)
    best = sum(r == 1 for r in ranks)
    return {
        "ranks": ranks,
        "sizes": sizes,
        "rank_sum": int(sum(ranks)),
        "p": p,
        "significant": bool(p <= alpha),
        "best_count": best,
        "p_best_count": best_count_p(best, sizes),
        "n_languages": len(ranks),
        "null": RANK_NULL,
    }
