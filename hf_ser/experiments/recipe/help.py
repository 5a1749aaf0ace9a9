"""``hf-ser recipe --help`` and ``hf-ser recipe NAME --help``: the recipes with the first line of their description,
and the recipe's own keys grouped by argument dataclass with the values defaults.yaml or the recipe gives them."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import typing
from pathlib import Path

from transformers import HfArgumentParser

from hf_ser.console import ArgumentParser
from hf_ser.data.dataset import DataArguments
from hf_ser.experiments.few_shot.inputs import FewShotArguments
from hf_ser.experiments.launch.arguments import LaunchArguments
from hf_ser.experiments.recipe import __doc__ as PACKAGE_DOC
from hf_ser.experiments.recipe.arguments import (
    PARSER_TYPES,
    GridArguments,
    ModelArguments,
    RecipeError,
    RecipeParser,
    SERArguments,
    negate_help,
)
from hf_ser.experiments.recipe.parse import RECIPES_DIR, _read_yaml, available_recipes

# The recipe's own keys in `hf-ser recipe NAME --help`, one titled group per argument dataclass, in this order;
# a field added to any of them shows up in its group without more code.
HELP_GROUPS: tuple[tuple[type, str], ...] = (
    (ModelArguments, "model"),
    (DataArguments, "data"),
    (SERArguments, "loss and balancing (SER)"),
    (FewShotArguments, "few-shot (recipe few_shot)"),
    (GridArguments, "grid: which planned runs to list or execute"),
    (LaunchArguments, "launcher: where the runs execute"),
)
# TrainingArguments keys worth naming in the pointer at the end of the grouped help
TRAINING_KEYS = ("output_dir", "learning_rate", "num_train_epochs", "per_device_train_batch_size", "seed")
RECIPE_EXAMPLES = """examples:
  hf-ser recipe {name} --demo --output_dir runs/demo      # tiny model, synthetic corpus: minutes on a CPU
  hf-ser recipe {name} --list_runs                        # the planned runs, their state and cost
  hf-ser recipe {name} --learning_rate 5e-5 --seeds 3     # any key, from any group or TrainingArguments
"""


class _DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Help lines ending with the value the recipe gives a key (when it gives one), as ``(LABEL: VALUE)``."""

    label = "recipe"

    def _get_help_string(self, action: argparse.Action) -> str:
        """The action's help plus ``(LABEL: VALUE)``; %% escaped so argparse prints what the help says."""
        text = (action.help or "").replace("%", "%%")
        negation = action.option_strings and action.option_strings[0].startswith("--no_")
        if action.default not in (None, argparse.SUPPRESS) and action.option_strings and not negation:
            shown = " ".join(map(str, action.default)) if isinstance(action.default, list) else action.default
            text += f" ({self.label}: {str(shown).replace('%', '%%')})"
        return text


def recipe_comment(path: Path) -> str:
    """The leading ``#`` comment of a recipe YAML (what the recipe is), as plain lines."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return "\n".join(lines)


def first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence of a description on one line, cut at `limit` characters."""
    flat = " ".join(text.split())
    head = flat.split(". ")[0].split(": ")[0].rstrip(".:")
    return head if len(head) <= limit else head[: limit - 3].rstrip() + "..."


def recipe_help(name: str) -> str:
    """``hf-ser recipe NAME --help``: the recipe's description, its keys grouped by dataclass with the values this
    recipe gives them (defaults.yaml, then NAME.yaml), a pointer to TrainingArguments and examples."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else RECIPES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise RecipeError(
            f"unknown recipe {name!r}; available: {', '.join(available_recipes())} (or a path to a .yaml)"
        )
    known = {a.dest for a in RecipeParser(PARSER_TYPES)._actions}
    values = {**_read_yaml(RECIPES_DIR / "defaults.yaml", known), **_read_yaml(path, known)}
    return keys_help(values, path.stem, recipe_comment(path))


def keys_help(values: dict, name: str, description: str, label: str = "recipe", example: str | None = None) -> str:
    """The recipe keys grouped by argument dataclass, each with the value `values` gives it (shown as
    ``(LABEL: VALUE)``), then the TrainingArguments pointer and examples for recipe `example` (default `name`):
    the help of ``hf-ser recipe [NAME] --help``."""
    values = {k: v for k, v in values.items() if k != "demo_overrides"}
    parser = ArgumentParser(
        prog=f"hf-ser recipe {name}",
        usage=f"hf-ser recipe {name} [--key value ...]",
        description=description,
        formatter_class=type("Formatter", (_DefaultsFormatter,), {"label": label}),
        add_help=False,
    )
    for dtype, title in HELP_GROUPS:
        group = parser.add_argument_group(title, (dtype.__doc__ or "").strip())
        hints = typing.get_type_hints(dtype)
        for f in dataclasses.fields(dtype):
            if f.init:
                typed = copy.copy(f)  # HfArgumentParser reads the resolved type from the field itself
                typed.type = hints[f.name]
                HfArgumentParser._parse_dataclass_field(group, typed)
    negate_help(parser._actions)
    for action in parser._actions:  # one spelling per key, and a metavar saying what the value is
        action.option_strings = action.option_strings[:1]
        if action.nargs == "?":
            action.metavar = "BOOL"
        elif action.nargs != 0:
            action.metavar = {int: "N", float: "X"}.get(action.type, "VALUE")
    parser.set_defaults(**{k: v for k, v in values.items() if k in {a.dest for a in parser._actions}})
    training = ", ".join(f"--{k}" + (f" ({values[k]})" if k in values else "") for k in TRAINING_KEYS)
    parser.epilog = (
        f"TrainingArguments: every field of transformers.TrainingArguments is a key too, e.g. {training}; "
        f"`hf-ser recipe {name} --help_all` lists them all.\n\n" + RECIPE_EXAMPLES.format(name=example or name)
    )
    return parser.format_help()


def recipes_help() -> str:
    """``hf-ser recipe --help``: what a recipe is, each recipe with the first line of its description, then every
    key grouped by dataclass with the value recipes/defaults.yaml gives it (a recipe may change it: ``hf-ser
    recipe NAME --help`` shows that recipe's values)."""
    rows = [(name, first_sentence(recipe_comment(RECIPES_DIR / f"{name}.yaml"))) for name in available_recipes()]
    width = max(len(name) for name, _ in rows)
    listing = "\n".join(f"  {name.ljust(width)}  {line}" for name, line in rows)
    doc = (PACKAGE_DOC or "").replace("``", "")
    known = {a.dest for a in RecipeParser(PARSER_TYPES)._actions}
    defaults = _read_yaml(RECIPES_DIR / "defaults.yaml", known)
    keys = keys_help(defaults, "NAME", "", label="default", example="neo_latin")
    keys = keys.split("\n\n", 1)[1] if keys.startswith("usage:") else keys  # the listing's usage line says it
    return (
        f"usage: hf-ser recipe NAME [--key value ...]\n\n{doc.strip()}\n\nrecipes:\n{listing}\n\n"
        "Keys, with the values of recipes/defaults.yaml (`hf-ser recipe NAME --help` shows a recipe's own):\n\n" + keys
    )
