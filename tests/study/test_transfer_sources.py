"""study.transfer.sources: sources ranked for a target by predicted transfer, with intervals, drivers, a greedy
multi-source set, lacking distances named, rows saved as CSV or JSON, one-line errors."""

import csv
import json
from dataclasses import replace

import numpy as np
import pytest

from hf_ser.errors import UserError
from hf_ser.study.transfer import distances as dist
from hf_ser.study.transfer.model import fit_transfer
from hf_ser.study.transfer.simulate import TransferSpec, simulate_grid
from hf_ser.study.transfer.sources import (
    SOURCE_EFFECT,
    greedy_set,
    rank_for_target,
    rank_sources,
    ranking_json,
    write_ranking,
)

ROMANCE = {"FRE", "ITA", "POR", "ROM", "SPA"}


@pytest.fixture(scope="module")
def strong_fit():
    """A fit on a simulated grid with a strong planted genetic effect (8 points per sd) and the acoustic control."""
    grid = simulate_grid(replace(TransferSpec(), effect=8.0), seed=3)
    return fit_transfer(grid.values, grid.labels, grid.distances, {"acoustic": grid.acoustic}, n_permutations=199)


@pytest.fixture()
def snapshot_cache(tmp_path):
    """A distance cache holding the shipped snapshot's pairs: the study's languages need no URIEL+ computation."""
    ds = dist.paper_distances()
    pairs = {
        kind: {
            dist._pair_key(a, b): float(ds.raw[kind][i, j])
            for i, a in enumerate(ds.codes)
            for j, b in enumerate(ds.codes)
            if i < j
        }
        for kind in dist.URIEL_DISTANCES
    }
    version = dist.uriel_version()
    (tmp_path / f"urielplus-{version}-distances.json").write_text(
        json.dumps({"urielplus": version, "distances": pairs})
    )
    return tmp_path


def test_predicted_transfer_is_the_source_effect_plus_the_distance_terms(strong_fit):
    ds = dist.paper_distances()
    t = ds.index("ENG")
    sources = [s for s in strong_fit.labels if s != "ENG"]
    vectors = {"genetic": {s: float(ds.matrices["genetic"][ds.index(s), t]) for s in sources}}
    ranking = rank_sources(strong_fit, "ENG", vectors, sources, k=2)
    a = dict(zip(strong_fit.labels, strong_fit.source_effects))
    beta = strong_fit.beta
    held = sum(beta[d] * strong_fit.distances[d][~np.eye(10, dtype=bool)].mean() for d in beta if d != "genetic")
    for row in ranking.rows:
        expected = a[row.source] + beta["genetic"] * vectors["genetic"][row.source] + held
        assert row.predicted == pytest.approx(expected)
        assert row.low < row.predicted < row.high
    assert [r.rank for r in ranking.rows] == list(range(1, 10))
    assert [r.predicted for r in ranking.rows] == sorted((r.predicted for r in ranking.rows), reverse=True)
    assert ranking.used == ("genetic",) and "lineage" in ranking.lacking and "acoustic" in ranking.lacking
    assert sum(d.share for d in ranking.drivers) == pytest.approx(1.0)
    assert {d.term for d in ranking.drivers} == {SOURCE_EFFECT, "genetic"}
    # one source: the greedy set is the top-ranked source; the set never repeats a source
    assert greedy_set(strong_fit, sources, vectors, 1)[0] == (ranking.rows[0].source,)
    assert len(set(ranking.suggested)) == 2


def test_an_in_study_target_is_ranked_from_the_cache_alone_and_says_what_it_lacks(
    strong_fit, snapshot_cache, monkeypatch
):
    monkeypatch.setattr(dist, "_compute_pairs", lambda *a: pytest.fail("URIEL+ was asked for a cached pair"))
    ranking = rank_for_target(strong_fit, "Italian", cache_dir=snapshot_cache)
    assert ranking.code == "ita" and "ITA" not in {r.source for r in ranking.rows} and len(ranking.rows) == 9
    assert "phonological" in ranking.lacking  # URIEL+ has no phonological feature for Italian
    assert ranking.rows[0].source in ROMANCE  # strong planted genetic effect: a Romance source first
    assert any("study language" in note for note in ranking.notes)


def test_the_ranking_is_saved_as_csv_rows_or_as_json(strong_fit, snapshot_cache, tmp_path):
    ranking = rank_for_target(strong_fit, "SPA", k=2, cache_dir=snapshot_cache)
    rows = list(csv.DictReader(open(write_ranking(ranking, tmp_path / "r.csv"), newline="")))
    assert [r["source"] for r in rows] == [r.source for r in ranking.rows]
    assert {"rank", "predicted", "low", "high", "source_effect", "term_genetic"} <= set(rows[0])
    payload = json.loads(write_ranking(ranking, tmp_path / "r.json").read_text())
    assert payload == json.loads(json.dumps(ranking_json(ranking)))
    assert payload["target"] == "SPA" and len(payload["suggested"]) == 2 and payload["lacking"]


def test_a_corpus_level_fit_ranks_corpora_by_their_languages(snapshot_cache):
    units = {"oreau": "FRE", "cafe": "FRE", "emozionalmente": "ITA", "mesd": "SPA", "crema_d": "ENG", "subesco": "BEN"}
    d = dist.unit_distances(dist.paper_distances(), units)["genetic"]
    rng = np.random.default_rng(0)
    values = 50 + rng.normal(0, 5, (6, 1)) + rng.normal(0, 5, (1, 6)) - 40 * d + rng.normal(0, 1, (6, 6))
    fit = fit_transfer(values, tuple(units), {"genetic": d}, n_permutations=99)
    ranking = rank_for_target(fit, "ita", cache_dir=snapshot_cache)
    assert {r.source for r in ranking.rows[:3]} == {"oreau", "cafe", "mesd"}  # the Romance corpora first
    assert "emozionalmente" not in {r.source for r in ranking.rows}  # the target's own corpus


def test_an_unknown_target_is_a_one_line_error_with_the_closest_matches(strong_fit):
    with pytest.raises(UserError) as err:
        rank_for_target(strong_fit, "Catalna")
    assert "\n" not in str(err.value) and "cat (Catalan)" in str(err.value)


@pytest.mark.slow
def test_catalan_hungarian_and_hindi_outside_the_study_get_a_ranking(strong_fit, snapshot_cache):
    catalan = rank_for_target(strong_fit, "cat", k=3, cache_dir=snapshot_cache)
    assert catalan.name == "Catalan" and {r.source for r in catalan.rows[:3]} <= ROMANCE
    assert "lineage" in catalan.lacking and "genetic" in catalan.used  # no study group for Catalan
    assert catalan.drivers[0].term == "genetic"
    assert ("phonological", "ITA", "cat") in catalan.imputed
    for target in ("hun", "Hindi"):
        ranking = rank_for_target(strong_fit, target, cache_dir=snapshot_cache)
        assert len(ranking.rows) == 10 and all(np.isfinite([r.low, r.high]).all() for r in ranking.rows)
    with_group = rank_for_target(strong_fit, "cat", cache_dir=snapshot_cache, groups={"cat": "neo_latin"})
    assert "lineage" in with_group.used
