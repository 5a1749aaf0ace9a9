"""Label sets: parsing --label_set, mapping prepared rows (IEMOCAP and RAVDESS fixture trees) into a set's classes,
the paper view equal to the rows and order of before, and the label report."""

import sys
from pathlib import Path

import datasets
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from emobox_fixtures import make_iemocap, make_ravdess  # noqa: E402

from hf_ser.data.corpora import FEATURES, load_corpus  # noqa: E402
from hf_ser.data.corpora.prepare import NOT_PAPER, prepared_view  # noqa: E402
from hf_ser.data.label_set import (  # noqa: E402
    apply_label_set,
    check_training_classes,
    label_report,
    parse_label_set,
)
from hf_ser.errors import UserError  # noqa: E402
from hf_ser.labels import EMOTIONS  # noqa: E402

FOUR = ["anger", "happiness", "neutral", "sadness"]


def test_parse_paper_native_and_lists():
    assert parse_label_set(None).is_paper and parse_label_set(["paper"]).names == EMOTIONS
    assert parse_label_set("paper").is_paper and parse_label_set("native").kind == "native"
    assert parse_label_set(["Anger", "happiness", "neutral", "sadness"]).names == tuple(FOUR)
    assert parse_label_set("anger, happiness neutral").names == ("anger", "happiness", "neutral")


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (["anger", "joyness"], "unknown class 'joyness'; give 'paper', 'native' or names from: anger disgust"),
        (["anger", "anger"], "names 'anger' twice"),
        (["anger"], "needs at least two"),
        (["paper", "anger"], "unknown class 'paper'"),
    ],
)
def test_parse_errors_are_one_line_and_list_the_valid_names(value, needle):
    with pytest.raises(UserError) as e:
        parse_label_set(value)
    assert needle in str(e.value) and "\n" not in str(e.value)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The IEMOCAP and RAVDESS fixture trees, prepared once: (data_root, cache)."""
    root = tmp_path_factory.mktemp("label_sets")
    make_iemocap(root / "data")
    make_ravdess(root / "data")
    return root / "data", root / "cache"


@pytest.mark.parametrize("corpus", ["iemocap", "ravdess"])
def test_paper_view_is_the_old_rows_in_the_old_order(prepared, corpus):
    """The paper view holds the rows with a paper label, in scan order, in the common FEATURES schema: what the
    preparation returned before label sets (every other row is only added to the cache, label NOT_PAPER)."""
    data, cache = prepared
    paper, report = load_corpus(corpus, data, cache)
    everything, _ = load_corpus(corpus, data, cache, view="all")
    assert paper.features == FEATURES and report["kept_total"] == len(paper)
    labels = np.asarray(everything["label"])
    assert (labels == NOT_PAPER).any()  # IEMOCAP fru/sur/xxx, RAVDESS calm/surprised
    assert paper["path"] == [p for p, l in zip(everything["path"], labels) if l != NOT_PAPER]
    assert paper["label"] == [int(l) for l in labels if l != NOT_PAPER]
    assert prepared_view(everything)["path"] == paper["path"]
    assert sum(r["rows"] for r in report["native_labels"]) == len(everything)


def test_iemocap_four_classes_merge_excited_into_happiness(prepared):
    data, cache = prepared
    ds, _ = load_corpus("iemocap", data, cache, view="all")
    mapped, names, dropped = apply_label_set(ds, parse_label_set(FOUR))
    assert names == tuple(FOUR) and mapped.features["label"].names == FOUR
    # the fixture's 11 turns minus the missing wav: ang 2, hap 1 + exc 1, neu 2, sad 2; fru, sur, xxx dropped
    counts = dict(zip(*np.unique([names[i] for i in mapped["label"]], return_counts=True)))
    assert counts == {"anger": 2, "happiness": 2, "neutral": 3, "sadness": 2}
    assert dropped == {"iemocap": {"frustrated": 1, "no agreement": 1, "surprised": 1}}
    report = label_report(parse_label_set(FOUR), names, dropped, {"train": mapped})
    assert report["merged"] == {"iemocap": {"happiness": ["excited", "happy"]}}
    assert report["train"]["iemocap"]["happiness"] == {"excited": 1, "happy": 1}


def test_ravdess_native_is_its_eight_classes(prepared):
    data, cache = prepared
    ds, _ = load_corpus("ravdess", data, cache, view="all")
    mapped, names, dropped = apply_label_set(ds, parse_label_set("native"))
    assert len(names) == 8 and dropped == {}
    assert set(names) == {"neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"}
    assert names[:6] == ("angry", "disgust", "fearful", "happy", "neutral", "sad")  # the paper's order first
    assert np.bincount(mapped["label"]).tolist() == [2] * 8


def test_native_with_two_corpora_and_a_class_without_training_rows_are_errors(prepared):
    data, cache = prepared
    both = datasets.concatenate_datasets([load_corpus(c, data, cache, view="all")[0] for c in ("iemocap", "ravdess")])
    with pytest.raises(UserError, match=r"--label_set native .* 2 corpora \(iemocap, ravdess\)"):
        apply_label_set(both, parse_label_set("native"))
    mapped, names, _ = apply_label_set(both, parse_label_set(["anger", "calm", "boredom"]))
    with pytest.raises(UserError, match=r"run x: class\(es\) boredom of --label_set have no training row in iemocap, "):
        check_training_classes(mapped, names, "run x")


def test_a_paper_class_the_user_maps_to_null_stays_dropped_in_every_label_set(prepared):
    data, cache = prepared
    ds, report = load_corpus("iemocap", data, cache, view="all", label_map={"exc": None})
    assert "excited" not in set(ds["native"]) and report["dropped"]["exc"] == 1
    assert "frustrated" in set(ds["native"])  # a class outside the six keeps its canonical name
