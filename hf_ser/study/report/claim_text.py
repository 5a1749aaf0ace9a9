"""The claim check in words: printed lines, summaries, p-values, ``claims.md`` and ``claims.json``'s payload."""

from __future__ import annotations

import numpy as np

from hf_ser import labels
from hf_ser.study.report.claims import EXCHANGEABILITY, TIE_POINTS, lineage_test
from hf_ser.study.stats import ALPHA, CONDITIONAL_NULL, RANK_NULL

_KIND_TEXT = {"own": "own group", "other": "other group", "mixed": "mixed groups"}


def claim_line(result: dict) -> str:
    """One printable line, e.g. `FRE: best unseen UAR 58.4 from ITA, POR, ROM, SPA (own group) -> yes ...`."""
    line = (
        f"{result['language']}: best unseen UAR {result['best_uar']:.1f} from {result['best_train']} "
        f"({_KIND_TEXT[result['best_kind']]}) -> {result['verdict']}"
    )
    if result["margin"] is None:
        return line + " (no other-group run evaluated it)"
    return (
        line + f" (margin {result['margin']:+.1f} points: own group {result['own_group_uar']:.1f} vs "
        f"best other {result['best_other_uar']:.1f} from {result['best_other_train']}; "
        f"{_mean_text(result)}, margin over mean {result['mean_margin']:+.1f}{_ci_text(result)}; "
        f"own rank {result['rank']} of {result['n_configs']})"
    )


def _ci_text(result: dict) -> str:
    """`` [95% CI a, b]`` (hierarchical bootstrap) or '' without predictions."""
    if result.get("mean_margin_ci") is None:
        return ""
    low, high = result["mean_margin_ci"]
    return f" [95% CI {low:+.1f}, {high:+.1f}]"


def format_p(p: float | None) -> str:
    """A p-value for a table cell: 3 decimals, '< 0.001', or '//' when not computed."""
    if p is None:
        return "//"
    return f"{p:.3f}" if p >= 0.001 else "< 0.001"


def format_p_is(p: float) -> str:
    """A p-value in a sentence: 'p = 0.016' or 'p < 0.001'."""
    return f"p = {p:.3f}" if p >= 0.001 else "p < 0.001"


