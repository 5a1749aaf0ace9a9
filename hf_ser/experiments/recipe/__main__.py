"""``hf-ser recipe NAME [--key value ...]`` (also ``python -m hf_ser.experiments.recipe``): the help, or the recipe
parsed, its data prepared once, then every pass of its grid listed, launched or trained (with its data_report.json),
and one summary line per run."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from hf_ser.console import command, setup_logging
from hf_ser.data.dataset import load_languages
from hf_ser.errors import EXIT_FAILED, EXIT_OK
from hf_ser.experiments.few_shot.run import run_few_shot
from hf_ser.experiments.recipe.arguments import PARSER_TYPES, RecipeParser
from hf_ser.experiments.recipe.balancing import balancing
from hf_ser.experiments.recipe.benchmark import corpus_languages, is_benchmark, resolve_benchmark
from hf_ser.experiments.recipe.execute import launch_grid, run_grid
from hf_ser.experiments.recipe.help import recipe_help, recipes_help
from hf_ser.experiments.recipe.parse import Recipe, parse_recipe
from hf_ser.experiments.recipe.passes import grid_passes
from hf_ser.experiments.recipe.plan import Grid, PlannedRun, format_run_table, plan_grid, planned_runs, run_table
from hf_ser.experiments.upstream import main as upstream_main
from hf_ser.safe_io import atomic_write_json, display_path, storage_error
from hf_ser.train.runs import RunRecord

logger = logging.getLogger("hf_ser")


def grid_balancing(job: PlannedRun, recipe: Recipe) -> dict:
    """One planned run's balancing summary (effective loss shares, expected draws), for data_report.json."""
    names = sorted(set(job.train["corpus"]))
    ids = np.searchsorted(np.asarray(names), np.asarray(job.train["corpus"]))
    classes = len(job.train.features["label"].names)  # the run's label set
    return balancing(np.asarray(job.train["label"]), ids, names, recipe.ser, recipe.training, classes)[2]


def format_summary(records: list[RunRecord]) -> str:
    """One line per run: per-language UAR / F1 in percent."""
    lines = []
    for r in records:
        cells = "  ".join(f"{l} {m['uar'] * 100:.1f}/{m['f1'] * 100:.1f}" for l, m in r.metrics.items() if l != "all")
        a = r.metrics["all"]
        lines.append(f"{r.run:38s} all {a['uar'] * 100:.1f}/{a['f1'] * 100:.1f}   {cells}")
    return "\n".join(lines)


@command
def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code (0 done, 1 no run produced a result, 2 a user mistake).

    Under torchrun the process group the Trainer opened is closed before returning: left open, gloo's threads
    abort the process at interpreter exit ("terminate called without an active exception", exit -6).
    """
    try:
        return _main(argv)
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _main(argv: list[str] | None) -> int:
    """The body of :func:`main`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if not argv or argv[0] in ("-h", "--help"):
        print(recipes_help())
        return EXIT_OK if argv else 2
    if "--help_all" in argv[1:]:
        RecipeParser(PARSER_TYPES, prog=f"hf-ser recipe {argv[0]}").print_help()
        return EXIT_OK
    if "-h" in argv[1:] or "--help" in argv[1:]:
        print(recipe_help(argv[0]))
        return EXIT_OK
    if argv[0] == "upstream":  # the frozen-upstream benchmark has its own options (hf_ser.experiments.upstream)
        return upstream_main(argv[1:])
    recipe = parse_recipe(argv)
    if recipe.demo_overrides:
        logger.info("--demo overrides: %s", ", ".join(f"{k}={v}" for k, v in recipe.demo_overrides.items()))
    if recipe.ser.experiment == "few_shot":
        return run_few_shot(recipe.model, recipe.data, recipe.ser, recipe.few_shot, recipe.training)
    # a benchmark (--split emobox --fold 0) runs the corpora found under --data_root with EmoBox folds
    recipe = dataclasses.replace(recipe, data=resolve_benchmark(recipe.data, recipe.training.output_dir))
    _, needed = planned_runs(recipe)
    loaded = load_languages(needed, recipe.data)  # prepared once, before any pass or job fans out
    languages = corpus_languages(loaded[0]) if is_benchmark(recipe.data) else None
    records, listing = [], []
    for variant, ser, data, out_dir in grid_passes(recipe.ser, recipe.data, recipe.training.output_dir, languages):
        pass_recipe = dataclasses.replace(
            recipe, ser=ser, data=data, training=dataclasses.replace(recipe.training, output_dir=out_dir)
        )
        grid = plan_grid(pass_recipe, loaded)
        if recipe.grid.list_runs:
            listing += [{**row, "pass": variant or Path(out_dir).name} for row in run_table(grid)]
            continue
        _write_data_report(grid)
        if recipe.launch.launcher != "none":
            if launch_grid(grid, argv) != EXIT_OK:
                return EXIT_FAILED
            continue
        records += run_grid(grid)
    if recipe.grid.list_runs:
        print(json.dumps(listing, indent=2) if recipe.grid.format == "json" else format_run_table(listing))
        return EXIT_OK
    if recipe.launch.launcher != "none":
        return EXIT_OK
    out = display_path(recipe.training.output_dir)
    print("\n" + format_summary(records))
    print(f"\nresults in {out}/<run>/metrics.json; tables: hf-ser report {out}")
    return EXIT_OK if records else EXIT_FAILED


def _write_data_report(grid: Grid) -> None:
    """``<output_dir>/data_report.json``: preparation reports, split notes and sizes, each run's balancing."""
    out = Path(grid.recipe.training.output_dir)
    balance = {p.run.dirname: grid_balancing(p, grid.recipe) for p in grid.runs if len(p.train)}
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            out / "data_report.json",
            {
                "preparation": grid.reports,
                "split": grid.notes,
                "train": grid.train_size,
                "dev": grid.dev_size,
                "test": grid.test_size,
                "balancing": balance,
            },
        )
    except OSError as e:
        raise (storage_error(e, out) or e) from None
    logger.info(
        "%s: %d run(s), %d train / %d dev / %d test utterances",
        grid.recipe.name,
        len(grid.runs),
        grid.train_size,
        grid.dev_size,
        grid.test_size,
    )


if __name__ == "__main__":
    sys.exit(main())
