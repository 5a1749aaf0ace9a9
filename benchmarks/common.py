"""Shared helpers of the benchmarks: synthetic utterances with the paper's duration spread, and the JSON line.

The durations come from `padding.SYNTHETIC_CORPORA` (one log-normal per corpus, mean/sd in seconds, the paper's
corpus sizes); the audio is a few harmonics at a random pitch plus noise, stored like a prepared corpus: 16-bit
WAV bytes in a `datasets.Audio(decode=False)` column with the `hf_ser.data.corpora.FEATURES` schema.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
try:
    import hf_ser  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(BENCH_DIR.parent))

import datasets  # noqa: E402
import torch  # noqa: E402
from padding import SYNTHETIC_CORPORA, synthetic_columns  # noqa: E402
from transformers import TrainingArguments  # noqa: E402

from hf_ser.data.audio import encode_wav  # noqa: E402
from hf_ser.data.corpora import FEATURES  # noqa: E402
from hf_ser.data.dataset import with_corpus_ids  # noqa: E402
from hf_ser.labels import CORPORA, SAMPLING_RATE  # noqa: E402

CORPUS_NAMES: tuple[str, ...] = tuple(SYNTHETIC_CORPORA)


CPU_CLOCK_HELP = "cpu: process CPU time (robust to other jobs on the cores; use with --threads 1)"


def add_common_args(parser: argparse.ArgumentParser, threads: bool = True, clock_help: str = CPU_CLOCK_HELP) -> None:
    """The options every CPU benchmark shares: --threads (optional), --clock, --seed, --quick."""
    if threads:
        parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0 = torch's default)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help=clock_help)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny configuration for the smoke test")


def set_threads(threads: int) -> None:
    """Pin torch's intra-op threads (1 by default in the CPU benchmarks: `make bench` shares 2 cores)."""
    if threads > 0:
        torch.set_num_threads(threads)


def clock(kind: str) -> float:
    """Seconds on the `kind` clock: "cpu" is this process's CPU time (all its threads), "wall" is perf_counter.

    The CPU benchmarks time single-threaded work on CPU time by default, so that other jobs sharing the cores
    slow the wall clock but not the measurement.
    """
    if kind == "cpu":
        return time.process_time()
    if kind == "wall":
        return time.perf_counter()
    raise ValueError(f"benchmarks/common.py: unknown clock {kind!r}; use 'cpu' or 'wall'.")


def synthetic_split(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`size` utterances drawn from the per-corpus duration models, in proportion to the corpus sizes.

    Returns corpus indices (into `CORPUS_NAMES`), lengths in samples and labels, in corpus order (corpora
    concatenated, random order inside a corpus), which is the order `hf_ser.data.splits` leaves a test split in.
    """
    corpus_ids, lengths, labels = synthetic_columns(seed)
    rows = np.sort(np.random.default_rng([seed, 7]).choice(len(corpus_ids), size, replace=False))
    return corpus_ids[rows], lengths[rows], labels[rows]


def synthetic_wave(length: int, rng: np.random.Generator) -> np.ndarray:
    """A voiced-like tone (random pitch, 4 harmonics, slow vibrato) plus white noise; float32 in [-1, 1]."""
    t = np.arange(length, dtype=np.float64) / SAMPLING_RATE
    f0 = rng.uniform(90.0, 300.0) * (1.0 + 0.03 * np.sin(2 * np.pi * rng.uniform(3.0, 7.0) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLING_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 5))
    wave = 0.15 * tone + rng.uniform(0.005, 0.05) * rng.standard_normal(length)
    return (wave / max(1.0, np.abs(wave).max() / 0.9)).astype(np.float32)


def synthetic_dataset(
    lengths: Sequence[int], corpus_ids: Sequence[int], labels: Sequence[int], seed: int = 0
) -> datasets.Dataset:
    """An in-memory prepared split (`FEATURES` schema plus the recipe's `corpus_id` column) of synthetic audio."""
    rng = np.random.default_rng([seed, 11])
    names = [CORPUS_NAMES[int(k)] for k in corpus_ids]
    paths = [f"synthetic/{name}/{i:05d}.wav" for i, name in enumerate(names)]
    audio = [{"bytes": encode_wav(synthetic_wave(int(n), rng)), "path": p} for n, p in zip(lengths, paths)]
    table = {
        "audio": audio,
        "label": [int(y) for y in labels],
        "language": [CORPORA[name].language for name in names],
        "corpus": names,
        "speaker": [f"{name}_{i % 10}" for i, name in enumerate(names)],
        "path": paths,
        "length": [int(n) for n in lengths],
    }
    # from_dict infers a bytes/path struct for "audio"; the cast relabels it (encoding would need torchcodec)
    dataset, _ = with_corpus_ids(datasets.Dataset.from_dict(table).cast(FEATURES))
    return dataset


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(25th, 75th) percentiles: how noisy a repeated measurement was."""
    q25, q75 = np.percentile(np.asarray(values, dtype=np.float64), [25, 75])
    return float(q25), float(q75)


def cpu_training_args(output_dir: str, batch_size: int, seed: int, accumulation: int = 1) -> TrainingArguments:
    """TrainingArguments for a timed CPU training step: no workers, no saving, no logging, no progress bar, and
    the extra columns (corpus ids) kept for SERTrainer."""
    return TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=accumulation,
        seed=seed,
        use_cpu=True,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
    )


def emit(result: dict) -> dict:
    """Print the benchmark's result as the last line (one JSON object) and return it."""
    print(json.dumps(result), flush=True)
    return result
