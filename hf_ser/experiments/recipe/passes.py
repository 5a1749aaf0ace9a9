"""A grid's passes: the balancing ablation's variants (corpus weights x balanced batches) times the k-fold or
leave-one-session-out folds (or, for EmoBox's benchmark, every corpus's published folds), each into its own output
folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hf_ser.data.dataset import DataArguments
from hf_ser.experiments.recipe.arguments import RecipeError, SERArguments, normalize_corpus_weighting
from hf_ser.experiments.recipe.benchmark import benchmark_passes, is_benchmark

BALANCING_VARIANTS = {  # name -> (corpus_weighting, balanced_sampling)
    "both": ("paper", True),
    "weights_only": ("paper", False),
    "sampler_only": ("none", True),
    "neither": ("none", False),
}


def grid_passes(
    ser_args: SERArguments, data_args: DataArguments, output_dir: str, languages: dict[str, list[str]] | None = None
) -> list[tuple[str | None, SERArguments, DataArguments, str]]:
    """(variant, ser args, data args, output dir) of every pass of a grid: ablation variants x folds. For EmoBox's
    benchmark (``--split emobox --fold 0``) the folds are every corpus's, each on the corpus alone, with
    `languages` (corpus -> its languages, from the loaded data) naming what each pass evaluates."""
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
    if is_benchmark(data_args):
        return [
            (name, b_ser, b_data, b_dir)
            for name, v_args, v_dir in variants
            for b_ser, b_data, b_dir in benchmark_passes(v_args, data_args, v_dir, languages or {})
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
    """(data args, output dir) per fold: with --split kfold (or session) --fold 0 one entry per fold in
    <output_dir>/fold<k>."""
    if data_args.split not in ("kfold", "session") or data_args.fold != 0:
        return [(data_args, output_dir)]
    return [
        (dataclasses.replace(data_args, fold=k), str(Path(output_dir) / f"fold{k}"))
        for k in range(1, data_args.folds + 1)
    ]
