"""Tests for hf_ser.train.sampling: corpus-balanced, length-windowed, distributed-aware batches."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from transformers.trainer_pt_utils import BatchRebalanceSampler

from hf_ser.train.sampling import (
    DEFAULT_LENGTH_WINDOW,
    CorpusBalancedBatchSampler,
    bucket_length,
    corpus_share_error,
    cross_corpus_positive_share,
    distinct_shapes,
    length_buckets,
    length_sorted_order,
    padded_fraction,
    padded_shapes,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ddp_sampler_check


def make_data(sizes: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Corpus ids (shuffled rows) and lengths whose scale depends on the corpus, like real corpora."""
    rng = np.random.default_rng(seed)
    corpus_ids = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    lengths = (rng.lognormal(0.0, 0.4, len(corpus_ids)) * 16000 * (1 + corpus_ids)).astype(np.int64)
    return corpus_ids, lengths


def counts(rows, corpus_ids: np.ndarray, num_corpora: int) -> np.ndarray:
    return np.bincount(corpus_ids[np.asarray(rows).ravel()], minlength=num_corpora)


def test_is_a_batch_rebalance_sampler_with_the_attributes_trainer_and_accelerate_read():
    corpus_ids, lengths = make_data((20, 5))
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, 4)
    assert isinstance(sampler, BatchRebalanceSampler)
    assert sampler.batch_size == 4 and sampler.drop_last is True
    assert (sampler.num_replicas, sampler.rank, sampler.epoch) == (1, 0, 0)
    sampler.set_epoch(3)
    assert sampler.epoch == 3
    assert 1 <= DEFAULT_LENGTH_WINDOW <= 64


@pytest.mark.parametrize("batch_size", [6, 7])
def test_window_1_every_micro_batch_has_equal_shares_and_remainders_rotate(batch_size):
    corpus_ids, lengths = make_data((300, 40, 9))
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, batch_size, seed=1)
    batches = list(sampler)
    assert batches
    for batch in batches:
        c = counts(batch, corpus_ids, 3)
        assert c.max() - c.min() <= 1
        if batch_size % 3 == 0:
            assert (c == batch_size // 3).all()
    # Remainders rotate: every prefix of the epoch (and of the next epoch, continuing) is balanced too.
    sampler.set_epoch(1)
    running = np.cumsum([counts(b, corpus_ids, 3) for b in batches + list(sampler)], axis=0)
    assert (running.max(axis=1) - running.min(axis=1) <= 1).all()


@pytest.mark.parametrize("batch_size", [8, 10])
def test_window_4_every_window_has_exact_shares_and_is_length_sorted(batch_size):
    corpus_ids, lengths = make_data((500, 120, 30, 11))
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, batch_size, length_window=4, seed=2)
    windows = sampler.plan()
    assert sum(len(w) for w in windows) == len(sampler)
    assert all(w.shape == (4, batch_size) for w in windows[:-1])
    for window in windows:
        c = counts(window, corpus_ids, 4)
        assert c.max() - c.min() <= 1
        if window.size % 4 == 0:
            assert (c == window.size // 4).all()
        # Sorted then cut: the micro-batches cover disjoint length ranges.
        spans = sorted((lengths[b].min(), lengths[b].max()) for b in window)
        assert all(hi <= lo for (_, hi), (lo, _) in zip(spans, spans[1:]))
    assert corpus_share_error(windows, corpus_ids) < 1
    flat = [b for w in windows for b in w]
    assert corpus_share_error(flat, corpus_ids) >= 1  # micro-batches inside a window are not balanced
    unwindowed = list(CorpusBalancedBatchSampler(corpus_ids, lengths, batch_size, length_window=1, seed=2))
    assert padded_fraction(flat, lengths) < padded_fraction(unwindowed, lengths)


def test_iteration_follows_the_plan_and_micro_batch_order_is_shuffled():
    corpus_ids, lengths = make_data((400, 200))
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, 4, length_window=8, seed=0)
    windows = sampler.plan()
    assert [list(b) for w in windows for b in w.tolist()] == list(sampler)
    by_length = [np.argsort([lengths[b].max() for b in w]).tolist() for w in windows[:-1]]
    assert any(order != sorted(order) for order in by_length)


