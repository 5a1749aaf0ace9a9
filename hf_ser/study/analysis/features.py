"""Utterance embeddings of every transformer layer (and of the projector) in one forward pass, cached on disk.

One forward pass per batch with ``output_hidden_states=True`` gives all ``num_hidden_layers + 1`` hidden states;
each is mean-pooled over the attention mask (the frames the classification head pools over) and written batch by
batch into one ``np.lib.format.open_memmap`` file per layer, so a large split never sits in RAM. A forward
pre-hook on ``model.classifier`` captures the 256-d pooled projection in the same pass (as ``SERTrainer`` does).

Layer names follow the transformers 5.x recording of ``hidden_states`` (checked in ``modeling_wav2vec2.py``): entry 0
is the input of the first transformer block (CNN features after the feature projection and the positional
convolution) = "layer 0", entry i is the output of block i = "layer i". With ``do_stable_layer_norm`` (XLS-R, the
demo config) the last entry is taken *before* the encoder's final LayerNorm, whereas ``last_hidden_state`` (what the
projector reads) is after it; that one is cached too, as ``final_norm``.

Cache layout: ``<cache_dir>/<model tag>/<split>/{layer_00.npy, ..., projector.npy, final_norm.npy, logits.npy,
rows.csv, meta.json}``, where ``cache_dir`` is the command's ``--cache_dir``, by default ``features/`` inside its
output folder (``RUN_DIR/analysis/features`` for a single command, ``RUNS_DIR/analysis/<run>/features`` for
``all``): nothing is written into the run folder itself unless that is the output folder. ``meta.json`` is written
last and holds the key (run config hash, split, model fingerprint) that decides reuse.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModelForAudioClassification,
    PretrainedConfig,
    PreTrainedModel,
    Wav2Vec2FeatureExtractor,
    set_seed,
)

from hf_ser.errors import UserError
from hf_ser.safe_io import atomic_write_json
from hf_ser.train.modeling import (
    DEMO_BACKBONE,
    DEMO_BACKBONES,
    XLSR_300M_RANDOM,
    build_model,
    encoder_of,
    feature_extractor,
    frame_mask,
    tiny_config,
    xlsr_300m_config,
)
from hf_ser.train.run_data import run_datasets
from hf_ser.train.runs import RunRecord
from hf_ser.train.sampling import length_sorted_order
from hf_ser.train.trainer import SERCollator, make_transform

logger = logging.getLogger(__name__)

FINETUNED = "finetuned"
SPLITS = ("train", "test")
ROW_COLUMNS = ("path", "language", "corpus", "speaker", "label")


class AnalysisError(UserError):
    """A user mistake (bad layer, missing run output); printed without a traceback by the CLI."""


def default_device() -> str:
    """'cuda' when a GPU is visible, else 'cpu'."""
    return "cuda" if torch.cuda.is_available() else "cpu"


# ----------------------------------------------------------------------------- models


@dataclass
class AnalysisModel:
    """A model to embed utterances with, and where it came from."""

    model: PreTrainedModel  # a stock *ForSequenceClassification / audio-classification model
    extractor: Wav2Vec2FeatureExtractor
    tag: str  # cache / file tag: 'finetuned' for the run's own model, else the sanitised id
    source: str  # folder or id
    fingerprint: str  # changes when the weights change
    finetuned: bool

    @property
    def config(self) -> PretrainedConfig:
        """The backbone config (num_hidden_layers, hidden_size, ...)."""
        return self.model.config


def model_tag(model: str | None) -> str:
    """File-name-safe tag of a `--model` value ('facebook/wav2vec2-xls-r-300m' -> 'facebook--wav2vec2-xls-r-300m')."""
    if model is None:
        return FINETUNED
    name = str(model).rstrip("/")
    if Path(name).is_dir():
        name = Path(name).resolve().name
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name.replace("/", "--")).strip("-") or "model"


def _run_model_dir(run_dir: str | Path) -> Path:
    path = Path(run_dir) / "model"
    if not (path / "config.json").is_file():
        raise AnalysisError(
            f"{path}/config.json not found: {run_dir} has no trained model (the run did not finish, or it is a "
            f"few_shot result). Train it with `hf-ser recipe ...` or pass --model ID_OR_DIR."
        )
    return path


def _fingerprint_dir(path: Path) -> str:
    digest = hashlib.sha256((path / "config.json").read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        stat = weights.stat()
        digest.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def model_config(run_dir: str | Path, model: str | None = None) -> PretrainedConfig:
    """The config of the model `load_model` would load (cheap: no weights), to validate layer numbers early."""
    if model is None:
        return AutoConfig.from_pretrained(_run_model_dir(run_dir))
    if model in DEMO_BACKBONES:
        return tiny_config(DEMO_BACKBONES[model])
    if model == XLSR_300M_RANDOM:
        return xlsr_300m_config()
    try:
        return AutoConfig.from_pretrained(model)
    except OSError as e:
        raise AnalysisError(
            f"cannot load the config of --model {model!r}: {e}\nGive a local folder, a model in the Hugging Face "
            f"cache (`hf download {model}` on a machine with network), or '{DEMO_BACKBONE}' (random weights)."
        ) from None


def model_fingerprint(run_dir: str | Path | None, model: str | None = None) -> str:
    """What identifies the weights `load_model` would load (cheap: no weights are read)."""
    if model is None:
        return _fingerprint_dir(_run_model_dir(run_dir))
    if model in (*DEMO_BACKBONES, XLSR_300M_RANDOM):
        return f"{model}:random-seed0"
    if Path(model).is_dir() and (Path(model) / "config.json").is_file():
        return _fingerprint_dir(Path(model))
    return str(model)


def load_model(run_dir: str | Path | None, model: str | None = None, device: str | None = None) -> AnalysisModel:
    """The run's fine-tuned model (``RUN_DIR/model``), or `model` (hub id, folder, 'demo-tiny' = seeded random init)."""
    device = device or default_device()
    if model is None:
        path = _run_model_dir(run_dir)
        net = AutoModelForAudioClassification.from_pretrained(path)
        try:
            extractor = AutoFeatureExtractor.from_pretrained(path)
        except OSError:
            extractor = feature_extractor()
        loaded = AnalysisModel(net, extractor, FINETUNED, str(path), model_fingerprint(run_dir), True)
    else:
        if model in (*DEMO_BACKBONES, XLSR_300M_RANDOM):
            set_seed(0)  # the same random backbone every time
        try:
            net, extractor = build_model(model)
        except OSError as e:
            raise AnalysisError(str(e)) from None
        loaded = AnalysisModel(net, extractor, model_tag(model), str(model), model_fingerprint(run_dir, model), False)
    loaded.model.to(device).eval()
    return loaded


