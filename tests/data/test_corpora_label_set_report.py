"""``hf-ser corpora prepare --label_set``: the report counts the set's classes on the fixture trees (IEMOCAP and
RAVDESS from tests/emobox_fixtures.py, a manifest corpus from tests/corpus_fixtures.py): paper unchanged, a list of
canonical names with what each class merged and what was dropped, native with each corpus's own classes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import corpus_fixtures as F  # noqa: E402
from emobox_fixtures import make_iemocap, make_ravdess  # noqa: E402

from hf_ser.data.corpora import format_report, load_corpus  # noqa: E402
from hf_ser.data.corpora.__main__ import main as cli_main  # noqa: E402

FOUR = ["anger", "happiness", "neutral", "sadness"]


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> tuple[Path, Path]:
    """(data root with IEMOCAP, RAVDESS and a manifest corpus 'red' whose label map drops 'plictiseala', cache)."""
    root = tmp_path_factory.mktemp("label_set_report")
    make_iemocap(root / "data")
    make_ravdess(root / "data")
    red = F.make_manifest_corpus(root / "data", "red", "ROM")
    labels = json.loads((red / "label_map.json").read_text())
    (red / "label_map.json").write_text(json.dumps({**labels, "plictiseala": None}))
    return root / "data", root / "cache"


def run(roots, capsys, *args: str) -> tuple[str, dict]:
    """`hf-ser corpora prepare ARGS` on the fixture roots: (printed report, the --output JSON)."""
    data, cache = roots
    out = cache.parent / "reports.json"
    argv = ["prepare", *args, "--data_root", str(data), "--cache_dir", str(cache), "--num_proc", "1"]
    assert cli_main([*argv, "--output", str(out)]) == 0
    return capsys.readouterr().out, json.loads(out.read_text())


def test_paper_is_the_default_and_its_report_is_unchanged(roots, capsys):
    default, reports = run(roots, capsys, "iemocap", "ravdess")
    paper, _ = run(roots, capsys, "iemocap", "ravdess", "--label_set", "paper")
    assert default == paper
    data, cache = roots
    for corpus in ("iemocap", "ravdess"):
        _, report = load_corpus(corpus, data, cache)
        assert format_report(report) in default and "label_set" not in reports[corpus]
    assert "   kept:    anger 2, disgust 0, fear 0, happiness 2, neutral 3, sadness 2" in default
    assert "   dropped: fru 1, sur 1, xxx 1" in default and "label set" not in default


def test_a_list_counts_its_classes_with_what_each_merged_and_what_was_dropped(roots, capsys):
    out, reports = run(roots, capsys, "iemocap", "ravdess", "--label_set", *FOUR)
    assert "== iemocap: 9 kept of 14 files, 8 speakers, 0.001 h (label set: anger happiness neutral sadness)" in out
    assert "   kept:    anger 2 (angry), happiness 2 (merged: excited 1 + happy 1), neutral 3, sadness 2 (sad)" in out
    assert "   dropped: frustrated 1, no agreement 1, surprised 1" in out
    assert "   dropped: calm 2, disgust 2, fearful 2, surprised 2" in out  # RAVDESS outside the four
    iemocap = reports["iemocap"]["label_set"]
    assert iemocap["label_set"] == "list" and iemocap["classes"] == FOUR and iemocap["kept_total"] == 9
    assert iemocap["merged"] == {"happiness": ["excited", "happy"]}
    assert iemocap["natives"]["happiness"] == {"excited": 1, "happy": 1}
    assert reports["iemocap"]["kept_total"] == 9  # the paper's counts stay in the report as they were


def test_native_counts_each_corpus_own_classes(roots, capsys):
    out, reports = run(roots, capsys, "iemocap", "ravdess", "--label_set", "native")
    ravdess = reports["ravdess"]["label_set"]
    assert ravdess["kept"] == dict.fromkeys(
        ["angry", "disgust", "fearful", "happy", "neutral", "sad", "surprised", "calm"], 2
    )
    assert ravdess["dropped"] == {} and ravdess["merged"] == {}
    iemocap = reports["iemocap"]["label_set"]
    assert iemocap["kept_total"] == 12 and iemocap["kept"]["excited"] == 1 and iemocap["kept"]["no agreement"] == 1
    assert "== ravdess: 16 kept of 18 files, 2 speakers, 0.001 h (label set: native, 8 classes)" in out
    assert "   kept:    angry 2, disgust 2, fearful 2, happy 2, neutral 2, sad 2, surprised 2, calm 2" in out
    assert "sample rates (rows of the paper's six): 48000 Hz x12" in out


def test_a_label_no_set_keeps_is_dropped_in_every_set(roots, capsys):
    """A paper class the label map sends to null (IEMOCAP exc) and a manifest label mapped to null are never
    prepared: every label set reports them dropped, by native name."""
    out, reports = run(roots, capsys, "iemocap", "--label_map", '{"exc": null}', "--label_set", "native")
    assert reports["iemocap"]["label_set"]["dropped"] == {"excited": 1}
    assert "excited" not in reports["iemocap"]["label_set"]["kept"]
    out, reports = run(roots, capsys, "iemocap", "--label_map", '{"exc": null}', "--label_set", *FOUR)
    assert "happiness 1 (happy)" in out
    assert reports["iemocap"]["label_set"]["dropped"] == {
        "excited": 1,
        "frustrated": 1,
        "no agreement": 1,
        "surprised": 1,
    }
    out, reports = run(roots, capsys, "red", "--label_set", "anger", "neutral")
    red = reports["red"]["label_set"]
    assert red["kept"] == {"anger": 2, "neutral": 1} and red["natives"]["anger"] == {"furie": 2}
    assert red["dropped"] == {"bucurie": 1, "plictiseala": 1}
    assert "   kept:    anger 2 (furie), neutral 1 (neutru)" in out


def test_an_unknown_class_is_a_one_line_error_naming_the_flag(roots, capsys):
    data, _ = roots
    assert cli_main(["prepare", "iemocap", "--data_root", str(data), "--label_set", "anger", "joyness"]) == 2
    err = capsys.readouterr().err
    assert "--label_set: unknown class 'joyness'" in err and len(err.strip().splitlines()) == 1
