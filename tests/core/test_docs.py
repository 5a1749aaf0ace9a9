"""Every command shown in README.md and docs/*.md code blocks parses with the flags it shows (docs cannot drift).

Commands are ``hf-ser SUB ...``, ``python -m hf_ser.MODULE ...`` and ``... -m hf_ser.MODULE ...`` (torchrun) lines of
fenced code blocks. Each is parsed in-process by the command's own parser and nothing runs: argparse commands stop
right after ``parse_args`` (a sentinel is raised there), recipes go through :func:`~.recipe.parse.parse_recipe`. Doc
notation is read as a reader would: ``[--flag VALUE]`` shows an optional part (kept), ``a|b|c`` alternatives (the
first is taken), ``$VAR`` a shell variable (read as 0), ``# ...`` is a comment and ``\\`` continues a line.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

from hf_ser import cli, console
from hf_ser.errors import UserError
from hf_ser.experiments.recipe.parse import parse_recipe

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*```")
MODULE_FLAG = re.compile(r"(?:^|\s)-m\s+(hf_ser[\w.]*)\s*(.*)$")


class Parsed(Exception):
    """Raised by the patched ``parse_args``: the command line parsed; the command must not run."""


def code_block_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, logical line) of every fenced code block of `path`, continuation lines joined."""
    out: list[tuple[int, str]] = []
    inside, pending, start = False, "", 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            inside, pending = not inside, ""
            continue
        if not inside:
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    return out


def _strip_comment(line: str) -> str:
    """The line without a trailing shell comment (`` # ...``) outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote else ch
        elif ch == "#" and quote is None and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def command_of(line: str) -> tuple[str, list[str]] | None:
    """(module or sub-command, argv) of a documented hf_ser command line, or None for other lines."""
    text = _strip_comment(line).strip()
    text = re.sub(r"^\$\s+", "", text)
    text = re.sub(r"\[([^\[\]]*)\]", r"\1", text)  # [--private] -> --private
    try:
        tokens = shlex.split(text)
    except ValueError:
        return None
    tokens = [t.split("|")[0] if "|" in t and t.startswith(("mean", "max", "cpu", "none")) else t for t in tokens]
    tokens = [t for t in tokens if t != "..."]
    tokens = [re.sub(r"\$\{?\w+\}?", "0", t) for t in tokens]  # $SLURM_ARRAY_TASK_ID: a shell variable, an int here
    if len(tokens) >= 2 and tokens[0] == "hf-ser":
        return tokens[1], tokens[2:]
    match = MODULE_FLAG.search(" ".join(shlex.quote(t) for t in tokens))
    if match and (tokens[0] in ("python", "python3") or tokens[0].endswith("torchrun") or "torchrun" in tokens):
        module = match.group(1)
        return module, shlex.split(match.group(2))
    return None


def documented_commands() -> list[tuple[str, str, list[str]]]:
    """(where, module or sub-command, argv) of every documented command."""
    found = []
    for path in DOCS:
        for number, line in code_block_lines(path):
            parsed = command_of(line)
            if parsed:
                found.append((f"{path.relative_to(ROOT)}:{number}", *parsed))
    return found


def _main_of(name: str):
    """The ``main(argv)`` of an ``hf-ser`` sub-command or an ``hf_ser.*`` module (a package: its __main__)."""
    if name == "hf_ser.recipe":  # the documented `python -m hf_ser.recipe` alias runs `hf-ser recipe`
        name = "recipe"
    module = cli.SUBCOMMANDS.get(name, name)
    mod = importlib.import_module(module)
    if not hasattr(mod, "main"):
        mod = importlib.import_module(module + ".__main__")
    return mod


def parse_only(name: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse `argv` with the command's own parser without running it; UserError (one line) when it does not parse."""
    mod = _main_of(name)
    if mod.__name__ == "hf_ser.experiments.recipe.__main__" and not (argv and argv[0] == "upstream"):
        parse_recipe(argv)
        return
    for parser_class in (argparse.ArgumentParser, console.ArgumentParser):  # the console's overrides parse_args
        original = parser_class.__dict__["parse_args"]

        def parse_then_stop(self, args=None, namespace=None, original=original):
            original(self, args, namespace)
            raise Parsed

        monkeypatch.setattr(parser_class, "parse_args", parse_then_stop)
    main = getattr(mod.main, "__wrapped__", mod.main)  # without run_command: a UserError propagates to the test
    try:
        main(argv)
    except Parsed:
        return
    raise AssertionError(f"{name} {' '.join(argv)}: no argparse parse_args call stopped it")


COMMANDS = documented_commands()


def test_the_docs_show_commands():
    """The extraction finds the commands of every doc that has some (so an empty list cannot pass silently)."""
    where = {w.split(":")[0] for w, _, _ in COMMANDS}
    assert {"README.md", "docs/sharing.md", "docs/long_audio.md", "docs/corpora.md"} <= where
    assert len(COMMANDS) >= 40


@pytest.mark.parametrize(("where", "name", "argv"), COMMANDS, ids=[w for w, _, _ in COMMANDS])
def test_documented_command_parses(where, name, argv, monkeypatch):
    try:
        parse_only(name, argv, monkeypatch)
    except UserError as e:
        pytest.fail(f"{where}: `{name} {' '.join(argv)}` does not parse: {e}")


def test_a_wrong_flag_in_a_doc_would_be_caught(monkeypatch):
    """The check itself: a stale flag (docs/sharing.md once showed `--out DIR`) fails to parse."""
    name, argv = command_of("python -m hf_ser.hub push RUN --repo_id YOU/x --dry_run --out DIR")
    with pytest.raises(UserError, match="--out"):
        parse_only(name, argv, monkeypatch)
    name, argv = command_of("hf-ser recipe neo_latin --demo --no_such_key 1")
    with pytest.raises(UserError, match="no_such_key"):
        parse_only(name, argv, monkeypatch)
