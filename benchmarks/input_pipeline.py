"""Samples per second that one DataLoader worker delivers through the training input pipeline.

A prepared split of `--size` synthetic 3 s clips (16-bit WAV bytes from `hf_ser.data.audio.encode_wav`, `FEATURES`
schema) is written with `save_to_disk` and read back with `load_from_disk` (memory-mapped Arrow, like the
preparation cache), then read exactly as `SERTrainer` reads its train split: `with_transform(make_transform(
TrainAugment()))` (WAV decode, light noise, mean-variance normalisation, gain) and `SERCollator` (feature-extractor
padding, attention mask), through `torch.utils.data.DataLoader(num_workers=1, shuffle=True)` with batch
`--batch_size`. `samples_per_s` counts the samples the main process receives after `--warmup` batches (worker
start-up excluded), per CPU-second of the worker (the collator stamps each batch with the worker's
`time.process_time()`), so other jobs sharing the cores do not lower it; on an idle core this equals the
wall-clock rate, which is reported too (`samples_per_wall_s`; `--clock wall` makes it the headline).
`cache_bytes_per_audio_second` is the on-disk size of the saved dataset's Arrow files per second of audio
(16-bit PCM at 16 kHz is 32,000).

A single-process profile then splits the per-sample cost into its stages (Arrow read, `decode_wav`,
`AddGaussianSNR`, `mean_variance_normalize`, `Gain`, `feature_extractor.pad` in the collator), in microseconds.

    python benchmarks/input_pipeline.py [--size 512] [--batch_size 16] [--seconds 3] [--clock cpu] [--quick]

The last line printed is one JSON object, `{"benchmark": "input_pipeline", "samples_per_s": S, ...}`.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import datasets  # noqa: E402  (after `common`, which makes `hf_ser` importable)
import numpy as np
import torch  # noqa: E402
from common import CORPUS_NAMES, add_common_args, clock, emit, synthetic_dataset
from torch.utils.data import DataLoader  # noqa: E402

from hf_ser.data.audio import TrainAugment, decode_wav, mean_variance_normalize  # noqa: E402
from hf_ser.labels import EMOTIONS, SAMPLING_RATE  # noqa: E402
from hf_ser.train.modeling import feature_extractor  # noqa: E402
from hf_ser.train.trainer import SERCollator, make_transform  # noqa: E402

TARGET = 250.0


def write_cache(folder: Path, size: int, seconds: float, seed: int) -> tuple[datasets.Dataset, float]:
    """Save a prepared split of `size` clips of `seconds` s to `folder`; returns it loaded back and its bytes/s."""
    rng = np.random.default_rng(seed)
    lengths = np.full(size, int(seconds * SAMPLING_RATE))
    corpus_idx = np.arange(size) % len(CORPUS_NAMES)
    labels = rng.integers(0, len(EMOTIONS), size)
    synthetic_dataset(lengths, corpus_idx, labels, seed).save_to_disk(str(folder))
    cache_bytes = sum(p.stat().st_size for p in folder.glob("*.arrow"))
    return datasets.load_from_disk(str(folder)), cache_bytes / (lengths.sum() / SAMPLING_RATE)


@dataclass
class StampedCollator:
    """`SERCollator` that also returns the worker's CPU time (`time.process_time()` in the worker) after each batch."""

    collator: SERCollator

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.collator(features)
        batch["worker_cpu_seconds"] = torch.tensor(time.process_time(), dtype=torch.float64)
        return batch


def loader_throughput(
    dataset: datasets.Dataset, batch_size: int, batches: int, warmup: int, seed: int
) -> tuple[float, float]:
    """(samples per worker CPU-second, samples per wall-second) that a one-worker DataLoader delivers over the
    augmented train transform, after `warmup` batches."""
    loader = DataLoader(
        dataset.with_transform(make_transform(TrainAugment())),
        batch_size=batch_size,
        shuffle=True,
        num_workers=1,
        collate_fn=StampedCollator(SERCollator(feature_extractor())),
        generator=torch.Generator().manual_seed(seed),
        persistent_workers=True,
    )
    stream = itertools.chain.from_iterable(itertools.repeat(loader))  # epochs back to back, one worker throughout
    for _ in range(warmup):
        first = next(stream)
    samples = 0
    start = time.perf_counter()
    for _ in range(batches):
        batch = next(stream)
        samples += len(batch["labels"])
    wall = time.perf_counter() - start
    cpu = float(batch["worker_cpu_seconds"] - first["worker_cpu_seconds"])
    del stream, loader
    return samples / cpu, samples / wall


