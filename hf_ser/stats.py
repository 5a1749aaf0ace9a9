"""Uncertainty for the tables and the Section 4.3 claim: bootstrap CIs, paired bootstrap tests, Holm correction.

- :func:`bootstrap_ci` — a percentile CI of UAR/F1/WA over test utterances, resampled within each seed's
  predictions, and over seeds when there are several (two-level bootstrap: draw seeds with replacement,
  then utterances within each drawn seed; the statistic is the mean over the drawn seeds).
- :func:`paired_margin_test` — the own-group margin (own-group UAR minus the mean UAR of the other-group
  runs) on one held-out language's test set, with a paired bootstrap CI and a p-value: every run compared
  predicted the *same* utterances, so one resample of utterance indices is applied to all of them jointly
  (the correlation between runs then cancels in the margin instead of inflating its variance).
- :func:`holm` — Holm's step-down correction over a family of p-values (the ten held-out languages).

The p-value is the bootstrap's two-sided one, computed on the centred distribution (Hall & Wilson 1991):
``p = P(|m* - m| >= |m|)``, with +1 smoothing so it is never 0. ``tests/test_stats.py`` checks calibration
on simulated predictions: with no planted difference about 5% of margins are significant at 0.05.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .metrics import macro_f1, uar, weighted_accuracy

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
POINT: dict[str, Callable] = {"uar": uar, "f1": macro_f1, "wa": weighted_accuracy}


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


def bootstrap_ci(
    runs: Sequence[tuple[Sequence[int], Sequence[int]]],
    metric: str = "uar",
    n_resamples: int = DEFAULT_RESAMPLES,
    alpha: float = ALPHA,
    seed: int = 0,
) -> dict:
    """Point estimate (mean over seeds) and percentile CI of a metric, in fractions.

    `runs` holds one ``(y_true, y_pred)`` per seed. With one seed the CI reflects the test utterances only;
    with several, each resample draws seeds with replacement and then utterances within each drawn seed,
    so the CI covers both sources of variation. Returns {'value', 'low', 'high', 'n', 'n_seeds', 'level'}.
    """
    if not runs:
        raise ValueError("bootstrap_ci needs at least one run")
    rng = np.random.default_rng(seed)
    prepared = [(np.asarray(t, dtype=np.int64), np.asarray(p, dtype=np.int64)) for t, p in runs]
    k = int(max(max(t.max(initial=0), p.max(initial=0)) for t, p in prepared) + 1)
    value = float(np.mean([POINT[metric](t, p) for t, p in prepared]))
    s = len(prepared)
    seed_draws = rng.integers(0, s, size=(n_resamples, s)) if s > 1 else np.zeros((n_resamples, 1), dtype=int)
    per_seed = np.empty((s, n_resamples))
    for j, (t, p) in enumerate(prepared):
        idx = rng.integers(0, len(t), size=(n_resamples, len(t)))
        per_seed[j] = resampled_metric(t, p, idx, metric, k)
    stats = per_seed[seed_draws, np.arange(n_resamples)[:, None]].mean(axis=1)
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return {
        "value": value,
        "low": float(low),
        "high": float(high),
        "n": len(prepared[0][0]),
        "n_seeds": s,
        "level": 1 - alpha,
    }


def paired_margin_test(
    y_true: Sequence[int],
    own: Sequence[Sequence[int]],
    other: Sequence[Sequence[int]],
    metric: str = "uar",
    n_resamples: int = DEFAULT_RESAMPLES,
    alpha: float = ALPHA,
    seed: int = 0,
) -> dict:
    """Own-group margin on one test set, with a paired bootstrap CI and a two-sided p-value.

    `own` and `other` hold predictions (aligned with `y_true`, one array per run: seeds of the own-group model,
    and every other-group run). The margin is mean(metric over `own`) - mean(metric over `other`). Each
    resample draws one set of utterance indices and applies it to every run (paired). The p-value tests
    margin = 0 on the centred bootstrap distribution. Returns fractions:
    {'margin', 'low', 'high', 'p', 'se', 'n', 'n_own', 'n_other'}.
    """
    y = np.asarray(y_true, dtype=np.int64)
    own_p = [np.asarray(p, dtype=np.int64) for p in own]
    other_p = [np.asarray(p, dtype=np.int64) for p in other]
    if not own_p or not other_p:
        raise ValueError("paired_margin_test needs at least one own-group and one other-group run")
    if any(len(p) != len(y) for p in (*own_p, *other_p)):
        raise ValueError("every run's predictions must be aligned with y_true (same utterances, same order)")
    k = int(max(y.max(initial=0), *(p.max(initial=0) for p in (*own_p, *other_p))) + 1)
    point = np.mean([POINT[metric](y, p) for p in own_p]) - np.mean([POINT[metric](y, p) for p in other_p])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_resamples, len(y)))
    own_b = np.mean([resampled_metric(y, p, idx, metric, k) for p in own_p], axis=0)
    other_b = np.mean([resampled_metric(y, p, idx, metric, k) for p in other_p], axis=0)
    boot = own_b - other_b
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    centred = np.abs(boot - point)
    p = (1 + np.sum(centred >= abs(point))) / (n_resamples + 1)
    return {
        "margin": float(point),
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


def pooled_margin_test(
    comparisons: Sequence[tuple[Sequence[int], Sequence[Sequence[int]], Sequence[Sequence[int]]]],
    metric: str = "uar",
    n_resamples: int = DEFAULT_RESAMPLES,
    alpha: float = ALPHA,
    seed: int = 0,
) -> dict:
    """One test of the mean own-group margin over several held-out languages (no multiplicity to correct).

    Each item is ``(y_true, own predictions, other predictions)`` for one language (as
    :func:`paired_margin_test`); each resample draws every language's utterances independently (paired within
    the language) and averages the languages' margins. Returns {'margin', 'low', 'high', 'p', 'n_languages'}.
    """
    if not comparisons:
        raise ValueError("pooled_margin_test needs at least one comparison")
    rng = np.random.default_rng(seed)
    points, boots = [], []
    for y_true, own, other in comparisons:
        y = np.asarray(y_true, dtype=np.int64)
        runs = [np.asarray(p, dtype=np.int64) for p in (*own, *other)]
        k = int(max(y.max(initial=0), *(p.max(initial=0) for p in runs)) + 1)
        idx = rng.integers(0, len(y), size=(n_resamples, len(y)))
        own_b = np.mean([resampled_metric(y, p, idx, metric, k) for p in runs[: len(own)]], axis=0)
        other_b = np.mean([resampled_metric(y, p, idx, metric, k) for p in runs[len(own) :]], axis=0)
        boots.append(own_b - other_b)
        points.append(
            np.mean([POINT[metric](y, p) for p in runs[: len(own)]])
            - np.mean([POINT[metric](y, p) for p in runs[len(own) :]])
        )
    point, boot = float(np.mean(points)), np.mean(boots, axis=0)
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    p = (1 + np.sum(np.abs(boot - point) >= abs(point))) / (n_resamples + 1)
    return {"margin": point, "low": float(low), "high": float(high), "p": float(p), "n_languages": len(comparisons)}
