"""Training one planned run: its SERTrainer, resuming from the last whole checkpoint, predicting the test split,
and saving the model, predictions and record under the run folder's lock (a finished record is reused)."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import datasets
import numpy as np
import torch
import transformers
from transformers import AutoModelForAudioClassification, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from hf_ser import __version__
from hf_ser.data.audio import TrainAugment
from hf_ser.data.dataset import with_corpus_ids
from hf_ser.experiments.families import Run
from hf_ser.experiments.recipe.arguments import ModelArguments, SERArguments
from hf_ser.experiments.recipe.balancing import balancing
from hf_ser.experiments.recipe.parse import Recipe
from hf_ser.experiments.recipe.passes import balancing_variant
from hf_ser.experiments.recipe.plan import PlannedRun
from hf_ser.experiments.recipe.protocol import dev_callbacks, dev_training_args, protocol_record
from hf_ser.experiments.recipe.transfer import source_candidates
from hf_ser.metrics import compute_metrics, confusion, per_language_metrics
from hf_ser.safe_io import display_path, storage_error
from hf_ser.train.modeling import attention_kernel, build_model, freeze, sdpa_backends
from hf_ser.train.runs import RunLock, RunRecord, finished_record, write_predictions
from hf_ser.train.sampling import length_buckets, length_sorted_order
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform

logger = logging.getLogger("hf_ser")


def versions() -> dict:
    """Library versions recorded in metrics.json."""
    return {
        "hf_ser": __version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
    }


def train_buckets(ser_args: SERArguments, train_lengths: np.ndarray) -> list[int]:
    """Padded lengths of the run's batches (``--length_buckets`` geometric buckets up to its longest training
    utterance; [] = pad each batch to its longest)."""
    longest = int(np.max(train_lengths, initial=1))
    return length_buckets(ser_args.length_buckets, longest) if ser_args.length_buckets else []


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
    names = train.features["label"].names  # the run's label set (hf_ser.data.label_set)
    class_weight, corpus_weight, balance = balancing(labels, corpus, corpus_names, ser, recipe.training, len(names))
    has_dev = len(job.dev) > 0
    set_seed(job.run.seed)
    model, extractor = build_model(
        model_args.model_name_or_path,
        model_args.classifier_proj_size,
        model_args.attn_implementation,
        _layerdrop(model_args, recipe.training),
        use_weighted_layer_sum=model_args.use_weighted_layer_sum,
        whisper_window_seconds=model_args.whisper_window_seconds,
        labels=names,
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


def _label_details(job: PlannedRun) -> dict:
    """The record's label-set details: none for the paper's six (its records stay as they were), else the run's
    classes and its label report (rows merged into each class and dropped, per corpus and split)."""
    return {"label_set": job.labels} if job.labels else {}


def _achieved(notes: dict, run: Run) -> dict:
    """The split's achieved test/dev shares (notes['achieved_fractions']) of the languages `run` uses."""
    achieved = notes.get("achieved_fractions", {})
    return {l: achieved[l] for l in sorted(set(run.train_languages) | set(run.eval_languages)) if l in achieved}


