"""``hf-ser export RUN_OR_MODEL --onnx --output_dir OUT [--quantize int8]``: an ONNX copy of a model, and a classifier.

The exporter is torch's maintained one, ``torch.onnx.export(..., dynamo=True)`` (torch.export + onnxscript): the
TorchScript exporter is deprecated, and optimum's ONNX export is not released for transformers 5. The graph takes
the model's own inputs (``input_values`` [+ ``attention_mask``] with dynamic batch and length axes for waveform
models; ``input_features`` with a dynamic batch axis for Whisper, whose window is fixed) and returns ``logits``.

``OUT`` is a folder: ``model.onnx`` (fp32), with ``--quantize int8`` also ``model_int8.onnx`` (dynamic int8
quantisation of the MatMul/Gemm weights by ``onnxruntime.quantization.quantize_dynamic``), plus ``config.json``
and ``preprocessor_config.json`` so :class:`OnnxAudioClassifier` preprocesses and labels exactly as the
PyTorch pipeline. ``hf-ser predict FILES --onnx OUT`` runs it. onnx / onnxscript / onnxruntime are optional extras.
Speed (CPU time, 1 thread, ``benchmarks/onnx_parts.py``): int8 quantises only MatMul/Gemm; the convolutional
feature encoder stays fp32, since ConvInteger was slower than fp32 Conv (2.3x slower as QInt8, no faster as QUInt8,
measured on the 512-channel XLS-R encoder). On the XLS-R 300M architecture one transformer layer runs 2.6-2.8x
faster in int8 than in PyTorch fp32 and 24 layers give 2.1-2.25x overall (two runs), the fp32 encoder being 40-50%
of the int8 time. On the demo model (hidden 96, 3 layers) MatMul is ~10% of the time, so int8 cannot reach 2x there.

``--onnx`` is the format switch (ONNX is the only format so far, and the default); the folder is ``--output_dir``
as in every other command. The older ``--onnx OUT`` still works, with a deprecation notice.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch
from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification, PretrainedConfig
from transformers.utils import logging as transformers_logging

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.data.audio import resample
from hf_ser.errors import UserError
from hf_ser.safe_io import display_path
from hf_ser.train.modeling import input_name

logger = logging.getLogger("hf_ser.infer.export")

FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
MAX_BATCH = 1024
MIN_SAMPLES = 800  # 50 ms: below the receptive field of the wav2vec2 conv stack (400 samples) the export is invalid
MAX_SAMPLES = 16_000 * 600  # 10 minutes at 16 kHz
ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A model folder from a run folder (``<run>/model``) or a model folder; UserError otherwise."""
    p = Path(path).expanduser()
    if not p.is_dir():
        what = "is a file, not a folder" if p.exists() else "does not exist"
        raise UserError(f"the model folder {display_path(path)} {what}; give a run folder or a saved model folder")
    for candidate in (p, p / "model"):
        if (candidate / "config.json").is_file():
            return candidate
    raise UserError(f"{display_path(p)} holds no config.json: give a run folder or a saved model folder")


@contextlib.contextmanager
def loading_bars(show: bool):
    """Within this block, transformers' progress bars ("Loading weights") show only when `show`; the previous
    setting comes back after."""
    was = transformers_logging.is_progress_bar_enabled()
    if not show:
        transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            transformers_logging.enable_progress_bar()


# library loggers whose warnings an export prints although nothing is wrong (onnx_ir's "value has no producer"...)
_EXPORT_LOGGERS = ("onnx_ir", "onnxscript", "torch.onnx", "torch._dynamo", "torch.export", "root")


@contextlib.contextmanager
def quiet_export(verbose: bool):
    """Unless `verbose`, hide what torch.onnx, onnxscript, onnx_ir and onnxruntime's quantiser print on the way
    (progress lines on stdout, FutureWarning/UserWarning, the "run pre-processing before quantization" hint,
    transformers' "Loading weights" bar). Their text is kept and shown if the export fails."""
    if verbose:
        yield
        return
    captured = io.StringIO()
    levels = {name: logging.getLogger(name).level for name in _EXPORT_LOGGERS}
    for name in _EXPORT_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(captured),
            contextlib.redirect_stderr(captured),
            loading_bars(False),
        ):
            warnings.simplefilter("ignore")
            yield
    except Exception:
        sys.stderr.write(captured.getvalue())
        raise
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class _Logits(torch.nn.Module):
    """The model as a function of its input tensors returning only the logits (what the graph exports)."""

    def __init__(self, model: torch.nn.Module, names: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        """Logits of one batch, inputs in the order of ``self.names``."""
        return self.model(**dict(zip(self.names, tensors))).logits


def example_inputs(extractor, seconds: tuple[float, float] = (1.5, 1.0)) -> dict[str, torch.Tensor]:
    """Two clips of different lengths through the model's extractor: the example the graph is traced with."""
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(int(s * extractor.sampling_rate)).astype(np.float32) * 0.1 for s in seconds]
    fixed = input_name(extractor) == "input_features"
    batch = extractor(
        waves, sampling_rate=extractor.sampling_rate, return_tensors="pt", **({} if fixed else {"padding": True})
    )
    return {k: v for k, v in batch.items() if k in (input_name(extractor), "attention_mask")}


