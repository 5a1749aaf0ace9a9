"""The paper's objective: L = CE_w + lambda * SupCon (lambda 0.1, tau 0.07), and its weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def class_weights(labels: Sequence[int], num_classes: int) -> torch.Tensor:
    """Inverse-frequency class weights over the training labels, normalised to mean 1 over the samples.

    A class absent from training gets weight 0 (it never occurs as a target, so nothing breaks).
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(num_classes)
    w[present] = counts[present].sum() / (present.sum() * counts[present])
    return torch.tensor(w, dtype=torch.float32)


def corpus_weights(corpus_ids: Sequence[int], num_corpora: int | None = None) -> torch.Tensor:
    """Per-corpus weight inversely proportional to corpus size, normalised to mean 1 over the samples."""
    ids = np.asarray(corpus_ids, dtype=np.int64)
    counts = np.bincount(ids, minlength=num_corpora or 0).astype(np.float64)
    present = counts > 0
    w = np.zeros(len(counts))
    w[present] = len(ids) / (present.sum() * counts[present])
    return torch.tensor(w, dtype=torch.float32)


def weighted_cross_entropy(
    logits: torch.Tensor,
    labels: torch.Tensor,
    class_weight: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy weighted per class and per sample, normalised by the summed weights.

    With only ``class_weight`` this equals ``F.cross_entropy(weight=class_weight)``.
    """
    ce = F.cross_entropy(logits.float(), labels, reduction="none")
    w = torch.ones_like(ce)
    if class_weight is not None:
        w = w * class_weight.to(ce.device)[labels]
    if sample_weight is not None:
        w = w * sample_weight.to(ce.device, ce.dtype)
    return (ce * w).sum() / w.sum().clamp_min(1e-12)


def supervised_contrastive_loss(embeddings: torch.Tensor, labels: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, L_out) on L2-normalised embeddings.

    Computed in fp32 whatever the input dtype, with the row max subtracted and self-similarity excluded.
    Anchors with no positive in the batch are left out of the mean; the reference implementation counts
    them as zeros, which dilutes the term in small or imbalanced batches. No positives at all -> 0.
    """
    z = F.normalize(embeddings.float(), dim=-1)
    n = z.shape[0]
    logits = z @ z.T / temperature
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, -1e4)  # finite: exp() underflows to 0, no NaN for a batch of 1
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    n_pos = positives.sum(dim=1)
    mean_log_prob_pos = log_prob.masked_fill(~positives, 0.0).sum(dim=1) / n_pos.clamp_min(1)
    has_pos = (n_pos > 0).to(z.dtype)
    return -(mean_log_prob_pos * has_pos).sum() / has_pos.sum().clamp_min(1.0)
