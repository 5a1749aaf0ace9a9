"""``python -m hf_ser.recipe NAME [--key value ...]``: run one of the paper's experiments.

A recipe is ``recipes/NAME.yaml`` on top of ``recipes/defaults.yaml`` (the paper's
hyper-parameters) and, with ``--demo``, ``recipes/demo.yaml``; command-line keys win.
All keys are fields of the dataclasses below or of ``TrainingArguments``, parsed by
``HfArgumentParser``. Each run writes ``<output_dir>/<run>/metrics.json`` and ``model/``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml
from transformers import HfArgumentParser, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from . import __version__
from .audio import TrainAugment
from .data import DataArguments, DataMissing, load_languages, split_dataset, subset, with_corpus_ids
from .experiments import FAMILIES, Run, plan_runs
from .hub import HubError, hub_repo_for_run, push_run
from .labels import EMOTIONS, check_languages, groups
from .losses import class_weights, corpus_weights
from .metrics import compute_metrics, confusion, per_language_metrics
from .modeling import DEFAULT_BACKBONE, build_model, freeze
from .sampling import DEFAULT_LENGTH_WINDOW, length_sorted_order
from .trainer import SERCollator, SERTrainer, make_transform

logger = logging.getLogger("hf_ser")
RECIPES_DIR = Path(__file__).parent / "recipes"


@dataclass
class ModelArguments:
    """Which backbone and head to build."""

    model_name_or_path: str = field(default=DEFAULT_BACKBONE, metadata={"help": "Hub id or folder; 'demo-tiny'; 'xls-r-300m-random'."})
    classifier_proj_size: int = field(default=256, metadata={"help": "Projector width (paper: 256)."})
    attn_implementation: str = field(default="sdpa", metadata={"help": "'sdpa', 'eager' or 'flash_attention_2'."})
    freeze_feature_encoder: bool = field(default=True, metadata={"help": "Keep the convolutional feature encoder frozen."})
    layerdrop: float | None = field(default=None, metadata={"help": "Override the backbone's LayerDrop (0 under DDP)."})
    # --- issue 15 (backbones): stock-class options, see hf_ser/modeling.py ---
    freeze_base_model: bool = field(default=False, metadata={"help": "Train only layer weights + head (frozen upstream)."})
    use_weighted_layer_sum: bool = field(default=False, metadata={"help": "Learned softmax-weighted sum of all layers."})
    whisper_window_seconds: int | None = field(default=None, metadata={"help": "Whisper: shorten the 30 s window."})


@dataclass
class SERArguments:
    """The experiment and the paper's balancing tricks."""

    experiment: str = field(default="multilingual", metadata={"help": f"One of {', '.join(FAMILIES)}."})
    groups: list[str] | None = field(default=None, metadata={"help": "Groups for multilingual/cross_group ('all' = every language)."})
    languages: list[str] | None = field(default=None, metadata={"help": "Restrict to these language codes (e.g. FRE ITA)."})
    seeds: int = field(default=1, metadata={"help": "Repeat every run with seeds 0..N-1."})
    contrastive_weight: float = field(default=0.1, metadata={"help": "lambda of the supervised contrastive term."})
    temperature: float = field(default=0.07, metadata={"help": "tau of the supervised contrastive term."})
    class_weighting: bool = field(default=True, metadata={"help": "Weight CE by inverse class frequency."})
    corpus_weighting: bool = field(default=True, metadata={"help": "Weight samples by inverse corpus size."})
    balanced_sampling: bool = field(default=True, metadata={"help": "Corpus-balanced micro-batches."})
    length_window: int = field(default=DEFAULT_LENGTH_WINDOW, metadata={"help": "Micro-batches sorted by length together (1 = exact per-batch balance)."})
    augment: bool = field(default=True, metadata={"help": "Random gain and light noise on the train split."})
    mixed_precision: str = field(default="auto", metadata={"help": "'auto' (fp16 on GPU), 'fp16', 'bf16' or 'no'."})
    pad_to_multiple_of: int | None = field(default=None, metadata={"help": "Pad batches to a multiple of this many samples (torch_compile)."})
    keep_checkpoints: bool = field(default=False, metadata={"help": "Keep Trainer checkpoints after a run finishes."})
    base: str | None = field(default=None, metadata={"help": "few_shot: the run folder of the model to adapt."})
    language: str | None = field(default=None, metadata={"help": "few_shot: the held-out language to adapt to."})
    shots: list[int] = field(default_factory=lambda: [1, 5, 10, 20], metadata={"help": "few_shot: utterances per emotion."})


