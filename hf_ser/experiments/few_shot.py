"""Few-shot adaptation to a language the model never saw (the paper's Conclusion), with its curve.

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

import csv
import dataclasses
import io
import logging
import math
import shutil
import statistics
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification, Trainer, TrainingArguments, set_seed

from hf_ser.data.audio import TrainAugment
from hf_ser.data.dataset import DataArguments, DataMissing, load_languages, split_dataset, subset, with_corpus_ids
from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.errors import EXIT_OK, UserError
from hf_ser.figures import new_figure, save_figure
from hf_ser.labels import CORPORA, EMOTIONS, LANGUAGES, check_languages
from hf_ser.metrics import confusion, per_language_metrics
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path
from hf_ser.train.losses import class_weights, corpus_weights
from hf_ser.train.modeling import freeze
from hf_ser.train.runs import (
    RunLock,
    RunRecord,
    RunRecordError,
    config_hash,
    finished_record,
    load_records,
    write_predictions,
)
from hf_ser.train.sampling import length_sorted_order
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform

logger = logging.getLogger("hf_ser.experiments.few_shot")

MIN_STEPS = 30  # optimizer steps guaranteed to every adaptation, however small k is
SPLIT_FIELDS = ("split", "test_size", "split_seed", "max_seconds", "demo", "synthetic_per_cell", "lineage_shift")
LOCATION_FIELDS = ("data_root", "cache_dir", "num_proc")


@dataclass
class FewShotArguments:
    """The few_shot recipe's own options (its own dataclass: none of them is part of another run's identity)."""

    base: str | None = field(default=None, metadata={"help": "few_shot: the run folder of the model to adapt."})
    language: str | None = field(default=None, metadata={"help": "few_shot: the held-out language to adapt to."})
    shots: list[int] = field(
        default_factory=lambda: [1, 5, 10, 20], metadata={"help": "few_shot: utterances per emotion."}
    )


class FewShotError(UserError):
    """A user mistake (unknown base run, language already seen, no data); printed without a traceback."""


# ----------------------------------------------------------------------------- inputs


def load_base(base: str | Path) -> tuple[Path, RunRecord]:
    """The base run's folder and record; FewShotError when it is not a finished run with a model."""
    folder = Path(base)
    try:
        record = RunRecord.load(folder)
    except RunRecordError as e:
        raise FewShotError(
            f"--base {display_path(folder)}: {e}; give the folder of a finished run "
            f"(e.g. runs/cross_group/xgroup-neo_latin-minus-SPA-seed0)"
        ) from None
    if not (folder / "model" / "config.json").is_file():
        raise FewShotError(
            f"--base {display_path(folder)}: no trained model in {display_path(folder / 'model')}; "
            "the run did not finish"
        )
    return folder, record


def check_unseen(base_dir: Path, base: RunRecord, language: str) -> None:
    """The few-shot language must be absent from the base run's training languages."""
    trained = base.train_languages
    if language in trained:
        raise FewShotError(
            f"--base {display_path(base_dir)} was trained on {language} (train_languages: {', '.join(trained)}); "
            "few-shot "
            f"adaptation needs a model that never saw it: use a cross-group run that held {language} out, e.g. "
            f"xgroup-{LANGUAGES[language].group}-minus-{language}-seed0 from `hf-ser recipe cross_group`"
        )


def base_data_args(base: RunRecord, cli: DataArguments, language: str) -> DataArguments:
    """The base run's data config (so the test split is the grid's), with the data location taken from the CLI."""
    saved = base.data_args or base.config.get("data")
    if not saved:
        raise FewShotError(
            f"the base run {base.run}'s metrics.json has no data arguments; retrain it with this version"
        )
    known = {f.name for f in dataclasses.fields(DataArguments)}
    args = DataArguments(**{k: v for k, v in saved.items() if k in known})
    default = DataArguments()
    for name in LOCATION_FIELDS:
        if getattr(cli, name) != getattr(default, name):
            setattr(args, name, getattr(cli, name))
    for name in SPLIT_FIELDS:
        if getattr(cli, name) != getattr(default, name) and getattr(cli, name) != getattr(args, name):
            logger.warning(
                "--%s %s ignored: the base run's value %s keeps the test split identical",
                name,
                getattr(cli, name),
                getattr(args, name),
            )
    if args.corpora and not any(CORPORA[n].language == language for n in args.corpora if n in CORPORA):
        logger.info("the base run's --corpora hold no %s corpus: loading %s's corpora by language", language, language)
        args.corpora = None
    return args


