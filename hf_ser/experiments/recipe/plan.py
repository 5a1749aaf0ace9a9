"""Planning a grid: the runs a recipe plans, the data split once, each run's subsets, configuration and hash (its
identity), the runs --run_index / --run select, and the --list_runs table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from hf_ser.data.dataset import load_languages, split_dataset_dev, subset
from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.data.label_set import LabelSet, check_training_classes, drop_label_columns, label_report, parse_label_set
from hf_ser.experiments.families import Run, corpus_transfer_runs, named_group_languages, plan_runs
from hf_ser.experiments.launch.jobs import estimate_cost
from hf_ser.experiments.recipe.arguments import RecipeError, SERArguments
from hf_ser.experiments.recipe.parse import Recipe
from hf_ser.labels import SAMPLING_RATE, groups
from hf_ser.train.runs import config_hash, run_state

# Options that say which runs to plan or where to put them, not what a run computes: outside the run hash.
NOT_IN_RUN_HASH = ("seeds", "keep_checkpoints", "experiment", "groups", "languages", "unit", "source_runs")
MODEL_NOT_IN_RUN_HASH = ("sdpa_backend",)  # which attention kernel computes the same function
DATA_NOT_IN_RUN_HASH = ("cache_dir", "num_proc", "data_root")  # where data lives, not what it is (the fingerprint is)
# newer keys: hashed only when set, so older runs keep their identity
DATA_OMITTED_AT_DEFAULT = {"genetic_shift": 0.0, "synthetic_languages": None}


def run_languages(ser_args: SERArguments) -> list[str]:
    """Languages the experiment involves (train and eval)."""
    if ser_args.languages:
        return ser_args.languages
    named = named_group_languages(ser_args.experiment, ser_args.groups)
    return named if named is not None else [l for ls in groups().values() for l in ls]


def run_config(run: Run, recipe: Recipe, fingerprint: dict) -> dict:
    """What determines a run's result, hashed into its identity: the run, the model, data and SER options, the
    training hyper-parameters and the fingerprint of the rows it trains and tests on."""
    ta = {
        k: getattr(recipe.training, k)
        for k in (
            "learning_rate",
            "weight_decay",
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "max_grad_norm",
            "num_train_epochs",
            "warmup_steps",
            "lr_scheduler_type",
            "fp16",
            "bf16",
            "optim",
        )
    }
    data = {
        k: v
        for k, v in dataclasses.asdict(recipe.data).items()
        if k not in DATA_NOT_IN_RUN_HASH and not (k in DATA_OMITTED_AT_DEFAULT and v == DATA_OMITTED_AT_DEFAULT[k])
    }
    if data.get("label_set") in (["paper"], "paper"):  # the default: a paper run keeps the hash it had before
        data.pop("label_set")
    return {
        "run": run.to_dict(),
        "model": {k: v for k, v in dataclasses.asdict(recipe.model).items() if k not in MODEL_NOT_IN_RUN_HASH},
        "data": data,
        # which recipe planned the run does not change it: a `paper` grid reuses a `cross_group` run
        "ser": {k: v for k, v in dataclasses.asdict(recipe.ser).items() if k not in NOT_IN_RUN_HASH},
        "training": ta,
        "data_fingerprint": fingerprint,
    }


@dataclass
class PlannedRun:
    """One run of a grid, ready to train: its data subsets, folder, configuration and identity."""

    index: int
    run: Run
    folder: Path
    train: datasets.Dataset
    dev: datasets.Dataset  # empty without --dev_size
    test: datasets.Dataset
    config: dict
    config_hash: str
    labels: dict = dataclasses.field(default_factory=dict)  # a label set's report for this run (label_set.py)

    def state(self) -> str:
        """'finished', 'running elsewhere' (locked by another live process) or 'to do'."""
        return run_state(self.folder, self.config_hash)

    def estimated_cost(self, epochs: float) -> float:
        """Training audio-seconds processed: utterances x epochs x mean length (what a run's time scales with)."""
        if len(self.train) == 0:
            return 0.0
        return estimate_cost(len(self.train), epochs, float(np.mean(self.train["length"])) / SAMPLING_RATE)


@dataclass
class Grid:
    """A recipe's planned runs and the split they share."""

    recipe: Recipe
    runs: list[PlannedRun]
    notes: dict
    reports: dict
    train_size: int
    test_size: int
    dev_size: int = 0


def _rows(ds: datasets.Dataset) -> dict:
    """The columns a data fingerprint covers."""
    return {c: ds[c] for c in ("path", "label", "language", "corpus", "speaker", "length")}


def planned_runs(recipe: Recipe) -> tuple[list[Run], list[str]]:
    """The runs a recipe plans and every language they need; RecipeError when there is none."""
    languages = run_languages(recipe.ser)
    runs = plan_runs(recipe.ser.experiment, languages, recipe.ser.groups, recipe.ser.seeds)
    if not runs:
        raise RecipeError(f"recipe {recipe.name} with languages {languages} gives no run")
    return runs, sorted({l for r in runs for l in (*r.train_languages, *r.eval_languages)})


def _run_labels(
    spec: LabelSet, reports: dict, run: str, train: datasets.Dataset, dev: datasets.Dataset, test: datasets.Dataset
) -> tuple[dict, tuple[datasets.Dataset, ...]]:
    """A run's label report (empty for the paper's six: its rows carry no native columns and plan as before) and
    its (train, dev, test) in the common schema; with `run` named, a class without a training row is an error."""
    if spec.is_paper:
        return {}, (train, dev, test)
    names = tuple(train.features["label"].names)
    if run and len(train):
        check_training_classes(train, names, f"run {run}")
    dropped = reports.get("label_set", {}).get("dropped", {})
    labels = label_report(spec, names, dropped, {"train": train, "dev": dev, "test": test})
    return labels, tuple(drop_label_columns(d) for d in (train, dev, test))


def only_corpora(ds: datasets.Dataset, corpora: list[str] | None) -> datasets.Dataset:
    """The rows of `corpora` when the data holds others too (a benchmark pass on data loaded for every corpus);
    the data unchanged when `corpora` is unset, covers every row, or names none of them (corpora given as paths)."""
    if not corpora or not len(ds):
        return ds
    keep = np.isin(np.asarray(ds["corpus"]), list(corpora))
    return ds.select(np.flatnonzero(keep)) if keep.any() and not keep.all() else ds


def plan_grid(recipe: Recipe, loaded: tuple[datasets.Dataset, dict] | None = None) -> Grid:
    """Split the data once (loading it unless `loaded` is given), then plan every run: its subsets, data
    fingerprint, config and hash."""
    runs, needed = planned_runs(recipe)
    ds, reports = loaded if loaded is not None else load_languages(needed, recipe.data)
    ds = only_corpora(ds, recipe.data.corpora)
    train_all, dev_all, test_all, notes = split_dataset_dev(ds, recipe.data)
    spec = parse_label_set(recipe.data.label_set)
    if recipe.ser.experiment == "transfer" and recipe.ser.unit == "corpus":
        runs = corpus_transfer_runs(runs, _corpora_by_language(train_all))
    out = Path(recipe.training.output_dir)
    planned = []
    for i, run in enumerate(runs):
        train, dev = subset(train_all, run.train_languages), subset(dev_all, run.train_languages)
        if "train_corpus" in run.extra:  # --unit corpus: one corpus of the language trains
            train, dev = _of_corpus(train, run.extra["train_corpus"]), _of_corpus(dev, run.extra["train_corpus"])
        test = subset(test_all, run.eval_languages)
        labels, (train, dev, test) = _run_labels(spec, reports, run.dirname, train, dev, test)
        fingerprint = {"train": data_fingerprint(_rows(train)), "test": data_fingerprint(_rows(test))}
        if len(dev):
            fingerprint["dev"] = data_fingerprint(_rows(dev))
        config = run_config(run, recipe, fingerprint)
        planned.append(PlannedRun(i, run, out / run.dirname, train, dev, test, config, config_hash(config), labels))
    if not spec.is_paper:
        reports = {**reports, "label_set": _run_labels(spec, reports, "", train_all, dev_all, test_all)[0]}
    return Grid(recipe, planned, notes, reports, len(train_all), len(test_all), len(dev_all))


def _corpora_by_language(ds: datasets.Dataset) -> dict[str, list[str]]:
    """Each language's corpora in the training data, sorted."""
    pairs = set(zip(ds["language"], ds["corpus"]))
    return {lang: sorted(c for l2, c in pairs if l2 == lang) for lang in sorted({p[0] for p in pairs})}


def _of_corpus(ds: datasets.Dataset, corpus: str) -> datasets.Dataset:
    """Rows of one corpus (order kept)."""
    return ds.select(np.flatnonzero(np.asarray(ds["corpus"]) == corpus)) if len(ds) else ds


def select_runs(grid: Grid) -> list[PlannedRun]:
    """The runs --run_index / --run ask for (all of them when neither is given); RecipeError for no match."""
    sel = grid.recipe.grid
    if sel.run_index is not None:
        if not 0 <= sel.run_index < len(grid.runs):
            raise RecipeError(
                f"--run_index {sel.run_index} is out of range: recipe {grid.recipe.name} plans "
                f"{len(grid.runs)} runs (0..{len(grid.runs) - 1}); see --list_runs"
            )
        return [grid.runs[sel.run_index]]
    if sel.run is not None:
        match = [p for p in grid.runs if p.run.dirname == sel.run]
        if not match:
            raise RecipeError(f"--run {sel.run!r} is not a planned run of {grid.recipe.name}; see --list_runs")
        return match
    return grid.runs


def run_table(grid: Grid) -> list[dict]:
    """One row per planned run: index, run, train/eval languages, config hash, state, estimated cost."""
    epochs = float(grid.recipe.training.num_train_epochs)
    return [
        {
            "index": p.index,
            "run": p.run.dirname,
            "train_languages": list(p.run.train_languages),
            "eval_languages": list(p.run.eval_languages),
            "config_hash": p.config_hash,
            "state": p.state(),
            "train_size": len(p.train),
            "estimated_cost": round(p.estimated_cost(epochs), 1),
        }
        for p in grid.runs
    ]


def format_run_table(rows: list[dict]) -> str:
    """The --list_runs table for a terminal."""
    header = ("index", "run", "train", "eval", "config hash", "state", "cost (audio-s)")
    lines = [header] + [
        (
            str(r["index"]),
            r["run"],
            " ".join(r["train_languages"]),
            " ".join(r["eval_languages"]),
            r["config_hash"],
            r["state"],
            f"{r['estimated_cost']:.0f}",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in lines)
