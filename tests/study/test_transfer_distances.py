"""study.transfer.distances and .acoustic: URIEL+ distances equal URIEL+'s own, the missing-value rule, the cache,
one-line errors for unknown languages, and the acoustic control."""

import json

import numpy as np
import pytest
from scipy.signal import welch

from hf_ser.errors import UserError
from hf_ser.labels import LANGUAGES, Language
from hf_ser.study.transfer import distances as dist
from hf_ser.study.transfer.acoustic import acoustic_distance, corpus_summary, long_term_average_spectrum

PAPER_ISO = [lang.iso639_3 for lang in LANGUAGES.values()][:10]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The package's distances of the table's languages (the paper's ten first) computed live (URIEL+ loaded once,
    ~15-25 s)."""
    cache = tmp_path_factory.mktemp("uriel_cache")
    return dist.language_distances(list(LANGUAGES), cache_dir=cache), cache


@pytest.mark.slow
def test_genetic_and_syntactic_distances_equal_urielplus_own_calls(live):
    ds, _ = live
    uriel = dist._uriel()
    for kind in ("genetic", "syntactic"):
        reference = np.asarray(dist._quiet_call(uriel.new_distance, kind, PAPER_ISO), dtype=float)
        assert (reference >= 0).all()  # no missing pair for these two: the rule does not touch them
        off = ~np.eye(10, dtype=bool)  # URIEL+'s own diagonal carries rounding (2e-4 for SPA); ours is exactly 0
        np.testing.assert_allclose(ds.matrices[kind][:10, :10][off], reference[off], atol=1e-12)
        np.testing.assert_allclose(ds.matrices[kind], ds.matrices[kind].T)
    # the shipped snapshots (the simulator's ten, the demo's seventeen) are URIEL+'s current data
    snapshot = dist.paper_distances()
    for kind in dist.URIEL_DISTANCES:
        np.testing.assert_allclose(snapshot.raw[kind], ds.raw[kind][:10, :10], atol=1e-6)
    assert snapshot.labels == ds.labels[:10] and snapshot.codes == tuple(PAPER_ISO)
    study = dist.study_distances()
    for kind in dist.ALL_DISTANCES:
        np.testing.assert_allclose(study.raw[kind], ds.raw[kind], atol=1e-6)
    assert study.labels == ds.labels == tuple(LANGUAGES)


def test_languages_outside_the_papers_split_take_its_lineage_side_by_family():
    study = dist.study_distances()
    lineage = study.matrices["lineage"]
    i = study.index
    assert lineage[i("DEU"), i("TUR")] == 0 and lineage[i("DEU"), i("ENG")] == 0  # all three are "others"
    assert lineage[i("DEU"), i("FRE")] == 1 and lineage[i("POL"), i("ITA")] == 1


@pytest.mark.slow
def test_the_cache_answers_a_new_target_without_recomputing_the_studys_pairs(live, monkeypatch):
    ds, cache = live
    path = cache / f"urielplus-{dist.uriel_version()}-distances.json"
    payload = json.loads(path.read_text())
    assert payload["urielplus"] == dist.uriel_version() and "fra|ita" in payload["distances"]["genetic"]
    asked = []
    real = dist._compute_pairs

    def counting(kind, pairs):
        asked.append(sorted(dist._pair_key(a, b) for a, b in pairs))
        return real(kind, pairs)

    monkeypatch.setattr(dist, "_compute_pairs", counting)
    again = dist.language_distances(list(LANGUAGES)[:10], cache_dir=cache)
    assert asked == []  # every pair came from the cache
    np.testing.assert_array_equal(again.matrices["genetic"], ds.matrices["genetic"][:10, :10])
    dist.language_distances(["FRE", "ITA", "Catalan"], cache_dir=cache, kinds=("genetic",))
    assert asked == [["cat|fra", "cat|ita"]]  # only the new pairs go to URIEL+


def test_the_snapshot_records_which_pairs_the_missing_rule_touched():
    ds = dist.paper_distances()
    assert ds.names == dist.ALL_DISTANCES and ds.dropped == ()
    touched = ds.imputed["phonological"]  # Italian and Portuguese have no phonological features in URIEL+
    assert len(touched) == 17 and all("ITA" in pair or "POR" in pair for pair in touched)
    raw, filled = ds.raw["phonological"], ds.matrices["phonological"]
    upper = np.triu_indices(10, 1)
    available = raw[upper][raw[upper] != dist.MISSING]
    assert filled[LANGUAGES_INDEX("ITA"), LANGUAGES_INDEX("FRE")] == pytest.approx(available.mean())
    for m in ds.matrices.values():
        np.testing.assert_allclose(m, m.T)
        assert (np.diag(m) == 0).all() and (m >= 0).all()
    lineage = ds.matrices["lineage"]
    assert lineage[LANGUAGES_INDEX("FRE"), LANGUAGES_INDEX("SPA")] == 0 == 1 - lineage[0, LANGUAGES_INDEX("ENG")]


def LANGUAGES_INDEX(code):  # noqa: N802 - reads like the table it indexes
    """Row of a study code in the paper's table order."""
    return list(LANGUAGES).index(code)


