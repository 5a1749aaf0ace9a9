"""WA: weighted accuracy, i.e. plain accuracy (as SUPERB and EmoBox report it)."""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Weighted accuracy (WA): the share of utterances classified correctly (plain accuracy)."""
_KWARGS = """Args:
    predictions (list of int): predicted class ids.
    references (list of int): true class ids.
Returns:
    wa (float): in [0, 1].
"""


class WeightedAccuracy(evaluate.Metric):
    """Plain accuracy."""

    def _info(self):
        """Metric card: integer predictions and references."""
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        """Share of predictions equal to the reference."""
        y_pred, y_true = np.asarray(predictions), np.asarray(references)
        return {"wa": float(np.mean(y_pred == y_true)) if len(y_true) else 0.0}