def num_layer_entries(config: PretrainedConfig) -> int:
    """Number of hidden states with ``output_hidden_states=True``: num_hidden_layers + 1."""
    return int(config.num_hidden_layers) + 1


def layer_names(config: PretrainedConfig) -> list[str]:
    """'layer 0' (CNN features + positional conv) .. 'layer N' (output of transformer block N)."""
    return [f"layer {i}" for i in range(num_layer_entries(config))]


def check_layers(layers: list[int], config: PretrainedConfig) -> list[int]:
    """Validate layer numbers against the model depth; raise AnalysisError naming the valid range."""
    depth = int(config.num_hidden_layers)
    bad = [l for l in layers if not 0 <= int(l) <= depth]
    if bad:
        raise AnalysisError(
            f"layer(s) {', '.join(map(str, bad))} out of range: this model has {depth} transformer layers, "
            f"so valid layers are 0..{depth} (0 = CNN features after the projection and positional convolution, "
            f"i = output of transformer block i)"
        )
    return [int(l) for l in layers]


# ----------------------------------------------------------------------------- features


@dataclass
class SplitFeatures:
    """Cached embeddings of one split: per-layer and projector memmaps, logits and row metadata."""

    directory: Path
    meta: dict
    rows: pd.DataFrame = field(repr=False)

    @property
    def num_layers(self) -> int:
        """Number of layer entries (num_hidden_layers + 1)."""
        return int(self.meta["num_layer_entries"])

    @property
    def labels(self) -> np.ndarray:
        """Emotion ids (``labels.EMOTIONS`` order)."""
        return self.rows["label"].to_numpy(dtype=np.int64)

    @property
    def languages(self) -> np.ndarray:
        """Language code of every row."""
        return self.rows["language"].astype(str).to_numpy()

    def layer(self, index: int) -> np.ndarray:
        """(n, hidden_size) mean-pooled hidden state of layer `index`, memory-mapped read-only."""
        if not 0 <= index < self.num_layers:
            raise AnalysisError(f"layer {index} out of range 0..{self.num_layers - 1}")
        return np.load(self.directory / f"layer_{index:02d}.npy", mmap_mode="r")

    def projector(self) -> np.ndarray:
        """(n, classifier_proj_size) pooled projection: the classifier's input."""
        return np.load(self.directory / "projector.npy", mmap_mode="r")

    def final_norm(self) -> np.ndarray | None:
        """(n, hidden_size) pooled ``last_hidden_state`` after the final LayerNorm (stable-layer-norm models only)."""
        path = self.directory / "final_norm.npy"
        return np.load(path, mmap_mode="r") if path.is_file() else None

    def logits(self) -> np.ndarray:
        """(n, num_labels) classifier logits."""
        return np.load(self.directory / "logits.npy")