def test_missing_rule_imputes_the_mean_of_available_pairs_and_drops_a_mostly_missing_distance():
    raw = np.array([[0, 0.2, -1, 0.4], [0.2, 0, 0.6, -1], [-1, 0.6, 0, 0.8], [0.4, -1, 0.8, 0]], dtype=float)
    filled, pairs = dist.apply_missing_rule(raw, ["a", "b", "c", "d"])
    assert pairs == (("a", "c"), ("b", "d"))
    assert filled[0, 2] == filled[2, 0] == filled[1, 3] == pytest.approx(np.mean([0.2, 0.4, 0.6, 0.8]))
    mostly = raw.copy()
    mostly[0, 1] = mostly[1, 0] = mostly[0, 3] = mostly[3, 0] = -1
    dropped, pairs = dist.apply_missing_rule(mostly, ["a", "b", "c", "d"])
    assert dropped is None and len(pairs) == 4  # 4 of 6 pairs missing > MAX_MISSING_SHARE


def test_lineage_is_binary_and_missing_for_a_language_without_a_group():
    m = dist.lineage_matrix(["neo_latin", "neo_latin", "others", None])
    assert m[0, 1] == 0 and m[0, 2] == 1 and m[3, 0] == m[0, 3] == dist.MISSING and m[3, 3] == 0


def test_languages_resolve_by_study_code_iso_code_or_name_and_unknown_ones_get_the_closest():
    assert dist.resolve_language("ARA") == "ary"  # Moroccan Arabic, as the language table says
    assert dist.resolve_language("cat") == dist.resolve_language("Catalan") == "cat"
    assert dist.resolve_language(" hungarian ") == "hun"
    with pytest.raises(UserError) as err:
        dist.resolve_language("Hungarain")
    assert "\n" not in str(err.value) and "hun (Hungarian)" in str(err.value)
    with pytest.raises(UserError, match="knows no language 'qqx'"):
        dist.uriel_distances(["fra", "qqx"])
    with pytest.raises(UserError, match="named twice"):
        dist.language_distances(["FRE", "fra"], kinds=("lineage",))


def test_a_user_added_language_needs_no_code(monkeypatch):
    monkeypatch.setitem(LANGUAGES, "CAT", Language("CAT", "Catalan", "ca", "cat", "neo_latin", "Romance"))
    ds = dist.language_distances(["FRE", "CAT", "ENG"], kinds=("lineage",))
    assert ds.codes == ("fra", "cat", "eng") and ds.labels == ("FRE", "CAT", "ENG")
    np.testing.assert_array_equal(ds.matrices["lineage"], [[0, 0, 1], [0, 0, 1], [1, 1, 0]])


def test_long_term_average_spectrum_peaks_at_a_tone_and_weighs_waveforms_by_length():
    sr = 16_000
    t = np.arange(sr) / sr
    tone = np.sin(2 * np.pi * 1000 * t)
    ltas = long_term_average_spectrum([tone, tone[:4000]], sr)
    freqs = np.fft.rfftfreq(512, 1 / sr)
    assert abs(freqs[np.argmax(ltas)] - 1000) <= sr / 512
    noise = np.random.default_rng(0).standard_normal(3 * sr)
    mixed = long_term_average_spectrum([tone, noise], sr)
    expected = (welch(tone, sr, nperseg=512)[1] * sr + welch(noise, sr, nperseg=512)[1] * 3 * sr) / (4 * sr)
    np.testing.assert_allclose(mixed, 10 * np.log10(expected))
    assert np.isfinite(long_term_average_spectrum([np.zeros(100)], sr)).all()


def test_acoustic_distance_is_the_euclidean_distance_of_standardised_corpus_means():
    rng = np.random.default_rng(1)
    feats = [rng.normal(i, 1.0, size=(20 + i, 5)) for i in range(4)]
    d = acoustic_distance(feats)
    means = np.stack([f.mean(axis=0) for f in feats])
    z = (means - means.mean(axis=0)) / means.std(axis=0)
    direct = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(d, direct)
    assert np.allclose(d, d.T) and (np.diag(d) == 0).all()
    np.testing.assert_allclose(corpus_summary(means[0]), means[0])
    with pytest.raises(ValueError, match="same dimension"):
        acoustic_distance([np.ones(3), np.ones(4)])


def test_corpora_take_their_languages_distances_and_one_languages_corpora_are_at_zero():
    ds = dist.paper_distances()
    units = {"oreau": "FRE", "cafe": "FRE", "mesd": "SPA", "crema_d": "ENG"}
    m = dist.unit_distances(ds, units)
    assert m["genetic"].shape == (4, 4) and m["genetic"][0, 1] == 0 == m["lineage"][0, 1]
    assert m["genetic"][0, 2] == ds.matrices["genetic"][ds.index("FRE"), ds.index("SPA")]
