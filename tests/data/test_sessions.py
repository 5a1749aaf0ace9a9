"""Leave-one-session-out folds on the IEMOCAP fixture tree, and EmoBox's folder names and fold-file spellings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from emobox_fixtures import make_iemocap

from hf_ser.data.corpora.iemocap import LOADER as IEMOCAP
from hf_ser.data.emobox import EMOBOX_CORPORA, corpus_folds, read_fold
from hf_ser.data.sessions import corpus_sessions, register_session_rule, session_indices
from hf_ser.errors import UserError


def iemocap_rows(tmp_path: Path) -> dict[str, np.ndarray]:
    """corpus / speaker / language of every turn the loader finds in the IEMOCAP fixture tree."""
    planted = make_iemocap(tmp_path / "data")
    items = IEMOCAP.scan(planted.root).items
    return {
        "corpus": np.asarray([i.corpus for i in items]),
        "speaker": np.asarray([i.speaker for i in items]),
        "language": np.asarray([i.language for i in items]),
    }


def test_five_folds_each_test_one_session_absent_from_train(tmp_path):
    rows = iemocap_rows(tmp_path)
    seen = []
    for fold in range(1, 6):
        train, test, notes = session_indices(rows["corpus"], rows["speaker"], rows["language"], 5, fold)
        test_sessions = {s[:5] for s in rows["speaker"][test]}
        assert test_sessions == {f"Ses0{fold}"}
        assert f"Ses0{fold}" not in {s[:5] for s in rows["speaker"][train]}
        assert len(train) + len(test) == len(rows["corpus"])
        assert f"session Ses0{fold} in test" in notes["ENG"]
        seen += test.tolist()
    assert sorted(seen) == list(range(len(rows["corpus"])))  # every turn tested exactly once


def test_corpora_without_sessions_and_wrong_fold_counts_are_named(tmp_path):
    rows = iemocap_rows(tmp_path)
    with pytest.raises(UserError, match="ravdess has no sessions"):
        session_indices([*rows["corpus"], "ravdess"], [*rows["speaker"], "01"], [*rows["language"], "ENG"], 5, 1)
    with pytest.raises(UserError, match="iemocap has 5 sessions.*set --folds 5"):
        session_indices(rows["corpus"], rows["speaker"], rows["language"], 4, 1)
    with pytest.raises(UserError, match="--fold must be between 1 and --folds"):
        session_indices(rows["corpus"], rows["speaker"], rows["language"], 5, 6)


def test_a_users_session_rule():
    register_session_rule("mine", lambda speaker: speaker.split("-")[0])
    sessions = corpus_sessions(["mine", "mine", "iemocap"], ["a-1", "b-2", "Ses03M"])
    assert sessions.tolist() == ["mine/a", "mine/b", "iemocap/Ses03"]
    train, test, _ = session_indices(["mine"] * 4, ["a-1", "a-2", "b-1", "b-2"], ["ENG"] * 4, 2, 2)
    assert train.tolist() == [0, 1] and test.tolist() == [2, 3]


def test_emobox_folder_names_and_fold_spellings(tmp_path):
    # EmoBox's own folder names (github.com/emo-box/EmoBox data/) for the corpora added since the paper's
    for folder, corpus in {"asvpesd": "asvp_esd", "jlcorpus": "jl_corpus", "msppodcast": "msp_podcast"}.items():
        assert EMOBOX_CORPORA[folder] == corpus
    assert {"iemocap", "ravdess", "emodb", "esd", "tess", "savee", "urdu", "turevdb"} <= set(EMOBOX_CORPORA)
    emodb = tmp_path / "EmoBox" / "data" / "emodb"
    (emodb / "label_map.json").parent.mkdir(parents=True)
    (emodb / "label_map.json").write_text(json.dumps({"W": "Angry", "N": "Neutral"}))
    row = {"key": "03a01Wa", "wav": "downloads/emodb/wav/03a01Wa.wav", "emo": "W"}
    for k in (1, 2):
        (emodb / f"fold_{k}").mkdir()
        (emodb / f"fold_{k}" / f"emodb_train_fold{k}.jsonl").write_text(json.dumps(row) + "\n")  # EmoDB's spelling
        (emodb / f"fold_{k}" / f"emodb_test_fold_{k}.jsonl").write_text(json.dumps({**row, "emo": "N"}) + "\n")
    assert corpus_folds(tmp_path / "EmoBox", "emodb") == ("emodb", [1, 2])
    assert corpus_folds(tmp_path / "EmoBox", "ravdess") is None
    assert corpus_folds(tmp_path / "EmoBox", "emofilm") is None  # no EmoBox folds at all
    train, test, label_map = read_fold(emodb, "emodb", 2)
    assert [r["emo"] for r in train] == ["W"] and [r["emo"] for r in test] == ["N"]
    assert label_map == {"W": "anger", "N": "neutral"}
