"""The synthetic corpus's planted genetic-distance effect (genetic_shift): off at 0 (same parameters, same folder
as before the option), languages' profiles apart in proportion to their genetic embedding, audio that moves."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from hf_ser.data.corpora.synthetic import build, genetic
from hf_ser.data.corpora.synthetic.profiles import BASE_PROFILES
from hf_ser.labels import EMOTIONS, LANGUAGES
from hf_ser.study.transfer.distances import study_distances

ROMANCE = ("FRE", "ITA", "POR", "ROM", "SPA")
OTHERS = ("ARA", "BEN", "CHI", "ENG", "RUS", "DEU", "ELL", "AMH", "FAS", "POL", "TUR", "URD")


def test_shift_zero_changes_nothing_and_adds_no_parameter():
    for lang in ROMANCE + OTHERS:
        for e in EMOTIONS:
            assert build.language_profile(e, lang, 0.0, 0.0) == build.emotion_profile(e, genetic_group(lang), 0.0)
    params = build.corpus_params(["FRE", "ENG"], 3, 0, 0.0, 2, "1.52.0")
    assert "genetic_shift" not in params and "genetic_profiles" not in params  # same hash, same folder as before
    assert build.corpus_params(["FRE", "ENG"], 3, 0, 0.0, 2, "1.52.0", genetic_shift=1.0)["genetic_shift"] == 1.0


def genetic_group(lang: str) -> str:
    """The lineage group of a study language."""
    return LANGUAGES[lang].group


def test_embedding_is_the_mds_of_the_shipped_genetic_distances():
    coords = genetic.genetic_coordinates()
    assert set(coords) == set(ROMANCE + OTHERS)
    x = np.array([coords[l] for l in ROMANCE + OTHERS])
    assert x.shape == (17, genetic.DIMS) and np.allclose(x.mean(axis=0), 0.0)
    assert max(coords[l][0] for l in ROMANCE) < min(coords[l][0] for l in OTHERS)  # Romance at one end of axis 1
    ds = study_distances()
    d = np.array(
        [[ds.matrices["genetic"][ds.index(a), ds.index(b)] for b in ROMANCE + OTHERS] for a in ROMANCE + OTHERS]
    )
    e = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    off = ~np.eye(17, dtype=bool)
    assert np.corrcoef(d[off], e[off])[0, 1] > 0.8  # measured 0.84: five axes keep more than the two clusters


def test_profiles_drift_apart_with_genetic_distance_not_only_with_lineage():
    ds = study_distances()
    langs = ROMANCE + OTHERS
    gap, dist, lineage = [], [], []
    for i, a in enumerate(langs):
        for b in langs[i + 1 :]:
            pa = np.concatenate([build.language_profile(e, a, 0.0, 2.0).as_array() for e in EMOTIONS])
            pb = np.concatenate([build.language_profile(e, b, 0.0, 2.0).as_array() for e in EMOTIONS])
            gap.append(np.linalg.norm(pa - pb))
            dist.append(ds.matrices["genetic"][ds.index(a), ds.index(b)])
            lineage.append(float((a in ROMANCE) != (b in ROMANCE)))
    # measured over the 17 languages: 0.80 with genetic distance, 0.36 with the lineage split
    assert np.corrcoef(gap, dist)[0, 1] > 0.7
    assert np.corrcoef(gap, lineage)[0, 1] < 0.4

    def closest_pair(profiles: np.ndarray) -> float:
        """The smallest distance between two of a language's six emotions (profiles z-scored by the base spread)."""
        z = profiles / np.where(base.std(axis=0) > 0, base.std(axis=0), 1.0)
        return min(np.linalg.norm(z[a] - z[b]) for a in range(6) for b in range(a + 1, 6))

    base = np.array([BASE_PROFILES[e].as_array() for e in EMOTIONS])
    kept = [
        closest_pair(np.array([build.language_profile(e, l, 0.0, 2.0).as_array() for e in EMOTIONS])) for l in langs
    ]
    assert min(kept) / closest_pair(base) > 0.5  # measured 0.73: a language's own emotions never merge


def test_a_genetic_build_is_its_own_corpus_and_its_audio_moves(tmp_path):
    kw = dict(per_cell=1, languages=["CHI"], seed=0, speakers_per_language=1)
    plain = build.build_synthetic_corpus(tmp_path, **kw)
    again = build.build_synthetic_corpus(tmp_path, **kw, genetic_shift=0.0)
    shifted = build.build_synthetic_corpus(tmp_path, **kw, genetic_shift=2.0)
    assert plain == again and shifted.parent != plain.parent
    a = sf.read(plain.parent / "CHI" / "anger" / "CHI_anger_0000.wav")[0]
    b = sf.read(shifted.parent / "CHI" / "anger" / "CHI_anger_0000.wav")[0]
    assert len(a) != len(b) or not np.allclose(a, b)
