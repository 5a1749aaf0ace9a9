"""Host work per training sample: aten ops (and host syncs, copies) that `SERTrainer.training_step` dispatches.

On a GPU every aten op costs host time to dispatch whatever the batch holds, so the ops per training sample are the
host's share of the step; this counts them with `torch.profiler` on the CPU (no GPU needed), side by side in one run:

- `paper_16x4_per_batch_norm`: the paper's layout as it ran before: micro-batch 16, 4 accumulation steps, each
  micro-batch padded to its longest row, CE normalised by each batch's summed weights;
- `16x4`: the same layout with the training step of now (fixed CE normaliser, contrastive groups, length buckets);
- `64x1_groups16`: micro-batch 64 without accumulation, SupCon and corpus balance over groups of 16 (the same
  objective), length buckets: the GPU layout.

Each case builds `SERTrainer` on `demo-tiny` (the op count per forward depends on the layer count, not the width)
with class + corpus weights and SupCon 0.1, takes the first optimizer steps its corpus-balanced sampler yields over
synthetic utterances, runs one untimed step, then profiles `--steps` optimizer steps of `training_step` calls (input
placement, forward, loss, backward). Reported per training sample: all `aten::` ops, `aten::_local_scalar_dense`
(a value read on the host: a device sync on a GPU), copies (`aten::copy_`), and the CPU time of the calls.

    python benchmarks/host_ops.py [--steps 2] [--max_seconds 1.0] [--quick]

The last line printed is one JSON object, `{"benchmark": "host_ops", "ops_per_sample_before": ..., ...}`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter

import numpy as np
import torch  # noqa: E402  (after `common`, which makes `hf_ser` importable)
from common import add_common_args, clock, cpu_training_args, emit, set_threads, synthetic_dataset, synthetic_split
from transformers import set_seed  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from hf_ser.labels import EMOTIONS, SAMPLING_RATE  # noqa: E402
from hf_ser.train.losses import class_weights, corpus_weights, mean_drawn_weight  # noqa: E402
from hf_ser.train.modeling import build_model  # noqa: E402
from hf_ser.train.sampling import DEFAULT_LENGTH_BUCKETS, DEFAULT_LENGTH_WINDOW, length_buckets  # noqa: E402
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform  # noqa: E402

# name -> (micro-batch, accumulation steps, fixed CE normaliser, length buckets)
CASES: dict[str, tuple[int, int, bool, bool]] = {
    "paper_16x4_per_batch_norm": (16, 4, False, False),
    "16x4": (16, 4, True, True),
    "64x1_groups16": (64, 1, True, True),
}
BEFORE, AFTER = "paper_16x4_per_batch_norm", "64x1_groups16"


def build_trainer(
    case: str, size: int, max_seconds: float, seed: int, output_dir: str
) -> tuple[SERTrainer, list[list[dict]]]:
    """The case's SERTrainer and its first optimizer steps (lists of collated micro-batches), step count unlimited."""
    batch, accumulation, fixed, bucketed = CASES[case]
    corpus_idx, lengths, labels = synthetic_split(size, seed)
    lengths = np.minimum(lengths, int(max_seconds * SAMPLING_RATE))
    dataset = synthetic_dataset(lengths, corpus_idx, labels, seed)
    corpus_ids = np.asarray(dataset["corpus_id"])
    cw = class_weights(labels, len(EMOTIONS))
    kw = corpus_weights(corpus_ids, int(corpus_ids.max()) + 1)
    set_seed(seed)
    model, extractor = build_model("demo-tiny")
    model.freeze_feature_encoder()
    args = cpu_training_args(output_dir, batch, seed, accumulation)
    buckets = length_buckets(DEFAULT_LENGTH_BUCKETS, int(lengths.max())) if bucketed else None
    trainer = SERTrainer(
        model=model,
        args=args,
        data_collator=SERCollator(extractor, bucket_lengths=buckets),
        train_dataset=dataset.with_transform(make_transform(None)),
        class_weight=cw,
        corpus_weight=kw,
        mean_sample_weight=mean_drawn_weight(corpus_ids, labels, kw, cw) if fixed else None,
        contrastive_weight=0.1,
        temperature=0.07,
        contrastive_group_size=16,
        train_corpus_ids=corpus_ids,
        train_lengths=lengths,
        length_window=DEFAULT_LENGTH_WINDOW,
    )
    trainer.current_gradient_accumulation_steps = accumulation  # set by `Trainer.train()` before its first step
    loader = list(trainer.get_train_dataloader())
    steps = [loader[i : i + accumulation] for i in range(0, len(loader) - accumulation + 1, accumulation)]
    return trainer, steps


