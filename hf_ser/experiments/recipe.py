"""``hf-ser recipe NAME [--key value ...]``: run one of the paper's experiments.

A recipe is ``recipes/NAME.yaml`` on top of ``recipes/defaults.yaml`` (the paper's
hyper-parameters) and, with ``--demo``, ``recipes/demo.yaml``; command-line keys win.
Every key is a field of one of the argument dataclasses (model, data, loss/SER, few-shot, grid,
launcher: ``hf-ser recipe NAME --help`` lists them with the recipe's values) or of
``transformers.TrainingArguments`` (``hf-ser recipe NAME --help_all``), parsed by ``HfArgumentParser``.
Each run writes ``<output_dir>/<run>/metrics.json`` and ``model/``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import os
import shutil
import sys
import time
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import datasets
import numpy as np
import torch
import transformers
import yaml
from transformers import EarlyStoppingCallback, HfArgumentParser, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from hf_ser import __version__
from hf_ser.console import ArgumentParser, OneLineErrors, PlainHelp, command, setup_logging
from hf_ser.data.audio import TrainAugment
from hf_ser.data.corpora import default_cache_dir
from hf_ser.data.dataset import DataArguments, load_languages, split_dataset_dev, subset, with_corpus_ids
from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.errors import EXIT_FAILED, EXIT_OK, UserError
from hf_ser.experiments.families import EXPERIMENTS, Run, plan_runs
from hf_ser.experiments.few_shot.inputs import FewShotArguments
from hf_ser.experiments.few_shot.run import run_few_shot
from hf_ser.experiments.launch import (
    LaunchArguments,
    check_arguments,
    estimate_cost,
    list_runs_command,
    recipe_jobs,
    submit,
)
from hf_ser.experiments.upstream import main as upstream_main
from hf_ser.hub.errors import HubError
from hf_ser.hub.push import hub_repo_for_run, push_run
from hf_ser.labels import EMOTIONS, SAMPLING_RATE, check_languages, groups
from hf_ser.metrics import F1_DEFINITION, compute_metrics, confusion, per_language_metrics
from hf_ser.safe_io import atomic_write_json, display_path, storage_error
from hf_ser.train.losses import (
    CORPUS_WEIGHTING,
    class_weights,
    corpus_weights,
    effective_corpus_shares,
    mean_drawn_weight,
    row_draw_probability,
)
from hf_ser.train.modeling import (
    DEFAULT_BACKBONE,
    SDPA_BACKEND_HELP,
    attention_kernel,
    build_model,
    freeze,
    sdpa_backends,
)
from hf_ser.train.runs import (
    RunBusy,
    RunLock,
    RunRecord,
    config_hash,
    finished_record,
    run_state,
    write_predictions,
)
from hf_ser.train.sampling import (
    DEFAULT_LENGTH_BUCKETS,
    DEFAULT_LENGTH_WINDOW,
    expected_draws_per_utterance,
    length_buckets,
    length_sorted_order,
)
from hf_ser.train.trainer import DEFAULT_CONTRASTIVE_GROUP, SERCollator, SERTrainer, make_transform

logger = logging.getLogger("hf_ser")
RECIPES_DIR = Path(str(resources.files("hf_ser"))) / "recipes"


@dataclass
class ModelArguments:
    """Which backbone and head to build."""

    model_name_or_path: str = field(
        default=DEFAULT_BACKBONE,
        metadata={
            "help": "Hub id or folder of any wav2vec2/XLS-R, HuBERT, WavLM, data2vec-audio or Whisper checkpoint; "
            "'demo-tiny' (or demo-tiny-hubert/-wavlm/-data2vec/-whisper); 'xls-r-300m-random'."
        },
    )
    classifier_proj_size: int = field(default=256, metadata={"help": "Projector width (paper: 256)."})
    attn_implementation: str = field(
        default="sdpa",
        metadata={"help": "'sdpa', 'eager' or 'flash_attention_2' (WavLM has no SDPA path: it always runs eager)."},
    )
    sdpa_backend: str = field(default="auto", metadata={"help": SDPA_BACKEND_HELP})
    freeze_feature_encoder: bool = field(
        default=True, metadata={"help": "Keep the convolutional feature encoder frozen."}
    )
    layerdrop: float | None = field(default=None, metadata={"help": "Override the backbone's LayerDrop (0 under DDP)."})
    freeze_base_model: bool = field(
        default=False, metadata={"help": "Train only layer weights + head (frozen upstream)."}
    )
    use_weighted_layer_sum: bool = field(
        default=False, metadata={"help": "Learned softmax-weighted sum of all layers."}
    )
    whisper_window_seconds: int | None = field(default=None, metadata={"help": "Whisper: shorten the 30 s window."})


@dataclass
class SERArguments:
    """The experiment and the paper's balancing tricks."""

    experiment: str = field(default="multilingual", metadata={"help": f"One of {', '.join(EXPERIMENTS)}."})
    groups: list[str] | None = field(
        default=None, metadata={"help": "Groups for multilingual/cross_group ('all' = every language)."}
    )
    languages: list[str] | None = field(
        default=None, metadata={"help": "Restrict to these language codes (e.g. FRE ITA)."}
    )
    seeds: int = field(default=1, metadata={"help": "Repeat every run with seeds 0..N-1."})
    contrastive_weight: float = field(default=0.1, metadata={"help": "lambda of the supervised contrastive term."})
    temperature: float = field(default=0.07, metadata={"help": "tau of the supervised contrastive term."})
    class_weighting: bool = field(default=True, metadata={"help": "Weight CE by inverse class frequency."})
    corpus_weighting: str = field(
        default="paper",
        metadata={
            "help": "'paper' (weight 1/corpus size, as the paper "
            "says), 'sampler_aware' (equal effective corpus shares under the sampler used; class "
            "weights from the drawn distribution) or 'none'. true/false mean paper/none."
        },
    )
    balanced_sampling: bool = field(default=True, metadata={"help": "Corpus-balanced micro-batches."})
    length_window: int = field(
        default=DEFAULT_LENGTH_WINDOW,
        metadata={
            "help": "Optimizer steps whose samples are sorted by length together, to cut padding (1 = no sorting: "
            "every contrastive group exactly corpus-balanced)."
        },
    )
    contrastive_group_size: int = field(
        default=DEFAULT_CONTRASTIVE_GROUP,
        metadata={
            "help": "Rows per contrastive group: SupCon and the corpus balance are computed over consecutive groups "
            "of this size inside a micro-batch (the paper's micro-batch, 16). The micro-batch must hold whole "
            "groups; micro-batch 64 without accumulation trains exactly the objective of 16 x 4 accumulation."
        },
    )
    length_buckets: int = field(
        default=DEFAULT_LENGTH_BUCKETS,
        metadata={
            "help": "Pad each waveform batch to one of this many padded lengths (geometric from 1 s to the longest "
            "training utterance, whole 20 ms frames), so the GPU meets few shapes; 0 = pad to the batch's longest."
        },
    )
    augment: bool = field(default=True, metadata={"help": "Random gain and light noise on the train split."})
    mixed_precision: str = field(
        default="auto",
        metadata={
            "help": "'auto' (bf16 on GPUs that support it natively, fp16 + GradScaler on older ones, fp32 on CPU), "
            "'fp16' (the paper's), 'bf16' or 'no'."
        },
    )
    pad_to_multiple_of: int | None = field(
        default=None, metadata={"help": "Round padded batches up to a multiple of this many samples."}
    )
    keep_checkpoints: bool = field(default=False, metadata={"help": "Keep Trainer checkpoints after a run finishes."})
    ablation: str | None = field(
        default=None,
        metadata={
            "help": "'balancing': run the grid once per balancing "
            "variant (corpus weights x balanced batches: both, weights_only, sampler_only, "
            "neither) into <output_dir>/<variant>."
        },
    )
    early_stopping_patience: int | None = field(
        default=None,
        metadata={
            "help": "With --dev_size: stop after this many epochs without a better dev UAR (default: train all epochs)."
        },
    )


