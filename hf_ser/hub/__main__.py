"""Share a finished run on the Hugging Face Hub: a truthful model card and a one-commit upload.

``hf-ser hub push RUN_DIR --repo_id USER/NAME [--private] [--revision BRANCH] [--dry_run] [--output_dir DIR]
[--pipeline_check N]``

A run folder (written by the recipe) holds ``metrics.json`` and ``model/``. :func:`~hf_ser.hub.stage.stage_run` turns it
into the folder that goes to the Hub: the model and feature extractor files, a ``README.md`` model card
rendered from ``model_cards/ser_model_card.md``, ``metrics.json`` and ``training_args.json`` with local paths
removed (and ``LICENSE.md`` when the licence is ``other``). :func:`~hf_ser.hub.push.push_run` uploads it with
``HfApi.create_repo(exist_ok=True)`` + ``HfApi.upload_folder`` (one commit), or with ``dry_run`` writes it to
``RUN_DIR/hub/`` for inspection (marked as a staging folder, so reports never read it as a run). Consumers need
only ``transformers``: ``pipeline("audio-classification", model=USER/NAME)``; the card shows the array form that
needs no ffmpeg, the training preparation (:func:`hf_ser.data.audio.prepare_for_pipeline`) and, measured on the run's
test files when they are readable, the UAR that skipping that preparation costs
(:func:`~hf_ser.hub.gap.measure_pipeline_gap`).

Tokens are read by ``huggingface_hub`` itself (``hf auth login`` or ``HF_TOKEN``) or passed in memory by the recipe
(``--hub_token``, which never reaches the Trainer); this module never prints or writes one.
"""

from __future__ import annotations

import argparse
import sys

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.errors import EXIT_FAILED, EXIT_OK
from hf_ser.hub.errors import HubError, HubUnreachable
from hf_ser.hub.gap import PIPELINE_CHECK_FILES
from hf_ser.hub.push import push_run
from hf_ser.hub.run_folder import find_run_dir
from hf_ser.hub.stage import list_folder
from hf_ser.infer.app import stage_space
from hf_ser.safe_io import display_path

HUB_EXAMPLES = """examples:
  hf-ser hub push runs/demo/multi-neo_latin-seed0 --repo_id me/ser-demo --dry_run    # look first: nothing uploaded
  hf-ser hub push runs/demo/multi-neo_latin-seed0 --repo_id me/ser-demo --private    # after `hf auth login`
"""


@command
def main(argv: list[str] | None = None) -> int:
    """CLI entry point: 0 pushed (or staged), 1 the Hub could not be reached, 2 a user mistake."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = ArgumentParser(
        prog="hf-ser hub", description=__doc__.split("\n\n")[0], epilog=HUB_EXAMPLES, formatter_class=raw
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "push",
        help="upload a finished run (model, feature extractor, card, metrics) in one commit",
        description="Upload a finished run (model, feature extractor, model card, metrics) to the Hub in one commit.",
        epilog=HUB_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("run_dir", help="run folder <output_dir>/<run> holding metrics.json and model/")
    p.add_argument("--repo_id", required=True, help="USER/NAME or ORG/NAME on the Hub")
    p.add_argument("--private", action="store_true", help="create the repo as private")
    p.add_argument("--revision", default=None, help="branch to commit to (created if missing; default main)")
    p.add_argument("--dry_run", action="store_true", help="write the upload folder and list it; upload nothing")
    p.add_argument("--output_dir", default=None, help="with --dry_run: folder to write (default RUN_DIR/hub)")
    p.add_argument(
        "--pipeline_check",
        type=int,
        default=PIPELINE_CHECK_FILES,
        metavar="N",
        help="classify up to N of the run's test files through plain pipeline() and through hf-ser predict, and "
        f"state the UAR difference in the card (default {PIPELINE_CHECK_FILES}, a seeded sample above; 0 skips it)",
    )
    p.add_argument(
        "--space",
        action="store_true",
        help="with --dry_run: also stage a Gradio Space for the model in RUN_DIR/space (upload it with "
        "`hf upload USER/NAME RUN_DIR/space --repo-type space`)",
    )
    args = parser.parse_args(argv)
    if args.space and not args.dry_run:
        raise HubError("--space stages the Space folder with --dry_run; upload it yourself afterwards")
    setup_logging()
    try:
        result = push_run(
            args.run_dir,
            args.repo_id,
            private=args.private,
            revision=args.revision,
            dry_run=args.dry_run,
            output_dir=args.output_dir,
            pipeline_files=args.pipeline_check,
        )
    except HubUnreachable as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    if args.dry_run:
        print(f"dry run: would upload {result}/ to {args.repo_id} in one commit:")
        print(list_folder(result))
        if args.space:
            space = stage_space(args.repo_id, find_run_dir(args.run_dir) / "space")
            print(f"Space for {args.repo_id} staged in {display_path(space)}:")
            print(list_folder(space))
    else:
        print(f"uploaded {args.run_dir} to {args.repo_id}: {result}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
