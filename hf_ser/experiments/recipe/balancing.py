"""One run's loss weights under its balancing choices (class and corpus weights, 'paper' or 'sampler_aware'), and
the summary of each corpus's effective share of the loss and expected draws (the record, data_report.json)."""

from __future__ import annotations

import logging

import numpy as np
import torch
from transformers import TrainingArguments

from hf_ser.experiments.recipe.arguments import SERArguments, normalize_corpus_weighting
from hf_ser.labels import EMOTIONS
from hf_ser.train.losses import (
    class_weights,
    corpus_weights,
    effective_corpus_shares,
    mean_drawn_weight,
    row_draw_probability,
)
from hf_ser.train.sampling import expected_draws_per_utterance

logger = logging.getLogger("hf_ser")


def balancing(
    train_labels: np.ndarray,
    train_corpus: np.ndarray,
    corpus_names: list[str],
    ser_args: SERArguments,
    train_args: TrainingArguments,
    num_classes: int = len(EMOTIONS),
) -> tuple[torch.Tensor | None, torch.Tensor | None, dict]:
    """(class weight, corpus weight, summary) for one run's training set under its balancing choices.

    'paper' keeps the paper's definitions (class weights from the training labels, corpus weight 1/size);
    'sampler_aware' takes class weights from the distribution the sampler draws and corpus weights that give
    every corpus an equal effective share. The summary (stored in the record and data_report.json, logged)
    holds each corpus's effective share of the cross-entropy and expected draws per utterance over training.
    """
    balanced = bool(ser_args.balanced_sampling)
    mode = normalize_corpus_weighting(ser_args.corpus_weighting)
    k = len(corpus_names)
    cw = None
    if ser_args.class_weighting:
        drawn = row_draw_probability(train_corpus, k, balanced) if mode == "sampler_aware" else None
        cw = class_weights(train_labels, num_classes, draw_probability=drawn)
    corpus_w = corpus_weights(train_corpus, k, mode, balanced, train_labels, cw)
    shares = effective_corpus_shares(train_corpus, train_labels, corpus_w, cw, balanced, k)
    normaliser = mean_drawn_weight(train_corpus, train_labels, corpus_w, cw, balanced, k)
    batch = train_args.per_device_train_batch_size
    draws = expected_draws_per_utterance(
        train_corpus, batch, float(train_args.num_train_epochs), balanced, max(1, train_args.world_size)
    )
    sizes = np.bincount(train_corpus, minlength=k)
    summary = {
        "corpus_weighting": mode,
        "class_weighting": "drawn distribution"
        if (cw is not None and mode == "sampler_aware")
        else ("training labels" if cw is not None else "none"),
        "balanced_sampling": balanced,
        "epochs": float(train_args.num_train_epochs),
        # the CE's fixed normaliser per row (expected weight of a drawn row): shares below are the gradient's
        "mean_drawn_weight": round(normaliser, 6),
        "corpora": {
            name: {
                "train_size": int(sizes[i]),
                "effective_loss_share": round(float(shares[i]), 6),
                "expected_draws_per_utterance": round(float(draws.get(i, 0.0)), 3),
                "corpus_weight": None if corpus_w is None else round(float(corpus_w[i]), 6),
            }
            for i, name in enumerate(corpus_names)
        },
    }
    logger.info(
        "balancing (%s, balanced batches %s): %s",
        mode,
        balanced,
        "; ".join(
            f"{n} share {v['effective_loss_share'] * 100:.1f}% draws/utt {v['expected_draws_per_utterance']:.1f}"
            for n, v in summary["corpora"].items()
        ),
    )
    return cw, corpus_w, summary
