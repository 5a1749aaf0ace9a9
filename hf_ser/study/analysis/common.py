"""Helpers shared by the analysis commands only: output folders and thread limits for small fits.

Figures come from :mod:`hf_ser.figures`, JSON files from :mod:`hf_ser.safe_io`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from threadpoolctl import threadpool_limits

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


def feature_cache_dir(run_dir: str | Path, out: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """Where a command caches a run's features (not created): `cache_dir` (``--cache_dir``), else ``features/`` in
    the command's output folder (``out`` or ``RUN_DIR/analysis``)."""
    if cache_dir is not None:
        return Path(cache_dir)
    return (Path(out) if out is not None else Path(run_dir) / ANALYSIS_DIR) / "features"