def test_deterministic_per_seed_and_epoch_and_different_across_epochs_and_seeds():
    corpus_ids, lengths = make_data((90, 30, 12))

    def make(seed):
        return CorpusBalancedBatchSampler(corpus_ids, lengths, 6, length_window=2, seed=seed)

    a, b = make(7), make(7)
    epoch0 = list(a)
    assert epoch0 == list(b) == list(a)
    a.set_epoch(1)
    epoch1 = list(a)
    assert epoch1 != epoch0
    b.set_epoch(1)
    assert list(b) == epoch1
    assert list(make(8)) != epoch0


@pytest.mark.parametrize(
    ("sizes", "batch_size", "window", "replicas"),
    [((50, 7, 3), 4, 1, 1), ((50, 7, 3), 4, 3, 2), ((101, 33), 8, 4, 3), ((5, 5, 5, 5), 16, 2, 2), ((1,), 2, 1, 4)],
)
def test_indices_valid_length_matches_and_epoch_size(sizes, batch_size, window, replicas):
    corpus_ids, lengths = make_data(sizes)
    n = len(corpus_ids)
    total = 0
    for rank in range(replicas):
        sampler = CorpusBalancedBatchSampler(
            corpus_ids, lengths, batch_size, length_window=window, num_replicas=replicas, rank=rank
        )
        batches = list(sampler)
        assert len(batches) == len(sampler) == math.ceil(math.ceil(n / batch_size) / replicas)
        assert all(len(b) == batch_size and all(isinstance(i, int) and 0 <= i < n for i in b) for b in batches)
        total += len(batches)
    # ceil(N / B) micro-batches over all ranks, rounded up to a multiple of the number of ranks.
    assert math.ceil(n / batch_size) <= total < math.ceil(n / batch_size) + replicas
    assert total == sampler.total_batches


@pytest.mark.parametrize("window", [1, 4])
def test_two_replicas_are_disjoint_and_together_draw_the_single_process_plan(window):
    corpus_ids, lengths = make_data((300, 80, 20))  # N=400, B=8: 50 micro-batches, even over 2 ranks
    single = CorpusBalancedBatchSampler(corpus_ids, lengths, 8, length_window=window, seed=4, num_replicas=1)
    ranks = [
        CorpusBalancedBatchSampler(corpus_ids, lengths, 8, length_window=window, seed=4, num_replicas=2, rank=r)
        for r in range(2)
    ]
    for epoch in range(2):
        for s in (single, *ranks):
            s.set_epoch(epoch)
        per_rank = [[i for b in s for i in b] for s in ranks]
        assert len(per_rank[0]) == len(per_rank[1])
        # Each draw of the global plan goes to exactly one rank...
        plan = Counter(int(i) for w in ranks[0].plan() for i in w.ravel())
        assert Counter(per_rank[0]) + Counter(per_rank[1]) == plan
        # ...and the ranks together draw exactly what one process draws.
        assert plan == Counter(i for b in single for i in b)
        # Only the cycling corpora (20 and 80 rows, ~133 draws each) repeat rows; the large one is sub-sampled.
        large = [{i for i in rows if corpus_ids[i] == 0} for rows in per_rank]
        assert not large[0] & large[1]
        assert all(Counter(i for i in rows if corpus_ids[i] == 0).most_common(1)[0][1] == 1 for rows in per_rank)


