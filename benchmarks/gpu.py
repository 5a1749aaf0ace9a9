"""Training throughput, memory and MFU of the real XLS-R 300M architecture on one CUDA GPU, case by case.

`SERTrainer` trains `build_model('xls-r-300m-random')` (XLS-R 300M config, random weights, feature encoder frozen as
in the recipe, LayerDrop off so that every step does the same work) on synthetic utterances drawn from the
per-corpus duration models of `padding.py`, with the recipe's loss, corpus-balanced sampler, augmentation and
AdamW. Each case changes only how the hardware is used (the objective stays the paper's: SupCon over groups of
`contrastive_group` inside the micro-batch, effective batch 64). "buckets" pads every batch to one of the recipe's
`--length_buckets` geometric lengths (`hf_ser.train.sampling.length_buckets`, `DEFAULT_LENGTH_BUCKETS`); "every length"
pads each batch to its longest utterance. The sampler's length window is the recipe's default in every case:

    case                  micro-batch  group  shapes        SDPA kernels      precision   compile
    paper_16x4            16 x 4       16     every length  torch default     auto        off
    buckets_16x4          16 x 4       16     buckets       torch default     auto        off
    sdpa_flash_efficient  16 x 4       16     every length  flash_efficient   auto        off
    sdpa_cudnn            16 x 4       16     every length  cudnn             auto        off
    gpu_default           M x 64/M     16     buckets       flash_efficient   auto        off   (the recipe's CUDA
    gpu_default_fp16      as gpu_default, fp16 + GradScaler                                      defaults; M from
    gpu_default_bf16      as gpu_default, bf16                                                   the GPU's memory)
    gpu_default_compile   as gpu_default, torch.compile
    runs_per_gpu_K        K processes of gpu_default side by side (aggregate samples/s vs one)

'auto' precision is `hf_ser.experiments.recipe.devices.auto_mixed_precision`
(bf16 where the GPU has it natively, else fp16). A
`TrainerCallback` synchronises CUDA and stamps the end of every optimizer step; after `--warmup` steps, `--steps`
steps are timed end to end (data loading, forward, backward, optimizer). Per case: samples/s, audio-hours per
GPU-hour (seconds of real audio trained per wall second), step time, padded fraction, distinct padded shapes,
`torch.cuda.max_memory_allocated`, and MFU. A case that runs out of memory (or fails) is reported and skipped.
The K-runs case starts K worker processes (this script with `--worker`, the caller's environment and PYTHONPATH
kept) that meet at a file barrier after their warm-up, so their timed windows overlap; the aggregate is the
samples of all K over the span from the first start to the last end.
Then `Trainer.predict` over an evaluation split unsorted (and in the split's own order) vs `length_sorted_order`
gives the GPU's eval-order speedup (`eval_order`; with fp16/bf16 numerics a random model's near-tied predictions
can flip between orders, so `prediction_agreement` is reported; `eval_order.py` is the exactness check).

`projected_paper_grid_hours` is the paper grid at one seed (23 runs: planned by `hf_ser.experiments.families.plan_runs`,
70% of each corpus's 6-class count x 10 epochs x the corpus's mean duration from `padding.py`, 3.0 s where it is
unknown, as in docs/cluster.md: ~1,350 audio-hours) divided by the gpu_default case's audio-hours per GPU-hour
(and by the K-runs aggregate in `projected_paper_grid_hours_runs_per_gpu`); training only, no fixed costs.

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
padded length (work the GPU actually did). MFU = FLOPs per second / `--peak_tflops` (default 989: H100 SXM / H200
dense bf16/fp16 tensor-core peak; use 756 for H100 PCIe, 312 for A100).

    python benchmarks/gpu.py [--cases paper_16x4 gpu_default ...] [--runs_per_gpu 2] [--steps 8] [--warmup 3]
                             [--workers 8] [--peak_tflops 989]

Without CUDA it prints 'no CUDA device: skipped' and `{"benchmark": "gpu", "skipped": "no CUDA"}`; `--cpu_smoke`
runs every case on the CPU with the `demo-tiny` model, 1 s utterances and a few steps (fp16 runs as fp32 there:
it needs CUDA; compile uses the aot_eager backend), to check the script. The last line printed is one JSON
object, `{"benchmark": "gpu", "configs": [...], "projected_paper_grid_hours": H, "eval_order": {...}, ...}`.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import datasets  # noqa: E402  (after `common`, which makes `hf_ser` importable)
import numpy as np
import torch  # noqa: E402
from common import emit, synthetic_dataset, synthetic_split
from padding import SYNTHETIC_CORPORA
from transformers import Trainer, TrainerCallback, TrainingArguments, Wav2Vec2Config, set_seed  # noqa: E402
from transformers.trainer_callback import PrinterCallback  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from hf_ser.data.audio import TrainAugment  # noqa: E402
from hf_ser.experiments.families import plan_runs  # noqa: E402
from hf_ser.experiments.recipe.devices import PAPER_EFFECTIVE_BATCH, auto_mixed_precision, gpu_micro_batch  # noqa: E402
from hf_ser.labels import CORPORA, EMOTIONS, SAMPLING_RATE, corpora_for_languages, groups  # noqa: E402
from hf_ser.metrics import scores  # noqa: E402
from hf_ser.train.losses import class_weights, corpus_weights, mean_drawn_weight  # noqa: E402
from hf_ser.train.modeling import DEMO_BACKBONE, XLSR_300M_RANDOM, build_model, sdpa_backends  # noqa: E402
from hf_ser.train.sampling import (  # noqa: E402
    DEFAULT_LENGTH_BUCKETS,
    DEFAULT_LENGTH_WINDOW,
    length_buckets,
    length_sorted_order,
)
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform  # noqa: E402

H100_SXM_DENSE_TFLOPS = 989.0
PAPER_EPOCHS = 10
PAPER_TRAIN_FRACTION = 0.7
UNKNOWN_MEAN_SECONDS = 3.0  # docs/cluster.md: emoUERJ, EmoProsody, RED, the Moroccan corpus, MCAESD
UNKNOWN_SIX_CLASS_COUNT = {"mder": 2000}  # docs/cluster.md: the Moroccan corpus, as in the paper
CONTRASTIVE_GROUP = 16  # the paper's micro-batch: SupCon groups in every case


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


# ---------------------------------------------------------------------------------------------------- cases


@dataclasses.dataclass
class Case:
    """One way of using the hardware for the same objective (see the module doc's table)."""

    name: str
    micro_batch: int = 16
    grad_accum: int = 4
    buckets: bool = False  # pad every batch to one of the recipe's --length_buckets lengths: few distinct shapes
    sdpa_backend: str = "default"
    precision: str = "auto"
    compile: bool = False
    runs: int = 1  # processes side by side on the one GPU

    @property
    def contrastive_group(self) -> int:
        """SupCon group size: the paper's 16, or the whole micro-batch when it is smaller (CPU smoke runs)."""
        return min(CONTRASTIVE_GROUP, self.micro_batch)


def make_cases(micro_batch: int, runs_per_gpu: int) -> list[Case]:
    """The benchmark's cases; `micro_batch` is the GPU default's (from memory, `gpu_micro_batch`)."""
    accum = max(1, PAPER_EFFECTIVE_BATCH // micro_batch)
    default = Case("gpu_default", micro_batch, accum, True, "flash_efficient")
    cases = [
        Case("paper_16x4"),
        Case("buckets_16x4", buckets=True),
        Case("sdpa_flash_efficient", sdpa_backend="flash_efficient"),
        Case("sdpa_cudnn", sdpa_backend="cudnn"),
        default,
        dataclasses.replace(default, name="gpu_default_fp16", precision="fp16"),
        dataclasses.replace(default, name="gpu_default_bf16", precision="bf16"),
        dataclasses.replace(default, name="gpu_default_compile", compile=True),
    ]
    if runs_per_gpu > 1:
        cases.append(dataclasses.replace(default, name=f"runs_per_gpu_{runs_per_gpu}", runs=runs_per_gpu))
    return cases


def resolve_precision(requested: str, cuda: bool) -> str:
    """'auto' as the recipe resolves it; on the CPU fp16 runs as fp32 (autocast fp16 + GradScaler needs CUDA)."""
    precision = auto_mixed_precision(cuda) if requested == "auto" else requested
    if not cuda and precision == "fp16":
        return "fp32"
    return "fp32" if precision == "no" else precision


# ---------------------------------------------------------------------------------------------------- training


class StepTimer(TrainerCallback):
    """Wall-clock stamp (after a device synchronise) at the start of training and at the end of every step, with
    the number of micro-batches `micro_batches` held then (an epoch's last step may accumulate fewer). With a
    `barrier` folder, after step `wait_at` it writes its ready file and waits until `parties` files are there."""

    def __init__(self, micro_batches: list, barrier: Path | None = None, parties: int = 1, wait_at: int = 0) -> None:
        self.micro_batches = micro_batches
        self.marks: list[float] = []
        self.counts: list[int] = []
        self.barrier, self.parties, self.wait_at = barrier, parties, wait_at

    def _stamp(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.marks.append(time.perf_counter())
        self.counts.append(len(self.micro_batches))

    def _wait(self) -> None:
        """Meet the other runs of a K-runs case, so that all of them are timed over the same span (10 min cap)."""
        (self.barrier / f"ready-{os.getpid()}").touch()
        deadline = time.time() + 600
        while len(list(self.barrier.glob("ready-*"))) < self.parties and time.time() < deadline:
            time.sleep(0.05)

    def on_train_begin(self, args, state, control, **kwargs):
        self._stamp()

    def on_step_end(self, args, state, control, **kwargs):
        if self.barrier is not None and state.global_step == self.wait_at:
            self._wait()
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


def device_name() -> str:
    """The GPU's name, or 'cpu (smoke run)'."""
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (smoke run)"


def training_arguments(
    output_dir: str, precision: str, args: argparse.Namespace, cuda: bool, case: Case | None = None
) -> TrainingArguments:
    """The recipe's optimisation settings for `case` (micro-batch, accumulation, compile), with checkpointing,
    logging and evaluation off; persistent pinned-memory workers on CUDA, as the recipe's GPU defaults."""
    case = case or Case("eval")
    return TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=case.micro_batch,
        per_device_eval_batch_size=args.eval_batch_size,
        gradient_accumulation_steps=case.grad_accum,
        max_steps=args.warmup + args.steps,
        learning_rate=1e-4,
        weight_decay=1e-5,
        max_grad_norm=1.0,
        fp16=precision == "fp16",
        bf16=precision == "bf16",
        torch_compile=case.compile,
        torch_compile_backend=args.compile_backend if case.compile else None,
        dataloader_num_workers=args.workers,
        dataloader_pin_memory=cuda,
        dataloader_persistent_workers=cuda and args.workers > 0,
        use_cpu=not cuda,
        seed=args.seed,
        remove_unused_columns=False,
        save_strategy="no",
        logging_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )


def run_case(case: Case, train: datasets.Dataset, args: argparse.Namespace, barrier: Path | None = None) -> dict:
    """Train `args.warmup + args.steps` optimizer steps of one case in this process; throughput, memory and MFU."""
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    precision = resolve_precision(case.precision, cuda)
    result: dict = {
        "case": case.name,
        "precision": precision,
        "sdpa_backend": case.sdpa_backend,
        "shape_buckets": DEFAULT_LENGTH_BUCKETS if case.buckets else 0,
        "micro_batch": f"{case.micro_batch}x{case.grad_accum}",
        "contrastive_group": case.contrastive_group,
        "torch_compile": case.compile,
    }
    trainer = model = None
    try:
        reset_accelerate_state()
        set_seed(args.seed)
        with torch.device(device):  # random init on the GPU: seconds instead of a minute
            model, extractor = build_model(args.model, attn_implementation="sdpa", layerdrop=args.layerdrop)
        model.to(device)
        if args.freeze_feature_encoder:
            model.freeze_feature_encoder()
        corpus_ids, labels = np.asarray(train["corpus_id"]), np.asarray(train["label"])
        lengths = np.asarray(train["length"])
        corpora = int(corpus_ids.max()) + 1
        class_weight, corpus_weight = class_weights(labels, len(EMOTIONS)), corpus_weights(corpus_ids, corpora)
        buckets = length_buckets(DEFAULT_LENGTH_BUCKETS, int(lengths.max())) if case.buckets else None
        with tempfile.TemporaryDirectory() as tmp:
            trainer = RecordingSERTrainer(
                model=model,
                args=training_arguments(tmp, precision, args, cuda, case),
                train_dataset=train.with_transform(make_transform(TrainAugment())),
                data_collator=SERCollator(extractor, bucket_lengths=buckets),
                class_weight=class_weight,
                corpus_weight=corpus_weight,
                mean_sample_weight=mean_drawn_weight(corpus_ids, labels, corpus_weight, class_weight, True, corpora),
                train_corpus_ids=corpus_ids,
                train_lengths=lengths,
                length_window=args.length_window,
                contrastive_group_size=case.contrastive_group,
            )
            timer = StepTimer(trainer.micro_batches, barrier, case.runs, args.warmup)
            trainer.add_callback(timer)
            trainer.remove_callback(PrinterCallback)  # no end-of-training log dict
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            with sdpa_backends(case.sdpa_backend, cuda):
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
        peak_flops = args.peak_tflops * 1e12
        result.update(
            samples_per_s=round(len(real) / seconds, 2),
            mfu=significant(useful / seconds / peak_flops),
            audio_hours_per_gpu_hour=round(real.sum() / SAMPLING_RATE / seconds, 1),
            step_ms=round(1000 * float(np.median(step_times)), 1),
            padded_fraction=round(1 - real.sum() / padded.sum(), 4),
            distinct_shapes=len({width for _, width in trainer.micro_batches}),
            peak_memory_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
            mfu_padded=significant(done / seconds / peak_flops),
            tflops_per_s=significant(useful / seconds / 1e12),
            samples=int(len(real)),
            audio_seconds=round(float(real.sum() / SAMPLING_RATE), 2),
            seconds=round(seconds, 4),
            wall_start=time.time() - (time.perf_counter() - timer.marks[start]),
            wall_end=time.time() - (time.perf_counter() - timer.marks[stop]),
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


def run_side_by_side(case: Case, argv: list[str]) -> dict:
    """`case.runs` copies of `case` as separate processes on the same device (this script with --worker, the
    caller's environment, PYTHONPATH included), meeting at a barrier after warm-up; aggregate throughput."""
    result: dict = {
        "case": case.name,
        "runs": case.runs,
        "shape_buckets": DEFAULT_LENGTH_BUCKETS if case.buckets else 0,
        "micro_batch": f"{case.micro_batch}x{case.grad_accum}",
        "contrastive_group": case.contrastive_group,
    }
    runs = []
    with tempfile.TemporaryDirectory() as barrier:
        command = [sys.executable, str(Path(__file__).resolve()), *argv]
        command += ["--worker", json.dumps(dataclasses.asdict(case)), "--barrier", barrier]
        logs = [(Path(barrier) / f"out-{i}.txt", Path(barrier) / f"err-{i}.txt") for i in range(case.runs)]
        procs = []
        for out, err in logs:  # files, not pipes: a full pipe would block a worker while another is read
            with out.open("w") as stdout, err.open("w") as stderr:
                procs.append(subprocess.Popen(command, stdout=stdout, stderr=stderr, env=os.environ.copy()))
        for proc, (out, err) in zip(procs, logs):
            proc.wait()
            lines = [line for line in out.read_text().splitlines() if line.startswith("{")]
            if proc.returncode != 0 or not lines:
                tail = (err.read_text().strip().splitlines() or ["no output"])[-1]
                runs.append({"error": f"worker exit {proc.returncode}: {tail}"})
            else:
                runs.append(json.loads(lines[-1]))
    failed = [r["error"] for r in runs if "error" in r]
    if failed:
        result["error"] = "; ".join(failed)
        return result
    span = max(r["wall_end"] for r in runs) - min(r["wall_start"] for r in runs)
    samples = sum(r["samples"] for r in runs)
    result.update(
        precision=runs[0]["precision"],
        sdpa_backend=runs[0]["sdpa_backend"],
        samples_per_s=round(samples / span, 2),
        mfu=significant(sum(r["mfu"] * r["seconds"] for r in runs) / span),
        audio_hours_per_gpu_hour=round(sum(r["audio_seconds"] for r in runs) / span, 1),
        samples_per_s_each=[r["samples_per_s"] for r in runs],
        peak_memory_gib_each=[r["peak_memory_gib"] for r in runs],
        padded_fraction=runs[0]["padded_fraction"],
        distinct_shapes=max(r["distinct_shapes"] for r in runs),
        samples=samples,
    )
    return result


# ---------------------------------------------------------------------------------------------------- evaluation


def eval_order(precision: str, evaluation: datasets.Dataset, args: argparse.Namespace) -> dict:
    """Trainer.predict wall time over `evaluation` unsorted (random order) and in its own order vs length-sorted
    (interleaved, median of 3), as in `eval_order.py`. The model is moved to the device as a whole before any call:
    built under ``torch.device('cuda')``, wav2vec2's ``masked_spec_embed`` stays on the CPU, and a device read off
    the first parameter sent the inputs there (the CUDA crash of the first H200 run)."""
    from eval_order import interleaved_predict, padded_samples, predict, spread_predictions

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    result: dict = {"precision": precision, "size": len(evaluation)}
    trainer = model = None
    try:
        reset_accelerate_state()
        set_seed(args.seed)
        with torch.device(device):
            model, extractor = build_model(args.model, attn_implementation="sdpa", layerdrop=args.layerdrop)
        model.to(device)
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
            with sdpa_backends("auto", cuda):
                predict(trainer, evaluation, orders["sorted"][: 4 * args.eval_batch_size], "wall")  # warm-up
                # whole orders per call: each predict call starts its own DataLoader workers, a fixed cost per call
                times, _, logits = interleaved_predict(trainer, evaluation, orders, 3, len(evaluation), "wall")
        labels = np.asarray(evaluation["label"])
        preds = {name: out.argmax(-1) for name, out in logits.items()}
        metrics = {name: scores(labels, p) for name, p in preds.items()}
        padded = {name: padded_samples(order, lengths, args.eval_batch_size) for name, order in orders.items()}
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


# ---------------------------------------------------------------------------------------------------- projection


def paper_grid_audio_hours() -> float:
    """Audio-hours trained by the paper grid at one seed (23 runs), as docs/cluster.md counts them: for each planned
    run, 70% of each training corpus's 6-class count x 10 epochs x the corpus's mean duration (`padding.py`'s
    duration models; 3.0 s where unknown)."""
    languages = [code for codes in groups().values() for code in codes]
    total = 0.0
    for run in plan_runs("paper", languages, None, 1):
        for name in corpora_for_languages(list(run.train_languages)):
            count = CORPORA[name].six_class_count or UNKNOWN_SIX_CLASS_COUNT.get(name, 0)
            mean = SYNTHETIC_CORPORA[name][1] if name in SYNTHETIC_CORPORA else UNKNOWN_MEAN_SECONDS
            total += PAPER_TRAIN_FRACTION * count * PAPER_EPOCHS * mean
    return total / 3600


# ---------------------------------------------------------------------------------------------------- main


def format_table(configs: list[dict]) -> str:
    """One line per case."""
    header = (
        f"{'case':>22} {'prec':>5} {'batch':>6} {'samples/s':>10} {'audio-h/GPU-h':>14} {'step ms':>8} "
        f"{'padding':>8} {'shapes':>7} {'peak GiB':>9} {'MFU':>6}"
    )
    lines = [header, "-" * len(header)]
    for c in configs:
        head = f"{c['case']:>22} {c.get('precision', '-'):>5} {c['micro_batch']:>6}"
        if "error" in c:
            lines.append(f"{head}  {c['error']}")
            continue
        memory = c.get("peak_memory_gib") or max(c.get("peak_memory_gib_each") or [None], key=lambda m: m or 0)
        memory = "-" if memory is None else f"{memory:.2f}"
        step = f"{c['step_ms']:>8.0f}" if "step_ms" in c else f"{'-':>8}"
        lines.append(
            f"{head} {c['samples_per_s']:>10.1f} {c['audio_hours_per_gpu_hour']:>14.0f} {step} "
            f"{c['padded_fraction']:>8.1%} {c['distinct_shapes']:>7} {memory:>9} {c['mfu']:>6.1%}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=None, help="run only these cases (default: all)")
    parser.add_argument("--runs_per_gpu", type=int, default=2, help="K of the K-runs case (1: leave it out)")
    parser.add_argument("--steps", type=int, default=8, help="timed optimizer steps per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed optimizer steps first")
    parser.add_argument("--micro_batch", type=int, default=None, help="gpu_default micro-batch (default: by memory)")
    parser.add_argument("--eval_batch_size", type=int, default=16, help="batch of the eval-order part")
    parser.add_argument(
        "--length_window", type=int, default=DEFAULT_LENGTH_WINDOW, help="sampler length window (the recipe's default)"
    )
    parser.add_argument("--size", type=int, default=2048, help="synthetic training utterances")
    parser.add_argument("--eval_size", type=int, default=600, help="evaluation utterances (0: skip eval order)")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1), help="DataLoader workers")
    parser.add_argument("--layerdrop", type=float, default=0.0, help="0 so that every step does the same work")
    parser.add_argument("--freeze_feature_encoder", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--compile_backend", default=None, help="torch.compile backend (inductor; CPU smoke aot_eager)")
    parser.add_argument(
        "--peak_tflops", type=float, default=H100_SXM_DENSE_TFLOPS, help="dense fp16/bf16 peak of the GPU for MFU"
    )
    parser.add_argument("--max_seconds", type=float, default=None, help="crop utterances")
    parser.add_argument("--length_scale", type=float, default=1.0, help="scale every duration (smoke runs: 0.4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu_smoke", action="store_true", help="run every case on the CPU with demo-tiny")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # one case as JSON: a K-runs process
    parser.add_argument("--barrier", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cpu_smoke:  # every case in a minute or two on 2 shared cores
        smoke = {"size": 160, "eval_size": 32, "steps": 2, "warmup": 1, "workers": 0, "length_scale": 0.4}
        for key, value in smoke.items():
            if argv is None or f"--{key}" not in argv:
                setattr(args, key, value)
    cuda = torch.cuda.is_available()
    args.compile_backend = args.compile_backend or ("inductor" if cuda else "aot_eager")
    args.model = XLSR_300M_RANDOM if cuda else DEMO_BACKBONE
    return args


def training_split(args: argparse.Namespace) -> datasets.Dataset:
    """The synthetic training utterances (duration models of `padding.py`, cropped in smoke runs)."""
    corpus_idx, lengths, labels = synthetic_split(args.size, args.seed)
    if args.max_seconds:
        lengths = np.minimum(lengths, int(args.max_seconds * SAMPLING_RATE))
    lengths = np.maximum(1, np.round(lengths * args.length_scale)).astype(np.int64)
    return synthetic_dataset(lengths, corpus_idx, labels, args.seed)


def worker(args: argparse.Namespace) -> None:
    """One process of a K-runs case: train the case given as JSON and print its result as the last line."""
    if not torch.cuda.is_available():
        torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    case = Case(**json.loads(args.worker))
    print(json.dumps(run_case(case, training_split(args), args, Path(args.barrier))), flush=True)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return {}
    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu_smoke:
        print("no CUDA device: skipped (run on a machine with a CUDA GPU, or pass --cpu_smoke to check the script)")
        return emit({"benchmark": "gpu", "skipped": "no CUDA"})
    if not cuda:
        torch.set_num_threads(1)  # a smoke run on shared cores: more threads only wait for each other
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    device = device_name()
    if cuda and not any(name in device for name in ("H100", "H200")):
        print(f"note: {device} is not an H100/H200; pass its dense fp16/bf16 peak with --peak_tflops for a true MFU")
    total_gib = torch.cuda.get_device_properties(0).total_memory / 2**30 if cuda else None
    micro_batch = args.micro_batch or (gpu_micro_batch(total_gib) if cuda else 64)
    print(
        f"gpu_default micro-batch {micro_batch} x {max(1, PAPER_EFFECTIVE_BATCH // micro_batch)} "
        + (f"(from {total_gib:.0f} GiB of GPU memory)" if cuda else "(CPU smoke run)")
    )
    cases = make_cases(micro_batch, args.runs_per_gpu)
    if args.cases:
        unknown = sorted(set(args.cases) - {c.name for c in cases})
        if unknown:
            raise SystemExit(f"benchmarks/gpu.py: unknown case(s) {unknown}; known: {[c.name for c in cases]}")
        cases = [c for c in cases if c.name in args.cases]
    start = time.perf_counter()
    train = training_split(args)
    hours = np.asarray(train["length"]).sum() / SAMPLING_RATE / 3600
    print(
        f"{device}: {args.model}, {len(train)} synthetic utterances ({hours:.2f} h), {args.workers} workers, "
        f"{args.warmup} warm-up + {args.steps} timed steps per case, peak {args.peak_tflops:g} TFLOP/s"
    )
    worker_argv = [a for a in (argv if argv is not None else sys.argv[1:])]
    configs = []
    for case in cases:
        if case.precision == "bf16" and cuda and auto_mixed_precision(cuda) != "bf16":
            configs.append({"case": case.name, "micro_batch": "-", "error": f"{device} has no native bf16"})
            continue
        result = run_side_by_side(case, worker_argv) if case.runs > 1 else run_case(case, train, args)
        configs.append(result)
        print(format_table([result]).splitlines()[-1], flush=True)
    del train
    print(format_table(configs))

    evaluation = None
    if args.eval_size > 0:
        corpus_idx, lengths, labels = synthetic_split(args.eval_size, args.seed + 1)
        if args.max_seconds:
            lengths = np.minimum(lengths, int(args.max_seconds * SAMPLING_RATE))
        lengths = np.maximum(1, np.round(lengths * args.length_scale)).astype(np.int64)
        data = synthetic_dataset(lengths, corpus_idx, labels, args.seed + 1).remove_columns("corpus_id")
        evaluation = eval_order(resolve_precision("auto", cuda), data, args)
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
    by_name = {c["case"]: c for c in configs if "error" not in c}
    grid_hours = paper_grid_audio_hours()
    default = by_name.get("gpu_default")
    side = next((c for name, c in by_name.items() if name.startswith("runs_per_gpu_")), None)
    projected = round(grid_hours / default["audio_hours_per_gpu_hour"], 3) if default else None
    projected_k = round(grid_hours / side["audio_hours_per_gpu_hour"], 3) if side else None
    if default:
        print(
            f"paper grid, one seed: {grid_hours:,.0f} audio-hours / {default['audio_hours_per_gpu_hour']:,.0f} per "
            f"GPU-hour (gpu_default) = {projected:.2f} GPU-hours"
            + (f"; {projected_k:.2f} with {side['runs']} runs per GPU" if side else "")
        )
    print(f"total {time.perf_counter() - start:.0f} s")
    return emit(
        {
            "benchmark": "gpu",
            "device": device,
            "model": args.model,
            "peak_tflops": args.peak_tflops,
            "steps": args.steps,
            "gpu_default_micro_batch": micro_batch,
            "configs": configs,
            "paper_grid_audio_hours": round(grid_hours, 1),
            "projected_paper_grid_hours": projected,
            "projected_paper_grid_hours_runs_per_gpu": projected_k,
            "eval_order": evaluation,
        }
    )


if __name__ == "__main__":
    main()
