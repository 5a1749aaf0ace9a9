"""A grid's runs as jobs: the command that trains one run (launch and grid options removed), each run's estimated
cost, the longest-first order and the predicted makespan, and what a launch returns."""

from __future__ import annotations

import dataclasses
import heapq
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from hf_ser.experiments.launch.arguments import MEASURED_AUDIO_SECONDS_PER_GPU_SECOND, LaunchArguments

# Options of the launching command that the per-run command must not repeat (the integrator's grid flags).
GRID_OPTIONS = ("list_runs", "format", "run_index", "run")


@dataclass(frozen=True)
class GridJob:
    """One run of a grid as a job: its index in the plan, folder name, estimated cost and the command that trains it."""

    index: int
    name: str
    cost: float
    command: tuple[str, ...]
    cwd: str = field(default_factory=os.getcwd)


@dataclass
class LaunchResult:
    """What a launch did: the scheduler's job ids (in submission order) and the names of runs whose job failed."""

    job_ids: list[str]
    failed: list[str] = field(default_factory=list)
    report_job_id: str | None = None


# ----------------------------------------------------------------------------- cost and order


def estimate_cost(n_train: int, epochs: float, mean_seconds: float) -> float:
    """A run's training cost in audio-seconds processed: training samples x epochs x mean length in seconds.

    Training time on one device is close to proportional to it (the backbone's cost is linear in frames up to
    the attention term, which is small at SER clip lengths); docs/cluster.md converts it to GPU hours.
    """
    return float(n_train) * float(epochs) * float(mean_seconds)


def longest_first(jobs: Sequence[GridJob]) -> list[GridJob]:
    """Jobs in decreasing estimated cost (ties by plan index), the order that shortens a grid's makespan."""
    return sorted(jobs, key=lambda j: (-j.cost, j.index))


def predicted_makespan(costs: Sequence[float], workers: int) -> float:
    """Finish time of `costs` run in the given order on `workers` identical workers, each job to the first free one.

    That is what an array with parallelism `workers` (or the local pool) does with jobs of known duration; run on
    ``longest_first`` costs it is the LPT schedule, within 4/3 of the optimum.
    """
    free = [0.0] * max(1, workers)
    for cost in costs:
        heapq.heappush(free, heapq.heappop(free) + cost)
    return max(free)


# ----------------------------------------------------------------------------- commands


def strip_options(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """`argv` without the ``--name`` options in `names` (``--name=v``, ``--name v ...`` and dash spellings)."""
    drop = {n.replace("-", "_") for n in names}
    out: list[str] = []
    skipping = False
    for arg in argv:
        if arg.startswith("--"):
            key = arg[2:].split("=", 1)[0].replace("-", "_")
            skipping = key in drop
            if skipping:
                continue
        elif skipping:
            continue
        out.append(arg)
    return out


def launch_option_names() -> tuple[str, ...]:
    """The launching command's own options: LaunchArguments' fields and the grid's listing/selection flags."""
    return (*(f.name for f in dataclasses.fields(LaunchArguments)), *GRID_OPTIONS)


def recipe_command(
    recipe_argv: Sequence[str], run_index: int, gpus_per_run: int = 1, python: str = sys.executable
) -> tuple[str, ...]:
    """The command that trains run `run_index` of the recipe `recipe_argv` (``NAME --key value ...``).

    Launch and grid options are removed and ``--launcher none`` added (a recipe YAML may set a launcher), so the
    job trains exactly one run in its own process; with
    ``gpus_per_run > 1`` it is started by ``torchrun --standalone`` (a free rendezvous port per job, so two
    jobs on one node never collide) with one process per GPU.
    """
    args = [*strip_options(recipe_argv, launch_option_names()), "--launcher", "none", "--run_index", str(run_index)]
    if gpus_per_run > 1:
        return (
            python,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(gpus_per_run),
            "-m",
            "hf_ser.recipe",
            *args,
        )
    return (python, "-m", "hf_ser.recipe", *args)


def recipe_jobs(
    recipe_argv: Sequence[str], runs: Sequence[tuple[int, str, float]], gpus_per_run: int = 1
) -> list[GridJob]:
    """GridJobs for the recipe's runs given as (plan index, run folder name, estimated cost)."""
    return [GridJob(i, name, cost, recipe_command(recipe_argv, i, gpus_per_run)) for i, name, cost in runs]


def list_runs_command(recipe_argv: Sequence[str]) -> str:
    """The shell command that shows the grid's progress (``--list_runs`` of the same recipe)."""
    args = strip_options(recipe_argv, launch_option_names())
    return shlex.join(["python", "-m", "hf_ser.recipe", *args, "--list_runs"])


def makespan_line(costs: Sequence[float], gpu_groups: int, args: LaunchArguments) -> str:
    """One line: the predicted makespan of jobs of `costs` (audio-s, in order) on `gpu_groups` GPUs (or groups).

    A run takes cost / ``--audio_seconds_per_gpu_second`` seconds on one GPU (the default rate is the one
    measured on an H200). Assumptions, said in the line: several GPUs per run scale linearly, and K runs sharing a
    GPU go no faster together than one (their aggregate rate has not been measured), so a SLURM task of K runs
    costs their sum.
    """
    rate = args.audio_seconds_per_gpu_second * args.gpus_per_run
    hours = predicted_makespan([c / rate for c in costs], gpu_groups) / 3600
    source = (
        "measured on one H200, micro-batch 16 x 4, main 6e46159"
        if args.audio_seconds_per_gpu_second == MEASURED_AUDIO_SECONDS_PER_GPU_SECOND
        else "given"
    )
    notes = [f"{args.audio_seconds_per_gpu_second:g} audio-s per GPU-s ({source})"]
    if args.gpus_per_run > 1:
        notes.append(f"assumed linear over {args.gpus_per_run} GPUs per run")
    if args.runs_per_gpu > 1:
        notes.append(f"{args.runs_per_gpu} runs per GPU counted as no faster than one (unmeasured)")
    return f"predicted makespan: {hours:.2f} h on {gpu_groups} GPU slot(s), longest first, at " + "; ".join(notes)