def test_uneven_replicas_round_up_with_extra_balanced_batches():
    corpus_ids, lengths = make_data((60, 30, 9))  # N=99, B=6: 17 micro-batches -> 18 over 2 ranks
    single = CorpusBalancedBatchSampler(corpus_ids, lengths, 6, length_window=2, num_replicas=1)
    ranks = [
        CorpusBalancedBatchSampler(corpus_ids, lengths, 6, length_window=2, num_replicas=2, rank=r) for r in range(2)
    ]
    assert len(single) == 17 and [len(s) for s in ranks] == [9, 9]
    both = Counter(i for s in ranks for b in s for i in b)
    alone = Counter(i for b in single for i in b)
    assert not alone - both and sum((both - alone).values()) == 6
    for s in ranks:  # each rank's consecutive pairs of micro-batches form one window with exact shares
        batches = list(s)
        for start in range(0, len(batches), 2):
            c = counts(batches[start : start + 2], corpus_ids, 3)
            assert c.max() - c.min() <= 1


def test_small_corpus_cycles_with_a_new_permutation_each_pass():
    corpus_ids, lengths = make_data((30, 30, 3))  # N=63, B=6: 11 batches, 22 draws of each corpus per epoch
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, 6, seed=9)
    small = np.flatnonzero(corpus_ids == 2)
    draws = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        epoch_draws = [i for b in sampler for i in b if corpus_ids[i] == 2]
        assert len(epoch_draws) == 22
        draws += epoch_draws
    assert Counter(draws) == {int(i): 22 for i in small}
    stream = sampler._stream(2, np.arange(60)).reshape(20, 3)
    assert all(sorted(row) == sorted(small) for row in stream.tolist())
    assert len({tuple(row) for row in stream.tolist()}) > 1


def test_large_corpus_is_sub_sampled_per_epoch_and_fully_seen_over_epochs():
    corpus_ids, lengths = make_data((200, 10, 10))  # 220 rows, B=4: 55 batches, 73 or 74 draws of each corpus
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, 4, seed=3)
    seen: set[int] = set()
    for epoch in range(3):
        sampler.set_epoch(epoch)
        large = [i for b in sampler for i in b if corpus_ids[i] == 0]
        assert 73 <= len(large) <= 74
        if epoch < 2:  # epochs take consecutive slices of one permutation: no repeats within or across them
            assert len(set(large)) == len(large) and not seen & set(large)
        seen |= set(large)
    # The third epoch finishes the first pass (and starts the next permutation): every utterance was seen.
    assert seen == set(np.flatnonzero(corpus_ids == 0).tolist())


def test_plans_100k_rows_fast():
    corpus_ids, lengths = make_data((7442 * 5, 6000 * 5, 5916 * 5, 862 * 5, 309 * 5, 792 * 5, 372 * 5, 1198 * 5))
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, 16, length_window=8)
    start = time.perf_counter()
    batches = list(sampler)
    assert time.perf_counter() - start < 1.0
    assert len(batches) == math.ceil(len(corpus_ids) / 16)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="equal"):
        CorpusBalancedBatchSampler([0, 1], [1], 2)
    with pytest.raises(ValueError, match="rank"):
        CorpusBalancedBatchSampler([0, 1], [1, 2], 2, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="length_window"):
        CorpusBalancedBatchSampler([0, 1], [1, 2], 2, length_window=0)


def test_length_sorted_order_is_stable_longest_first():
    assert length_sorted_order([3, 1, 3, 2]).tolist() == [0, 2, 3, 1]


def test_padded_fraction():
    assert padded_fraction([[0, 1], [2, 3]], [1, 2, 3, 4]) == pytest.approx(2 / 12)
    assert padded_fraction([[0], [1, 2]], [5, 2, 2]) == 0.0


def test_cross_corpus_positive_share():
    corpus_ids = [0, 0, 1, 1, 0]
    labels = [0, 0, 0, 1, 1]
    # Batch 1 same-label pairs: (0,1) same corpus, (0,2) and (1,2) cross. Batch 2: (3,4) cross.
    assert cross_corpus_positive_share([[0, 1, 2], [3, 4]], corpus_ids, labels) == pytest.approx(3 / 4)
    assert math.isnan(cross_corpus_positive_share([[0, 3]], corpus_ids, labels))


