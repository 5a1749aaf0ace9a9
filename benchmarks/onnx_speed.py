"""CPU inference speed of the ONNX export (fp32 and dynamic int8) relative to PyTorch, with parity and UAR.

A demo model (`demo-tiny` wav2vec2 unless `--model`) is trained with `hf_ser.experiments.recipe neo_latin --demo`
(one multilingual model) on the
synthetic corpus (`--languages`, `--per_cell` utterances per language x emotion, `--epochs`), exported with
`hf_ser.infer.export --quantize int8`, and its test split is classified three ways on the same length-sorted batches
and the same number of threads (torch intra-op threads = onnxruntime intra-op threads = `--threads`):
PyTorch (the stock model on its extractor's batches, as the pipeline runs it), onnxruntime fp32, onnxruntime int8.
Each pass runs `--repeats` times, interleaved; speedups are median PyTorch time / median ONNX time.

Parity: `max_abs_diff_fp32` is the largest |logit difference| fp32 vs PyTorch over the test split and 50 extra
clips of 0.2-6 s (target < 1e-3); `uar_change_int8_points` = 100 x (UAR int8 - UAR PyTorch) on the test split
(target: |change| < 1 point).

    python benchmarks/onnx_speed.py [--model demo-tiny] [--languages FRE ITA POR ROM SPA] [--per_cell 30] [--epochs 4]
                              [--batch_size 8] [--repeats 3] [--threads 1] [--clock cpu|wall] [--quick]

The last line printed is one JSON object, `{"benchmark": "onnx", "speedup_fp32": ..., ...}`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")


import numpy as np
import torch
from common import add_common_args, clock, emit, median, set_threads
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification
from transformers.utils import logging as hf_logging

from hf_ser.data.audio import decode_wav
from hf_ser.experiments.recipe import __main__ as recipe
from hf_ser.infer.export import OnnxAudioClassifier, export_onnx
from hf_ser.metrics import uar
from hf_ser.train.run_data import run_datasets
from hf_ser.train.sampling import length_sorted_order


def train_demo(out: Path, args) -> Path:
    """A demo run (multilingual over --languages) trained quietly; returns its run folder."""
    argv = [
        "neo_latin",
        "--demo",
        "--languages",
        *args.languages,
        "--synthetic_per_cell",
        str(args.per_cell),
        "--num_train_epochs",
        str(args.epochs),
        "--model_name_or_path",
        args.model,
        "--output_dir",
        str(out),
    ]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = recipe.main(argv)
    if code != 0:
        raise SystemExit(f"demo training failed (exit {code}): python -m hf_ser.recipe {' '.join(argv)}")
    return next(p for p in out.iterdir() if (p / "metrics.json").is_file())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="demo-tiny", help="a demo backbone alias (modeling.DEMO_BACKBONES)")
    parser.add_argument(
        "--languages",
        nargs="+",
        default=["FRE", "ITA", "POR", "ROM", "SPA"],
        help="Neo-Latin codes (neo_latin recipe); five give a 270-clip test split, where one flipped "
        "prediction moves UAR by ~0.4 point (with two languages, 108 clips: ~0.9)",
    )
    parser.add_argument("--per_cell", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.languages, args.per_cell, args.epochs, args.repeats = ["FRE", "ITA"], 6, 2, 1
    set_threads(args.threads)
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")

    with tempfile.TemporaryDirectory() as tmp:
        run = train_demo(Path(tmp) / "runs", args)
        export_onnx(run, Path(tmp) / "onnx", "int8")
        threads = torch.get_num_threads()
        fp32 = OnnxAudioClassifier(Path(tmp) / "onnx", threads=threads, int8=False)
        int8 = OnnxAudioClassifier(Path(tmp) / "onnx", threads=threads, int8=True)
        model = AutoModelForAudioClassification.from_pretrained(run / "model").eval()
        extractor = AutoFeatureExtractor.from_pretrained(run / "model")
        _, test, _ = run_datasets(run)
        waves = [decode_wav(a) for a in test["audio"]]
        y_true = np.asarray(test["label"])
        order = length_sorted_order([len(w) for w in waves])
        batches = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]

        def torch_pass() -> np.ndarray:
            out = np.zeros((len(waves), 6), dtype=np.float32)
            with torch.inference_mode():
                for b in batches:
                    inputs = extractor([waves[i] for i in b], sampling_rate=16000, padding=True, return_tensors="pt")
                    out[b] = model(**inputs).logits.numpy()
            return out

        def onnx_pass(clf: OnnxAudioClassifier) -> np.ndarray:
            out = np.zeros((len(waves), 6), dtype=np.float32)
            for b in batches:
                out[b] = clf.logits([waves[i] for i in b])
            return out

        passes = {"torch": torch_pass, "onnx_fp32": lambda: onnx_pass(fp32), "onnx_int8": lambda: onnx_pass(int8)}
        timings: dict[str, list[float]] = {k: [] for k in passes}
        logits: dict[str, np.ndarray] = {}
        for fn in passes.values():  # warm-up
            fn()
        for _ in range(args.repeats):
            for name, fn in passes.items():
                start = clock(args.clock)
                logits[name] = fn()
                timings[name].append(clock(args.clock) - start)
        rng = np.random.default_rng(args.seed)
        extra = [(0.1 * rng.standard_normal(int(rng.uniform(0.2, 6.0) * 16000))).astype(np.float32) for _ in range(50)]
        extra_diff = 0.0
        for i in range(0, 50, args.batch_size):
            chunk = extra[i : i + args.batch_size]
            with torch.inference_mode():
                ref = model(**extractor(chunk, sampling_rate=16000, padding=True, return_tensors="pt")).logits.numpy()
            extra_diff = max(extra_diff, float(np.abs(fp32.logits(chunk) - ref).max()))
        sizes = {
            k: (Path(tmp) / "onnx" / f).stat().st_size / 2**20
            for k, f in (("fp32", "model.onnx"), ("int8", "model_int8.onnx"))
        }

    med = {k: median(v) for k, v in timings.items()}
    uars = {k: uar(y_true, v.argmax(1)) for k, v in logits.items()}
    diff_fp32 = max(float(np.abs(logits["onnx_fp32"] - logits["torch"]).max()), extra_diff)
    result = {
        "benchmark": "onnx",
        "speedup_fp32": round(med["torch"] / med["onnx_fp32"], 3),
        "speedup_int8": round(med["torch"] / med["onnx_int8"], 3),
        "max_abs_diff_fp32": diff_fp32,
        "max_abs_diff_int8": float(np.abs(logits["onnx_int8"] - logits["torch"]).max()),
        "uar_torch": round(uars["torch"], 4),
        "uar_onnx_fp32": round(uars["onnx_fp32"], 4),
        "uar_onnx_int8": round(uars["onnx_int8"], 4),
        "uar_change_int8_points": round(100 * (uars["onnx_int8"] - uars["torch"]), 2),
        "abs_uar_change_int8_points": round(abs(100 * (uars["onnx_int8"] - uars["torch"])), 2),
        "same_predictions_int8": float(np.mean(logits["onnx_int8"].argmax(1) == logits["torch"].argmax(1))),
        "torch_s": round(med["torch"], 3),
        "onnx_fp32_s": round(med["onnx_fp32"], 3),
        "onnx_int8_s": round(med["onnx_int8"], 3),
        "model_mb_fp32": round(sizes["fp32"], 2),
        "model_mb_int8": round(sizes["int8"], 2),
        "model": args.model,
        "test_size": len(waves),
        "audio_s": round(sum(len(w) for w in waves) / 16000, 1),
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "threads": threads,
        "clock": args.clock,
    }
    print(
        f"{len(waves)} test clips ({result['audio_s']} s), {threads} thread(s): PyTorch {med['torch']:.2f} s, "
        f"ONNX fp32 {med['onnx_fp32']:.2f} s (x{result['speedup_fp32']}), int8 {med['onnx_int8']:.2f} s "
        f"(x{result['speedup_int8']}); max |diff| fp32 {diff_fp32:.2e}; UAR torch {100 * uars['torch']:.1f}, "
        f"int8 {100 * uars['onnx_int8']:.1f} ({result['uar_change_int8_points']:+.2f} points)"
    )
    return emit(result)


if __name__ == "__main__":
    main()
