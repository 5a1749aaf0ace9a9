"""Splits are disjoint, proportional, seeded and stable across experiments; k-fold and dev parts; fallbacks."""

import numpy as np
import pytest

from hf_ser.data.splits import split_indices
from hf_ser.errors import UserError


def _data(n_per_cell=17, langs=("FRE", "ITA", "ENG"), speakers=6, seed=0):
    rng = np.random.default_rng(seed)
    labels, languages, spk = [], [], []
    for l in langs:
        for e in range(6):
            for _i in range(n_per_cell + e):
                labels.append(e)
                languages.append(l)
                spk.append(f"{l}-{rng.integers(speakers)}")
    return np.array(labels), np.array(languages), np.array(spk)


@pytest.mark.parametrize("protocol", ["paper", "speaker"])
def test_split_disjoint_and_seeded(protocol):
    y, langs, spk = _data()
    tr, te, notes = split_indices(y, langs, spk, protocol, 0.3, seed=3)
    assert not set(tr) & set(te) and len(tr) + len(te) == len(y)
    _tr2, te2, _ = split_indices(y, langs, spk, protocol, 0.3, seed=3)
    assert np.array_equal(te, te2)
    _tr3, te3, _ = split_indices(y, langs, spk, protocol, 0.3, seed=4)
    assert not np.array_equal(te, te3)
    if protocol == "speaker":
        assert not set(spk[tr]) & set(spk[te])
        assert all("speaker-independent" in v for v in notes.values())


def test_paper_split_cell_proportions_within_one():
    y, langs, spk = _data()
    _tr, te, _ = split_indices(y, langs, spk, "paper", 0.3, seed=0)
    for l in set(langs):
        for e in range(6):
            cell = (langs == l) & (y == e)
            assert abs(np.isin(np.flatnonzero(cell), te).sum() - 0.3 * cell.sum()) <= 1


def test_language_test_set_independent_of_other_languages():
    y, langs, spk = _data()
    _, te_all, _ = split_indices(y, langs, spk, "paper", 0.3, seed=0)
    fre = langs == "FRE"
    _, te_fre, _ = split_indices(y[fre], langs[fre], spk[fre], "paper", 0.3, seed=0)
    assert np.array_equal(np.flatnonzero(fre)[te_fre], np.intersect1d(te_all, np.flatnonzero(fre)))


def test_speaker_split_falls_back_without_speakers():
    y, langs, _ = _data(langs=("SPA",))
    _tr, te, notes = split_indices(y, langs, np.array(["unknown"] * len(y)), "speaker", 0.3, 0)
    assert "fell back" in notes["SPA"] and len(te) > 0


def test_speaker_split_falls_back_per_corpus():
    """A corpus without speaker ids falls back on its own; the language's other corpora stay speaker-independent."""
    y, langs, spk = _data(langs=("ITA",))
    spk = spk.astype(object)
    spk[: len(y) // 3] = "unknown"  # e.g. one of the language's corpora publishes no speaker ids
    tr, te, notes = split_indices(y, langs, spk.astype(str), "speaker", 0.3, 0)
    known = spk != "unknown"
    assert not set(spk[tr][known[tr]]) & set(spk[te][known[te]])
    assert "speaker-independent" in notes["ITA"] and "without speaker ids fell back" in notes["ITA"]
    unknown = np.flatnonzero(~known)
    for e in range(6):  # the fallback part is stratified like the paper protocol
        cell = unknown[y[unknown] == e]
        assert abs(np.isin(cell, te).sum() - 0.3 * len(cell)) <= 1


def test_kfold_puts_every_utterance_in_exactly_one_test_fold():
    from hf_ser.data.splits import kfold_indices

    y, langs, spk = _data(speakers=8)
    spk[:5] = "unknown"  # a few utterances without speaker ids: their own groups
    seen = np.zeros(len(y), dtype=int)
    for k in range(1, 6):
        tr, te, notes = kfold_indices(y, langs, spk, folds=5, fold=k, seed=0)
        assert len(tr) + len(te) == len(y) and not set(tr) & set(te)
        known = spk != "unknown"
        assert not set(spk[tr][known[tr]]) & set(spk[te][known[te]])  # speaker-grouped
        seen[te] += 1
        assert "5-fold, fold" in notes["FRE"]
    assert (seen == 1).all()
    with pytest.raises(UserError):
        kfold_indices(y, langs, spk, folds=5, fold=6)


@pytest.mark.parametrize("protocol", ["paper", "speaker"])
def test_dev_split_is_disjoint_stratified_and_speaker_disjoint(protocol):
    from hf_ser.data.splits import dev_indices

    y, langs, spk = _data(n_per_cell=30, speakers=12)
    tr, te, _ = split_indices(y, langs, spk, protocol, 0.3, seed=0)
    tr2, dev, notes = dev_indices(y, langs, spk, tr, te, 0.1, protocol, seed=0)
    parts = [set(tr2), set(dev), set(te)]
    assert sum(map(len, parts)) == len(y) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set(y[dev]) == set(range(6))  # every emotion on dev
    if protocol == "speaker":
        s = [set(spk[i]) for i in (tr2, dev, te)]
        assert not (s[0] & s[1] or s[0] & s[2] or s[1] & s[2])
        assert "held-out training speakers" in notes["FRE"]
    else:
        assert abs(len(dev) - 0.1 * len(tr)) <= 3 * 6 * 3  # round() per emotion x language cell


def test_kfold_with_fewer_speakers_than_folds_cuts_utterances_and_says_so():
    from hf_ser.data.splits import kfold_indices

    y, langs, spk = _data(speakers=3)  # like the demo corpus: a handful of voices per language
    seen = np.zeros(len(y), dtype=int)
    for k in range(1, 6):
        _, te, notes = kfold_indices(y, langs, spk, folds=5, fold=k)
        seen[te] += 1
    assert (seen == 1).all() and "utterance-level" in notes["ITA"]
