"""The paper's objective: L = CE_w + lambda * SupCon (lambda 0.1, tau 0.07), and its weights.

Balancing, made explicit. The paper weights each sample by 1/corpus size *and* draws corpus-balanced
batches. Under balanced batches every corpus fills 1/K of each batch, so the 1/size weights then give
corpus k a share of the cross-entropy proportional to 1/size: in the paper's Neo-Latin model
Emozionalmente (all of Italian) gets about 1% of it and EmoProsody 22%. ``corpus_weighting`` names the choice:

- ``paper`` (default, paper-literal): weight 1/size, whatever the sampler.
- ``sampler_aware``: weight 1 / (draw probability x mean class weight of the corpus), so that every corpus's
  effective share of the loss is equal under the sampler actually used (1/K each); with balanced batches
  this is (close to) no corpus weight at all, with shuffled batches it is the paper's 1/size.
- ``none``: no corpus weight.

:func:`effective_corpus_shares` computes each corpus's expected share of the weighted cross-entropy from the
corpus sizes, labels, weights and sampler, analytically; ``tests/test_losses.py`` checks it against the
shares in the sampler's actual draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

CORPUS_WEIGHTING = ("paper", "sampler_aware", "none")


def class_weights(
    labels: Sequence[int], num_classes: int, draw_probability: Sequence[float] | None = None
) -> torch.Tensor:
    """Inverse-frequency class weights, normalised to mean 1 over the samples.

    By default the frequencies are the training labels' counts (the paper's definition). With
    `draw_probability` (each row's probability of being drawn per slot, see :func:`row_draw_probability`) they
    are the class frequencies of what the sampler actually draws. A class absent from training gets weight 0
    (it never occurs as a target, so nothing breaks).
    """
    labels = np.asarray(labels, dtype=np.int64)
    weights = None if draw_probability is None else np.asarray(draw_probability, dtype=np.float64) * len(labels)
    counts = np.bincount(labels, weights=weights, minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(num_classes)
    w[present] = counts[present].sum() / (present.sum() * counts[present])
    return torch.tensor(w, dtype=torch.float32)


def corpus_draw_probability(
    corpus_ids: Sequence[int], num_corpora: int | None = None, balanced: bool = True
) -> np.ndarray:
    """Probability that a training slot is filled from each corpus: 1/K with balanced batches, size/N without."""
    counts = np.bincount(np.asarray(corpus_ids, dtype=np.int64), minlength=num_corpora or 0).astype(np.float64)
    present = counts > 0
    p = np.zeros(len(counts))
    p[present] = 1.0 / present.sum() if balanced else counts[present] / counts.sum()
    return p


def row_draw_probability(
    corpus_ids: Sequence[int], num_corpora: int | None = None, balanced: bool = True
) -> np.ndarray:
    """Probability that a slot draws each row: its corpus's draw probability / the corpus size (uniform inside)."""
    ids = np.asarray(corpus_ids, dtype=np.int64)
    counts = np.bincount(ids, minlength=num_corpora or 0).astype(np.float64)
    return corpus_draw_probability(ids, num_corpora, balanced)[ids] / counts[ids]


def corpus_weights(
    corpus_ids: Sequence[int],
    num_corpora: int | None = None,
    mode: str = "paper",
    balanced: bool = True,
    labels: Sequence[int] | None = None,
    class_weight: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """Per-corpus sample weight for ``corpus_weighting`` `mode` (None for 'none').

    'paper': inversely proportional to corpus size, normalised to mean 1 over the samples (the paper's text).
    'sampler_aware': 1 / (draw probability x mean class weight of the corpus's rows), normalised to mean 1 over
    the draws, so every corpus gets an equal expected share of the weighted cross-entropy under the sampler
    (`balanced`) and the class weights actually used (`labels` and `class_weight`, optional).
    """
    if mode not in CORPUS_WEIGHTING:
        raise ValueError(f"corpus_weighting must be one of {', '.join(CORPUS_WEIGHTING)}, not {mode!r}")
    if mode == "none":
        return None
    ids = np.asarray(corpus_ids, dtype=np.int64)
    counts = np.bincount(ids, minlength=num_corpora or 0).astype(np.float64)
    present = counts > 0
    w = np.zeros(len(counts))
    if mode == "paper":
        w[present] = len(ids) / (present.sum() * counts[present])
        return torch.tensor(w, dtype=torch.float32)
    p = corpus_draw_probability(ids, len(counts), balanced)
    m = _mean_class_weight(ids, len(counts), labels, class_weight)
    w[present] = 1.0 / (p[present] * m[present])
    w /= float((p * w * m).sum() / max((p * m).sum(), 1e-12)) if present.any() else 1.0
    return torch.tensor(w, dtype=torch.float32)


def _mean_class_weight(
    ids: np.ndarray, num_corpora: int, labels: Sequence[int] | None, class_weight: torch.Tensor | None
) -> np.ndarray:
    """Mean class weight of each corpus's rows (ones without class weights)."""
    if class_weight is None or labels is None:
        return np.ones(num_corpora)
    cw = class_weight.detach().cpu().numpy().astype(np.float64)[np.asarray(labels, dtype=np.int64)]
    sums = np.bincount(ids, weights=cw, minlength=num_corpora)
    counts = np.bincount(ids, minlength=num_corpora)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 1.0)


def effective_corpus_shares(
    corpus_ids: Sequence[int],
    labels: Sequence[int] | None = None,
    corpus_weight: torch.Tensor | None = None,
    class_weight: torch.Tensor | None = None,
    balanced: bool = True,
    num_corpora: int | None = None,
) -> np.ndarray:
    """Each corpus's expected share of the weighted cross-entropy (sums to 1), computed analytically.

    share_k is proportional to draw probability_k x corpus weight_k x mean class weight over corpus k's rows: the
    loss of a batch is sum(w_i CE_i) / sum(w_i), and a corpus contributes its draws times their weights.
    """
    ids = np.asarray(corpus_ids, dtype=np.int64)
    k = max(num_corpora or 0, int(ids.max(initial=-1)) + 1)
    p = corpus_draw_probability(ids, k, balanced)
    w = np.ones(k) if corpus_weight is None else corpus_weight.detach().cpu().numpy().astype(np.float64)[:k]
    mass = p * w * _mean_class_weight(ids, k, labels, class_weight)
    return mass / mass.sum() if mass.sum() > 0 else mass


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


def supervised_contrastive_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, temperature: float = 0.07
) -> torch.Tensor:
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
