"""How a run's model is selected and how its numbers were produced: training arguments and early stopping with a
dev split, and the record's ``protocol`` (split, model selection, metric definitions, achieved fractions)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from transformers import EarlyStoppingCallback, TrainingArguments

from hf_ser.data.dataset import DataArguments
from hf_ser.experiments.recipe.arguments import SERArguments
from hf_ser.metrics import F1_DEFINITION


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
        "session": f"leave-one-session-out, fold {data_args.fold} of {data_args.folds}",
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
