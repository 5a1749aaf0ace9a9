"""Step-time overhead of `SERTrainer` (the paper's loss and sampler) over a stock `transformers.Trainer`.

Both trainers get a copy of the same `demo-tiny` model (feature encoder frozen, as the recipe does) and the same
pre-collated batches: the first `--batches` micro-batches that `SERTrainer`'s corpus-balanced, length-windowed
sampler yields over synthetic utterances with the paper's duration spread. `SERTrainer` runs with class weights,
corpus weights and the supervised contrastive term (pooled projection captured by the forward pre-hook); the
stock `Trainer` uses the model's own plain cross-entropy.

What is timed is `trainer.training_step(model, inputs)`: input preparation, forward, `compute_loss` and backward,
which is everything the two trainers do differently per step. The optimizer step (identical for both, and larger
than the loss on the real model) and data loading (measured by `input_pipeline.py`) are left out, so the ratio is
a conservative, undiluted measure of the loss and hook overhead. The two trainers run back to back on each batch
(alternating which goes first, same seed, so the same SpecAugment masks), `--repeats` passes over the batches
after a warm-up pass. `ratio` = median over all (pass, batch) pairs of SERTrainer step time / Trainer step time on
the same batch, back to back: on a shared machine single steps vary by +-10%, and pairing cancels most of it.
`ratio_of_medians` = median SERTrainer pass time / median Trainer pass time (a pass = one step on each batch), the
unpaired figure, noisier.
Steps are timed on the process's CPU time with one torch thread by default (`--clock cpu --threads 1`), so other
jobs sharing the cores do not distort the ratio; `--clock wall` times wall-clock instead.

Two side figures explain the ratio: `loss_extra_ms` (forward+backward of the paper's loss minus plain
cross-entropy on the same logits, timed alone) and `sampler_ms_per_batch` (planning one epoch of corpus-balanced
batches over the paper's 22,891 utterances, per micro-batch), each also as a fraction of the stock step.

    python benchmarks/trainer_overhead.py [--repeats 15] [--batches 4] [--threads 1] [--clock cpu] [--quick]

The last line printed is one JSON object, `{"benchmark": "trainer_overhead", "ratio": R, ...}`.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from collections.abc import Sequence

import numpy as np
import torch  # noqa: E402  (after `common`, which makes `hf_ser` importable)
import torch.nn.functional as F  # noqa: E402
from common import (
    add_common_args,
    clock,
    cpu_training_args,
    emit,
    median,
    set_threads,
    spread,
    synthetic_dataset,
    synthetic_split,
)
from transformers import Trainer, set_seed  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from hf_ser.data.audio import TrainAugment  # noqa: E402
from hf_ser.labels import EMOTIONS, SAMPLING_RATE  # noqa: E402
from hf_ser.train.losses import (  # noqa: E402
    class_weights,
    corpus_weights,
    mean_drawn_weight,
    supervised_contrastive_loss,
    weighted_cross_entropy,
)
from hf_ser.train.modeling import build_model  # noqa: E402
from hf_ser.train.sampling import (  # noqa: E402
    DEFAULT_LENGTH_BUCKETS,
    DEFAULT_LENGTH_WINDOW,
    CorpusBalancedBatchSampler,
    length_buckets,
)
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform  # noqa: E402

TARGET = 1.05


def build_trainers(
    size: int, batch_size: int, max_seconds: float | None, seed: int, output_dir: str
) -> tuple[SERTrainer, Trainer, list[dict]]:
    """SERTrainer and stock Trainer on copies of one demo-tiny model, and SERTrainer's first batches."""
    corpus_idx, lengths, labels = synthetic_split(size, seed)
    if max_seconds:
        lengths = np.minimum(lengths, int(max_seconds * SAMPLING_RATE))
    dataset = synthetic_dataset(lengths, corpus_idx, labels, seed)
    corpus_ids = np.asarray(dataset["corpus_id"])
    set_seed(seed)
    model, extractor = build_model("demo-tiny")
    model.freeze_feature_encoder()
    args = cpu_training_args(output_dir, batch_size, seed)
    # the recipe's padding (length buckets) and loss (fixed CE normaliser, groups of 16), both trainers the same batches
    collator = SERCollator(extractor, bucket_lengths=length_buckets(DEFAULT_LENGTH_BUCKETS, int(lengths.max())))
    class_weight = class_weights(labels, len(EMOTIONS))
    corpus_weight = corpus_weights(corpus_ids, int(corpus_ids.max()) + 1)
    # each trainer gets its own copy, so neither runs on a model laid out differently in memory
    stock = Trainer(model=copy.deepcopy(model), args=args, data_collator=collator)
    ser = SERTrainer(
        model=copy.deepcopy(model),
        args=args,
        data_collator=collator,
        train_dataset=dataset.with_transform(make_transform(TrainAugment())),
        class_weight=class_weight,
        corpus_weight=corpus_weight,
        mean_sample_weight=mean_drawn_weight(corpus_ids, labels, corpus_weight, class_weight),
        contrastive_weight=0.1,
        temperature=0.07,
        train_corpus_ids=corpus_ids,
        train_lengths=lengths,
        length_window=DEFAULT_LENGTH_WINDOW,
    )
    for trainer in (ser, stock):  # set by `Trainer.train()` before its first step
        trainer.current_gradient_accumulation_steps = 1
    return ser, stock, dataset


