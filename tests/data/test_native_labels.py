"""Native labels, declared once per corpus: each loader's six-class map is derived from its LABELS and must
equal the literal map the paper's results were computed with, so the six-class results cannot move."""

from __future__ import annotations

import pytest

from hf_ser.data.corpora.registry import LOADERS
from hf_ser.data.corpora.scan import NativeLabel, paper_label_map
from hf_ser.labels import CANONICAL_EMOTIONS, EMOTIONS

# The maps the paper's loaders held as literals before LABELS existed (copied verbatim).
PAPER_MAPS: dict[str, dict[str, str | None]] = {
    "oreau": {"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear", "T": "sadness", "S": None},
    "cafe": {"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear", "T": "sadness", "S": None},
    "emozionalmente": {
        "anger": "anger",
        "disgust": "disgust",
        "fear": "fear",
        "joy": "happiness",
        "neutrality": "neutral",
        "sadness": "sadness",
        "surprise": None,
    },
    "emouerj": {"a": "anger", "h": "happiness", "n": "neutral", "s": "sadness"},
    "emoprosody": {
        "angry": "anger",
        "disgust": "disgust",
        "fear": "fear",
        "happy": "happiness",
        "neutral": "neutral",
        "sad": "sadness",
        "surprise": None,
    },
    "mesd": {e: e for e in ("anger", "disgust", "fear", "happiness", "neutral", "sadness")},
    "emofilm": {"ans": "fear", "gio": "happiness", "rab": "anger", "tri": "sadness", "dis": None},
    "subesco": {
        "ANGRY": "anger",
        "DISGUST": "disgust",
        "FEAR": "fear",
        "HAPPY": "happiness",
        "NEUTRAL": "neutral",
        "SAD": "sadness",
        "SURPRISE": None,
    },
    "crema_d": {
        "ANG": "anger",
        "DIS": "disgust",
        "FEA": "fear",
        "HAP": "happiness",
        "NEU": "neutral",
        "SAD": "sadness",
    },
    "resd": {
        **{e: e for e in ("anger", "disgust", "fear", "happiness", "neutral", "sadness")},
        "enthusiasm": None,
    },
}


@pytest.mark.parametrize("name", sorted(PAPER_MAPS))
def test_derived_paper_map_equals_the_old_literal_map(name):
    loader = LOADERS[name]
    assert loader.labels, name
    assert paper_label_map(loader.labels) == loader.label_map == PAPER_MAPS[name]


def test_every_loader_declares_native_labels_in_the_shared_vocabulary():
    assert CANONICAL_EMOTIONS[: len(EMOTIONS)] == EMOTIONS
    assert len(set(CANONICAL_EMOTIONS)) == len(CANONICAL_EMOTIONS)
    for name, loader in LOADERS.items():
        assert loader.labels, f"{name} declares no LABELS"
        assert loader.label_map == paper_label_map(loader.labels), name
        for code, lab in loader.labels.items():
            assert lab.canonical in CANONICAL_EMOTIONS, (name, code)
            assert lab.name == lab.name.lower() and lab.name.strip(), (name, code)


def test_native_label_rejects_a_name_outside_the_vocabulary():
    with pytest.raises(ValueError, match="CANONICAL_EMOTIONS"):
        NativeLabel("joyful", "joyfulness")
    assert paper_label_map(
        {"exc": NativeLabel("excited", "happiness"), "fru": NativeLabel("frustrated", "frustration")}
    ) == {
        "exc": "happiness",
        "fru": None,
    }
