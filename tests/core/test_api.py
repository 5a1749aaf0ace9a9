"""The public API: every name in hf_ser.__all__ imports from hf_ser itself, lazily, and the README lists them all."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import hf_ser

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", hf_ser.__all__)
def test_each_public_name_imports_from_the_package(name):
    value = getattr(hf_ser, name)
    module = hf_ser.PUBLIC_API[name]
    assert value is getattr(sys.modules[module], name)  # the object its stage defines, not a copy


def test_the_names_the_issue_asks_for_are_public():
    wanted = {"prepare_for_pipeline", "load_corpus", "build_model", "SERTrainer", "plan_runs", "bootstrap_ci"}
    assert wanted | {"lineage_rank_test"} <= set(hf_ser.__all__)


def test_importing_the_package_imports_no_stage_and_no_torch():
    code = (
        "import sys, hf_ser; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('hf_ser.', 'datasets'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hf_ser.nope  # noqa: B018


def test_readme_python_api_lists_exactly_the_public_names_with_their_modules():
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| `([\w.]+)` \|", section, re.M))
    assert rows == hf_ser.PUBLIC_API
