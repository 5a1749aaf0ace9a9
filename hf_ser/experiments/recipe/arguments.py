"""The recipe's own keys: the argument dataclasses HfArgumentParser fills (model, SER, grid; the data, few-shot and
launcher ones come from their modules), the parser, and the checks a recipe's values must pass."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from transformers import HfArgumentParser, TrainingArguments

from hf_ser.console import OneLineErrors, PlainHelp
from hf_ser.data.dataset import DataArguments
from hf_ser.errors import UserError
from hf_ser.experiments.families import EXPERIMENTS
from hf_ser.experiments.few_shot.inputs import FewShotArguments
from hf_ser.experiments.launch.arguments import LaunchArguments
from hf_ser.train.losses import CORPUS_WEIGHTING
from hf_ser.train.modeling import DEFAULT_BACKBONE, SDPA_BACKEND_HELP
from hf_ser.train.sampling import DEFAULT_LENGTH_BUCKETS, DEFAULT_LENGTH_WINDOW
from hf_ser.train.trainer import DEFAULT_CONTRASTIVE_GROUP


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
    unit: str = field(
        default="language",
        metadata={"help": "transfer: source unit, 'language' (one model per language) or 'corpus' (one per corpus)."},
    )
    source_runs: list[str] | None = field(
        default=None,
        metadata={
            "help": "transfer: grids whose finished single-XXX runs (same config) are evaluated instead of retrained "
            "(the output dir is always searched)."
        },
    )
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
    if data_args.split not in ("paper", "speaker", "kfold", "emobox", "session"):
        raise RecipeError(f"split must be paper, speaker, kfold, emobox or session, not {data_args.split!r}")
    if not 0.0 <= data_args.dev_size < 1.0:
        raise RecipeError(f"dev_size must be in [0, 1), not {data_args.dev_size}")
    if ser_args.early_stopping_patience is not None and data_args.dev_size <= 0:
        raise RecipeError("early_stopping_patience needs a dev split: give --dev_size (e.g. 0.1)")
    if data_args.split in ("kfold", "session") and not 0 <= data_args.fold <= data_args.folds:
        raise RecipeError(f"fold must be 1..folds ({data_args.folds}), or 0 for all folds; got {data_args.fold}")
    if data_args.split == "emobox" and (not data_args.emobox_dir or data_args.fold < 0):
        raise RecipeError(
            "split emobox needs --emobox_dir (a clone of github.com/emo-box/EmoBox) and --fold >= 1 "
            "(or 0: every corpus's folds)"
        )


def check_transfer_args(ser_args: SERArguments) -> None:
    """RecipeError for a source unit other than language or corpus."""
    if ser_args.unit not in ("language", "corpus"):
        raise RecipeError(f"--unit must be 'language' or 'corpus', not {ser_args.unit!r}")


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
