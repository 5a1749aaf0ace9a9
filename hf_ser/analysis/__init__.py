"""Figures of the paper from trained runs, as PNGs with their numbers (JSON / CSV) beside them.

    python -m hf_ser.analysis layers RUN_DIR [--split test] [--model ID_OR_DIR]   # Fig. 1
    python -m hf_ser.analysis tsne RUN_DIR --layers 4 18                          # Fig. 2
    python -m hf_ser.analysis tsne RUN_DIR --space projector                      # Fig. 4
    python -m hf_ser.analysis confusion RUN_DIR                                   # Fig. 3
    python -m hf_ser.analysis all RUNS_DIR                                        # everything + index.md/html

Each single command writes into ``RUN_DIR/analysis/``; ``all`` writes into ``RUNS_DIR/analysis/``.
"""

from .confusion import run_confusion
from .features import AnalysisError, extract, layer_names, load_model, num_layer_entries, run_features
from .index import run_all
from .layers import run_layers
from .tsne import default_layers, run_tsne

__all__ = [
    "AnalysisError", "default_layers", "extract", "layer_names", "load_model", "num_layer_entries", "run_all",
    "run_confusion", "run_features", "run_layers", "run_tsne",
]
