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

This module never imports ``recipe`` (the recipe imports it). ``submitit`` stays optional: only the two
launchers need it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import heapq
import logging
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from hf_ser.errors import UserError
from hf_ser.safe_io import display_path

try:  # optional extra: only --launcher local/slurm need it
    import submitit
    from submitit.helpers import Checkpointable, DelayedSubmission
except ImportError:  # pragma: no cover - exercised only without submitit
    submitit = None
    Checkpointable, DelayedSubmission = object, None

logger = logging.getLogger("hf_ser")

LAUNCHERS = ("none", "local", "slurm")
# A requeued SLURM task gets the array's --slurm_time again; 10 requeues after timeouts (preemptions do not count)
# let a run last 11x --slurm_time before submitit gives up on it.
MAX_REQUEUES = 10
# Local jobs have no wall-clock limit of their own; submitit's LocalExecutor needs one (its default is 2 min).
LOCAL_TIMEOUT_MIN = 60 * 24 * 30
# How long a stopped training process gets to exit on SIGTERM before SIGKILL; SLURM signals the job
# `signal_delay_s` (90 s) before its end, which leaves time to requeue after this.
STOP_GRACE_S = 30
# How often a task running several commands side by side looks at them (the runs last minutes to hours).
POLL_S = 0.2
# The one training rate measured on a GPU so far: 264 audio-seconds trained per GPU-second (= audio-hours per
# GPU-hour), XLS-R 300M architecture, SERTrainer, micro-batch 16 x 4, bf16, W=1, one run on one NVIDIA H200
# (92.4 samples/s, 2.7% MFU; main 6e46159, ../shared/gpu/README.md). Used only to print a predicted makespan.
MEASURED_AUDIO_SECONDS_PER_GPU_SECOND = 264.0
# Options of the launching command that the per-run command must not repeat (the integrator's grid flags).
GRID_OPTIONS = ("list_runs", "format", "run_index", "run")
# Folders never shared between cluster nodes: a SLURM job writing there is lost to the launching node.
NODE_LOCAL_ROOTS = ("/tmp", "/var/tmp", "/dev/shm")


@dataclass
class LaunchArguments:
    """How the runs of a grid are executed: here one after another, on this machine's devices, or on SLURM."""

    launcher: str = field(
        default="none",
        metadata={
            "help": "none: train the runs here one after another; "
            "local: one job per run on this machine's --devices; "
            "slurm: one SLURM array task per unfinished run."
        },
    )
    devices: str = field(
        default="auto",
        metadata={"help": "local: GPU indices ('0,1,2,3'), 'cpu', or 'auto' (every visible GPU, else cpu)."},
    )
    max_parallel: int | None = field(
        default=None,
        metadata={
            "help": "Runs at once (local: default one per device slot, --runs_per_gpu per GPU, 1 on cpu; slurm: "
            "array tasks at once, each running --runs_per_gpu runs; default all)."
        },
    )
    gpus_per_run: int = field(
        default=1, metadata={"help": "GPUs per run; above 1 the run trains with DDP (torchrun) across them."}
    )
    runs_per_gpu: int = field(
        default=1,
        metadata={
            "help": "Runs sharing each GPU at once (local: K pool slots per device; slurm: one task per GPU runs K "
            "runs side by side). Each needs its own GPU memory: K x one run's peak (16 x 4 micro-batches of XLS-R "
            "300M peaked at 14 GiB on an H200). With --devices cpu: runs at once when --max_parallel is not given."
        },
    )
    audio_seconds_per_gpu_second: float = field(
        default=MEASURED_AUDIO_SECONDS_PER_GPU_SECOND,
        metadata={
            "help": "Training rate of one run on one GPU, for the printed makespan only (default 264: measured on "
            "an H200, micro-batch 16 x 4, main 6e46159; benchmarks/gpu.py prints audio_hours_per_gpu_hour for yours)."
        },
    )
    slurm_partition: str | None = field(default=None, metadata={"help": "slurm: partition (default: the cluster's)."})
    slurm_time: str = field(
        default="24:00:00",
        metadata={
            "help": "slurm: time limit per task, minutes or "
            "[D-]HH:MM[:SS]; a task that reaches it "
            "requeues and resumes."
        },
    )
    slurm_extra: list[str] | None = field(
        default=None,
        metadata={
            "help": "slurm: more options as KEY=VALUE (e.g. account=lab mem=64G cpus_per_task=8 constraint=h100)."
        },
    )
    launch_dir: str | None = field(
        default=None,
        metadata={
            "help": "submitit's scripts, pickles and logs (default OUTPUT_DIR/launch; shared filesystem on SLURM)."
        },
    )
    wait: bool = field(
        default=False, metadata={"help": "slurm: wait for every task and the report job (local always waits)."}
    )


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


