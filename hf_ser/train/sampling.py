"""Corpus-balanced, length-windowed, distributed-aware batch sampling.

`CorpusBalancedBatchSampler` gives every training corpus an equal share of each contrastive group (the paper's
balanced batches of 16), optionally sorts a window of `length_window` optimizer steps by length to cut padding, and
deals the batches to data-parallel ranks itself. It subclasses `transformers.trainer_pt_utils.BatchRebalanceSampler`
only so that `Trainer._get_dataloader` passes it to the `DataLoader` as `batch_sampler` and turns accelerate's
`BatchSamplerShard` wrapper into a passthrough; none of the parent's cost-balancing logic is used.

How an epoch is planned (all ranks compute the same plan from the seed, without communication):

1. Corpus slots. Corpora take turns in a fixed, seeded round-robin order, one slot each. The round-robin runs on
   across epochs: epoch `e` takes slots `[e*T, (e+1)*T)` with `T = total groups * group_size`, so any run
   of `n` consecutive slots holds `floor(n/K)` or `ceil(n/K)` slots of each of the `K` corpora, and the
   remainders rotate over corpora, groups and epochs.
2. Corpus streams. Each corpus's stream is an endless concatenation of seeded permutations of its utterances
   (pass `p` of corpus `k` is permuted by `(seed, k, p)`, independent of the epoch). Slot `g` of corpus `k` takes
   item `g // K` of that stream, so epochs take consecutive slices: a small corpus cycles (re-permuted on every
   pass) and a large one is sub-sampled per epoch, yet all its utterances are seen over epochs.
3. Groups and windows. The unit of the plan is the contrastive group of `group_size` slots (default: the
   micro-batch): SupCon and the corpus balance are computed per group. With `length_window` W > 1 the slots are cut
   into windows of `W x groups_per_step` groups (W optimizer steps of one rank; corpus shares are exact per
   window), each window is sorted by length (random tie-break) and cut into blocks of `groups_per_step`
   length-adjacent groups, one optimizer step each. The blocks' order is shuffled, and each block's slots are dealt
   to its groups at random, so every group spans its step's length range: a micro-batch of one group or of the
   whole step pads about the same, and each group mixes corpora as much as its step does. With W = 1 nothing is
   sorted and every group is exactly balanced.
4. Micro-batches. Each rank's groups, in plan order, are concatenated `batch_size // group_size` at a time into
   micro-batches (the epoch's last one may hold fewer groups). Micro-batch 64 with groups of 16 and no
   accumulation therefore yields, step for step, the concatenation of the groups that micro-batch 16 with 4
   accumulation steps yields (both have 4 groups per step): the same samples in the same groups, which is what
   makes the two train the same objective.
5. Ranks. Windows are dealt round-robin: window `i` goes to rank `i % num_replicas`. The ranks of one step use the
   same block order, so at every forward they process the same length quantile and wait less for each other at
   the gradient all-reduce.

An epoch holds `ceil(N / group_size)` groups over all ranks (`N` = dataset size), as unbalanced training with
micro-batches of `group_size` does. When that is not a multiple of `num_replicas`, it is rounded up so that every
rank runs the same number of groups; the extra groups are ordinary balanced groups drawn further along the same
streams (so the epoch holds up to `num_replicas - 1` extra groups, and later epochs continue from there). The last
window of an epoch is shorter when the per-rank number of groups is not a multiple of the window, matching the
Trainer's shorter last accumulation step (its trailing partial block stays last).

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

# Measured by `python benchmarks/padding.py` (seed 0, 3 epochs) on synthetic durations of the paper's eight corpora
# (log-normal per corpus, their sizes, 6 random labels), groups of 16, 4 groups per optimizer step (16 x 4
# accumulation or 64 x 1, the same groups). Padded frames at micro-batch 16 / 64, each padded to its longest row,
# then to the default 24 length buckets; cross-corpus share of same-label pairs inside a group:
#   W=1: 51.6 / 61.4%, buckets 54.3 / 63.5%, 0.93   W=4: 26.5 / 33.8%, buckets 30.4 / 37.3%, 0.76
#   W=16: 9.5 / 13.1%, buckets 15.0 / 18.2%, 0.68   W=32: 5.7 / 7.7%, buckets 10.9 / 12.8%, 0.67
# W=32 optimizer steps (a window of 128 groups, 2,048 slots) is the smallest with bucketed padding <= 15% at both
# micro-batch sizes and a cross-corpus share > 0.5; corpus shares are exact per window.
DEFAULT_LENGTH_WINDOW = 32
# Padded lengths are whole wav2vec2 frames (20 ms at 16 kHz), so the frame count is a function of the bucket.
BUCKET_MULTIPLE = 320
# The shortest bucket: a micro-batch whose longest utterance is under 1 s is rare (0.7 s is the shortest seen at
# the defaults), and a 1 s floor measured less padding than 0.5 s at the same number of buckets.
MIN_BUCKET_SAMPLES = 16000
# Geometric buckets from 1 s to the longest training utterance: 24 gave 23-24 distinct padded shapes per epoch and
# 5 points of extra padding at the defaults (32: 3-4 points, 31 shapes; 16: 8 points).
DEFAULT_LENGTH_BUCKETS = 24


def _distributed_defaults(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """Fill `num_replicas`/`rank` from `torch.distributed` when it is initialised, else 1/0."""
    initialised = torch.distributed.is_available() and torch.distributed.is_initialized()
    if num_replicas is None:
        num_replicas = torch.distributed.get_world_size() if initialised else 1
    if rank is None:
        rank = torch.distributed.get_rank() if initialised else 0
    return int(num_replicas), int(rank)


class CorpusBalancedBatchSampler(BatchRebalanceSampler):
    """Batch sampler giving each corpus an equal share of every contrastive group (or window), rank-aware.

    Args:
        corpus_ids: corpus of each dataset row (any hashable values; one stream per distinct value).
        lengths: length of each row (samples or frames), used for length windows.
        batch_size: per-device micro-batch size (a multiple of `group_size`).
        length_window: optimizer steps whose samples are sorted together by length (a window of
            `length_window * groups_per_step` groups); 1 sorts nothing and balances every group exactly.
        seed: base seed; the plan is a function of `(seed, epoch)` only.
        num_replicas: data-parallel world size; defaults to `torch.distributed` when initialised, else 1.
        rank: this process's data-parallel rank; defaults to `torch.distributed` when initialised, else 0.
        group_size: slots per contrastive group (SupCon and corpus balance); defaults to `batch_size`.
        groups_per_step: groups in one optimizer step of one rank (micro-batch / group x gradient accumulation);
            defaults to one micro-batch. Length-adjacent groups are kept together in blocks of this size.
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
        group_size: int | None = None,
        groups_per_step: int | None = None,
    ) -> None:
        # The parent's __init__ is deliberately not called: its state describes its own cost-balancing plan.
        corpus_ids = np.asarray(corpus_ids)
        lengths = np.asarray(lengths)
        if corpus_ids.ndim != 1 or lengths.ndim != 1 or len(corpus_ids) != len(lengths):
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/train/sampling.py): corpus_ids and lengths must be 1-D and of "
                f"equal "
                f"length, got shapes {corpus_ids.shape} and {lengths.shape}; pass one value per dataset row."
            )
        if len(corpus_ids) == 0:
            raise ValueError("CorpusBalancedBatchSampler (hf_ser/train/sampling.py): the dataset is empty.")
        group_size = batch_size if group_size is None else group_size
        if batch_size < 1 or length_window < 1 or group_size < 1:
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/train/sampling.py): batch_size ({batch_size}), group_size "
                f"({group_size}) and length_window ({length_window}) must be >= 1."
            )
        if batch_size % group_size:
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/train/sampling.py): batch_size ({batch_size}) must be a multiple "
                f"of group_size ({group_size}); use a micro-batch of whole contrastive groups."
            )
        groups_per_batch = batch_size // group_size
        groups_per_step = groups_per_batch if groups_per_step is None else int(groups_per_step)
        if groups_per_step < 1 or groups_per_step % groups_per_batch:
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/train/sampling.py): groups_per_step ({groups_per_step}) must be a "
                f"positive multiple of batch_size / group_size ({groups_per_batch})."
            )
        num_replicas, rank = _distributed_defaults(num_replicas, rank)
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(
                f"CorpusBalancedBatchSampler (hf_ser/train/sampling.py): need num_replicas >= 1 and 0 <= rank < "
                f"num_replicas, got num_replicas={num_replicas}, rank={rank}."
            )
        if seed < 0:
            raise ValueError(f"CorpusBalancedBatchSampler (hf_ser/train/sampling.py): seed must be >= 0, got {seed}.")

        self.corpora, corpus_index = np.unique(corpus_ids, return_inverse=True)
        # Row indices of each corpus, in dataset order (corpus k = k-th sorted distinct id).
        order = np.argsort(corpus_index, kind="stable")
        bounds = np.cumsum(np.bincount(corpus_index, minlength=len(self.corpora)))[:-1]
        self._members: list[np.ndarray] = np.split(order, bounds)
        self.lengths = lengths
        self.batch_size = int(batch_size)
        self.group_size = int(group_size)
        self.groups_per_batch = groups_per_batch
        self.groups_per_step = groups_per_step
        self.length_window = int(length_window)
        # Groups per window; with length_window 1 nothing is sorted across groups (each group is exactly balanced).
        self.window_groups = 1 if self.length_window == 1 else self.length_window * groups_per_step
        self.seed = int(seed)
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        # Attributes read by accelerate's `BatchSamplerShard` (batch_size, drop_last) and kept with the parent's
        # meaning for code that inspects a `BatchRebalanceSampler`. Groups are always full, hence drop_last=True.
        self.drop_last = True
        self.shuffle = True
        self.dp_size = num_replicas
        self.grad_accum = groups_per_step // groups_per_batch
        self.effective_batch_size = self.group_size * groups_per_step * num_replicas
        # The fixed round-robin order of corpora over slots.
        self._slot_order = np.random.default_rng([self.seed, 0]).permutation(len(self.corpora))

    @property
    def num_corpora(self) -> int:
        """Number of distinct corpora sharing each group."""
        return len(self.corpora)

    @property
    def groups_per_rank(self) -> int:
        """Contrastive groups each rank draws per epoch: ceil(ceil(N / group_size) / num_replicas)."""
        return math.ceil(math.ceil(len(self.lengths) / self.group_size) / self.num_replicas)

    @property
    def total_groups(self) -> int:
        """Groups per epoch over all ranks: ceil(N / group_size) rounded up to a multiple of num_replicas."""
        return self.groups_per_rank * self.num_replicas

    @property
    def total_batches(self) -> int:
        """Micro-batches per epoch over all ranks (every rank yields `len(self)`)."""
        return len(self) * self.num_replicas

    def __len__(self) -> int:
        return math.ceil(self.groups_per_rank / self.groups_per_batch)

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
        """Dataset rows of the epoch's `total_groups * group_size` slots, in slot order."""
        total = self.total_groups * self.group_size
        start = epoch * total
        num_corpora = self.num_corpora
        rows = np.empty(total, dtype=np.int64)
        for position, k in enumerate(self._slot_order):
            slots = np.arange((position - start) % num_corpora, total, num_corpora)
            if len(slots):
                rows[slots] = self._stream(int(k), (start + slots) // num_corpora)
        return rows

    def _arrange(self, rows: np.ndarray, window: int, rng: np.random.Generator) -> np.ndarray:
        """Sort each row of `rows` (one window per row) by length, cut it into `window` groups, shuffle their order.

        Windows of more than one group are cut into blocks of `groups_per_step` length-adjacent groups (one optimizer
        step of one rank), the blocks' order is shuffled (a trailing partial block stays last) and each block's slots
        are dealt to its groups at random, so every group spans its step's length range (the same padding for a
        micro-batch of one group or of the whole step). Windows are ordered (step, rank); the ranks of one step
        share the order.
        """
        keys = (rng.random(rows.shape), self.lengths[rows])
        rows = np.take_along_axis(rows, np.lexsort(keys, axis=-1), axis=-1)
        rows = rows.reshape(len(rows), window, self.group_size)
        block = self.groups_per_step if self.window_groups > 1 else 1
        blocks, rest = divmod(window, block)
        steps = len(rows) // self.num_replicas
        order = rng.permuted(np.tile(np.arange(blocks), (steps, 1)), axis=1)
        order = (order[:, :, None] * block + np.arange(block)).reshape(steps, blocks * block)
        order = np.concatenate([order, np.tile(np.arange(blocks * block, window), (steps, 1))], axis=1)
        order = np.repeat(order, self.num_replicas, axis=0)
        rows = np.take_along_axis(rows, order[:, :, None], axis=1)
        if block > 1 and blocks:  # each group spans its step's length range: deal the block's slots at random
            head = rows[:, : blocks * block].reshape(len(rows), blocks, block * self.group_size)
            head = rng.permuted(head, axis=2).reshape(len(rows), blocks * block, self.group_size)
            rows = np.concatenate([head, rows[:, blocks * block :]], axis=1)
        return rows

    def plan(self, epoch: int | None = None) -> list[np.ndarray]:
        """Global plan of an epoch: one `(groups, group_size)` array of rows per window.

        Windows are ordered (step, rank): rank `r` owns windows `r, r + num_replicas, ...`.
        """
        epoch = self.epoch if epoch is None else int(epoch)
        rows = self._slots(epoch)
        rng = np.random.default_rng([self.seed, 2, epoch])
        window = self.window_groups
        full_steps, last = divmod(self.groups_per_rank, window)
        cut = full_steps * self.num_replicas * window * self.group_size
        windows: list[np.ndarray] = []
        if full_steps:
            windows.extend(self._arrange(rows[:cut].reshape(-1, window * self.group_size), window, rng))
        if last:
            windows.extend(self._arrange(rows[cut:].reshape(-1, last * self.group_size), last, rng))
        return windows

    def micro_batches(self, epoch: int | None = None, rank: int | None = None) -> list[np.ndarray]:
        """One rank's micro-batches of an epoch, in order: its groups concatenated `batch_size // group_size` at a
        time (the epoch's last micro-batch may hold fewer groups)."""
        rank = self.rank if rank is None else int(rank)
        groups = np.concatenate(self.plan(epoch)[rank :: self.num_replicas])
        return [groups[i : i + self.groups_per_batch].ravel() for i in range(0, len(groups), self.groups_per_batch)]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.micro_batches():
            yield batch.tolist()


def length_buckets(
    num_buckets: int, max_length: int, min_length: int = MIN_BUCKET_SAMPLES, multiple: int = BUCKET_MULTIPLE
) -> list[int]:
    """Padded lengths (samples) of `num_buckets` geometric buckets from `min_length` to `max_length`.

    Each is rounded up to a multiple of `multiple` (one 20 ms frame by default), duplicates dropped; the last covers
    `max_length`. `num_buckets` 0 gives [] (pad each batch to its longest). A batch is padded to the smallest bucket
    at least as long as its longest row (see :func:`bucket_length`).
    """
    if num_buckets < 0 or max_length < 1:
        raise ValueError(
            f"length_buckets (hf_ser/train/sampling.py): need num_buckets >= 0 and max_length >= 1, got {num_buckets} "
            f"and {max_length}; pass --length_buckets 0 to pad each batch to its longest."
        )
    if num_buckets == 0:
        return []
    low = min(max(1, min_length), max_length)
    edges = np.geomspace(low, max_length, num_buckets) if num_buckets > 1 else np.array([max_length])
    edges = np.ceil(edges - 1e-6).astype(np.int64)  # geomspace's float error must not add a frame
    return sorted({int(-(-e // multiple) * multiple) for e in edges})


def bucket_length(longest: int, buckets: Sequence[int], multiple: int = 1) -> int:
    """Padded length of a batch whose longest row is `longest`: the smallest bucket >= it; beyond the last bucket
    (or with no buckets) `longest` itself rounded up to `multiple`."""
    index = int(np.searchsorted(np.asarray(buckets, dtype=np.int64), longest)) if len(buckets) else 0
    if index < len(buckets):
        return int(buckets[index])
    return int(-(-int(longest) // multiple) * multiple)


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


def padded_shapes(
    batches: Sequence[Sequence[int]], lengths: Sequence[int], buckets: Sequence[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, padded length) of each non-empty batch, padded to its longest row or to the smallest bucket >= it."""
    rows, batch_id = _flat(batches)
    if not len(rows):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    row_lengths = np.asarray(lengths, dtype=np.int64)[rows]
    starts = np.flatnonzero(np.r_[True, batch_id[1:] != batch_id[:-1]])
    longest = np.maximum.reduceat(row_lengths, starts)
    padded = np.array([bucket_length(int(n), buckets) for n in longest]) if len(buckets) else longest
    return np.diff(np.r_[starts, len(rows)]), padded


def padded_fraction(batches: Sequence[Sequence[int]], lengths: Sequence[int], buckets: Sequence[int] = ()) -> float:
    """Fraction of frames that are padding when each batch is padded to its longest row (or to its bucket)."""
    sizes, padded = padded_shapes(batches, lengths, buckets)
    if not len(sizes):
        return 0.0
    rows, _ = _flat(batches)
    return float(1.0 - np.asarray(lengths, dtype=np.float64)[rows].sum() / (sizes * padded.astype(np.float64)).sum())


def distinct_shapes(batches: Sequence[Sequence[int]], lengths: Sequence[int], buckets: Sequence[int] = ()) -> int:
    """Number of distinct (rows, padded length) input shapes among the batches."""
    sizes, padded = padded_shapes(batches, lengths, buckets)
    return len(set(zip(sizes.tolist(), padded.tolist())))


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
