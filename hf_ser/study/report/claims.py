"""The Section 4.3 claim check: per held-out language, own-group versus other-group configurations.

Margins with hierarchical-bootstrap CIs, the conditional paired test, Holm over the languages, and the headline
configuration-level rank test (:func:`lineage_test`). The paper's Table 3 can be checked too (:func:`paper_runs`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hf_ser import labels
from hf_ser.study import paper_results
from hf_ser.study.report.runs import report_groups, run_predictions
from hf_ser.study.report.seeds import _Experiment, _experiments
from hf_ser.study.stats import (
    ALPHA,
    BEST_COUNT_NULL,
    DEFAULT_RESAMPLES,
    RANK_NULL,
    hierarchical_margin_ci,
    holm,
    lineage_rank_test,
    own_rank,
    paired_margin_test,
)

# One logger for the whole package, named as before the split: log lines read "hf_ser.study.report: ...".
logger = logging.getLogger("hf_ser.study.report")

TIE_POINTS = 0.05  # margins smaller than this (in UAR points) are ties at one-decimal precision


def paper_runs() -> list[dict]:
    """The paper's Table 3 as cross_group run dicts, so the claim check can run on it too."""
    runs = []
    for train, cells in paper_results.TABLE3.items():
        heldout = paper_results.TABLE3_HELDOUT[train]
        runs.append(
            {
                "run": f"paper-{heldout}",
                "family": "cross_group",
                "train_languages": list(train),
                "group": labels.LANGUAGES[heldout].group if heldout in labels.LANGUAGES else None,
                "heldout_language": heldout,
                "seed": None,
                "_path": paper_results.TABLE3_SOURCE,
                "metrics": {lang: {"uar": u / 100.0, "f1": f / 100.0} for lang, (u, f) in cells.items()},
            }
        )
    return runs


def check_lineage_claim(runs: list[dict], n_resamples: int = DEFAULT_RESAMPLES, alpha: float = ALPHA) -> list[dict]:
    """Section 4.3, per held-out language: is its best unseen UAR the one trained on its own group, and by how much?

    Candidates are the cross_group configurations that evaluated the language without training on it, each
    scored by its mean over seeds. ``margin`` is own-group UAR minus the best other-group UAR (the paper's
    reading; one against the best of N is biased against the own group), ``mean_margin`` own-group UAR minus
    the mean of the other-group configurations (:func:`hf_ser.study.stats.config_margin`: every configuration weighs
    the same whatever its seed count; the CI and the conditional test use the same definition).

    Per language: ``rank`` of the own configuration among the ``n_configs`` (1 = best) and ``p_rank`` =
    rank / n_configs, exact under :data:`hf_ser.study.stats.RANK_NULL` (never below 1/6 with six configurations, so
    no single language can be significant; ``significant`` is its Holm-corrected decision). With predictions.csv
    (and `n_resamples` > 0): ``mean_margin_ci`` from the hierarchical bootstrap (configurations, seeds and
    utterances), and ``p_conditional`` / ``p_conditional_holm``, the utterance-only paired test, which holds the
    trained networks fixed (:data:`hf_ser.study.stats.CONDITIONAL_NULL`) and never decides ``significant``.
    """
    experiments = _experiments(runs, "cross_group")
    results = []
    for group, members in report_groups(runs).items():
        for lang in members:
            candidates, tested = _candidates(experiments, lang, members)
            own = [c for c in candidates if c["kind"] == "own"]
            if not own:
                continue  # never held out of its own group
            results.append(_language_result(lang, group, candidates, own, tested, n_resamples, alpha))
    _correct(results, alpha)
    return results


def _candidates(
    experiments: list[_Experiment], lang: str, members: list[str]
) -> tuple[list[dict], dict[str, list[_Experiment]]]:
    """The configurations that evaluated `lang` without training on it, and their experiments by kind.

    Each candidate is {'train', 'kind' (own/other/mixed group of `members`), 'uar', 'f1', 'n_seeds'}, scored by its
    mean over seeds; ``tested`` maps 'own' and 'other' (mixed included) to the experiments behind them.
    """
    candidates = []
    tested: dict[str, list[_Experiment]] = {"own": [], "other": []}
    for exp in experiments:
        if lang in exp.train or (cell := exp.cell(lang, 0)) is None:
            continue
        inside = [c for c in exp.train if c in members]
        kind = "own" if len(inside) == len(exp.train) else ("other" if not inside else "mixed")
        candidates.append({"train": exp.label, "kind": kind, "uar": cell.uar, "f1": cell.f1, "n_seeds": cell.n_seeds})
        tested["own" if kind == "own" else "other"].append(exp)
    return candidates, tested


