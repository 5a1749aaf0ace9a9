"""Simulated cross-group grids: how often the Section 4.3 test fires with no lineage effect, and how often with one.

The paper's cross-group grid has two groups of five languages; each configuration trains on four languages of
one group and is evaluated on the fifth (its held-out language) and on the other group's five. So every held-out
language is scored by six configurations: its own group's, and the other group's five. A simulated grid draws,
for every configuration, seed and utterance, whether the prediction is right:

    P(right) = ease(utterance) + config(configuration, language) + seed(configuration, seed) + effect * own

with the utterance difficulty ``ease ~ Beta(2, 1.5)`` shared by every run (real models fail on the same hard
utterances), a configuration effect of SD `config_sd` points (a share `shared_config_fraction` of its variance
common to every language the configuration evaluates, the rest language-specific), a seed effect of SD
`seed_sd` points, and `effect` points planted on the own-group cells. The defaults (3.5 and 1.2 points) are the
spread measured between trainings of the demo grid.

- :func:`simulate_uars` — the UAR of every configuration (mean over its seeds) on every held-out language, for
  many grids at once (vectorised numpy; a thousand 300-utterance grids in a few seconds).
- :func:`rejection_rate` — the share of grids in which :func:`hf_ser.study.stats.lineage_rank_test` rejects: the
  false-positive rate at ``effect=0``, the power otherwise.
- :func:`write_grid` — one grid in the run-folder format the recipe writes (``metrics.json`` through
  :class:`hf_ser.train.runs.RunRecord` and ``predictions.csv``), so ``hf-ser report`` can be checked end to end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hf_ser.labels import EMOTIONS
from hf_ser.study.stats import ALPHA, point_metric, rank_sum_cdf
from hf_ser.train.runs import RunRecord, write_predictions

GROUP_A = ("FRE", "ITA", "POR", "ROM", "SPA")
GROUP_B = ("ARA", "BEN", "CHI", "ENG", "RUS")
GROUPS = {"neo_latin": GROUP_A, "others": GROUP_B}
N_CLASSES = len(EMOTIONS)


@dataclass(frozen=True)
class GridSpec:
    """One simulated cross-group grid's design and variance components (UAR points)."""

    n_utterances: int = 300  # test utterances per language
    n_seeds: int = 2
    config_sd: float = 3.5  # spread between configurations, measured on the demo grid
    seed_sd: float = 1.2  # spread between seeds of one configuration
    shared_config_fraction: float = 0.5  # share of the configuration variance common to all its languages
    effect: float = 0.0  # planted own-group advantage


def _configs() -> list[tuple[str, str]]:
    """(group, held-out language) of the ten configurations, Neo-Latin first."""
    return [(g, lang) for g, members in GROUPS.items() for lang in members]


def _evaluated(group: str, heldout: str) -> list[str]:
    """The languages a configuration is scored on: its held-out language, then the other group's five."""
    other = GROUP_B if group == "neo_latin" else GROUP_A
    return [heldout, *other]


