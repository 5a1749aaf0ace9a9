"""A grid's passes: the balancing ablation's variants (corpus weights x balanced batches) times the k-fold folds,
each into its own output folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hf_ser.data.dataset import DataArguments
from hf_ser.experiments.recipe.arguments import RecipeError, SERArguments, normalize_corpus_weighting

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
