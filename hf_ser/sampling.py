"""Corpus-balanced, length-windowed, distributed-aware batch sampling.

`CorpusBalancedBatchSampler` gives every training corpus an equal share of each micro-batch (the paper's
balanced batches), optionally sorts a window of `length_window` micro-batches by length to cut padding, and
deals the batches to data-parallel ranks itself. It subclasses `transformers.trainer_pt_utils.BatchRebalanceSampler`
only so that `Trainer._get_dataloader` passes it to the `DataLoader` as `batch_sampler` and turns accelerate's
`BatchSamplerShard` wrapper into a passthrough; none of the parent's cost-balancing logic is used.

How an epoch is planned (all ranks compute the same plan from the seed, without communication):

1. Corpus slots. Corpora take turns in a fixed, seeded round-robin order, one slot each. The round-robin runs on
   across epochs: epoch `e` takes slots `[e*T, (e+1)*T)` with `T = total micro-batches * batch_size`, so any run
   of `n` consecutive slots holds `floor(n/K)` or `ceil(n/K)` slots of each of the `K` corpora, and the
   remainders rotate over corpora, batches and epochs.
2. Corpus streams. Each corpus's stream is an endless concatenation of seeded permutations of its utterances
   (pass `p` of corpus `k` is permuted by `(seed, k, p)`, independent of the epoch). Slot `g` of corpus `k` takes
   item `g // K` of that stream, so epochs take consecutive slices: a small corpus cycles (re-permuted on every
   pass) and a large one is sub-sampled per epoch, yet all its utterances are seen over epochs.
3. Windows. The slots are cut into windows of `length_window * batch_size` consecutive slots (so corpus shares are
   exact per window), each window is sorted by length (random tie-break) and cut into `length_window`
   micro-batches, whose order is then shuffled.
4. Ranks. Windows are dealt round-robin: window `i` goes to rank `i % num_replicas`, so each rank's
   `length_window` consecutive micro-batches form one window. With `length_window` equal to the gradient
   accumulation steps, each rank's optimizer step, and therefore the global step, has exact corpus shares. The
   ranks of one step use the same micro-batch order, so at every forward they process the same length quantile
   and wait less for each other at the gradient all-reduce.

An epoch holds `ceil(N / batch_size)` micro-batches over all ranks (`N` = dataset size), as unbalanced training
does. When that is not a multiple of `num_replicas`, it is rounded up so that every rank runs the same number of
steps; the extra micro-batches are ordinary balanced batches drawn further along the same streams (so the epoch
holds up to `num_replicas - 1` extra micro-batches, and later epochs continue from there). The last window of
an epoch is shorter when the per-rank number of micro-batches is not a multiple of `length_window`, matching
the Trainer's shorter last accumulation step.

Ranks get disjoint draws: the per-rank batches concatenated are exactly the global plan. An utterance can
appear twice in one epoch only when its corpus's stream starts a new permutation inside the epoch: on every pass
for a small corpus drawn more often than its size, and at most once per epoch (a few utterances near the pass
boundary) for a large corpus.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from transformers.trainer_pt_utils import BatchRebalanceSampler

# Measured by `python benchmarks/padding.py` (seed 0; seeds 1-2 within 1 point) on synthetic durations of the
# paper's eight corpora (log-normal per corpus, their sizes, 6 random labels), micro-batch 16: padded frames /
# cross-corpus share of same-label pairs inside micro-batches / largest corpus-share error per window:
#   W=1: 51.6% / 0.93 / 0   W=2: 38.1% / 0.86 / 0   W=4: 26.8% / 0.78 / 0   W=8: 16.5% / 0.70 / 0
#   W=16: 9.8% / 0.69 / 0   (unbalanced shuffled batches: 42.2% / 0.76, up to 10 samples off per batch)
# W=16 is the smallest window with padding <= 15% and cross-corpus share > 0.5. Shares are exact over every
# window, so they are exact per optimizer step when gradient accumulation is a multiple of the window.
DEFAULT_LENGTH_WINDOW = 16


def _distributed_defaults(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """Fill `num_replicas`/`rank` from `torch.distributed` when it is initialised, else 1/0."""
    initialised = torch.distributed.is_available() and torch.distributed.is_initialized()
    if num_replicas is None:
        num_replicas = torch.distributed.get_world_size() if initialised else 1
    if rank is None:
        rank = torch.distributed.get_rank() if initialised else 0
    return int(num_replicas), int(rank)


class CorpusBalancedBatchSampler(BatchRebalanceSampler):
    """Batch sampler giving each corpus an equal share of every micro-batch (or window), rank-aware.

    Args:
        corpus_ids: corpus of each dataset row (any hashable values; one stream per distinct value).
        lengths: length of each row (samples or frames), used for length windows.
        batch_size: per-device micro-batch size.
        length_window: micro-batches sorted together by length; 1 is exact per-batch balance.
        seed: base seed; the plan is a function of `(seed, epoch)` only.
        num_replicas: data-parallel world size; defaults to `torch.distributed` when initialised, else 1.
        rank: this process's data-parallel rank; defaults to `torch.distributed` when initialised, else 0.
    """

    def __init__(
        self,
        corpus_ids: Sequence[int],
        lengths: Sequence[int],
        batch_size: int,
        *,
        length_window: int = 1,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        # The parent's __init__ is deliberately not called: its state describes its own cost-balancing plan.
        corpus_ids = np.asarray(corpus_ids)
        lengths = np.asarray(lengths)
        if corpus_ids.ndim != 1 or lengths.ndim != 1 or len(corpus_ids) != len(lengths):
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/sampling.py): corpus_ids and lengths must be 1-D and of equal "
                f"length, got shapes {corpus_ids.shape} and {lengths.shape}; pass one value per dataset row."
            )
        if len(corpus_ids) == 0:
            raise ValueError("CorpusBalancedBatchSampler (hf_ser/sampling.py): the dataset is empty.")
        if batch_size < 1 or length_window < 1:
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/sampling.py): batch_size ({batch_size}) and length_window "
                f"({length_window}) must be >= 1."
            )
        num_replicas, rank = _distributed_defaults(num_replicas, rank)
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/sampling.py): need num_replicas >= 1 and 0 <= rank < "
                f"num_replicas, got num_replicas={num_replicas}, rank={rank}."
            )
        if seed < 0:
            raise ValueError(f"CorpusBalancedBatchSampler (hf_ser/sampling.py): seed must be >= 0, got {seed}.")

        self.corpora, corpus_index = np.unique(corpus_ids, return_inverse=True)
        # Row indices of each corpus, in dataset order (corpus k = k-th sorted distinct id).
        order = np.argsort(corpus_index, kind="stable")
        bounds = np.cumsum(np.bincount(corpus_index, minlength=len(self.corpora)))[:-1]
        self._members: list[np.ndarray] = np.split(order, bounds)
        self.lengths = lengths
        self.batch_size = int(batch_size)
        self.length_window = int(length_window)
        self.seed = int(seed)
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        # Attributes read by accelerate's `BatchSamplerShard` (batch_size, drop_last) and kept with the parent's
        # meaning for code that inspects a `BatchRebalanceSampler`. Batches are always full, hence drop_last=True.
        self.drop_last = True
        self.shuffle = True
        self.dp_size = num_replicas
        self.grad_accum = self.length_window
        self.effective_batch_size = self.batch_size * self.length_window * num_replicas
        # The fixed round-robin order of corpora over slots.
        self._slot_order = np.random.default_rng([self.seed, 0]).permutation(len(self.corpora))

    @property
    def num_corpora(self) -> int:
        """Number of distinct corpora sharing each batch."""
        return len(self.corpora)

    @property
    def total_batches(self) -> int:
        """Micro-batches per epoch over all ranks: ceil(N / batch_size) rounded up to a multiple of num_replicas."""
        return len(self) * self.num_replicas

    def __len__(self) -> int:
        return math.ceil(math.ceil(len(self.lengths) / self.batch_size) / self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose plan `__iter__` yields (called by the Trainer before each epoch)."""
        self.epoch = int(epoch)

    def _stream(self, k: int, positions: np.ndarray) -> np.ndarray:
        """Rows at `positions` (consecutive ints) of corpus `k`'s stream of seeded permutations."""
        members = self._members[k]
        n = len(members)
        first, last = int(positions[0]) // n, int(positions[-1]) // n
        passes = [np.random.default_rng([self.seed, 1, k, p]).permutation(n) for p in range(first, last + 1)]
        return members[np.concatenate(passes)[positions - first * n]]

    def _slots(self, epoch: int) -> np.ndarray:
        """Dataset rows of the epoch's `total_batches * batch_size` slots, in slot order."""
        total = self.total_batches * self.batch_size
        start = epoch * total
        num_corpora = self.num_corpora
        rows = np.empty(total, dtype=np.int64)
        for position, k in enumerate(self._slot_order):
            slots = np.arange((position - start) % num_corpora, total, num_corpora)
            if len(slots):
                rows[slots] = self._stream(int(k), (start + slots) // num_corpora)
        return rows

    def _arrange(self, rows: np.ndarray, window: int, rng: np.random.Generator) -> np.ndarray:
        """Sort each row of `rows` (one window per row) by length, cut it into `window` micro-batches, shuffle them.

        Windows are ordered (step, rank); the ranks of one step share the micro-batch order.
        """
        keys = (rng.random(rows.shape), self.lengths[rows])
        rows = np.take_along_axis(rows, np.lexsort(keys, axis=-1), axis=-1)
        rows = rows.reshape(len(rows), window, self.batch_size)
        steps = len(rows) // self.num_replicas
        order = rng.permuted(np.tile(np.arange(window), (steps, 1)), axis=1)
        order = np.repeat(order, self.num_replicas, axis=0)
        return np.take_along_axis(rows, order[:, :, None], axis=1)

    def plan(self, epoch: int | None = None) -> list[np.ndarray]:
        """Global plan of an epoch: one `(micro_batches, batch_size)` array of rows per window.

        Windows are ordered (step, rank): rank `r` owns windows `r, r + num_replicas, ...`.
        """
        epoch = self.epoch if epoch is None else int(epoch)
        rows = self._slots(epoch)
        rng = np.random.default_rng([self.seed, 2, epoch])
        per_rank, window = len(self), self.length_window
        full_steps, last = divmod(per_rank, window)
        cut = full_steps * self.num_replicas * window * self.batch_size
        windows: list[np.ndarray] = []
        if full_steps:
            windows.extend(self._arrange(rows[:cut].reshape(-1, window * self.batch_size), window, rng))
        if last:
            windows.extend(self._arrange(rows[cut:].reshape(-1, last * self.batch_size), last, rng))
        return windows

    def __iter__(self) -> Iterator[list[int]]:
        for window in self.plan()[self.rank :: self.num_replicas]:
            yield from window.tolist()


def length_sorted_order(lengths: Sequence[int]) -> np.ndarray:
    """Row order for evaluation, longest first (an out-of-memory shows at once); ties keep dataset order."""
    return np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")


def _flat(batches: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated rows of non-empty batches and the batch id of each row."""
    arrays = [np.asarray(b, dtype=np.int64).ravel() for b in batches]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    sizes = np.array([len(a) for a in arrays])
    return np.concatenate(arrays), np.repeat(np.arange(len(arrays)), sizes)


def padded_fraction(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> float:
    """Fraction of frames that are padding when each batch is padded to its longest row."""
    rows, batch_id = _flat(batches)
    if not len(rows):
        return 0.0
    row_lengths = np.asarray(lengths, dtype=np.float64)[rows]
    starts = np.flatnonzero(np.r_[True, batch_id[1:] != batch_id[:-1]])
    padded = np.maximum.reduceat(row_lengths, starts) * np.diff(np.r_[starts, len(rows)])
    return float(1.0 - row_lengths.sum() / padded.sum())


def _pairs(*keys: np.ndarray) -> int:
    """Number of unordered pairs of rows that agree on all `keys`."""
    _, counts = np.unique(np.stack(keys, axis=1), axis=0, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def cross_corpus_positive_share(
    batches: Sequence[Sequence[int]], corpus_ids: Sequence[int], labels: Sequence[int]
) -> float:
    """Among same-label pairs inside each micro-batch, the share whose two rows come from different corpora.

    Returns nan when the batches hold no same-label pair.
    """
    rows, batch_id = _flat(batches)
    if not len(rows):
        return float("nan")
    corpus = np.unique(np.asarray(corpus_ids), return_inverse=True)[1][rows]
    label = np.unique(np.asarray(labels), return_inverse=True)[1][rows]
    positives = _pairs(batch_id, label)
    if positives == 0:
        return float("nan")
    return 1.0 - _pairs(batch_id, label, corpus) / positives


def corpus_share_error(batches_or_windows: Sequence, corpus_ids: Sequence[int]) -> float:
    """Largest deviation, in samples, of a corpus's count from an equal share, over batches or windows.

    Each item is a batch (sequence of rows) or a window (sequence of batches, or a 2-D array); equal shares are
    `size / K` with `K` the number of distinct values in `corpus_ids`.
    """
    corpora, corpus = np.unique(np.asarray(corpus_ids), return_inverse=True)
    worst = 0.0
    for group in batches_or_windows:
        if len(group) and np.ndim(group[0]) > 0:
            rows = np.concatenate([np.asarray(b, dtype=np.int64).ravel() for b in group])
        else:
            rows = np.asarray(group, dtype=np.int64)
        if not len(rows):
            continue
        counts = np.bincount(corpus[rows], minlength=len(corpora))
        worst = max(worst, float(np.abs(counts - len(rows) / len(corpora)).max()))
    return worst


def slots_per_epoch(num_rows: int, batch_size: int, num_replicas: int = 1) -> int:
    """Training slots (rows drawn) per epoch: ceil(N / batch) micro-batches, rounded up to a multiple of the ranks."""
    return math.ceil(math.ceil(num_rows / batch_size) / num_replicas) * num_replicas * batch_size


def expected_draws_per_utterance(
    corpus_ids: Sequence[int], batch_size: int, epochs: float, balanced: bool = True, num_replicas: int = 1
) -> dict:
    """{corpus: expected number of times each of its utterances is drawn over the whole training}.

    With `CorpusBalancedBatchSampler` each of the K corpora fills 1/K of the ``slots_per_epoch`` slots, so an
    utterance of corpus k is drawn ``epochs * slots / (K * n_k)`` times: small corpora are cycled many times and
    large ones sub-sampled. Without it (shuffled batches) every utterance is drawn once per epoch.
    """
    corpora, counts = np.unique(np.asarray(corpus_ids), return_counts=True)
    if not balanced:
        return {c.item() if hasattr(c, "item") else c: float(epochs) for c in corpora}
    slots = slots_per_epoch(int(counts.sum()), batch_size, num_replicas)
    return {
        (c.item() if hasattr(c, "item") else c): float(epochs * slots / (len(corpora) * n))
        for c, n in zip(corpora, counts)
    }
