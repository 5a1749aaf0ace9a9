"""Simulated transfer grids on the paper's real URIEL+ distances: how often a distance is flagged with no effect,
and how often with one.

A simulated grid of the paper's ten languages (distances: :func:`hf_ser.study.transfer.distances.paper_distances`)
is, for a source s and a target t != s,

    T(s, t) = level + a_s + b_t - effect * z_k(s, t) - corpus_effect * z_c(s, t) + pair(s, t) + mean of seeds

- strong source and target effects a_s ~ N(0, ``source_sd``), b_t ~ N(0, ``target_sd``) (UAR points; the paper's
  single-language models differ by tens of points in Table 3);
- a planted effect of ``effect`` UAR points of transfer lost per standard deviation of the distance ``distance``
  (z_k: the distance z-scored over the off-diagonal cells), 0 for the null;
- a **corpus effect correlated with language**: each language's corpus has recording conditions c_L in two
  dimensions, ``sqrt(rho) x`` the language's position in a classical MDS of the genetic distance plus
  ``sqrt(1 - rho) x`` noise (rho = ``corpus_language_corr``); transfer loses ``corpus_effect`` points per
  standard deviation of the mismatch ||c_s - c_t||. It is what makes related languages *look* closer in a grid
  where only the corpora are;
- an idiosyncratic pair effect N(0, ``pair_sd``) and the mean of ``n_seeds`` trainings with seed noise N(0,
  ``seed_sd``) each (a few UAR points, as between the demo grid's trainings);
- the acoustic control: ||c_s - c_t|| measured on c plus N(0, ``acoustic_noise``) per dimension (what a
  long-term average spectrum or a mean embedding sees of the recording conditions).

- :func:`simulate_grid` — one grid (a :class:`TransferGrid`).
- :func:`flag_rate` — the share of grids in which the model (with the acoustic control, Holm over the distances)
  flags any distance, and the planted one: the family-wise false-positive rate at ``effect=0``, power otherwise.
- :func:`power_table` / :func:`format_power_table` — the rates at stated effects, as a table the docs print.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from hf_ser.study.stats import ALPHA, holm
from hf_ser.study.transfer.distances import DistanceSet, paper_distances
from hf_ser.study.transfer.model import draw_permutations, permutation_pvalues

# featural is left out of the simulated family: it pools the syntactic, phonological and inventory features, so with
# ten languages it is nearly collinear with them and only dilutes Holm
TESTED: tuple[str, ...] = ("genetic", "geographic", "syntactic", "phonological", "inventory", "lineage")
SIM_PERMUTATIONS = 499  # exact-level at any count ((1 + hits) / (P + 1)); 499 resolves Holm's 0.05 / 7 = 0.007


@dataclass(frozen=True)
class TransferSpec:
    """One simulated design (UAR points) and the planted effect."""

    level: float = 45.0
    source_sd: float = 6.0
    target_sd: float = 8.0
    n_seeds: int = 3
    seed_sd: float = 3.0  # spread between trainings of one configuration
    pair_sd: float = 1.0
    corpus_effect: float = 3.0  # points lost per sd of recording-condition mismatch
    corpus_language_corr: float = 0.5
    acoustic_noise: float = 0.2
    effect: float = 0.0  # points lost per sd of the planted distance
    distance: str = "genetic"
    tested: tuple[str, ...] = field(
        default=("genetic", "geographic", "syntactic", "phonological", "inventory", "lineage")
    )


@dataclass(frozen=True)
class TransferGrid:
    """A simulated transfer matrix (mean over seeds; diagonal NaN), its distances and the acoustic control."""

    labels: tuple[str, ...]
    values: np.ndarray
    distances: dict[str, np.ndarray]
    acoustic: np.ndarray
    spec: TransferSpec


@dataclass(frozen=True)
class FlagRate:
    """How often simulated grids flag a distance (Holm-adjusted p <= alpha) at one planted effect."""

    effect: float
    distance: str
    planted_rate: float  # share of grids flagging the planted distance (power; at effect 0 its false-positive rate)
    any_rate: float  # share of grids flagging any distance (the family-wise rate at effect 0)
    se: float  # binomial standard error of the headline rate (any_rate at effect 0, planted_rate otherwise)
    n_grids: int
    n_permutations: int
    controlled: bool  # the acoustic control was in the model


def classical_mds(d: np.ndarray, dims: int = 2) -> np.ndarray:
    """Classical (Torgerson) MDS: (n, dims) coordinates whose Euclidean distances best match `d` (double-centred
    squared distances, top eigenvectors scaled by the root of their eigenvalues; negative ones clipped to 0)."""
    n = len(d)
    j = np.eye(n) - 1.0 / n
    b = -0.5 * j @ (np.asarray(d, dtype=float) ** 2) @ j
    vals, vecs = np.linalg.eigh(b)
    top = np.argsort(vals)[::-1][:dims]
    return vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0))


def _zscore_cells(m: np.ndarray) -> np.ndarray:
    """`m` z-scored over its off-diagonal cells (the diagonal set to 0)."""
    off = ~np.eye(len(m), dtype=bool)
    sd = m[off].std()
    z = (m - m[off].mean()) / (sd if sd > 0 else 1.0)
    z[~off] = 0.0
    return z


def _pairwise(points: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix of the rows of `points`."""
    return np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))


