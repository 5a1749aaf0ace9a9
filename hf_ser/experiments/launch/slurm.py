"""``--launcher slurm``: one array job of the runs (``--runs_per_gpu`` runs per task), its ``#SBATCH`` parameters
from the launch options, a dependent job that writes the report, and waiting for them with ``--wait``."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from hf_ser.errors import UserError
from hf_ser.experiments.launch.arguments import LaunchArguments
from hf_ser.experiments.launch.jobs import GridJob, LaunchResult, makespan_line
from hf_ser.experiments.launch.processes import (
    MAX_REQUEUES,
    CommandGroupJob,
    CommandJob,
    failed_run_names,
    submitit,
)
from hf_ser.safe_io import display_path

logger = logging.getLogger("hf_ser")


# Folders never shared between cluster nodes: a SLURM job writing there is lost to the launching node.
NODE_LOCAL_ROOTS = ("/tmp", "/var/tmp", "/dev/shm")


def slurm_minutes(text: str) -> int:
    """SLURM time (minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]) as whole minutes, as submitit's ``time`` wants."""
    try:
        days, _, rest = text.strip().rpartition("-")
        parts = [int(p) for p in rest.split(":")]
        if days:
            h, m, s = (parts + [0, 0])[:3]
            total = int(days) * 1440 + h * 60 + m + s / 60
        else:
            total = {
                1: lambda: parts[0],
                2: lambda: parts[0] + parts[1] / 60,
                3: lambda: parts[0] * 60 + parts[1] + parts[2] / 60,
            }[len(parts)]()
    except (ValueError, KeyError):
        raise UserError(f"--slurm_time must be minutes or [D-]HH:MM[:SS], not {text!r}") from None
    if total <= 0:
        raise UserError(f"--slurm_time must be positive, not {text!r}")
    return max(1, round(total))


_SET_BY_FLAGS = {
    "partition": "--slurm_partition",
    "time": "--slurm_time",
    "gpus_per_node": "--gpus_per_run",
    "array_parallelism": "--max_parallel",
    "nodes": None,
    "ntasks_per_node": None,
}


def slurm_parameters(args: LaunchArguments) -> dict:
    """``SlurmExecutor.update_parameters`` keywords for one array task per run.

    ``--slurm_extra KEY=VALUE``: a key that submitit knows (cpus_per_task, mem, account, qos, constraint, exclude,
    ...) is passed as that parameter (submitit checks it); any other key goes verbatim into
    ``additional_parameters`` (``#SBATCH --KEY=VALUE``, e.g. ``mail-type=END``). Keys the launch flags set are
    refused, naming the flag. ``gres=shard:N`` or ``gres=mps:N`` (a cluster that shares GPUs between jobs) replaces
    the whole GPU a task would ask for, so SLURM packs several one-run tasks onto one GPU; it excludes
    ``--runs_per_gpu`` above 1 (one task running K runs), which works on any cluster.
    """
    params: dict = {
        "nodes": 1,
        "ntasks_per_node": 1,
        "gpus_per_node": args.gpus_per_run,
        "time": slurm_minutes(args.slurm_time),
        "job_name": "hf_ser",
    }
    if args.slurm_partition:
        params["partition"] = args.slurm_partition
    if args.max_parallel:
        params["array_parallelism"] = args.max_parallel
    known = _submitit_slurm_keys()
    additional: dict = {}
    for item in args.slurm_extra or ():
        key, sep, value = item.partition("=")
        key = key.strip().lstrip("-")
        if not sep or not key:
            raise UserError(f"--slurm_extra takes KEY=VALUE items, not {item!r}")
        norm = key.replace("-", "_")
        if norm in _SET_BY_FLAGS:
            flag = _SET_BY_FLAGS[norm]
            how = f"use {flag}" if flag else "one task per run"
            raise UserError(f"--slurm_extra {key}: set by the launcher ({how})")
        if norm in known:
            params[norm] = int(value) if value.isdigit() else value
        else:
            additional[key] = value
    if additional:
        params["additional_parameters"] = additional
    if _shares_gpus(params):
        if args.runs_per_gpu > 1:
            raise UserError(
                "--slurm_extra gres=shard/mps shares GPUs through SLURM (one task per run); drop --runs_per_gpu, "
                "or drop the gres option to run --runs_per_gpu runs in one task per GPU"
            )
        if args.gpus_per_run > 1:
            raise UserError("--slurm_extra gres=shard/mps gives a run part of one GPU: --gpus_per_run must be 1")
        del params["gpus_per_node"]
    return params


