"""The few-shot study's inputs: its options, the base run, and the language's split as the base run's grid had it."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
from transformers import TrainingArguments

from hf_ser.data.dataset import DataArguments, DataMissing, load_languages, split_dataset, subset
from hf_ser.errors import UserError
from hf_ser.labels import CORPORA, LANGUAGES, check_languages
from hf_ser.safe_io import display_path
from hf_ser.train.runs import RunRecord, RunRecordError
from hf_ser.train.sampling import length_sorted_order

logger = logging.getLogger("hf_ser.experiments.few_shot")

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
    def classes(self) -> list[str]:
        """The base run's label set (its data arguments' --label_set): the test split's class names."""
        return list(self.test.features["label"].names)

    @property
    def model_dir(self) -> Path:
        """The base run's model folder."""
        return self.base_dir / "model"


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
