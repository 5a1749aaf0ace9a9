"""Which of the available corpora to train on for a language without one: sources ranked for a target.

Given a fitted transfer model (:class:`hf_ser.study.transfer.model.TransferFit`: source effects a_s and betas) and
the distances from each available source to a TARGET language (an ISO 639-3 code or a name URIEL+ knows, in the
study or not: ``cat``, ``hun``, ``hin``, "Catalan"), each source's predicted transfer is

    a_s + sum_k beta_k d_k(s, TARGET)

for an average target (the target's own difficulty b_TARGET is unknown for a language without a corpus; it moves
every source alike and so leaves the ranking as it is). Rules, stated in the output:

- a distance the target lacks (URIEL+ has no shared feature with any source, the lineage of a language outside the
  study's groups, the acoustic distance of a language without recordings) is held at its mean over the study's
  pairs: its term is the same for every source, the ranking does not use it, and :attr:`SourceRanking.lacking`
  names it; a pair the missing-value rule filled is listed in :attr:`SourceRanking.imputed`;
- a prediction interval per source from the jackknife over languages (each refit without one language gives
  a_s and betas; the jackknife variance of the prediction) plus the residual variance of one configuration,
  with a Student-t quantile on the number of replicates, clipped to UAR's range [0, 100];
- the **drivers**: the spread across sources (SD) of each term, source effect included, and its share;
- a multi-source set of size k, chosen greedily under a stated assumption (the grid measures single sources
  only): a multi-source model keeps its members' mean quality (mean a_s) and, for each distance, its most
  favourable member's term (the closest source carries the proximity).

:func:`ranking_rows` flattens the ranking into rows a CLI prints, :func:`write_ranking` saves them as CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from hf_ser.errors import UserError
from hf_ser.labels import CORPORA
from hf_ser.safe_io import atomic_write_text, spreadsheet_safe, storage_error
from hf_ser.study.stats import ALPHA
from hf_ser.study.transfer.distances import (
    ALL_DISTANCES,
    MISSING,
    language_distances,
    resolve_language,
    uriel_names,
)
from hf_ser.study.transfer.model import TransferFit, jackknife_ci

SOURCE_EFFECT = "source effect"
MULTI_SOURCE_RULE = (
    "a multi-source model is assumed to keep its members' mean source effect and, per distance, its most favourable "
    "member's term (not measured: the transfer grid trains single sources)"
)


@dataclass(frozen=True)
class SourceRow:
    """One source's predicted transfer to the target, its interval and the terms it is made of."""

    rank: int
    source: str
    predicted: float
    low: float
    high: float
    source_effect: float
    contributions: dict[str, float]  # beta_k x d_k(source, target) for each distance used


@dataclass(frozen=True)
class Driver:
    """How much one term moves the ranking: its SD across the sources and its share of the summed SDs."""

    term: str
    beta: float | None  # None for the source effect
    spread: float
    share: float


@dataclass(frozen=True)
class SourceRanking:
    """The sources ranked for one target, with what was used and assumed."""

    target: str
    code: str
    name: str
    rows: tuple[SourceRow, ...]
    used: tuple[str, ...]
    lacking: tuple[str, ...]
    imputed: tuple[tuple[str, str, str], ...]  # (distance, source, target) pairs filled by the missing rule
    drivers: tuple[Driver, ...]
    suggested: tuple[str, ...]
    suggested_score: float
    level: float
    notes: tuple[str, ...] = ()


def _study_mean(fit: TransferFit, name: str) -> float:
    """Mean of distance `name` over the study's off-diagonal pairs (where a lacking distance is held)."""
    m = fit.distances[name]
    return float(m[~np.eye(len(m), dtype=bool)].mean())


def _predict(
    fit_a: Mapping[str, float],
    beta: Mapping[str, float],
    vectors: Mapping[str, Mapping[str, float]],
    held: Mapping[str, float],
    source: str,
) -> float:
    """a_s + sum over used distances of beta d(s, T) + sum over lacking ones of beta x (study mean)."""
    used = sum(beta[k] * vectors[k][source] for k in vectors)
    return fit_a[source] + used + sum(beta[k] * held[k] for k in held)


