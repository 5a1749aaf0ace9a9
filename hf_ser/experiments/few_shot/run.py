"""Run the few-shot study: one adaptation per (k, seed), each recorded as a run, then the curve and its table.

``hf-ser recipe few_shot --base RUN_DIR --language SPA --shots 1 5 10 20`` starts from the base run's
model (a cross-group model, or any run whose train_languages lack the language), fine-tunes it on k utterances
per emotion drawn from that language's train split (seeded, nested: the 5-shot set contains the 1-shot set; one
draw per seed, ``--seeds`` seeds), and evaluates on the language's test split, which is the same split every
other run of the grid used (``data.split_dataset`` with the base run's data config). Beside the curve: the
zero-shot point (k=0, the base model as is) and the in-language upper bound of Table 2 (the single_language run
of the language, else a multilingual run that trained on it, found in the base run's parent folder).

Writes ``<base parent>/few_shot-<LANG>/``: ``few_shot.{json,csv,md,png}`` and, per (k, seed),
``k<k>-seed<s>/{metrics.json,predictions.csv}`` (family ``few_shot``; a rerun reuses finished ones).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil

import datasets
import numpy as np
from transformers import TrainingArguments

from hf_ser.data.dataset import DataArguments
from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.errors import EXIT_OK
from hf_ser.experiments.few_shot.adapt import adapt, zero_shot
from hf_ser.experiments.few_shot.draws import MIN_STEPS, shot_indices
from hf_ser.experiments.few_shot.inputs import LOCATION_FIELDS, FewShotArguments, Study, open_study
from hf_ser.experiments.few_shot.outputs import summarise, to_markdown, write_outputs
from hf_ser.experiments.few_shot.upper_bound import upper_bound
from hf_ser.labels import EMOTIONS
from hf_ser.safe_io import display_path
from hf_ser.train.runs import RunLock, RunRecord, config_hash, finished_record, write_predictions

logger = logging.getLogger("hf_ser.experiments.few_shot")


def _common_config(study: Study) -> dict:
    """What every adaptation of the study shares in its identity (the k-shot set and seed are added per run)."""
    ser, ta = study.ser_args, study.train_args
    return {
        "base": display_path(study.base_dir),
        "base_config_hash": study.base.config_hash,
        "language": study.language,
        "data": {k: v for k, v in dataclasses.asdict(study.data).items() if k not in LOCATION_FIELDS},
        "ser": {
            k: getattr(ser, k)
            for k in ("contrastive_weight", "temperature", "class_weighting", "corpus_weighting", "augment")
        },
        "training": {
            k: getattr(ta, k)
            for k in (
                "learning_rate",
                "weight_decay",
                "per_device_train_batch_size",
                "gradient_accumulation_steps",
                "num_train_epochs",
                "warmup_steps",
                "lr_scheduler_type",
                "optim",
            )
        },
        "freeze_feature_encoder": study.model_args.freeze_feature_encoder,
        "min_steps": MIN_STEPS,
        "test_fingerprint": data_fingerprint(_rows(study.test)),
    }


def _rows(ds: datasets.Dataset) -> dict:
    """The columns a data fingerprint covers."""
    return {c: ds[c] for c in ("path", "label", "language", "corpus", "speaker", "length")}


def adapt_run(study: Study, k: int, seed: int, train_k: datasets.Dataset, common: dict) -> RunRecord:
    """One (k, seed) adaptation under its folder's lock, or its finished record when the identity matches."""
    run_name = f"k{k}-seed{seed}"
    folder = study.out / run_name
    config = {**common, "shots": k, "seed": seed, "train_fingerprint": data_fingerprint(_rows(train_k))}
    chash = config_hash(config)
    with RunLock(folder, wait=True):
        done = finished_record(folder, chash)
        if done is not None:
            logger.info("%s: finished earlier, reused", run_name)
            return done
        logger.info("%s: fine-tuning on %d %s utterances", run_name, len(train_k), study.language)
        r, logits = adapt(study, train_k, seed, folder)
        record = RunRecord(
            run=run_name,
            family="few_shot",
            name=f"few_shot-{study.language}-k{k}",
            train_languages=[*study.base.train_languages, study.language],
            eval_languages=[study.language],
            group=study.base.group,
            heldout_language=study.language,
            seed=seed,
            metrics=r["metrics"],
            confusion=r["confusion"],
            train_size=len(train_k),
            test_size=len(study.test),
            train_loss=r["train_loss"],
            config=config,
            config_hash=chash,
            details={
                "shots": k,
                "n_train": len(train_k),
                "train_paths": train_k["path"],
                "base_run": study.base_dir.name,
                "uar": r["uar"],
                "f1": r["f1"],
                "steps": r["steps"],
                "batch_size": r["batch_size"],
                "gradient_accumulation_steps": r["gradient_accumulation_steps"],
                "learning_rate": r["learning_rate"],
            },
        )
        write_predictions(folder / "predictions.csv", study.test_meta, logits, study.classes)
        record.save(folder)
        return record


