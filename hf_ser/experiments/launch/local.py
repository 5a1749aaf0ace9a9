"""``--launcher local``: the jobs on this machine, one per device slot at a time (a slot is ``--gpus_per_run``
GPUs, repeated ``--runs_per_gpu`` times, or the CPU), through ``submitit.LocalExecutor``; waits for all."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import subprocess
from pathlib import Path

import torch

from hf_ser.errors import UserError
from hf_ser.experiments.launch.arguments import LaunchArguments
from hf_ser.experiments.launch.jobs import GridJob, LaunchResult, makespan_line
from hf_ser.experiments.launch.processes import MAX_REQUEUES, CommandJob, submitit
from hf_ser.safe_io import display_path

logger = logging.getLogger("hf_ser")


# Local jobs have no wall-clock limit of their own; submitit's LocalExecutor needs one (its default is 2 min).
LOCAL_TIMEOUT_MIN = 60 * 24 * 30


def device_slots(args: LaunchArguments, visible_gpus: int | None = None) -> list[tuple[int, ...]]:
    """The local pool's slots: each a tuple of GPU indices for one run (empty on cpu), at most --max_parallel.

    ``--devices 0,1,2,3 --gpus_per_run 2`` gives ((0, 1), (2, 3)); ``--devices cpu --max_parallel 2`` gives
    ((), ()) - on a CPU every slot is the whole machine, so --max_parallel (else --runs_per_gpu) says how many run
    at once. ``--runs_per_gpu K`` repeats the GPU slots K times, round by round (``--devices 0,1
    --runs_per_gpu 2``: (0,), (1,), (0,), (1,)), so the first runs spread over the devices before any shares one.
    """
    spec = args.devices.strip().lower()
    if spec == "auto":
        if visible_gpus is None:
            visible_gpus = torch.cuda.device_count()
        spec = ",".join(map(str, range(visible_gpus))) if visible_gpus else "cpu"
    if spec == "cpu":
        if args.gpus_per_run > 1:
            raise UserError("--gpus_per_run above 1 needs GPUs (with --devices cpu, --max_parallel runs several)")
        return [()] * (args.max_parallel or args.runs_per_gpu)
    try:
        gpus = [int(d) for d in spec.split(",") if d.strip()]
    except ValueError:
        raise UserError(f"--devices must be GPU indices like 0,1,2,3, 'cpu' or 'auto', not {args.devices!r}") from None
    if not gpus or len(set(gpus)) != len(gpus) or min(gpus) < 0:
        raise UserError(f"--devices must list distinct GPU indices, not {args.devices!r}")
    g = args.gpus_per_run
    if len(gpus) < g:
        raise UserError(f"--gpus_per_run {g} needs at least {g} devices; --devices gives {len(gpus)}")
    slots = [tuple(gpus[i : i + g]) for i in range(0, len(gpus) - g + 1, g)] * args.runs_per_gpu
    return slots[: args.max_parallel] if args.max_parallel else slots


def _submit_local(
    ordered: list[GridJob], args: LaunchArguments, folder: Path, report: tuple[str, ...] | None
) -> LaunchResult:
    """Run the jobs on this machine, one per device slot at a time, in the given order; waits for all."""
    slots = device_slots(args)
    free: queue.Queue[tuple[int, ...]] = queue.Queue()
    for slot in slots:
        free.put(slot)
    cpu_threads = str(max(1, (os.cpu_count() or 1) // len(slots)))
    share_cores = args.runs_per_gpu > 1  # K processes per GPU: the host's cores are shared like on a CPU
    job_ids: dict[int, str] = {}

    def run(job: GridJob) -> None:
        """Take a free slot, run `job` there as a submitit local job, give the slot back."""
        slot = free.get()
        try:
            executor = submitit.LocalExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
            executor.update_parameters(timeout_min=LOCAL_TIMEOUT_MIN, gpus_per_node=len(slot), visible_gpus=slot)
            # on CPU (or K runs per GPU) the slots share the cores: each job gets its share unless the user chose
            shared = not slot or share_cores
            env = {"OMP_NUM_THREADS": cpu_threads} if shared and "OMP_NUM_THREADS" not in os.environ else {}
            sub = executor.submit(CommandJob(job.command, job.cwd, env))
            job_ids[job.index] = sub.job_id
            logger.info("%s: job %s on %s", job.name, sub.job_id, ",".join(map(str, slot)) or "cpu")
            sub.result()
        finally:
            free.put(slot)

    print(
        f"running {len(ordered)} run(s) longest first, {len(slots)} at once on "
        f"{' '.join(','.join(map(str, s)) for s in slots) if slots[0] else 'cpu'}; logs in {display_path(folder)}"
    )
    if slots[0]:
        print(makespan_line([j.cost for j in ordered], len(set(slots)), args))
    failed = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(slots), thread_name_prefix="hf_ser-slot")
    try:
        futures = {pool.submit(run, job): job for job in ordered}
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            if future.exception() is not None:
                logger.error("%s failed: %s", job.name, str(future.exception()).strip().splitlines()[0][:300])
                failed.append(job.name)
    finally:  # on Ctrl-C no queued job starts; the running ones got the same SIGINT
        pool.shutdown(wait=True, cancel_futures=True)
    if report:
        done = subprocess.run(report, cwd=ordered[0].cwd, check=False)
        if done.returncode != 0:
            failed.append("report")
    return LaunchResult([job_ids[j.index] for j in ordered if j.index in job_ids], failed)
