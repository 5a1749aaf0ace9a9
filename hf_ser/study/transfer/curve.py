"""``hf-ser transfer-sensitivity``: is genetic distance flagged at a strong planted shift, and nothing at shift 0?

Two measurements, written to ``transfer_sensitivity.{json,md,png}`` in ``--output_dir``:

- **Simulated** (always; seconds to a minute): the share of simulated transfer grids (:mod:`.simulate`: the paper's
  real distances, strong source/target effects, seed noise, a corpus effect correlated with language and a noisy
  acoustic control) in which Holm flags a distance, at planted genetic effects of 0, 2, 4 and 8 UAR points per SD.
- **Trained demo grids** (unless ``--simulated_only``): the transfer ``--demo`` grid trained at each
  ``--genetic_shift`` (``<output_dir>/shift<value>``; finished runs are reused, so a killed curve resumes), each
  fitted as ``hf-ser report`` fits it, with the LTAS acoustic control and, beside it, without. Where genetic
  distance is flagged at shift 0 with the control, the output says that the control (the LTAS) fails to capture
  what the eSpeak voices of a lineage share::

    hf-ser transfer-sensitivity --output_dir runs/transfer-curve                 # shifts 0, 2 and 4
    hf-ser transfer-sensitivity --output_dir runs/transfer-curve --shifts 0 1 2 4
    hf-ser transfer-sensitivity --output_dir runs/transfer-curve --simulated_only
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import EXIT_OK, UserError
from hf_ser.experiments.recipe import __main__ as recipe
from hf_ser.figures import new_figure, save_figure
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path
from hf_ser.study.transfer.grid import fit_grid
from hf_ser.study.transfer.model import fit_transfer
from hf_ser.study.transfer.simulate import FlagRate, TransferSpec, format_power_table, power_table

logger = logging.getLogger(__name__)

DEFAULT_SHIFTS = (0.0, 2.0, 4.0)  # measured on the 17-language demo: nothing at 0, genetic flagged at 2 and 4
SIM_EFFECTS = (0.0, 2.0, 4.0, 8.0)  # UAR points per SD of genetic distance; 8 is the size the sources tests plant


def point_dir(output_dir: str | Path, shift: float) -> Path:
    """The runs folder of one shift: ``<output_dir>/shift<value>``."""
    return Path(output_dir) / f"shift{shift:g}"


def train_point(output_dir: str | Path, shift: float, seeds: int, extra: Sequence[str]) -> int:
    """Train (or reuse) the transfer --demo grid at one genetic shift; the recipe's exit code."""
    argv = ["transfer", "--demo", "--genetic_shift", f"{shift:g}", "--seeds", str(seeds)]
    argv += ["--output_dir", str(point_dir(output_dir, shift)), *extra]
    logger.info("transfer sensitivity: hf-ser recipe %s", " ".join(argv))
    return recipe.main(argv)


def analyse_point(output_dir: str | Path, shift: float, n_permutations: int) -> dict:
    """One shift's grid fitted with the acoustic control and without it: is genetic distance flagged?"""
    gf = fit_grid(point_dir(output_dir, shift), n_permutations=n_permutations)
    fit = gf.fit
    genetic = next((e for e in fit.effects if e.name == "genetic"), None)
    bare = fit_transfer(fit.values, fit.labels, {n: fit.distances[n] for n in fit.names}, n_permutations=n_permutations)
    bare_genetic = next((e for e in bare.effects if e.name == "genetic"), None)
    point = {
        "shift": shift,
        "flagged": [e.name for e in fit.effects if e.significant],
        "genetic": None if genetic is None else {k: getattr(genetic, k) for k in ("beta", "p", "p_holm", "mantel_r")},
        "genetic_flagged": bool(genetic and genetic.significant),
        "genetic_flagged_without_control": bool(bare_genetic and bare_genetic.significant),
        "acoustic_control": {"measure": gf.acoustic.measure, "used": gf.acoustic.matrix is not None},
        "verdict": "",
    }
    if shift == 0 and point["genetic_flagged"]:
        point["verdict"] = (
            f"genetic distance is flagged at shift 0 with the {gf.acoustic.measure.upper()} control: the long-term "
            "average spectrum fails to capture what the eSpeak voices of one lineage share (their rules), so the "
            "flag is a corpus effect"
        )
    elif shift == 0:
        point["verdict"] = f"nothing flagged for genetic distance at shift 0 with the {gf.acoustic.measure} control"
    return point


def simulated(n_grids: int, n_permutations: int) -> list[dict]:
    """The flag rates on simulated grids at :data:`SIM_EFFECTS` (Holm family-wise at 0, the planted one above)."""
    rows = power_table(TransferSpec(), SIM_EFFECTS, n_grids, n_permutations)
    return [asdict(r) for r in rows]


def to_markdown(points: list[dict], sim: list[dict]) -> str:
    """The report: the simulated table and one line per trained shift."""
    lines = ["# Transfer sensitivity", "", "## Simulated grids (paper distances, acoustic control)", ""]
    lines.append(format_power_table([FlagRate(**r) for r in sim]))
    if points:
        lines += ["", "## Trained demo grids", ""]
        lines += ["| genetic_shift | genetic beta | p | Holm p | flagged (with control) | flagged without control |"]
        lines += ["|---|---|---|---|---|---|"]
        for p in points:
            g = p["genetic"] or {}
            lines.append(
                f"| {p['shift']:g} | {g.get('beta', float('nan')):+.2f} | {g.get('p', float('nan')):.4f} | "
                f"{g.get('p_holm') or float('nan'):.4f} | {', '.join(p['flagged']) or 'none'} | "
                f"{'genetic' if p['genetic_flagged_without_control'] else 'not genetic'} |"
            )
        lines += [f"- {p['verdict']}" for p in points if p["verdict"]]
    return "\n".join(lines) + "\n"


