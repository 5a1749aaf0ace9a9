"""A finished run's train and test datasets, rebuilt from its record (the data arguments it saved).

Kept apart from :mod:`hf_ser.train.runs` so that reading records (reports, the hub) does not import the data stage.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import datasets

from hf_ser.data.dataset import DataArguments, load_languages, split_dataset, subset
from hf_ser.train.runs import RunRecord


def run_datasets(run_dir: str | Path) -> tuple[datasets.Dataset, datasets.Dataset, RunRecord]:
    """Rebuild a finished run's (train, test) datasets from its record; returns them and the record."""
    record = RunRecord.load(run_dir)
    saved = record.data_args or record.config.get("data") or {}
    known = {f.name for f in dataclasses.fields(DataArguments)}
    args = DataArguments(**{k: v for k, v in saved.items() if k in known})
    langs = sorted(set(record.train_languages) | set(record.eval_languages))
    ds, _ = load_languages(langs, args)
    train, test, _ = split_dataset(ds, args)
    return subset(train, record.train_languages), subset(test, record.eval_languages), record