def _train_and_record(job: PlannedRun, recipe: Recipe, notes: dict) -> RunRecord | None:
    """Train, evaluate and save one run (caller holds its lock); returns its record, or None without data.
    A transfer run whose source model a finished single-language run already holds is only evaluated."""
    run = job.run
    missing = sorted(set(run.train_languages) - set(job.train["language"]))
    if len(job.train) == 0 or len(job.test) == 0:
        logger.warning("%s: no %s data; skipped", run.dirname, "training" if len(job.train) == 0 else "test")
        return None
    if missing:
        logger.warning("%s: no training data for %s; training on the rest", run.dirname, ", ".join(missing))
    train, corpus_names = with_corpus_ids(job.train)
    trainer, balance = _trainer(job, recipe, train, corpus_names)
    source = source_candidates(job, recipe)
    if source is not None:
        logger.info("%s: reusing the source model of %s (same config); evaluating only", run.dirname, source)
        trained = AutoModelForAudioClassification.from_pretrained(str(source / "model"))
        trainer.model.load_state_dict(trained.state_dict())
        meta, logits = _evaluate(trainer, job.test)
        before = RunRecord.load(source)
        extra = {"reused_from": display_path(source), "source_config_hash": before.config_hash}
        return _save_record(job, recipe, notes, trainer, (meta, logits), (train, corpus_names, balance), extra)
    logger.info("%s: training on %d utterances (config %s)", run.dirname, len(train), job.config_hash)
    last = last_complete_checkpoint(job.folder / "checkpoints")
    if last:
        logger.info("%s: resuming from %s", run.dirname, last)
    t0 = time.time()
    with sdpa_backends(recipe.model.sdpa_backend) as kernels:
        logger.info("%s: attention %s, SDPA kernels %s", run.dirname, attention_kernel(trainer.model), kernels)
        train_result = trainer.train(resume_from_checkpoint=last)
        train_seconds = time.time() - t0
        meta, logits = _evaluate(trainer, job.test)
    trainer.save_model(str(job.folder / "model"))
    extra = {"train_loss": float(train_result.training_loss), "train_seconds": round(train_seconds, 1)}
    return _save_record(job, recipe, notes, trainer, (meta, logits), (train, corpus_names, balance), extra)


def _save_record(
    job: PlannedRun, recipe: Recipe, notes: dict, trainer: SERTrainer, predicted: tuple, trained: tuple, extra: dict
) -> RunRecord:
    """Write predictions.csv and metrics.json of an evaluated run; `predicted` is (test metadata, logits),
    `trained` (train rows, corpus names, balancing), `extra` the training's loss/seconds or where a reused source
    model came from."""
    run, (meta, logits), (train, corpus_names, balance) = job.run, predicted, trained
    y_true, y_pred = np.asarray(meta["label"]), logits.argmax(-1)
    names = job.train.features["label"].names
    languages = np.asarray(meta["language"])
    write_predictions(job.folder / "predictions.csv", meta, logits, names)
    details = {"balancing": balance, "variant": balancing_variant(recipe.ser), **_label_details(job)}
    details.update({k: v for k, v in extra.items() if k not in ("train_loss", "train_seconds")})
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
        confusion=confusion(y_true, y_pred, names),
        confusion_by_language={
            l: confusion(y_true[languages == l], y_pred[languages == l], names)["matrix"]
            for l in run.eval_languages
            if l in set(meta["language"])
        },
        train_size=len(train),
        test_size=len(job.test),
        train_corpora=corpus_names,
        split_notes={l: notes.get(l) for l in sorted(set(run.train_languages) | set(run.eval_languages))},
        train_loss=extra.get("train_loss"),
        train_seconds=extra.get("train_seconds"),
        config=job.config,
        config_hash=job.config_hash,
        versions=versions(),
        data_args=dataclasses.asdict(recipe.data),  # with the data location the hash leaves out
        protocol=protocol_record(recipe.data, recipe.ser, len(job.dev) > 0, trainer, _achieved(notes, run)),
        details=details,
    )
    record.save(job.folder)
    if not recipe.ser.keep_checkpoints:
        shutil.rmtree(job.folder / "checkpoints", ignore_errors=True)
    return record


def train_run(job: PlannedRun, recipe: Recipe, notes: dict, wait: bool = False) -> RunRecord | None:
    """Train one planned run under its folder's lock, or reuse its finished record.

    Raises :class:`~hf_ser.train.runs.RunBusy` when another live process holds the run (unless `wait`);
    a full disk or read-only output folder becomes one StorageError naming the folder. A run without training or
    test rows is skipped before its folder is made, so it leaves no empty run folder behind.
    """
    if len(job.train) == 0 or len(job.test) == 0:
        logger.warning("%s: no %s data; skipped", job.run.dirname, "training" if len(job.train) == 0 else "test")
        return None
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