PARSER_TYPES = (ModelArguments, DataArguments, SERArguments, TrainingArguments)


class RecipeError(ValueError):
    """A user mistake in the recipe name, a key or a value; printed without a traceback."""


def available_recipes() -> list[str]:
    """Recipe names (YAML files other than defaults/demo)."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml") if p.stem not in ("defaults", "demo"))


def _read_yaml(path: Path, known: set[str]) -> dict:
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe is a mapping of key: value")
    unknown = sorted(set(data) - known - {"demo_overrides"})
    if unknown:
        raise RecipeError(f"{path}: unknown key(s) {', '.join(unknown)}")
    extra = data.get("demo_overrides") or {}
    if not isinstance(extra, dict) or set(extra) - known:
        raise RecipeError(f"{path}: demo_overrides must map known keys to values; unknown: {sorted(set(extra) - known)}")
    return data


def _wants_demo(cli: list[str], recipe: dict) -> bool:
    for a in cli:
        if a == "--demo" or (a.startswith("--demo=") and a.split("=", 1)[1].lower() in ("1", "true", "yes")):
            return True
    return bool(recipe.get("demo"))


def parse_recipe(argv: list[str]) -> tuple[str, ModelArguments, DataArguments, SERArguments, TrainingArguments, dict]:
    """Resolve NAME + YAML layers + command line into the four argument dataclasses.

    Layers, later wins: recipes/defaults.yaml, the recipe, then with --demo recipes/demo.yaml and the
    recipe's own ``demo_overrides``, then the command line. Returns the demo keys that took effect.
    """
    if not argv or argv[0].startswith("-"):
        raise RecipeError(f"usage: python -m hf_ser.recipe NAME [--key value ...]; recipes: {', '.join(available_recipes())}")
    name, rest = argv[0], argv[1:]
    path = Path(name) if name.endswith((".yaml", ".yml")) else RECIPES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise RecipeError(f"unknown recipe {name!r}; available: {', '.join(available_recipes())} (or a path to a .yaml)")
    parser = HfArgumentParser(PARSER_TYPES)
    known = {a.dest for a in parser._actions}
    recipe = _read_yaml(path, known)
    demo_overrides = recipe.pop("demo_overrides", None) or {}
    merged: dict = {"output_dir": f"runs/{path.stem}", **_read_yaml(RECIPES_DIR / "defaults.yaml", known), **recipe}
    demo_keys: dict = {}
    if _wants_demo(rest, recipe):
        demo_keys = {**_read_yaml(RECIPES_DIR / "demo.yaml", known), **demo_overrides}
        merged.update(demo_keys)
    parser.set_defaults(**merged)
    cli_keys = {a[2:].split("=", 1)[0] for a in rest if a.startswith("--")}
    bad = sorted(k for k in cli_keys if k not in known)
    if bad:
        raise RecipeError(f"unknown option(s) {', '.join('--' + k for k in bad)}; see `python -m hf_ser.recipe {name} --help`")
    model_args, data_args, ser_args, train_args = parser.parse_args_into_dataclasses(args=rest)
    if ser_args.experiment not in (*FAMILIES, "few_shot"):
        raise RecipeError(f"experiment must be one of {', '.join(FAMILIES)} or few_shot, not {ser_args.experiment!r}")
    if ser_args.languages:
        ser_args.languages = check_languages(ser_args.languages)
    overridden = {k: v for k, v in demo_keys.items() if k not in cli_keys and k != "demo"}
    return path.stem, model_args, data_args, ser_args, train_args, overridden


def _apply_device_defaults(train_args: TrainingArguments, ser_args: SERArguments) -> TrainingArguments:
    cuda = torch.cuda.is_available()
    mp = ser_args.mixed_precision
    if mp not in ("auto", "fp16", "bf16", "no"):
        raise RecipeError(f"mixed_precision must be auto, fp16, bf16 or no, not {mp!r}")
    fp16 = mp == "fp16" or (mp == "auto" and cuda)
    bf16 = mp == "bf16"
    workers = train_args.dataloader_num_workers or (min(4, os.cpu_count() or 1) if cuda else 0)
    return dataclasses.replace(train_args, fp16=fp16, bf16=bf16, dataloader_num_workers=workers,
                               dataloader_pin_memory=train_args.dataloader_pin_memory and cuda,
                               remove_unused_columns=False, push_to_hub=False)


def run_languages(ser_args: SERArguments) -> list[str]:
    """Languages the experiment involves (train and eval)."""
    table = groups()
    if ser_args.languages:
        return ser_args.languages
    if ser_args.experiment == "multilingual" and ser_args.groups and "all" not in ser_args.groups:
        return [l for g in ser_args.groups for l in table.get(g, [])]
    return [l for ls in table.values() for l in ls]


def _config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _atomic_write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str))
    os.replace(tmp, path)


_NOT_IN_RUN_HASH = ("seeds", "keep_checkpoints", "experiment", "groups", "languages", "base", "language", "shots")
_DATA_NOT_IN_RUN_HASH = ("cache_dir", "num_proc")  # where prepared audio is cached and how many processes prepare it


def run_config(run: Run, model_args, data_args, ser_args, train_args) -> dict:
    """What determines a run's result (hashed to decide whether a finished run can be reused)."""
    ta = {k: getattr(train_args, k) for k in (
        "learning_rate", "weight_decay", "per_device_train_batch_size", "gradient_accumulation_steps",
        "max_grad_norm", "num_train_epochs", "warmup_steps", "lr_scheduler_type", "fp16", "bf16", "optim")}
    data = {k: v for k, v in dataclasses.asdict(data_args).items() if k not in _DATA_NOT_IN_RUN_HASH}
    return {"run": run.to_dict(), "model": dataclasses.asdict(model_args), "data": data,
            # which recipe planned the run does not change it: a `paper` grid reuses a `cross_group` run
            "ser": {k: v for k, v in dataclasses.asdict(ser_args).items() if k not in _NOT_IN_RUN_HASH},
            "training": ta}


