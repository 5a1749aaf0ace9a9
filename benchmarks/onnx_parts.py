"""Where ONNX int8 time goes on the XLS-R 300M architecture: the conv feature encoder against the transformer layers.

`onnx_speed.py` measures the demo model (hidden 96, 3 layers, 32-channel convs), where MatMul is about a tenth of
the ONNX time: conv, transposes and layer norms dominate, so quantising MatMul cannot give much there. This script
builds the XLS-R 300M architecture (random weights, built locally: conv 512 channels, hidden 1024, FFN 4096) with 1
and with 3 transformer layers, exports each (fp32 + dynamic int8), and times PyTorch fp32, ONNX fp32 and ONNX int8 on
the same batch (`--clips` clips of `--seconds` s, `--threads` threads, CPU time by default). Two sizes separate the
fixed conv-encoder cost from the per-layer cost, which gives the 24-layer time without building the 300M model:
T(24) = T(conv) + 24 T(layer).

    python benchmarks/onnx_parts.py [--clips 8] [--seconds 3] [--repeats 3] [--threads 1] [--quick]

The last line printed is one JSON object, `{"benchmark": "onnx_parts", "speedup_int8_24_layers": ..., ...}`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np
import onnxruntime as ort
import torch
from common import add_common_args, clock, emit, set_threads
from transformers import AutoModelForAudioClassification
from transformers.utils import logging as hf_logging

from hf_ser.infer.export import ONNX_TYPES, export_onnx
from hf_ser.train.modeling import _set_head, feature_extractor, xlsr_300m_config

LAYERS = (1, 3)  # two depths: their difference is the cost of two transformer layers


def build(folder: Path, layers: int) -> None:
    """Save a random XLS-R 300M-shaped classifier with `layers` transformer layers (and its extractor) in folder."""
    config = xlsr_300m_config()
    config.num_hidden_layers = layers
    _set_head(config, 256, False, None)
    torch.manual_seed(0)
    AutoModelForAudioClassification.from_config(config).save_pretrained(folder / "model")
    feature_extractor().save_pretrained(folder / "model")


def timings(folder: Path, batch: dict, repeats: int, kind: str) -> dict[str, float]:
    """Best-of-`repeats` seconds of one forward pass: PyTorch fp32, ONNX fp32, ONNX int8."""
    model = AutoModelForAudioClassification.from_pretrained(folder / "model").eval()
    tensors = {k: torch.from_numpy(v.astype(np.int64) if k == "attention_mask" else v) for k, v in batch.items()}

    def torch_pass() -> None:
        with torch.inference_mode():
            model(**tensors)

    def onnx_pass(file: str):
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(torch.get_num_threads(), 1)
        session = ort.InferenceSession(str(folder / "onnx" / file), options, providers=["CPUExecutionProvider"])
        feed = {i.name: batch[i.name].astype(ONNX_TYPES.get(i.type, np.float32)) for i in session.get_inputs()}
        return lambda: session.run(None, feed)

    passes = {"torch": torch_pass, "fp32": onnx_pass("model.onnx"), "int8": onnx_pass("model_int8.onnx")}
    best = {}
    for name, fn in passes.items():
        fn()  # warm-up
        runs = []
        for _ in range(repeats):
            start = clock(kind)
            fn()
            runs.append(clock(kind) - start)
        best[name] = min(runs)
    return best


def main(argv: list[str] | None = None) -> dict:
    """Time both depths, split conv and per-layer costs, print the 24-layer extrapolation as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8, help="clips in the batch")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each clip")
    parser.add_argument("--repeats", type=int, default=3)
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.clips, args.seconds, args.repeats = 2, 1.0, 1
    set_threads(args.threads)
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(args.seed)
    waves = [(0.1 * rng.standard_normal(int(args.seconds * 16000))).astype(np.float32) for _ in range(args.clips)]
    measured = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layers in LAYERS:
            folder = Path(tmp) / f"layers{layers}"
            build(folder, layers)
            export_onnx(folder, folder / "onnx", "int8", verbose=False)
            extractor = feature_extractor()
            batch = dict(extractor(waves, sampling_rate=16000, padding=True, return_tensors="np"))
            measured[layers] = timings(folder, batch, args.repeats, args.clock)
    low, high = LAYERS
    layer = {k: (measured[high][k] - measured[low][k]) / (high - low) for k in measured[low]}
    conv = {k: measured[low][k] - low * layer[k] for k in layer}
    full = {k: conv[k] + 24 * layer[k] for k in layer}
    result = {
        "benchmark": "onnx_parts",
        "conv_s": {k: round(v, 3) for k, v in conv.items()},
        "layer_s": {k: round(v, 3) for k, v in layer.items()},
        "speedup_int8_per_layer": round(layer["torch"] / layer["int8"], 2),
        "speedup_fp32_24_layers": round(full["torch"] / full["fp32"], 2),
        "speedup_int8_24_layers": round(full["torch"] / full["int8"], 2),
        "conv_share_of_int8_24_layers": round(conv["int8"] / full["int8"], 2),
    }
    return emit(result)


if __name__ == "__main__":
    main()
