"""How strong must a lineage effect be for the Section 4.3 check to see it? A sensitivity curve on the demo corpus.

The synthetic corpus can plant a lineage effect (``--lineage_shift``: Neo-Latin voices share emotion profiles
that differ from the other group's). This command trains the cross_group grid (10 leave-one-out models) at
each shift and seed, then runs the claim check on each shift's runs: the per-language own-group margins over
the other group's mean with paired bootstrap CIs and Holm correction, and one pooled test of the mean margin.
It writes ``sensitivity.{json,csv,md,png}`` and names the smallest shift the grid detects at 5%::

    python -m hf_ser.sensitivity --output_dir runs/sensitivity                  # shifts 0 0.5 1, 2 seeds
    python -m hf_ser.sensitivity --output_dir runs/sensitivity --analyse_only   # redo the analysis only

Cost: one cross_group --demo grid is about 13 minutes on 2 idle CPU cores (5 epochs), so the default
3 shifts x 2 seeds is about 80 minutes plus one synthetic corpus per shift; finished runs are reused, so a
killed curve resumes. Extra recipe options go after ``--``: ``-- --languages FRE ITA ARA BEN``.
"""

from __future__ import annotations

import csv
import io
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import recipe, report
from .console import ArgumentParser, command, setup_logging
from .errors import UserError
from .safe_io import atomic_write_json, atomic_write_text, display_path
from .stats import ALPHA, DEFAULT_RESAMPLES

logger = logging.getLogger(__name__)

DEFAULT_SHIFTS = (0.0, 0.5, 1.0)


def shift_dir(output_dir: str | Path, shift: float) -> Path:
    """The runs folder of one shift: ``<output_dir>/shift<value>`` (e.g. shift0.5)."""
    return Path(output_dir) / f"shift{shift:g}"


def train_shift(output_dir: str | Path, shift: float, seeds: int, extra: Sequence[str]) -> int:
    """Train (or reuse) the cross_group --demo grid at one lineage shift; returns the recipe's exit code."""
    argv = [
        "cross_group",
        "--demo",
        "--lineage_shift",
        f"{shift:g}",
        "--seeds",
        str(seeds),
        "--output_dir",
        str(shift_dir(output_dir, shift)),
        *extra,
    ]
    logger.info("sensitivity: python -m hf_ser.recipe %s", " ".join(argv))
    return recipe.main(argv)


def analyse_shift(output_dir: str | Path, shift: float, n_resamples: int, alpha: float = ALPHA) -> dict:
    """The claim check at one shift: per-language margins and significance, and the pooled test."""
    runs = report.load_runs(shift_dir(output_dir, shift))
    comparisons: list = []
    claims = report.check_lineage_claim(runs, n_resamples, alpha, comparisons)
    pooled = report.pooled_from_comparisons(comparisons, n_resamples, alpha)
    tested = [c for c in claims if c.get("p_value") is not None]
    return {
        "shift": shift,
        "languages": {
            c["language"]: {
                "group": c["group"],
                "margin": c["mean_margin"],
                "ci": c["mean_margin_ci"],
                "p": c["p_value"],
                "p_holm": c["p_holm"],
                "significant": c["significant"],
            }
            for c in claims
        },
        "n_tested": len(tested),
        "n_significant_positive": sum(bool(c["significant"]) and c["mean_margin"] > 0 for c in tested),
        "pooled": pooled,
        "seeds": sorted({r.get("seed") for r in runs if r.get("family") == "cross_group"}),
    }


def smallest_detected(points: list[dict], key: str = "pooled") -> float | None:
    """Smallest shift from which on every larger shift is detected too; None if none is.

    Detected: the pooled mean own-group margin is significantly *positive* (key 'pooled'), or every tested
    language's margin is (key 'all'). A significantly negative margin is not a lineage effect.
    """
    detected = None
    for point in sorted(points, key=lambda p: p["shift"], reverse=True):
        pooled = point["pooled"].get("all", {})
        ok = (
            bool(pooled.get("significant")) and pooled.get("margin", 0) > 0
            if key == "pooled"
            else (point["n_tested"] > 0 and point["n_significant_positive"] == point["n_tested"])
        )
        if not ok:
            break
        detected = point["shift"]
    return detected


