"""A recipe from its layers: ``recipes/NAME.yaml`` on ``recipes/defaults.yaml`` (with --demo, ``recipes/demo.yaml``
and the recipe's ``demo_overrides``), then the command line, parsed into a :class:`Recipe`."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from transformers import TrainingArguments

from hf_ser.data.corpora.synthetic.languages import DEFAULT_LANGUAGES
from hf_ser.data.dataset import DataArguments
from hf_ser.data.label_set import parse_label_set
from hf_ser.experiments.families import EXPERIMENTS, named_group_languages
from hf_ser.experiments.few_shot.inputs import FewShotArguments
from hf_ser.experiments.launch.arguments import LaunchArguments
from hf_ser.experiments.launch.submission import check_arguments
from hf_ser.experiments.recipe.arguments import (
    PARSER_TYPES,
    GridArguments,
    ModelArguments,
    RecipeError,
    RecipeParser,
    SERArguments,
    check_protocol_args,
    check_step_args,
    check_transfer_args,
    normalize_corpus_weighting,
)
from hf_ser.experiments.recipe.devices import apply_device_defaults
from hf_ser.labels import check_languages
from hf_ser.safe_io import display_path

RECIPES_DIR = Path(str(resources.files("hf_ser"))) / "recipes"


@dataclass
class Recipe:
    """A parsed recipe: its name, the argument dataclasses, and the --demo keys that took effect."""

    name: str
    model: ModelArguments
    data: DataArguments
    ser: SERArguments
    few_shot: FewShotArguments
    grid: GridArguments
    launch: LaunchArguments  # where the runs execute; never part of a run's identity
    training: TrainingArguments
    demo_overrides: dict = field(default_factory=dict)
    push_to_hub: bool = False  # the Trainer never pushes: finished runs are pushed with their card
    hub_token: str | None = field(default=None, repr=False)  # kept here, never in TrainingArguments (pickled to disk)


def available_recipes() -> list[str]:
    """Recipe names (YAML files other than defaults/demo)."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml") if p.stem not in ("defaults", "demo"))


def _read_yaml(path: Path, known: set[str]) -> dict:
    """A recipe YAML as a dict; RecipeError for anything but a mapping of known keys."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise RecipeError(f"{display_path(path)} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{display_path(path)}: a recipe is a mapping of key: value")
    unknown = sorted(set(data) - known - {"demo_overrides"})
    if unknown:
        raise RecipeError(f"{display_path(path)}: unknown key(s) {', '.join(unknown)}")
    extra = data.get("demo_overrides") or {}
    if not isinstance(extra, dict) or set(extra) - known:
        raise RecipeError(
            f"{display_path(path)}: demo_overrides must map known keys to values; unknown: {sorted(set(extra) - known)}"
        )
    return data


def _wants_demo(cli: list[str], recipe: dict) -> bool:
    """True when --demo is on the command line (or set by the recipe)."""
    for a in cli:
        if a == "--demo" or (a.startswith("--demo=") and a.split("=", 1)[1].lower() in ("1", "true", "yes")):
            return True
    return bool(recipe.get("demo"))


def label_set_key(value) -> list[str]:
    """``--label_set`` as a run records it: ['paper'], ['native'] or the canonical names, lower case, whether the
    YAML gave a string or a list (UserError for an unknown name, listing the valid ones)."""
    spec = parse_label_set(value)
    return list(spec.names) if spec.kind == "list" else [spec.kind]


def synthetic_languages(data: DataArguments, languages: list[str] | None) -> list[str] | None:
    """The languages the demo's synthetic corpus is built in: as given with --synthetic_languages; else, when
    --languages names a language beyond the paper's ten (the transfer demo's seventeen), the ten and those; else
    None, the paper's ten, so every grid of the ten keeps its corpus folder and its runs' identity."""
    if data.synthetic_languages is not None:
        return check_languages(data.synthetic_languages)
    extra = [code for code in languages or [] if code not in DEFAULT_LANGUAGES]
    if not data.demo or not extra:
        return None
    return [*DEFAULT_LANGUAGES, *extra]


def parse_recipe(argv: list[str]) -> Recipe:
    """Resolve NAME + YAML layers + command line into a :class:`Recipe`.

    Layers, later wins: recipes/defaults.yaml, the recipe, then with --demo recipes/demo.yaml and the
    recipe's own ``demo_overrides``, then the command line.
    """
    if not argv or argv[0].startswith("-"):
        raise RecipeError(f"usage: hf-ser recipe NAME [--key value ...]; recipes: {', '.join(available_recipes())}")
    name, rest = argv[0], argv[1:]
    path = Path(name) if name.endswith((".yaml", ".yml")) else RECIPES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise RecipeError(
            f"unknown recipe {name!r}; available: {', '.join(available_recipes())} (or a path to a .yaml)"
        )
    parser = RecipeParser(PARSER_TYPES, prog=f"hf-ser recipe {name}")
    known = {a.dest for a in parser._actions}
    recipe = _read_yaml(path, known)
    demo_overrides = recipe.pop("demo_overrides", None) or {}
    merged: dict = {"output_dir": f"runs/{path.stem}", **_read_yaml(RECIPES_DIR / "defaults.yaml", known), **recipe}
    demo_keys: dict = {}
    if _wants_demo(rest, recipe):
        demo_keys = {**_read_yaml(RECIPES_DIR / "demo.yaml", known), **demo_overrides}
        merged.update(demo_keys)
    parser.set_defaults(**merged)
    cli_keys = {a[2:].split("=", 1)[0] for a in rest if a.startswith("--")}
    bad = sorted(k for k in cli_keys if k not in known)
    if bad:
        raise RecipeError(f"unknown option(s) {', '.join('--' + k for k in bad)}; see `hf-ser recipe {name} --help`")
    model, data, ser, few, grid, launch, training = parser.parse_args_into_dataclasses(args=rest)
    check_arguments(launch)
    if ser.experiment not in (*EXPERIMENTS, "few_shot"):
        raise RecipeError(f"--experiment must be one of {', '.join(EXPERIMENTS)} or few_shot, not {ser.experiment!r}")
    if grid.format not in ("table", "json"):
        raise RecipeError(f"--format must be 'table' or 'json', not {grid.format!r}")
    if ser.languages:
        ser.languages = check_languages(ser.languages)
    data.synthetic_languages = synthetic_languages(
        data, ser.languages or named_group_languages(ser.experiment, ser.groups)
    )
    ser.corpus_weighting = normalize_corpus_weighting(ser.corpus_weighting)
    check_protocol_args(data, ser)
    data.label_set = label_set_key(data.label_set)
    check_step_args(ser, training)
    check_transfer_args(ser)
    overridden = {k: v for k, v in demo_keys.items() if k not in cli_keys and k != "demo"}
    return Recipe(
        path.stem,
        model,
        data,
        ser,
        few,
        grid,
        launch,
        apply_device_defaults(training, ser, explicit=cli_keys | set(recipe) | set(demo_keys)),
        overridden,
        push_to_hub=training.push_to_hub,
        hub_token=training.hub_token,
    )
