"""Check `CorpusBalancedBatchSampler` under a real process group; launched by tests/train/test_sampling.py.

Usage: python -m torch.distributed.run --nproc_per_node 2 tests/ddp_sampler_check.py OUT_DIR

Each rank builds the sampler with num_replicas/rank taken from the process group, then reads two epochs both
straight from the sampler and through `Trainer.get_train_dataloader` (accelerate's prepared DataLoader), and
writes `OUT_DIR/rank{RANK}.json` with the row indices it got.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from transformers import Trainer, TrainingArguments

from hf_ser.train.sampling import CorpusBalancedBatchSampler

# Kept in sync with tests/train/test_sampling.py (which recomputes the single-process plan).
SIZES = (40, 13, 7)
BATCH_SIZE = 6
LENGTH_WINDOW = 2
SEED = 5
EPOCHS = 2


def dataset_columns() -> tuple[np.ndarray, np.ndarray]:
    """Corpus ids and lengths of the toy dataset (N=60: 10 micro-batches per epoch, 5 per rank)."""
    corpus_ids = np.repeat(np.arange(len(SIZES)), SIZES)
    lengths = np.random.default_rng(0).integers(100, 1000, len(corpus_ids))
    return corpus_ids, lengths


class _RowDataset(torch.utils.data.Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, int]:
        return {"row": i}


class _Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, row: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": self.w.sum() * 0}


class _BalancedTrainer(Trainer):
    def __init__(self, sampler: CorpusBalancedBatchSampler, **kwargs) -> None:
        self._balanced_sampler = sampler
        super().__init__(**kwargs)

    def _get_train_sampler(self, train_dataset=None) -> CorpusBalancedBatchSampler:
        return self._balanced_sampler


def main(out_dir: str) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    corpus_ids, lengths = dataset_columns()
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, BATCH_SIZE, length_window=LENGTH_WINDOW, seed=SEED)
    direct = {}
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        direct[epoch] = [list(b) for b in sampler]

    args = TrainingArguments(
        output_dir=str(Path(out_dir) / "trainer"),
        per_device_train_batch_size=BATCH_SIZE,
        remove_unused_columns=False,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
    )
    trainer = _BalancedTrainer(
        sampler,
        model=_Model(),
        args=args,
        train_dataset=_RowDataset(len(corpus_ids)),
        data_collator=lambda rows: {"row": torch.tensor([r["row"] for r in rows])},
    )
    loader = trainer.get_train_dataloader()
    through_trainer = {}
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)  # what Trainer._inner_training_loop does through the shard wrapper
        through_trainer[epoch] = [batch["row"].tolist() for batch in loader]

    result = {
        "rank": rank,
        "world_size": world,
        "sampler_num_replicas": sampler.num_replicas,
        "sampler_rank": sampler.rank,
        "trainer_world_size": trainer.args.world_size,
        "len": len(sampler),
        "loader_len": len(loader),
        "direct": direct,
        "trainer": through_trainer,
    }
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(result))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m torch.distributed.run --nproc_per_node 2 tests/ddp_sampler_check.py OUT_DIR")
    main(sys.argv[1])