class CommandJob(Checkpointable):
    """A submitit callable that runs one command to the end, and on preemption/timeout stops it and requeues itself.

    The command is started with the preemption signal (SIGUSR2, which SLURM sends to every process of the job)
    ignored, so only :meth:`checkpoint` stops it: SIGTERM, ``STOP_GRACE_S`` to exit, then SIGKILL. The requeued
    job runs the same command again; the recipe resumes from the last complete epoch checkpoint.
    """

    def __init__(self, command: Sequence[str], cwd: str | None = None, env: dict[str, str] | None = None):
        """`command` run in `cwd` (default: the job's) with `env` added to the job's environment."""
        self.command = tuple(command)
        self.cwd = cwd
        self.env = dict(env or {})
        self._process: subprocess.Popen | None = None

    def __call__(self) -> int:
        """Run the command (stdout/stderr go to the job's log); raises CalledProcessError when it fails."""
        env = {**os.environ, **self.env}
        logger.info("running: %s", shlex.join(self.command))
        self._process = _start_ignoring_preemption(self.command, self.cwd, env)
        code = self._process.wait()
        self._process = None
        if code != 0:
            raise subprocess.CalledProcessError(code, shlex.join(self.command))
        return code

    def checkpoint(self, *args, **kwargs) -> DelayedSubmission:
        """Stop the running command (its state is in its epoch checkpoints) and resubmit the same job."""
        process, self._process = self._process, None
        if process is not None:
            _stop(process)
        return DelayedSubmission(self, *args, **kwargs)

    def __getstate__(self) -> dict:
        """Pickled without the live process handle (submitit pickles the job at submission and at checkpoint)."""
        return {**self.__dict__, "_process": None}

    def __repr__(self) -> str:
        """The command, as submitit's logs show the job."""
        return f"CommandJob({shlex.join(self.command)})"


class RunsFailedError(RuntimeError):
    """Some commands of a :class:`CommandGroupJob` failed; ``names`` are their runs (the message lists them)."""

    def __init__(self, codes: dict[str, int]):
        """`codes`: run name -> exit code of each failed command."""
        self.codes = dict(codes)
        self.names = sorted(codes)
        super().__init__(FAILED_RUNS + ", ".join(f"{n} (exit {codes[n]})" for n in self.names))

    def __reduce__(self):
        """Pickled with its codes (submitit pickles a job's exception into its result)."""
        return (RunsFailedError, (self.codes,))


FAILED_RUNS = "runs failed: "


def failed_run_names(message: str, names: Sequence[str]) -> list[str]:
    """The runs of a group that its failure `message` names (submitit gives the error as text); all when none is."""
    listed = re.search(re.escape(FAILED_RUNS) + r"(.*)", message)
    found = {n for n, _ in re.findall(r"(\S+) \(exit (-?\d+)\)", listed.group(1))} if listed else set()
    return [n for n in names if n in found] or list(names)