@dataclass
class GridArguments:
    """Which planned runs to look at or execute (any scheduler can drive a grid one run at a time)."""

    list_runs: bool = field(
        default=False,
        metadata={
            "help": "Print the planned runs (index, name, languages, config hash, state, estimated cost) and exit."
        },
    )
    format: str = field(default="table", metadata={"help": "--list_runs output: 'table' or 'json'."})
    run_index: int | None = field(
        default=None, metadata={"help": "Execute only the planned run with this index (e.g. $SLURM_ARRAY_TASK_ID)."}
    )
    run: str | None = field(
        default=None, metadata={"help": "Execute only the planned run with this folder name (e.g. single-FRE-seed0)."}
    )


PARSER_TYPES = (
    ModelArguments,
    DataArguments,
    SERArguments,
    FewShotArguments,
    GridArguments,
    LaunchArguments,
    TrainingArguments,
)
# Options that say which runs to plan or where to put them, not what a run computes: outside the run hash.
NOT_IN_RUN_HASH = ("seeds", "keep_checkpoints", "experiment", "groups", "languages")
MODEL_NOT_IN_RUN_HASH = ("sdpa_backend",)  # which attention kernel computes the same function
# Keys whose CUDA default (apply_device_defaults) differs from recipes/defaults.yaml: a value given in the recipe
# file, by --demo or on the command line always wins.
GPU_MICRO_BATCH = 64  # H200, XLS-R 300M: 64 x 1 ran 392-406 samples/s vs 162 for 16 x 4 and 382 for 128 x 1
PAPER_EFFECTIVE_BATCH = 64  # the paper's 16 x 4
# Peak memory per utterance of micro-batch and fixed memory (weights, grads, AdamW) of XLS-R 300M training, from
# the one H200 measurement (16 x 4 peaked at 13.7 GiB): used to pick a smaller micro-batch on smaller GPUs.
GIB_PER_UTTERANCE = 0.56
FIXED_GIB = 4.8
DATA_NOT_IN_RUN_HASH = ("cache_dir", "num_proc", "data_root")  # where data lives, not what it is (the fingerprint is)


class RecipeError(UserError):
    """A user mistake in the recipe name, a key or a value; printed without a traceback."""


class RecipeParser(PlainHelp, OneLineErrors, HfArgumentParser):
    """HfArgumentParser whose argument errors are one-line UserErrors, and whose ``--no_X`` flags say they
    turn X off (HfArgumentParser gives them X's own help)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        negate_help(self._actions)


def negate_help(actions: list[argparse.Action]) -> None:
    """Give each ``--no_X`` flag HfArgumentParser adds for a boolean X that defaults to True a help of its own."""
    for action in actions:
        if action.option_strings and action.option_strings[0].startswith("--no_"):
            action.help = f"turn --{action.dest} off (it is on by default)"


# The recipe's own keys in `hf-ser recipe NAME --help`, one titled group per argument dataclass, in this order;
# a field added to any of them shows up in its group without more code.
HELP_GROUPS: tuple[tuple[type, str], ...] = (
    (ModelArguments, "model"),
    (DataArguments, "data"),
    (SERArguments, "loss and balancing (SER)"),
    (FewShotArguments, "few-shot (recipe few_shot)"),
    (GridArguments, "grid: which planned runs to list or execute"),
    (LaunchArguments, "launcher: where the runs execute"),
)
# TrainingArguments keys worth naming in the pointer at the end of the grouped help
TRAINING_KEYS = ("output_dir", "learning_rate", "num_train_epochs", "per_device_train_batch_size", "seed")
RECIPE_EXAMPLES = """examples:
  hf-ser recipe {name} --demo --output_dir runs/demo      # tiny model, synthetic corpus: minutes on a CPU
  hf-ser recipe {name} --list_runs                        # the planned runs, their state and cost
  hf-ser recipe {name} --learning_rate 5e-5 --seeds 3     # any key, from any group or TrainingArguments
"""


class _DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Help lines ending with the value the recipe gives a key (when it gives one), as ``(LABEL: VALUE)``."""

    label = "recipe"

    def _get_help_string(self, action: argparse.Action) -> str:
        """The action's help plus ``(LABEL: VALUE)``; %% escaped so argparse prints what the help says."""
        text = (action.help or "").replace("%", "%%")
        negation = action.option_strings and action.option_strings[0].startswith("--no_")
        if action.default not in (None, argparse.SUPPRESS) and action.option_strings and not negation:
            shown = " ".join(map(str, action.default)) if isinstance(action.default, list) else action.default
            text += f" ({self.label}: {str(shown).replace('%', '%%')})"
        return text


def recipe_comment(path: Path) -> str:
    """The leading ``#`` comment of a recipe YAML (what the recipe is), as plain lines."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return "\n".join(lines)


def first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence of a description on one line, cut at `limit` characters."""
    flat = " ".join(text.split())
    head = flat.split(". ")[0].split(": ")[0].rstrip(".:")
    return head if len(head) <= limit else head[: limit - 3].rstrip() + "..."


