"""Cost of per-layer feature extraction (`hf_ser.study.analysis layers`) relative to one plain inference pass.

A split of `--size` synthetic utterances (tones plus noise, durations from the per-corpus models of `padding.py`)
is embedded by `hf_ser.study.analysis.features.extract`: one forward pass per length-ordered batch with
`output_hidden_states=True`, every hidden state mean-pooled over the attention mask and written batch by batch
into one `.npy` memmap per layer (plus the projector, the final-LayerNorm output and the logits). The baseline
is `predict_logits`: the same batches, the same data pipeline, logits only. Both run `--repeats` times,
interleaved; `ratio` = median extraction time / median plain time (target <= 1.3: one forward pass for all
layers, not one per layer). For reference, `Trainer.predict` over the same split is timed too
(`ratio_vs_trainer_predict`). The cached logits must equal the plain pass's (`same_logits`), and the number of
layer files must be num_hidden_layers + 1. `peak_rss_mb` is the process's peak resident memory (ru_maxrss),
`peak_rss_mb_before_extraction` the same after
the first plain pass (what extraction adds on top is their difference).

    python benchmarks/layer_probe.py [--model demo-tiny|xls-r-300m-random] [--size 200] [--batch_size 8]
                                     [--repeats 3] [--threads 1] [--clock cpu|wall] [--device cpu|cuda] [--quick]

The last line printed is one JSON object, `{"benchmark": "layer_probe", "ratio": R, "peak_rss_mb": M, ...}`.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported: no progress bars in the timings' output

import datasets  # noqa: E402  (after `common`, which makes `hf_ser` importable)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import add_common_args, emit, median, set_threads, synthetic_dataset, synthetic_split  # noqa: E402
from transformers import Trainer, TrainingArguments  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from hf_ser.labels import SAMPLING_RATE  # noqa: E402
from hf_ser.study.analysis.features import extract, load_model, num_layer_entries, predict_logits  # noqa: E402
from hf_ser.train.trainer import SERCollator, make_transform  # noqa: E402

TARGET = 1.3


def clock(kind: str, device: str) -> float:
    """Process CPU time (robust to other jobs sharing the cores) or wall time; synchronises a GPU first."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.process_time() if kind == "cpu" else time.perf_counter()


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="demo-tiny", help="'demo-tiny', 'xls-r-300m-random' or a local folder")
    parser.add_argument("--size", type=int, default=200, help="utterances in the split")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.batch_size, args.repeats = 24, 8, 1
    if args.device.startswith("cuda") and args.clock == "cpu":
        args.clock = "wall"  # GPU work is not process CPU time
    set_threads(args.threads)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()

    corpus_idx, lengths, labels = synthetic_split(args.size, args.seed)
    if args.quick:
        lengths = lengths // 4
    dataset = synthetic_dataset(lengths, corpus_idx, labels, args.seed).remove_columns("corpus_id")
    loaded = load_model(None, args.model, args.device)
    entries = num_layer_entries(loaded.config)
    print(
        f"{len(dataset)} utterances, {lengths.sum() / SAMPLING_RATE:.0f} s of audio, model {args.model} "
        f"({loaded.config.num_hidden_layers} layers, hidden {loaded.config.hidden_size}), batch {args.batch_size}, "
        f"device {args.device}, torch threads {torch.get_num_threads()}, {args.clock} clock"
    )

    timings: dict[str, list[float]] = {"plain": [], "extract": [], "trainer_predict": []}
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            model=loaded.model,
            args=TrainingArguments(
                output_dir=str(Path(tmp) / "trainer"),
                per_device_eval_batch_size=args.batch_size,
                use_cpu=not args.device.startswith("cuda"),
                report_to="none",
                remove_unused_columns=False,
                dataloader_num_workers=0,
                disable_tqdm=True,
            ),
            data_collator=SERCollator(loaded.extractor),
        )
        warm = dataset.select(range(min(len(dataset), 2 * args.batch_size)))
        predict_logits(loaded, warm, args.batch_size, args.device)
        extract(loaded, warm, Path(tmp) / "warm", args.batch_size, args.device)
        features = None
        rss_before_extract = None
        for _ in range(args.repeats):
            start = clock(args.clock, args.device)
            plain = predict_logits(loaded, dataset, args.batch_size, args.device)
            timings["plain"].append(clock(args.clock, args.device) - start)
            rss_before_extract = rss_before_extract or peak_rss_mb()
            start = clock(args.clock, args.device)
            features = extract(loaded, dataset, Path(tmp) / "features", args.batch_size, args.device)
            timings["extract"].append(clock(args.clock, args.device) - start)
            start = clock(args.clock, args.device)
            trainer.predict(dataset.with_transform(make_transform(None)))
            timings["trainer_predict"].append(clock(args.clock, args.device) - start)
        layer_files = len(list(features.directory.glob("layer_*.npy")))
        same_logits = bool(np.allclose(features.logits(), plain, atol=1e-4))
        max_logit_diff = float(np.abs(features.logits() - plain).max())
        cache_mb = sum(f.stat().st_size for f in features.directory.iterdir()) / 2**20

    med = {k: median(v) for k, v in timings.items()}
    ratio = med["extract"] / med["plain"]
    result = {
        "benchmark": "layer_probe",
        "ratio": round(ratio, 3),
        "target": TARGET,
        "meets_target": ratio <= TARGET,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_rss_mb_before_extraction": round(rss_before_extract, 1),
        "plain_s": round(med["plain"], 3),
        "extract_s": round(med["extract"], 3),
        "trainer_predict_s": round(med["trainer_predict"], 3),
        "ratio_vs_trainer_predict": round(med["extract"] / med["trainer_predict"], 3),
        "layer_entries": entries,
        "layer_files": layer_files,
        "same_logits": same_logits,
        "max_logit_diff": max_logit_diff,
        "cache_mb": round(cache_mb, 2),
        "model": args.model,
        "size": len(dataset),
        "audio_s": round(float(lengths.sum()) / SAMPLING_RATE, 1),
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "clock": args.clock,
        "device": args.device,
        "threads": torch.get_num_threads(),
    }
    print(
        f"extraction {med['extract']:.2f} s vs plain inference {med['plain']:.2f} s -> ratio {ratio:.2f} "
        f"(target <= {TARGET}); Trainer.predict {med['trainer_predict']:.2f} s; {layer_files} layer files "
        f"(num_hidden_layers + 1 = {entries}); peak RSS {result['peak_rss_mb']} MiB"
    )
    return emit(result)


if __name__ == "__main__":
    main()