def test_corpus_share_error():
    corpus_ids = [0, 0, 1, 1, 2, 2]
    assert corpus_share_error([[0, 2, 4], [1, 3, 5]], corpus_ids) == 0.0
    assert corpus_share_error([[0, 1, 2]], corpus_ids) == pytest.approx(2 - 1)
    assert corpus_share_error([[[0, 1], [2, 3]]], corpus_ids) == pytest.approx(4 / 3)
    assert corpus_share_error([np.array([[0, 2], [4, 5]])], corpus_ids) == pytest.approx(2 - 4 / 3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_ranks_are_disjoint_and_match_the_trainer_dataloader(tmp_path):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
        str(ROOT / "tests" / "ddp_sampler_check.py"), str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]

    corpus_ids, lengths = ddp_sampler_check.dataset_columns()
    reference = CorpusBalancedBatchSampler(
        corpus_ids, lengths, ddp_sampler_check.BATCH_SIZE, length_window=ddp_sampler_check.LENGTH_WINDOW,
        seed=ddp_sampler_check.SEED, num_replicas=1,
    )  # fmt: skip
    for r, result in enumerate(results):
        assert (result["rank"], result["world_size"], result["trainer_world_size"]) == (r, 2, 2)
        assert (result["sampler_rank"], result["sampler_num_replicas"]) == (r, 2)
        assert result["len"] == result["loader_len"] == 5
    for epoch in map(str, range(ddp_sampler_check.EPOCHS)):
        for result in results:
            assert result["trainer"][epoch] == result["direct"][epoch]  # accelerate did not re-shard
        rows = [Counter(i for b in result["direct"][epoch] for i in b) for result in results]
        reference.set_epoch(int(epoch))
        assert rows[0] + rows[1] == Counter(i for b in reference for i in b)
        large = [{i for i in c if corpus_ids[i] == 0} for c in rows]  # the sub-sampled corpus: no repeats
        assert not large[0] & large[1]
    assert results[0]["direct"]["0"] != results[0]["direct"]["1"]


@pytest.mark.parametrize("replicas", [1, 2])
def test_expected_draws_per_utterance_match_the_samplers_draws(replicas):
    from hf_ser.train.sampling import expected_draws_per_utterance

    sizes = (7, 30, 123)
    ids = np.repeat(np.arange(3), sizes)
    expected = expected_draws_per_utterance(ids, batch_size=8, epochs=10, balanced=True, num_replicas=replicas)
    counts = np.zeros(len(ids))
    for rank in range(replicas):
        s = CorpusBalancedBatchSampler(ids, np.ones(len(ids)), 8, seed=0, num_replicas=replicas, rank=rank)
        for epoch in range(10):
            s.set_epoch(epoch)
            for batch in s:
                np.add.at(counts, batch, 1)
    for k, _n in enumerate(sizes):
        assert counts[ids == k].mean() == pytest.approx(expected[k], rel=0.02)
    assert expected[0] / expected[2] == pytest.approx(123 / 7)  # small corpora cycled, large sub-sampled
    assert expected_draws_per_utterance(ids, 8, 10, balanced=False) == {0: 10.0, 1: 10.0, 2: 10.0}


@pytest.mark.parametrize(("window", "replicas"), [(1, 1), (3, 1), (2, 2)])
def test_micro_batch_of_four_groups_is_what_four_accumulation_steps_see(window, replicas):
    """Micro-batch 64 (groups of 16, no accumulation) yields, step for step, the groups that micro-batch 16 with 4
    accumulation steps yields, the epoch's shorter last step included."""
    corpus_ids, lengths = make_data((300, 120, 45))
    for rank in range(replicas):
        common = dict(length_window=window, seed=3, num_replicas=replicas, rank=rank, group_size=16, groups_per_step=4)
        accumulated = CorpusBalancedBatchSampler(corpus_ids, lengths, 16, **common)
        fused = CorpusBalancedBatchSampler(corpus_ids, lengths, 64, **common)
        for epoch in (0, 1):
            accumulated.set_epoch(epoch)
            fused.set_epoch(epoch)
            small, big = list(accumulated), list(fused)
            assert len(big) == len(fused) == math.ceil(len(small) / 4)
            assert [sum(small[i : i + 4], []) for i in range(0, len(small), 4)] == big
            assert len(big[-1]) < 64  # 465 rows: 30 groups, the last step holds fewer groups


