"""Executing a planned grid: here, one run after another (a run another process holds comes last; a finished run
is pushed with its card under --push_to_hub), or each unfinished run as a scheduler job (--launcher local|slurm)."""

from __future__ import annotations

import logging
from pathlib import Path

from hf_ser.data.corpora import default_cache_dir
from hf_ser.errors import EXIT_FAILED, EXIT_OK
from hf_ser.experiments.launch.jobs import list_runs_command, recipe_jobs
from hf_ser.experiments.launch.submission import submit
from hf_ser.experiments.recipe.parse import Recipe
from hf_ser.experiments.recipe.plan import Grid, PlannedRun, select_runs
from hf_ser.experiments.recipe.training import train_run
from hf_ser.hub.errors import HubError
from hf_ser.hub.push import hub_repo_for_run, push_run
from hf_ser.safe_io import display_path
from hf_ser.train.runs import RunBusy, RunRecord

logger = logging.getLogger("hf_ser")


def run_grid(grid: Grid) -> list[RunRecord]:
    """Train the selected runs one after another; a run locked by another process is skipped, then waited for
    at the end (its record is reused if the other process finished it, or it is trained here)."""
    recipe, jobs, deferred, records = grid.recipe, select_runs(grid), [], []
    for n, job in enumerate(jobs, 1):
        logger.info(
            "[%d/%d] %s: train %s -> eval %s",
            n,
            len(jobs),
            job.run.dirname,
            " ".join(job.run.train_languages),
            " ".join(job.run.eval_languages),
        )
        try:
            record = train_run(job, recipe, grid.notes)
        except RunBusy:
            logger.info("%s: being trained by another process; coming back to it at the end", job.run.dirname)
            deferred.append(job)
            continue
        if record is not None:
            records.append(record)
            _push(job, recipe, len(grid.runs))
    for job in deferred:
        logger.info("%s: waiting for the other process that holds it", job.run.dirname)
        record = train_run(job, recipe, grid.notes, wait=True)
        if record is not None:
            records.append(record)
            _push(job, recipe, len(grid.runs))
    return records


def _push(job: PlannedRun, recipe: Recipe, n_runs: int) -> None:
    """Push a finished run with its card when --push_to_hub was given (errors are logged; the run folder is whole)."""
    ta = recipe.training
    if not recipe.push_to_hub or ta.process_index != 0:
        return
    try:
        push_run(
            job.folder,
            hub_repo_for_run(ta.hub_model_id or job.run.dirname, job.run.dirname, n_runs),
            private=bool(ta.hub_private_repo),
            revision=ta.hub_revision,
            token=recipe.hub_token,
        )
    except HubError as e:
        logger.error(
            "%s: not pushed (%s); the run folder is complete, push it later with `hf-ser hub push %s --repo_id ...`",
            job.run.dirname,
            e,
            display_path(job.folder),
        )


def launch_grid(grid: Grid, argv: list[str]) -> int:
    """Submit every unfinished run as its own job (``--launcher local|slurm``), longest first; the data is
    already prepared, so jobs only read the shared cache. Returns 1 when a local job failed."""
    recipe = grid.recipe
    epochs = float(recipe.training.num_train_epochs)
    todo = [(p.index, p.run.dirname, p.estimated_cost(epochs)) for p in select_runs(grid) if p.state() != "finished"]
    out = Path(recipe.training.output_dir)
    jobs = recipe_jobs(argv, todo, recipe.launch.gpus_per_run)
    result = submit(
        jobs,
        recipe.launch,
        recipe.launch.launch_dir or out / "launch",
        follow=list_runs_command(argv),
        report_dir=out,
        shared=[out, recipe.data.cache_dir or default_cache_dir()],
    )
    if result.job_ids:
        print(f"submitted {len(result.job_ids)} job(s): {', '.join(map(str, result.job_ids))}")
    return EXIT_FAILED if result.failed else EXIT_OK
