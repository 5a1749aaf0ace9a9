"""Metrics equal scikit-learn's (UAR, macro-F1 over present classes, WA), and so do the evaluate modules."""

import evaluate
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from hf_ser.metric_modules import MODULES
from hf_ser.metric_modules import path as metric_path
from hf_ser.metrics import compute_metrics, confusion, macro_f1, macro_f1_sklearn, per_language_metrics


def _three_class_toy(stray: int = 0):
    """630 clips of 3 classes (210 each), 96.5%-ish correct; `stray` errors go to classes the language lacks."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 3, 5], 210)
    p = y.copy()
    wrong = rng.choice(len(y), 22, replace=False)
    p[wrong] = np.where(y[wrong] == 0, 3, 0)
    if stray:
        p[wrong[:stray]] = 1  # disgust: absent from this language
    return y, p


def test_metrics_equal_sklearn():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 6, 300), rng.integers(0, 6, 300)
    langs = rng.choice(["FRE", "ITA", "ENG"], 300)
    m = per_language_metrics(y, p, langs)
    assert list(m) == ["FRE", "ITA", "ENG", "all"]  # table order
    for lang in ("FRE", "ITA", "ENG"):
        k = langs == lang
        assert m[lang]["uar"] == pytest.approx(balanced_accuracy_score(y[k], p[k]))
        present = np.unique(y[k])
        assert m[lang]["f1"] == pytest.approx(f1_score(y[k], p[k], labels=present, average="macro"))
        assert m[lang]["wa"] == pytest.approx(accuracy_score(y[k], p[k]))
        assert m[lang]["n"] == k.sum()
    assert m["all"]["uar"] == pytest.approx(balanced_accuracy_score(y, p))
    c = confusion(y, p)
    assert np.asarray(c["matrix"]).sum() == 300 and len(c["labels"]) == 6


def test_f1_averages_over_present_classes_only():
    y, p = _three_class_toy()
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, labels=[0, 3, 5], average="macro"))
    assert macro_f1(y, p) > 0.95
    # a model predicting classes the language lacks: sklearn's default counts them as zero-F1 classes
    y, p = _three_class_toy(stray=12)
    assert macro_f1_sklearn(y, p) < 0.8 * macro_f1(y, p)
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, labels=[0, 3, 5], average="macro"))


@pytest.mark.parametrize("classes", [[0, 3, 5], [0, 3, 4, 5], list(range(6))])
def test_evaluate_modules_equal_sklearn(classes):
    rng = np.random.default_rng(len(classes))
    y = rng.choice(classes, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, 6, 200))
    got = {}
    for name in MODULES:
        got.update(evaluate.load(metric_path(name), keep_in_memory=True).compute(predictions=p, references=y))
    assert got["uar"] == pytest.approx(balanced_accuracy_score(y, p))
    assert got["f1"] == pytest.approx(f1_score(y, p, labels=np.unique(y), average="macro", zero_division=0))
    assert got["wa"] == pytest.approx(accuracy_score(y, p))


def test_compute_metrics_reports_uar_f1_wa():
    class Pred:
        predictions = np.eye(6)[[0, 1, 2, 2]]
        label_ids = np.array([0, 1, 2, 3])

    out = compute_metrics(Pred())
    assert set(out) == {"uar", "f1", "wa"} and out["wa"] == pytest.approx(0.75)
