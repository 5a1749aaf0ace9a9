"""Figure helpers every module that draws shares: an Agg-backed Figure, PNG saving, fixed colours.

Figures are built with matplotlib's object API (no pyplot state), so they are safe in threads,
subprocesses and tests, and need no display.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def emotion_colours(labels: Sequence[str] = EMOTIONS) -> dict[str, tuple]:
    """One fixed colour per class of a run's label set (the six emotions by default: the same in every figure);
    tab10 for the first ten, tab20b after them."""
    base, extra = colormaps["tab10"], colormaps["tab20b"]
    return {e: base(i) if i < base.N else extra((i - base.N) % extra.N) for i, e in enumerate(labels)}


def language_colours(codes: list[str]) -> dict[str, tuple]:
    """One colour per language, fixed by its position in the language table: the first ten (the paper's) keep
    tab10's colours whatever is added after them, the others take tab20b's."""
    base, extra = colormaps["tab10"], colormaps["tab20b"]
    order = list(LANGUAGES)
    index = {c: order.index(c) if c in order else len(order) + i for i, c in enumerate(codes)}
    return {c: base(k) if k < base.N else extra((k - base.N) % extra.N) for c, k in index.items()}
