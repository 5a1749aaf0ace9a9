"""Figure helpers every module that draws shares: an Agg-backed Figure, PNG saving, fixed colours.

Figures are built with matplotlib's object API (no pyplot state), so they are safe in threads,
subprocesses and tests, and need no display.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hf_ser.labels import EMOTIONS, LANGUAGES


def new_figure(width: float, height: float) -> Figure:
    """An Agg-backed matplotlib Figure (no pyplot state, safe in threads and tests)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path, dpi: int = 130) -> Path:
    """Save `fig` as PNG at `path` (parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def emotion_colours() -> dict[str, tuple]:
    """One fixed colour per emotion (same in every figure)."""
    cmap = colormaps["tab10"]
    return {e: cmap(i) for i, e in enumerate(EMOTIONS)}


def language_colours(codes: list[str]) -> dict[str, tuple]:
    """One colour per language, fixed by its position in the language table."""
    cmap = colormaps["tab10"] if len(LANGUAGES) <= 10 else colormaps["tab20"]
    order = list(LANGUAGES)
    return {c: cmap((order.index(c) if c in order else len(order) + i) % cmap.N) for i, c in enumerate(codes)}