def versions() -> dict:
    """Library versions recorded in metrics.json."""
    import datasets
    import transformers

    return {"hf_ser": __version__, "transformers": transformers.__version__, "datasets": datasets.__version__,
            "torch": torch.__version__, "python": sys.version.split()[0]}


def train_run(run: Run, train_all, test_all, split_notes, model_args, data_args, ser_args, train_args) -> dict | None:
    """Train and evaluate one run; returns its metrics.json content (or the existing one)."""
    out = Path(train_args.output_dir) / run.dirname
    config = run_config(run, model_args, data_args, ser_args, train_args)
    chash = _config_hash(config)
    metrics_path = out / "metrics.json"
    if metrics_path.is_file():
        try:
            old = json.loads(metrics_path.read_text())
            if old.get("config_hash") == chash:
                logger.info("%s: finished earlier (%s), skipped", run.dirname, metrics_path)
                return old
            logger.warning("%s: metrics.json is from a different config; training again", run.dirname)
        except json.JSONDecodeError:
            logger.warning("%s: unreadable metrics.json; training again", run.dirname)
    train = subset(train_all, run.train_languages)
    test = subset(test_all, run.eval_languages)
    missing = sorted(set(run.train_languages) - set(train["language"]))
    if len(train) == 0 or len(test) == 0:
        logger.warning("%s: no %s data; skipped", run.dirname, "training" if len(train) == 0 else "test")
        return None
    if missing:
        logger.warning("%s: no training data for %s; training on the rest", run.dirname, ", ".join(missing))
    out.mkdir(parents=True, exist_ok=True)
    train, corpus_names = with_corpus_ids(train)
    train_labels, train_corpus, train_len = np.asarray(train["label"]), np.asarray(train["corpus_id"]), np.asarray(train["length"])
    order = length_sorted_order(np.asarray(test["length"]))
    test = test.select(order)  # evaluation batches in length order: far less padding
    test_meta = {k: test[k] for k in ("path", "language", "corpus", "speaker", "label")}

    set_seed(run.seed)
    model, extractor = build_model(model_args.model_name_or_path, model_args.classifier_proj_size,
                                   model_args.attn_implementation, _layerdrop(model_args, train_args),
                                   use_weighted_layer_sum=model_args.use_weighted_layer_sum,
                                   whisper_window_seconds=model_args.whisper_window_seconds)
    freeze(model, model_args.freeze_feature_encoder, model_args.freeze_base_model)  # issue 15: any family
    args = dataclasses.replace(train_args, output_dir=str(out / "checkpoints"), seed=run.seed, run_name=run.dirname)
    trainer = SERTrainer(
        model=model,
        args=args,
        train_dataset=train.with_transform(make_transform(TrainAugment() if ser_args.augment else None, extractor)),
        data_collator=SERCollator(extractor, ser_args.pad_to_multiple_of),
        compute_metrics=compute_metrics,
        processing_class=extractor,
        class_weight=class_weights(train_labels, len(EMOTIONS)) if ser_args.class_weighting else None,
        corpus_weight=corpus_weights(train_corpus, len(corpus_names)) if ser_args.corpus_weighting else None,
        contrastive_weight=ser_args.contrastive_weight,
        temperature=ser_args.temperature,
        train_corpus_ids=train_corpus if ser_args.balanced_sampling else None,
        train_lengths=train_len,
        length_window=ser_args.length_window,
    )
    last = last_complete_checkpoint(Path(args.output_dir))
    if last:
        logger.info("%s: resuming from %s", run.dirname, last)
    t0 = time.time()
    train_result = trainer.train(resume_from_checkpoint=last)
    train_seconds = time.time() - t0
    pred = trainer.predict(test.with_transform(make_transform(None, extractor)))
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    y_pred = np.asarray(logits).argmax(-1)
    y_true = np.asarray(test_meta["label"])
    metrics = per_language_metrics(y_true, y_pred, test_meta["language"])
    trainer.save_model(str(out / "model"))
    _write_predictions(out / "predictions.csv", test_meta, y_pred, logits)
    result = {
        **run.to_dict(),
        "run": run.dirname,
        "metrics": metrics,
        "confusion": confusion(y_true, y_pred),
        "confusion_by_language": {l: confusion(y_true[np.asarray(test_meta["language"]) == l],
                                               y_pred[np.asarray(test_meta["language"]) == l])["matrix"]
                                  for l in run.eval_languages if l in set(test_meta["language"])},
        "train_size": len(train), "test_size": len(test), "train_corpora": corpus_names,
        "split_notes": {l: split_notes.get(l) for l in set(run.train_languages) | set(run.eval_languages)},
        "train_loss": float(train_result.training_loss), "train_seconds": round(train_seconds, 1),
        "config": config, "config_hash": chash, "versions": versions(),
        "data_args": dataclasses.asdict(data_args),  # with the cache location the hash leaves out
    }
    _atomic_write_json(metrics_path, result)
    if not ser_args.keep_checkpoints:
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return result


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
    if train_args.world_size > 1 and (model_args.layerdrop or 0) > 0:
        logger.warning("LayerDrop leaves parameters unused, which DDP rejects: setting layerdrop=0")
        return 0.0
    if train_args.world_size > 1 and model_args.layerdrop is None:
        return 0.0
    return model_args.layerdrop


