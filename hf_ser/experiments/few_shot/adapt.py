"""Model work of the few-shot study: the base model evaluated as is (k = 0) and fine-tuned on a k-shot set."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import datasets
import numpy as np
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification, Trainer, set_seed

from hf_ser.data.audio import TrainAugment
from hf_ser.data.dataset import with_corpus_ids
from hf_ser.experiments.few_shot.draws import adaptation_args
from hf_ser.experiments.few_shot.inputs import Study
from hf_ser.metrics import confusion, per_language_metrics
from hf_ser.train.losses import class_weights, corpus_weights
from hf_ser.train.modeling import freeze
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform


def _load(model_dir: Path) -> tuple[object, object]:
    """The base model (stock audio-classification class of its config) and its feature extractor."""
    return AutoModelForAudioClassification.from_pretrained(model_dir), AutoFeatureExtractor.from_pretrained(model_dir)


def _predict(trainer: Trainer, test: datasets.Dataset) -> np.ndarray:
    """Logits of the test split, in its order (prepared by the model's own feature extractor)."""
    pred = trainer.predict(test.with_transform(make_transform(None, trainer.processing_class)))
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    return np.asarray(logits)


def _result(test_meta: dict, logits: np.ndarray, language: str, classes: list[str]) -> dict:
    """Per-language metrics, the language's UAR/F1 and the confusion matrix (over `classes`) of one evaluation."""
    y_true, y_pred = np.asarray(test_meta["label"]), logits.argmax(-1)
    metrics = per_language_metrics(y_true, y_pred, test_meta["language"])
    return {
        "metrics": metrics,
        "uar": metrics[language]["uar"],
        "f1": metrics[language]["f1"],
        "confusion": confusion(y_true, y_pred, classes),
    }


def zero_shot(study: Study) -> dict:
    """The base model evaluated as is on the language's test split (k = 0)."""
    model, extractor = _load(study.model_dir)
    args = dataclasses.replace(study.train_args, output_dir=str(study.out / "checkpoints" / "zero_shot"), report_to=[])
    trainer = Trainer(model=model, args=args, data_collator=SERCollator(extractor), processing_class=extractor)
    return _result(study.test_meta, _predict(trainer, study.test), study.language, study.classes)


def adapt(study: Study, train: datasets.Dataset, seed: int, out: Path) -> tuple[dict, np.ndarray]:
    """Fine-tune the base model on `train` (the k-shot set) with the paper's loss; (metrics, test logits)."""
    ser_args = study.ser_args
    set_seed(seed)
    model, extractor = _load(study.model_dir)
    freeze(model, study.model_args.freeze_feature_encoder, False)
    train, corpus_names = with_corpus_ids(train)
    labels, corpus = np.asarray(train["label"]), np.asarray(train["corpus_id"])
    args = adaptation_args(study.train_args, len(train), out / "checkpoints", seed)
    trainer = SERTrainer(
        model=model,
        args=args,
        train_dataset=train.with_transform(make_transform(TrainAugment() if ser_args.augment else None, extractor)),
        data_collator=SERCollator(extractor, ser_args.pad_to_multiple_of),
        processing_class=extractor,
        class_weight=class_weights(labels, len(study.classes)) if ser_args.class_weighting else None,
        # no balanced sampler here (one language), so the weights are the ones for unbalanced batches
        corpus_weight=corpus_weights(
            corpus, len(corpus_names), ser_args.corpus_weighting, balanced=False, labels=labels
        ),
        contrastive_weight=ser_args.contrastive_weight,
        temperature=ser_args.temperature,
        train_corpus_ids=None,  # one language: no corpus-balanced sampler
    )
    train_result = trainer.train()
    logits = _predict(trainer, study.test)
    result = _result(study.test_meta, logits, study.language, study.classes)
    result.update(
        steps=int(args.max_steps),
        batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        train_loss=float(train_result.training_loss),
        learning_rate=args.learning_rate,
    )
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return result, logits