def lineage_text(check: dict) -> list[str]:
    """The headline test and the per-group figures in words, every p-value with the null it tests."""
    if not check:
        return ["Lineage test: nothing to rank (no held-out language was evaluated by both groups' configurations)."]
    t = check["test"]
    ci = t["mean_margin_ci"]
    ci_text = f" [95% CI {ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else ""
    verdict = "significant" if t["significant"] else "not significant"
    lines = [
        f"Lineage test (configuration level, exact rank test over {t['n_languages']} held-out languages): own-group "
        f"rank sum {t['rank_sum']} (expected {t['expected_rank_sum']:g} without a lineage effect), one-sided "
        f"{format_p_is(t['p'])}: {verdict} at {t['alpha']:g}. Mean own-group margin {t['mean_margin']:+.1f} points"
        f"{ci_text}. Null tested: {t['null']}.",
        EXCHANGEABILITY,
    ]
    for group, g in check["groups"].items():
        ci = g["mean_margin_ci"]
        lines.append(
            f"{labels.group_title(group)} (descriptive): own group best for {g['best_count']} of {g['n_languages']} "
            f"(the paper's statistic), {format_p_is(g['p_best_count'])} under the rank null with independent "
            "languages; "
            f"rank sum {g['rank_sum']}, {format_p_is(g['p'])} (same null); mean margin {g['mean_margin']:+.1f}"
            + (f" [95% CI {ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else "")
            + ". A per-group figure cannot tell lineage from this group's training data being better everywhere."
        )
    return lines


def conditional_summary(results: list[dict]) -> str:
    """The utterance-only paired tests in words, labelled as conditional on the trained networks; '' when none ran."""
    tested = [r for r in results if r.get("p_conditional") is not None]
    if not tested:
        return ""
    small = [r for r in tested if r["p_conditional_holm"] <= ALPHA]
    listed = ", ".join(f"{r['language']} {r['mean_margin']:+.1f}" for r in small) or "none"
    return (
        f"Conditional on these trained networks (utterance-only paired bootstrap, Holm over {len(tested)} "
        f"languages): Holm p <= {ALPHA} for {len(small)} ({listed}). This holds the trainings fixed: it says "
        "these particular networks differ on these languages, not that lineage matters; retraining moves UAR "
        "by a few points, which this test ignores."
    )


def _mean_text(result: dict) -> str:
    """`other-group mean U±S of N configurations` (no std for a single configuration)."""
    if result["n_other"] == 1:
        return f"other-group mean {result['mean_other_uar']:.1f} of 1 configuration"
    return (
        f"other-group mean {result['mean_other_uar']:.1f}±{result['std_other_uar']:.1f} of "
        f"{result['n_other']} configurations"
    )


def claim_summary(results: list[dict]) -> str:
    """`k of n held-out languages transfer best within their own group`, with a per-group breakdown."""
    judged = [r for r in results if r["verdict"] != "n/a"]
    if not judged:
        return "Lineage claim (Sec. 4.3): no held-out language was evaluated by both its own group and another group."
    k = sum(r["verdict"] == "yes" for r in judged)
    parts = []
    for group in dict.fromkeys(r["group"] for r in judged):
        rows = [r for r in judged if r["group"] == group]
        parts.append(f"{labels.group_title(group)} {sum(r['verdict'] == 'yes' for r in rows)}/{len(rows)}")
    ties = sum(r["verdict"] == "tie" for r in judged)
    tie_text = f"; {ties} tie{'s' if ties != 1 else ''} within {TIE_POINTS} points" if ties else ""
    means = []
    for group in dict.fromkeys(r["group"] for r in judged):
        m = [r["mean_margin"] for r in judged if r["group"] == group]
        above = sum(x >= TIE_POINTS for x in m)
        means.append(f"{labels.group_title(group)} {above}/{len(m)}, mean {float(np.mean(m)):+.1f} points")
    return (
        f"Lineage claim (Sec. 4.3): {k} of {len(judged)} held-out languages transfer best within their own group "
        f"({', '.join(parts)}{tie_text}). Own group above the other group's mean: {'; '.join(means)}."
    )


P_LEGEND = (
    "p-values: *p (rank null)* = rank / configurations compared, exact under: {rank}. *p (conditional)* and its "
    "Holm correction: {conditional}; it never decides significance. 95% CI of the margin: hierarchical bootstrap "
    "over configurations, seeds and test utterances."
)


def claims_markdown(results: list[dict], title: str, context: str = "") -> str:
    """The claim check as a Markdown section: context, summary, the lineage test, a per-language table, a legend."""
    tested = any(r.get("p_conditional") is not None for r in results)
    lines = [f"## {title}", ""]
    if context:
        lines += [context, ""]
    lines += [claim_summary(results), ""]
    lines += [*(f"{line}\n" for line in lineage_text(lineage_test(results)))]
    if tested:
        lines += [conditional_summary(results), ""]
    lines += [
        "| Held-out | Group | Own-group UAR (train set) | Best other-group UAR (train set) "
        "| Margin (points) | Own group best? | Other-group mean ± std (configurations) | Margin over mean "
        "| Own rank | p (rank null) |" + (" 95% CI | p (conditional) | Holm p (conditional) |" if tested else ""),
        "|---|---|---|---|---|---|---|---|---|---|" + ("---|---|---|" if tested else ""),
    ]
    for r in results:
        other = "//" if r["best_other_uar"] is None else f"{r['best_other_uar']:.1f} ({r['best_other_train']})"
        margin = "//" if r["margin"] is None else f"{r['margin']:+.1f}"
        mean = (
            "//"
            if r["mean_other_uar"] is None
            else (f"{r['mean_other_uar']:.1f} ± {r['std_other_uar']:.1f} ({r['n_other']})")
        )
        mean_margin = "//" if r["mean_margin"] is None else f"{r['mean_margin']:+.1f}"
        rank = "//" if r["rank"] is None else f"{r['rank']} of {r['n_configs']}"
        row = (
            f"| {r['language']} | {r['group_title']} | {r['own_group_uar']:.1f} ({r['own_group_train']}) | "
            f"{other} | {margin} | {r['verdict']} | {mean} | {mean_margin} | {rank} | {format_p(r['p_rank'])} |"
        )
        if tested:
            if r.get("p_conditional") is None:
                row += " // | // | // |"
            else:
                low, high = r["mean_margin_ci"]
                conditional = f"{format_p(r['p_conditional'])} | {format_p(r['p_conditional_holm'])}"
                row += f" [{low:+.1f}, {high:+.1f}] | {conditional} |"
        lines.append(row)
    lines += ["", P_LEGEND.format(rank=RANK_NULL, conditional=CONDITIONAL_NULL)]
    return "\n".join(lines) + "\n"


def claims_payload(results: list[dict], alpha: float = ALPHA) -> dict:
    """claims.json's view of one claim check: summary, the lineage test, per-language rows (no bootstrap draws)."""
    return {
        "summary": claim_summary(results),
        "lineage_test": lineage_test(results, alpha),
        "conditional": conditional_summary(results),
        "p_value_nulls": {
            "p_rank": RANK_NULL,
            "p_conditional": CONDITIONAL_NULL,
            "p_conditional_holm": CONDITIONAL_NULL + "; Holm-corrected over the languages",
        },
        "languages": [{k: v for k, v in r.items() if not k.startswith("_")} for r in results],
    }
