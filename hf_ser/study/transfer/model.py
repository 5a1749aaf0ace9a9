"""Which distance predicts transfer, and how strongly: the transfer matrix against the distances.

The transfer matrix T(s, t) holds the score (UAR, mean over seeds) of the model trained on source s and tested on
target t; its diagonal is in-language and stays out of the fit. The off-diagonal cells are modelled as

    T(s, t) = a_s + b_t + sum_k beta_k d_k(s, t) + e

with a source effect a_s (its corpus size, balance, quality) and a target effect b_t (its difficulty), sum-to-zero
over targets so that a_s is the source's transfer to an average target. :func:`fit_transfer` reports per distance:

- ``beta`` (UAR per distance unit) and the **standardised** beta (beta x sd(d) / sd(T) over the cells fitted), with
  a CI from a **jackknife over languages** (each language dropped as source and target in turn; the unit of
  replication is the language, not the cell: the 90 cells of ten languages are not 90 independent observations);
- the share of variance it explains alone: ``partial_r2`` (drop-one, of the variance left by the other terms) and
  ``unique_r2`` (drop-one, of the total variance of the cells);
- a **permutation p-value by MRQAP with double semi-partialling** (Dekker, Krackhardt & Snijders 2007): the
  distance is residualised on the source and target effects and the other distances, the residual matrix's rows
  and columns are permuted together (languages relabelled), and the t statistic of the permuted residual in the
  full regression is compared with the observed one (two-sided). Under the null "this distance adds nothing to
  the source and target effects and the other distances", the relabelled residual is as likely as the observed,
  whatever the size of the chance differences between trainings;
- the plain **Mantel r** (Pearson r between T and d over the cells, permutation p) and the **partial Mantel r**
  controlling for the ``controls`` (the acoustic distance between corpora; Smouse, Long & Sokal 1986: both
  residualised on the controls, the distance's residual permuted);
- Holm's correction over the tested distances (controls are in every regression but not in the family).

Missing cells (a pair with no run) are left out of the fit and listed in :attr:`TransferFit.missing_pairs`; the
permutations still relabel every language, and only the cells present are compared. A language with no cell left
as a source or as a target is removed (:attr:`TransferFit.dropped_languages`), and a distance that is constant
once the source and target effects are removed (for example the lineage when every language is in one group), or
a linear function of the distances before it, is dropped with its reason (:attr:`TransferFit.dropped_distances`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from hf_ser.errors import UserError
from hf_ser.study.stats import ALPHA, holm

DEFAULT_PERMUTATIONS = 9_999  # p resolution 1e-4; Monte Carlo SE of a p near 0.05 is 0.002
NULL = (
    "the distance adds nothing to the source and target effects and the other distances: relabelling the "
    "languages of its residual matrix (rows and columns together) leaves the fit's t statistic as likely"
)
_TINY = 1e-9  # relative tolerance for ties of permuted statistics and for a distance absorbed by the fixed effects


@dataclass(frozen=True)
class DistanceEffect:
    """One distance's (or control's) row of the transfer table; p-values are two-sided permutation p-values."""

    name: str
    beta: float
    std_beta: float
    std_beta_low: float
    std_beta_high: float
    std_beta_se: float
    t: float
    p: float
    p_holm: float | None  # None for a control (not in the Holm family)
    significant: bool
    partial_r2: float
    unique_r2: float
    mantel_r: float
    mantel_p: float
    partial_mantel_r: float | None
    partial_mantel_p: float | None
    control: bool = False


@dataclass(frozen=True)
class JackknifeFit:
    """The fit without one language (as source and target): its effects and betas, for intervals."""

    dropped: str
    labels: tuple[str, ...]
    source_effects: np.ndarray
    target_effects: np.ndarray
    beta: dict[str, float]
    std_beta: dict[str, float]


@dataclass(frozen=True)
class TransferFit:
    """The fitted transfer model and its tests (see the module docstring for every number)."""

    labels: tuple[str, ...]
    values: np.ndarray
    names: tuple[str, ...]
    controls: tuple[str, ...]
    distances: dict[str, np.ndarray]
    source_effects: np.ndarray
    target_effects: np.ndarray
    effects: tuple[DistanceEffect, ...]
    r2: float
    r2_fixed_effects: float
    residual_sd: float
    n_cells: int
    n_permutations: int
    jackknife: tuple[JackknifeFit, ...]
    missing_pairs: tuple[tuple[str, str], ...] = ()
    dropped_languages: tuple[str, ...] = ()
    dropped_distances: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    null: str = NULL

    @property
    def beta(self) -> dict[str, float]:
        """Raw beta of every predictor (tested and controls) by name."""
        return {e.name: e.beta for e in self.effects}

    def effect(self, name: str) -> DistanceEffect:
        """The row of distance `name`."""
        for e in self.effects:
            if e.name == name:
                return e
        raise KeyError(name)


def fixed_effects_design(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """(cells, 2n - 1) design of the source and target effects: one dummy per source, and sum-to-zero contrasts
    for the targets (target t < n-1 is +1 in its column, the last target is -1 in all), so a_s is the source's
    level for an average target and the target effects sum to zero."""
    m = len(rows)
    x = np.zeros((m, 2 * n - 1))
    x[np.arange(m), rows] = 1.0
    last = cols == n - 1
    x[np.arange(m)[~last], n + cols[~last]] = 1.0
    x[last, n:] = -1.0
    return x


def _effects_from_coef(coef: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(a_s, b_t) from the fixed-effect coefficients of :func:`fixed_effects_design`."""
    b = np.append(coef[n : 2 * n - 1], -coef[n : 2 * n - 1].sum())
    return coef[:n].copy(), b


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares coefficients and residual sum of squares (numpy's lstsq: stable when x is near-singular)."""
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    return coef, float(resid @ resid)


def _residual_maker(z: np.ndarray) -> np.ndarray:
    """M = I - Z Z^+ (cells x cells): M v is v's residual after regressing it on the columns of z."""
    return np.eye(len(z)) - z @ np.linalg.pinv(z)


def _observed_cells(values: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
    """(keep mask of languages, dropped languages, missing off-diagonal pairs) under the missing-cell rule.

    Languages without an observed off-diagonal cell as a source or as a target are removed one at a time (the
    emptiest first) until every remaining language has one.
    """
    n = len(labels)
    present = np.isfinite(values) & ~np.eye(n, dtype=bool)
    missing = [(labels[i], labels[j]) for i in range(n) for j in range(n) if i != j and not present[i, j]]
    keep = np.ones(n, dtype=bool)
    while keep.sum() > 0:
        sub = present[np.ix_(keep, keep)]
        counts = np.minimum(sub.sum(axis=1), sub.sum(axis=0))
        if counts.min() > 0:
            break
        keep[np.flatnonzero(keep)[np.argmin(counts)]] = False
    return keep, [labels[i] for i in range(n) if not keep[i]], missing


def _check_inputs(values: np.ndarray, labels: Sequence[str], matrices: Mapping[str, np.ndarray]) -> None:
    """One-line UserErrors for a grid the model cannot take (shape, too few languages)."""
    n = len(labels)
    if values.shape != (n, n):
        raise UserError(f"the transfer matrix is {values.shape}, expected {n} x {n} (sources x targets)")
    if n < 3:
        raise UserError(f"a transfer analysis needs at least 3 languages, the grid has {n} ({', '.join(labels)})")
    for name, d in matrices.items():
        if np.shape(d) != (n, n) or not np.isfinite(d).all():
            raise UserError(f"distance {name!r} must be a finite {n} x {n} matrix")


@dataclass(frozen=True)
class _Cells:
    """The fitted cells: their (row, col) indices, values and the predictors' values there."""

    n: int
    rows: np.ndarray
    cols: np.ndarray
    y: np.ndarray
    d: np.ndarray  # (cells, predictors)
    full: np.ndarray  # (n, n, predictors): every off-diagonal value, for permutations

    @property
    def fixed(self) -> np.ndarray:
        """The fixed-effects design of these cells."""
        return fixed_effects_design(self.rows, self.cols, self.n)


def _make_cells(values: np.ndarray, matrices: Sequence[np.ndarray]) -> _Cells:
    """The observed off-diagonal cells of `values` and the predictor matrices there."""
    n = len(values)
    rows, cols = np.nonzero(np.isfinite(values) & ~np.eye(n, dtype=bool))
    full = np.stack([np.asarray(m, dtype=float) for m in matrices], axis=-1) if matrices else np.zeros((n, n, 0))
    return _Cells(n, rows, cols, values[rows, cols].astype(float), full[rows, cols], full)


def _absorbed(cells: _Cells, k: int, others: Sequence[int] = ()) -> bool:
    """Whether predictor k is (numerically) a linear function of the source and target effects and of the
    predictors `others`: nothing of it is left to test."""
    d = cells.d[:, k]
    resid = _residual_maker(np.hstack([cells.fixed, cells.d[:, list(others)]])) @ d
    return bool(np.linalg.norm(resid) <= _TINY * max(np.linalg.norm(d - d.mean()), 1.0) or np.ptp(d) == 0)


def draw_permutations(n: int, n_permutations: int, seed: int = 0) -> np.ndarray:
    """(P, n) random relabellings of n languages (each row a permutation), drawn in one numpy call."""
    rng = np.random.default_rng(seed)
    return rng.permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)


def _permuted_cells(matrix: np.ndarray, cells: _Cells, perms: np.ndarray) -> np.ndarray:
    """(P, cells): `matrix` with rows and columns relabelled by each permutation, read at the fitted cells."""
    return matrix[perms[:, cells.rows], perms[:, cells.cols]]


def _perm_p(observed: float, permuted: np.ndarray) -> float:
    """Two-sided permutation p-value, the observed statistic counted once ((1 + hits) / (P + 1))."""
    hits = np.sum(np.abs(permuted) >= abs(observed) * (1 - _TINY))
    return float((1 + hits) / (len(permuted) + 1))


def mrqap_dsp(cells: _Cells, k: int, perms: np.ndarray) -> tuple[float, float]:
    """(t, p) of predictor k by MRQAP with double semi-partialling, vectorised over the permutations.

    The residual e of predictor k on the others (fixed effects and the other distances, fitted on the observed
    cells, evaluated on every off-diagonal cell) is relabelled by each permutation; by Frisch-Waugh-Lovell the
    t statistic of the relabelled residual in the full regression is r.y / sqrt(s^2 r.r), with r = M e_perm the
    part of it the other predictors do not explain and s^2 the residual variance of that regression.
    """
    z = np.hstack([cells.fixed, np.delete(cells.d, k, axis=1)])
    gamma = np.linalg.pinv(z) @ cells.d[:, k]
    n = cells.n
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    off = ii != jj
    z_all = np.hstack([fixed_effects_design(ii[off], jj[off], n), np.delete(cells.full[off], k, axis=1)])
    e = np.zeros((n, n))
    e[off] = cells.full[off][:, k] - z_all @ gamma
    maker = _residual_maker(z)
    y_res = maker @ cells.y
    df = len(cells.y) - np.linalg.matrix_rank(z) - 1
    identity = np.arange(n)[None, :]
    stacked = np.vstack([_permuted_cells(e, cells, identity), _permuted_cells(e, cells, perms)])
    r = stacked @ maker  # (1 + P, cells); maker is symmetric
    rr = np.einsum("pc,pc->p", r, r)
    ry = r @ y_res
    rss = np.maximum(y_res @ y_res - ry**2 / np.maximum(rr, 1e-300), 0.0)
    t = ry / np.sqrt(np.maximum(rss / df * rr, 1e-300))
    return float(t[0]), _perm_p(t[0], t[1:])


def _corr_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row of `a` (P, c) with the vector `b` (c,)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean()
    return (a @ b) / np.sqrt(np.einsum("pc,pc->p", a, a) * (b @ b))


def mantel(cells: _Cells, k: int, perms: np.ndarray, controls: Sequence[int] = ()) -> tuple[float, float]:
    """(r, p): the Mantel r of T with predictor k over the fitted cells, or with `controls` (predictor indices)
    the partial Mantel r (both residualised on the controls and an intercept; the distance's residual matrix is
    relabelled, Smouse, Long & Sokal 1986). Two-sided permutation p."""
    n = cells.n
    if controls:
        c_obs = np.column_stack([np.ones(len(cells.y)), cells.d[:, list(controls)]])
        y = cells.y - c_obs @ np.linalg.lstsq(c_obs, cells.y, rcond=None)[0]
        coef = np.linalg.lstsq(c_obs, cells.d[:, k], rcond=None)[0]
        c_all = np.concatenate([np.ones((n, n, 1)), cells.full[:, :, list(controls)]], axis=-1)
        d = cells.full[:, :, k] - c_all @ coef
    else:
        y, d = cells.y, cells.full[:, :, k]
    r = _corr_rows(_permuted_cells(d, cells, np.arange(n)[None, :]), y)[0]
    return float(r), _perm_p(r, _corr_rows(_permuted_cells(d, cells, perms), y))


def _coefficients(cells: _Cells) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(a_s, b_t, betas, rss) of the full least-squares fit on `cells`."""
    coef, rss = _ols(np.hstack([cells.fixed, cells.d]), cells.y)
    a, b = _effects_from_coef(coef, cells.n)
    return a, b, coef[2 * cells.n - 1 :], rss


def _std_betas(cells: _Cells, betas: np.ndarray) -> np.ndarray:
    """beta x sd(d) / sd(T) over the fitted cells: UAR-sd change per distance-sd."""
    sd_y = cells.y.std()
    return betas * cells.d.std(axis=0) / (sd_y if sd_y > 0 else 1.0)


def _jackknife(
    values: np.ndarray, labels: Sequence[str], mats: Sequence[np.ndarray], names: Sequence[str]
) -> tuple[JackknifeFit, ...]:
    """The fit without each language in turn (row and column); a refit left without a residual degree of freedom
    or without a cell for some language is skipped (its language then has no replicate)."""
    out = []
    for drop in range(len(labels)):
        keep = np.arange(len(labels)) != drop
        sub = values[np.ix_(keep, keep)]
        kept = tuple(lab for i, lab in enumerate(labels) if keep[i])
        cells = _make_cells(sub, [m[np.ix_(keep, keep)] for m in mats])
        if len(cells.y) <= 2 * cells.n - 1 + len(names) or not _observed_cells(sub, kept)[0].all():
            continue
        a, b, betas, _ = _coefficients(cells)
        std = _std_betas(cells, betas)
        out.append(
            JackknifeFit(labels[drop], kept, a, b, dict(zip(names, betas.tolist())), dict(zip(names, std.tolist())))
        )
    return tuple(out)


def jackknife_ci(estimate: float, replicates: Sequence[float], alpha: float = ALPHA) -> tuple[float, float, float]:
    """(low, high, se): the jackknife standard error sqrt((g-1)/g sum (x_i - mean)^2) over g replicates and a
    Student-t interval with g - 1 degrees of freedom around the full-sample estimate (NaN with < 2 replicates)."""
    x = np.asarray(replicates, dtype=float)
    g = len(x)
    if g < 2:
        return float("nan"), float("nan"), float("nan")
    se = float(np.sqrt((g - 1) / g * np.sum((x - x.mean()) ** 2)))
    half = stats.t.ppf(1 - alpha / 2, g - 1) * se
    return float(estimate - half), float(estimate + half), se


def _effect(
    cells: _Cells,
    k: int,
    name: str,
    perms: np.ndarray,
    control_idx: Sequence[int],
    rss_tss: tuple[float, float],
    std: np.ndarray,
    jack: Sequence[JackknifeFit],
    alpha: float,
) -> DistanceEffect:
    """Predictor k's row before Holm: beta, standardised beta with its jackknife CI, MRQAP t and p, drop-one
    shares of variance, Mantel r and (with controls) partial Mantel r."""
    rss, tss = rss_tss
    rss_k = _ols(np.hstack([cells.fixed, np.delete(cells.d, k, axis=1)]), cells.y)[1]
    t, p = mrqap_dsp(cells, k, perms)
    r, p_r = mantel(cells, k, perms)
    partial = mantel(cells, k, perms, control_idx) if control_idx else (None, None)
    low, high, se = jackknife_ci(float(std[k]), [j.std_beta[name] for j in jack], alpha)
    betas = _coefficients(cells)[2]
    return DistanceEffect(
        name=name,
        beta=float(betas[k]),
        std_beta=float(std[k]),
        std_beta_low=low,
        std_beta_high=high,
        std_beta_se=se,
        t=t,
        p=p,
        p_holm=None,
        significant=False,
        partial_r2=(rss_k - rss) / rss_k if rss_k > 0 else 0.0,
        unique_r2=(rss_k - rss) / tss if tss > 0 else 0.0,
        mantel_r=r,
        mantel_p=p_r,
        partial_mantel_r=partial[0],
        partial_mantel_p=partial[1],
    )


def _prepare(
    values: np.ndarray,
    labels: Sequence[str],
    distances: Mapping[str, np.ndarray],
    controls: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, tuple[str, ...], dict[str, np.ndarray], list[str], list[str], list[tuple[str, str]]]:
    """Apply the missing-cell rule and drop absorbed distances: (values, labels, matrices, dropped languages,
    missing pairs, dropped distances as (name, reason))."""
    values = np.asarray(values, dtype=float)
    _check_inputs(values, labels, {**distances, **controls})
    keep, dropped_langs, missing = _observed_cells(values, list(labels))
    if keep.sum() < 3:
        raise UserError(f"fewer than 3 languages keep a transfer cell ({', '.join(labels)}): nothing to fit")
    sub = np.ix_(keep, keep)
    labels = tuple(lab for lab, k in zip(labels, keep) if k)
    matrices = {name: np.asarray(m, dtype=float)[sub] for name, m in {**distances, **controls}.items()}
    values = values[sub]
    dropped_dist, kept = [], []
    cells = _make_cells(values, list(matrices.values()))
    names = list(matrices)
    for k, name in enumerate(names):
        if _absorbed(cells, k):
            dropped_dist.append((name, "constant once the source and target effects are removed"))
        elif _absorbed(cells, k, kept):
            dropped_dist.append((name, f"collinear with {', '.join(names[i] for i in kept)} given those effects"))
        else:
            kept.append(k)
    matrices = {names[k]: matrices[names[k]] for k in kept}
    return values, labels, matrices, dropped_langs, missing, dropped_dist


def fit_transfer(
    values: np.ndarray,
    labels: Sequence[str],
    distances: Mapping[str, np.ndarray],
    controls: Mapping[str, np.ndarray] | None = None,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    alpha: float = ALPHA,
    permutations: np.ndarray | None = None,
) -> TransferFit:
    """Fit T(s, t) = a_s + b_t + sum_k beta_k d_k(s, t) + e and test every distance (module docstring).

    `values` is sources x targets (NaN where a pair has no run; the diagonal is ignored), `distances` the tested
    matrices, `controls` the ones held fixed (the acoustic distance), all over `labels`. `permutations` (P, n)
    replaces the random relabellings (the tests pass every permutation for an exact p-value). Raises a one-line
    :class:`UserError` for a grid it cannot fit (fewer than 3 languages, no residual degree of freedom).
    BLAS runs on one thread: the products are small (10,000 x 90 x 90), and two OpenBLAS threads on 2 busy
    cores made them 20-50 times slower.
    """
    with threadpool_limits(1):
        return _fit(values, labels, distances, controls, n_permutations, seed, alpha, permutations)


def _fit(
    values: np.ndarray,
    labels: Sequence[str],
    distances: Mapping[str, np.ndarray],
    controls: Mapping[str, np.ndarray] | None,
    n_permutations: int,
    seed: int,
    alpha: float,
    permutations: np.ndarray | None,
) -> TransferFit:
    """:func:`fit_transfer`'s work (on one BLAS thread)."""
    controls = dict(controls or {})
    values, labels, matrices, dropped_langs, missing, dropped_dist = _prepare(values, labels, distances, controls)
    names = tuple(n for n in distances if n in matrices)
    if not names:
        why = "; ".join(f"{name}: {reason}" for name, reason in dropped_dist) or "none given"
        raise UserError(f"no distance left to test over {', '.join(labels)} ({why})")
    control_names = tuple(n for n in controls if n in matrices)
    order = (*names, *control_names)
    cells = _make_cells(values, [matrices[n] for n in order])
    n, m, p = len(labels), len(cells.y), 2 * len(labels) - 1 + len(order)
    if m - np.linalg.matrix_rank(np.hstack([cells.fixed, cells.d])) < 1:
        raise UserError(f"{m} transfer cells cannot fit {p} parameters: fewer distances or more languages needed")
    perms = permutations if permutations is not None else draw_permutations(n, n_permutations, seed)
    a, b, betas, rss = _coefficients(cells)
    tss = float(((cells.y - cells.y.mean()) ** 2).sum())
    rss_fixed = _ols(cells.fixed, cells.y)[1]
    std = _std_betas(cells, betas)
    jack = _jackknife(values, labels, [matrices[x] for x in order], order)
    control_idx = [order.index(c) for c in control_names]
    rows = [
        _effect(cells, k, name, perms, control_idx if name not in control_names else [], (rss, tss), std, jack, alpha)
        for k, name in enumerate(order)
    ]
    tested = [e for e in rows if e.name not in control_names]
    adjusted, significant = holm([e.p for e in tested], alpha)
    holm_by_name = {e.name: (q, sig) for e, q, sig in zip(tested, adjusted, significant)}
    effects = [
        replace(e, p_holm=holm_by_name[e.name][0], significant=bool(holm_by_name[e.name][1]))
        if e.name in holm_by_name
        else replace(e, control=True)
        for e in rows
    ]
    return TransferFit(
        labels=labels,
        values=values,
        names=names,
        controls=control_names,
        distances=matrices,
        source_effects=a,
        target_effects=b,
        effects=tuple(effects),
        r2=1 - rss / tss if tss > 0 else float("nan"),
        r2_fixed_effects=1 - rss_fixed / tss if tss > 0 else float("nan"),
        residual_sd=float(np.sqrt(rss / max(m - np.linalg.matrix_rank(np.hstack([cells.fixed, cells.d])), 1))),
        n_cells=m,
        n_permutations=len(perms),
        jackknife=jack,
        missing_pairs=tuple(missing),
        dropped_languages=tuple(dropped_langs),
        dropped_distances=tuple(dropped_dist),
    )


def permutation_pvalues(
    values: np.ndarray,
    distances: Mapping[str, np.ndarray],
    controls: Mapping[str, np.ndarray] | None = None,
    permutations: np.ndarray | None = None,
) -> dict[str, float]:
    """MRQAP p-value of every tested distance only (no Mantel, no jackknife, no missing-cell rule): the lean path
    the simulator calls thousands of times. Same numbers as :func:`fit_transfer`'s ``p`` for a complete grid."""
    values = np.asarray(values, dtype=float)
    order = [*distances, *(controls or {})]
    cells = _make_cells(values, [np.asarray({**distances, **(controls or {})}[n], dtype=float) for n in order])
    perms = permutations if permutations is not None else draw_permutations(len(values), DEFAULT_PERMUTATIONS)
    with threadpool_limits(1):  # small products: one BLAS thread is 20-50 x faster on busy cores
        return {name: mrqap_dsp(cells, k, perms)[1] for k, name in enumerate(distances)}


def _json_number(x: float | None) -> float | None:
    """A float for JSON: NaN and infinities become None (strict JSON has no NaN)."""
    return None if x is None or not math.isfinite(x) else float(x)


def fit_json(fit: TransferFit) -> dict:
    """Every number of a fit as a JSON-ready dict (what ``transfer.json`` will hold): the matrix (None where a pair
    has no run or on the diagonal), the effects, one row per distance and control, and what the fallbacks did."""
    n = len(fit.labels)
    matrix = [[_json_number(fit.values[i, j]) if i != j else None for j in range(n)] for i in range(n)]
    effects = [{k: _json_number(v) if isinstance(v, float) else v for k, v in asdict(e).items()} for e in fit.effects]
    return {
        "labels": list(fit.labels),
        "matrix": matrix,
        "source_effects": dict(zip(fit.labels, map(float, fit.source_effects))),
        "target_effects": dict(zip(fit.labels, map(float, fit.target_effects))),
        "effects": effects,
        "r2": _json_number(fit.r2),
        "r2_fixed_effects": _json_number(fit.r2_fixed_effects),
        "residual_sd": _json_number(fit.residual_sd),
        "n_cells": fit.n_cells,
        "n_permutations": fit.n_permutations,
        "missing_pairs": [list(p) for p in fit.missing_pairs],
        "dropped_languages": list(fit.dropped_languages),
        "dropped_distances": [list(d) for d in fit.dropped_distances],
        "jackknife": [{"dropped": j.dropped, "beta": j.beta, "std_beta": j.std_beta} for j in fit.jackknife],
        "null": fit.null,
    }
