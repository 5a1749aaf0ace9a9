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

Normalisation. The paper gives every sample a normalised weight (class x corpus) multiplying its CE, which implies
that a sample's share of the gradient is proportional to its weight: a fixed normaliser. ``F.cross_entropy(weight=)``
instead divides each batch by its own summed weights, which under length-sorted, mostly single-corpus batches
cancels much of the corpus weight. Training here divides each contrastive group of ``n`` rows by the fixed
``n x`` :func:`mean_drawn_weight` (the expected weight of a drawn row under the sampler), so the shares are what
:func:`effective_corpus_shares` states; ``tests/train/test_losses.py`` replays the sampler's plan through the loss's own
coefficients and checks them for every mode, with balanced and shuffled batches.
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

    share_k is proportional to draw probability_k x corpus weight_k x mean class weight over corpus k's rows. That is
    the share the gradient gets because the cross-entropy's normaliser is fixed (the group size times
    :func:`mean_drawn_weight`, see :func:`cross_entropy_coefficients`): every drawn row's coefficient is its weight
    over one constant, so a corpus contributes its draws times their weights whatever the batches' composition.
    """
    ids = np.asarray(corpus_ids, dtype=np.int64)
    k = max(num_corpora or 0, int(ids.max(initial=-1)) + 1)
    p = corpus_draw_probability(ids, k, balanced)
    w = np.ones(k) if corpus_weight is None else corpus_weight.detach().cpu().numpy().astype(np.float64)[:k]
    mass = p * w * _mean_class_weight(ids, k, labels, class_weight)
    return mass / mass.sum() if mass.sum() > 0 else mass


def mean_drawn_weight(
    corpus_ids: Sequence[int],
    labels: Sequence[int] | None = None,
    corpus_weight: torch.Tensor | None = None,
    class_weight: torch.Tensor | None = None,
    balanced: bool = True,
    num_corpora: int | None = None,
) -> float:
    """Expected loss weight (class weight x corpus weight) of one drawn training row under the sampler.

    The fixed normaliser of the cross-entropy (:func:`cross_entropy_coefficients`): a group of `n` rows is divided
    by `n` times this, so the loss keeps the scale of a weighted mean while each row's gradient share stays
    proportional to its own weight. The draw distribution is the same every epoch, so one value serves the run.
    """
    ids = np.asarray(corpus_ids, dtype=np.int64)
    k = max(num_corpora or 0, int(ids.max(initial=-1)) + 1)
    w = np.ones(len(ids))
    if corpus_weight is not None:
        w = w * corpus_weight.detach().cpu().numpy().astype(np.float64)[ids]
    if class_weight is not None and labels is not None:
        w = w * class_weight.detach().cpu().numpy().astype(np.float64)[np.asarray(labels, dtype=np.int64)]
    return float((row_draw_probability(ids, k, balanced) * w).sum())


def group_sizes(n: int, group_size: int | None, device: torch.device | None = None) -> tuple[torch.Tensor, int]:
    """(group of each of `n` rows, number of groups): consecutive groups of `group_size` rows (the last may be
    shorter); None or >= n is one group. Built on `device` from Python ints only (no host sync)."""
    size = n if not group_size or group_size >= n else int(group_size)
    return torch.arange(n, device=device) // max(size, 1), -(-n // max(size, 1))


def cross_entropy_coefficients(
    weight: torch.Tensor, group_size: int | None = None, mean_weight: float | None = None
) -> torch.Tensor:
    """Each row's coefficient in the weighted cross-entropy of a micro-batch: loss = sum(coefficient * CE).

    Rows form consecutive contrastive groups (:func:`group_sizes`); the loss is the mean over groups of each group's
    weighted CE, so a micro-batch of several groups gives the loss that accumulating the groups one micro-batch
    each would. Inside a group of `n_g` rows the normaliser is:

    - `mean_weight` given (what training uses): the fixed `n_g * mean_weight`, with `mean_weight` the expected
      weight of a drawn row (:func:`mean_drawn_weight`). Every row's share of the gradient is then proportional to
      its own weight whatever the group's composition, so the corpus shares are the ones
      :func:`effective_corpus_shares` states.
    - None: the group's summed weights, as ``F.cross_entropy(weight=...)`` normalises. With length-sorted, mostly
      single-corpus groups this cancels much of the corpus weight.
    """
    n = weight.shape[0]
    group, num_groups = group_sizes(n, group_size, weight.device)
    if mean_weight is None:
        norm = torch.zeros(num_groups, device=weight.device, dtype=weight.dtype).index_add_(0, group, weight)
        norm = norm.clamp_min(1e-12)[group]
    else:
        size = n if not group_size or group_size >= n else int(group_size)
        norm = (n - group * size).clamp(max=size).to(weight.dtype) * float(mean_weight)
    return weight / (norm * num_groups)


def weighted_cross_entropy(
    logits: torch.Tensor,
    labels: torch.Tensor,
    class_weight: torch.Tensor | None = None,
    sample_weight: torch.Tensor | None = None,
    *,
    group_size: int | None = None,
    mean_weight: float | None = None,
) -> torch.Tensor:
    """Cross-entropy weighted per class and per sample, the mean over contrastive groups of each group's weighted CE.

    Normalised per group by the group's summed weights by default (with one group and only ``class_weight`` this is
    ``F.cross_entropy(weight=class_weight)``), or by the fixed ``n_g * mean_weight`` (see
    :func:`cross_entropy_coefficients`).
    """
    ce = F.cross_entropy(logits.float(), labels, reduction="none")
    w = torch.ones_like(ce)
    if class_weight is not None:
        w = w * class_weight.to(ce.device)[labels]
    if sample_weight is not None:
        w = w * sample_weight.to(ce.device, ce.dtype)
    return (ce * cross_entropy_coefficients(w, group_size, mean_weight)).sum()


def supervised_contrastive_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, temperature: float = 0.07, group_size: int | None = None
) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, L_out) on L2-normalised embeddings, per contrastive group.

    Rows form consecutive groups of `group_size` (None: one group); each anchor's positives and negatives are the
    other rows of its group, and the result is the mean over groups, as accumulating the groups one micro-batch each
    would. Computed in fp32 whatever the input dtype, with the row max subtracted and self-similarity (and other
    groups) excluded. Anchors with no positive in their group are left out of the group's mean; the reference
    implementation counts them as zeros, which dilutes the term in small or imbalanced batches. A group without
    positives contributes 0.
    """
    z = F.normalize(embeddings.float(), dim=-1)
    n = z.shape[0]
    group, num_groups = group_sizes(n, group_size, z.device)
    same_group = group[:, None] == group[None, :]
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    others = same_group & ~self_mask
    logits = z @ z.T / temperature
    logits = logits.masked_fill(~others, -1e4)  # finite: exp() underflows to 0, no NaN for a group of 1
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & others
    n_pos = positives.sum(dim=1)
    mean_log_prob_pos = log_prob.masked_fill(~positives, 0.0).sum(dim=1) / n_pos.clamp_min(1)
    has_pos = (n_pos > 0).to(z.dtype)
    zeros = torch.zeros(num_groups, device=z.device, dtype=z.dtype)
    per_group = zeros.index_add(0, group, mean_log_prob_pos * has_pos)
    anchors = zeros.index_add(0, group, has_pos)
    return -(per_group / anchors.clamp_min(1.0)).mean()