def _shares_gpus(params: dict) -> bool:
    """Whether the SLURM parameters ask for a share of a GPU (``gres=shard:N`` / ``gres=mps:N``), not a GPU."""
    gres = str(params.get("gres", "")).lower()
    return any(kind in gres.replace(",", ":").split(":") for kind in ("shard", "mps"))


def _submitit_slurm_keys() -> set[str]:
    """The parameter names SlurmExecutor.update_parameters accepts (empty without submitit)."""
    if submitit is None:
        return set()
    return set(submitit.SlurmExecutor._valid_parameters())


def node_local_paths(paths: Sequence[str | os.PathLike]) -> list[str]:
    """Those of `paths` under a folder that is never shared between nodes (/tmp, /var/tmp, /dev/shm)."""
    out = []
    for p in paths:
        resolved = Path(p).resolve()
        if any(resolved == Path(r) or Path(r) in resolved.parents for r in NODE_LOCAL_ROOTS):
            out.append(display_path(p))
    return out


def _submit_slurm(
    ordered: list[GridJob],
    args: LaunchArguments,
    folder: Path,
    report: tuple[str, ...] | None,
    shared: Sequence[str | os.PathLike] = (),
) -> LaunchResult:
    """One array job (task i = ordered[i]) and, with `report`, a one-task job that runs it after the array."""
    params = slurm_parameters(args)
    local = node_local_paths([folder, *shared, *sorted({j.cwd for j in ordered})])
    if local:
        logger.warning("%s: not on a shared filesystem; SLURM tasks on other nodes will not see it", ", ".join(local))
    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
    executor.update_parameters(**params)
    groups = task_groups(ordered, args.runs_per_gpu)
    calls = [
        CommandJob(g[0].command, g[0].cwd)
        if len(g) == 1
        else CommandGroupJob([j.command for j in g], [j.name for j in g], g[0].cwd)
        for g in groups
    ]
    with executor.batch():  # one sbatch --array, task i = groups[i]
        jobs = [executor.submit(call) for call in calls]
    array_id = jobs[0].job_id.split("_")[0]
    shared = f" in {len(jobs)} task(s) of up to {args.runs_per_gpu} runs on one GPU" if args.runs_per_gpu > 1 else ""
    print(
        f"submitted SLURM array {array_id}: {len(ordered)} run(s){shared}, longest first, "
        f"{args.max_parallel or len(jobs)} task(s) at once; logs in {display_path(folder)}"
    )
    print(makespan_line([sum(j.cost for j in g) for g in groups], args.max_parallel or len(groups), args))
    report_id = None
    if report:
        after = submitit.SlurmExecutor(folder=folder)
        report_params = {k: v for k, v in params.items() if k not in ("array_parallelism", "gpus_per_node")}
        after.update_parameters(
            **{**report_params, "time": 60, "job_name": "hf_ser-report", "dependency": f"afterany:{array_id}"}
        )  # no GPU; after every task, failed or not
        report_job = after.submit(CommandJob(report, ordered[0].cwd))
        report_id = report_job.job_id
        print(f"report job {report_id} runs after the array")
    failed: list[str] = []
    if args.wait:
        failed = _wait(jobs, [[j.name for j in g] for g in groups])
        if report_id:
            failed += _wait([report_job], [["report"]])
    return LaunchResult([j.job_id for j in jobs], failed, report_id)


def task_groups(ordered: Sequence[GridJob], runs_per_gpu: int) -> list[list[GridJob]]:
    """The runs of each SLURM array task: `runs_per_gpu` consecutive runs of the longest-first order.

    Consecutive runs have similar costs, so the runs sharing a GPU end at about the same time and the GPU is
    rarely left to one straggler; the first task holds the longest runs.
    """
    k = max(1, runs_per_gpu)
    return [list(ordered[i : i + k]) for i in range(0, len(ordered), k)]


def _wait(jobs: list, names: list[list[str]]) -> list[str]:
    """Wait for submitit jobs, each running the runs `names[i]`; the names of the runs that failed."""
    failed = []
    for sub, runs in zip(jobs, names):
        try:
            sub.result()
        except Exception as e:  # noqa: BLE001 - submitit raises its own errors for any failed job
            lost = failed_run_names(str(e), runs)
            logger.error("%s (job %s) failed: %s", ", ".join(lost), sub.job_id, str(e).strip().splitlines()[0][:300])
            failed += lost
    return failed