class CommandGroupJob(Checkpointable):
    """Several commands side by side in one submitit job: K runs sharing the job's GPU(s) (``--runs_per_gpu K``).

    Each command is started as :class:`CommandJob` starts its one (preemption signal ignored). The job waits for
    all, and fails with :class:`RunsFailedError` naming the runs whose command failed, after the others ended. On
    preemption/timeout :meth:`checkpoint` stops the commands still running and requeues the job; the requeued job
    starts only the commands that have not finished successfully, so no run is trained twice.
    """

    def __init__(
        self, commands: Sequence[Sequence[str]], names: Sequence[str], cwd: str | None = None, env: dict | None = None
    ):
        """`commands[i]` trains run `names[i]`, in `cwd` with `env` added to the job's environment."""
        if len(commands) != len(names) or len(set(names)) != len(names):
            raise ValueError("one distinct run name per command")
        self.commands = [tuple(c) for c in commands]
        self.names = list(names)
        self.cwd = cwd
        self.env = dict(env or {})
        self.finished: list[str] = []  # runs whose command exited 0 (kept across requeues)
        self._processes: dict[str, subprocess.Popen] = {}

    def __call__(self) -> list[str]:
        """Run every unfinished command at once and wait for all; returns the run names, or raises RunsFailedError."""
        env = {**os.environ, **self.env}
        for name, command in zip(self.names, self.commands):
            if name not in self.finished:
                logger.info("%s: running %s", name, shlex.join(command))
                self._processes[name] = _start_ignoring_preemption(command, self.cwd, env)
        failed: dict[str, int] = {}
        while self._processes:
            for name, process in list(self._processes.items()):
                code = process.poll()
                if code is not None:
                    self._ended(name, code, failed)
            time.sleep(POLL_S)
        if failed:
            raise RunsFailedError(failed)
        return list(self.names)

    def _ended(self, name: str, code: int, failed: dict[str, int]) -> None:
        """Record that run `name`'s command exited with `code`."""
        del self._processes[name]
        if code == 0:
            self.finished.append(name)
        else:
            failed[name] = code

    def checkpoint(self, *args, **kwargs) -> DelayedSubmission:
        """Stop the commands still running (keeping those that already ended well) and resubmit the job."""
        for name, process in list(self._processes.items()):
            if process.poll() is None:
                _stop(process)
            self._ended(name, process.returncode, {})
        return DelayedSubmission(self, *args, **kwargs)

    def __getstate__(self) -> dict:
        """Pickled without the live process handles."""
        return {**self.__dict__, "_processes": {}}

    def __repr__(self) -> str:
        """The runs, as submitit's logs show the job."""
        return f"CommandGroupJob({', '.join(self.names)})"


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM `process`, reap it within STOP_GRACE_S, else SIGKILL it.

    Reaped with ``os.waitpid``, not ``Popen.wait``: submitit calls :meth:`CommandJob.checkpoint` from a signal
    handler that interrupted ``Popen.wait`` in ``__call__``, which holds the Popen's wait lock, so a second
    ``Popen.wait`` could never reap the child (it spins until its timeout).
    """
    for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            pass
        deadline = None if grace is None else time.monotonic() + grace
        while deadline is None or time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(process.pid, 0 if deadline is None else os.WNOHANG)
            except ChildProcessError:  # reaped already
                return
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                return
            time.sleep(0.1)


def _start_ignoring_preemption(command: Sequence[str], cwd: str | None, env: dict[str, str]) -> subprocess.Popen:
    """Start `command` with submitit's preemption signal ignored (an ignored signal stays ignored across exec).

    The parent ignores it for the instant of the fork and then restores submitit's handler, so a preemption
    reaches the job (which checkpoints and requeues) and never kills the training process on its own.
    """
    sig = _preemption_signal()
    if threading.current_thread() is not threading.main_thread():  # signal.signal works in the main thread only
        return subprocess.Popen(command, cwd=cwd, env=env)
    previous = signal.signal(sig, signal.SIG_IGN)
    try:
        return subprocess.Popen(command, cwd=cwd, env=env)
    finally:
        signal.signal(sig, previous)


def _preemption_signal() -> signal.Signals:
    """The signal submitit asks the scheduler to send before a timeout (SUBMITIT_PREEMPT_SIGNAL, default USR2)."""
    return getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2"))


# ----------------------------------------------------------------------------- parsing the arguments


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


# ----------------------------------------------------------------------------- submitting


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
