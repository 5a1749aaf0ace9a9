"""The model predict classifies with: a run or model folder or Hub id resolved and loaded as the stock
audio-classification pipeline, or an ONNX export run by onnxruntime; its labels and sampling rate."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoConfig, pipeline

from hf_ser.console import check_local_folder
from hf_ser.infer.export import OnnxAudioClassifier, loading_bars
from hf_ser.infer.predict.options import PredictError
from hf_ser.safe_io import display_path


def resolve_model(model: str, flag: str = "--model") -> str:
    """A model folder (a run folder's model/ is found too) or a Hub id, as given.

    A value that looks like a local path (:func:`~hf_ser.console.looks_like_path`) and is not a folder is a
    UserError naming `flag`, never a Hub lookup with a confusing "Repo id must be..." message.
    """
    check_local_folder(model, flag)
    p = Path(model).expanduser()
    if p.is_dir():
        if (p / "config.json").is_file():
            return str(p)
        if (p / "model" / "config.json").is_file():
            return str(p / "model")
        raise PredictError(
            f"{flag} {display_path(p)} holds no config.json: give a run's model/ folder, a folder written "
            f"by `hf-ser hub push --dry_run`, or a Hub model id"
        )
    return model


# config keys that differ between a model folder and its ONNX export without changing the model
_CONFIG_NOISE = (
    "_name_or_path",
    "transformers_version",
    "torch_dtype",
    "dtype",
    "architectures",
    "_attn_implementation",
)


def check_same_model(model: str, onnx: str) -> None:
    """UserError when --model and --onnx name different models (their config.json differ beyond bookkeeping).

    --onnx alone is enough (the export carries its config.json and extractor); --model beside it is only checked.
    """
    path = resolve_model(model)
    folder = Path(onnx) if Path(onnx).is_dir() else Path(onnx).parent
    try:
        mine = AutoConfig.from_pretrained(path).to_dict()
        theirs = AutoConfig.from_pretrained(folder).to_dict()
    except (OSError, ValueError) as e:
        raise PredictError(
            f"cannot compare --model {model} with --onnx {display_path(onnx)} ({display_path(str(e))[:120]}); "
            "drop --model: the ONNX export carries its own config"
        ) from None
    differ = sorted(k for k in mine.keys() | theirs.keys() if k not in _CONFIG_NOISE and mine.get(k) != theirs.get(k))
    if differ:
        raise PredictError(
            f"--model {model} and --onnx {display_path(onnx)} are different models (config differs in "
            f"{', '.join(differ[:5])}); give --onnx alone"
        )


def load_classifier(model: str | None, device: str | None = None, onnx: str | None = None, progress: bool = True):
    """The stock ``pipeline("audio-classification")`` of a local folder or Hub id, on `device` (default: cuda if any).

    Everything else in this package uses only this interface, so any object offering it can stand in (an
    ONNX Runtime session, a remote endpoint): ``classifier(iterable of {"raw", "sampling_rate"}, batch_size=,
    top_k=None)`` yielding one list of ``{"label", "score"}`` per input, ``classifier.feature_extractor.sampling_rate``
    and ``classifier.model.config.id2label``. With `onnx`, an onnxruntime session of that export
    (``hf-ser export``) is that object, and `model` (optional) must be the same model. `progress` False hides
    transformers' "Loading weights" bar.
    """

    if onnx:  # an ONNX export, run by onnxruntime (the onnx extra)
        if Path(onnx).suffix != ".onnx":  # a folder (a .onnx file is checked by the classifier)
            check_local_folder(onnx, "--onnx")
        if model:
            check_same_model(model, onnx)
        return OnnxAudioClassifier(onnx)
    if not model:
        raise PredictError("give the model: --model RUN_OR_MODEL_DIR_OR_HUB_ID, or --onnx EXPORT_DIR")
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise PredictError("--device cuda was asked but torch sees no CUDA GPU; use --device cpu")
    path = resolve_model(model)
    try:
        with loading_bars(progress):
            return pipeline("audio-classification", model=path, feature_extractor=path, device=device)
    except (OSError, ValueError) as e:
        raise PredictError(
            f"could not load --model {model!r}: {display_path(str(e))} -- give a run's model/ folder, a folder "
            f"written by `hf-ser hub push --dry_run`, or a Hub id (downloaded once into the Hugging Face "
            f"cache; with HF_HUB_OFFLINE=1 only the cache is used)"
        ) from None


def classifier_labels(classifier) -> list[str]:
    """The model's labels in class-index order."""
    id2label = classifier.model.config.id2label
    return [id2label[i] for i in range(len(id2label))]


def classifier_rate(classifier) -> int:
    """The sampling rate the classifier's feature extractor expects."""
    return int(classifier.feature_extractor.sampling_rate)
