"""``hf-ser app --model DIR_OR_HUB_ID``: a web demo (Gradio) of a speech emotion model.

Upload or record audio; the page shows the six emotion probabilities as bars and, for audio longer than
--max_seconds (segmented by the VAD, as ``hf_ser.infer.predict --segment auto`` does), the emotion timeline and a
table of the segments. The classification is :mod:`hf_ser.infer.predict`'s own code path, so the page shows the
same probabilities as ``hf-ser predict`` on the same file. The server binds to 127.0.0.1 unless
--host says otherwise.

Gradio is an optional extra: ``pip install hf_ser[app]``. :func:`stage_space` writes a Hugging Face Space
folder (app.py, requirements.txt, README.md with the Space front matter, the model copied or referenced)
that runs this same demo.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import UserError
from hf_ser.infer.predict.model import load_classifier, resolve_model
from hf_ser.infer.predict.options import AGGREGATES, DEFAULT_MAX_SECONDS, SEGMENT_MODES, PredictOptions
from hf_ser.infer.predict.predictor import Predictor
from hf_ser.infer.predict.timeline import timeline_figure
from hf_ser.safe_io import atomic_write_text, display_path
from hf_ser.train.runs import STAGING_MARKER

API_NAME = "classify"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MODEL_FILES = ("*.json", "*.safetensors", "*.txt", "*.md")  # weights and configs; never training_args.bin
SPACE_REQUIREMENT = "hf_ser[app]"


def require_gradio():
    """The gradio module, or a UserError telling how to install the extra.

    Imported here, not at the top: Gradio is an optional extra, and importing it costs seconds that every
    command reaching this module (``hub``, and through it ``recipe``) would otherwise pay.
    """
    try:
        import gradio as gr
    except ImportError:
        raise UserError("the web demo needs Gradio: `pip install hf_ser[app]` (or `pip install gradio`)") from None
    return gr


def analyse(path: str | None, predictor: Predictor) -> tuple[dict[str, float], object, list[list]]:
    """Classify one audio file: (emotion -> probability of the file, timeline figure or None, segment rows).

    The timeline and the segment table are given when the file was cut into segments (longer audio).
    Raises ValueError with the file's error reason when it could not be classified.
    """
    if not path:
        raise ValueError("upload or record some audio first")
    rows = next(predictor.run([path]))
    file_row = rows[-1]
    if file_row["error"]:
        raise ValueError(file_row["error"])
    segments = [r for r in rows if r["kind"] == "segment"]
    table = [
        [r["start"], r["end"], r["label"] or "", None if r["score"] is None else round(r["score"], 4), r["error"] or ""]
        for r in segments
    ]
    return file_row["probs"], (timeline_figure(rows) if segments else None), table


def build_demo(
    classifier,
    options: PredictOptions | None = None,
    title: str = "Speech emotion recognition",
    example: str | None = None,
):
    """The Gradio Blocks page around `classifier` (see :func:`hf_ser.infer.predict.model.load_classifier`).

    With `example` (an audio file), the page opens with it loaded and already classified.
    """
    gradio = require_gradio()
    options = (options or PredictOptions()).checked()
    predictor = Predictor(classifier, options)

    def run(path):
        """The page's handler: :func:`analyse`, its error shown as a Gradio message."""
        try:
            return analyse(path, predictor)
        except ValueError as e:
            raise gradio.Error(str(e)) from None

    with gradio.Blocks(title=title, analytics_enabled=False) as demo:
        gradio.Markdown(
            f"# {title}\nUpload or record speech. Audio longer than {options.max_seconds or 0:g} s is "
            "cut into speech segments (silero VAD) and shown as an emotion timeline."
        )
        audio = gradio.Audio(sources=["upload", "microphone"], type="filepath", label="audio", value=example)
        button = gradio.Button("Classify", variant="primary")
        bars = gradio.Label(num_top_classes=len(predictor.labels), label="emotion probabilities")
        plot = gradio.Plot(label="emotion over time")
        table = gradio.Dataframe(headers=["start", "end", "label", "score", "error"], label="segments")
        button.click(run, inputs=audio, outputs=[bars, plot, table], api_name=API_NAME)
        if example:
            demo.load(run, inputs=audio, outputs=[bars, plot, table])
    return demo


