"""Small helpers shared by the analysis commands: output folders, JSON, figures, colours."""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display: set before pyplot is imported anywhere

from matplotlib import colormaps  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ..labels import EMOTIONS, LANGUAGES  # noqa: E402

ANALYSIS_DIR = "analysis"
# Below this many rows, scikit-learn's OpenMP / BLAS thread pools cost more than they give: on busy or
# shared cores their spinning threads made a 24-point Barnes-Hut t-SNE take 75 s instead of 0.4 s.
SINGLE_THREAD_ROWS = 1000


def thread_limit(rows: int) -> AbstractContextManager:
    """One OpenMP/BLAS thread for small problems (< SINGLE_THREAD_ROWS rows), the libraries' default otherwise."""
    return threadpool_limits(limits=1) if rows < SINGLE_THREAD_ROWS else nullcontext()


def analysis_dir(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """``out`` or ``RUN_DIR/analysis``, created."""
    path = Path(out) if out is not None else Path(run_dir) / ANALYSIS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    """Write `obj` as indented UTF-8 JSON atomically (a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def new_figure(width: float, height: float) -> Figure:
    """An Agg-backed matplotlib Figure (no pyplot state, safe in threads and tests)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

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


def language_order(codes) -> list[str]:
    """Distinct codes in table order (unknown codes last, alphabetically)."""
    order = list(LANGUAGES)
    return sorted(set(codes), key=lambda c: (order.index(c) if c in order else len(order), c))