def _row(record: RunRecord) -> dict:
    """One point of the curve from an adaptation's record."""
    d = record.details
    return {
        "k": d["shots"],
        "seed": record.seed,
        "uar": d["uar"],
        "f1": d["f1"],
        "n_train": d["n_train"],
        "steps": d.get("steps"),
        "run": record.run,
    }


def few_shot(
    model_args, data_args: DataArguments, ser_args, few: FewShotArguments, train_args: TrainingArguments
) -> dict:
    """Run the whole few-shot study and write its outputs; returns the few_shot.json payload."""
    study = open_study(model_args, data_args, ser_args, few, train_args)
    language, base_dir = study.language, study.base_dir
    logger.info(
        "few-shot %s from %s: %d train / %d test utterances; shots %s; seeds 0..%d",
        language,
        base_dir.name,
        len(study.train),
        len(study.test),
        study.shots,
        ser_args.seeds - 1,
    )
    zero = zero_shot(study)
    logger.info("zero-shot %s UAR %.1f / F1 %.1f", language, 100 * zero["uar"], 100 * zero["f1"])
    common = _common_config(study)
    train_labels = np.asarray(study.train["label"])
    results = []
    for seed in range(ser_args.seeds):
        picks = shot_indices(train_labels, study.shots, seed, language, len(study.classes))
        for k in study.shots:
            results.append(_row(adapt_run(study, k, seed, study.train.select(picks[k]), common)))
    ub, candidates = upper_bound(base_dir.parent, language)
    where = display_path(base_dir.parent)
    note = (
        f"Upper bound: {ub['name']} ({ub['family']}, trained on {', '.join(ub['train_languages'])}) from {where}."
        if ub is not None
        else f"Upper bound not found: no single_language or multilingual run that trained on {language} under "
        f"{where}; train one with `hf-ser recipe single_language --languages {language} "
        f"--output_dir {where}` (same data options) and rerun."
    )
    payload = {
        "figure": "Few-shot adaptation curve",
        "language": language,
        "base_run": base_dir.name,
        "base_dir": display_path(base_dir),
        "base_family": study.base.family,
        "base_train_languages": study.base.train_languages,
        "shots": study.shots,
        "seeds": list(range(ser_args.seeds)),
        "n_test": len(study.test),
        "n_train_available": len(study.train),
        **({} if study.classes == list(EMOTIONS) else {"classes": study.classes}),
        "zero_shot": {"uar": zero["uar"], "f1": zero["f1"], "confusion": zero["confusion"]},
        "results": results,
        "summary": summarise(results, zero),
        "upper_bound": ub,
        "upper_bound_candidates": candidates,
        "upper_bound_note": note,
        "settings": {**common, "max_steps_rule": f"max({MIN_STEPS}, ceil(num_train_epochs * steps per epoch))"},
    }
    write_outputs(study, payload)
    shutil.rmtree(study.out / "checkpoints", ignore_errors=True)
    print("\n" + to_markdown(payload))
    print(f"written: {display_path(study.out)}/few_shot.{{json,csv,md,png}}")
    return payload


def run_few_shot(
    model_args, data_args: DataArguments, ser_args, few: FewShotArguments, train_args: TrainingArguments
) -> int:
    """Recipe entry point (experiment == 'few_shot'); returns the exit code (a FewShotError reaches run_command)."""
    few_shot(model_args, data_args, ser_args, few, train_args)
    return EXIT_OK