def _write_predictions(path: Path, meta: dict, y_pred: np.ndarray, logits: np.ndarray) -> None:
    import pandas as pd

    probs = torch.softmax(torch.as_tensor(logits, dtype=torch.float32), -1).numpy()
    df = pd.DataFrame({k: meta[k] for k in ("path", "language", "corpus", "speaker")})
    df["label"] = [EMOTIONS[i] for i in meta["label"]]
    df["pred"] = [EMOTIONS[i] for i in y_pred]
    for i, e in enumerate(EMOTIONS):
        df[f"p_{e}"] = probs[:, i].round(5)
    df.to_csv(path, index=False)


def format_summary(results: list[dict]) -> str:
    """One line per run: per-language UAR / F1 in percent."""
    lines = []
    for r in results:
        cells = "  ".join(f"{l} {m['uar'] * 100:.1f}/{m['f1'] * 100:.1f}" for l, m in r["metrics"].items() if l != "all")
        a = r["metrics"]["all"]
        lines.append(f"{r['run']:38s} all {a['uar'] * 100:.1f}/{a['f1'] * 100:.1f}   {cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("recipes:", ", ".join(available_recipes()))
        return 0
    if len(argv) >= 2 and argv[1] in ("-h", "--help"):
        HfArgumentParser(PARSER_TYPES).print_help()
        return 0
    try:
        name, model_args, data_args, ser_args, train_args, overridden = parse_recipe(argv)
        push_to_hub = train_args.push_to_hub  # the Trainer never pushes; finished runs are pushed with their card
        train_args = _apply_device_defaults(train_args, ser_args)
        if overridden:
            logger.info("--demo overrides: %s", ", ".join(f"{k}={v}" for k, v in overridden.items()))
        if ser_args.experiment == "few_shot":
            from .few_shot import run_few_shot

            return run_few_shot(model_args, data_args, ser_args, train_args)
        languages = run_languages(ser_args)
        runs = plan_runs(ser_args.experiment, languages, ser_args.groups, ser_args.seeds)
        if not runs:
            raise RecipeError(f"recipe {name} with languages {languages} gives no run")
        needed = sorted({l for r in runs for l in (*r.train_languages, *r.eval_languages)})
        ds, reports = load_languages(needed, data_args)
    except (RecipeError, DataMissing, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    train_all, test_all, notes = split_dataset(ds, data_args)
    out = Path(train_args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write_json(out / "data_report.json", {"preparation": reports, "split": notes,
                                                   "train": len(train_all), "test": len(test_all)})
    logger.info("%s: %d run(s), %d train / %d test utterances in %s", name, len(runs), len(train_all), len(test_all), ", ".join(needed))
    results = []
    for i, run in enumerate(runs, 1):
        logger.info("[%d/%d] %s: train %s -> eval %s", i, len(runs), run.dirname, " ".join(run.train_languages), " ".join(run.eval_languages))
        r = train_run(run, train_all, test_all, notes, model_args, data_args, ser_args, train_args)
        if r is None:
            continue
        results.append(r)
        if push_to_hub and train_args.process_index == 0:
            try:
                push_run(out / run.dirname, hub_repo_for_run(train_args.hub_model_id or run.dirname, run.dirname, len(runs)),
                         private=bool(train_args.hub_private_repo), revision=train_args.hub_revision)
            except HubError as e:
                logger.error("%s: not pushed (%s); the run folder is complete, push it later with "
                             "`python -m hf_ser.hub push %s --repo_id ...`", run.dirname, e, out / run.dirname)
    print("\n" + format_summary(results))
    print(f"\nresults in {out}/<run>/metrics.json; tables: python -m hf_ser.report {out}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
