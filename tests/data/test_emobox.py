"""EmoBox folds laid over corpus trees like the real ones: the matched test set is exactly the fold's six-class rows."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hf_ser.data.emobox import ascii_key, corpus_folds, emobox_split, fold_key, read_fold
from hf_ser.errors import UserError
from hf_ser.labels import EMOTION2ID, EMOTIONS

CAFE_FOLDERS = {
    "C": "Colère",
    "D": "Dégoût",
    "J": "Joie",
    "N": "Neutre",
    "P": "Peur",
    "S": "Surprise",
    "T": "Tristesse",
}
CAFE_MOJIBAKE = {"Colère": "Col\u0160re", "Dégoût": "D\u201ago\u2013t"}  # as EmoBox's jsonl spells them
CAFE_EMO = {"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear", "T": "sadness"}
OREAU_EMO = {"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear", "T": "sadness"}


def _row(dataset: str, key: str, wav: str, emo: str) -> str:
    return json.dumps(
        {
            "key": f"{dataset}-{key}",
            "dataset": dataset,
            "wav": wav,
            "type": "raw",
            "sample_rate": 48000,
            "num_frame": 1000.0,
            "task": "category",
            "length": 1.0,
            "emo": emo,
            "channel": 1,
        }
    )


def _write_fold(root: Path, dataset: str, fold: int, train: list[str], test: list[str], label_map: dict) -> None:
    d = root / "data" / dataset
    (d / f"fold_{fold}").mkdir(parents=True, exist_ok=True)
    (d / "label_map.json").write_text(json.dumps(label_map, indent=4))
    for part, rows in (("train", train), ("test", test)):
        (d / f"fold_{fold}" / f"{dataset}_{part}_fold_{fold}.jsonl").write_text("\n".join(rows) + "\n")


@pytest.fixture
def corpus(tmp_path: Path):
    """User rows (path, corpus, label, speaker, language) of CaFE, Oréau and RESD (parquet), and EmoBox fold 1."""
    data, emobox = tmp_path / "data", tmp_path / "EmoBox"
    rows = {k: [] for k in ("path", "corpus", "label", "speaker", "language")}
    cafe_train, cafe_test, expected_test = [], [], set()
    for actor in ("01", "02", "03"):
        for letter, folder in CAFE_FOLDERS.items():
            for take in (1, 2):
                stem = f"{actor}-{letter}-{1 if letter == 'N' else 2}-{take}"
                sub = folder if letter == "N" else f"{folder}/Fort"
                path = data / "cafe" / "CaFE_48k" / sub / f"{stem}.wav"
                eb_folder = CAFE_MOJIBAKE.get(folder, folder)
                eb_sub = eb_folder if letter == "N" else f"{eb_folder}/Fort"
                line = _row("cafe", stem, f"downloads/cafe/CaFE_48k/{eb_sub}/{stem}.wav", letter.lower())
                is_test = actor == "03" or (actor == "02" and take == 2)  # speaker 02 in both: reported
                (cafe_test if is_test else cafe_train).append(line)
                if letter == "S":
                    continue  # surprise: dropped by the user's loader and by the label map
                rows["path"].append(str(path))
                rows["corpus"].append("cafe")
                rows["language"].append("FRE")
                rows["label"].append(EMOTION2ID[CAFE_EMO[letter]])
                rows["speaker"].append(f"cafe/{actor}")
                if is_test:
                    expected_test.add(str(path))
    _write_fold(
        emobox,
        "cafe",
        1,
        cafe_train,
        cafe_test,
        {"c": "Angry", "d": "Disgust", "j": "Happy", "n": "Neutral", "p": "Fear", "s": "Surprise", "t": "Sad"},
    )
    # Oréau: the user's tree in NFC, EmoBox's paths with a decomposed accent; one test row the user lacks.
    oreau_train, oreau_test = [], []
    for spk in ("10", "11", "12", "13"):
        for letter in "CDJNPT":
            stem = f"{spk}a01{letter}a"
            user = data / "oreau" / "OréauFR_02" / "m" / f"sess{letter.lower()}" / f"{stem}.wav"
            eb = f"downloads/oreau/{unicodedata.normalize('NFD', 'Oréau')}FR_02/m/sess{letter.lower()}/{stem}.wav"
            line = _row("oreau", stem, eb, letter)
            (oreau_test if spk == "13" else oreau_train).append(line)
            rows["path"].append(str(user))
            rows["corpus"].append("oreau")
            rows["language"].append("FRE")
            rows["label"].append(EMOTION2ID[OREAU_EMO[letter]])
            rows["speaker"].append(f"oreau/{spk}")
            if spk == "13":
                expected_test.add(str(user))
    missing = _row("oreau", "13a09Ca", "downloads/oreau/Ore\u0301auFR_02/m/sessc/13a09Ca.wav", "C")
    oreau_test.append(missing)
    _write_fold(
        emobox,
        "oreau",
        1,
        oreau_train,
        oreau_test,
        {"C": "Angry", "T": "Sad", "J": "Happy", "P": "Fear", "D": "Disgust", "S": "Surprise", "N": "Neutral"},
    )
    # RESD from the Hub: parquet rows named by the 'name' column; enthusiasm is not one of the six.
    names = [
        "27_neutral_fear_n_100.wav",
        "08_sadness_anger a_010.wav",
        "26_enthusiasm_happiness_e_120.wav",
        "42_anger_fear_a_190.wav",
        "41_fear_disgust_f_050.wav",
    ]
    emo = ["neutral", "anger", "enthusiasm", "anger", "fear"]
    table = data / "resd" / "data" / "test-00000-of-00001.parquet"
    table.parent.mkdir(parents=True)
    pq.write_table(pa.table({"name": names, "emotion": emo}), table)
    resd_test = []
    for i, (n, e) in enumerate(zip(names, emo)):
        folder = n.rsplit("_", 2)[0] if " " not in n else n.split(" ")[0]
        resd_test.append(_row("resd", n, f"downloads/resd/test/{folder}/{n}", e))
        if e == "enthusiasm":
            continue
        rows["path"].append(f"{table}::{i}")
        rows["corpus"].append("resd")
        rows["language"].append("RUS")
        rows["label"].append(EMOTION2ID[e])
        rows["speaker"].append(f"resd/{n[:2]}")
        expected_test.add(f"{table}::{i}")
    _write_fold(
        emobox,
        "resd",
        1,
        [],
        resd_test,
        {
            "happiness": "Happy",
            "disgust": "Disgust",
            "anger": "Angry",
            "fear": "Fear",
            "enthusiasm": "Enthusiastic",
            "neutral": "Neutral",
            "sadness": "Sad",
        },
    )
    # A corpus EmoBox does not cover: split by the fallback protocol
    for i in range(12):
        rows["path"].append(str(data / "emouerj" / f"w01a{i:02d}.wav"))
        rows["corpus"].append("emouerj")
        rows["language"].append("POR")
        rows["label"].append(i % 4)
        rows["speaker"].append("emouerj/w01")
    return rows, emobox, expected_test


def test_keys_fold_accents_and_mojibake():
    assert fold_key("Ore\u0301auFR_02") == fold_key("OréauFR_02") == "oreaufr_02"
    assert ascii_key("D\u201ago\u2013t") == ascii_key("Dégoût") == "dgot"


def test_matched_test_set_is_exactly_the_folds_six_class_rows(corpus):
    rows, emobox, expected_test = corpus
    tr, te, covered, report = emobox_split(rows["path"], rows["corpus"], rows["label"], rows["speaker"], emobox, 1)
    paths = np.asarray(rows["path"])
    assert set(paths[te]) == expected_test
    assert not set(tr) & set(te)
    assert covered.sum() == len(paths) - 12  # emoUERJ is not an EmoBox corpus
    assert report["cafe"]["test"]["six_class_rows"] == report["cafe"]["test"]["matched"]
    assert report["cafe"]["train"]["unmatched"] == 0 and report["cafe"]["test"]["label_disagreements"] == 0
    assert report["oreau"]["test"]["unmatched"] == 1
    assert report["oreau"]["test"]["unmatched_examples"][0]["wav"].endswith("13a09Ca.wav")
    assert report["resd"]["test"]["matched"] == 4 and report["resd"]["test"]["six_class_rows"] == 4
    assert report["cafe"]["speakers_in_train_and_test"] == ["cafe/02"]
    assert report["oreau"]["speakers_in_train_and_test"] == []


def test_data_split_falls_back_for_other_corpora_and_says_so(corpus):
    datasets = pytest.importorskip("datasets")
    from hf_ser.data.dataset import DataArguments, split_index_sets

    rows, emobox, expected_test = corpus
    ds = datasets.Dataset.from_dict(rows)
    _tr, dev, te, notes = split_index_sets(ds, DataArguments(split="emobox", emobox_dir=str(emobox), fold=1))
    paths = np.asarray(rows["path"])
    assert set(paths[te]) - {p for p in paths if "emouerj" in p} == expected_test
    assert any("emouerj" in p for p in paths[te]) and len(dev) == 0
    assert "EmoBox cafe fold 1" in notes["FRE"] and "speaker(s) in both train and test" in notes["FRE"]
    assert "corpora without EmoBox folds" in notes["POR"]
    assert notes["emobox"]["oreau"]["test"]["unmatched"] == 1


def test_missing_fold_names_the_folds_there_are(corpus):
    rows, emobox, _ = corpus
    with pytest.raises(UserError, match="its folds: 1"):
        emobox_split(rows["path"], rows["corpus"], rows["label"], rows["speaker"], emobox, 2)
    with pytest.raises(UserError, match="not a folder"):
        emobox_split(rows["path"], rows["corpus"], rows["label"], rows["speaker"], emobox / "nope", 1)


def test_a_label_set_lays_every_fold_row_and_checks_labels_by_canonical_name(corpus):
    """With another label set the rows carry canonical names: the same rows match, no false disagreement, and the
    fold's rows outside the six (RESD 'Enthusiastic') are laid over the user's rows too (here: not among them)."""
    rows, emobox, _ = corpus
    args = (rows["path"], rows["corpus"], rows["label"], rows["speaker"], emobox, 1)
    tr, te, covered, paper = emobox_split(*args)
    canonical = [EMOTIONS[i] for i in rows["label"]]
    tr2, te2, covered2, other = emobox_split(*args, canonical=canonical)
    assert tr2.tolist() == tr.tolist() and te2.tolist() == te.tolist() and (covered2 == covered).all()
    assert other["cafe"]["test"]["label_disagreements"] == 0
    extra = other["resd"]["test"]["rows"] - paper["resd"]["test"]["six_class_rows"]
    assert extra > 0 and other["resd"]["test"]["unmatched"] == paper["resd"]["test"]["unmatched"] + extra


def test_emovo_label_dict_is_read_where_there_is_no_label_map(tmp_path):
    """EmoBox's data/emovo ships label_dict.json (codes -> classes) instead of label_map.json."""
    d = tmp_path / "data" / "emovo"
    (d / "fold_1").mkdir(parents=True)
    (d / "label_dict.json").write_text(json.dumps({"gio": "Happy", "rab": "Angry", "sor": "Surprise"}))
    for part, wav, emo in (
        ("train", "downloads/emovo/f2/gio-f2-b2.wav", "gio"),
        ("test", "downloads/emovo/m3/rab-m3-l2.wav", "rab"),
    ):
        (d / "fold_1" / f"emovo_{part}_fold_1.jsonl").write_text(_row("emovo", Path(wav).stem, wav, emo) + "\n")
    assert corpus_folds(tmp_path, "emovo") == ("emovo", [1])
    train, test, label_map = read_fold(d, "emovo", 1)
    assert [r["emo"] for r in train + test] == ["gio", "rab"]
    assert label_map == {"gio": "happiness", "rab": "anger", "sor": None}
