"""UAR: unweighted average recall over the classes present in the references (hf_ser's headline metric)."""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Unweighted average recall (UAR, = balanced accuracy): the mean over the classes that occur in
the references of the recall of each class. Classes that occur only in the predictions do not enter the mean."""
_KWARGS = """Args:
    predictions (list of int): predicted class ids.
    references (list of int): true class ids.
Returns:
    uar (float): in [0, 1].
"""


class Uar(evaluate.Metric):
    """UAR over the classes present in the references."""

    def _info(self):
        """Metric card: integer predictions and references."""
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        """Mean per-class recall over the reference classes."""
        y_pred, y_true = np.asarray(predictions), np.asarray(references)
        recalls = [float(np.mean(y_pred[y_true == c] == c)) for c in np.unique(y_true)]
        return {"uar": float(np.mean(recalls)) if recalls else 0.0}
