"""hf-ser: one installed command for the whole toolkit, with one sub-command per module.

    hf-ser recipe NAME [--key value ...]     train a recipe (hf-ser recipe --help lists them)
    hf-ser report RUNS_DIR                   Tables 2-3 and the claim check
    hf-ser analysis {layers,tsne,confusion,all} ...
    hf-ser predict PATH... --model MODEL     label audio files (segments over time with --segment)
    hf-ser evaluate MODEL ...                score an existing audio-classification model on the test splits
    hf-ser export RUN --output_dir OUT       ONNX export (fp32, --quantize int8)
    hf-ser app --model MODEL                 the web demo
    hf-ser corpora {list,prepare} ...        find and prepare corpora
    hf-ser synthetic --output_dir DIR        build the synthetic eSpeak corpus
    hf-ser hub push RUN_DIR --repo_id ID     share a run with its model card
    hf-ser sensitivity --output_dir DIR      the claim check's sensitivity curve over lineage_shift x seeds
    hf-ser sources TARGET --runs RUNS        rank a transfer grid's sources for any language (cat, Hungarian)
    hf-ser transfer-sensitivity --output_dir DIR   genetic distance flagged at a planted shift, not at 0

Every `python -m hf_ser.<module>` form keeps working. Conventions shared by every sub-command: folder
outputs are --output_dir, file outputs --output, a model to load is --model; exit 0 when the work is done,
1 when it failed, 2 when the input is wrong (one line, no traceback), 141 when the reader of a pipe stopped.
`hf-ser SUB --help` shows a sub-command's flags and examples; `hf-ser --version` the version.

Examples:
    hf-ser recipe neo_latin --demo --output_dir runs/demo
    hf-ser report runs/demo
    hf-ser predict clips/ --model runs/demo/multi-neo_latin-seed0/model --output labels.csv
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence

from hf_ser import __version__
from hf_ser.console import command
from hf_ser.errors import EXIT_OK, EXIT_USAGE

# sub-command -> module whose ``main(argv)`` runs it; imported only when chosen (``hf-ser --help`` stays instant)
SUBCOMMANDS: dict[str, str] = {
    "recipe": "hf_ser.experiments.recipe.__main__",
    "report": "hf_ser.study.report.__main__",
    "analysis": "hf_ser.study.analysis.__main__",
    "predict": "hf_ser.infer.predict.__main__",
    "evaluate": "hf_ser.infer.evaluate",
    "export": "hf_ser.infer.export",
    "app": "hf_ser.infer.app",
    "corpora": "hf_ser.data.corpora.__main__",
    "synthetic": "hf_ser.data.corpora.synthetic.__main__",
    "hub": "hf_ser.hub.__main__",
    "sensitivity": "hf_ser.study.sensitivity",
    "sources": "hf_ser.study.transfer.sources_cli",
    "transfer-sensitivity": "hf_ser.study.transfer.curve",
}


def available() -> dict[str, str]:
    """The sub-commands whose module is installed (evaluate/export/app arrive with their features)."""
    return {name: mod for name, mod in SUBCOMMANDS.items() if importlib.util.find_spec(mod) is not None}


@command
def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``hf-ser SUBCOMMAND ARGS...`` to the sub-command's ``main``; returns its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = available()
    if argv and argv[0] in ("-V", "--version"):
        print(f"hf-ser {__version__}")
        return EXIT_OK
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return EXIT_OK if argv else EXIT_USAGE
    if argv[0] not in commands:
        print(
            f"error: unknown sub-command {argv[0]!r}; one of {', '.join(commands)} (see `hf-ser --help`)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return int(importlib.import_module(commands[argv[0]]).main(argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
