"""Evaluation time in unsorted order versus length-sorted order (`hf_ser.train.sampling.length_sorted_order`).

A test split of `--size` synthetic utterances (tones plus noise) is drawn from the per-corpus duration models of
`padding.py` (log-normal per corpus, in proportion to the paper's corpus sizes). `Trainer.predict` with the
`demo-tiny` model, `SERCollator` and batch `--batch_size` runs over it in three orders: "unsorted" (a random
permutation), "sorted" (`length_sorted_order`) and "split" (the order `hf_ser.data.splits` leaves a split in: corpora
concatenated, random inside each corpus, already partly grouped by length). Each order is predicted
`--chunk_batches` batches at a time, the orders taking turns on each chunk (so that changing load on a shared
machine hits all orders alike), `--repeats` times. `speedup` = unsorted time / sorted time, each the sum over
chunks of the median over repeats; `speedup_split_order` = the same for the split's order.

`padded_samples_ratio` (and `..._split_order`) is the speedup if time were proportional to padded samples, as it
roughly is on a GPU; on a CPU the measured speedup exceeds it, because the cost per padded sample grows with the
batch's length (activations of long batches fall out of cache), so the long, heavily padded batches of an unsorted
order cost more than their share. `gpu.py` measures the speedup on a GPU with the real architecture. Times are the
process's CPU time with one torch thread by default (`--clock cpu --threads 1`, data loading in the main
process), so other jobs sharing the cores distort the ratio less; `--clock wall` times wall-clock.

The predictions of every order are put back into the split's order and must give identical UAR and macro-F1
(`same_metrics`); the largest logit difference shows that only float rounding differs.

    python benchmarks/eval_order.py [--size 300] [--batch_size 16] [--repeats 3] [--chunk_batches 4]
                                    [--threads 1] [--clock cpu] [--quick]

The last line printed is one JSON object, `{"benchmark": "eval_order", "speedup": S, "same_metrics": true, ...}`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence

import datasets  # noqa: E402  (after `common`, which makes `hf_ser` importable)
import numpy as np
import torch  # noqa: E402
from common import add_common_args, clock, emit, set_threads, synthetic_dataset, synthetic_split
from transformers import Trainer, TrainingArguments, set_seed  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from hf_ser.labels import SAMPLING_RATE  # noqa: E402
from hf_ser.metrics import scores  # noqa: E402
from hf_ser.train.modeling import build_model  # noqa: E402
from hf_ser.train.sampling import length_sorted_order  # noqa: E402
from hf_ser.train.trainer import SERCollator, make_transform  # noqa: E402

TARGET = 1.5


def padded_samples(order: Sequence[int], lengths: np.ndarray, batch_size: int) -> int:
    """Samples the model sees (each batch padded to its longest row) when evaluating rows in `order`."""
    rows = lengths[np.asarray(order)]
    batches = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    return int(sum(batch.max() * len(batch) for batch in batches))


def predict(
    trainer: Trainer, dataset: datasets.Dataset, rows: np.ndarray, kind: str = "cpu"
) -> tuple[float, np.ndarray]:
    """(seconds on the `kind` clock, logits in the order of `rows`) of `trainer.predict` over `dataset` rows."""
    ordered = dataset.select(rows).with_transform(make_transform(None))
    start = clock(kind)
    output = trainer.predict(ordered)
    seconds = clock(kind) - start
    return seconds, output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions


def interleaved_predict(
    trainer: Trainer,
    dataset: datasets.Dataset,
    orders: dict[str, np.ndarray],
    repeats: int,
    chunk: int,
    kind: str = "cpu",
) -> tuple[dict[str, float], dict[str, list[float]], dict[str, np.ndarray]]:
    """Time `trainer.predict` over `dataset` in each order, `chunk` consecutive rows of the order at a time (a
    multiple of the batch size keeps the batches whole), the orders taking turns on each chunk.

    Returns, per order: the summed per-chunk median times, the total time of each repeat, and the logits put back
    in the dataset's row order.
    """
    names = list(orders)
    starts = list(range(0, len(dataset), chunk))
    times = {name: np.zeros((repeats, len(starts))) for name in names}
    outputs: dict[str, list[np.ndarray]] = {name: [np.empty(0)] * len(starts) for name in names}
    for rep in range(repeats):
        for c, start in enumerate(starts):
            first = (rep * len(starts) + c) % len(names)  # rotate which order goes first
            for name in names[first:] + names[:first]:
                rows = orders[name][start : start + chunk]
                times[name][rep, c], outputs[name][c] = predict(trainer, dataset, rows, kind)
    logits = {}
    for name in names:
        stacked = np.concatenate(outputs[name])
        logits[name] = np.empty_like(stacked)
        logits[name][orders[name]] = stacked
    totals = {name: float(np.median(t, axis=0).sum()) for name, t in times.items()}
    return totals, {name: t.sum(axis=1).tolist() for name, t in times.items()}, logits


def spread_predictions(model: torch.nn.Module, extractor, dataset: datasets.Dataset, rows: int = 32) -> None:
    """Re-centre and re-scale the random classifier on the pooled features of a few utterances, so that
    predictions spread over the classes and the identical-metrics check is not trivially true."""
    features = make_transform(None)(dataset[:rows])
    batch = SERCollator(extractor)(
        [{"input_values": w, "labels": y} for w, y in zip(features["input_values"], features["labels"])]
    )
    captured: list[torch.Tensor] = []
    handle = model.classifier.register_forward_pre_hook(lambda module, inputs: captured.append(inputs[0]))
    device = next(model.parameters()).device
    model.eval()
    try:
        with torch.no_grad():
            model(input_values=batch["input_values"].to(device), attention_mask=batch["attention_mask"].to(device))
    finally:
        handle.remove()
    pooled = captured[0].float()
    # one scale for all dimensions, at most 1000x: logits stay far from the fp16 range on a GPU
    scale = torch.maximum(pooled.std(dim=0).mean(), 1e-3 * pooled.abs().mean()).clamp_min(1e-12)
    with torch.no_grad():
        model.classifier.weight.div_(scale)
        model.classifier.bias.copy_(-(model.classifier.weight @ pooled.mean(dim=0)))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=300, help="test utterances")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over each order")
    parser.add_argument("--chunk_batches", type=int, default=4, help="batches per interleaved predict call")
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.batch_size, args.repeats = 24, 8, 1
    set_threads(args.threads)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()

    corpus_idx, lengths, labels = synthetic_split(args.size, args.seed)
    if args.quick:
        lengths = lengths // 4  # same spread, a quarter of the audio
    dataset = synthetic_dataset(lengths, corpus_idx, labels, args.seed).remove_columns("corpus_id")
    orders = {
        "unsorted": np.random.default_rng([args.seed, 3]).permutation(len(dataset)),
        "sorted": length_sorted_order(lengths),
        "split": np.arange(len(dataset)),
    }
    padded = {name: padded_samples(order, lengths, args.batch_size) for name, order in orders.items()}
    print(
        f"{len(dataset)} utterances, {lengths.sum() / SAMPLING_RATE:.0f} s of audio, batch {args.batch_size}, "
        f"torch threads {torch.get_num_threads()}, {args.clock} clock; padded audio per order: "
        + ", ".join(
            f"{name} {p / SAMPLING_RATE:.0f} s ({1 - lengths.sum() / p:.0%} padding)" for name, p in padded.items()
        )
    )

    set_seed(args.seed)
    model, extractor = build_model("demo-tiny")
    spread_predictions(model, extractor, dataset)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            model=model,
            args=TrainingArguments(
                output_dir=tmp,
                per_device_eval_batch_size=args.batch_size,
                use_cpu=True,
                report_to="none",
                remove_unused_columns=False,
                dataloader_num_workers=0,
                disable_tqdm=True,
            ),
            data_collator=SERCollator(extractor),
        )
        predict(trainer, dataset, orders["sorted"][: 2 * args.batch_size])  # warm-up
        times, seconds, logits = interleaved_predict(
            trainer, dataset, orders, args.repeats, args.chunk_batches * args.batch_size, args.clock
        )

    metrics = {name: scores(labels, out.argmax(-1)) for name, out in logits.items()}
    same_metrics = all(
        metrics[name]["uar"] == metrics["split"]["uar"] and metrics[name]["f1"] == metrics["split"]["f1"]
        for name in orders
    )
    same_predictions = all(np.array_equal(out.argmax(-1), logits["split"].argmax(-1)) for out in logits.values())
    max_logit_diff = max(float(np.abs(out - logits["split"]).max()) for out in logits.values())
    speedup = times["unsorted"] / times["sorted"]
    speedup_split = times["split"] / times["sorted"]
    ideal, ideal_split = (padded[name] / padded["sorted"] for name in ("unsorted", "split"))

    for name in orders:
        m = metrics[name]
        print(
            f"{name:>9}: {times[name]:7.2f} s (summed chunk medians; repeats: "
            f"{', '.join(f'{s:.2f}' for s in seconds[name])}); UAR {m['uar']:.6f}, F1 {m['f1']:.6f}"
        )
    print(
        f"speedup unsorted/sorted: {speedup:.2f} (padded-samples ratio {ideal:.2f}); target >= {TARGET}; "
        f"split order/sorted: {speedup_split:.2f} (padded-samples ratio {ideal_split:.2f})"
    )
    print(
        f"metrics identical after restoring the split's order: {same_metrics} "
        f"(predictions identical: {same_predictions}; largest logit difference {max_logit_diff:.2e})"
    )
    return emit(
        {
            "benchmark": "eval_order",
            "speedup": round(speedup, 3),
            "same_metrics": bool(same_metrics),
            "target": TARGET,
            "speedup_split_order": round(speedup_split, 3),
            "padded_samples_ratio": round(ideal, 3),
            "padded_samples_ratio_split_order": round(ideal_split, 3),
            "padded_fraction": {name: round(1 - float(lengths.sum()) / p, 4) for name, p in padded.items()},
            "seconds": {name: round(t, 3) for name, t in times.items()},
            "chunk_batches": args.chunk_batches,
            "same_predictions": bool(same_predictions),
            "max_logit_diff": max_logit_diff,
            "uar": round(metrics["split"]["uar"], 6),
            "f1": round(metrics["split"]["f1"], 6),
            "size": len(dataset),
            "batch_size": args.batch_size,
            "repeats": args.repeats,
            "threads": torch.get_num_threads(),
            "clock": args.clock,
        }
    )


if __name__ == "__main__":
    main()