def _loader(
    model: AnalysisModel, dataset: datasets.Dataset, batch_size: int, device: str, num_workers: int | None
) -> tuple[DataLoader, np.ndarray]:
    """Batches of `dataset` in length order (less padding) and that order."""
    order = length_sorted_order(np.asarray(dataset["length"]))
    ordered = dataset.select(order).with_transform(make_transform(None, model.extractor))
    workers = (
        num_workers if num_workers is not None else (min(4, os.cpu_count() or 1) if device.startswith("cuda") else 0)
    )
    loader = DataLoader(
        ordered,
        batch_size=batch_size,
        shuffle=False,
        collate_fn=SERCollator(model.extractor),
        num_workers=workers,
        pin_memory=device.startswith("cuda"),
    )
    return loader, order


def _feature_arrays(
    directory: Path, cfg: PretrainedConfig, n: int, entries: int, hidden: int, stable: bool
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
    """The memory-mapped outputs of :func:`extract`, created in `directory`: one (n, hidden) array per layer entry,
    the (n, classifier_proj_size) projector and, for a stable-layer-norm encoder (`stable`), the final norm."""
    layers = [
        np.lib.format.open_memmap(directory / f"layer_{i:02d}.npy", mode="w+", dtype=np.float32, shape=(n, hidden))
        for i in range(entries)
    ]
    projector = np.lib.format.open_memmap(
        directory / "projector.npy", mode="w+", dtype=np.float32, shape=(n, int(cfg.classifier_proj_size))
    )
    final = (
        np.lib.format.open_memmap(directory / "final_norm.npy", mode="w+", dtype=np.float32, shape=(n, hidden))
        if stable
        else None
    )
    return layers, projector, final


def _feature_meta(
    model: AnalysisModel, cfg: PretrainedConfig, key: dict | None, n: int, entries: int, hidden: int, stable: bool
) -> dict:
    """meta.json of a feature cache: its key, sizes, layer names, the model and how frames were pooled."""
    return {
        "key": key or {},
        "n": n,
        "num_layer_entries": entries,
        "num_hidden_layers": int(cfg.num_hidden_layers),
        "hidden_size": hidden,
        "final_norm": stable,
        "model": model.source,
        "model_tag": model.tag,
        "layer_names": layer_names(cfg),
        "pooling": "mean over the attention mask (feature frames)",
    }


def extract(
    model: AnalysisModel,
    dataset: datasets.Dataset,
    directory: str | Path,
    batch_size: int = 8,
    device: str | None = None,
    num_workers: int | None = None,
    key: dict | None = None,
    desc: str = "extract",
    progress: bool = True,
) -> SplitFeatures:
    """Embed every row of `dataset` (one forward pass per batch) into `directory`; returns the cached features."""
    device = device or default_device()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.json").unlink(missing_ok=True)  # incomplete until written again
    net = model.model.to(device).eval()
    cfg = net.config
    n, entries, hidden = len(dataset), num_layer_entries(cfg), int(cfg.hidden_size)
    stable = bool(getattr(cfg, "do_stable_layer_norm", False))
    layers, projector, final = _feature_arrays(directory, cfg, n, entries, hidden, stable)
    logits = np.zeros((n, int(cfg.num_labels)), dtype=np.float32)
    captured: dict[str, torch.Tensor] = {}
    handle = net.classifier.register_forward_pre_hook(lambda module, args: captured.__setitem__("pooled", args[0]))
    loader, order = _loader(model, dataset, batch_size, device, num_workers)
    start = 0
    try:
        with torch.inference_mode():
            for batch in tqdm(loader, desc=desc, unit="batch", leave=False, disable=not progress or None):
                size = len(batch["labels"])
                rows = order[start : start + size]
                start += size
                inputs = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "corpus_id")}
                attention_mask = inputs.get("attention_mask")
                out = net(**inputs, output_hidden_states=True)
                hidden_states = out.hidden_states
                if len(hidden_states) != entries:
                    raise RuntimeError(
                        f"expected {entries} hidden states (num_hidden_layers + 1), got {len(hidden_states)}"
                    )
                mask = frame_mask(net, hidden_states[0].shape[1], attention_mask, size).unsqueeze(-1).to(device)
                denominator = mask.sum(1).clamp(min=1.0)
                stacked = [h.float() for h in hidden_states]
                if final is not None:
                    stacked.append(encoder_of(net).encoder.layer_norm(hidden_states[-1]).float())
                pooled = (torch.stack([(h * mask).sum(1) for h in stacked]) / denominator).cpu().numpy()
                for i in range(entries):
                    layers[i][rows] = pooled[i]
                if final is not None:
                    final[rows] = pooled[entries]
                projector[rows] = captured.pop("pooled").float().cpu().numpy()
                logits[rows] = out.logits.float().cpu().numpy()
    finally:
        handle.remove()
    for array in (*layers, projector, *([final] if final is not None else [])):
        array.flush()
    del layers, projector, final
    np.save(directory / "logits.npy", logits)
    rows_frame = pd.DataFrame({c: dataset[c] for c in ROW_COLUMNS})
    rows_frame.to_csv(directory / "rows.csv", index=False)
    meta = _feature_meta(model, cfg, key, n, entries, hidden, stable)
    atomic_write_json(directory / "meta.json", meta)
    return SplitFeatures(directory, meta, rows_frame)


