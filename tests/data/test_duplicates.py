"""Copies of one recording in a corpus tree are kept once: Kaggle's RAVDESS repeats every actor folder under
``audio_speech_actors_01-24/``, while a same-named file with other bytes (MELD's ``dia0_utt0`` in train and dev) is a
different recording and stays."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus_fixtures import write_audio  # noqa: E402

from hf_ser.data.corpora import duplicates, scan_corpus  # noqa: E402
from hf_ser.data.corpora.duplicates import dedupe  # noqa: E402
from hf_ser.data.corpora.prepare import prepare_scan  # noqa: E402
from hf_ser.data.corpora.scan import Item  # noqa: E402


def kaggle_ravdess(root: Path) -> Path:
    """Kaggle's ``ravdess-emotional-speech-audio`` layout: ``Actor_NN/`` at the top and the same files again under
    ``audio_speech_actors_01-24/Actor_NN/``; two actors x 8 emotions."""
    for actor in ("01", "02"):
        for e in range(1, 9):
            write_audio(root / f"Actor_{actor}" / f"03-01-{e:02d}-01-01-01-{actor}.wav", freq=200.0 + 20 * e)
    shutil.copytree(root / "Actor_01", root / "audio_speech_actors_01-24" / "Actor_01")
    shutil.copytree(root / "Actor_02", root / "audio_speech_actors_01-24" / "Actor_02")
    return root


def test_kaggle_ravdess_double_tree_is_read_once(tmp_path):
    kaggle_ravdess(tmp_path / "ravdess")
    scan = scan_corpus("ravdess", tmp_path)
    assert len(scan.items) == 32  # the loader sees both trees
    ds, report = prepare_scan(scan, tmp_path / "cache", num_proc=1)
    assert len(ds) == 2 * 6  # two actors x the six paper classes (calm, surprised dropped), once each
    copies = [s for s in report["skipped"] if "a copy: same name and bytes" in s["reason"]]
    assert len(copies) == 16 and all("audio_speech_actors_01-24" in s["path"] for s in copies)


def test_same_name_other_bytes_is_a_different_recording(tmp_path):
    a = write_audio(tmp_path / "train" / "dia0_utt0.wav", freq=220.0)
    b = write_audio(tmp_path / "dev" / "dia0_utt0.wav", freq=330.0)
    assert a.stat().st_size == b.stat().st_size  # same size: only the bytes tell them apart
    items = [Item(str(a), "anger", "ENG", "s1", "x"), Item(str(b), "anger", "ENG", "s1", "x")]
    kept, skipped = dedupe(items)
    assert kept == items and skipped == []


def test_byte_identical_copies_under_two_labels_are_both_left_out(tmp_path):
    a = write_audio(tmp_path / "Angry" / "0001_000351.wav")
    b = tmp_path / "Sad" / "0001_000351.wav"
    b.parent.mkdir()
    shutil.copyfile(a, b)
    other = write_audio(tmp_path / "Sad" / "0001_001051.wav", freq=300.0)
    items = [Item(str(a), "anger", "CHI", "0001", "x"), Item(str(b), "sadness", "CHI", "0001", "x")]
    items.append(Item(str(other), "sadness", "CHI", "0001", "x"))
    kept, skipped = dedupe(items)
    assert [it.path for it in kept] == [str(other)]
    assert sorted(s["path"] for s in skipped) == sorted([str(a), str(b)])
    assert all("another label" in s["reason"] or "labelled" in s["reason"] for s in skipped)


def test_copy_check_reads_only_colliding_files(tmp_path, monkeypatch):
    files = [write_audio(tmp_path / f"{i}.wav", seconds=0.1 + 0.01 * i) for i in range(5)]
    opened = []
    real = duplicates._content_hash
    monkeypatch.setattr(duplicates, "_content_hash", lambda path, cache: opened.append(path) or real(path, cache))
    kept, _ = dedupe([Item(str(f), "anger", "ENG", "s", "x") for f in files])
    assert len(kept) == 5 and opened == []  # distinct names: no file is hashed
