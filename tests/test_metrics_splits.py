"""Metrics equal scikit-learn's; splits are disjoint, proportional, seeded and stable across experiments."""

import evaluate
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from hf_ser.data.splits import split_indices
from hf_ser.errors import UserError
from hf_ser.experiments.families import plan_runs
from hf_ser.metric_modules import MODULES
from hf_ser.metric_modules import path as metric_path
from hf_ser.metrics import compute_metrics, confusion, macro_f1, macro_f1_sklearn, per_language_metrics


def test_metrics_equal_sklearn():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 6, 300), rng.integers(0, 6, 300)
    langs = rng.choice(["FRE", "ITA", "ENG"], 300)
    m = per_language_metrics(y, p, langs)
    assert list(m) == ["FRE", "ITA", "ENG", "all"]  # table order
    for lang in ("FRE", "ITA", "ENG"):
        k = langs == lang
        assert m[lang]["uar"] == pytest.approx(balanced_accuracy_score(y[k], p[k]))
        present = np.unique(y[k])
        assert m[lang]["f1"] == pytest.approx(f1_score(y[k], p[k], labels=present, average="macro"))
        assert m[lang]["wa"] == pytest.approx(accuracy_score(y[k], p[k]))
        assert m[lang]["n"] == k.sum()
    assert m["all"]["uar"] == pytest.approx(balanced_accuracy_score(y, p))
    c = confusion(y, p)
    assert np.asarray(c["matrix"]).sum() == 300 and len(c["labels"]) == 6


def _three_class_toy(stray: int = 0):
    """630 clips of 3 classes (210 each), 96.5%-ish correct; `stray` errors go to classes the language lacks."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 3, 5], 210)
    p = y.copy()
    wrong = rng.choice(len(y), 22, replace=False)
    p[wrong] = np.where(y[wrong] == 0, 3, 0)
    if stray:
        p[wrong[:stray]] = 1  # disgust: absent from this language
    return y, p


def test_f1_averages_over_present_classes_only():
    y, p = _three_class_toy()
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, labels=[0, 3, 5], average="macro"))
    assert macro_f1(y, p) > 0.95
    # a model predicting classes the language lacks: sklearn's default counts them as zero-F1 classes
    y, p = _three_class_toy(stray=12)
    assert macro_f1_sklearn(y, p) < 0.8 * macro_f1(y, p)
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, labels=[0, 3, 5], average="macro"))


@pytest.mark.parametrize("classes", [[0, 3, 5], [0, 3, 4, 5], list(range(6))])
def test_evaluate_modules_equal_sklearn(classes):
    rng = np.random.default_rng(len(classes))
    y = rng.choice(classes, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, 6, 200))
    got = {}
    for name in MODULES:
        got.update(evaluate.load(metric_path(name), keep_in_memory=True).compute(predictions=p, references=y))
    assert got["uar"] == pytest.approx(balanced_accuracy_score(y, p))
    assert got["f1"] == pytest.approx(f1_score(y, p, labels=np.unique(y), average="macro", zero_division=0))
    assert got["wa"] == pytest.approx(accuracy_score(y, p))


def test_compute_metrics_reports_uar_f1_wa():
    class Pred:
        predictions = np.eye(6)[[0, 1, 2, 2]]
        label_ids = np.array([0, 1, 2, 3])

    out = compute_metrics(Pred())
    assert set(out) == {"uar", "f1", "wa"} and out["wa"] == pytest.approx(0.75)


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


def test_paper_grid_has_23_runs():
    from hf_ser.labels import LANGUAGES

    runs = plan_runs("paper", list(LANGUAGES))
    assert len(runs) == 23
    xg = [r for r in runs if r.family == "cross_group"]
    assert len(xg) == 10
    r = next(r for r in xg if r.heldout_language == "FRE")
    assert r.train_languages == ("ITA", "POR", "ROM", "SPA")
    assert r.eval_languages == ("FRE", "ARA", "BEN", "CHI", "ENG", "RUS")
    assert len(plan_runs("single_language", ["FRE", "ITA"], seeds=3)) == 6


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