def simulate_grid(spec: TransferSpec, seed: int = 0, distances: DistanceSet | None = None) -> TransferGrid:
    """One simulated transfer grid of the paper's ten languages (or of `distances`' languages) under `spec`."""
    ds = distances or paper_distances()
    rng = np.random.default_rng(seed)
    n = len(ds.labels)
    mds = classical_mds(ds.matrices["genetic"], 2)
    mds = (mds - mds.mean(axis=0)) / np.where(mds.std(axis=0) > 0, mds.std(axis=0), 1.0)
    rho = spec.corpus_language_corr
    corpus = np.sqrt(rho) * mds + np.sqrt(1 - rho) * rng.standard_normal((n, 2))
    values = (
        spec.level
        + rng.normal(0, spec.source_sd, (n, 1))
        + rng.normal(0, spec.target_sd, (1, n))
        - spec.effect * _zscore_cells(ds.matrices[spec.distance])
        - spec.corpus_effect * _zscore_cells(_pairwise(corpus))
        + rng.normal(0, spec.pair_sd, (n, n))
        + rng.normal(0, spec.seed_sd, (spec.n_seeds, n, n)).mean(axis=0)
    )
    np.fill_diagonal(values, np.nan)  # in-language cells are not part of the distance fit
    acoustic = _pairwise(corpus + rng.normal(0, spec.acoustic_noise, corpus.shape))
    tested = {k: ds.matrices[k] for k in spec.tested if k in ds.matrices}
    return TransferGrid(ds.labels, values, tested, acoustic, spec)


def flag_rate(
    spec: TransferSpec,
    n_grids: int = 400,
    n_permutations: int = SIM_PERMUTATIONS,
    seed: int = 0,
    alpha: float = ALPHA,
    control: bool = True,
) -> FlagRate:
    """Share of `n_grids` simulated grids in which Holm over the tested distances flags any / the planted one.

    Each grid's p-values are MRQAP permutation p-values (one set of `n_permutations` relabellings shared by the
    grids: the test is exact-level for any set) with the acoustic distance as a control when `control`.
    """
    ds = paper_distances()
    perms = draw_permutations(len(ds.labels), n_permutations, seed + 1)
    any_hits = planted_hits = 0
    for g in range(n_grids):
        grid = simulate_grid(spec, seed * 100_003 + g, ds)
        controls = {"acoustic": grid.acoustic} if control else None
        p = permutation_pvalues(grid.values, grid.distances, controls, perms)
        flagged = dict(zip(p, holm(list(p.values()), alpha)[1]))
        any_hits += any(flagged.values())
        planted_hits += bool(flagged.get(spec.distance, False))
    headline = (any_hits if spec.effect == 0 else planted_hits) / n_grids
    return FlagRate(
        effect=spec.effect,
        distance=spec.distance,
        planted_rate=planted_hits / n_grids,
        any_rate=any_hits / n_grids,
        se=float(np.sqrt(max(headline * (1 - headline), 1e-12) / n_grids)),
        n_grids=n_grids,
        n_permutations=n_permutations,
        controlled=control,
    )


def power_table(
    spec: TransferSpec | None = None,
    effects: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0),
    n_grids: int = 200,
    n_permutations: int = SIM_PERMUTATIONS,
    seed: int = 0,
) -> list[FlagRate]:
    """:func:`flag_rate` at each planted effect (UAR points per sd of ``spec.distance``), one row each."""
    spec = spec or TransferSpec()
    return [flag_rate(replace(spec, effect=e), n_grids, n_permutations, seed + i) for i, e in enumerate(effects)]


def format_power_table(rows: list[FlagRate]) -> str:
    """A Markdown table of :func:`power_table`'s rows (the docs print it)."""
    lines = [
        "| planted effect (UAR points per sd) | distance | planted flagged | any flagged | grids | permutations |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.effect:g} | {r.distance} | {r.planted_rate:.1%} | {r.any_rate:.1%} (SE {r.se:.1%}) | "
            f"{r.n_grids} | {r.n_permutations} |"
        )
    return "\n".join(lines)