def profile_steps(trainer: SERTrainer, steps: list[list[dict]], kind: str) -> dict:
    """Profile `training_step` over the micro-batches of `steps` (after one unprofiled step); counts per sample."""
    for batch in steps[0]:
        trainer.training_step(trainer.model, batch)
    trainer.model.zero_grad(set_to_none=True)
    measured = steps[1:]
    samples = sum(len(b["labels"]) for step in measured for b in step)
    counts: Counter = Counter()
    seconds = 0.0
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for step in measured:
            for batch in step:
                start = clock(kind)
                trainer.training_step(trainer.model, batch)
                seconds += clock(kind) - start
            trainer.model.zero_grad(set_to_none=True)
    for event in prof.key_averages():
        counts[event.key] += event.count
    aten = sum(n for key, n in counts.items() if key.startswith("aten::"))
    return {
        "samples": samples,
        "micro_batches": sum(len(step) for step in measured),
        "ops_per_sample": round(aten / samples, 2),
        "syncs_per_sample": round(counts["aten::_local_scalar_dense"] / samples, 4),
        "copies_per_sample": round(counts["aten::copy_"] / samples, 3),
        "nonzero_per_sample": round(counts["aten::nonzero"] / samples, 4),
        "cpu_ms_per_sample": round(1000 * seconds / samples, 3),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="synthetic training utterances")
    parser.add_argument("--steps", type=int, default=2, help="profiled optimizer steps per case (after one warm-up)")
    parser.add_argument(
        "--max_seconds", type=float, default=1.0, help="crop utterances (op counts do not depend on it)"
    )
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.steps, args.max_seconds = 192, 1, 0.5
    set_threads(args.threads)
    hf_logging.set_verbosity_error()

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            trainer, steps = build_trainer(case, args.size, args.max_seconds, args.seed, tmp)
            if len(steps) < args.steps + 1:
                raise SystemExit(f"benchmarks/host_ops.py: --size {args.size} gives {len(steps)} steps; raise it.")
            results[case] = profile_steps(trainer, steps[: args.steps + 1], args.clock)

    header = f"{'case':>26} {'aten ops':>9} {'syncs':>7} {'copies':>7} {'nonzero':>8} {'cpu ms':>8}  (per sample)"
    print(header)
    print("-" * len(header))
    for case, r in results.items():
        print(
            f"{case:>26} {r['ops_per_sample']:>9.1f} {r['syncs_per_sample']:>7.3f} {r['copies_per_sample']:>7.2f} "
            f"{r['nonzero_per_sample']:>8.3f} {r['cpu_ms_per_sample']:>8.2f}"
        )
    before, after = results[BEFORE], results[AFTER]
    ratio = after["ops_per_sample"] / before["ops_per_sample"]
    print(
        f"aten ops per training sample: {before['ops_per_sample']:.1f} -> {after['ops_per_sample']:.1f} ({ratio:.2f}x)"
    )
    return emit(
        {
            "benchmark": "host_ops",
            "ops_per_sample_before": before["ops_per_sample"],
            "ops_per_sample_after": after["ops_per_sample"],
            "ops_ratio": round(ratio, 4),
            "syncs_per_sample_before": before["syncs_per_sample"],
            "syncs_per_sample_after": after["syncs_per_sample"],
            "cases": results,
            "threads": torch.get_num_threads(),
            "clock": args.clock,
        }
    )


if __name__ == "__main__":
    main()