def time_step(trainer: Trainer, batch: dict, seed: int, drop: tuple[str, ...] = (), kind: str = "cpu") -> float:
    """Seconds (on the `kind` clock) of one `trainer.training_step`; gradients are cleared, untimed, before it."""
    inputs = {k: v for k, v in batch.items() if k not in drop}
    trainer.model.zero_grad(set_to_none=True)
    set_seed(seed)  # the same SpecAugment masks for both trainers
    start = clock(kind)
    trainer.training_step(trainer.model, inputs)
    return clock(kind) - start


def interleaved_times(
    ser: SERTrainer, stock: Trainer, batches: Sequence[dict], repeats: int, seed: int, kind: str = "cpu"
) -> dict[str, np.ndarray]:
    """`(repeats, len(batches))` step times of each trainer; the two run back to back on each batch, alternating
    which goes first, after one untimed warm-up pass."""
    steps = {
        "SERTrainer": lambda batch, s: time_step(ser, batch, s, kind=kind),
        "Trainer": lambda batch, s: time_step(stock, batch, s, drop=("corpus_id",), kind=kind),
    }
    times = {name: np.zeros((repeats, len(batches))) for name in steps}
    for batch in batches:  # warm-up
        for step in steps.values():
            step(batch, seed)
    for rep in range(repeats):
        for b, batch in enumerate(batches):
            order = list(steps) if (rep + b) % 2 == 0 else list(steps)[::-1]
            for name in order:
                times[name][rep, b] = steps[name](batch, seed + 1 + rep * len(batches) + b)
    return times