def _language_result(
    lang: str,
    group: str,
    candidates: list[dict],
    own: list[dict],
    tested: dict[str, list[_Experiment]],
    n_resamples: int,
    alpha: float,
) -> dict:
    """One held-out language's row of :func:`check_lineage_claim`: best own versus other configurations, margins,
    rank and the margin tests (``significant`` and ``p_conditional_holm`` are filled in by :func:`_correct`)."""
    others = [c for c in candidates if c["kind"] != "own"]
    best_own = max(own, key=lambda c: c["uar"])
    best_other = max(others, key=lambda c: c["uar"]) if others else None
    other_uars = np.array([c["uar"] for c in others], dtype=float)
    mean_other = float(other_uars.mean()) if others else None
    std_other = float(other_uars.std(ddof=1)) if len(others) > 1 else (0.0 if others else None)
    if best_other is None:
        margin, verdict, best = None, "n/a", best_own
    else:
        margin = best_own["uar"] - best_other["uar"]
        verdict = "tie" if abs(margin) < TIE_POINTS else ("yes" if margin > 0 else "no")
        best = best_own if margin > -TIE_POINTS else best_other
    rank = own_rank(best_own["uar"], other_uars) if others else None
    return {
        "language": lang,
        "group": group,
        "group_title": labels.group_title(group),
        "best_uar": best["uar"],
        "best_f1": best["f1"],
        "best_train": best["train"],
        "best_kind": best["kind"],
        "best_is_own_group": best["kind"] == "own",
        "own_group_uar": best_own["uar"],
        "own_group_train": best_own["train"],
        "best_other_uar": None if best_other is None else best_other["uar"],
        "best_other_train": None if best_other is None else best_other["train"],
        "margin": margin,
        "verdict": verdict,
        "mean_other_uar": mean_other,
        "std_other_uar": std_other,
        "n_other": len(others),
        "mean_margin": None if mean_other is None else best_own["uar"] - mean_other,
        "rank": rank,
        "n_configs": len(others) + 1 if others else None,
        "p_rank": None if rank is None else rank / (len(others) + 1),
        "significant": None,
        **_margin_tests(
            lang,
            [e for e in tested["own"] if e.label == best_own["train"]][:1],
            tested["other"],
            n_resamples,
            alpha,
        ),
        "candidates": candidates,
    }


def _aligned(lang: str, runs: list[dict]) -> tuple[Any, list[Any]] | None:
    """(y_true, [y_pred per run]) over the held-out language's utterances every run predicted, aligned by path."""
    frames = []
    for run in runs:
        df = run_predictions(run, lang)
        if df is None or not len(df):
            return None
        frames.append(df.drop_duplicates("path").set_index("path"))
    common = frames[0].index
    for df in frames[1:]:
        common = common.intersection(df.index)
    if not len(common):
        return None
    if any(len(df) != len(common) for df in frames):
        logger.warning("%s: runs predicted different test utterances; comparing the %d they share", lang, len(common))
    common = common.sort_values()
    y_true = frames[0].loc[common, "y_true"].to_numpy()
    if any((df.loc[common, "y_true"].to_numpy() != y_true).any() for df in frames[1:]):
        logger.warning("%s: runs disagree on test labels; margin not tested", lang)
        return None
    return y_true, [df.loc[common, "y_pred"].to_numpy() for df in frames]


_NO_TEST = {
    "tested_margin": None,
    "mean_margin_ci": None,
    "p_conditional": None,
    "p_conditional_holm": None,
    "n_test": None,
}


def _margin_tests(lang: str, own: list[_Experiment], other: list[_Experiment], n_resamples: int, alpha: float) -> dict:
    """Hierarchical-bootstrap CI of the margin and the conditional paired test (percent points), or None fields.

    The configurations' seeds are aligned by test path; both use :func:`hf_ser.study.stats.config_margin`'s definition.
    """
    if n_resamples <= 0 or not own or not other:
        return dict(_NO_TEST)
    configs = [[r for r in e.runs if lang in r["metrics"]] for e in (*own, *other)]
    configs = [c for c in configs if c]
    if len(configs) < 2 or not configs[0]:
        return dict(_NO_TEST)
    aligned = _aligned(lang, [r for c in configs for r in c])
    if aligned is None:
        return dict(_NO_TEST)
    y_true, flat = aligned
    grouped, i = [], 0
    for c in configs:
        grouped.append(flat[i : i + len(c)])
        i += len(c)
    seed = sum(map(ord, lang))
    ci = hierarchical_margin_ci(y_true, grouped[0], grouped[1:], "uar", n_resamples, alpha, seed=seed)
    conditional = paired_margin_test(y_true, grouped[0], grouped[1:], "uar", n_resamples, alpha, seed=seed)
    return {
        "tested_margin": 100.0 * ci["margin"],  # equals mean_margin when the predictions match metrics.json
        "mean_margin_ci": [100.0 * ci["low"], 100.0 * ci["high"]],
        "p_conditional": conditional["p"],
        "p_conditional_holm": None,
        "n_test": ci["n"],
        "_draws": 100.0 * ci["draws"],
    }


