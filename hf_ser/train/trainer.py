"""SERTrainer: a stock ``Trainer`` with the paper's loss and corpus-balanced batches.

Only two things change from ``Trainer``: ``compute_loss`` (class-weighted CE x per-sample
corpus weight + lambda * supervised contrastive on the 256-d pooled projection) and the
training sampler (corpus-balanced, optionally length-windowed). The pooled projection is the
input of ``model.classifier``; a forward pre-hook captures it in the same forward pass. That holds for every
family of :mod:`hf_ser.train.modeling` (the stock heads all call ``self.classifier(pooled)``); for Whisper the pooled
vector is the mean over the whole window, padded frames included, exactly as at inference.

Both loss terms are computed per contrastive group (``contrastive_group_size`` consecutive rows, the paper's
micro-batch of 16) and averaged over the groups, so a micro-batch of 64 without accumulation trains exactly the
objective of 16 x 4 accumulation (same groups from the sampler, same loss, same gradients). The step does no host
work: the weights move to the device once, the group masks are tensors, nothing calls ``.item()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import FeatureExtractionMixin, Trainer

from hf_ser.data.audio import TrainAugment, decode_wav, mean_variance_normalize
from hf_ser.train.losses import supervised_contrastive_loss, weighted_cross_entropy
from hf_ser.train.modeling import input_name
from hf_ser.train.sampling import CorpusBalancedBatchSampler, bucket_length

# The paper's micro-batch, over which SupCon and the corpus balance are computed.
DEFAULT_CONTRASTIVE_GROUP = 16


def make_transform(augment: TrainAugment | None = None, feature_extractor: FeatureExtractionMixin | None = None):
    """``set_transform`` function: cached WAV bytes -> the model's input (+ augmentation on train).

    Preprocessing follows the model's own feature extractor, as ``pipeline("audio-classification")`` will at
    inference. Waveform models (no extractor given, or one whose input is ``input_values``): per-utterance
    mean-variance normalised waveforms (``input_values``; padded by :class:`SERCollator`). Log-mel models
    (Whisper, input ``input_features``): the prepared waveform as the pipeline receives it (no MVN: the log-mel
    scale depends on the level), noise and gain from `augment` on train, then the extractor's fixed-window
    log-mel per utterance.
    """
    log_mel = feature_extractor is not None and input_name(feature_extractor) == "input_features"

    def transform(batch: dict) -> dict:
        waves = [decode_wav(a) for a in batch["audio"]]
        if log_mel:
            if augment is not None:
                waves = [augment.without_normalization(w) for w in waves]
            feats = feature_extractor(waves, sampling_rate=feature_extractor.sampling_rate, return_tensors="np")
            out = {"input_features": list(feats["input_features"]), "labels": batch["label"]}
        else:
            waves = [augment(w) for w in waves] if augment is not None else [mean_variance_normalize(w) for w in waves]
            out = {"input_values": waves, "labels": batch["label"]}
        if "corpus_id" in batch:
            out["corpus_id"] = batch["corpus_id"]
        return out

    return transform


@dataclass
class SERCollator:
    """Batch the transform's rows: waveforms padded by the feature extractor (attention mask marks real samples),
    log-mel windows (already of the extractor's fixed length) stacked.

    With `bucket_lengths` (samples, ascending; see :func:`~.sampling.length_buckets`) a waveform batch is padded
    to the smallest bucket at least as long as its longest row, so the model meets a few shapes again and again
    (cuDNN plans, attention kernels, CUDA graphs); a batch longer than every bucket is padded to its longest. Then
    `pad_to_multiple_of` rounds the padded length up.
    """

    feature_extractor: FeatureExtractionMixin
    pad_to_multiple_of: int | None = None
    bucket_lengths: Sequence[int] | None = None

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        """One padded batch with ``labels`` (and ``corpus_id`` when the rows have it)."""
        if "input_features" in features[0]:
            batch = {"input_features": torch.as_tensor(np.stack([f["input_features"] for f in features]))}
        else:
            waves = [f["input_values"] for f in features]
            length = bucket_length(max(len(w) for w in waves), self.bucket_lengths or (), self.pad_to_multiple_of or 1)
            if self.pad_to_multiple_of:
                length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
            batch = self.feature_extractor.pad(
                {"input_values": waves},
                padding="max_length",
                max_length=length,
                return_attention_mask=True,
                return_tensors="pt",
            )
        batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
        if "corpus_id" in features[0]:
            batch["corpus_id"] = torch.tensor([f["corpus_id"] for f in features], dtype=torch.long)
        return batch


class SERTrainer(Trainer):
    """Trainer with L = CE_w + contrastive_weight * SupCon(tau), both per contrastive group, and a corpus-balanced
    sampler.

    Args (besides ``Trainer``'s):
        class_weight, corpus_weight: per-class and per-corpus CE weights (None: none).
        mean_sample_weight: the CE's fixed normaliser per row in training, :func:`hf_ser.train.losses.mean_drawn_weight`
            (None, and always in evaluation: each group's summed weights, the ``F.cross_entropy(weight=)``
            normalisation).
        contrastive_weight, temperature: lambda and tau of SupCon.
        contrastive_group_size: rows per contrastive group (SupCon and corpus balance); a micro-batch holds whole
            groups. Capped at the micro-batch.
        train_corpus_ids, train_lengths, length_window: the corpus-balanced, length-windowed sampler (see
            :class:`hf_ser.train.sampling.CorpusBalancedBatchSampler`); None corpus ids: the Trainer's shuffled sampler.
    """

    # compute_loss returns a mean over groups; transformers 5 (checked on 5.25) then divides it by the number of
    # micro-batches in the accumulation step (`current_gradient_accumulation_steps`) when this is False.
    loss_is_scaled_for_ga = False

    def __init__(
        self,
        *args,
        class_weight: torch.Tensor | None = None,
        corpus_weight: torch.Tensor | None = None,
        mean_sample_weight: float | None = None,
        contrastive_weight: float = 0.1,
        temperature: float = 0.07,
        contrastive_group_size: int = DEFAULT_CONTRASTIVE_GROUP,
        train_corpus_ids: Sequence[int] | None = None,
        train_lengths: Sequence[int] | None = None,
        length_window: int = 1,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        batch = self.args.per_device_train_batch_size
        group = min(int(contrastive_group_size), batch)
        if group < 1 or batch % group:
            raise ValueError(
                f"SERTrainer (hf_ser/train/trainer.py): per_device_train_batch_size ({batch}) must be a multiple of "
                f"contrastive_group_size ({contrastive_group_size}); set --per_device_train_batch_size to k x "
                "--contrastive_group_size."
            )
        self.class_weight = class_weight
        self.corpus_weight = corpus_weight
        self.mean_sample_weight = mean_sample_weight
        self.contrastive_weight = contrastive_weight
        self.temperature = temperature
        self.contrastive_group_size = group
        self.train_corpus_ids = train_corpus_ids
        self.train_lengths = train_lengths
        self.length_window = length_window
        # The loss ignores `num_items_in_batch`: without this the Trainer counts labels (and all-gathers the count
        # under DDP) before every accumulation step for nothing.
        self.model_accepts_loss_kwargs = False
        self._pooled: torch.Tensor | None = None
        self._weights_device: torch.device | None = None
        self.model.classifier.register_forward_pre_hook(self._capture_pooled)

    def _capture_pooled(self, module: torch.nn.Module, args: tuple) -> None:
        """Forward pre-hook on ``model.classifier``: keep its input (the pooled projection) for the SupCon term."""
        self._pooled = args[0]

    def _get_train_sampler(self, train_dataset=None):
        """Corpus-balanced (optionally length-windowed) micro-batches of whole contrastive groups, laid out as
        accumulation would see them, when corpus ids are given; else the default."""
        if self.train_corpus_ids is None:
            return super()._get_train_sampler(train_dataset)
        batch = self._train_batch_size
        group = min(self.contrastive_group_size, batch)
        return CorpusBalancedBatchSampler(
            self.train_corpus_ids,
            self.train_lengths if self.train_lengths is not None else np.ones(len(self.train_corpus_ids)),
            batch_size=batch,
            length_window=self.length_window,
            seed=self.args.seed,
            num_replicas=self.args.world_size,
            rank=self.args.process_index,
            group_size=group,
            groups_per_step=batch // group * self.args.gradient_accumulation_steps,
        )

    def _weights_on(self, device: torch.device) -> None:
        """Move the class / corpus weights to the logits' device, once (later calls compare one attribute)."""
        if self._weights_device == device:
            return
        for name in ("class_weight", "corpus_weight"):
            w = getattr(self, name)
            if w is not None:
                setattr(self, name, w.to(device))
        self._weights_device = device

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """CE weighted by class and corpus + contrastive_weight x SupCon on the captured pooled projection, each the
        mean over the micro-batch's contrastive groups."""
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        corpus_id = inputs.pop("corpus_id", None)
        outputs = model(**inputs)
        logits = outputs.logits
        self._weights_on(logits.device)
        sample_weight = None
        if corpus_id is not None and self.corpus_weight is not None:
            sample_weight = self.corpus_weight[corpus_id.to(logits.device, non_blocking=True)]
        group = self.contrastive_group_size
        # the fixed normaliser describes the training sampler's draws; evaluation keeps a weighted mean per group
        mean_weight = self.mean_sample_weight if model.training else None
        loss = weighted_cross_entropy(
            logits, labels, self.class_weight, sample_weight, group_size=group, mean_weight=mean_weight
        )
        if self.contrastive_weight > 0 and self._pooled is not None:
            loss = loss + self.contrastive_weight * supervised_contrastive_loss(
                self._pooled, labels, self.temperature, group
            )
        self._pooled = None
        outputs.loss = loss
        return (loss, outputs) if return_outputs else loss