def _probabilities(spec: GridSpec, n_grids: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Balanced labels (n,) and P(right) of shape (grids, 10 configs, seeds, 6 evaluated languages, n)."""
    n, s = spec.n_utterances, spec.n_seeds
    languages = [*GROUP_A, *GROUP_B]
    ease = rng.beta(2.0, 1.5, size=(n_grids, len(languages), n))
    shared = rng.standard_normal((n_grids, 10, 1)) * np.sqrt(spec.shared_config_fraction)
    specific = rng.standard_normal((n_grids, 10, 6)) * np.sqrt(1.0 - spec.shared_config_fraction)
    config = spec.config_sd / 100.0 * (shared + specific)  # (G, 10, 6)
    seed = spec.seed_sd / 100.0 * rng.standard_normal((n_grids, 10, s))
    p = np.empty((n_grids, 10, s, 6, n))
    for c, (group, heldout) in enumerate(_configs()):
        for j, lang in enumerate(_evaluated(group, heldout)):
            shift = config[:, c, j, None, None] + seed[:, c, :, None] + (spec.effect / 100.0 if j == 0 else 0.0)
            p[:, c, :, j, :] = ease[:, languages.index(lang), None, :] + shift
    labels = np.arange(n) % N_CLASSES
    return labels, np.clip(p, 0.0, 1.0)


def simulate_uars(spec: GridSpec, n_grids: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(own, others): own-group UAR (grids, 10 held-out languages) and the other group's (grids, 10, 5), in points.

    Each configuration's UAR is the mean over its seeds, as the report ranks them. Languages are in the order
    of :data:`GROUP_A` then :data:`GROUP_B`.
    """
    labels, p = _probabilities(spec, n_grids, rng)
    right = rng.random(p.shape) < p
    onehot = np.eye(N_CLASSES)[labels]  # (n, K)
    recall = np.einsum("gcsln,nk->gcslk", right, onehot) / onehot.sum(axis=0)
    uar = 100.0 * recall.mean(axis=-1).mean(axis=2)  # (G, 10 configs, 6 evaluated): mean over seeds
    configs = _configs()
    own = np.empty((n_grids, 10))
    others = np.empty((n_grids, 10, 5))
    for i, (group, heldout) in enumerate(configs):
        own[:, i] = uar[:, i, 0]
        rivals = [(c, _evaluated(g, h).index(heldout)) for c, (g, h) in enumerate(configs) if g != group]
        others[:, i] = np.stack([uar[:, c, j] for c, j in rivals], axis=1)
    return own, others


def rank_test_p(own: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Vectorised :func:`hf_ser.study.stats.lineage_rank_test` p-values, one per grid (rows of `own`)."""
    ranks = 1 + (others >= own[..., None]).sum(axis=-1)  # (G, L)
    cdf = rank_sum_cdf([others.shape[-1] + 1] * own.shape[-1])
    return cdf[ranks.sum(axis=-1) - own.shape[-1]]


def rejection_rate(spec: GridSpec, n_grids: int = 400, seed: int = 0, alpha: float = ALPHA) -> dict:
    """Share of simulated grids whose rank test rejects at `alpha`, with its binomial standard error.

    At ``spec.effect == 0`` it is the family-wise false-positive rate of the headline test (the report calls
    nothing else significant); otherwise its power. Simulated in chunks of 50 grids to bound memory.
    """
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_grids, 50):
        own, others = simulate_uars(spec, min(50, n_grids - start), rng)
        hits += int((rank_test_p(own, others) <= alpha).sum())
    rate = hits / n_grids
    return {"rate": rate, "se": float(np.sqrt(max(rate * (1 - rate), 1e-12) / n_grids)), "n_grids": n_grids}


def power_curve(
    spec: GridSpec, effects: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0), n_grids: int = 400, seed: int = 0
) -> list[dict]:
    """:func:`rejection_rate` at each planted effect (points): [{'effect', 'rate', 'se', 'n_grids'}, ...]."""
    return [{"effect": e, **rejection_rate(replace(spec, effect=e), n_grids, seed + i)} for i, e in enumerate(effects)]


def _metrics(y_true: np.ndarray, y_pred: np.ndarray, evaluated: list[str], n: int) -> dict:
    """metrics.json's per-language block (as :func:`hf_ser.metrics.per_language_metrics` writes it), by counting."""

    def score(y: np.ndarray, p: np.ndarray) -> dict:
        return {m: point_metric(y, p, m, N_CLASSES) for m in ("uar", "f1", "wa")} | {"n": len(y)}

    out = {lang: score(y_true[j * n : (j + 1) * n], y_pred[j * n : (j + 1) * n]) for j, lang in enumerate(evaluated)}
    return out | {"all": score(y_true, y_pred)}


def write_grid(root: str | Path, spec: GridSpec, seed: int = 0, predictions: bool = True) -> Path:
    """One simulated grid as run folders (``<root>/xgroup-<group>-minus-<LANG>-seed<s>/``), as the recipe writes.

    Each run folder holds ``metrics.json`` (:class:`hf_ser.train.runs.RunRecord`, per-language UAR/F1/WA) and, with
    `predictions`, ``predictions.csv`` with the same test paths for a language in every run that evaluates it
    (about 90% of the 1.4 s a 300-utterance grid takes to write); wrong predictions go to a random other
    emotion. Returns `root`.
    """
    rng = np.random.default_rng(seed)
    labels, p = _probabilities(spec, 1, rng)
    right = rng.random(p.shape) < p
    wrong = (labels + rng.integers(1, N_CLASSES, size=p.shape)) % N_CLASSES
    pred = np.where(right, labels, wrong)[0]  # (10, S, 6, n)
    n = spec.n_utterances
    root = Path(root)
    for c, (group, heldout) in enumerate(_configs()):
        evaluated = _evaluated(group, heldout)
        meta = {
            "path": [f"/data/{lang}/utt{i:04d}.wav" for lang in evaluated for i in range(n)],
            "language": [lang for lang in evaluated for _ in range(n)],
            "corpus": [lang.lower() for lang in evaluated for _ in range(n)],
            "speaker": ["s1"] * (6 * n),
            "label": np.tile(labels, 6).tolist(),
        }
        for s in range(spec.n_seeds):
            name = f"xgroup-{group}-minus-{heldout}-seed{s}"
            y_pred = pred[c, s].reshape(-1)
            (root / name).mkdir(parents=True, exist_ok=True)
            if predictions:
                write_predictions(root / name / "predictions.csv", meta, np.eye(N_CLASSES)[y_pred] * 5.0)
            RunRecord(
                run=name,
                family="cross_group",
                name=f"xgroup-{group}-minus-{heldout}",
                train_languages=[lang for lang in GROUPS[group] if lang != heldout],
                eval_languages=evaluated,
                metrics=_metrics(np.tile(labels, 6), y_pred, evaluated, n),
                group=group,
                heldout_language=heldout,
                seed=s,
                config={"simulated": {**spec.__dict__, "seed": seed}},
            ).save(root / name)
    return root
