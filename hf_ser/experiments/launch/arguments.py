"""The launcher's options (``LaunchArguments``, keys of every recipe): which launcher, which devices, how many runs
at once and per GPU, the SLURM options, and the training rate the predicted makespan uses."""

from __future__ import annotations

from dataclasses import dataclass, field

LAUNCHERS = ("none", "local", "slurm")
# The one training rate measured on a GPU so far: 264 audio-seconds trained per GPU-second (= audio-hours per
# GPU-hour), XLS-R 300M architecture, SERTrainer, micro-batch 16 x 4, bf16, W=1, one run on one NVIDIA H200
# (92.4 samples/s, 2.7% MFU; main 6e46159, ../shared/gpu/README.md). Used only to print a predicted makespan.
MEASURED_AUDIO_SECONDS_PER_GPU_SECOND = 264.0


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
