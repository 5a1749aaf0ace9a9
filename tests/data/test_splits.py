"""Speaker-grouped splits of the size asked, and a dev split that never shares a speaker or an utterance with test.

Properties are checked over several speaker counts (fewer than the folds, a handful, many, unequal sizes, some
utterances without speaker ids) and split seeds, for every protocol: paper, speaker, k-fold (with its
utterance-level fallback) and EmoBox folds (with a published fold that has a speaker on both sides).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import datasets
import numpy as np
import pytest

from hf_ser.data.dataset import DataArguments, split_index_sets
from hf_ser.data.splits import (
    FRACTION_TOLERANCE,
    achieved_fractions,
    dev_indices,
    kfold_indices,
    known_speakers,
    pick_speakers,
    split_indices,
)
from hf_ser.experiments.recipe.protocol import protocol_record
from hf_ser.labels import EMOTIONS

SPEAKER_COUNTS = (1, 2, 3, 4, 5, 7, 12)
SEEDS = (0, 1, 2)


def corpus(n_speakers: int, seed: int = 0, equal: bool = False, unknown: int = 0, lang: str = "ROM"):
    """(labels, languages, speakers): each speaker 12-60 utterances (exactly 30 with `equal`) over the six
    emotions, and `unknown` extra utterances without a speaker id."""
    rng = np.random.default_rng(seed)
    labels, speakers = [], []
    for k in range(n_speakers):
        n = 30 if equal else int(rng.integers(12, 61))
        labels += list(rng.permutation(np.arange(n) % 6))
        speakers += [f"{lang.lower()}/s{k}"] * n
    labels += list(np.arange(unknown) % 6)
    speakers += ["unknown"] * unknown
    return np.array(labels), np.array([lang] * len(labels)), np.array(speakers)


def largest_share(speakers: np.ndarray, rows: np.ndarray) -> float:
    """The largest single speaker's share of `rows` (their known-speaker utterances)."""
    ids = speakers[rows][known_speakers(speakers[rows])]
    return np.unique(ids, return_counts=True)[1].max() / len(ids)


def assert_dev_apart_from_test(speakers, train, dev, test, grouped: bool) -> None:
    """Train, dev and test are disjoint; under a speaker-grouped protocol dev shares no known speaker with test."""
    assert not (set(train) & set(dev) or set(train) & set(test) or set(dev) & set(test))
    if grouped:
        known = lambda rows: set(speakers[rows][known_speakers(speakers[rows])])  # noqa: E731
        assert not known(dev) & known(test)


# ----------------------------------------------------------------------------- sizes


def test_four_equal_speakers_get_a_quarter_in_test_and_the_record_says_so(caplog):
    """The bar: --split speaker --test_size 0.3 on 4 equal speakers puts 25% (the closest achievable) in test."""
    y, langs, spk = corpus(4, equal=True)
    ds = datasets.Dataset.from_dict(
        {"label": y, "language": langs, "speaker": spk, "corpus": ["synth"] * len(y), "path": [""] * len(y)}
    )
    args = DataArguments(split="speaker", test_size=0.3)
    with caplog.at_level(logging.WARNING, logger="hf_ser.data.splits"):
        tr, dev, te, notes = split_index_sets(ds, args)
    assert len(te) / len(y) == 0.25 and len(dev) == 0
    assert notes["achieved_fractions"]["ROM"] == {
        "utterances": 120,
        "test": 0.25,
        "dev": 0.0,
        "test_speakers": 1,
        "dev_speakers": 0,
    }
    assert "1 of 4 speakers in test, 25.0% of the utterances" in notes["ROM"]
    assert any("ROM: 4 speakers are too few for test_size 0.3" in r.getMessage() for r in caplog.records)
    record = protocol_record(args, None, False, None, {"ROM": notes["achieved_fractions"]["ROM"]})
    assert record["test_size"] == 0.3 and record["achieved_fractions"]["ROM"]["test"] == 0.25


def test_dev_size_is_honoured_and_too_few_speakers_are_named(caplog):
    """dev_size 0.1 of 3 training speakers takes one (a third: the closest non-empty), and the warning says so;
    with 40 speakers the share lands within one speaker's share of 10% and nothing is logged."""
    y, langs, spk = corpus(4, equal=True)
    tr, te, _ = split_indices(y, langs, spk, "speaker", 0.3, seed=0)
    with caplog.at_level(logging.WARNING, logger="hf_ser.data.splits"):
        tr2, dev, notes = dev_indices(y, langs, spk, tr, te, 0.1, "speaker", seed=0)
    assert len(np.unique(spk[dev])) == 1 and len(dev) / len(tr) == pytest.approx(1 / 3)
    assert any("ROM: 3 speakers are too few for dev_size 0.1" in r.getMessage() for r in caplog.records)
    caplog.clear()
    y, langs, spk = corpus(40, seed=1)
    with caplog.at_level(logging.WARNING, logger="hf_ser.data.splits"):
        tr, te, _ = split_indices(y, langs, spk, "speaker", 0.3, seed=0)
        tr2, dev, notes = dev_indices(y, langs, spk, tr, te, 0.1, "speaker", seed=0)
    assert abs(len(te) / len(y) - 0.3) <= FRACTION_TOLERANCE and abs(len(dev) / len(tr) - 0.1) <= FRACTION_TOLERANCE
    assert not caplog.records
    assert "held-out training speakers" in notes["ROM"]


