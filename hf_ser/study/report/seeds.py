"""Runs of one configuration merged: seeds (and k-fold folds) become one :class:`_Experiment` with mean ± std cells.

Also the paper's language order, which labels a configuration by its training languages.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from hf_ser import labels
from hf_ser.study.report.cells import Cell
from hf_ser.study.report.runs import run_predictions
from hf_ser.study.stats import DEFAULT_RESAMPLES, bootstrap_ci

# One logger for the whole package, named as before the split: log lines read "hf_ser.study.report: ...".
logger = logging.getLogger("hf_ser.study.report")


def _sort_key_language(code: str) -> tuple[int, str]:
    """Sort key of a language code: the paper's order, languages it does not list after it by code."""
    order = list(labels.LANGUAGES)
    return (order.index(code), code) if code in order else (len(order), code)


def _paper_order(codes: Sequence[str]) -> tuple[str, ...]:
    """The language codes in the paper's order."""
    return tuple(sorted(codes, key=_sort_key_language))


def _train_label(codes: Sequence[str]) -> str:
    """A configuration's training languages as its row label, e.g. `ITA, POR, ROM, SPA`."""
    return ", ".join(_paper_order(codes))


@dataclass
class _Experiment:
    """All seeds of one run configuration."""

    family: str
    group: str | None
    train: tuple[str, ...]
    heldout: str | None
    runs: list[dict]
    variant: str | None = None  # balancing-ablation variant and/or backbone (when runs differ in it), else None

    @property
    def label(self) -> str:
        """The row label: training languages in the paper's order, then `[variant]` when there is one."""
        return _train_label(self.train) + (f" [{self.variant}]" if self.variant else "")

    @property
    def seeds(self) -> list[int | None]:
        """Each run's seed (None where the record has none)."""
        return [r.get("seed") for r in self.runs]

    def cell(self, lang: str, n_resamples: int = DEFAULT_RESAMPLES) -> Cell | None:
        """Mean (± sample std) over the seeds that evaluated `lang`, in percent, with 95% bootstrap CIs.

        CIs come from the seeds' predictions.csv (utterances resampled within each seed, seeds resampled when
        there are several); a cell whose runs lack predictions, or `n_resamples` 0, has none.
        """
        evaluated = [r for r in self.runs if lang in r["metrics"]]
        if not evaluated:
            return None
        uars = [100.0 * r["metrics"][lang]["uar"] for r in evaluated]
        f1s = [100.0 * r["metrics"][lang]["f1"] for r in evaluated]
        was = [r["metrics"][lang].get("wa") for r in evaluated]
        wa = 100.0 * statistics.fmean(was) if all(isinstance(w, (int, float)) for w in was) else None
        extra = _cell_intervals(evaluated, lang, n_resamples)
        if len(evaluated) == 1:
            return Cell(uars[0], f1s[0], wa=wa, **extra)
        return Cell(
            statistics.fmean(uars),
            statistics.fmean(f1s),
            statistics.stdev(uars),
            statistics.stdev(f1s),
            len(evaluated),
            wa=wa,
            **extra,
        )


def _cell_intervals(runs: list[dict], lang: str, n_resamples: int) -> dict:
    """{'uar_ci', 'f1_ci', 'wa_ci', 'n'} in percent from the runs' predictions (empty when any run lacks them)."""
    if n_resamples <= 0:
        return {}
    frames = []
    for run in runs:
        df = run_predictions(run, lang)
        if df is None or not len(df):
            return {}
        frames.append(df.drop_duplicates("path").sort_values("path"))
    # Seeds that predicted the same test set share one utterance resample; k-fold folds (different sets) do not.
    shared = all(list(f["path"]) == list(frames[0]["path"]) for f in frames[1:])
    pairs = [(f["y_true"].to_numpy(), f["y_pred"].to_numpy()) for f in frames]
    out: dict = {"n": len(pairs[0][0])}
    for metric in ("uar", "f1", "wa"):
        ci = bootstrap_ci(pairs, metric, n_resamples=n_resamples, seed=0, shared_utterances=shared)
        out[f"{metric}_ci"] = (100.0 * ci["low"], 100.0 * ci["high"])
    return out


def _fold(run: dict) -> int | None:
    """The k-fold / EmoBox / session fold a run tested on, or None for a single split."""
    data = run.get("data_args") or (run.get("config") or {}).get("data") or {}
    return data.get("fold") if data.get("split") in ("kfold", "emobox", "session") else None


def _replicate(run: dict) -> tuple:
    """What tells two runs of one configuration apart: (seed, fold). Folds of a k-fold grid are merged like seeds."""
    return (run.get("seed"), _fold(run))


def _heldout(run: dict) -> str | None:
    """The held-out language of a run (from its record, else inferred for cross_group), or None."""
    heldout = run.get("heldout_language")
    if heldout:
        return str(heldout).upper()
    if run["family"] != "cross_group":
        return None
    # Older files may lack the field: the held-out language is the one of the group not trained on.
    members = labels.groups().get(run.get("group") or "", [])
    missing = [c for c in members if c not in run["train_languages"]]
    return missing[0] if len(missing) == 1 else None


TABLE_FAMILIES = ("single_language", "multilingual", "cross_group")


def _backbone(run: dict) -> str:
    """The short name of the backbone a run fine-tuned (the last part of its model_name_or_path)."""
    name = str((run.get("config") or {}).get("model", {}).get("model_name_or_path") or "")
    return name.rstrip("/").rsplit("/", 1)[-1] or "?"


def _experiments(runs: list[dict], family: str) -> list[_Experiment]:
    """Group the runs of one family by configuration, merging seeds.

    Runs that differ in backbone are different configurations: when the runs hold more than one backbone, each
    row is labelled with its backbone, so backbones compare side by side.
    """
    by_key: dict[tuple, _Experiment] = {}
    several = len({_backbone(r) for r in runs if r["family"] in TABLE_FAMILIES}) > 1
    for run in runs:
        if run["family"] != family:
            continue
        train = _paper_order(run["train_languages"])
        variant = " ".join(filter(None, [run.get("variant"), _backbone(run) if several else None])) or None
        key = (family, run.get("group"), train, _heldout(run), variant)
        exp = by_key.setdefault(key, _Experiment(family, run.get("group"), train, _heldout(run), [], variant))
        duplicate = next((r for r in exp.runs if _replicate(r) == _replicate(run)), None)
        if duplicate is not None:
            logger.warning(
                "duplicate run for %s seed %s: keeping %s, ignoring %s",
                run["run"],
                run.get("seed"),
                duplicate["_path"],
                run["_path"],
            )
            continue
        exp.runs.append(run)
    return list(by_key.values())