def test_window_1_groups_inside_a_micro_batch_are_each_exactly_balanced():
    corpus_ids, lengths = make_data((300, 120, 45, 80))
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, 64, length_window=1, group_size=16)
    for batch in sampler:
        for start in range(0, len(batch), 16):
            assert (counts(batch[start : start + 16], corpus_ids, 4) == 4).all()


def test_groups_of_a_step_span_its_length_range_and_windows_stay_exact():
    """W > 1: a step's groups are dealt at random from its length-sorted block (so a group of 16 pads like the step),
    blocks are length-disjoint, and each window of W steps has exact corpus shares."""
    corpus_ids, lengths = make_data((500, 120, 30, 11))
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, 16, length_window=4, group_size=16, groups_per_step=4)
    windows = sampler.plan()
    assert all(w.shape == (16, 16) for w in windows[:-1])
    for window in windows[:-1]:
        assert (counts(window, corpus_ids, 4) == 64).all()
        steps = window.reshape(4, 64)
        spans = sorted((lengths[s].min(), lengths[s].max()) for s in steps)
        assert all(hi <= lo for (_, hi), (lo, _) in zip(spans, spans[1:]))
        for step in steps:  # every group reaches into the longest quarter of its step
            top = np.sort(lengths[step])[-16]
            assert sum(lengths[g].max() >= top for g in step.reshape(4, 16)) >= 2


def test_rejects_micro_batches_of_partial_groups():
    corpus_ids, lengths = make_data((20, 5))
    with pytest.raises(ValueError, match="multiple of group_size"):
        CorpusBalancedBatchSampler(corpus_ids, lengths, 24, group_size=16)
    with pytest.raises(ValueError, match="groups_per_step"):
        CorpusBalancedBatchSampler(corpus_ids, lengths, 32, group_size=16, groups_per_step=3)


def test_length_buckets_are_geometric_whole_frames_and_cover_the_longest():
    buckets = length_buckets(24, 205_000)
    assert buckets == sorted(set(buckets)) and len(buckets) == 24
    assert buckets[0] == 16000 and buckets[-1] >= 205_000 and all(b % 320 == 0 for b in buckets)
    ratios = np.diff(np.log(buckets))
    assert ratios.max() - ratios.min() < 0.02  # geometric up to the rounding to 20 ms
    assert length_buckets(0, 205_000) == []
    assert length_buckets(5, 8000) == [8000]  # all below the 1 s floor: one bucket
    with pytest.raises(ValueError, match="length_buckets 0"):
        length_buckets(-1, 100)
    assert bucket_length(16001, buckets) == buckets[1]
    assert bucket_length(300_000, buckets, multiple=320) == 300_160  # beyond the last bucket: its own length
    assert bucket_length(777, [], multiple=1) == 777


def test_padded_shapes_and_fraction_with_buckets():
    lengths = np.array([100, 50, 300, 290, 30])
    batches = [[0, 1], [2, 3], [4]]
    assert padded_fraction(batches, lengths) == pytest.approx(1 - 770 / (200 + 600 + 30))
    sizes, padded = padded_shapes(batches, lengths, [128, 320])
    assert sizes.tolist() == [2, 2, 1] and padded.tolist() == [128, 320, 128]
    assert padded_fraction(batches, lengths, [128, 320]) == pytest.approx(1 - 770 / (256 + 640 + 128))
    assert distinct_shapes(batches, lengths, [128, 320]) == 3 and distinct_shapes([[0], [4]], lengths, [128]) == 1
