"""UAR (= balanced accuracy) and macro-F1, overall and per language, and the confusion matrix.

Thin wrappers around scikit-learn (``evaluate.load`` needs the network to fetch its scripts).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score

from .labels import EMOTIONS, LANGUAGES


def uar(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Unweighted average recall over the classes present in ``y_true``."""
    return float(balanced_accuracy_score(y_true, y_pred))


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Macro-F1 over the classes that occur in ``y_true`` or ``y_pred`` (scikit-learn's default)."""
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def scores(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """{'uar', 'f1', 'n'} for one set of predictions."""
    return {"uar": uar(y_true, y_pred), "f1": macro_f1(y_true, y_pred), "n": int(len(y_true))}


def per_language_metrics(y_true: Sequence[int], y_pred: Sequence[int], languages: Sequence[str]) -> dict:
    """{'<LANG>': scores, ..., 'all': scores} (languages in table order, unknown codes last)."""
    y_true, y_pred, languages = np.asarray(y_true), np.asarray(y_pred), np.asarray(languages)
    order = list(LANGUAGES)
    out = {}
    for lang in sorted(set(languages.tolist()), key=lambda l: (order.index(l) if l in order else len(order), l)):
        m = languages == lang
        out[lang] = scores(y_true[m], y_pred[m])
    out["all"] = scores(y_true, y_pred)
    return out


def confusion(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """Raw-count confusion matrix over the six emotions (rows = true)."""
    m = confusion_matrix(y_true, y_pred, labels=list(range(len(EMOTIONS))))
    return {"labels": list(EMOTIONS), "matrix": m.tolist()}


def compute_metrics(eval_pred) -> dict:
    """Trainer hook: overall UAR / macro-F1 from an EvalPrediction (per-language metrics come after)."""
    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    preds = np.asarray(logits).argmax(-1)
    return {"uar": uar(eval_pred.label_ids, preds), "f1": macro_f1(eval_pred.label_ids, preds)}