def profile_stages(
    dataset: datasets.Dataset, batch_size: int, batches: int, seed: int, kind: str = "cpu"
) -> dict[str, float]:
    """Mean microseconds per sample of each stage of the pipeline (augmentations at their probabilities), here."""
    augment = TrainAugment()
    collate = SERCollator(feature_extractor())
    rng = np.random.default_rng(seed)
    names = ("arrow_read", "decode_wav", "add_gaussian_snr", "mvn", "gain", "pad")
    stages: dict[str, list[float]] = {name: [] for name in names}

    def timed(name: str, fn, *args, per: int = 1):
        start = clock(kind)
        out = fn(*args)
        stages[name].append(1e6 * (clock(kind) - start) / per)
        return out

    for _ in range(batches):
        rows = rng.choice(len(dataset), batch_size, replace=False).tolist()
        raw = timed("arrow_read", dataset.__getitem__, rows, per=batch_size)  # what DataLoader's __getitems__ does
        features = []
        for audio, label in zip(raw["audio"], raw["label"]):
            wave = timed("decode_wav", decode_wav, audio)
            wave = timed("add_gaussian_snr", lambda w: augment.noise(samples=w, sample_rate=SAMPLING_RATE), wave)
            wave = timed("mvn", mean_variance_normalize, wave)
            wave = timed("gain", lambda w: augment.gain(samples=w, sample_rate=SAMPLING_RATE).astype(np.float32), wave)
            features.append({"input_values": wave, "labels": label})
        timed("pad", collate, features, per=batch_size)
    return {name: round(float(np.mean(values)), 1) for name, values in stages.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="clips in the saved dataset")
    parser.add_argument("--seconds", type=float, default=3.0, help="clip duration")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=48, help="timed batches")
    parser.add_argument("--warmup", type=int, default=4, help="untimed batches first (worker start-up)")
    add_common_args(
        parser,
        threads=False,
        clock_help="cpu: samples per CPU-second of the worker (robust to other jobs on the cores)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.batches, args.warmup = 48, 4, 1
    datasets.disable_progress_bars()

    with tempfile.TemporaryDirectory() as tmp:
        dataset, bytes_per_second = write_cache(Path(tmp) / "prepared", args.size, args.seconds, args.seed)
        per_cpu_s, per_wall_s = loader_throughput(dataset, args.batch_size, args.batches, args.warmup, args.seed)
        samples_per_s = per_cpu_s if args.clock == "cpu" else per_wall_s
        profile = profile_stages(dataset, args.batch_size, max(2, args.batches // 4), args.seed, args.clock)
        del dataset

    total = sum(profile.values())
    print(
        f"{args.size} clips of {args.seconds:g} s saved and reloaded: {bytes_per_second:,.0f} bytes per audio-second "
        f"(16-bit PCM: 32,000)"
    )
    print(
        f"one DataLoader worker, batch {args.batch_size}: {samples_per_s:.0f} samples/s on the {args.clock} clock "
        f"({samples_per_s * args.seconds:.0f} audio-s/s; per worker CPU-second {per_cpu_s:.0f}, per wall-second "
        f"{per_wall_s:.0f}) over {args.batches} batches; target >= {TARGET:g}"
    )
    print(f"single-process profile, us per sample (sum {total:.0f} us = {1e6 / total:.0f} samples/s):")
    for name, us in profile.items():
        print(f"  {name:>17}: {us:8.1f} us  {us / total:6.1%}")
    return emit(
        {
            "benchmark": "input_pipeline",
            "samples_per_s": round(samples_per_s, 1),
            "target": TARGET,
            "cache_bytes_per_audio_second": round(bytes_per_second, 1),
            "audio_seconds_per_s": round(samples_per_s * args.seconds, 1),
            "samples_per_worker_cpu_s": round(per_cpu_s, 1),
            "samples_per_wall_s": round(per_wall_s, 1),
            "clock": args.clock,
            "profile_us_per_sample": profile,
            "profile_samples_per_s": round(1e6 / total, 1),
            "clip_seconds": args.seconds,
            "batch_size": args.batch_size,
            "batches": args.batches,
        }
    )


if __name__ == "__main__":
    main()
