"""The run folder as the Hub sees it: found from a run or its model/ folder, its record, and the model files
that go to the Hub (never the pickled TrainingArguments)."""

from __future__ import annotations

from pathlib import Path

from hf_ser.hub.errors import HubError
from hf_ser.train.runs import RunRecord

# Files of model/ that never go to the Hub: the pickled TrainingArguments hold local paths.
EXCLUDED_MODEL_FILES = frozenset({"training_args.bin"})


def load_metrics(run_dir: Path) -> dict:
    """The run's record as the dict the card is rendered from (RunRecordError, a UserError, when unusable)."""
    return RunRecord.load(run_dir).to_dict()


def find_run_dir(path: str | Path) -> Path:
    """The run folder for `path` (a run folder, or its model/ sub-folder)."""
    p = Path(path)
    if p.name == "model" and (p.parent / "metrics.json").is_file():
        p = p.parent
    if not p.is_dir():
        raise HubError(f"run folder {p} does not exist")
    return p


def model_files(run_dir: Path) -> list[Path]:
    """The files of the run's model/ that go to the Hub; HubError when the model is incomplete or has no weights."""
    model_dir = run_dir / "model"
    for needed in ("config.json", "preprocessor_config.json"):
        if not (model_dir / needed).is_file():
            raise HubError(
                f"{model_dir / needed} is missing: the run saved no complete model "
                f"(Trainer.save_model writes it at the end of training); train the run again"
            )
    weights = list(model_dir.glob("*.safetensors")) + list(model_dir.glob("pytorch_model*.bin"))
    if not weights:
        raise HubError(f"{model_dir} holds no weights (*.safetensors); train the run again")
    return sorted(
        p
        for p in model_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name not in EXCLUDED_MODEL_FILES
    )