def _correct(results: list[dict], alpha: float) -> None:
    """Holm over the languages, in place: rank p-values -> ``significant``; conditional p -> ``p_conditional_holm``."""
    ranked = [r for r in results if r.get("p_rank") is not None]
    _, significant = holm([r["p_rank"] for r in ranked], alpha)
    for r, sig in zip(ranked, significant):
        r["significant"] = bool(sig)
    tested = [r for r in results if r.get("p_conditional") is not None]
    adjusted, _ = holm([r["p_conditional"] for r in tested], alpha)
    for r, p in zip(tested, adjusted):
        r["p_conditional_holm"] = p


EXCHANGEABILITY = (
    "Assumption: apart from lineage, the configurations that evaluate a held-out language are exchangeable. Each "
    "trains on four languages: the own-group configuration on the held-out language's four relatives, each "
    "other-group configuration on four of the other group's five (the five together cover all of them). "
    "Differences in corpus size, recording conditions or label sets between the groups' training data break "
    "this; the test over both groups cancels a group whose models are better everywhere, a per-group test cannot."
)


def lineage_test(results: list[dict], alpha: float = ALPHA) -> dict:
    """The headline, configuration-level test over every ranked held-out language, and descriptive per-group figures.

    Returns {'test': {...}, 'groups': {group: {...}}} or {} when nothing was ranked. ``test`` is
    :func:`hf_ser.study.stats.lineage_rank_test` over all languages (the only source of ``significant``), with the mean
    margin and its CI (each language's hierarchical-bootstrap draws averaged, languages resampled independently).
    Each group gets the paper's statistic, "own group best for k of n", with its exact p under the rank null with
    independent languages, the rank-sum p, and the mean margin; they are descriptive (a per-group test cannot tell
    lineage from one group's training data being better everywhere, and configurations shared between a group's
    languages make its languages dependent).
    """
    ranked = [r for r in results if r.get("rank") is not None]
    if not ranked:
        return {}

    def summary(rows: list[dict]) -> dict:
        """Rank test, best count and mean margin (with CI where every row has draws) over `rows`."""
        t = lineage_rank_test([r["own_group_uar"] for r in rows], [_other_uars(r) for r in rows], alpha)
        draws = [r.get("_draws") for r in rows]
        ci = None
        if all(d is not None for d in draws):
            mean = np.mean(np.stack(draws), axis=0)
            ci = [float(np.quantile(mean, alpha / 2)), float(np.quantile(mean, 1 - alpha / 2))]
        return {
            "languages": [r["language"] for r in rows],
            "n_languages": len(rows),
            "rank_sum": t["rank_sum"],
            "expected_rank_sum": float(sum((m + 1) / 2 for m in t["sizes"])),
            "p": t["p"],
            "best_count": t["best_count"],
            "p_best_count": t["p_best_count"],
            "mean_margin": float(np.mean([r["mean_margin"] for r in rows])),
            "mean_margin_ci": ci,
        }

    overall = summary(ranked)
    test = {
        "statistic": "sum over held-out languages of the own-group configuration's rank (1 = best)",
        **overall,
        "null": RANK_NULL,
        "p_best_count_null": BEST_COUNT_NULL,
        "alternative": "own-group configurations rank higher (one-sided)",
        "assumption": EXCHANGEABILITY,
        "ci_method": "hierarchical bootstrap (configurations, seeds, utterances) per language, languages averaged",
        "alpha": alpha,
        "significant": bool(overall["p"] <= alpha),
    }
    groups = {}
    for group in dict.fromkeys(r["group"] for r in ranked):
        g = summary([r for r in ranked if r["group"] == group])
        groups[group] = {
            **g,
            "p_null": RANK_NULL + "; per group, also independent languages",
            "p_best_count_null": BEST_COUNT_NULL,
            "note": "descriptive: decides nothing (a per-group test cannot separate lineage from this group's "
            "training data being better everywhere)",
        }
    return {"test": test, "groups": groups}


def _other_uars(result: dict) -> list[float]:
    """The UARs of the configurations other than the own-group one that evaluated the result's language."""
    return [c["uar"] for c in result["candidates"] if c["kind"] != "own"]
