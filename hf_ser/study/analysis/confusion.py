"""Fig. 3: row-normalised confusion matrices from a run's predictions.csv, overall and per language group.

The most-confused emotions are listed (directed: true -> predicted rate; and pairs: the mean of both
directions, e.g. the paper's sadness <-> fear) in the JSON, under the figure and on stdout.

    hf-ser analysis confusion RUN_DIR
"""

from __future__ import annotations

import logging
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps

from hf_ser.figures import new_figure, save_figure
from hf_ser.labels import EMOTIONS, LANGUAGES, group_title, language_order
from hf_ser.metrics import confusion, scores
from hf_ser.safe_io import atomic_write_json
from hf_ser.study.analysis.common import analysis_dir
from hf_ser.train.runs import prediction_labels, read_predictions

logger = logging.getLogger(__name__)


def row_normalize(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its total (recall on the diagonal); rows with no utterance are NaN."""
    totals = counts.sum(1, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), np.nan)


def top_confusions(norm: np.ndarray, counts: np.ndarray, k: int = 3, labels: Sequence[str] = EMOTIONS) -> list[dict]:
    """The `k` largest off-diagonal rates: {'true', 'pred', 'rate', 'count'} (ties: larger count first); `labels`
    are the run's classes (the six emotions by default)."""
    n = len(labels)
    cells = [
        (norm[i, j], counts[i, j], i, j)
        for i in range(n)
        for j in range(n)
        if i != j and not np.isnan(norm[i, j]) and counts[i, j] > 0
    ]
    cells.sort(key=lambda c: (-c[0], -c[1], c[2], c[3]))
    return [{"true": labels[i], "pred": labels[j], "rate": float(r), "count": int(c)} for r, c, i, j in cells[:k]]


def top_pairs(norm: np.ndarray, k: int = 3, labels: Sequence[str] = EMOTIONS) -> list[dict]:
    """The `k` class pairs most confused in either direction, ranked by the mean of both row-normalised rates."""
    pairs = []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            ab, ba = norm[i, j], norm[j, i]
            both = [v for v in (ab, ba) if not np.isnan(v)]
            if not both or max(both) == 0:
                continue
            pairs.append(
                {
                    "pair": [labels[i], labels[j]],
                    "rate": float(np.mean(both)),
                    "a_to_b": None if np.isnan(ab) else float(ab),
                    "b_to_a": None if np.isnan(ba) else float(ba),
                }
            )
    pairs.sort(key=lambda p: -p["rate"])
    return pairs[:k]


def panel(df: pd.DataFrame, name: str, title: str, top: int = 3, labels: Sequence[str] = EMOTIONS) -> dict:
    """Counts, row-normalised matrix, UAR/F1 and the most-confused cells of the rows of `df` (classes `labels`)."""
    counts = np.asarray(confusion(df["y_true"].to_numpy(), df["y_pred"].to_numpy(), labels)["matrix"])
    norm = row_normalize(counts)
    with warnings.catch_warnings():  # a language without some emotion: UAR over the emotions it has
        warnings.simplefilter("ignore", UserWarning)
        metrics = scores(df["y_true"].to_numpy(), df["y_pred"].to_numpy())
    return {
        "name": name,
        "title": title,
        "languages": language_order(df["language"]),
        **metrics,
        "labels": list(labels),
        "counts": counts.tolist(),
        "normalised": [[None if np.isnan(v) else round(float(v), 5) for v in row] for row in norm],
        "top_confusions": top_confusions(norm, counts, top, labels),
        "top_pairs": top_pairs(norm, top, labels),
    }


def _group(code: str) -> str:
    return LANGUAGES[code].group if code in LANGUAGES else "unknown"


def confusion_panels(
    df: pd.DataFrame, top: int = 3, labels: Sequence[str] = EMOTIONS
) -> tuple[list[dict], dict[str, dict]]:
    """(figure panels: overall then one per language group when there are several; per-language panels), over the
    run's classes `labels`."""
    groups = list(dict.fromkeys(_group(c) for c in language_order(df["language"])))
    if len(groups) == 1:
        title = f"All ({group_title(groups[0])}: {', '.join(language_order(df['language']))})"
        panels = [panel(df, "all", title, top, labels)]
    else:
        panels = [panel(df, "all", "All languages", top, labels)]
        for g in groups:
            part = df[df["language"].map(_group) == g]
            title = f"{group_title(g)} ({', '.join(language_order(part['language']))})"
            panels.append(panel(part, g, title, top, labels))
    per_language = {c: panel(df[df["language"] == c], c, c, top, labels) for c in language_order(df["language"])}
    return panels, per_language


def describe(p: dict) -> str:
    """'sadness->fear 21.0%, fear->sadness 15.0% | pairs: sadness<->fear 18.0%'."""
    directed = ", ".join(f"{c['true']}->{c['pred']} {100 * c['rate']:.1f}%" for c in p["top_confusions"]) or "none"
    pairs = ", ".join(f"{a}<->{b} {100 * q['rate']:.1f}%" for q in p["top_pairs"] for a, b in [q["pair"]]) or "none"
    return f"{directed} | pairs (mean of both directions): {pairs}"


def plot_confusions(panels: list[dict], path: str | Path, suptitle: str, caption: str) -> Path:
    """Row-normalised matrices side by side, percent in each cell; rows without utterances are grey."""
    width = 5.0 * len(panels) + 0.8
    fig = new_figure(width, 6.0)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    cmap = colormaps["Blues"].with_extremes(bad="#d9d9d9")
    image = None
    for ax, p in zip(axes, panels):
        norm = np.array([[np.nan if v is None else v for v in row] for row in p["normalised"]], dtype=float)
        image = ax.imshow(np.ma.masked_invalid(norm), cmap=cmap, vmin=0.0, vmax=1.0)
        labels = p["labels"]
        for i in range(len(labels)):
            for j in range(len(labels)):
                v = norm[i, j]
                text = "n/a" if np.isnan(v) else f"{100 * v:.0f}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if not np.isnan(v) and v > 0.6 else "black",
                )
        ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{p['title']}\nUAR {100 * p['uar']:.1f} / F1 {100 * p['f1']:.1f} (n={p['n']})", fontsize=9)
    fig.colorbar(image, ax=axes[-1], fraction=0.046, pad=0.04, label="share of the true emotion's utterances")
    fig.suptitle(suptitle, fontsize=10)
    fig.supxlabel(textwrap.fill(caption, int(width * 16)), fontsize=7.5)
    return save_figure(fig, path)


def run_confusion(run_dir: str | Path, out: str | Path | None = None, top: int = 3) -> dict:
    """Write confusion.{png,json} (overall + per group; per language in the JSON) and print the top confusions."""
    run_dir = Path(run_dir)
    df = read_predictions(run_dir)
    out_dir = analysis_dir(run_dir, out)
    panels, per_language = confusion_panels(df, top, prediction_labels(df))
    caption = "Most confused (row-normalised, true->predicted): " + describe(panels[0])
    plot_confusions(
        panels, out_dir / "confusion.png", f"{run_dir.name}: row-normalised confusion matrices (%)", caption
    )
    payload = {
        "figure": "Fig. 3: row-normalised confusion matrices",
        "run": run_dir.name,
        "run_dir": str(run_dir),
        "source": str(run_dir / "predictions.csv"),
        "rows": "true emotion",
        "columns": "predicted emotion",
        "caption": caption,
        "panels": panels,
        "per_language": per_language,
    }
    atomic_write_json(out_dir / "confusion.json", payload)
    print(f"{run_dir.name}: {caption}")
    for p in panels[1:]:
        print(f"  {p['title']}: {describe(p)}")
    print(f"written: {out_dir / 'confusion'}.{{png,json}}")
    return payload
