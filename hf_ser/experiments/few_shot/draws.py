"""The k-shot draws (nested, seeded) and the step budget of one adaptation."""

from __future__ import annotations

import dataclasses
import math
import zlib
from pathlib import Path

import numpy as np
from transformers import TrainingArguments

from hf_ser.labels import EMOTIONS

MIN_STEPS = 30  # optimizer steps guaranteed to every adaptation, however small k is


def shot_indices(
    labels: np.ndarray, shots: list[int], seed: int, language: str = "", num_classes: int = len(EMOTIONS)
) -> dict[int, np.ndarray]:
    """Row indices of k utterances per class for every k in `shots`; nested (k-shot sets grow with k), seeded.

    `num_classes` is the size of the run's label set (the six emotions by default). A class with fewer than k
    training utterances contributes all of them.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, zlib.crc32(language.encode())])
    order = {e: rng.permutation(np.flatnonzero(labels == e)) for e in range(num_classes)}
    return {k: np.sort(np.concatenate([order[e][:k] for e in range(num_classes)])).astype(np.int64) for k in shots}


def adaptation_args(train_args: TrainingArguments, n_train: int, output_dir: Path, seed: int) -> TrainingArguments:
    """train_args with a batch that fits n_train, and max_steps = max(MIN_STEPS, epochs x steps per epoch)."""
    batch = max(1, min(train_args.per_device_train_batch_size, n_train))
    accumulation = max(1, min(train_args.gradient_accumulation_steps, math.ceil(n_train / batch)))
    per_epoch = math.ceil(n_train / (batch * accumulation))
    steps = max(MIN_STEPS, math.ceil(train_args.num_train_epochs * per_epoch))
    return dataclasses.replace(
        train_args,
        output_dir=str(output_dir),
        seed=seed,
        max_steps=steps,
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=accumulation,
        save_strategy="no",
        eval_strategy="no",
        logging_steps=max(1, min(train_args.logging_steps or 10, steps // 3)),
        report_to=[],
        push_to_hub=False,
        remove_unused_columns=False,
        load_best_model_at_end=False,
    )
