"""One command-line convention: `hf-ser SUB --help` works, a user mistake is one line with exit 2, a bug a traceback."""

import contextlib
import dataclasses
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hf_ser
from hf_ser import cli

ROOT = Path(__file__).resolve().parents[2]

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
        "import sys, hf_ser.experiments.recipe.__main__ as r\n"
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


def test_version():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"hf-ser {hf_ser.__version__}"


def test_help_reads_as_terminal_text_with_examples():
    """No reStructuredText double backticks and no `python -m` hints in any --help; examples in each one."""
    pages = {name: run(name, "--help").stdout for name in cli.available()}
    pages["hf-ser"] = run("--help").stdout
    pages["hub push"] = run("hub", "push", "--help").stdout
    for name, text in pages.items():
        assert "``" not in text, name
    for name in ("hf-ser", "recipe", "predict", "export", "evaluate", "corpora"):
        assert "hf-ser" in pages[name] and "xample" in pages[name], name
        assert "python -m hf_ser" not in pages[name].replace("`python -m hf_ser.<module>`", ""), name


def test_recipe_help_groups_the_recipes_own_keys_and_points_to_training_arguments():
    from hf_ser.experiments.recipe.help import HELP_GROUPS

    text = run("recipe", "neo_latin", "--help").stdout
    titles = [title for _, title in HELP_GROUPS]
    positions = [text.index(f"\n{title}:") for title in titles]
    assert positions == sorted(positions) and text.rindex("TrainingArguments") > positions[-1]
    for dtype, _ in HELP_GROUPS:  # every field of every group, a new one included, without more code
        for f in dataclasses.fields(dtype):
            assert f"--{f.name} " in text or f"--{f.name}\n" in text, f.name
    assert "--per_device_eval_batch_size" not in text and len(text.splitlines()) < 300  # TrainingArguments apart
    assert "(recipe: neo_latin)" in text  # the recipe's own values
    negation = text[text.index("--no_freeze_feature_encoder") :].split("\n  --")[0]
    assert "turn --freeze_feature_encoder off" in negation and "Keep the convolutional" not in negation
    assert "--fold 0" in text
    listing = run("recipe", "--help").stdout
    assert "neo_latin" in listing and "below" not in listing and "recipe NAME --help" in listing
    for key in ("--contrastive_group_size", "--length_buckets", "--runs_per_gpu", "--sdpa_backend"):
        assert key in listing, key  # the bare help lists every key too, with the defaults' values
    assert "(default: 16)" in listing and "(recipe: " not in listing


def test_an_unknown_flag_after_a_subcommand_points_to_its_help():
    done = run("hub", "push", "/x", "--repo_id", "a/b", "--bogus")
    assert done.returncode == 2 and "(see `hf-ser hub push --help`)" in done.stderr


def test_a_closed_pipe_exits_141_without_a_traceback():
    """The console layer handles a reader that went away (`hf-ser ... | head -1`) for every command."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hf_ser.cli", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == "", err
    shell = subprocess.run(
        ["bash", "-c", f"'{sys.executable}' -m hf_ser.cli recipe --help | head -1; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert shell.returncode in (0, 141) and shell.stdout.startswith("usage") and "Traceback" not in shell.stderr


def test_language_names_and_iso_codes_give_the_papers_code():
    from hf_ser.errors import UserError
    from hf_ser.labels import check_languages

    assert check_languages(["fr", "fra", "French", "FRE", "rum", "ron", "ro", "Chinese", "zh"]) == [
        "FRE",
        "FRE",
        "FRE",
        "FRE",
        "ROM",
        "ROM",
        "ROM",
        "CHI",
        "CHI",
    ]
    with pytest.raises(UserError, match="unknown language code 'klingon'.*ISO 639"):
        check_languages(["klingon"])


def test_corpora_list_says_a_missing_data_root():
    done = run("corpora", "list", "--data_root", "/does/not/exist")
    assert done.returncode == 0 and "cafe" in done.stdout  # still where to get each corpus
    assert "note: the data root /does/not/exist does not exist" in done.stderr
