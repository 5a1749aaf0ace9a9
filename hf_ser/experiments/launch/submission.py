"""A grid's runs as scheduler jobs: a SLURM array or the local devices, through ``submitit``, longest first.

The recipe plans a grid (``recipe.plan.plan_grid``), keeps the runs that are not finished and hands them here as
:class:`GridJob` s. Each job is one process, ``python -m hf_ser.recipe NAME ... --run_index I`` (under
``torchrun --standalone --nproc_per_node G`` with ``--gpus_per_run G > 1``: DDP inside the run), wrapped in
:class:`CommandJob`, a ``submitit.helpers.Checkpointable``: on preemption or timeout submitit calls its
``checkpoint()``, which stops the training process and requeues the same command; the recipe then resumes from
the run's last epoch checkpoint, under the run folder's lock (``runs.RunLock``) so a requeued or repeated job
never trains beside another writer.

- ``--launcher slurm``: one array job (``SlurmExecutor.map_array``), one task per run in decreasing estimated
  cost, ``--max_parallel`` tasks at once, ``--gpus_per_run`` GPUs and one task per array element, partition,
  time and any other ``#SBATCH`` option through ``--slurm_extra KEY=VALUE``; then a dependent one-task job
  (``afterany``) writes the report. The command returns once submitted (``--wait`` waits).
- ``--launcher local``: the same jobs on this machine through ``submitit.LocalExecutor``. That executor starts
  every job it is given at once and fixes ``CUDA_VISIBLE_DEVICES`` per executor, so concurrency and placement
  come from a standard ``concurrent.futures.ThreadPoolExecutor`` with one worker per device slot (a slot is
  ``--gpus_per_run`` devices, or nothing with ``--devices cpu``); each worker submits its next job to its
  slot's executor and waits for it. Jobs leave the pool's queue in the order given: longest first.
- ``--runs_per_gpu K`` (local): every GPU slot appears K times in the pool, so K runs share each device at once
  (devices 0,1 with K=2: four slots). On SLURM, one array task per GPU runs K runs side by side
  (:class:`CommandGroupJob`, runs of similar cost grouped together, longest first); a cluster that shares GPUs
  between jobs itself (``gres/shard`` or ``gres/mps``) takes ``--slurm_extra gres=shard:N`` instead, one task
  per run. K runs need K times one run's GPU memory.

This package never imports ``recipe`` (the recipe imports it). ``submitit`` stays optional: only the two
launchers need it.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from hf_ser.errors import UserError
from hf_ser.experiments.launch.arguments import LAUNCHERS, LaunchArguments
from hf_ser.experiments.launch.jobs import GridJob, LaunchResult, longest_first
from hf_ser.experiments.launch.local import _submit_local, device_slots
from hf_ser.experiments.launch.processes import submitit
from hf_ser.experiments.launch.slurm import _submit_slurm, slurm_minutes, slurm_parameters
from hf_ser.safe_io import display_path

logger = logging.getLogger("hf_ser")


def check_arguments(args: LaunchArguments) -> None:
    """UserError for a launcher, device list, parallelism or scheduler option that cannot work."""
    if args.launcher not in LAUNCHERS:
        raise UserError(f"--launcher must be one of {', '.join(LAUNCHERS)}, not {args.launcher!r}")
    if args.gpus_per_run < 1:
        raise UserError(f"--gpus_per_run must be at least 1, not {args.gpus_per_run}")
    if args.max_parallel is not None and args.max_parallel < 1:
        raise UserError(f"--max_parallel must be at least 1, not {args.max_parallel}")
    if args.runs_per_gpu < 1:
        raise UserError(f"--runs_per_gpu must be at least 1, not {args.runs_per_gpu}")
    if args.audio_seconds_per_gpu_second <= 0:
        raise UserError(f"--audio_seconds_per_gpu_second must be positive, not {args.audio_seconds_per_gpu_second}")
    if args.launcher == "local":
        device_slots(args)
    if args.launcher == "slurm":
        slurm_minutes(args.slurm_time)
        slurm_parameters(args)
    if args.launcher != "none" and submitit is None:
        raise UserError(f"--launcher {args.launcher} needs submitit: pip install submitit")


def submit(
    jobs: Sequence[GridJob],
    args: LaunchArguments,
    folder: str | os.PathLike,
    follow: str | None = None,
    report_dir: str | os.PathLike | None = None,
    shared: Sequence[str | os.PathLike] = (),
    python: str = sys.executable,
) -> LaunchResult:
    """Submit `jobs` longest first with ``args.launcher`` (local or slurm); returns the job ids and failed runs.

    `folder` receives submitit's scripts, pickles and logs. `follow` is the command that shows progress
    (:func:`list_runs_command`); with `report_dir`, ``python -m hf_ser.study.report REPORT_DIR`` runs once every job has
    ended (locally after the pool; on SLURM as a job depending ``afterany`` on the array). Local launches wait for
    every job; SLURM ones return once submitted unless ``args.wait``. `shared` names more folders every SLURM task
    must see (output and cache folders): a node-local one (/tmp, ...) is warned about.
    """
    check_arguments(args)
    if args.launcher == "none":
        raise ValueError("submit() needs --launcher local or slurm; 'none' trains in the calling process")
    ordered = longest_first(jobs)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    report = (python, "-m", "hf_ser.study.report", str(report_dir)) if report_dir is not None else None
    if not ordered:
        logger.info("no run left to train")
        return LaunchResult([])
    if args.launcher == "local":
        result = _submit_local(ordered, args, folder, report)
    else:
        result = _submit_slurm(ordered, args, folder, report, shared)
    if follow:
        print(f"progress: {follow}")
    if report_dir is not None:
        print(
            f"tables: hf-ser report {shlex.quote(display_path(report_dir))}"
            + (" (written when the array ends)" if result.report_job_id and not args.wait else "")
        )
    return result
