"""The submitit callables that run training commands: one command (:class:`CommandJob`) or several side by side
(:class:`CommandGroupJob`), started with the preemption signal ignored, stopped and requeued on preemption."""

from __future__ import annotations

import logging
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Sequence

try:  # optional extra: only --launcher local/slurm need it
    import submitit
    from submitit.helpers import Checkpointable, DelayedSubmission
except ImportError:  # pragma: no cover - exercised only without submitit
    submitit = None
    Checkpointable, DelayedSubmission = object, None

logger = logging.getLogger("hf_ser")

# A requeued SLURM task gets the array's --slurm_time again; 10 requeues after timeouts (preemptions do not count)
# let a run last 11x --slurm_time before submitit gives up on it.
MAX_REQUEUES = 10
# How long a stopped training process gets to exit on SIGTERM before SIGKILL; SLURM signals the job
# `signal_delay_s` (90 s) before its end, which leaves time to requeue after this.
STOP_GRACE_S = 30
# How often a task running several commands side by side looks at them (the runs last minutes to hours).
POLL_S = 0.2


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
