"""Launched by torchrun (2 CPU processes, gloo): one SERTrainer training step with the balanced sampler
and a LayerDrop backbone (which DDP would reject) -> each rank writes what it saw to OUT_DIR."""

import json
import os
import sys

import torch
from transformers import TrainingArguments

sys.path.insert(0, os.path.dirname(__file__))
from conftest import tone_dataset  # noqa: E402

from hf_ser.experiments.recipe.arguments import ModelArguments  # noqa: E402
from hf_ser.experiments.recipe.training import _layerdrop  # noqa: E402
from hf_ser.train.losses import class_weights, corpus_weights  # noqa: E402
from hf_ser.train.modeling import build_model  # noqa: E402
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform  # noqa: E402


def main(out_dir: str) -> None:
    args = TrainingArguments(
        output_dir=os.path.join(out_dir, "ckpt"),
        per_device_train_batch_size=4,
        max_steps=2,
        learning_rate=1e-3,
        report_to="none",
        remove_unused_columns=False,
        use_cpu=True,
        dataloader_pin_memory=False,
        save_strategy="no",
        ddp_backend="gloo",
        logging_steps=1,
    )
    layerdrop = _layerdrop(ModelArguments(layerdrop=0.5), args)
    torch.manual_seed(0)
    model, fe = build_model("demo-tiny", layerdrop=layerdrop)
    ds = tone_dataset(48)  # corpora c1/c2 of 24 each
    ds = ds.add_column("corpus_id", [0 if c == "c1" else 1 for c in ds["corpus"]])
    seen = []
    collator = SERCollator(fe)
    trainer = SERTrainer(
        model=model,
        args=args,
        train_dataset=ds.with_transform(make_transform(None)),
        data_collator=collator,
        processing_class=fe,
        class_weight=class_weights(ds["label"], 6),
        corpus_weight=corpus_weights(ds["corpus_id"]),
        train_corpus_ids=ds["corpus_id"],
        train_lengths=ds["length"],
        length_window=1,
    )
    sampler = trainer._get_train_sampler()
    seen = [list(map(int, b)) for b in sampler]
    result = trainer.train()
    with open(os.path.join(out_dir, f"rank{args.process_index}.json"), "w") as f:
        json.dump(
            {
                "rank": args.process_index,
                "world": args.world_size,
                "layerdrop": model.config.layerdrop,
                "loss": result.training_loss,
                "batches": seen,
            },
            f,
        )


if __name__ == "__main__":
    main(sys.argv[1])
    if torch.distributed.is_initialized():  # gloo's threads abort the process at exit unless the group is closed
        torch.distributed.destroy_process_group()