def shot_indices(labels: np.ndarray, shots: list[int], seed: int, language: str = "") -> dict[int, np.ndarray]:
    """Row indices of k utterances per emotion for every k in `shots`; nested (k-shot sets grow with k), seeded.

    An emotion with fewer than k training utterances contributes all of them.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, zlib.crc32(language.encode())])
    order = {e: rng.permutation(np.flatnonzero(labels == e)) for e in range(len(EMOTIONS))}
    return {k: np.sort(np.concatenate([order[e][:k] for e in range(len(EMOTIONS))])).astype(np.int64) for k in shots}


def adaptation_args(train_args: TrainingArguments, n_train: int, output_dir: Path, seed: int) -> TrainingArguments:
    """train_args with a batch that fits n_train, and max_steps = max(MIN_STEPS, epochs x steps per epoch)."""
    batch = max(1, min(train_args.per_device_train_batch_size, n_train))
    accumulation = max(1, min(train_args.gradient_accumulation_steps, math.ceil(n_train / batch)))
    per_epoch = math.ceil(n_train / (batch * accumulation))
    steps = max(MIN_STEPS, math.ceil(train_args.num_train_epochs * per_epoch))
    return dataclasses.replace(
        train_args,
        output_dir=str(output_dir),
        seed=seed,
        max_steps=steps,
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=accumulation,
        save_strategy="no",
        eval_strategy="no",
        logging_steps=max(1, min(train_args.logging_steps or 10, steps // 3)),
        report_to=[],
        push_to_hub=False,
        remove_unused_columns=False,
        load_best_model_at_end=False,
    )


# ----------------------------------------------------------------------------- model work


def _load(model_dir: Path) -> tuple[object, object]:
    """The base model (stock audio-classification class of its config) and its feature extractor."""
    return AutoModelForAudioClassification.from_pretrained(model_dir), AutoFeatureExtractor.from_pretrained(model_dir)


def _predict(trainer: Trainer, test: datasets.Dataset) -> np.ndarray:
    """Logits of the test split, in its order (prepared by the model's own feature extractor)."""
    pred = trainer.predict(test.with_transform(make_transform(None, trainer.processing_class)))
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    return np.asarray(logits)


def _result(test_meta: dict, logits: np.ndarray, language: str) -> dict:
    """Per-language metrics, the language's UAR/F1 and the confusion matrix of one evaluation."""
    y_true, y_pred = np.asarray(test_meta["label"]), logits.argmax(-1)
    metrics = per_language_metrics(y_true, y_pred, test_meta["language"])
    return {
        "metrics": metrics,
        "uar": metrics[language]["uar"],
        "f1": metrics[language]["f1"],
        "confusion": confusion(y_true, y_pred),
    }


@dataclass
class Study:
    """Everything the adaptations of one few-shot study share."""

    base_dir: Path
    base: RunRecord
    language: str
    shots: list[int]
    data: DataArguments
    train: datasets.Dataset  # the language's whole train split (k-shot sets are drawn from it)
    test: datasets.Dataset  # its test split, length-ordered
    test_meta: dict
    out: Path
    model_args: object
    ser_args: object
    train_args: TrainingArguments

    @property
    def model_dir(self) -> Path:
        """The base run's model folder."""
        return self.base_dir / "model"


def zero_shot(study: Study) -> dict:
    """The base model evaluated as is on the language's test split (k = 0)."""
    model, extractor = _load(study.model_dir)
    args = dataclasses.replace(study.train_args, output_dir=str(study.out / "checkpoints" / "zero_shot"), report_to=[])
    trainer = Trainer(model=model, args=args, data_collator=SERCollator(extractor), processing_class=extractor)
    return _result(study.test_meta, _predict(trainer, study.test), study.language)


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
        class_weight=class_weights(labels, len(EMOTIONS)) if ser_args.class_weighting else None,
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
    result = _result(study.test_meta, logits, study.language)
    result.update(
        steps=int(args.max_steps),
        batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        train_loss=float(train_result.training_loss),
        learning_rate=args.learning_rate,
    )
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return result, logits


# ----------------------------------------------------------------------------- upper bound


def upper_bound(parent: Path, language: str) -> tuple[dict | None, list[dict]]:
    """(chosen in-language reference, all candidates) among the runs under `parent` (Table 2 style).

    Priority: the single_language run of `language`; else a multilingual run of its group; else any multilingual
    run that trained on it. Seeds are averaged.
    """
    group = LANGUAGES[language].group if language in LANGUAGES else None
    by_name: dict[str, list[dict]] = {}
    for _, rec in load_records(parent):
        if rec.family not in ("single_language", "multilingual") or language not in rec.metrics:
            continue
        if language not in rec.train_languages:
            continue
        r = {
            "run": rec.run,
            "family": rec.family,
            "group": rec.group,
            "train_languages": rec.train_languages,
            "metrics": rec.metrics,
        }
        by_name.setdefault(rec.name or rec.run, []).append(r)
    candidates = []
    for name, rs in by_name.items():
        r0 = rs[0]
        rank = 0 if r0["family"] == "single_language" else (1 if r0.get("group") == group else 2)
        uars = [100 * r["metrics"][language]["uar"] for r in rs]
        f1s = [100 * r["metrics"][language]["f1"] for r in rs]
        candidates.append(
            {
                "name": name,
                "family": r0["family"],
                "train_languages": r0["train_languages"],
                "rank": rank,
                "runs": [r["run"] for r in rs],
                "n_seeds": len(rs),
                "uar": statistics.fmean(uars),
                "uar_std": statistics.stdev(uars) if len(uars) > 1 else 0.0,
                "f1": statistics.fmean(f1s),
                "f1_std": statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
            }
        )
    candidates.sort(key=lambda c: (c["rank"], -c["uar"]))
    return (candidates[0] if candidates else None), candidates


# ----------------------------------------------------------------------------- outputs


def summarise(results: list[dict], zero: dict) -> list[dict]:
    """One row per k (k = 0 is the zero-shot point): mean and sample std over seeds of UAR and F1 (percent)."""
    rows = [
        {
            "k": 0,
            "uar": 100 * zero["uar"],
            "uar_std": 0.0,
            "f1": 100 * zero["f1"],
            "f1_std": 0.0,
            "n_seeds": 1,
            "n_train": 0,
            "label": "zero-shot (base model)",
        }
    ]
    for k in sorted({r["k"] for r in results}):
        rs = [r for r in results if r["k"] == k]
        uars, f1s = [100 * r["uar"] for r in rs], [100 * r["f1"] for r in rs]
        rows.append(
            {
                "k": k,
                "uar": statistics.fmean(uars),
                "uar_std": statistics.stdev(uars) if len(rs) > 1 else 0.0,
                "f1": statistics.fmean(f1s),
                "f1_std": statistics.stdev(f1s) if len(rs) > 1 else 0.0,
                "n_seeds": len(rs),
                "n_train": int(statistics.fmean(r["n_train"] for r in rs)),
                "label": f"{k}-shot",
            }
        )
    return rows


def _cell(mean: float, std: float, n: int) -> str:
    return f"{mean:.1f}±{std:.1f}" if n > 1 else f"{mean:.1f}"


def table_rows(payload: dict) -> list[list[str]]:
    """Rows of the few-shot table (k, shots, utterances, UAR, F1, seeds) with the upper bound last."""
    rows = [
        [
            str(r["k"]),
            r["label"],
            str(r["n_train"]),
            _cell(r["uar"], r["uar_std"], r["n_seeds"]),
            _cell(r["f1"], r["f1_std"], r["n_seeds"]),
            str(r["n_seeds"]),
        ]
        for r in payload["summary"]
    ]
    ub = payload["upper_bound"]
    if ub is None:
        rows.append(["", "in-language upper bound", "", "not found", "not found", ""])
    else:
        rows.append(
            [
                "",
                f"in-language upper bound ({ub['name']}, {ub['family']})",
                "",
                _cell(ub["uar"], ub["uar_std"], ub["n_seeds"]),
                _cell(ub["f1"], ub["f1_std"], ub["n_seeds"]),
                str(ub["n_seeds"]),
            ]
        )
    return rows


HEADER = ["k", "setting", "train utterances", "UAR (%)", "F1 (%)", "seeds"]


def to_csv(payload: dict) -> str:
    """The table as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(table_rows(payload))
    return buffer.getvalue()


def to_markdown(payload: dict) -> str:
    """The table as Markdown, with a caption saying what was adapted and where the upper bound comes from."""
    lines = [
        f"**Few-shot adaptation to {payload['language']}** from `{payload['base_run']}` (trained on "
        f"{', '.join(payload['base_train_languages'])}); k utterances per emotion from the {payload['language']} "
        f"train split, evaluated on its test split (n={payload['n_test']}). Mean ± std over seeds "
        f"{', '.join(map(str, payload['seeds']))}.",
        "",
    ]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "|".join(["---"] * len(HEADER)) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in table_rows(payload))
    lines.append("")
    lines.append(payload["upper_bound_note"])
    return "\n".join(lines) + "\n"


def plot_few_shot(payload: dict, path: Path) -> Path:
    """UAR and F1 against k (symlog axis): seeds as dots, mean ± std, zero-shot at k=0, upper bound dashed."""
    fig = new_figure(10.5, 4.0)
    axes = fig.subplots(1, 2, sharex=True)
    summary = payload["summary"]
    ks = [r["k"] for r in summary]
    for ax, metric, name in zip(axes, ("uar", "f1"), ("UAR", "macro-F1")):
        for r in payload["results"]:
            ax.plot(r["k"], 100 * r[metric], "o", color="tab:blue", alpha=0.3, ms=4)
        means = [r[metric] for r in summary]
        stds = [r[f"{metric}_std"] for r in summary]
        ax.errorbar(ks, means, yerr=stds, fmt="o-", color="tab:blue", lw=2, capsize=3, label="few-shot (mean ± std)")
        ax.plot([0], [means[0]], "D", color="tab:red", ms=8, label=f"zero-shot {means[0]:.1f}", zorder=5)
        ub = payload["upper_bound"]
        if ub is not None:
            ax.axhline(ub[metric], ls="--", color="tab:green", label=f"in-language ({ub['name']}) {ub[metric]:.1f}")
        ax.axhline(100 / len(EMOTIONS), ls=":", color="grey", label="chance")
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("k (training utterances per emotion)")
        ax.set_ylabel(f"{name} (%)")
        ax.set_title(f"{payload['language']} test {name}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    note = "" if payload["upper_bound"] is not None else " (no in-language run found for the upper bound)"
    fig.suptitle(f"Few-shot adaptation of {payload['base_run']} to {payload['language']}{note}", fontsize=10)
    return save_figure(fig, path)


def open_study(
    model_args, data_args: DataArguments, ser_args, few: FewShotArguments, train_args: TrainingArguments
) -> Study:
    """Check the options and the base run, load the language's split exactly as the base run's grid did."""
    if not few.base or not few.language:
        raise FewShotError("few_shot needs --base RUN_DIR (a run that never saw the language) and --language CODE")
    language = check_languages([few.language])[0]
    shots = sorted({int(k) for k in few.shots})
    if not shots or shots[0] < 1:
        raise FewShotError(f"--shots must be positive integers (utterances per emotion), got {few.shots}")
    base_dir, base = load_base(few.base)
    check_unseen(base_dir, base, language)
    if base.config.get("data", {}).get("demo") and not data_args.demo:
        logger.warning("the base run is a --demo run: add --demo to fine-tune with the demo's settings (lr, epochs)")
    data = base_data_args(base, data_args, language)
    try:
        ds, _ = load_languages([language], data)
    except DataMissing as e:
        raise FewShotError(str(e)) from None
    train_all, test_all, _ = split_dataset(ds, data)
    train, test = subset(train_all, [language]), subset(test_all, [language])
    if len(train) == 0 or len(test) == 0:
        raise FewShotError(
            f"no {language} utterances in the {'train' if len(train) == 0 else 'test'} split "
            f"(data config of {display_path(base_dir)}); check the corpora of {language}"
        )
    test = test.select(length_sorted_order(np.asarray(test["length"])))
    meta = {k: test[k] for k in ("path", "language", "corpus", "speaker", "label")}
    out = base_dir.parent / f"few_shot-{language}"
    out.mkdir(parents=True, exist_ok=True)
    return Study(base_dir, base, language, shots, data, train, test, meta, out, model_args, ser_args, train_args)


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
        "test_fingerprint": data_fingerprint(
            {c: study.test[c] for c in ("path", "label", "language", "corpus", "speaker", "length")}
        ),
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
        write_predictions(folder / "predictions.csv", study.test_meta, logits)
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


def write_outputs(study: Study, payload: dict) -> None:
    """few_shot.{json,csv,md,png} in the study folder."""
    out = study.out
    atomic_write_json(out / "few_shot.json", payload)
    atomic_write_text(out / "few_shot.csv", to_csv(payload))
    atomic_write_text(out / "few_shot.md", to_markdown(payload))
    plot_few_shot(payload, out / "few_shot.png")


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
        picks = shot_indices(train_labels, study.shots, seed, language)
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