def stage_space(model_dir: str | Path, output_dir: str | Path, requirement: str = SPACE_REQUIREMENT) -> Path:
    """Write a Hugging Face Space folder running this demo: app.py, requirements.txt, README.md, model/.

    A local model folder (or a run folder holding model/) is copied into ``model/`` (configs and safetensors
    weights only: no training_args.bin, no checkpoints); anything else is taken as a Hub model id and
    referenced. `requirement` is the pip line that installs hf_ser with the app extra (a git URL until the
    package is on PyPI). Returns the folder; nothing is uploaded.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    local = Path(str(model_dir)).expanduser().is_dir()
    if local:
        source = Path(resolve_model(str(model_dir)))
        target = out / "model"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir()
        for pattern in MODEL_FILES:
            for f in sorted(source.glob(pattern)):
                if f.is_file():
                    shutil.copy2(f, target / f.name)
        model_ref = "model"
    else:
        model_ref = str(model_dir)
    atomic_write_text(
        out / "app.py",
        (
            '"""Hugging Face Space entry point: the hf_ser speech emotion demo (see hf_ser/infer/app.py)."""\n\n'
            "import os\nimport sys\nfrom pathlib import Path\n\nfrom hf_ser.infer.app import main\n\n"
            f"MODEL = {model_ref!r}\n"
            "if (Path(__file__).parent / MODEL).is_dir():\n"
            "    MODEL = str(Path(__file__).parent / MODEL)\n\n"
            'if __name__ == "__main__":\n'
            '    sys.exit(main(["--model", MODEL, "--host", os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),\n'
            '                   "--port", os.environ.get("GRADIO_SERVER_PORT", "7860")]))\n'
        ),
    )
    try:
        gradio_version = metadata.version("gradio")
    except metadata.PackageNotFoundError:
        gradio_version = "5.0.0"
    atomic_write_text(out / "requirements.txt", f"{requirement}\ngradio=={gradio_version}\nsilero-vad\n")
    front = [
        "---",
        "title: Speech emotion recognition",
        "emoji: 🎙️",
        "colorFrom: indigo",
        "colorTo: pink",
        "sdk: gradio",
        f"sdk_version: {gradio_version}",
        "app_file: app.py",
        "pinned: false",
    ]
    if not local:
        front += ["models:", f"  - {model_ref}"]
    front.append("---")
    atomic_write_text(
        out / "README.md",
        "\n".join(front)
        + (
            "\n\n# Speech emotion recognition\n\nUpload or record speech to get the probabilities of six emotions "
            "(anger, disgust, fear, happiness, neutral, sadness) and, for longer audio, an emotion timeline over "
            "speech segments found by the silero VAD. Built with hf_ser "
            f"(`hf-ser app --model {'model/' if local else model_ref}` runs the same page locally).\n"
        ),
    )
    (out / STAGING_MARKER).write_text("hf_ser Space staging folder; not a run\n")
    return out


# the examples at the end of --help
EXAMPLES = """examples:
  hf-ser app --model runs/demo/multi-neo_latin-seed0/model            # serve on 127.0.0.1
  hf-ser app --model runs/demo/multi-neo_latin-seed0/model --example  # open with a file already classified
"""


def build_parser() -> ArgumentParser:
    """The app command's flags."""
    parser = ArgumentParser(
        prog="hf-ser app",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    parser.add_argument("--model", required=True, help="model folder (a run's model/ or a --dry_run folder) or Hub id")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 7860)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--segment", choices=SEGMENT_MODES, default="auto", help="as in hf_ser.predict (default auto)")
    parser.add_argument("--aggregate", choices=AGGREGATES, default="mean", help="as in hf_ser.predict")
    parser.add_argument("--max_seconds", type=float, default=DEFAULT_MAX_SECONDS, help="as in hf_ser.predict")
    parser.add_argument("--example", default=None, help="an audio file the page opens with, already classified")
    return parser


@command
def main(argv: Sequence[str] | None = None) -> int:
    """Start the demo server (blocks until stopped); exit status 0."""
    setup_logging()
    args = build_parser().parse_args(argv)
    require_gradio()
    options = PredictOptions(segment=args.segment, aggregate=args.aggregate, max_seconds=args.max_seconds).checked()
    classifier = load_classifier(args.model, args.device)
    if args.example and not Path(args.example).is_file():
        raise UserError(f"--example {display_path(args.example)} is not a file")
    demo = build_demo(
        classifier, options, title=f"Speech emotion recognition: {display_path(args.model)}", example=args.example
    )
    print(f"serving on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    demo.queue().launch(server_name=args.host, server_port=args.port, share=False, show_error=True, quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