def export_onnx(
    model_dir: str | os.PathLike, out: str | os.PathLike, quantize: str | None = None, verbose: bool = True
) -> dict[str, Path]:
    """Write ``OUT/model.onnx`` (+ ``model_int8.onnx`` with quantize='int8') and the config / extractor files.

    Without `verbose`, the libraries' own output is hidden (:func:`quiet_export`) and one INFO line per step is
    logged instead.
    """
    src = resolve_model_dir(model_dir)
    if quantize not in (None, "int8"):
        raise UserError(f"--quantize {quantize!r}: only 'int8' (dynamic quantisation) is supported")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with quiet_export(verbose):
        config = AutoConfig.from_pretrained(src)
        model = AutoModelForAudioClassification.from_pretrained(src, attn_implementation="eager").eval()
        extractor = AutoFeatureExtractor.from_pretrained(src)
    logger.info("loaded %s (%s)", display_path(src), config.model_type)
    inputs = example_inputs(extractor)
    names = tuple(inputs)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    length = torch.export.Dim("length", min=MIN_SAMPLES, max=MAX_SAMPLES)
    dynamic = {n: ({0: batch} if n == "input_features" else {0: batch, 1: length}) for n in names}
    path = out / FP32_FILE
    with torch.no_grad(), quiet_export(verbose):
        torch.onnx.export(
            _Logits(model, names).eval(),
            tuple(inputs.values()),
            str(path),
            dynamo=True,
            input_names=list(names),
            output_names=["logits"],
            dynamic_shapes={"tensors": tuple(dynamic[n] for n in names)},
            optimize=True,
            external_data=False,
        )
    config.save_pretrained(out)
    extractor.save_pretrained(out)
    logger.info("fp32: %s (%.1f MB)", display_path(path), path.stat().st_size / 1e6)
    written = {"fp32": path}
    if quantize == "int8":
        with quiet_export(verbose):
            written["int8"] = quantize_int8(path, out / INT8_FILE)
        logger.info("int8: %s (%.1f MB)", display_path(written["int8"]), written["int8"].stat().st_size / 1e6)
    return written


