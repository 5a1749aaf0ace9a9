"""hf_ser: multilingual and cross-lingual speech emotion recognition on Hugging Face.

The names a user imports are importable from here (``from hf_ser import build_model, SERTrainer``) and listed in
``__all__`` and the README's "Python API". Each is looked up in its stage's module the first time it is asked for
(PEP 562 ``__getattr__``): ``import hf_ser`` stays instant (no torch, no datasets) and the top of the package
imports no stage, so the stages keep importing only downwards.

Importing the package points matplotlib's config and font cache at a per-process temporary folder (removed at
exit) unless ``MPLCONFIGDIR`` is set: matplotlib would otherwise write ``~/.config/matplotlib`` and a font list in
``~/.cache/matplotlib`` of a fresh HOME, outside every folder the user named. Rebuilding the font list costs about
0.25 s per process that draws; set ``MPLCONFIGDIR`` to keep one. This is done here, in the one module every
command imports first, because matplotlib reads the variable the first time it is imported.
"""

import atexit
import importlib
import os
import shutil
import tempfile

__version__ = "0.1.0"

# public name -> the module that defines it, stage by stage (bottom up)
PUBLIC_API: dict[str, str] = {
    # core
    "EMOTIONS": "hf_ser.labels",
    "LANGUAGES": "hf_ser.labels",
    "register_language": "hf_ser.labels",
    "register_corpus": "hf_ser.labels",
    "uar": "hf_ser.metrics",
    "macro_f1": "hf_ser.metrics",
    "weighted_accuracy": "hf_ser.metrics",
    # data
    "prepare_for_pipeline": "hf_ser.data.audio",
    "load_corpus": "hf_ser.data.corpora",
    "register_loader": "hf_ser.data.corpora.registry",
    "build_synthetic_corpus": "hf_ser.data.corpora.synthetic.build",
    "parse_label_set": "hf_ser.data.label_set",
    "DataArguments": "hf_ser.data.dataset",
    "load_languages": "hf_ser.data.dataset",
    "split_dataset": "hf_ser.data.dataset",
    # train
    "build_model": "hf_ser.train.modeling",
    "SERTrainer": "hf_ser.train.trainer",
    "CorpusBalancedBatchSampler": "hf_ser.train.sampling",
    "supervised_contrastive_loss": "hf_ser.train.losses",
    "RunRecord": "hf_ser.train.runs",
    # infer
    "load_classifier": "hf_ser.infer.predict.model",
    "classify": "hf_ser.infer.predict.predictor",
    "vad_segments": "hf_ser.infer.segments",
    "export_onnx": "hf_ser.infer.export",
    "evaluate_model": "hf_ser.infer.evaluate",
    # hub
    "build_model_card": "hf_ser.hub.card",
    "stage_run": "hf_ser.hub.stage",
    "push_run": "hf_ser.hub.push",
    # experiments
    "plan_runs": "hf_ser.experiments.families",
    # study
    "load_runs": "hf_ser.study.report.runs",
    "table2": "hf_ser.study.report.tables",
    "table3": "hf_ser.study.report.tables",
    "check_lineage_claim": "hf_ser.study.report.claims",
    "bootstrap_ci": "hf_ser.study.stats",
    "lineage_rank_test": "hf_ser.study.stats",
    "language_distances": "hf_ser.study.transfer.distances",
    "fit_transfer": "hf_ser.study.transfer.model",
    "rank_for_target": "hf_ser.study.transfer.sources",
}
__all__ = sorted(PUBLIC_API)


def __getattr__(name: str):
    """A public name, imported from its module on first use (AttributeError for any other name)."""
    if name not in PUBLIC_API:
        raise AttributeError(f"module 'hf_ser' has no attribute {name!r}")
    value = getattr(importlib.import_module(PUBLIC_API[name]), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    """The module's own names and the public API."""
    return sorted(set(globals()) | set(PUBLIC_API))


# MPLCONFIGDIR values this package chose (a child process inherits its parent's and makes its own instead)
_OWNED_MARKER = "HF_SER_OWNED_MPLCONFIGDIR"


def _private_matplotlib_dir() -> None:
    """Set MPLCONFIGDIR to a temporary path removed at exit, unless the user set it (matplotlib creates it on use)."""
    current = os.environ.get("MPLCONFIGDIR")
    if current and current != os.environ.get(_OWNED_MARKER):
        return  # the user's choice
    path = os.path.join(tempfile.gettempdir(), f"hf_ser-matplotlib-{os.getpid()}-{os.urandom(4).hex()}")
    os.environ["MPLCONFIGDIR"] = os.environ[_OWNED_MARKER] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)


_private_matplotlib_dir()