def to_csv(points: list[dict]) -> str:
    """One line per shift: pooled margin and CI, p, languages significant after Holm."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["shift", "mean_margin", "ci_low", "ci_high", "p", "significant", "n_significant_positive", "n_tested"]
    )
    for p in points:
        t = p["pooled"].get("all") or {}
        writer.writerow(
            [
                p["shift"],
                *(f"{v:.2f}" if v is not None else "" for v in (t.get("margin"), *(t.get("ci") or (None, None)))),
                f"{t['p']:.4f}" if t else "",
                t.get("significant", ""),
                p["n_significant_positive"],
                p["n_tested"],
            ]
        )
    return buffer.getvalue()


def to_markdown(points: list[dict], detected: float | None, all_ten: float | None) -> str:
    """The curve as a Markdown table and a sentence naming the smallest shift detected at 5%."""
    lines = [
        "| lineage_shift | mean own-group margin (points) | 95% CI | p | margins significant (Holm) |",
        "|---|---|---|---|---|",
    ]
    for p in points:
        t = p["pooled"].get("all")
        if not t:
            lines.append(f"| {p['shift']:g} | // | // | // | // |")
            continue
        lines.append(
            f"| {p['shift']:g} | {t['margin']:+.1f} | [{t['ci'][0]:+.1f}, {t['ci'][1]:+.1f}] | "
            f"{t['p']:.3f} | {p['n_significant_positive']} of {p['n_tested']} |"
        )
    found = "none of the shifts tried" if detected is None else f"lineage_shift {detected:g}"
    every = "none of the shifts tried" if all_ten is None else f"{all_ten:g}"
    lines += [
        "",
        (
            f"Smallest shift detected at 5% (pooled paired bootstrap of the mean margin): {found}. "
            f"Smallest shift with all per-language margins significant after Holm: {every}."
        ),
    ]
    return "\n".join(lines) + "\n"


def plot(points: list[dict], path: str | Path) -> Path:
    """Mean own-group margin with its 95% CI against the shift, and the count of significant languages."""
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pts = [p for p in points if p["pooled"].get("all")]
    xs = [p["shift"] for p in pts]
    ys = [p["pooled"]["all"]["margin"] for p in pts]
    lo = [y - p["pooled"]["all"]["ci"][0] for y, p in zip(ys, pts)]
    hi = [p["pooled"]["all"]["ci"][1] - y for y, p in zip(ys, pts)]
    ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, label="mean own-group margin (95% CI)")
    ax.axhline(0.0, color="grey", linewidth=1)
    for x, y, p in zip(xs, ys, pts):
        ax.annotate(
            f"{p['n_significant_positive']}/{p['n_tested']}",
            (x, y),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=8,
        )
    ax.set_xlabel("lineage_shift (planted effect)")
    ax.set_ylabel("UAR points")
    ax.set_title("Sec. 4.3 check on the synthetic corpus (labels: languages significant after Holm)", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    return path


@command
def main(argv: Sequence[str] | None = None) -> int:
    """CLI: train the cross_group demo grid per shift and seed, then write the sensitivity curve; exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = ArgumentParser(
        prog="hf-ser sensitivity",
        description="Sensitivity of the Sec. 4.3 check to a planted lineage effect (demo corpus).",
    )
    parser.add_argument("--output_dir", type=Path, default=Path("runs/sensitivity"), help="where runs and results go")
    parser.add_argument("--shifts", type=float, nargs="+", default=list(DEFAULT_SHIFTS), help="lineage shifts to try")
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per shift")
    parser.add_argument("--n_resamples", type=int, default=DEFAULT_RESAMPLES, help="bootstrap resamples")
    parser.add_argument("--analyse_only", action="store_true", help="do not train; analyse the runs already there")
    args = parser.parse_args(argv)
    setup_logging()
    if args.seeds < 1 or args.n_resamples < 1 or any(s < 0 for s in args.shifts):
        raise UserError("--seeds and --n_resamples must be >= 1 and every shift >= 0")
    shifts = sorted(set(args.shifts))
    if not args.analyse_only:
        for shift in shifts:
            code = train_shift(args.output_dir, shift, args.seeds, extra)
            if code != 0:
                logger.error("training at lineage_shift %g failed (exit %d)", shift, code)
                return code
    points = [analyse_shift(args.output_dir, s, args.n_resamples) for s in shifts]
    detected = smallest_detected(points, "pooled")
    all_ten = smallest_detected(points, "all")
    payload = {
        "shifts": shifts,
        "seeds": args.seeds,
        "points": points,
        "smallest_detected_shift": detected,
        "smallest_shift_all_languages_significant": all_ten,
        "alpha": ALPHA,
    }
    out = Path(args.output_dir)
    atomic_write_json(out / "sensitivity.json", payload)
    atomic_write_text(out / "sensitivity.csv", to_csv(points))
    markdown = to_markdown(points, detected, all_ten)
    atomic_write_text(out / "sensitivity.md", markdown)
    plot(points, out / "sensitivity.png")
    print(markdown)
    print(f"written to {display_path(out)}/sensitivity.{{json,csv,md,png}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
