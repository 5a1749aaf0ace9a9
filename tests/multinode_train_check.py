"""A tiny deterministic SERTrainer training, one process or under torchrun; launched by tests/train/test_multinode.py.

Usage: torchrun --standalone --nproc_per_node 1 tests/multinode_train_check.py OUT_DIR  (1 rank, 2 accumulated)
       torchrun --nnodes 2 --nproc_per_node 1 ... tests/multinode_train_check.py OUT_DIR   (2 ranks, 1 micro-batch)

The global batch is the same either way (GLOBAL_MICRO_BATCHES micro-batches of BATCH_SIZE per optimizer step,
split over ranks or accumulated in one process), the model has no randomness left (no dropout, LayerDrop or time
masking; no augmentation), so the trained weights must agree within floating-point reordering. Each rank writes
OUT_DIR/rank{RANK}.json (the micro-batches it drew, world size, loss, node) and rank 0 OUT_DIR/weights.pt.
"""

import json
import os
import sys

import torch
from transformers import TrainingArguments

sys.path.insert(0, os.path.dirname(__file__))
from conftest import tone_dataset

from hf_ser.train.losses import class_weights, corpus_weights
from hf_ser.train.modeling import build_model
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform

BATCH_SIZE = 4
GLOBAL_MICRO_BATCHES = 2  # per optimizer step: ranks x accumulation steps
STEPS = 3
N = 48  # 12 micro-batches: a multiple of every world size used, so no rank gets a rounded-up extra batch


def main(out_dir: str) -> None:
    """Train STEPS optimizer steps and write what this rank saw and (rank 0) the trained weights."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    args = TrainingArguments(
        output_dir=os.path.join(out_dir, "ckpt"), per_device_train_batch_size=BATCH_SIZE,
        gradient_accumulation_steps=GLOBAL_MICRO_BATCHES // world, max_steps=STEPS, learning_rate=1e-3,
        report_to="none", remove_unused_columns=False, use_cpu=True, dataloader_pin_memory=False,
        save_strategy="no", ddp_backend="gloo", logging_steps=1, seed=0,
    )  # fmt: skip
    torch.manual_seed(0)
    model, fe = build_model("demo-tiny", layerdrop=0.0)
    model.config.mask_time_prob = 0.0  # SpecAugment-style masking draws per process: off for an exact comparison
    ds = tone_dataset(N)
    ds = ds.add_column("corpus_id", [0 if c == "c1" else 1 for c in ds["corpus"]])
    trainer = SERTrainer(
        model=model, args=args, train_dataset=ds.with_transform(make_transform(None)), data_collator=SERCollator(fe),
        processing_class=fe, class_weight=class_weights(ds["label"], 6), corpus_weight=corpus_weights(ds["corpus_id"]),
        train_corpus_ids=ds["corpus_id"], train_lengths=ds["length"], length_window=1,
    )  # fmt: skip
    sampler = trainer._get_train_sampler()
    batches = [list(map(int, b)) for b in sampler]
    result = trainer.train()
    rank = args.process_index
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(
            {
                "rank": rank,
                "world": args.world_size,
                "group_rank": int(os.environ.get("GROUP_RANK", "0")),
                "sampler": [sampler.rank, sampler.num_replicas],
                "loss": result.training_loss,
                "batches": batches,
            },
            f,
        )
    if rank == 0:
        torch.save(
            {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()}, os.path.join(out_dir, "weights.pt")
        )


if __name__ == "__main__":
    main(sys.argv[1])
    if torch.distributed.is_initialized():  # gloo's threads abort the process at exit unless the group is closed
        torch.distributed.destroy_process_group()
