"""The few-shot study's outputs: the summary per k, the table (CSV, Markdown), the curve and their files."""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

from hf_ser.experiments.few_shot.inputs import Study
from hf_ser.figures import new_figure, save_figure
from hf_ser.labels import EMOTIONS
from hf_ser.safe_io import atomic_write_json, atomic_write_text


def summarise(results: list[dict], zero: dict) -> list[dict]:
    """One row per k (k = 0 is the zero-shot point): mean and sample std over seeds of UAR and F1 (percent)."""
    rows = [
        {
            "k": 0,
            "uar": 100 * zero["uar"],
            "uar_std": 0.0,
            "f1": 100 * zero["f1"],
            "f1_std": 0.0,
            "n_seeds": 1,
            "n_train": 0,
            "label": "zero-shot (base model)",
        }
    ]
    for k in sorted({r["k"] for r in results}):
        rs = [r for r in results if r["k"] == k]
        uars, f1s = [100 * r["uar"] for r in rs], [100 * r["f1"] for r in rs]
        rows.append(
            {
                "k": k,
                "uar": statistics.fmean(uars),
                "uar_std": statistics.stdev(uars) if len(rs) > 1 else 0.0,
                "f1": statistics.fmean(f1s),
                "f1_std": statistics.stdev(f1s) if len(rs) > 1 else 0.0,
                "n_seeds": len(rs),
                "n_train": int(statistics.fmean(r["n_train"] for r in rs)),
                "label": f"{k}-shot",
            }
        )
    return rows


def _cell(mean: float, std: float, n: int) -> str:
    """A table cell: mean ± std over seeds, the mean alone when there is one seed."""
    return f"{mean:.1f}±{std:.1f}" if n > 1 else f"{mean:.1f}"


def table_rows(payload: dict) -> list[list[str]]:
    """Rows of the few-shot table (k, shots, utterances, UAR, F1, seeds) with the upper bound last."""
    rows = [
        [
            str(r["k"]),
            r["label"],
            str(r["n_train"]),
            _cell(r["uar"], r["uar_std"], r["n_seeds"]),
            _cell(r["f1"], r["f1_std"], r["n_seeds"]),
            str(r["n_seeds"]),
        ]
        for r in payload["summary"]
    ]
    ub = payload["upper_bound"]
    if ub is None:
        rows.append(["", "in-language upper bound", "", "not found", "not found", ""])
    else:
        rows.append(
            [
                "",
                f"in-language upper bound ({ub['name']}, {ub['family']})",
                "",
                _cell(ub["uar"], ub["uar_std"], ub["n_seeds"]),
                _cell(ub["f1"], ub["f1_std"], ub["n_seeds"]),
                str(ub["n_seeds"]),
            ]
        )
    return rows


HEADER = ["k", "setting", "train utterances", "UAR (%)", "F1 (%)", "seeds"]


def to_csv(payload: dict) -> str:
    """The table as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(table_rows(payload))
    return buffer.getvalue()


def to_markdown(payload: dict) -> str:
    """The table as Markdown, with a caption saying what was adapted and where the upper bound comes from."""
    lines = [
        f"**Few-shot adaptation to {payload['language']}** from `{payload['base_run']}` (trained on "
        f"{', '.join(payload['base_train_languages'])}); k utterances per emotion from the {payload['language']} "
        f"train split, evaluated on its test split (n={payload['n_test']}). Mean ± std over seeds "
        f"{', '.join(map(str, payload['seeds']))}.",
        "",
    ]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "|".join(["---"] * len(HEADER)) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in table_rows(payload))
    lines.append("")
    lines.append(payload["upper_bound_note"])
    return "\n".join(lines) + "\n"


def plot_few_shot(payload: dict, path: Path) -> Path:
    """UAR and F1 against k (symlog axis): seeds as dots, mean ± std, zero-shot at k=0, upper bound dashed."""
    fig = new_figure(10.5, 4.0)
    axes = fig.subplots(1, 2, sharex=True)
    summary = payload["summary"]
    ks = [r["k"] for r in summary]
    for ax, metric, name in zip(axes, ("uar", "f1"), ("UAR", "macro-F1")):
        for r in payload["results"]:
            ax.plot(r["k"], 100 * r[metric], "o", color="tab:blue", alpha=0.3, ms=4)
        means = [r[metric] for r in summary]
        stds = [r[f"{metric}_std"] for r in summary]
        ax.errorbar(ks, means, yerr=stds, fmt="o-", color="tab:blue", lw=2, capsize=3, label="few-shot (mean ± std)")
        ax.plot([0], [means[0]], "D", color="tab:red", ms=8, label=f"zero-shot {means[0]:.1f}", zorder=5)
        ub = payload["upper_bound"]
        if ub is not None:
            ax.axhline(ub[metric], ls="--", color="tab:green", label=f"in-language ({ub['name']}) {ub[metric]:.1f}")
        ax.axhline(100 / len(payload.get("classes", EMOTIONS)), ls=":", color="grey", label="chance")
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("k (training utterances per emotion)")
        ax.set_ylabel(f"{name} (%)")
        ax.set_title(f"{payload['language']} test {name}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    note = "" if payload["upper_bound"] is not None else " (no in-language run found for the upper bound)"
    fig.suptitle(f"Few-shot adaptation of {payload['base_run']} to {payload['language']}{note}", fontsize=10)
    return save_figure(fig, path)


def write_outputs(study: Study, payload: dict) -> None:
    """few_shot.{json,csv,md,png} in the study folder."""
    out = study.out
    atomic_write_json(out / "few_shot.json", payload)
    atomic_write_text(out / "few_shot.csv", to_csv(payload))
    atomic_write_text(out / "few_shot.md", to_markdown(payload))
    plot_few_shot(payload, out / "few_shot.png")