def _intervals(
    fit: TransferFit,
    sources: Sequence[str],
    vectors: Mapping[str, Mapping[str, float]],
    held: Mapping[str, float],
    alpha: float,
) -> dict[str, tuple[float, float, float]]:
    """(prediction, low, high) per source: jackknife SE of the prediction combined with the residual SD, the bounds
    clipped to [0, 100] (a UAR below 0 or above 100 cannot happen, however wide the interval)."""
    a = dict(zip(fit.labels, fit.source_effects.tolist()))
    out = {}
    for s in sources:
        point = _predict(a, fit.beta, vectors, held, s)
        reps = [
            _predict(dict(zip(j.labels, j.source_effects.tolist())), j.beta, vectors, held, s)
            for j in fit.jackknife
            if s in j.labels
        ]
        _, _, se = jackknife_ci(point, reps, alpha)
        if np.isnan(se):
            out[s] = (point, float("nan"), float("nan"))
            continue
        half = stats.t.ppf(1 - alpha / 2, len(reps) - 1) * np.sqrt(se**2 + fit.residual_sd**2)
        out[s] = (point, float(max(point - half, 0.0)), float(min(point + half, 100.0)))
    return out


def _drivers(
    fit: TransferFit, sources: Sequence[str], vectors: Mapping[str, Mapping[str, float]]
) -> tuple[Driver, ...]:
    """Each term's SD across the ranked sources and its share, largest first."""
    a = dict(zip(fit.labels, fit.source_effects.tolist()))
    spreads = [(SOURCE_EFFECT, None, float(np.std([a[s] for s in sources])))]
    spreads += [(k, fit.beta[k], float(np.std([fit.beta[k] * vectors[k][s] for s in sources]))) for k in vectors]
    total = sum(sp for _, _, sp in spreads) or 1.0
    drivers = [Driver(term, beta, sp, sp / total) for term, beta, sp in spreads]
    return tuple(sorted(drivers, key=lambda d: -d.spread))


def greedy_set(
    fit: TransferFit, sources: Sequence[str], vectors: Mapping[str, Mapping[str, float]], k: int
) -> tuple[tuple[str, ...], float]:
    """The size-k source set chosen greedily under :data:`MULTI_SOURCE_RULE`, and its score (held terms excluded).

    Each step adds the source that most raises mean(a_s) + sum_k max over members of beta_k d_k(s, T).
    """
    a = dict(zip(fit.labels, fit.source_effects.tolist()))

    def score(members: Sequence[str]) -> float:
        """The assumed transfer of a multi-source model made of `members`."""
        quality = float(np.mean([a[s] for s in members]))
        return quality + sum(max(fit.beta[d] * vectors[d][s] for s in members) for d in vectors)

    chosen: list[str] = []
    for _ in range(min(k, len(sources))):
        best = max((s for s in sources if s not in chosen), key=lambda s: score([*chosen, s]))
        chosen.append(best)
    return tuple(chosen), (score(chosen) if chosen else float("nan"))


def rank_sources(
    fit: TransferFit,
    target: str,
    vectors: Mapping[str, Mapping[str, float]],
    sources: Sequence[str] | None = None,
    k: int = 3,
    alpha: float = ALPHA,
    code: str = "",
    name: str = "",
    imputed: Sequence[tuple[str, str, str]] = (),
    notes: Sequence[str] = (),
) -> SourceRanking:
    """Rank `sources` (default: every source of `fit`) for `target` from `vectors[distance][source]` = d(s, T).

    A predictor of the fit missing from `vectors` is lacking for this target and held at its study mean.
    """
    sources = [s for s in (sources if sources is not None else fit.labels)]
    if not sources:
        raise UserError(f"no source language is left to rank for {target!r}")
    predictors = [e.name for e in fit.effects]
    used = {d: dict(vectors[d]) for d in predictors if d in vectors}
    held = {d: _study_mean(fit, d) for d in predictors if d not in vectors}
    intervals = _intervals(fit, sources, used, held, alpha)
    a = dict(zip(fit.labels, fit.source_effects.tolist()))
    ordered = sorted(sources, key=lambda s: -intervals[s][0])
    rows = tuple(
        SourceRow(
            rank=i + 1,
            source=s,
            predicted=intervals[s][0],
            low=intervals[s][1],
            high=intervals[s][2],
            source_effect=a[s],
            contributions={d: fit.beta[d] * used[d][s] for d in used},
        )
        for i, s in enumerate(ordered)
    )
    suggested, score = greedy_set(fit, sources, used, k)
    return SourceRanking(
        target=target,
        code=code or target,
        name=name or target,
        rows=rows,
        used=tuple(used),
        lacking=tuple(held),
        imputed=tuple(imputed),
        drivers=_drivers(fit, sources, used),
        suggested=suggested,
        suggested_score=score,
        level=1 - alpha,
        notes=(*notes, MULTI_SOURCE_RULE),
    )


