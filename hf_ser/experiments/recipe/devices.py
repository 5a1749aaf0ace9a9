"""Training arguments for the machine a recipe runs on: what ``mixed_precision: auto`` means here, the CUDA
micro-batch that fits the GPU's memory (the effective batch stays the paper's 64), loader workers, pinned memory."""

from __future__ import annotations

import dataclasses
import logging
import os

import torch
from transformers import TrainingArguments

from hf_ser.experiments.recipe.arguments import RecipeError, SERArguments

logger = logging.getLogger("hf_ser")


# Keys whose CUDA default (apply_device_defaults) differs from recipes/defaults.yaml: a value given in the recipe
# file, by --demo or on the command line always wins.
GPU_MICRO_BATCH = 64  # H200, XLS-R 300M: 64 x 1 ran 392-406 samples/s vs 162 for 16 x 4 and 382 for 128 x 1
PAPER_EFFECTIVE_BATCH = 64  # the paper's 16 x 4
# Peak memory per utterance of micro-batch and fixed memory (weights, grads, AdamW) of XLS-R 300M training, from
# the one H200 measurement (16 x 4 peaked at 13.7 GiB): used to pick a smaller micro-batch on smaller GPUs.
GIB_PER_UTTERANCE = 0.56
FIXED_GIB = 4.8


def auto_mixed_precision(cuda: bool) -> str:
    """What ``mixed_precision: auto`` means on this machine: 'bf16' on a GPU with native bf16 (Ampere and later),
    'fp16' (+ GradScaler) on older GPUs, 'no' on CPU. bf16 needs no loss scaling and was not slower than fp16
    anywhere it was measured (H200: 92-79 vs 94-64 samples/s); the paper trained in fp16."""
    if not cuda:
        return "no"
    try:
        native = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch < 2.4 has no including_emulation
        native = torch.cuda.is_bf16_supported()
    return "bf16" if native else "fp16"


def gpu_micro_batch(total_gib: float) -> int:
    """The largest of 64 / 32 / 16 whose estimated peak (FIXED_GIB + GIB_PER_UTTERANCE per utterance, a linear
    extrapolation of the H200's 13.7 GiB at 16) fits in 80% of the GPU's `total_gib`; 16 at least (the paper's
    micro-batch and contrastive group)."""
    for batch in (GPU_MICRO_BATCH, 32, 16):
        if FIXED_GIB + GIB_PER_UTTERANCE * batch <= 0.8 * total_gib:
            return batch
    return 16


def gpu_batch_defaults(explicit: set[str] | frozenset[str], total_gib: float) -> dict:
    """The CUDA micro-batch and accumulation (:func:`gpu_micro_batch` x the rest of the effective 64), logged;
    nothing when the user set either key (`explicit`)."""
    if {"per_device_train_batch_size", "gradient_accumulation_steps"} & set(explicit):
        return {}
    batch = gpu_micro_batch(total_gib)
    logger.info(
        "GPU default: micro-batch %d x %d accumulation (effective %d, SupCon groups of contrastive_group_size; "
        "%.0f GiB GPU; --per_device_train_batch_size / --gradient_accumulation_steps override)",
        batch,
        PAPER_EFFECTIVE_BATCH // batch,
        PAPER_EFFECTIVE_BATCH,
        total_gib,
    )
    return {"per_device_train_batch_size": batch, "gradient_accumulation_steps": PAPER_EFFECTIVE_BATCH // batch}


def apply_device_defaults(
    train_args: TrainingArguments, ser_args: SERArguments, explicit: set[str] | frozenset[str] = frozenset()
) -> TrainingArguments:
    """Training arguments for this machine, and what the Trainer must not do (push, drop columns, or hold the Hub
    token: it would be pickled into training_args.bin of every checkpoint).

    Everywhere: ``mixed_precision: auto`` resolved by :func:`auto_mixed_precision`. On CUDA, unless the key is in
    `explicit` (set in the recipe file, by --demo or on the command line): micro-batch :func:`gpu_micro_batch`
    (64 on a >= 40 GiB GPU) with the accumulation that keeps the effective batch at 64 (the SupCon groups stay 16,
    ``contrastive_group_size``, so the objective is the paper's), loader workers (4) that persist across epochs with
    pinned memory. The choices are logged. CPU defaults are unchanged.
    """
    cuda = torch.cuda.is_available()
    mp = ser_args.mixed_precision
    if mp not in ("auto", "fp16", "bf16", "no"):
        raise RecipeError(f"--mixed_precision must be auto, fp16, bf16 or no, not {mp!r}")
    precision = auto_mixed_precision(cuda) if mp == "auto" else mp
    if mp == "auto":
        logger.info("mixed_precision auto: %s (%s)", precision, torch.cuda.get_device_name(0) if cuda else "CPU")
    workers = train_args.dataloader_num_workers or (min(4, os.cpu_count() or 1) if cuda else 0)
    changes = gpu_batch_defaults(explicit, torch.cuda.get_device_properties(0).total_memory / 2**30) if cuda else {}
    step = step_defaults(train_args, cuda, workers)
    if cuda:
        logger.info(
            "GPU default: %d loader workers, persistent %s, pinned memory %s",
            workers,
            step["dataloader_persistent_workers"],
            step["dataloader_pin_memory"],
        )
    return dataclasses.replace(
        train_args,
        **changes,
        fp16=precision == "fp16",
        bf16=precision == "bf16",
        dataloader_num_workers=workers,
        **step,
        remove_unused_columns=False,
        push_to_hub=False,
        hub_token=None,
    )


def step_defaults(train_args: TrainingArguments, cuda: bool, workers: int) -> dict:
    """Training arguments that keep host work out of the step on a GPU: pinned memory with non-blocking host-to-device
    copies, loader workers kept across epochs (not re-forked and re-warmed every epoch), and no NaN/Inf filter on the
    logged loss (it reads the loss on the host, a device sync every micro-batch). On the CPU: none of them."""
    pin = bool(train_args.dataloader_pin_memory and cuda)
    return {
        "dataloader_pin_memory": pin,
        "dataloader_persistent_workers": bool(cuda and workers > 0) or train_args.dataloader_persistent_workers,
        "logging_nan_inf_filter": train_args.logging_nan_inf_filter and not cuda,
        "accelerator_config": dataclasses.replace(train_args.accelerator_config, non_blocking=pin),
    }