def cached(directory: str | Path, key: dict) -> SplitFeatures | None:
    """The features cached in `directory` when its key matches, else None."""
    directory = Path(directory)
    meta_path = directory / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        return None
    files = [f"layer_{i:02d}.npy" for i in range(meta.get("num_layer_entries", 0))] + [
        "projector.npy",
        "logits.npy",
        "rows.csv",
    ]
    if meta.get("key") != key or not all((directory / f).is_file() for f in files):
        return None
    return SplitFeatures(directory, meta, pd.read_csv(directory / "rows.csv", keep_default_na=False))


def features_dir(cache_dir: str | Path, tag: str, split: str) -> Path:
    """Cache folder of one (model, split) of a run under its feature cache `cache_dir`."""
    return Path(cache_dir) / tag / split


def run_features(
    run_dir: str | Path,
    splits: tuple[str, ...] = SPLITS,
    model: str | None = None,
    batch_size: int = 8,
    device: str | None = None,
    num_workers: int | None = None,
    *,
    cache_dir: str | Path,
    progress: bool = True,
) -> dict[str, SplitFeatures]:
    """Features of the run's `splits` embedded by its own model (or `model`), from `cache_dir` or extracted once.

    `cache_dir` is the run's feature cache (``<tag>/<split>/`` below it); the caller names it, so the cache lives
    where the command writes (its ``--cache_dir`` or output folder), never silently inside the run folder.
    """
    for s in splits:
        if s not in SPLITS:
            raise AnalysisError(f"unknown split {s!r}; use one of {', '.join(SPLITS)}")
    config_hash = RunRecord.load(run_dir).config_hash
    tag = model_tag(model)
    out: dict[str, SplitFeatures] = {}
    missing = []
    fingerprint = model_fingerprint(run_dir, model)
    for split in splits:
        key = {"run_config_hash": config_hash, "split": split, "model": model or FINETUNED, "fingerprint": fingerprint}
        hit = cached(features_dir(cache_dir, tag, split), key)
        if hit is not None:
            logger.info("%s %s features: cached in %s", tag, split, hit.directory)
            out[split] = hit
        else:
            missing.append((split, key))
    if missing:
        loaded = load_model(run_dir, model, device)
        train, test, _ = run_datasets(run_dir)
        data = {"train": train, "test": test}
        for split, key in missing:
            out[split] = extract(
                loaded,
                data[split],
                features_dir(cache_dir, tag, split),
                batch_size,
                device,
                num_workers,
                key,
                desc=f"{tag} {split} ({len(data[split])} utt.)",
                progress=progress,
            )
    return out


def predict_logits(
    model: AnalysisModel,
    dataset: datasets.Dataset,
    batch_size: int = 8,
    device: str | None = None,
    num_workers: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """A plain inference pass (logits only) with the same batching as `extract`; rows in dataset order."""
    device = device or default_device()
    net = model.model.to(device).eval()
    loader, order = _loader(model, dataset, batch_size, device, num_workers)
    logits = np.zeros((len(dataset), int(net.config.num_labels)), dtype=np.float32)
    start = 0
    with torch.inference_mode():
        for batch in tqdm(loader, desc="inference", unit="batch", leave=False, disable=not progress or None):
            size = len(batch["labels"])
            out = net(**{k: v.to(device) for k, v in batch.items() if k not in ("labels", "corpus_id")})
            logits[order[start : start + size]] = out.logits.float().cpu().numpy()
            start += size
    return logits
