"""Training throughput, memory and MFU of the real XLS-R 300M architecture on one CUDA GPU.

`SERTrainer` trains `build_model('xls-r-300m-random')` (XLS-R 300M config, random weights, feature encoder frozen as
in the recipe, LayerDrop off so that every step does the same work) on synthetic utterances drawn from the
per-corpus duration models of `padding.py`, with the recipe's loss, corpus-balanced sampler, augmentation,
micro-batch 16, gradient accumulation 4, AdamW and `--workers` DataLoader workers, for every combination of:

* mixed precision: fp16 (GradScaler) vs bf16,
* attention: sdpa vs eager,
* length window: W=1 (exact per-batch balance) vs the default W (`hf_ser.sampling.DEFAULT_LENGTH_WINDOW`).

A `TrainerCallback` synchronises CUDA and stamps the end of every optimizer step; after `--warmup` steps, `--steps`
steps are timed end to end (data loading, forward, backward, optimizer). Per config: samples/s, audio-hours per
GPU-hour (seconds of real audio trained per wall second), step time, padded fraction,
`torch.cuda.max_memory_allocated`, and MFU. A config that runs out of memory (or fails) is reported and skipped.
Then `Trainer.predict` over an evaluation split unsorted (and in the split's own order) vs `length_sorted_order`
gives the GPU's eval-order speedup (`eval_order`; with fp16/bf16 numerics a random model's near-tied predictions
can flip between orders, so `prediction_agreement` is reported; `eval_order.py` is the exactness check).

FLOPs (multiply-accumulate = 2 FLOPs; layer norms, activations, softmax, optimizer left out), per utterance of
`n` samples, with `T_0 = n` and, for conv layer `l` (kernel `k_l`, stride `s_l`, `c_{l-1}` -> `c_l` channels,
`c_{-1} = 1`), `T_l = floor((T_{l-1} - k_l) / s_l) + 1` output frames, `T = T_6` transformer frames:

    conv      = sum_l 2 * c_{l-1} * k_l * c_l * T_l                       (feature encoder, 7 layers)
    proj      = 2 * c_6 * h * T                                           (feature projection)
    pos       = 2 * h * (h / g) * K * T                                   (positional conv, K = 128, g = 16 groups)
    layer     = 2 * (4 * h^2 + 2 * h * i) * T  +  2 * 2 * T^2 * h         (QKVO + FFN; QK^T and AV)
    head      = 2 * h * p * T                                             (projector to p = 256; classifier ~0)
    forward   = conv + proj + pos + L * layer + head                      (h = 1024, i = 4096, L = 24)
    training  = c * conv + 3 * (proj + pos + L * layer + head)            (c = 1: frozen encoder runs forward only;
                                                                           c = 3 with --no-freeze_feature_encoder)

`mfu` counts each utterance at its real length (useful work); `mfu_padded` counts every utterance at its batch's
padded length (work the GPU actually did). MFU = FLOPs per second / `--peak_tflops` (default 989: H100 SXM dense
bf16/fp16 tensor-core peak; use 756 for H100 PCIe, 989 for H200, 312 for A100).

    python benchmarks/gpu.py [--steps 20] [--warmup 5] [--precisions fp16 bf16] [--attention sdpa eager]
                             [--windows 1 16] [--peak_tflops 989]

Without CUDA it prints 'no CUDA device: skipped' and `{"benchmark": "gpu", "skipped": "no CUDA"}`; `--cpu_smoke`
runs the same code on the CPU with the `demo-tiny` model, to check the script itself. The last line printed is
one JSON object, `{"benchmark": "gpu", "configs": [...], ...}`. Expected to take 3-5 minutes on an H100 (an
estimate from the step counts; `total N s` is printed at the end).
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import traceback

import datasets  # noqa: E402  (after `common`, which makes `hf_ser` importable)
import numpy as np
import torch  # noqa: E402
from common import emit, synthetic_dataset, synthetic_split
from transformers import Trainer, TrainerCallback, TrainingArguments, Wav2Vec2Config, set_seed  # noqa: E402
from transformers.trainer_callback import PrinterCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from hf_ser.audio import TrainAugment  # noqa: E402
from hf_ser.labels import EMOTIONS, SAMPLING_RATE  # noqa: E402
from hf_ser.losses import class_weights, corpus_weights  # noqa: E402
from hf_ser.metrics import scores  # noqa: E402
from hf_ser.modeling import DEMO_BACKBONE, XLSR_300M_RANDOM, build_model  # noqa: E402
from hf_ser.sampling import DEFAULT_LENGTH_WINDOW, length_sorted_order  # noqa: E402
from hf_ser.trainer import SERCollator, SERTrainer, make_transform  # noqa: E402

H100_SXM_DENSE_TFLOPS = 989.0


# ---------------------------------------------------------------------------------------------------- FLOPs


def conv_frames(config: Wav2Vec2Config, samples: int) -> list[int]:
    """Output frames of each feature-encoder conv layer for an input of `samples` samples."""
    frames, out = samples, []
    for kernel, stride in zip(config.conv_kernel, config.conv_stride):
        frames = max(0, (frames - kernel) // stride + 1)
        out.append(frames)
    return out


def forward_flops(config: Wav2Vec2Config, samples: int) -> tuple[float, float]:
    """(feature-encoder FLOPs, FLOPs of everything after it) of one forward pass over `samples` samples."""
    frames = conv_frames(config, samples)
    channels = (1, *config.conv_dim)
    conv = sum(2.0 * channels[l] * k * channels[l + 1] * t for l, (k, t) in enumerate(zip(config.conv_kernel, frames)))
    t, h, i = float(frames[-1]), float(config.hidden_size), float(config.intermediate_size)
    proj = 2.0 * config.conv_dim[-1] * h * t
    pos = 2.0 * h * (h / config.num_conv_pos_embedding_groups) * config.num_conv_pos_embeddings * t
    layer = 2.0 * (4 * h * h + 2 * h * i) * t + 2.0 * 2.0 * t * t * h
    head = 2.0 * h * config.classifier_proj_size * t
    return conv, proj + pos + config.num_hidden_layers * layer + head


def training_flops(config: Wav2Vec2Config, samples: int, frozen_encoder: bool = True) -> float:
    """FLOPs of one training step (forward + backward) on one utterance of `samples` samples (see module doc)."""
    conv, rest = forward_flops(config, samples)
    return (1.0 if frozen_encoder else 3.0) * conv + 3.0 * rest


# ---------------------------------------------------------------------------------------------------- training


class StepTimer(TrainerCallback):
    """Wall-clock stamp (after a device synchronise) at the start of training and at the end of every step, with
    the number of micro-batches `micro_batches` held then (an epoch's last step may accumulate fewer)."""

    def __init__(self, micro_batches: list) -> None:
        self.micro_batches = micro_batches
        self.marks: list[float] = []
        self.counts: list[int] = []

    def _stamp(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.marks.append(time.perf_counter())
        self.counts.append(len(self.micro_batches))

    def on_train_begin(self, args, state, control, **kwargs):
        self._stamp()

    def on_step_end(self, args, state, control, **kwargs):
        self._stamp()


class RecordingSERTrainer(SERTrainer):
    """SERTrainer that records each micro-batch's real lengths (left on the device: no sync) and padded length."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.micro_batches: list[tuple[torch.Tensor, int]] = []

    def training_step(self, model, inputs, num_items_in_batch=None):
        mask = inputs["attention_mask"]
        self.micro_batches.append((mask.sum(-1), int(mask.shape[-1])))
        return super().training_step(model, inputs, num_items_in_batch)


def significant(value: float, digits: int = 4) -> float:
    """`value` rounded to `digits` significant digits."""
    return float(f"{value:.{digits}g}")


def reset_accelerate_state() -> None:
    """Let the next Trainer pick another mixed precision in this process (accelerate keeps one global state)."""
    try:
        from accelerate.state import AcceleratorState

        AcceleratorState._reset_state()
    except (ImportError, AttributeError):
        pass


def free_memory() -> None:
    """Collect garbage and return cached device memory between configs."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def training_arguments(output_dir: str, precision: str, args: argparse.Namespace, cuda: bool) -> TrainingArguments:
    """The recipe's optimisation settings, with checkpointing, logging and evaluation off."""
    return TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        max_steps=args.warmup + args.steps,
        learning_rate=1e-4,
        weight_decay=1e-5,
        max_grad_norm=1.0,
        fp16=precision == "fp16",
        bf16=precision == "bf16",
        dataloader_num_workers=args.workers,
        dataloader_pin_memory=cuda,
        use_cpu=not cuda,
        seed=args.seed,
        remove_unused_columns=False,
        save_strategy="no",
        logging_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )


def run_config(
    precision: str, attention: str, window: int, train: datasets.Dataset, args: argparse.Namespace, peak_flops: float
) -> dict:
    """Train `args.warmup + args.steps` optimizer steps in one configuration; throughput, memory and MFU."""
    cuda = torch.cuda.is_available()
    result: dict = {"precision": precision, "attention": attention, "window": window}
    trainer = model = None
    try:
        reset_accelerate_state()
        set_seed(args.seed)
        with torch.device("cuda" if cuda else "cpu"):  # random init on the GPU: seconds instead of a minute
            model, extractor = build_model(args.model, attn_implementation=attention, layerdrop=args.layerdrop)
        if args.freeze_feature_encoder:
            model.freeze_feature_encoder()
        corpus_ids = np.asarray(train["corpus_id"])
        labels = np.asarray(train["label"])
        with tempfile.TemporaryDirectory() as tmp:
            trainer = RecordingSERTrainer(
                model=model,
                args=training_arguments(tmp, precision, args, cuda),
                train_dataset=train.with_transform(make_transform(TrainAugment())),
                data_collator=SERCollator(extractor),
                class_weight=class_weights(labels, len(EMOTIONS)),
                corpus_weight=corpus_weights(corpus_ids, int(corpus_ids.max()) + 1),
                train_corpus_ids=corpus_ids,
                train_lengths=np.asarray(train["length"]),
                length_window=window,
            )
            timer = StepTimer(trainer.micro_batches)
            trainer.add_callback(timer)
            trainer.remove_callback(PrinterCallback)  # no end-of-training log dict
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            trainer.train()
        start, stop = args.warmup, args.warmup + args.steps
        seconds = timer.marks[stop] - timer.marks[start]
        step_times = np.diff(timer.marks[start : stop + 1])
        measured = trainer.micro_batches[timer.counts[start] : timer.counts[stop]]
        real = np.concatenate([lengths.cpu().numpy() for lengths, _ in measured]).astype(np.int64)
        padded = np.concatenate([np.full(len(lengths), width) for lengths, width in measured]).astype(np.int64)
        config = model.config
        frozen = args.freeze_feature_encoder
        useful = sum(training_flops(config, int(n), frozen) for n in real)
        done = sum(training_flops(config, int(n), frozen) for n in padded)
        audio_seconds = real.sum() / SAMPLING_RATE
        result.update(
            samples_per_s=round(len(real) / seconds, 2),
            audio_hours_per_gpu_hour=round(audio_seconds / seconds, 1),
            step_ms=round(1000 * float(np.median(step_times)), 1),
            padded_fraction=round(1 - real.sum() / padded.sum(), 4),
            peak_memory_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
            mfu=significant(useful / seconds / peak_flops),
            mfu_padded=significant(done / seconds / peak_flops),
            tflops_per_s=significant(useful / seconds / 1e12),
            samples=int(len(real)),
        )
    except torch.cuda.OutOfMemoryError:
        result["error"] = "out of memory"
        result["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None
    except Exception as error:  # one failing config must not stop the others
        result["error"] = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    finally:
        del trainer, model
        free_memory()
    return result


# ---------------------------------------------------------------------------------------------------- evaluation


def eval_order(precision: str, evaluation: datasets.Dataset, args: argparse.Namespace) -> dict:
    """Trainer.predict wall time over `evaluation` unsorted (random order) and in its own order vs length-sorted
    (interleaved, median of 3), as in `eval_order.py`."""
    from eval_order import interleaved_predict, padded_samples, predict, spread_predictions

    cuda = torch.cuda.is_available()
    result: dict = {"precision": precision, "size": len(evaluation)}
    trainer = model = None
    try:
        reset_accelerate_state()
        set_seed(args.seed)
        with torch.device("cuda" if cuda else "cpu"):
            model, extractor = build_model(args.model, attn_implementation="sdpa", layerdrop=args.layerdrop)
        spread_predictions(model, extractor, evaluation)
        lengths = np.asarray(evaluation["length"])
        orders = {
            "unsorted": np.random.default_rng([args.seed, 3]).permutation(len(evaluation)),
            "sorted": length_sorted_order(lengths),
            "split": np.arange(len(evaluation)),
        }
        with tempfile.TemporaryDirectory() as tmp:
            trainer = Trainer(
                model=model, args=training_arguments(tmp, precision, args, cuda), data_collator=SERCollator(extractor)
            )
            predict(trainer, evaluation, orders["sorted"][: 4 * args.batch_size], "wall")  # warm-up
            # whole orders per call: each predict call starts its own DataLoader workers, a fixed cost per call
            times, _, logits = interleaved_predict(trainer, evaluation, orders, 3, len(evaluation), "wall")
        labels = np.asarray(evaluation["label"])
        preds = {name: out.argmax(-1) for name, out in logits.items()}
        metrics = {name: scores(labels, p) for name, p in preds.items()}
        padded = {name: padded_samples(order, lengths, args.batch_size) for name, order in orders.items()}
        result.update(
            speedup=round(times["unsorted"] / times["sorted"], 3),
            padded_samples_ratio=round(padded["unsorted"] / padded["sorted"], 3),
            speedup_split_order=round(times["split"] / times["sorted"], 3),
            padded_samples_ratio_split_order=round(padded["split"] / padded["sorted"], 3),
            seconds={name: round(t, 3) for name, t in times.items()},
            same_metrics=all(m == metrics["split"] for m in metrics.values()),
            prediction_agreement=round(min(float(np.mean(p == preds["split"])) for p in preds.values()), 4),
            max_logit_diff=max(float(np.abs(out - logits["split"]).max()) for out in logits.values()),
        )
    except torch.cuda.OutOfMemoryError:
        result["error"] = "out of memory"
    except Exception as error:
        result["error"] = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    finally:
        del trainer, model
        free_memory()
    return result


# ---------------------------------------------------------------------------------------------------- main


def format_table(configs: list[dict]) -> str:
    """One line per configuration."""
    header = (
        f"{'precision':>9} {'attention':>9} {'W':>3} {'samples/s':>10} {'audio-h/GPU-h':>14} {'step ms':>8} "
        f"{'padding':>8} {'peak GiB':>9} {'MFU':>6} {'MFU(pad)':>9}"
    )
    lines = [header, "-" * len(header)]
    for c in configs:
        head = f"{c['precision']:>9} {c['attention']:>9} {c['window']:>3}"
        if "error" in c:
            lines.append(f"{head}  {c['error']}")
            continue
        memory = f"{c['peak_memory_gib']:.2f}" if c["peak_memory_gib"] is not None else "-"
        lines.append(
            f"{head} {c['samples_per_s']:>10.1f} {c['audio_hours_per_gpu_hour']:>14.0f} {c['step_ms']:>8.0f} "
            f"{c['padded_fraction']:>8.1%} {memory:>9} {c['mfu']:>6.1%} {c['mfu_padded']:>9.1%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precisions", nargs="+", default=["fp16", "bf16"], choices=["fp16", "bf16", "fp32"])
    parser.add_argument(
        "--attention", nargs="+", default=["sdpa", "eager"], choices=["sdpa", "eager", "flash_attention_2"]
    )
    parser.add_argument("--windows", nargs="+", type=int, default=[1, DEFAULT_LENGTH_WINDOW])
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per config")
    parser.add_argument("--warmup", type=int, default=5, help="untimed optimizer steps first")
    parser.add_argument("--batch_size", type=int, default=16, help="micro-batch")
    parser.add_argument("--grad_accum", type=int, default=4, help="micro-batches per optimizer step (recipe: 4)")
    parser.add_argument("--size", type=int, default=2048, help="synthetic training utterances")
    parser.add_argument("--eval_size", type=int, default=600, help="evaluation utterances (0: skip eval order)")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="DataLoader workers")
    parser.add_argument("--layerdrop", type=float, default=0.0, help="0 so that every step does the same work")
    parser.add_argument("--freeze_feature_encoder", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--peak_tflops",
        type=float,
        default=H100_SXM_DENSE_TFLOPS,
        help="dense fp16/bf16 peak of the GPU for MFU (H100 SXM: 989)",
    )
    parser.add_argument("--max_seconds", type=float, default=None, help="crop utterances (smoke runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu_smoke", action="store_true", help="run on the CPU with demo-tiny (checks the script)")
    args = parser.parse_args(argv)

    if not torch.cuda.is_available() and not args.cpu_smoke:
        print("no CUDA device: skipped (run on a machine with a CUDA GPU, or pass --cpu_smoke to check the script)")
        return emit({"benchmark": "gpu", "skipped": "no CUDA"})
    args.model = XLSR_300M_RANDOM if torch.cuda.is_available() else DEMO_BACKBONE
    if not torch.cuda.is_available():
        torch.set_num_threads(1)  # a smoke run on shared cores: more threads only wait for each other
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (smoke run)"
    peak_flops = args.peak_tflops * 1e12
    if torch.cuda.is_available() and not any(name in device for name in ("H100", "H200")):
        print(f"note: {device} is not an H100/H200; pass its dense fp16/bf16 peak with --peak_tflops for a true MFU")
    if torch.cuda.is_available() and "bf16" in args.precisions and not torch.cuda.is_bf16_supported():
        print(f"note: {device} does not support bf16; bf16 configs are dropped")
        args.precisions = [p for p in args.precisions if p != "bf16"]

    start = time.perf_counter()
    corpus_idx, lengths, labels = synthetic_split(args.size, args.seed)
    if args.max_seconds:
        lengths = np.minimum(lengths, int(args.max_seconds * SAMPLING_RATE))
    train = synthetic_dataset(lengths, corpus_idx, labels, args.seed)
    print(
        f"{device}: {args.model}, {len(train)} synthetic utterances ({lengths.sum() / SAMPLING_RATE / 3600:.2f} h), "
        f"micro-batch {args.batch_size} x {args.grad_accum} accumulation, {args.workers} workers, "
        f"{args.warmup} warm-up + {args.steps} timed steps per config, peak {args.peak_tflops:g} TFLOP/s"
    )
    configs = []
    for window in args.windows:
        for attention in args.attention:
            for precision in args.precisions:
                result = run_config(precision, attention, window, train, args, peak_flops)
                configs.append(result)
                print(format_table([result]).splitlines()[-1], flush=True)
    del train
    print(format_table(configs))

    evaluation = None
    if args.eval_size > 0:
        corpus_idx, lengths, labels = synthetic_split(args.eval_size, args.seed + 1)
        if args.max_seconds:
            lengths = np.minimum(lengths, int(args.max_seconds * SAMPLING_RATE))
        data = synthetic_dataset(lengths, corpus_idx, labels, args.seed + 1).remove_columns("corpus_id")
        evaluation = eval_order(args.precisions[0], data, args)
        if "error" in evaluation:
            print(f"eval order: {evaluation['error']}")
        else:
            print(
                f"eval order ({evaluation['precision']}, {evaluation['size']} utterances): unsorted/sorted speedup "
                f"{evaluation['speedup']:.2f} (padded-samples ratio {evaluation['padded_samples_ratio']:.2f}), "
                f"split order/sorted {evaluation['speedup_split_order']:.2f}; "
                f"same metrics {evaluation['same_metrics']}, "
                f"prediction agreement {evaluation['prediction_agreement']:.2%}"
            )
    ok = [c for c in configs if "error" not in c]
    best = max(ok, key=lambda c: c["samples_per_s"]) if ok else None
    if best:
        print(
            f"fastest: {best['precision']} {best['attention']} W={best['window']}: "
            f"{best['samples_per_s']:.1f} samples/s"
        )
    print(f"total {time.perf_counter() - start:.0f} s")
    return emit(
        {
            "benchmark": "gpu",
            "device": device,
            "model": args.model,
            "peak_tflops": args.peak_tflops,
            "batch_size": args.batch_size,
            "grad_accum": args.grad_accum,
            "steps": args.steps,
            "configs": configs,
            "best": {k: best[k] for k in ("precision", "attention", "window", "samples_per_s", "mfu")}
            if best
            else None,
            "eval_order": evaluation,
        }
    )


if __name__ == "__main__":
    main()
