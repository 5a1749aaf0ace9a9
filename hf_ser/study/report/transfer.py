"""The report's transfer section: for a runs folder with ``transfer`` runs, the transfer matrix as a heat map ordered
by genetic clustering, a table per distance (beta, standardised beta with its jackknife CI, Mantel r, partial r, p,
Holm p), a scatter of adjusted transfer against each distance with the fit, provenance and the caveats in words;
``transfer.json`` holds every number (:func:`hf_ser.study.transfer.model.fit_json` plus what this module adds)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from hf_ser.figures import new_figure, save_figure
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path
from hf_ser.study.report.provenance import provenance, provenance_text
from hf_ser.study.transfer.grid import GridFit, fit_grid
from hf_ser.study.transfer.model import DEFAULT_PERMUTATIONS, fit_json
from hf_ser.study.transfer.runs_acoustic import ACOUSTIC

FLAGGED_AT_ZERO = (
    "genetic distance is flagged although no genetic effect was planted (genetic_shift 0): the acoustic control "
    "({measure}) does not capture what separates these corpora (on the demo, the eSpeak voices of one lineage "
    "share rules); read the flag as a corpus effect, not a language one"
)


def genetic_order(gf: GridFit) -> list[int]:
    """Unit order for the heat map: average-linkage clustering of the genetic distance (table order without it)."""
    m = gf.fit.distances.get("genetic")
    if m is None or len(m) < 3:
        return list(range(len(gf.fit.labels)))
    return [int(i) for i in leaves_list(linkage(squareform(np.asarray(m), checks=False), method="average"))]


def adjusted_cells(gf: GridFit) -> tuple[np.ndarray, np.ndarray]:
    """(off-diagonal mask, adjusted transfer): each cell minus its source and target effects (the residual plus the
    distances' part), what each distance's scatter shows."""
    fit = gf.fit
    n = len(fit.labels)
    adj = fit.values - fit.source_effects[:, None] - fit.target_effects[None, :]
    mask = ~np.eye(n, dtype=bool) & np.isfinite(fit.values)
    return mask, adj


def caveats(gf: GridFit, genetic_shift: float | None) -> list[str]:
    """The caveats in words: power, the language/corpus confound, the same-language corpus gap, the control."""
    grid, fit = gf.grid, gf.fit
    n = len(fit.labels)
    out = [
        f"{n} source units give {fit.n_cells} cells for {2 * n - 1} source/target effects: power is low (the "
        "simulation in docs/transfer.md puts it near 23% at 2 UAR points per SD of distance with 10 languages); a "
        "distance that is not flagged is not shown to be irrelevant."
    ]
    single = sorted({l for l in grid.languages.values() if list(grid.languages.values()).count(l) == 1})
    if grid.unit == "language" or single:
        out.append(
            "Where a language has one corpus, language and corpus are confounded: a distance between languages is "
            "also a distance between their corpora (recording conditions, speakers, material)."
        )
    gaps = same_language_gaps(gf)
    if gaps:
        text = ", ".join(f"{a}<->{b} {g:+.1f}" for a, b, g in gaps)
        out.append(f"Same-language pairs, corpus gap (transfer minus the in-corpus score, UAR points): {text}.")
    if gf.acoustic.matrix is None:
        out.append(f"No acoustic control: {gf.acoustic.note}.")
    genetic = next((e for e in fit.effects if e.name == "genetic"), None)
    if genetic_shift == 0 and genetic is not None and genetic.significant:
        out.append(FLAGGED_AT_ZERO.format(measure=gf.acoustic.measure) + ".")
    return out


def same_language_gaps(gf: GridFit) -> list[tuple[str, str, float]]:
    """Pairs of units of one language (corpus level): how far transfer falls below the target's in-corpus score."""
    g, out = gf.grid, []
    for i, a in enumerate(g.labels):
        for j, b in enumerate(g.labels):
            if i != j and g.languages[a] == g.languages[b] and np.isfinite(g.values[i, j]):
                out.append((a, b, float(g.values[i, j] - g.values[j, j])))
    return out


def plot_heatmap(gf: GridFit, path: Path) -> Path:
    """The transfer matrix (UAR %, sources in rows, targets in columns) ordered by genetic clustering."""
    order = genetic_order(gf)
    labels = [gf.grid.labels[i] for i in order]
    values = gf.grid.values[np.ix_(order, order)]
    fig = new_figure(1.2 + 0.55 * len(labels), 0.8 + 0.5 * len(labels))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto")
    for r in range(len(labels)):
        for c in range(len(labels)):
            if np.isfinite(values[r, c]):
                ax.text(c, r, f"{values[r, c]:.0f}", ha="center", va="center", fontsize=7, color="white")
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    ax.set_title("Transfer (UAR %), ordered by genetic clustering", fontsize=9, loc="left")
    fig.colorbar(image, ax=ax, label="UAR (%)", fraction=0.04, pad=0.02)
    return save_figure(fig, path)


def plot_scatter(gf: GridFit, path: Path) -> Path:
    """Adjusted transfer (source and target effects removed) against each distance, with the fitted slope beta."""
    fit = gf.fit
    mask, adj = adjusted_cells(gf)
    names = [e.name for e in fit.effects]
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = new_figure(3.2 * cols, 2.6 * rows)
    for k, effect in enumerate(fit.effects):
        ax = fig.add_subplot(rows, cols, k + 1)
        d = np.asarray(fit.distances[effect.name])[mask]
        y = adj[mask]
        ax.scatter(d, y, s=10, alpha=0.7)
        xs = np.linspace(d.min(), d.max(), 2)
        ax.plot(xs, y.mean() + effect.beta * (xs - d.mean()), color="black", lw=1)
        p = "" if effect.control else f", Holm p {effect.p_holm:.3f}"
        ax.set_title(f"{effect.name}: beta {effect.beta:+.2f}{p}", fontsize=8)
        ax.set_xlabel(effect.name, fontsize=7)
        ax.set_ylabel("adjusted UAR (points)", fontsize=7)
    return save_figure(fig, path)


def _fmt(x: float | None, spec: str = ".2f") -> str:
    """A number for the Markdown table ('-' when missing)."""
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def distance_table(gf: GridFit) -> str:
    """The Markdown table, one row per distance (controls marked)."""
    lines = [
        "| distance | beta (UAR pts / unit) | std. beta [95% CI] | Mantel r | partial r | p | Holm p |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in gf.fit.effects:
        name = f"{e.name} (control)" if e.control else e.name
        ci = f"{_fmt(e.std_beta)} [{_fmt(e.std_beta_low)}, {_fmt(e.std_beta_high)}]"
        holm = "-" if e.control else _fmt(e.p_holm, ".4f") + (" *" if e.significant else "")
        partial = _fmt(e.partial_mantel_r)
        lines.append(
            f"| {name} | {_fmt(e.beta)} | {ci} | {_fmt(e.mantel_r)} | {partial} | {_fmt(e.p, '.4f')} | {holm} |"
        )
    return "\n".join(lines)


def transfer_payload(gf: GridFit, runs_dir: Path, prov: dict, notes: list[str]) -> dict:
    """transfer.json: the fit's numbers plus the grid, the distances used, the control, provenance and caveats."""
    grid = gf.grid
    return {
        "source": display_path(runs_dir),
        "unit": grid.unit,
        "units": list(grid.labels),
        "languages": {u: grid.languages[u] for u in grid.labels},
        "n_seeds": grid.n_seeds.tolist(),
        "runs": list(grid.runs),
        "fit": fit_json(gf.fit),
        "distances": {
            "source": gf.distances.source,
            "imputed": {k: [list(p) for p in v] for k, v in gf.distances.imputed.items()},
        },
        ACOUSTIC: {"measure": gf.acoustic.measure, "note": gf.acoustic.note, "used": gf.acoustic.matrix is not None},
        "genetic_order": [grid.labels[i] for i in genetic_order(gf)],
        "same_language_gaps": [{"source": a, "target": b, "gap": g} for a, b, g in same_language_gaps(gf)],
        "provenance": prov,
        "caveats": notes,
    }


def transfer_provenance(runs: list[dict]) -> dict:
    """The report's provenance of the transfer runs, plus their planted genetic_shift (demo corpus only)."""
    prov = provenance(runs)
    data = [r.get("data_args") or {} for r in runs]
    prov["genetic_shift"] = sorted({float(d.get("genetic_shift", 0.0)) for d in data if d.get("demo")})
    return prov


def write_transfer_section(
    runs_dir: str | Path,
    out: Path,
    runs: list[dict],
    n_permutations: int = DEFAULT_PERMUTATIONS,
    acoustic: str = "ltas",
    backbone: str | None = None,
) -> list[str]:
    """Fit the grid's transfer runs (`runs`: their records) with the `acoustic` control (ltas, or embedding of the
    frozen `backbone`), write transfer.json/.md and the two figures into `out`; returns the lines to print."""
    gf = fit_grid(runs_dir, n_permutations=n_permutations, acoustic=acoustic, backbone=backbone)
    prov = transfer_provenance(runs)
    shift = prov["genetic_shift"][0] if len(prov["genetic_shift"]) == 1 else None
    notes = caveats(gf, shift)
    atomic_write_json(out / "transfer.json", transfer_payload(gf, Path(runs_dir), prov, notes))
    plot_heatmap(gf, out / "transfer_matrix.png")
    plot_scatter(gf, out / "transfer_scatter.png")
    fit = gf.fit
    lines = [
        f"## Transfer and linguistic distance ({gf.grid.unit} level, {len(fit.labels)} sources)",
        "",
        f"Model T(s, t) = a_s + b_t + sum_k beta_k d_k(s, t) + e over {fit.n_cells} cells; p-values: {fit.null}; "
        f"{fit.n_permutations} relabellings; Holm over the tested distances. R^2 {_fmt(fit.r2)} "
        f"(source/target effects alone {_fmt(fit.r2_fixed_effects)}).",
        f"Acoustic control: {gf.acoustic.note or gf.acoustic.measure}.",
        provenance_text(prov) + (f" Planted genetic_shift {shift:g}." if shift else ""),
        "",
        distance_table(gf),
        "",
        "Figures: transfer_matrix.png (ordered by genetic clustering), transfer_scatter.png.",
        "",
        "Caveats:",
        *(f"- {c}" for c in notes),
    ]
    if fit.missing_pairs:
        lines.append(
            f"- Pairs without a run (left out of the fit): {', '.join(f'{a}->{b}' for a, b in fit.missing_pairs)}."
        )
    for name, reason in fit.dropped_distances:
        lines.append(f"- {name} not tested: {reason}.")
    markdown = "\n".join(lines) + "\n"
    atomic_write_text(out / "transfer.md", markdown)
    return [markdown]