@pytest.mark.parametrize("n_speakers", SPEAKER_COUNTS[1:])
def test_speaker_split_share_is_within_one_speaker_of_the_asked_size(n_speakers):
    """Over seeds, unequal speakers and sizes 0.1-0.5: the test share misses the asked one by at most the largest
    speaker's share, and each seed is reproducible."""
    for seed in SEEDS:
        y, langs, spk = corpus(n_speakers, seed=seed)
        for size in (0.1, 0.2, 0.3, 0.5):
            _, te, _ = split_indices(y, langs, spk, "speaker", size, seed=seed)
            assert abs(len(te) / len(y) - size) <= largest_share(spk, np.arange(len(y))) + 1e-9
            assert np.array_equal(te, split_indices(y, langs, spk, "speaker", size, seed=seed)[1])


def test_pick_speakers_is_seeded_and_stratified():
    """Different seeds pick different speakers; every emotion stays on both sides when the speakers allow it."""
    y, _, spk = corpus(12, seed=5)
    picks = {tuple(np.unique(spk[pick_speakers(y, spk, 0.3, np.random.default_rng(s))])) for s in range(6)}
    assert len(picks) > 1
    for s in range(6):
        mask = pick_speakers(y, spk, 0.3, np.random.default_rng(s))
        assert set(y[mask]) == set(y[~mask]) == set(range(6))
    assert pick_speakers(y[:30], spk[:30], 0.3, np.random.default_rng(0)) is None  # one speaker, one must stay


