"""A :class:`~hf_ser.study.report.cells.Table` as a PNG heat map (colour = UAR), paper rows in their own panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hf_ser.study.report.cells import Cell, Table


def _heat_panel(
    fig: Figure, ax: Any, rows: list[tuple[str, list[Cell | None]]], columns: list[str], title: str, cmap_name: str
) -> None:
    """One heat map of `rows` on its own colour scale (the panel's UAR range, colour map `cmap_name`) and bar."""
    values = np.array([[np.nan if c is None else c.uar for c in cells] for _, cells in rows], dtype=float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
    if high - low < 1.0:
        low, high = low - 0.5, high + 0.5
    cmap = colormaps[cmap_name].with_extremes(bad="#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=low, vmax=high, aspect="auto")
    for r, (_, cells) in enumerate(rows):
        for c, cell in enumerate(cells):
            if cell is None:
                continue
            red, green, blue, _ = cmap((cell.uar - low) / (high - low))
            colour = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
            ax.text(c, r, str(cell), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=8, loc="left")
    fig.colorbar(image, ax=ax, label="UAR (%)", fraction=0.03, pad=0.01)


def table_figure(table: Table) -> Figure:
    """The heat map of the table: colour = UAR, text = the cell; `//` cells are grey.

    The paper's published rows (``--paper``) are a separate panel with their own colour scale and colour bar:
    real-corpus numbers and demo numbers on one scale would read as comparable. The runs' provenance is printed
    under the figure.
    """
    if not table.rows:
        raise ValueError(f"{table.name} has no rows to plot")
    cut = min((i for i in table.rule_before if 0 < i < len(table.rows)), default=len(table.rows))
    if min(table.rule_before, default=1) == 0:
        cut = 0  # only paper rows
    halves = (
        (table.rows[:cut], "these runs", "viridis"),
        (table.rows[cut:], "the paper's published numbers", "cividis"),  # another map: visibly another scale
    )
    panels = [half for half in halves if half[0]]
    with_std = any(c is not None and c.n_seeds > 1 for _, cells in table.rows for c in cells)
    cell_w = 1.55 if with_std else 1.0
    label_w = 0.09 * max(len(label) for label, _ in table.rows) + 0.4
    heights = [len(rows) for rows, _, _ in panels]
    fig = Figure(
        figsize=(label_w + cell_w * len(table.columns) + 1.2, 1.6 + 0.42 * sum(heights) + 0.6 * len(panels)),
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, (rows, name, cmap_name) in zip(axes, panels):
        scale = "own colour scale" if len(panels) > 1 else "colour = UAR"
        _heat_panel(fig, ax, rows, table.columns, f"{name} ({scale})", cmap_name)
    fig.suptitle(table.title, fontsize=9)
    if table.provenance:
        fig.supxlabel(table.provenance, fontsize=7)
    return fig


def plot_table(table: Table, path: str | Path) -> Path:
    """Write :func:`table_figure` to `path` (PNG, 150 dpi); returns the path."""
    fig = table_figure(table)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    return path