def loss_extra_ms(batch_size: int, proj_size: int, iters: int, seed: int, kind: str = "cpu") -> float:
    """Forward+backward ms of the paper's loss minus plain cross-entropy, on random logits/pooled features."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch_size, len(EMOTIONS), generator=gen, requires_grad=True)
    pooled = torch.randn(batch_size, proj_size, generator=gen, requires_grad=True)
    labels = torch.randint(0, len(EMOTIONS), (batch_size,), generator=gen)
    class_weight = torch.rand(len(EMOTIONS), generator=gen) + 0.5
    corpus_weight = torch.rand(8, generator=gen) + 0.5
    corpus_id = torch.randint(0, 8, (batch_size,), generator=gen)

    def paper() -> None:
        loss = weighted_cross_entropy(
            logits, labels, class_weight, corpus_weight[corpus_id], group_size=16, mean_weight=1.0
        )
        (loss + 0.1 * supervised_contrastive_loss(pooled, labels, 0.07, group_size=16)).backward()

    def plain() -> None:
        F.cross_entropy(logits, labels).backward()

    def per_call(fn) -> float:
        for _ in range(10):
            fn()
        start = clock(kind)
        for _ in range(iters):
            fn()
        return (clock(kind) - start) / iters

    return 1000 * (median([per_call(paper) for _ in range(3)]) - median([per_call(plain) for _ in range(3)]))


def sampler_ms_per_batch(batch_size: int, seed: int, kind: str = "cpu") -> float:
    """ms per micro-batch to plan and iterate one epoch of corpus-balanced batches at the paper's corpus sizes."""
    from padding import synthetic_columns

    corpus_ids, lengths, _ = synthetic_columns(seed)
    sampler = CorpusBalancedBatchSampler(
        corpus_ids, lengths, batch_size, length_window=DEFAULT_LENGTH_WINDOW, seed=seed
    )
    start = clock(kind)
    count = sum(1 for _ in sampler)
    return 1000 * (clock(kind) - start) / count


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="synthetic training utterances")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=4, help="micro-batches per pass")
    parser.add_argument("--repeats", type=int, default=15, help="timed passes over the batches (after a warm-up)")
    parser.add_argument("--max_seconds", type=float, default=None, help="crop utterances (quick runs)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.batch_size, args.batches, args.repeats, args.max_seconds = 32, 8, 1, 2, 0.5
    set_threads(args.threads)
    hf_logging.set_verbosity_error()

    with tempfile.TemporaryDirectory() as tmp:
        ser, stock, _ = build_trainers(args.size, args.batch_size, args.max_seconds, args.seed, tmp)
        loader = iter(ser.get_train_dataloader())
        batches = [next(loader) for _ in range(args.batches)]
        seconds = sum(float(b["attention_mask"].sum()) for b in batches) / SAMPLING_RATE
        padded = sum(b["attention_mask"].numel() for b in batches) / SAMPLING_RATE
        print(
            f"{args.batches} micro-batches of {args.batch_size} from SERTrainer's sampler (W={DEFAULT_LENGTH_WINDOW}): "
            f"{seconds:.1f} s of audio, {padded:.1f} s padded; torch threads {torch.get_num_threads()}, "
            f"{args.clock} clock"
        )
        times = interleaved_times(ser, stock, batches, args.repeats, args.seed, args.clock)
    ratio = median((times["SERTrainer"] / times["Trainer"]).ravel().tolist())
    # the unpaired figure: median pass time (one step on each batch) of each trainer
    ser_pass, stock_pass = (median(times[name].sum(axis=1).tolist()) for name in ("SERTrainer", "Trainer"))
    ratio_of_medians = ser_pass / stock_pass
    stock_step_ms = 1000 * stock_pass / args.batches
    extra_ms = loss_extra_ms(args.batch_size, 256, 20 if args.quick else 200, args.seed, args.clock)
    plan_ms = sampler_ms_per_batch(args.batch_size, args.seed, args.clock)

    for name, values in times.items():
        steps = values.mean(axis=1)
        q25, q75 = spread(steps)
        print(
            f"{name:>11}: median step {1000 * median(steps.tolist()):8.1f} ms "
            f"(IQR {1000 * q25:.1f}-{1000 * q75:.1f} ms over {len(values)} passes)"
        )
    q25, q75 = spread((times["SERTrainer"] / times["Trainer"]).ravel())
    print(
        f"ratio SERTrainer / Trainer: {ratio:.3f} (median of {times['Trainer'].size} paired steps, IQR {q25:.3f}-"
        f"{q75:.3f}; ratio of median pass times {ratio_of_medians:.3f}); target <= {TARGET}"
    )
    print(
        f"paper loss minus plain CE, forward+backward alone: {extra_ms:.3f} ms = {extra_ms / stock_step_ms:.2%} "
        "of a step"
    )
    print(f"corpus-balanced sampler: {plan_ms:.4f} ms per micro-batch = {plan_ms / stock_step_ms:.3%} of a step")
    return emit(
        {
            "benchmark": "trainer_overhead",
            "ratio": round(ratio, 4),
            "ratio_of_medians": round(ratio_of_medians, 4),
            "target": TARGET,
            "ser_step_ms": round(1000 * ser_pass / args.batches, 2),
            "stock_step_ms": round(stock_step_ms, 2),
            "loss_extra_ms": round(extra_ms, 4),
            "loss_extra_fraction": round(extra_ms / stock_step_ms, 5),
            "sampler_ms_per_batch": round(plan_ms, 5),
            "sampler_fraction": round(plan_ms / stock_step_ms, 6),
            "batch_size": args.batch_size,
            "batches": args.batches,
            "repeats": args.repeats,
            "audio_seconds_per_pass": round(seconds, 2),
            "threads": torch.get_num_threads(),
            "clock": args.clock,
        }
    )


if __name__ == "__main__":
    main()
