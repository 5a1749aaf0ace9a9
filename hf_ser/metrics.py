"""UAR, present-class macro-F1 and WA (weighted accuracy), overall and per language, and the confusion matrix.

The definitions (also shipped as ``evaluate`` metric modules in :mod:`hf_ser.metric_modules`, loaded by
local path, and tested equal to these):

- **UAR** (headline): mean recall over the classes present in ``y_true`` (= balanced accuracy).
- **F1**: macro-F1 over the classes present in ``y_true`` only. scikit-learn's default averages over the
  classes in ``y_true`` *or* ``y_pred``, which charges a zero for every class the model predicts that the
  language lacks: on a 3-class toy at UAR 96.5% that default reports 48.7 against 97.4 here. The paper's
  Romanian (3-class) F1 is at or above its UAR, which only this definition gives. The old number stays
  available as ``f1_sklearn`` (never under "f1").
- **WA**: plain accuracy, as SUPERB and EmoBox report it.
"""

from __future__ import annotations

import functools
import importlib.util
import tempfile
from collections.abc import Sequence
from pathlib import Path

import evaluate
import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

from hf_ser.labels import EMOTIONS, LANGUAGES
from hf_ser.metric_modules import path as metric_module_path

METRIC_NAMES = ("uar", "f1", "wa")
F1_DEFINITION = "macro-F1 over the classes present in each language's test labels"


NO_SCORE = float("nan")  # an empty test set has no score (not 0.0: nothing was got wrong either)


def uar(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Unweighted average recall over the classes present in ``y_true``; NaN (no score) for an empty test set."""
    if not len(y_true):
        return NO_SCORE
    return float(balanced_accuracy_score(y_true, y_pred))


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Macro-F1 averaged over the classes present in ``y_true``; NaN (no score) for an empty test set.

    A prediction of a class the labels lack is a miss (false negative) of the utterance's true class, so it
    lowers that class's recall and F1; its false positive belongs to the absent class, which is not averaged.
    """
    present = np.unique(np.asarray(y_true))
    if not len(present):
        return NO_SCORE
    return float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def macro_f1_sklearn(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """scikit-learn's default macro-F1 (classes in ``y_true`` or ``y_pred``); kept for comparison only."""
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def weighted_accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """WA: plain accuracy (the share of utterances classified correctly); NaN (no score) for an empty test set."""
    return float(accuracy_score(y_true, y_pred)) if len(y_true) else NO_SCORE


_SCRATCH = tempfile.TemporaryDirectory(prefix="hf_ser-metrics-")  # evaluate's own data dir; removed at exit


def _metric(name: str) -> evaluate.Metric:
    """One of the package's metric modules, instantiated from its file in ``hf_ser/metric_modules/<name>/``.

    ``evaluate.load(path)`` would give the same object but copies the script into ~/.cache/huggingface/modules
    on every new machine; importing the file directly writes nothing outside a temporary folder
    (``keep_in_memory``: no Arrow cache files either).
    """
    file = Path(metric_module_path(name)) / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"hf_ser_metric_{name}", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, evaluate.Metric) and v is not evaluate.Metric
    )
    return cls(keep_in_memory=True, cache_dir=_SCRATCH.name)


@functools.lru_cache(maxsize=1)
def evaluate_modules() -> tuple:
    """The package's three ``evaluate`` metric modules (UAR, present-class F1, WA), loaded once.

    One call of the three on 2,000 utterances takes about 12 ms (measured), so tables use them directly. Users of
    ``evaluate`` load the same definitions with ``evaluate.load(hf_ser.metric_modules.path("uar"))``.
    """
    return tuple(_metric(n) for n in ("uar", "present_class_f1", "weighted_accuracy"))


def scores(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """{'uar', 'f1', 'wa', 'n'} for one set of predictions, computed by the package's ``evaluate`` modules.

    F1 averages over the classes present in ``y_true``; the tests check these equal scikit-learn's. An empty test
    set has no score: the three values are None (shown as '-'), never 0.0.
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if not len(y_true):
        return {"uar": None, "f1": None, "wa": None, "n": 0}
    out: dict = {}
    for module in evaluate_modules():
        out.update(module.compute(predictions=y_pred, references=y_true))
    return {"uar": float(out["uar"]), "f1": float(out["f1"]), "wa": float(out["wa"]), "n": len(y_true)}


def per_language_metrics(y_true: Sequence[int], y_pred: Sequence[int], languages: Sequence[str]) -> dict:
    """{'<LANG>': scores, ..., 'all': scores} (languages in table order, unknown codes last).

    Each language's F1 averages over the classes present in that language's own test labels.
    """
    y_true, y_pred, languages = np.asarray(y_true), np.asarray(y_pred), np.asarray(languages)
    order = list(LANGUAGES)
    out = {}
    for lang in sorted(set(languages.tolist()), key=lambda l: (order.index(l) if l in order else len(order), l)):
        m = languages == lang
        out[lang] = scores(y_true[m], y_pred[m])
    out["all"] = scores(y_true, y_pred)
    return out


def confusion(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str] = EMOTIONS) -> dict:
    """Raw-count confusion matrix over a run's classes `labels` (the six emotions by default; rows = true)."""
    m = confusion_matrix(y_true, y_pred, labels=list(range(len(labels))))
    return {"labels": list(labels), "matrix": m.tolist()}


def compute_metrics(eval_pred) -> dict:
    """Trainer hook: overall UAR / present-class macro-F1 / WA from an EvalPrediction (per language comes after).

    An empty evaluation set gives NaN values (no score), which the Trainer logs as such.

    With ``load_best_model_at_end`` the Trainer selects on ``eval_uar`` (``metric_for_best_model="uar"``).
    """
    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    preds = np.asarray(logits).argmax(-1)
    out = scores(np.asarray(eval_pred.label_ids), preds)
    return {k: NO_SCORE if out[k] is None else out[k] for k in METRIC_NAMES}
