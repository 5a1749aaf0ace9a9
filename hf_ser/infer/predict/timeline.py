"""The emotion timeline of one file as a PNG: a band of the top label per segment over each emotion's
probability in time."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator

from hf_ser.safe_io import display_path, safe_name

EMOTION_COLOURS = {
    "anger": "#d62728",
    "disgust": "#2ca02c",
    "fear": "#9467bd",
    "happiness": "#ff7f0e",
    "neutral": "#0f7f8c",
    "sadness": "#1f4fb4",
}
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
MINUTES_FROM = 120.0  # s: a timeline this long or longer is labelled in minutes
POINTS_FROM = 20  # segments: above this many, probabilities are drawn as joined points at segment centres


def plot_name(path: str) -> str:
    """PNG file name of a file's timeline: its stem made safe plus a hash of the full path (no collisions)."""
    digest = hashlib.sha1(os.fsencode(path)).hexdigest()[:8]
    return f"{safe_name(Path(path).stem)[:80]}-{digest}.png"


def label_colours(labels: Sequence[str]) -> dict[str, str]:
    """A colour per label: fixed ones for the six emotions (neutral a dark teal that reads on white and beside the
    shading, not a grey), matplotlib's tab10 for any other label of an external model."""
    spare = iter(c for c in TAB10 if c not in EMOTION_COLOURS.values())
    return {label: EMOTION_COLOURS.get(label) or next(spare, "#000000") for label in labels}


def _band_cells(segments: Sequence[dict], overlapping: bool) -> list[tuple[float, float, str]]:
    """(start, end, top label) of each cell of the label band: a segment's own span, or for overlapping windows
    the stretch closer to that window's centre than to its neighbours' (so cells never cover each other)."""
    if not overlapping:
        return [(r["start"], r["end"], r["label"]) for r in segments]
    centres = [(r["start"] + r["end"]) / 2 for r in segments]
    cells = []
    for k, r in enumerate(segments):
        lo = r["start"] if k == 0 else max(r["start"], (centres[k - 1] + centres[k]) / 2)
        hi = r["end"] if k == len(segments) - 1 else min(r["end"], (centres[k] + centres[k + 1]) / 2)
        cells.append((lo, hi, r["label"]))
    return cells


def _time_axis(ax, duration: float) -> None:
    """Seconds on the x axis, or m:ss from MINUTES_FROM seconds on (a 10-minute file reads 0:00 ... 10:00)."""
    if duration < MINUTES_FROM:
        ax.set_xlabel("time (s)")
        return
    ax.set_xlabel("time (min:s)")
    minutes = next((m for m in (1, 2, 5, 10, 15, 30, 60) if duration / (60 * m) <= 12), 120)  # at most 12 ticks
    ax.xaxis.set_major_locator(MultipleLocator(60 * minutes))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(x // 60)}:{int(round(x % 60)):02d}"))


def timeline_figure(rows: Sequence[dict]) -> Figure:
    """One file's emotion timeline: a band with the top label of each segment (readable at any length: a
    10-minute file's 60 segments are coloured blocks), and under it each emotion's probability over time (steps
    over the classified segments, broken where there is no segment; a point per segment at its centre, joined, when
    windows overlap or there are more than POINTS_FROM segments), segments shaded, the file's label in the title;
    minutes on the time axis for long files."""
    file_row = rows[-1]
    segments = [r for r in rows if r["kind"] == "segment" and r["probs"]] or [r for r in rows if r["probs"]]
    labels = list(segments[0]["probs"]) if segments else []
    colours = label_colours(labels)
    duration = max(file_row["end"], 1e-3)
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    band, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 5])
    overlapping = any(b["start"] < a["end"] - 1e-6 for a, b in pairwise(segments))
    # many segments: a point per segment at its centre, joined (flat steps broken at each pause read as dashes)
    as_points = overlapping or len(segments) > POINTS_FROM
    for start, end, label in _band_cells(segments, overlapping):
        band.axvspan(start, end, color=colours.get(label, "#000000"), linewidth=0)
    band.set_yticks([])
    band.set_ylabel("top", rotation=0, ha="right", va="center", fontsize=8)
    band.tick_params(axis="x", labelbottom=False)
    for i, r in enumerate([] if overlapping else segments):  # shading overlapping windows would cover everything
        ax.axvspan(r["start"], r["end"], color="#000000", alpha=0.04 if i % 2 else 0.08, linewidth=0)
    for label in labels:
        xs: list[float] = []
        ys: list[float] = []
        for r in segments:
            if as_points:  # overlapping windows or many segments: one point per segment, at its centre
                xs.append((r["start"] + r["end"]) / 2)
                ys.append(r["probs"][label])
                continue
            if xs and r["start"] > xs[-1] + 1e-6:  # a pause: break the line
                xs.append(np.nan)
                ys.append(np.nan)
            xs += [r["start"], r["end"]]
            ys += [r["probs"][label]] * 2
        ax.plot(xs, ys, color=colours[label], label=label, linewidth=1.2, marker="." if as_points else None, ms=4)
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 1.02)
    _time_axis(ax, duration)
    ax.set_ylabel("probability")
    summary = f"{file_row['label']} ({file_row['score']:.2f})" if file_row["label"] else (file_row["error"] or "")
    band.set_title(f"{display_path(Path(file_row['path']).name)}: {summary}", fontsize=9)
    if labels:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def plot_timeline(rows: Sequence[dict], png: str | Path) -> Path:
    """Save :func:`timeline_figure` of one file's rows as a PNG."""
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    timeline_figure(rows).savefig(png, dpi=110)
    return png