def quantize_int8(src: Path, dst: Path) -> Path:
    """Dynamic int8 quantisation of the weights of MatMul / Gemm (activations stay fp32, scaled at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
    return dst


class _Model:
    """What callers read from ``pipeline.model``: its ``config`` (num_labels, id2label)."""

    def __init__(self, config: PretrainedConfig):
        self.config = config


class OnnxAudioClassifier:
    """onnxruntime classifier with the call interface of ``pipeline("audio-classification")``.

    ``clf(x, top_k=None)`` for one input (a waveform array, or ``{"raw"|"array": wave, "sampling_rate": sr}``)
    returns ``[{"label", "score"}, ...]`` best first; a list or an iterator of inputs gives one such list per
    input (an iterator lazily). ``top_k`` defaults to 5 as in the pipeline; None means every label.
    ``.model.config`` and ``.feature_extractor`` are those of the exported model.
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None, int8: bool | None = None):
        import onnxruntime as ort

        p = Path(path)
        folder = p if p.is_dir() else p.parent
        file = (
            p
            if p.is_file()
            else folder / (INT8_FILE if int8 or (int8 is None and not (folder / FP32_FILE).is_file()) else FP32_FILE)
        )
        if not file.is_file() or not (folder / "config.json").is_file():
            raise UserError(
                f"{display_path(p)}: no ONNX model with its config.json; write one with "
                "`hf-ser export RUN --onnx --output_dir OUT`"
            )
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        self.path = file
        self.model = _Model(AutoConfig.from_pretrained(folder))
        self.feature_extractor = AutoFeatureExtractor.from_pretrained(folder)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.input_types = {i.name: ONNX_TYPES.get(i.type, np.float32) for i in self.session.get_inputs()}

    def logits(self, waves: list[np.ndarray]) -> np.ndarray:
        """Logits of a batch of 16 kHz waveforms, preprocessed by the model's extractor (padded with a mask)."""
        fe = self.feature_extractor
        fixed = input_name(fe) == "input_features"
        if not fixed and "attention_mask" not in self.input_names and len(waves) > 1:
            return np.concatenate([self.logits([w]) for w in waves])  # no mask: padding would change the result
        batch = fe(
            waves,
            sampling_rate=fe.sampling_rate,
            return_tensors="np",
            **({} if fixed else {"padding": True}),
            **({"return_attention_mask": True} if "attention_mask" in self.input_names else {}),
        )
        feed = {n: np.asarray(batch[n]).astype(self.input_types[n]) for n in self.input_names}
        return self.session.run(["logits"], feed)[0]

    def _wave(self, item) -> np.ndarray:
        """One input as a float32 waveform at the extractor's rate (the pipeline's accepted forms)."""
        sr = int(self.feature_extractor.sampling_rate)
        if isinstance(item, dict):
            wave = item.get("raw", item.get("array"))
            if wave is None or "sampling_rate" not in item:
                raise ValueError('a dict input needs "raw" (or "array") and "sampling_rate"')
            return resample(np.asarray(wave, dtype=np.float32), int(item["sampling_rate"]), sr)
        return np.asarray(item, dtype=np.float32)

    def _rows(self, logits: np.ndarray, top_k: int | None) -> list[list[dict]]:
        """Softmax scores as the pipeline's [{"label", "score"}] lists, best first, top_k long."""
        config = self.model.config
        k = config.num_labels if top_k is None else min(int(top_k), config.num_labels)
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = z / z.sum(axis=1, keepdims=True)
        return [
            [{"score": float(p[j]), "label": config.id2label[int(j)]} for j in np.argsort(-p, kind="stable")[:k]]
            for p in probs
        ]

    def _stream(self, items: Iterable, batch_size: int, top_k: int | None) -> Iterator[list[dict]]:
        """Classify `items` in batches, yielding one result list per input in order."""
        chunk: list[np.ndarray] = []
        for item in items:
            chunk.append(self._wave(item))
            if len(chunk) == batch_size:
                yield from self._rows(self.logits(chunk), top_k)
                chunk = []
        if chunk:
            yield from self._rows(self.logits(chunk), top_k)

    def __call__(self, inputs, batch_size: int = 1, top_k: int | None = 5, **_ignored):
        """Like the pipeline: one input -> one list; a list -> a list of lists; an iterator -> a generator of lists."""
        if isinstance(inputs, (dict, np.ndarray)):
            return next(self._stream([inputs], 1, top_k))
        if isinstance(inputs, (list, tuple)):
            return list(self._stream(inputs, max(1, int(batch_size)), top_k))
        return self._stream(inputs, max(1, int(batch_size)), top_k)


EXAMPLES = """examples:
  hf-ser export runs/demo/multi-neo_latin-seed0 --onnx --output_dir runs/demo/onnx --quantize int8
  hf-ser predict clips/ --onnx runs/demo/onnx          # the int8 model when there is one, else fp32
"""


def build_parser() -> ArgumentParser:
    """The export command's flags."""
    p = ArgumentParser(
        prog="hf-ser export",
        usage="hf-ser export RUN_OR_MODEL --output_dir OUT [--onnx] [--quantize int8] [--verbose]",
        description=__doc__.split("\n\n")[0].strip("`"),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", nargs="?", help="a run folder (its model/ is exported) or a saved model folder")
    p.add_argument(
        "--onnx",
        nargs="?",
        const=True,
        default=True,
        metavar="OUT",
        help="export to ONNX (the default and only format). The older form --onnx OUT still works but is "
        "deprecated: give the folder with --output_dir",
    )
    p.add_argument("--output_dir", default=None, help="folder for model.onnx, config.json and preprocessor_config.json")
    p.add_argument("--quantize", choices=("int8",), default=None, help="also write a dynamically quantised int8 model")
    p.add_argument("--verbose", action="store_true", help="show the exporter's and quantiser's own output")
    return p


def output_dir_from_args(args) -> str:
    """The output folder: --output_dir, or the deprecated --onnx OUT (with a notice); UserError if neither or both."""
    legacy = args.onnx if isinstance(args.onnx, str) else None
    if legacy and args.model is None and args.output_dir:  # `export --onnx RUN --output_dir OUT`: --onnx took RUN
        args.model, legacy = legacy, None
    if legacy and args.output_dir:
        raise UserError(f"--onnx {legacy} and --output_dir {args.output_dir}: give the folder once, as --output_dir")
    if legacy:
        logger.warning("--onnx OUT is deprecated: use --onnx --output_dir %s", legacy)
        return legacy
    if not args.output_dir:
        raise UserError("give the folder to write: --output_dir OUT (see `hf-ser export --help`)")
    return args.output_dir


@command
def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    setup_logging()
    args = build_parser().parse_args(argv)
    output_dir = output_dir_from_args(args)
    if args.model is None:
        raise UserError("give the run or model folder to export: hf-ser export RUN --output_dir OUT")
    written = export_onnx(args.model, output_dir, args.quantize, verbose=args.verbose)
    print(f"run it: hf-ser predict FILES --onnx {display_path(output_dir)}")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
