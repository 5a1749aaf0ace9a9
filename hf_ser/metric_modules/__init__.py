"""The package's metric definitions as Hugging Face ``evaluate`` metric modules, loaded by local path.

``evaluate.load("uar")`` would fetch a script from the Hub; these modules ship inside the package and
load with no network: ``evaluate.load(hf_ser.metric_modules.path("uar"))``. They are the exact
definitions the tables use (:mod:`hf_ser.metrics` computes the same numbers with scikit-learn and a
test checks both agree):

- ``uar``: unweighted average recall over the classes present in the references (balanced accuracy);
- ``present_class_f1``: macro-F1 averaged over the classes present in the references only, so a
  3-class language is not charged a zero for every class the model predicts that the language lacks;
- ``weighted_accuracy``: WA, plain accuracy (what SUPERB and EmoBox call WA).
"""

from __future__ import annotations

from pathlib import Path

MODULES = ("uar", "present_class_f1", "weighted_accuracy")
HERE = Path(__file__).parent


def path(name: str) -> str:
    """Local folder of one metric module, for ``evaluate.load(path(name))`` (no network)."""
    if name not in MODULES:
        raise ValueError(f"unknown hf_ser metric {name!r}; available: {', '.join(MODULES)}")
    return str(HERE / name)