def recipe_help(name: str) -> str:
    """``hf-ser recipe NAME --help``: the recipe's description, its keys grouped by dataclass with the values this
    recipe gives them (defaults.yaml, then NAME.yaml), a pointer to TrainingArguments and examples."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else RECIPES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise RecipeError(
            f"unknown recipe {name!r}; available: {', '.join(available_recipes())} (or a path to a .yaml)"
        )
    known = {a.dest for a in RecipeParser(PARSER_TYPES)._actions}
    values = {**_read_yaml(RECIPES_DIR / "defaults.yaml", known), **_read_yaml(path, known)}
    return keys_help(values, path.stem, recipe_comment(path))


def keys_help(values: dict, name: str, description: str, label: str = "recipe", example: str | None = None) -> str:
    """The recipe keys grouped by argument dataclass, each with the value `values` gives it (shown as
    ``(LABEL: VALUE)``), then the TrainingArguments pointer and examples for recipe `example` (default `name`):
    the help of ``hf-ser recipe [NAME] --help``."""
    values = {k: v for k, v in values.items() if k != "demo_overrides"}
    parser = ArgumentParser(
        prog=f"hf-ser recipe {name}",
        usage=f"hf-ser recipe {name} [--key value ...]",
        description=description,
        formatter_class=type("Formatter", (_DefaultsFormatter,), {"label": label}),
        add_help=False,
    )
    for dtype, title in HELP_GROUPS:
        group = parser.add_argument_group(title, (dtype.__doc__ or "").strip())
        hints = typing.get_type_hints(dtype)
        for f in dataclasses.fields(dtype):
            if f.init:
                typed = copy.copy(f)  # HfArgumentParser reads the resolved type from the field itself
                typed.type = hints[f.name]
                HfArgumentParser._parse_dataclass_field(group, typed)
    negate_help(parser._actions)
    for action in parser._actions:  # one spelling per key, and a metavar saying what the value is
        action.option_strings = action.option_strings[:1]
        if action.nargs == "?":
            action.metavar = "BOOL"
        elif action.nargs != 0:
            action.metavar = {int: "N", float: "X"}.get(action.type, "VALUE")
    parser.set_defaults(**{k: v for k, v in values.items() if k in {a.dest for a in parser._actions}})
    training = ", ".join(f"--{k}" + (f" ({values[k]})" if k in values else "") for k in TRAINING_KEYS)
    parser.epilog = (
        f"TrainingArguments: every field of transformers.TrainingArguments is a key too, e.g. {training}; "
        f"`hf-ser recipe {name} --help_all` lists them all.\n\n" + RECIPE_EXAMPLES.format(name=example or name)
    )
    return parser.format_help()


def recipes_help() -> str:
    """``hf-ser recipe --help``: what a recipe is, each recipe with the first line of its description, then every
    key grouped by dataclass with the value recipes/defaults.yaml gives it (a recipe may change it: ``hf-ser
    recipe NAME --help`` shows that recipe's values)."""
    rows = [(name, first_sentence(recipe_comment(RECIPES_DIR / f"{name}.yaml"))) for name in available_recipes()]
    width = max(len(name) for name, _ in rows)
    listing = "\n".join(f"  {name.ljust(width)}  {line}" for name, line in rows)
    doc = (__doc__ or "").replace("``", "")
    known = {a.dest for a in RecipeParser(PARSER_TYPES)._actions}
    defaults = _read_yaml(RECIPES_DIR / "defaults.yaml", known)
    keys = keys_help(defaults, "NAME", "", label="default", example="neo_latin")
    keys = keys.split("\n\n", 1)[1] if keys.startswith("usage:") else keys  # the listing's usage line says it
    return (
        f"usage: hf-ser recipe NAME [--key value ...]\n\n{doc.strip()}\n\nrecipes:\n{listing}\n\n"
        "Keys, with the values of recipes/defaults.yaml (`hf-ser recipe NAME --help` shows a recipe's own):\n\n" + keys
    )


@dataclass
class Recipe:
    """A parsed recipe: its name, the argument dataclasses, and the --demo keys that took effect."""

    name: str
    model: ModelArguments
    data: DataArguments
    ser: SERArguments
    few_shot: FewShotArguments
    grid: GridArguments
    launch: LaunchArguments  # where the runs execute; never part of a run's identity
    training: TrainingArguments
    demo_overrides: dict = field(default_factory=dict)
    push_to_hub: bool = False  # the Trainer never pushes: finished runs are pushed with their card
    hub_token: str | None = field(default=None, repr=False)  # kept here, never in TrainingArguments (pickled to disk)


def available_recipes() -> list[str]:
    """Recipe names (YAML files other than defaults/demo)."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml") if p.stem not in ("defaults", "demo"))


def _read_yaml(path: Path, known: set[str]) -> dict:
    """A recipe YAML as a dict; RecipeError for anything but a mapping of known keys."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise RecipeError(f"{display_path(path)} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{display_path(path)}: a recipe is a mapping of key: value")
    unknown = sorted(set(data) - known - {"demo_overrides"})
    if unknown:
        raise RecipeError(f"{display_path(path)}: unknown key(s) {', '.join(unknown)}")
    extra = data.get("demo_overrides") or {}
    if not isinstance(extra, dict) or set(extra) - known:
        raise RecipeError(
            f"{display_path(path)}: demo_overrides must map known keys to values; unknown: {sorted(set(extra) - known)}"
        )
    return data


def _wants_demo(cli: list[str], recipe: dict) -> bool:
    """True when --demo is on the command line (or set by the recipe)."""
    for a in cli:
        if a == "--demo" or (a.startswith("--demo=") and a.split("=", 1)[1].lower() in ("1", "true", "yes")):
            return True
    return bool(recipe.get("demo"))


def parse_recipe(argv: list[str]) -> Recipe:
    """Resolve NAME + YAML layers + command line into a :class:`Recipe`.

    Layers, later wins: recipes/defaults.yaml, the recipe, then with --demo recipes/demo.yaml and the
    recipe's own ``demo_overrides``, then the command line.
    """
    if not argv or argv[0].startswith("-"):
        raise RecipeError(f"usage: hf-ser recipe NAME [--key value ...]; recipes: {', '.join(available_recipes())}")
    name, rest = argv[0], argv[1:]
    path = Path(name) if name.endswith((".yaml", ".yml")) else RECIPES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise RecipeError(
            f"unknown recipe {name!r}; available: {', '.join(available_recipes())} (or a path to a .yaml)"
        )
    parser = RecipeParser(PARSER_TYPES, prog=f"hf-ser recipe {name}")
    known = {a.dest for a in parser._actions}
    recipe = _read_yaml(path, known)
    demo_overrides = recipe.pop("demo_overrides", None) or {}
    merged: dict = {"output_dir": f"runs/{path.stem}", **_read_yaml(RECIPES_DIR / "defaults.yaml", known), **recipe}
    demo_keys: dict = {}
    if _wants_demo(rest, recipe):
        demo_keys = {**_read_yaml(RECIPES_DIR / "demo.yaml", known), **demo_overrides}
        merged.update(demo_keys)
    parser.set_defaults(**merged)
    cli_keys = {a[2:].split("=", 1)[0] for a in rest if a.startswith("--")}
    bad = sorted(k for k in cli_keys if k not in known)
    if bad:
        raise RecipeError(f"unknown option(s) {', '.join('--' + k for k in bad)}; see `hf-ser recipe {name} --help`")
    model, data, ser, few, grid, launch, training = parser.parse_args_into_dataclasses(args=rest)
    check_arguments(launch)
    if ser.experiment not in (*EXPERIMENTS, "few_shot"):
        raise RecipeError(f"--experiment must be one of {', '.join(EXPERIMENTS)} or few_shot, not {ser.experiment!r}")
    if grid.format not in ("table", "json"):
        raise RecipeError(f"--format must be 'table' or 'json', not {grid.format!r}")
    if ser.languages:
        ser.languages = check_languages(ser.languages)
    ser.corpus_weighting = normalize_corpus_weighting(ser.corpus_weighting)
    check_protocol_args(data, ser)
    check_step_args(ser, training)
    overridden = {k: v for k, v in demo_keys.items() if k not in cli_keys and k != "demo"}
    return Recipe(
        path.stem,
        model,
        data,
        ser,
        few,
        grid,
        launch,
        apply_device_defaults(training, ser, explicit=cli_keys | set(recipe) | set(demo_keys)),
        overridden,
        push_to_hub=training.push_to_hub,
        hub_token=training.hub_token,
    )


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


def run_languages(ser_args: SERArguments) -> list[str]:
    """Languages the experiment involves (train and eval)."""
    table = groups()
    if ser_args.languages:
        return ser_args.languages
    if ser_args.experiment == "multilingual" and ser_args.groups and "all" not in ser_args.groups:
        return [l for g in ser_args.groups for l in table.get(g, [])]
    return [l for ls in table.values() for l in ls]


def run_config(run: Run, recipe: Recipe, fingerprint: dict) -> dict:
    """What determines a run's result, hashed into its identity: the run, the model, data and SER options, the
    training hyper-parameters and the fingerprint of the rows it trains and tests on."""
    ta = {
        k: getattr(recipe.training, k)
        for k in (
            "learning_rate",
            "weight_decay",
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "max_grad_norm",
            "num_train_epochs",
            "warmup_steps",
            "lr_scheduler_type",
            "fp16",
            "bf16",
            "optim",
        )
    }
    data = {k: v for k, v in dataclasses.asdict(recipe.data).items() if k not in DATA_NOT_IN_RUN_HASH}
    return {
        "run": run.to_dict(),
        "model": {k: v for k, v in dataclasses.asdict(recipe.model).items() if k not in MODEL_NOT_IN_RUN_HASH},
        "data": data,
        # which recipe planned the run does not change it: a `paper` grid reuses a `cross_group` run
        "ser": {k: v for k, v in dataclasses.asdict(recipe.ser).items() if k not in NOT_IN_RUN_HASH},
        "training": ta,
        "data_fingerprint": fingerprint,
    }


def versions() -> dict:
    """Library versions recorded in metrics.json."""
    return {
        "hf_ser": __version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
    }


# ------------------------------------------------------------------ balancing, dev selection, protocol, folds


def normalize_corpus_weighting(value) -> str:
    """The ``corpus_weighting`` choice (one of losses.CORPUS_WEIGHTING); booleans mean paper (true) or none (false)."""
    if isinstance(value, bool):
        return "paper" if value else "none"
    text = str(value).strip().lower()
    text = {"true": "paper", "1": "paper", "yes": "paper", "false": "none", "0": "none", "no": "none"}.get(text, text)
    if text not in CORPUS_WEIGHTING:
        raise RecipeError(f"--corpus_weighting must be one of {', '.join(CORPUS_WEIGHTING)}, not {value!r}")
    return text


def check_protocol_args(data_args: DataArguments, ser_args: SERArguments) -> None:
    """RecipeError for inconsistent split / dev / early-stopping arguments."""
    if data_args.split not in ("paper", "speaker", "kfold", "emobox"):
        raise RecipeError(f"split must be paper, speaker, kfold or emobox, not {data_args.split!r}")
    if not 0.0 <= data_args.dev_size < 1.0:
        raise RecipeError(f"dev_size must be in [0, 1), not {data_args.dev_size}")
    if ser_args.early_stopping_patience is not None and data_args.dev_size <= 0:
        raise RecipeError("early_stopping_patience needs a dev split: give --dev_size (e.g. 0.1)")
    if data_args.split == "kfold" and not 0 <= data_args.fold <= data_args.folds:
        raise RecipeError(f"fold must be 1..folds ({data_args.folds}), or 0 for all folds; got {data_args.fold}")
    if data_args.split == "emobox" and (not data_args.emobox_dir or data_args.fold < 1):
        raise RecipeError("split emobox needs --emobox_dir (a clone of github.com/emo-box/EmoBox) and --fold >= 1")


def check_step_args(ser_args: SERArguments, train_args: TrainingArguments) -> None:
    """The micro-batch holds whole contrastive groups (or is one smaller group); the bucket count is not negative."""
    group, batch = ser_args.contrastive_group_size, train_args.per_device_train_batch_size
    if group < 1:
        raise RecipeError(f"--contrastive_group_size must be >= 1 (the paper's is 16), not {group}")
    if batch > group and batch % group:
        raise RecipeError(
            f"--per_device_train_batch_size {batch} is not a multiple of --contrastive_group_size {group}: a "
            f"micro-batch must hold whole contrastive groups (e.g. {batch // group * group} or "
            f"{-(-batch // group) * group})"
        )
    if ser_args.length_buckets < 0:
        raise RecipeError(
            f"--length_buckets must be >= 0 (0 = pad each batch to its longest), not {ser_args.length_buckets}"
        )


def balancing(
    train_labels: np.ndarray,
    train_corpus: np.ndarray,
    corpus_names: list[str],
    ser_args: SERArguments,
    train_args: TrainingArguments,
) -> tuple[torch.Tensor | None, torch.Tensor | None, dict]:
    """(class weight, corpus weight, summary) for one run's training set under its balancing choices.

    'paper' keeps the paper's definitions (class weights from the training labels, corpus weight 1/size);
    'sampler_aware' takes class weights from the distribution the sampler draws and corpus weights that give
    every corpus an equal effective share. The summary (stored in the record and data_report.json, logged)
    holds each corpus's effective share of the cross-entropy and expected draws per utterance over training.
    """
    balanced = bool(ser_args.balanced_sampling)
    mode = normalize_corpus_weighting(ser_args.corpus_weighting)
    k = len(corpus_names)
    cw = None
    if ser_args.class_weighting:
        drawn = row_draw_probability(train_corpus, k, balanced) if mode == "sampler_aware" else None
        cw = class_weights(train_labels, len(EMOTIONS), draw_probability=drawn)
    corpus_w = corpus_weights(train_corpus, k, mode, balanced, train_labels, cw)
    shares = effective_corpus_shares(train_corpus, train_labels, corpus_w, cw, balanced, k)
    normaliser = mean_drawn_weight(train_corpus, train_labels, corpus_w, cw, balanced, k)
    batch = train_args.per_device_train_batch_size
    draws = expected_draws_per_utterance(
        train_corpus, batch, float(train_args.num_train_epochs), balanced, max(1, train_args.world_size)
    )
    sizes = np.bincount(train_corpus, minlength=k)
    summary = {
        "corpus_weighting": mode,
        "class_weighting": "drawn distribution"
        if (cw is not None and mode == "sampler_aware")
        else ("training labels" if cw is not None else "none"),
        "balanced_sampling": balanced,
        "epochs": float(train_args.num_train_epochs),
        # the CE's fixed normaliser per row (expected weight of a drawn row): shares below are the gradient's
        "mean_drawn_weight": round(normaliser, 6),
        "corpora": {
            name: {
                "train_size": int(sizes[i]),
                "effective_loss_share": round(float(shares[i]), 6),
                "expected_draws_per_utterance": round(float(draws.get(i, 0.0)), 3),
                "corpus_weight": None if corpus_w is None else round(float(corpus_w[i]), 6),
            }
            for i, name in enumerate(corpus_names)
        },
    }
    logger.info(
        "balancing (%s, balanced batches %s): %s",
        mode,
        balanced,
        "; ".join(
            f"{n} share {v['effective_loss_share'] * 100:.1f}% draws/utt {v['expected_draws_per_utterance']:.1f}"
            for n, v in summary["corpora"].items()
        ),
    )
    return cw, corpus_w, summary


def train_buckets(ser_args: SERArguments, train_lengths: np.ndarray) -> list[int]:
    """Padded lengths of the run's batches (``--length_buckets`` geometric buckets up to its longest training
    utterance; [] = pad each batch to its longest)."""
    longest = int(np.max(train_lengths, initial=1))
    return length_buckets(ser_args.length_buckets, longest) if ser_args.length_buckets else []


def dev_training_args(train_args: TrainingArguments, has_dev: bool) -> TrainingArguments:
    """With a dev split: evaluate and save every epoch and keep the checkpoint with the best dev UAR at the end."""
    if not has_dev:
        return train_args
    return dataclasses.replace(
        train_args,
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="uar",
        greater_is_better=True,
        save_total_limit=max(2, train_args.save_total_limit or 2),
    )


def dev_callbacks(ser_args: SERArguments, has_dev: bool) -> list:
    """EarlyStoppingCallback on dev UAR when --early_stopping_patience is given (and there is a dev split)."""
    if not has_dev or ser_args.early_stopping_patience is None:
        return []
    return [EarlyStoppingCallback(early_stopping_patience=ser_args.early_stopping_patience)]


def protocol_record(
    data_args: DataArguments,
    ser_args: SERArguments,
    has_dev: bool,
    trainer=None,
    achieved_fractions: dict | None = None,
) -> dict:
    """How the numbers were produced (the record's ``protocol``): split, model selection, metric definitions, and
    (`achieved_fractions`, per language) the test and dev shares the split achieved."""
    split = {
        "paper": "stratified 70/30 per emotion x language",
        "speaker": "speaker-independent",
        "kfold": f"stratified speaker-grouped {data_args.folds}-fold, fold {data_args.fold}",
        "emobox": f"EmoBox published fold {data_args.fold}",
    }.get(data_args.split, data_args.split)
    selection = "last epoch"
    if has_dev:
        selection = f"best dev UAR (dev_size {data_args.dev_size}"
        if ser_args.early_stopping_patience is not None:
            selection += f", early stopping patience {ser_args.early_stopping_patience}"
        selection += ")"
    out = {
        "split": split,
        "test_size": data_args.test_size if data_args.split in ("paper", "speaker") else None,
        "dev_size": data_args.dev_size,
        "model_selection": selection,
        "metrics": {
            "uar": "unweighted average recall over the classes present in the test labels",
            "f1": F1_DEFINITION,
            "wa": "plain accuracy",
        },
    }
    if achieved_fractions:
        out["achieved_fractions"] = achieved_fractions
    state = getattr(trainer, "state", None)
    if has_dev and state is not None and state.best_model_checkpoint:
        out["best_checkpoint"] = Path(state.best_model_checkpoint).name
        out["best_dev_uar"] = state.best_metric
    return out


BALANCING_VARIANTS = {  # name -> (corpus_weighting, balanced_sampling)
    "both": ("paper", True),
    "weights_only": ("paper", False),
    "sampler_only": ("none", True),
    "neither": ("none", False),
}


def grid_passes(
    ser_args: SERArguments, data_args: DataArguments, output_dir: str
) -> list[tuple[str | None, SERArguments, DataArguments, str]]:
    """(variant, ser args, data args, output dir) of every pass of a grid: ablation variants x k-fold folds."""
    if ser_args.ablation not in (None, "", "balancing"):
        raise RecipeError(f"ablation must be 'balancing' (or unset), not {ser_args.ablation!r}")
    variants: list[tuple[str | None, SERArguments, str]] = [(None, ser_args, output_dir)]
    if ser_args.ablation == "balancing":
        variants = [
            (
                name,
                dataclasses.replace(ser_args, corpus_weighting=cw, balanced_sampling=bs),
                str(Path(output_dir) / name),
            )
            for name, (cw, bs) in BALANCING_VARIANTS.items()
        ]
    return [
        (name, v_args, f_args, f_dir)
        for name, v_args, v_dir in variants
        for f_args, f_dir in fold_grid(data_args, v_dir)
    ]


def balancing_variant(ser_args: SERArguments) -> str | None:
    """The balancing-ablation variant a run belongs to (None outside a balancing ablation)."""
    if ser_args.ablation != "balancing":
        return None
    key = (normalize_corpus_weighting(ser_args.corpus_weighting), bool(ser_args.balanced_sampling))
    return next((name for name, v in BALANCING_VARIANTS.items() if v == key), None)


def fold_grid(data_args: DataArguments, output_dir: str) -> list[tuple[DataArguments, str]]:
    """(data args, output dir) per fold: with --split kfold --fold 0 one entry per fold in <output_dir>/fold<k>."""
    if data_args.split != "kfold" or data_args.fold != 0:
        return [(data_args, output_dir)]
    return [
        (dataclasses.replace(data_args, fold=k), str(Path(output_dir) / f"fold{k}"))
        for k in range(1, data_args.folds + 1)
    ]


def grid_balancing(job: PlannedRun, recipe: Recipe) -> dict:
    """One planned run's balancing summary (effective loss shares, expected draws), for data_report.json."""
    names = sorted(set(job.train["corpus"]))
    ids = np.searchsorted(np.asarray(names), np.asarray(job.train["corpus"]))
    return balancing(np.asarray(job.train["label"]), ids, names, recipe.ser, recipe.training)[2]


# ----------------------------------------------------------------------------- planning


@dataclass
class PlannedRun:
    """One run of a grid, ready to train: its data subsets, folder, configuration and identity."""

    index: int
    run: Run
    folder: Path
    train: datasets.Dataset
    dev: datasets.Dataset  # empty without --dev_size
    test: datasets.Dataset
    config: dict
    config_hash: str

    def state(self) -> str:
        """'finished', 'running elsewhere' (locked by another live process) or 'to do'."""
        return run_state(self.folder, self.config_hash)

    def estimated_cost(self, epochs: float) -> float:
        """Training audio-seconds processed: utterances x epochs x mean length (what a run's time scales with)."""
        if len(self.train) == 0:
            return 0.0
        return estimate_cost(len(self.train), epochs, float(np.mean(self.train["length"])) / SAMPLING_RATE)


@dataclass
class Grid:
    """A recipe's planned runs and the split they share."""

    recipe: Recipe
    runs: list[PlannedRun]
    notes: dict
    reports: dict
    train_size: int
    test_size: int
    dev_size: int = 0


def _rows(ds: datasets.Dataset) -> dict:
    """The columns a data fingerprint covers."""
    return {c: ds[c] for c in ("path", "label", "language", "corpus", "speaker", "length")}


def planned_runs(recipe: Recipe) -> tuple[list[Run], list[str]]:
    """The runs a recipe plans and every language they need; RecipeError when there is none."""
    languages = run_languages(recipe.ser)
    runs = plan_runs(recipe.ser.experiment, languages, recipe.ser.groups, recipe.ser.seeds)
    if not runs:
        raise RecipeError(f"recipe {recipe.name} with languages {languages} gives no run")
    return runs, sorted({l for r in runs for l in (*r.train_languages, *r.eval_languages)})


def plan_grid(recipe: Recipe, loaded: tuple[datasets.Dataset, dict] | None = None) -> Grid:
    """Split the data once (loading it unless `loaded` is given), then plan every run: its subsets, data
    fingerprint, config and hash."""
    runs, needed = planned_runs(recipe)
    ds, reports = loaded if loaded is not None else load_languages(needed, recipe.data)
    train_all, dev_all, test_all, notes = split_dataset_dev(ds, recipe.data)
    out = Path(recipe.training.output_dir)
    planned = []
    for i, run in enumerate(runs):
        train, dev = subset(train_all, run.train_languages), subset(dev_all, run.train_languages)
        test = subset(test_all, run.eval_languages)
        fingerprint = {"train": data_fingerprint(_rows(train)), "test": data_fingerprint(_rows(test))}
        if len(dev):
            fingerprint["dev"] = data_fingerprint(_rows(dev))
        config = run_config(run, recipe, fingerprint)
        planned.append(PlannedRun(i, run, out / run.dirname, train, dev, test, config, config_hash(config)))
    return Grid(recipe, planned, notes, reports, len(train_all), len(test_all), len(dev_all))


def select_runs(grid: Grid) -> list[PlannedRun]:
    """The runs --run_index / --run ask for (all of them when neither is given); RecipeError for no match."""
    sel = grid.recipe.grid
    if sel.run_index is not None:
        if not 0 <= sel.run_index < len(grid.runs):
            raise RecipeError(
                f"--run_index {sel.run_index} is out of range: recipe {grid.recipe.name} plans "
                f"{len(grid.runs)} runs (0..{len(grid.runs) - 1}); see --list_runs"
            )
        return [grid.runs[sel.run_index]]
    if sel.run is not None:
        match = [p for p in grid.runs if p.run.dirname == sel.run]
        if not match:
            raise RecipeError(f"--run {sel.run!r} is not a planned run of {grid.recipe.name}; see --list_runs")
        return match
    return grid.runs


def run_table(grid: Grid) -> list[dict]:
    """One row per planned run: index, run, train/eval languages, config hash, state, estimated cost."""
    epochs = float(grid.recipe.training.num_train_epochs)
    return [
        {
            "index": p.index,
            "run": p.run.dirname,
            "train_languages": list(p.run.train_languages),
            "eval_languages": list(p.run.eval_languages),
            "config_hash": p.config_hash,
            "state": p.state(),
            "train_size": len(p.train),
            "estimated_cost": round(p.estimated_cost(epochs), 1),
        }
        for p in grid.runs
    ]


def format_run_table(rows: list[dict]) -> str:
    """The --list_runs table for a terminal."""
    header = ("index", "run", "train", "eval", "config hash", "state", "cost (audio-s)")
    lines = [header] + [
        (
            str(r["index"]),
            r["run"],
            " ".join(r["train_languages"]),
            " ".join(r["eval_languages"]),
            r["config_hash"],
            r["state"],
            f"{r['estimated_cost']:.0f}",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in lines)


# ----------------------------------------------------------------------------- training


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest ``checkpoint-N`` in `folder` that was fully written; half-written ones (killed mid-save) are removed.

    The Trainer writes ``trainer_state.json`` last and deletes the previous checkpoint only after
    it, so a checkpoint whose state file is missing or unreadable was interrupted while saving.
    """
    if not folder.is_dir():
        return None
    last = get_last_checkpoint(str(folder))
    while last is not None:
        try:
            json.loads((Path(last) / "trainer_state.json").read_text())
            return last
        except (OSError, json.JSONDecodeError):
            logger.warning("%s was interrupted while being saved; removing it and resuming from the one before", last)
            shutil.rmtree(last, ignore_errors=True)
            last = get_last_checkpoint(str(folder))
    return None


def _layerdrop(model_args: ModelArguments, train_args: TrainingArguments) -> float | None:
    """The LayerDrop to build with: 0 under DDP (unused parameters break it), else the user's or the config's."""
    if train_args.world_size > 1 and (model_args.layerdrop or 0) > 0:
        logger.warning("LayerDrop leaves parameters unused, which DDP rejects: setting layerdrop=0")
        return 0.0
    if train_args.world_size > 1 and model_args.layerdrop is None:
        return 0.0
    return model_args.layerdrop


def _trainer(
    job: PlannedRun, recipe: Recipe, train: datasets.Dataset, corpus_names: list[str]
) -> tuple[SERTrainer, dict]:
    """The SERTrainer of one run (model, loss weights, corpus-balanced sampler, dev evaluation, checkpoints in the
    run folder) and the run's balancing summary."""
    model_args, ser = recipe.model, recipe.ser
    labels, corpus, lengths = (np.asarray(train[c]) for c in ("label", "corpus_id", "length"))
    class_weight, corpus_weight, balance = balancing(labels, corpus, corpus_names, ser, recipe.training)
    has_dev = len(job.dev) > 0
    set_seed(job.run.seed)
    model, extractor = build_model(
        model_args.model_name_or_path,
        model_args.classifier_proj_size,
        model_args.attn_implementation,
        _layerdrop(model_args, recipe.training),
        use_weighted_layer_sum=model_args.use_weighted_layer_sum,
        whisper_window_seconds=model_args.whisper_window_seconds,
    )
    freeze(model, model_args.freeze_feature_encoder, model_args.freeze_base_model)  # each family its own way
    args = dev_training_args(
        dataclasses.replace(
            recipe.training, output_dir=str(job.folder / "checkpoints"), seed=job.run.seed, run_name=job.run.dirname
        ),
        has_dev,
    )
    trainer = SERTrainer(
        model=model,
        args=args,
        train_dataset=train.with_transform(make_transform(TrainAugment() if ser.augment else None, extractor)),
        data_collator=SERCollator(extractor, ser.pad_to_multiple_of, train_buckets(ser, lengths)),
        compute_metrics=compute_metrics,
        processing_class=extractor,
        eval_dataset=job.dev.with_transform(make_transform(None, extractor)) if has_dev else None,
        callbacks=dev_callbacks(ser, has_dev),
        class_weight=class_weight,
        corpus_weight=corpus_weight,
        mean_sample_weight=balance["mean_drawn_weight"],
        contrastive_weight=ser.contrastive_weight,
        temperature=ser.temperature,
        contrastive_group_size=ser.contrastive_group_size,
        train_corpus_ids=corpus if ser.balanced_sampling else None,
        train_lengths=lengths,
        length_window=ser.length_window,
    )
    return trainer, balance


def _evaluate(trainer: SERTrainer, test: datasets.Dataset) -> tuple[dict, np.ndarray]:
    """Predict the test split in length order; returns (test metadata columns, logits) in that order."""
    test = test.select(length_sorted_order(np.asarray(test["length"])))  # far less padding
    meta = {k: test[k] for k in ("path", "language", "corpus", "speaker", "label")}
    pred = trainer.predict(test.with_transform(make_transform(None, trainer.processing_class)))
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    return meta, np.asarray(logits)


def _achieved(notes: dict, run: Run) -> dict:
    """The split's achieved test/dev shares (notes['achieved_fractions']) of the languages `run` uses."""
    achieved = notes.get("achieved_fractions", {})
    return {l: achieved[l] for l in sorted(set(run.train_languages) | set(run.eval_languages)) if l in achieved}


def _train_and_record(job: PlannedRun, recipe: Recipe, notes: dict) -> RunRecord | None:
    """Train, evaluate and save one run (caller holds its lock); returns its record, or None without data."""
    run = job.run
    missing = sorted(set(run.train_languages) - set(job.train["language"]))
    if len(job.train) == 0 or len(job.test) == 0:
        logger.warning("%s: no %s data; skipped", run.dirname, "training" if len(job.train) == 0 else "test")
        return None
    if missing:
        logger.warning("%s: no training data for %s; training on the rest", run.dirname, ", ".join(missing))
    train, corpus_names = with_corpus_ids(job.train)
    logger.info("%s: training on %d utterances (config %s)", run.dirname, len(train), job.config_hash)
    trainer, balance = _trainer(job, recipe, train, corpus_names)
    last = last_complete_checkpoint(job.folder / "checkpoints")
    if last:
        logger.info("%s: resuming from %s", run.dirname, last)
    t0 = time.time()
    with sdpa_backends(recipe.model.sdpa_backend) as kernels:
        logger.info("%s: attention %s, SDPA kernels %s", run.dirname, attention_kernel(trainer.model), kernels)
        train_result = trainer.train(resume_from_checkpoint=last)
        train_seconds = time.time() - t0
        meta, logits = _evaluate(trainer, job.test)
    y_true, y_pred = np.asarray(meta["label"]), logits.argmax(-1)
    languages = np.asarray(meta["language"])
    trainer.save_model(str(job.folder / "model"))
    write_predictions(job.folder / "predictions.csv", meta, logits)
    record = RunRecord(
        run=run.dirname,
        family=run.family,
        name=run.name,
        group=run.group,
        heldout_language=run.heldout_language,
        seed=run.seed,
        train_languages=list(run.train_languages),
        eval_languages=list(run.eval_languages),
        metrics=per_language_metrics(y_true, y_pred, meta["language"]),
        confusion=confusion(y_true, y_pred),
        confusion_by_language={
            l: confusion(y_true[languages == l], y_pred[languages == l])["matrix"]
            for l in run.eval_languages
            if l in set(meta["language"])
        },
        train_size=len(train),
        test_size=len(job.test),
        train_corpora=corpus_names,
        split_notes={l: notes.get(l) for l in sorted(set(run.train_languages) | set(run.eval_languages))},
        train_loss=float(train_result.training_loss),
        train_seconds=round(train_seconds, 1),
        config=job.config,
        config_hash=job.config_hash,
        versions=versions(),
        data_args=dataclasses.asdict(recipe.data),  # with the data location the hash leaves out
        protocol=protocol_record(recipe.data, recipe.ser, len(job.dev) > 0, trainer, _achieved(notes, run)),
        details={"balancing": balance, "variant": balancing_variant(recipe.ser)},
    )
    record.save(job.folder)
    if not recipe.ser.keep_checkpoints:
        shutil.rmtree(job.folder / "checkpoints", ignore_errors=True)
    return record


def train_run(job: PlannedRun, recipe: Recipe, notes: dict, wait: bool = False) -> RunRecord | None:
    """Train one planned run under its folder's lock, or reuse its finished record.

    Raises :class:`~hf_ser.train.runs.RunBusy` when another live process holds the run (unless `wait`);
    a full disk or read-only output folder becomes one StorageError naming the folder.
    """
    try:
        with RunLock(job.folder, wait=wait):
            done = finished_record(job.folder, job.config_hash)
            if done is not None:
                logger.info("%s: finished earlier (%s), skipped", job.run.dirname, display_path(job.folder))
                return done
            if (job.folder / "metrics.json").exists():
                logger.warning(
                    "%s: metrics.json is from a different configuration or data; training again", job.run.dirname
                )
            return _train_and_record(job, recipe, notes)
    except OSError as e:
        friendly = storage_error(e, job.folder)
        if friendly is None:
            raise
        raise friendly from None


def run_grid(grid: Grid) -> list[RunRecord]:
    """Train the selected runs one after another; a run locked by another process is skipped, then waited for
    at the end (its record is reused if the other process finished it, or it is trained here)."""
    recipe, jobs, deferred, records = grid.recipe, select_runs(grid), [], []
    for n, job in enumerate(jobs, 1):
        logger.info(
            "[%d/%d] %s: train %s -> eval %s",
            n,
            len(jobs),
            job.run.dirname,
            " ".join(job.run.train_languages),
            " ".join(job.run.eval_languages),
        )
        try:
            record = train_run(job, recipe, grid.notes)
        except RunBusy:
            logger.info("%s: being trained by another process; coming back to it at the end", job.run.dirname)
            deferred.append(job)
            continue
        if record is not None:
            records.append(record)
            _push(job, recipe, len(grid.runs))
    for job in deferred:
        logger.info("%s: waiting for the other process that holds it", job.run.dirname)
        record = train_run(job, recipe, grid.notes, wait=True)
        if record is not None:
            records.append(record)
            _push(job, recipe, len(grid.runs))
    return records


def _push(job: PlannedRun, recipe: Recipe, n_runs: int) -> None:
    """Push a finished run with its card when --push_to_hub was given (errors are logged; the run folder is whole)."""
    ta = recipe.training
    if not recipe.push_to_hub or ta.process_index != 0:
        return
    try:
        push_run(
            job.folder,
            hub_repo_for_run(ta.hub_model_id or job.run.dirname, job.run.dirname, n_runs),
            private=bool(ta.hub_private_repo),
            revision=ta.hub_revision,
            token=recipe.hub_token,
        )
    except HubError as e:
        logger.error(
            "%s: not pushed (%s); the run folder is complete, push it later with `hf-ser hub push %s --repo_id ...`",
            job.run.dirname,
            e,
            display_path(job.folder),
        )


def launch_grid(grid: Grid, argv: list[str]) -> int:
    """Submit every unfinished run as its own job (``--launcher local|slurm``), longest first; the data is
    already prepared, so jobs only read the shared cache. Returns 1 when a local job failed."""
    recipe = grid.recipe
    epochs = float(recipe.training.num_train_epochs)
    todo = [(p.index, p.run.dirname, p.estimated_cost(epochs)) for p in select_runs(grid) if p.state() != "finished"]
    out = Path(recipe.training.output_dir)
    jobs = recipe_jobs(argv, todo, recipe.launch.gpus_per_run)
    result = submit(
        jobs,
        recipe.launch,
        recipe.launch.launch_dir or out / "launch",
        follow=list_runs_command(argv),
        report_dir=out,
        shared=[out, recipe.data.cache_dir or default_cache_dir()],
    )
    if result.job_ids:
        print(f"submitted {len(result.job_ids)} job(s): {', '.join(map(str, result.job_ids))}")
    return EXIT_FAILED if result.failed else EXIT_OK


def format_summary(records: list[RunRecord]) -> str:
    """One line per run: per-language UAR / F1 in percent."""
    lines = []
    for r in records:
        cells = "  ".join(f"{l} {m['uar'] * 100:.1f}/{m['f1'] * 100:.1f}" for l, m in r.metrics.items() if l != "all")
        a = r.metrics["all"]
        lines.append(f"{r.run:38s} all {a['uar'] * 100:.1f}/{a['f1'] * 100:.1f}   {cells}")
    return "\n".join(lines)


@command
def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code (0 done, 1 no run produced a result, 2 a user mistake).

    Under torchrun the process group the Trainer opened is closed before returning: left open, gloo's threads
    abort the process at interpreter exit ("terminate called without an active exception", exit -6).
    """
    try:
        return _main(argv)
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _main(argv: list[str] | None) -> int:
    """The body of :func:`main`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if not argv or argv[0] in ("-h", "--help"):
        print(recipes_help())
        return EXIT_OK if argv else 2
    if "--help_all" in argv[1:]:
        RecipeParser(PARSER_TYPES, prog=f"hf-ser recipe {argv[0]}").print_help()
        return EXIT_OK
    if "-h" in argv[1:] or "--help" in argv[1:]:
        print(recipe_help(argv[0]))
        return EXIT_OK
    if argv[0] == "upstream":  # the frozen-upstream benchmark has its own options (hf_ser.experiments.upstream)
        return upstream_main(argv[1:])
    recipe = parse_recipe(argv)
    if recipe.demo_overrides:
        logger.info("--demo overrides: %s", ", ".join(f"{k}={v}" for k, v in recipe.demo_overrides.items()))
    if recipe.ser.experiment == "few_shot":
        return run_few_shot(recipe.model, recipe.data, recipe.ser, recipe.few_shot, recipe.training)
    _, needed = planned_runs(recipe)
    loaded = load_languages(needed, recipe.data)  # prepared once, before any pass or job fans out
    records, listing = [], []
    for variant, ser, data, out_dir in grid_passes(recipe.ser, recipe.data, recipe.training.output_dir):
        pass_recipe = dataclasses.replace(
            recipe, ser=ser, data=data, training=dataclasses.replace(recipe.training, output_dir=out_dir)
        )
        grid = plan_grid(pass_recipe, loaded)
        if recipe.grid.list_runs:
            listing += [{**row, "pass": variant or Path(out_dir).name} for row in run_table(grid)]
            continue
        _write_data_report(grid)
        if recipe.launch.launcher != "none":
            if launch_grid(grid, argv) != EXIT_OK:
                return EXIT_FAILED
            continue
        records += run_grid(grid)
    if recipe.grid.list_runs:
        print(json.dumps(listing, indent=2) if recipe.grid.format == "json" else format_run_table(listing))
        return EXIT_OK
    if recipe.launch.launcher != "none":
        return EXIT_OK
    out = display_path(recipe.training.output_dir)
    print("\n" + format_summary(records))
    print(f"\nresults in {out}/<run>/metrics.json; tables: hf-ser report {out}")
    return EXIT_OK if records else EXIT_FAILED


def _write_data_report(grid: Grid) -> None:
    """``<output_dir>/data_report.json``: preparation reports, split notes and sizes, each run's balancing."""
    out = Path(grid.recipe.training.output_dir)
    balance = {p.run.dirname: grid_balancing(p, grid.recipe) for p in grid.runs if len(p.train)}
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            out / "data_report.json",
            {
                "preparation": grid.reports,
                "split": grid.notes,
                "train": grid.train_size,
                "dev": grid.dev_size,
                "test": grid.test_size,
                "balancing": balance,
            },
        )
    except OSError as e:
        raise (storage_error(e, out) or e) from None
    logger.info(
        "%s: %d run(s), %d train / %d dev / %d test utterances",
        grid.recipe.name,
        len(grid.runs),
        grid.train_size,
        grid.dev_size,
        grid.test_size,
    )


if __name__ == "__main__":
    sys.exit(main())