def test_pick_speakers_matches_the_emotion_mix_of_speakers_with_skewed_mixes():
    """40 speakers, each with its own emotion mix: test's emotion proportions stay within 5 points (L1) of the
    whole's (the StratifiedGroupKFold pick this replaced averaged 4.3 points here, pick_speakers 1.7), at 30%."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(12, 61, 40)
    spk = np.repeat(np.arange(40).astype(str), sizes)
    y = np.concatenate([rng.choice(6, n, p=rng.dirichlet(np.ones(6) * 2)) for n in sizes])
    for seed in range(3):
        mask = pick_speakers(y, spk, 0.3, np.random.default_rng(seed))
        mix = np.abs(np.bincount(y[mask], minlength=6) / mask.sum() - np.bincount(y, minlength=6) / len(y)).sum()
        assert mix <= 0.05 and abs(mask.mean() - 0.3) <= sizes.max() / sizes.sum()


# ----------------------------------------------------------------------------- dev never meets test


@pytest.mark.parametrize("protocol", ["paper", "speaker"])
def test_dev_never_shares_an_utterance_or_a_speaker_with_test(protocol):
    for n_speakers in SPEAKER_COUNTS:
        for seed in SEEDS:
            y, langs, spk = corpus(n_speakers, seed=seed, unknown=12 if seed == 2 else 0)
            tr, te, _ = split_indices(y, langs, spk, protocol, 0.3, seed=seed)
            tr2, dev, notes = dev_indices(y, langs, spk, tr, te, 0.2, protocol, seed=seed)
            assert len(tr2) + len(dev) + len(te) == len(y)
            assert_dev_apart_from_test(spk, tr2, dev, te, grouped=protocol == "speaker")
            if protocol == "speaker" and n_speakers >= 3:  # whole speakers: none in two of train/dev/test
                known = known_speakers(spk)
                assert not set(spk[dev][known[dev]]) & set(spk[tr2][known[tr2]])
                share = known[dev].sum() / known[tr].sum()
                assert abs(share - 0.2) <= largest_share(spk, tr) + 1e-9
            if protocol == "speaker" and n_speakers == 1:  # fell back: its only speaker is in test
                assert not known_speakers(spk[dev]).any() and "every training speaker" in notes["ROM"]


def test_kfold_dev_never_meets_test_in_any_fold_including_the_utterance_level_fallback():
    """ROM with 4 speakers and K=5 (the issue's case) and every other count: the dev speakers are held out of every
    fold, the same in each; the other utterances are in exactly one test fold."""
    folds = 5
    for n_speakers in SPEAKER_COUNTS:
        for seed in SEEDS:
            y, langs, spk = corpus(n_speakers, seed=seed, unknown=10 if seed == 1 else 0)
            seen = np.zeros(len(y), dtype=int)
            devs = set()
            for fold in range(1, folds + 1):
                tr, te, notes = kfold_indices(y, langs, spk, folds, fold, seed=seed, dev_size=0.1)
                tr2, dev, dev_notes = dev_indices(y, langs, spk, tr, te, 0.1, "kfold", seed=seed)
                assert_dev_apart_from_test(spk, tr2, dev, te, grouped=True)
                seen[te] += 1
                devs.add(tuple(dev))
                if n_speakers == 1 and seed != 1:  # nobody to hold out: no speaker-disjoint dev, the note says why
                    assert not known_speakers(spk[dev]).any() and "every training speaker" in dev_notes["ROM"]
                elif n_speakers + (10 if seed == 1 else 0) < folds:
                    assert "held out of every fold for dev" in notes["ROM"] and len(dev)
            reserved = seen == 0
            assert (seen <= 1).all()
            if n_speakers + (10 if seed == 1 else 0) < folds and n_speakers > 1:
                assert len(devs) == 1 and set(np.flatnonzero(reserved)) >= set(devs.pop())
            else:
                assert not reserved.any()  # speaker-grouped folds cover every utterance


def test_kfold_without_dev_keeps_every_utterance_in_one_fold():
    y, langs, spk = corpus(4, seed=3)
    seen = np.zeros(len(y), dtype=int)
    for fold in range(1, 6):
        seen[kfold_indices(y, langs, spk, 5, fold, seed=0)[1]] += 1
    assert (seen == 1).all()


def _emobox_dataset(tmp_path: Path, n_speakers: int) -> tuple[datasets.Dataset, Path]:
    """A MESD-like covered corpus (EmoBox fold 1: the last speaker in test, speaker s1 on both sides) and an
    uncovered one; returns the rows as a dataset and the EmoBox folder."""
    rows = {k: [] for k in ("path", "corpus", "label", "speaker", "language")}
    train, test = [], []
    for k in range(n_speakers):
        for i in range(12):
            name = f"s{k}_{i}.wav"
            rows["path"].append(f"/data/mesd/{name}")
            rows["corpus"].append("mesd")
            rows["label"].append(i % 6)
            rows["speaker"].append(f"s{k}")
            rows["language"].append("SPA")
            line = json.dumps({"key": name, "wav": f"downloads/mesd/{name}", "emo": EMOTIONS[i % 6]})
            in_test = k == n_speakers - 1 or (k == 1 and i % 2)
            (test if in_test else train).append(line)
    for i in range(36):  # a corpus without EmoBox folds: the paper protocol
        rows["path"].append(f"/data/emouerj/u{i}.wav")
        rows["corpus"].append("emouerj")
        rows["label"].append(i % 6)
        rows["speaker"].append(f"p{i % 3}")
        rows["language"].append("POR")
    folder = tmp_path / "EmoBox" / "data" / "mesd"
    (folder / "fold_1").mkdir(parents=True)
    (folder / "label_map.json").write_text(json.dumps({e: e for e in EMOTIONS}))
    for part, lines in (("train", train), ("test", test)):
        (folder / "fold_1" / f"mesd_{part}_fold_1.jsonl").write_text("\n".join(lines) + "\n")
    return datasets.Dataset.from_dict(rows), tmp_path / "EmoBox"


@pytest.mark.parametrize("n_speakers", [3, 5, 8])
def test_emobox_dev_is_whole_training_speakers_never_in_the_published_test(tmp_path, n_speakers):
    ds, emobox = _emobox_dataset(tmp_path, n_speakers)
    spk = np.char.add(np.char.add(np.asarray(ds["corpus"]), "/"), np.asarray(ds["speaker"]))
    for seed in SEEDS:
        args = DataArguments(split="emobox", emobox_dir=str(emobox), fold=1, dev_size=0.2, split_seed=seed)
        tr, dev, te, notes = split_index_sets(ds, args)
        spa = np.asarray(ds["language"]) == "SPA"
        assert_dev_apart_from_test(spk, tr, dev, te, grouped=False)
        assert_dev_apart_from_test(spk, tr[spa[tr]], dev[spa[dev]], te[spa[te]], grouped=True)
        assert "mesd/s1" not in set(spk[dev])  # the published fold's shared speaker never becomes dev
        assert len(dev[spa[dev]]) and not set(spk[dev][spa[dev]]) & set(spk[tr][spa[tr]])
        assert "held-out training speakers" in notes["SPA"]
        assert "random utterances" in notes["POR"] and len(dev[~spa[dev]])  # paper protocol where EmoBox has none
        fractions = notes["achieved_fractions"]
        assert fractions["SPA"]["dev_speakers"] >= 1 and fractions["SPA"]["test"] == round(
            len(te[spa[te]]) / 12 / n_speakers, 4
        )


def test_achieved_fractions_count_every_part():
    y, langs, spk = corpus(6, seed=4)
    tr, te, _ = split_indices(y, langs, spk, "speaker", 0.3, seed=0)
    tr2, dev, _ = dev_indices(y, langs, spk, tr, te, 0.2, "speaker", seed=0)
    got = achieved_fractions(langs, spk, tr2, dev, te)["ROM"]
    assert got["utterances"] == len(y) and got["test"] == round(len(te) / len(y), 4)
    assert got["dev"] == round(len(dev) / len(tr), 4)
    assert got["test_speakers"] == len(set(spk[te])) and got["dev_speakers"] == len(set(spk[dev]))