def _language_of(source: str, source_languages: Mapping[str, str] | None) -> str:
    """A source's language: from `source_languages`, else the corpus table's language for a corpus name, else the
    source label itself (a language)."""
    if source_languages and source in source_languages:
        return source_languages[source]
    return CORPORA[source].language if source in CORPORA else source


def rank_for_target(
    fit: TransferFit,
    target: str,
    k: int = 3,
    cache_dir: str | Path | None = None,
    groups: Mapping[str, str] | None = None,
    source_languages: Mapping[str, str] | None = None,
    alpha: float = ALPHA,
) -> SourceRanking:
    """Rank the fit's sources for `target` (ISO 639-3 code or name), with URIEL+ distances and the lineage.

    `source_languages` maps a source label to its language (by default a corpus of the corpus table takes its
    language, any other label is a language), so a corpus-level fit ranks corpora. A study language as target is
    ranked among the other sources (its own in-language model is not a transfer). `groups` names the lineage
    group of a target outside the study.
    """
    code = resolve_language(target)
    lang_of = {s: _language_of(s, source_languages) for s in fit.labels}
    languages = list(dict.fromkeys(lang_of.values()))
    codes = {lang: resolve_language(lang) for lang in languages}
    in_study = code in codes.values()
    kinds = [d for d in fit.names if d in ALL_DISTANCES]
    ds = language_distances(languages if in_study else [*languages, target], cache_dir, kinds, groups)
    t = ds.codes.index(code)
    sources = [s for s in fit.labels if codes[lang_of[s]] != code]
    vectors, imputed = {}, []
    for d in kinds:
        if d not in ds.matrices:
            continue
        rows = {s: ds.codes.index(codes[lang_of[s]]) for s in sources}
        if all(ds.raw[d][i, t] == MISSING for i in rows.values()):
            continue  # the target shares no feature of this kind with any source: lacking
        vectors[d] = {s: float(ds.matrices[d][i, t]) for s, i in rows.items()}
        imputed += [(d, a, b) for a, b in ds.imputed.get(d, ()) if ds.labels[t] in (a, b)]
    notes = [f"{target} is a study language: its own in-language model is left out of the ranking"] if in_study else []
    return rank_sources(fit, target, vectors, sources, k, alpha, code, uriel_names().get(code, code), imputed, notes)


def ranking_rows(ranking: SourceRanking) -> list[dict]:
    """One flat dict per source (rank, source, predicted, low, high, source effect, a column per distance term),
    the columns a CLI prints or saves as CSV."""
    out = []
    for row in ranking.rows:
        flat = {
            "rank": row.rank,
            "source": row.source,
            "predicted": round(row.predicted, 3),
            "low": round(row.low, 3),
            "high": round(row.high, 3),
            "source_effect": round(row.source_effect, 3),
        }
        out.append(flat | {f"term_{d}": round(v, 3) for d, v in row.contributions.items()})
    return out


def ranking_json(ranking: SourceRanking) -> dict:
    """The whole ranking as a JSON-ready dict: the rows and what was used, lacking, imputed and suggested."""
    payload = asdict(ranking)
    payload["rows"] = ranking_rows(ranking)
    payload["imputed"] = [list(x) for x in ranking.imputed]
    return payload


def write_ranking(ranking: SourceRanking, path: str | Path) -> Path:
    """Save the ranking as CSV (the rows; ``.csv``) or JSON (everything; any other suffix). Returns the path."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        rows = ranking_rows(ranking)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["rank", "source"])
        writer.writeheader()
        writer.writerows([{k: spreadsheet_safe(v) for k, v in r.items()} for r in rows])
        text = buffer.getvalue()
    else:
        text = json.dumps(ranking_json(ranking), indent=2, ensure_ascii=False) + "\n"
    try:
        atomic_write_text(path, text)
    except OSError as err:
        friendly = storage_error(err, path.parent)
        if friendly is None:
            raise
        raise friendly from err
    return path
