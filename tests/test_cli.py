"""One command-line convention: `hf-ser SUB --help` works, a user mistake is one line with exit 2, a bug a traceback."""

import contextlib
import io
import re
import subprocess
import sys

import pytest

from hf_ser import cli

# per sub-command: arguments that are a user mistake
MISTAKES = {
    "recipe": ["no_such_recipe"],
    "report": ["/nonexistent/runs"],
    "analysis": ["confusion", "/nonexistent/run"],
    "predict": ["/nonexistent.wav"],  # no --model
    "evaluate": ["--no_such_flag"],
    "export": ["--no_such_flag"],
    "app": ["--no_such_flag"],
    "corpora": ["prepare", "cafe", "--option", "novalue"],
    "synthetic": ["--per_cell", "2"],  # no --output_dir
    "hub": ["push", "/nonexistent/run", "--repo_id", "a/b"],
}


class Done:
    """What a command left: exit code, stdout, stderr."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run(*args: str) -> Done:
    """`hf-ser ARGS` in this process (the same dispatch the installed command uses); --help's SystemExit caught."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as e:
            code = e.code or 0
    return Done(code, out.getvalue(), err.getvalue())


def test_every_subcommand_has_help():
    for name in cli.available():
        done = run(name, "--help")
        assert done.returncode == 0, (name, done.stderr)
        assert "usage" in done.stdout.lower() or name in done.stdout, name


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_user_mistake_is_one_line_and_exit_2(name):
    if name not in cli.available():
        pytest.skip(f"hf_ser.{name} is not part of this build")
    done = run(name, *MISTAKES[name])
    assert done.returncode == 2, (name, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr


def test_an_unknown_subcommand_is_a_user_mistake():
    done = run("trian")
    assert done.returncode == 2 and "unknown sub-command 'trian'" in done.stderr


def test_a_bug_keeps_its_traceback():
    code = (
        "import sys, hf_ser.recipe as r\n"
        "def broken(*args): raise RuntimeError('injected bug')\n"
        "r.plan_grid = broken\n"
        "sys.exit(r.main(['neo_latin', '--demo', '--output_dir', '/tmp/hf_ser-bug']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" in done.stderr and "injected bug" in done.stderr


def test_the_same_concept_has_the_same_flag_everywhere():
    """Folder outputs are --output_dir, file outputs --output; the old spellings are gone."""
    flags = set()
    for name in cli.available():
        flags |= set(re.findall(r"--[a-z_]+", run(name, "--help").stdout))
    for sub in ("layers", "tsne", "confusion", "all"):
        flags |= set(re.findall(r"--[a-z_]+", run("analysis", sub, "--help").stdout))
    flags |= set(re.findall(r"--[a-z_]+", run("corpora", "prepare", "--help").stdout))
    flags |= set(re.findall(r"--[a-z_]+", run("hub", "push", "--help").stdout))
    assert "--output_dir" in flags and "--output" in flags
    assert not flags & {"--out", "--report", "--root", "--C", "--chunk_seconds"}