def plot(points: list[dict], sim: list[dict], path: str | Path) -> Path:
    """Left: simulated share of grids flagging genetic distance against the planted effect (5% and 80% marked).
    Right (with trained grids): genetic distance's p and Holm p per genetic_shift, log scale, the 5% level marked,
    each point labelled with what Holm flagged."""
    fig = new_figure(9.6 if points else 5.0, 3.6)
    axes = fig.subplots(1, 2 if points else 1, squeeze=False)[0]
    ax = axes[0]
    ax.errorbar(
        [r["effect"] for r in sim],
        [100 * (r["any_rate"] if r["effect"] == 0 else r["planted_rate"]) for r in sim],
        yerr=[196 * r["se"] for r in sim],
        marker="o",
        capsize=4,
    )
    ax.axhline(5.0, color="grey", linewidth=1, linestyle=":")
    ax.axhline(80.0, color="grey", linewidth=1, linestyle="--")
    ax.set_ylim(0, 102)
    ax.set_xlabel("planted genetic effect (UAR points per SD, simulated)")
    ax.set_ylabel("grids flagging it, Holm 5% (%)")
    ax.set_title(f"Simulated grids ({sim[0]['n_grids']} per effect; at 0: any distance)", fontsize=9)
    if points:
        ax = axes[1]
        pts = [p for p in points if p["genetic"]]
        xs = [p["shift"] for p in pts]
        ax.plot(xs, [max(p["genetic"]["p"], 1e-4) for p in pts], marker="o", label="genetic p")
        ax.plot(xs, [max(p["genetic"]["p_holm"] or 1.0, 1e-4) for p in pts], marker="s", label="genetic Holm p")
        for x, p in zip(xs, pts):
            text = ", ".join(p["flagged"]) or "none flagged"
            ax.annotate(
                text,
                (x, max(p["genetic"]["p"], 1e-4)),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=8,
            )
        ax.axhline(0.05, color="grey", linewidth=1, linestyle=":")
        ax.set_yscale("log")
        ax.set_ylim(top=3.0)
        ax.margins(x=0.15)
        ax.set_xlabel("genetic_shift (trained demo grids, LTAS control)")
        ax.set_ylabel("p-value")
        ax.legend(fontsize=8)
        ax.set_title("Trained grids: genetic distance's p per shift", fontsize=9)
    return save_figure(fig, path, dpi=150)


def build_parser() -> ArgumentParser:
    """The command's arguments (extra recipe options after ``--``)."""
    parser = ArgumentParser(
        prog="hf-ser transfer-sensitivity",
        description=textwrap.fill(
            "Is genetic distance flagged at a strong planted genetic shift and nothing at shift 0? Simulated "
            "grids, and transfer --demo grids trained at each --genetic_shift, fitted with the acoustic control.",
            88,
        ),
        epilog="examples:\n  hf-ser transfer-sensitivity --output_dir runs/transfer-curve\n"
        "  hf-ser transfer-sensitivity --output_dir runs/transfer-curve --simulated_only --n_grids 100\n"
        "  hf-ser transfer-sensitivity --output_dir runs/tc --shifts 0 2 -- --languages FRE ITA SPA ENG RUS\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output_dir", type=Path, required=True, help="where grids and the report go")
    parser.add_argument("--shifts", type=float, nargs="+", default=list(DEFAULT_SHIFTS), help="genetic shifts")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per transfer run (default 1)")
    parser.add_argument("--simulated_only", action="store_true", help="only the simulated flag rates (no training)")
    parser.add_argument("--analyse_only", action="store_true", help="fit the grids already trained, train nothing")
    parser.add_argument("--n_grids", type=int, default=100, help="simulated grids per effect (default 100)")
    parser.add_argument("--n_permutations", type=int, default=999, help="relabellings per fit (default 999)")
    return parser


@command
def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; exit 0 done, 1 a grid failed to train, 2 a user mistake."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = build_parser().parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    setup_logging()
    if args.n_grids < 1 or args.n_permutations < 19:
        raise UserError("--n_grids must be >= 1 and --n_permutations >= 19 (a p-value below 0.05 needs 19)")
    if any(s < 0 for s in args.shifts):
        raise UserError(f"--shifts must be >= 0, got {args.shifts}")
    points = []
    if not args.simulated_only:
        for shift in args.shifts:
            if not args.analyse_only and train_point(args.output_dir, shift, args.seeds, extra) != EXIT_OK:
                return 1
            points.append(analyse_point(args.output_dir, shift, args.n_permutations))
    sim = simulated(args.n_grids, min(args.n_permutations, 499))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(points, sim)
    atomic_write_json(args.output_dir / "transfer_sensitivity.json", {"simulated": sim, "trained": points})
    atomic_write_text(args.output_dir / "transfer_sensitivity.md", markdown)
    plot(points, sim, args.output_dir / "transfer_sensitivity.png")
    print(markdown + f"\nwritten to {display_path(args.output_dir)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
