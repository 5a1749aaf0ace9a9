"""Macro-F1 over the classes present in the references (hf_ser's F1 column)."""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Macro-F1 averaged over the classes that occur in the references only. scikit-learn's default
(average='macro' over classes in references or predictions) charges a zero for every class the model predicts
that the test set lacks, which for a 3-class language (Romanian) halves the score; this definition does not."""
_KWARGS = """Args:
    predictions (list of int): predicted class ids.
    references (list of int): true class ids.
Returns:
    f1 (float): in [0, 1].
"""


class PresentClassF1(evaluate.Metric):
    """Macro-F1 over the reference classes."""

    def _info(self):
        """Metric card: integer predictions and references."""
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        """Per reference class: 2 TP / (2 TP + FP + FN) (0 when undefined); their mean."""
        y_pred, y_true = np.asarray(predictions), np.asarray(references)
        scores = []
        for c in np.unique(y_true):
            tp = float(np.sum((y_pred == c) & (y_true == c)))
            fp = float(np.sum((y_pred == c) & (y_true != c)))
            fn = float(np.sum((y_pred != c) & (y_true == c)))
            scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        return {"f1": float(np.mean(scores)) if scores else 0.0}
