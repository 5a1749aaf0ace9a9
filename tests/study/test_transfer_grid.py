"""study.transfer.grid / report.transfer / sources_cli: a transfer grid read from fixture runs (metrics.json,
predictions.csv and test audio written here), its acoustic control cached, the report's transfer section and
transfer.json, `hf-ser sources`, and the hostile inputs (no transfer run, one language, a missing pair, an unknown
code)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hf_ser.errors import UserError
from hf_ser.metrics import per_language_metrics
from hf_ser.study.report.__main__ import main as report_main
from hf_ser.study.transfer import curve, sources_cli
from hf_ser.study.transfer import distances as dist
from hf_ser.study.transfer.grid import fit_grid, read_transfer_grid
from hf_ser.study.transfer.runs_acoustic import CACHE_FILE
from hf_ser.train.runs import RunRecord, write_predictions

LANGS = ("FRE", "ITA", "POR", "SPA", "ENG", "RUS")
N = 60  # test utterances per language: UAR steps of ~2 points, enough for an 18-point planted effect to show


def _audio(root: Path, lang: str) -> list[str]:
    """Four short tones per language (each language its own pitch and noise): test audio for the LTAS control."""
    folder = root / "audio" / lang
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(LANGS.index(lang) if lang in LANGS else 99)
    paths = []
    t = np.arange(3200) / 16000
    for i in range(4):
        wav = 0.3 * np.sin(2 * np.pi * (150 + 40 * len(paths) + 60 * rng.random()) * t) + 0.02 * rng.normal(size=3200)
        path = folder / f"u{i}.wav"
        sf.write(path, wav.astype(np.float32), 16000)
        paths.append(str(path))
    return paths


def write_transfer_grid(
    root: Path, langs=LANGS, effect: float = 0.35, skip=(), seed: int = 0, corpus_level: bool = False
) -> None:
    """One transfer run per source language, scored on every language: P(correct) falls by `effect` per unit of
    genetic distance (0 = no distance effect); `skip` leaves (source, target) pairs out of a run's test rows."""
    rng = np.random.default_rng(seed)
    ds = dist.paper_distances()
    audio = {l: _audio(root, l) for l in langs}
    labels = {l: rng.integers(0, 6, N) for l in langs}
    for s in langs:
        meta = {k: [] for k in ("path", "language", "corpus", "speaker", "label")}
        logits = []
        for t in langs:
            if (s, t) in skip:
                continue
            d = ds.matrices["genetic"][ds.index(s), ds.index(t)]
            ok = rng.random(N) < np.clip(0.85 - effect * d, 0.05, 1.0)
            y = labels[t]
            pred = np.where(ok, y, (y + rng.integers(1, 6, N)) % 6)
            meta["path"] += [audio[t][i % 4] for i in range(N)]
            meta["language"] += [t] * N
            meta["corpus"] += [f"c_{t.lower()}"] * N
            meta["speaker"] += ["s1"] * N
            meta["label"] += y.tolist()
            logits.append(np.eye(6)[pred] * 5.0)
        logits = np.concatenate(logits)
        name = f"transfer-c_{s.lower()}" if corpus_level else f"transfer-{s}"
        folder = root / f"{name}-seed0"
        folder.mkdir(parents=True)
        write_predictions(folder / "predictions.csv", meta, logits)
        RunRecord(
            run=folder.name,
            family="transfer",
            name=name,
            train_languages=[s],
            eval_languages=list(langs),
            metrics=per_language_metrics(meta["label"], logits.argmax(-1), meta["language"]),
            seed=0,
            data_args={"demo": True, "genetic_shift": 1.0},
        ).save(folder)


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("transfer_grid")
    write_transfer_grid(root)
    return root


@pytest.fixture()
def uriel_cache(tmp_path, monkeypatch) -> Path:
    """HF_SER_CACHE whose URIEL+ pair cache holds the snapshot's pairs (study targets need no URIEL+ call)."""
    snap = dist.paper_distances()
    pairs = {
        kind: {
            dist._pair_key(a, b): float(snap.raw[kind][i, j])
            for i, a in enumerate(snap.codes)
            for j, b in enumerate(snap.codes)
            if i < j
        }
        for kind in dist.URIEL_DISTANCES
    }
    version = dist.uriel_version()
    (tmp_path / "urielplus").mkdir()
    (tmp_path / "urielplus" / f"urielplus-{version}-distances.json").write_text(
        json.dumps({"urielplus": version, "distances": pairs})
    )
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path))
    return tmp_path


def test_the_grid_is_read_from_the_runs_with_one_cell_per_source_and_target(grid_dir):
    grid = read_transfer_grid(grid_dir)
    assert grid.unit == "language" and set(grid.labels) == set(LANGS)
    assert grid.values.shape == (6, 6) and np.isfinite(grid.values).all() and (grid.n_seeds == 1).all()
    i, j, k = grid.labels.index("FRE"), grid.labels.index("SPA"), grid.labels.index("RUS")
    assert grid.values[i, j] > grid.values[i, k]  # the planted effect: Romance transfers better to Romance


def test_fit_flags_the_planted_distance_and_caches_the_acoustic_control(grid_dir):
    gf = fit_grid(grid_dir, n_permutations=499)
    genetic = next(e for e in gf.fit.effects if e.name == "genetic")
    assert genetic.mantel_r < -0.5 and genetic.mantel_p < 0.05  # 6 languages: the multiple betas are collinear
    assert gf.acoustic.matrix is not None and "acoustic" in gf.fit.controls
    assert (grid_dir / CACHE_FILE).is_file()
    again = fit_grid(grid_dir, n_permutations=99)
    assert again.acoustic.cached and np.allclose(again.acoustic.matrix, gf.acoustic.matrix)


def test_the_report_writes_a_transfer_section_and_transfer_json(grid_dir, tmp_path, capsys):
    assert report_main([str(grid_dir), "--n_resamples", "0", "--output_dir", str(tmp_path)]) == 0
    payload = json.loads((tmp_path / "transfer.json").read_text())
    assert payload["unit"] == "language" and len(payload["fit"]["matrix"]) == 6
    rows = {e["name"]: e for e in payload["fit"]["effects"]}
    for name in ("genetic", "syntactic", "acoustic"):
        assert {"beta", "std_beta", "mantel_r", "p"} <= set(rows[name])
    assert rows["genetic"]["p_holm"] is not None and rows["acoustic"]["control"]
    assert any("power is low" in c for c in payload["caveats"])
    assert payload["provenance"]["genetic_shift"] == [1.0]
    for png in ("transfer_matrix.png", "transfer_scatter.png"):
        assert (tmp_path / png).stat().st_size > 5_000
    assert "| genetic |" in (tmp_path / "transfer.md").read_text()
    assert "Transfer and linguistic distance" in capsys.readouterr().out


def test_sources_ranks_the_grid_for_a_study_target_and_saves_csv(grid_dir, uriel_cache, tmp_path, capsys):
    out = tmp_path / "ita.csv"
    code = sources_cli.main(["ITA", "--runs", str(grid_dir), "--n_permutations", "199", "--output", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "Suggested set of 3" in text and "What drives the ranking" in text
    rows = out.read_text().splitlines()
    assert rows[0].startswith("rank,source,predicted,low,high") and len(rows) == 6  # ITA's own model left out
    assert rows[1].split(",")[1] in {"FRE", "POR", "SPA"}  # a Romance source first under the planted effect


def test_no_transfer_run_says_which_command_makes_them(tmp_path, capsys):
    RunRecord(
        run="single-FRE-seed0",
        family="single_language",
        train_languages=["FRE"],
        eval_languages=["FRE"],
        metrics={"FRE": {"uar": 0.5, "f1": 0.5, "wa": 0.5, "n": 10}},
    ).save(tmp_path / "single-FRE-seed0")
    assert sources_cli.main(["cat", "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "hf-ser recipe transfer --output_dir" in err


def test_a_grid_with_one_language_is_a_one_line_error(tmp_path, capsys):
    write_transfer_grid(tmp_path, langs=("FRE",))
    assert sources_cli.main(["cat", "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "1 source(s) (FRE)" in err and "at least 3" in err


def test_a_missing_pair_is_left_out_with_a_stated_fallback(tmp_path, uriel_cache, capsys):
    write_transfer_grid(tmp_path, skip={("FRE", "RUS")})
    grid = read_transfer_grid(tmp_path)
    assert np.isnan(grid.values[grid.labels.index("FRE"), grid.labels.index("RUS")])
    assert sources_cli.main(["POR", "--runs", str(tmp_path), "--n_permutations", "99"]) == 0
    assert "left out of the fit" in (out := capsys.readouterr().out) and "FRE->RUS" in out


def test_an_unknown_target_gets_the_closest_matches(grid_dir, uriel_cache, capsys):
    assert sources_cli.main(["Catalna", "--runs", str(grid_dir), "--n_permutations", "99"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cat (Catalan)" in err


def test_a_unit_other_than_the_grids_is_a_one_line_error(grid_dir, capsys):
    assert sources_cli.main(["ITA", "--runs", str(grid_dir), "--unit", "corpus", "--n_permutations", "99"]) == 2
    assert "language-level grid" in capsys.readouterr().err


def test_transfer_sensitivity_fits_each_shift_and_says_what_shift_zero_shows(tmp_path, capsys):
    write_transfer_grid(tmp_path / "shift0", effect=0.0, seed=1)
    write_transfer_grid(tmp_path / "shift2", effect=0.5, seed=2)
    argv = ["--output_dir", str(tmp_path), "--analyse_only", "--shifts", "0", "2", "--n_grids", "5"]
    argv += ["--n_permutations", "99"]
    assert curve.main(argv) == 0
    payload = json.loads((tmp_path / "transfer_sensitivity.json").read_text())
    zero, strong = payload["trained"]
    assert zero["shift"] == 0 and zero["verdict"] and strong["genetic"]["mantel_r"] < zero["genetic"]["mantel_r"]
    assert [r["effect"] for r in payload["simulated"]] == [0.0, 2.0, 4.0, 8.0]
    assert "## Trained demo grids" in capsys.readouterr().out
    assert (tmp_path / "transfer_sensitivity.png").stat().st_size > 10_000


@pytest.mark.slow  # URIEL+ computes Catalan's pairs with the ten languages (~10-30 s)
def test_sources_cat_puts_the_romance_sources_first_at_a_strong_planted_genetic_effect(tmp_path, capsys):
    paper = ("FRE", "ITA", "POR", "ROM", "SPA", "ARA", "BEN", "CHI", "ENG", "RUS")
    write_transfer_grid(tmp_path / "g", langs=paper, effect=0.5, seed=4)
    out = tmp_path / "cat.json"
    argv = ["cat", "--runs", str(tmp_path / "g"), "--n_permutations", "499", "--output", str(out)]
    assert sources_cli.main(argv) == 0
    ranking = json.loads(out.read_text())
    assert ranking["name"] == "Catalan" and len(ranking["rows"]) == 10
    assert {r["source"] for r in ranking["rows"][:5]} == {"FRE", "ITA", "POR", "ROM", "SPA"}
    assert all(r["low"] < r["predicted"] < r["high"] for r in ranking["rows"])
    assert "lineage" in ranking["lacking"]


def test_a_corpus_level_grid_reads_its_cells_from_the_predictions(tmp_path):
    write_transfer_grid(tmp_path, langs=("FRE", "ITA", "ENG", "RUS"), corpus_level=True)
    grid = read_transfer_grid(tmp_path)
    assert grid.unit == "corpus" and grid.labels == ("c_eng", "c_fre", "c_ita", "c_rus")
    assert grid.languages["c_fre"] == "FRE" and np.isfinite(grid.values).all()
    gf = fit_grid(tmp_path, n_permutations=99)
    assert gf.fit.labels == grid.labels and gf.acoustic.matrix.shape == (4, 4)


def test_the_embedding_control_uses_the_frozen_backbone_and_is_cached_apart_from_the_ltas(grid_dir, tmp_path):
    root = tmp_path / "grid"
    shutil.copytree(grid_dir, root)
    (root / CACHE_FILE).unlink(missing_ok=True)
    ltas = fit_grid(root, n_permutations=99)
    with pytest.raises(UserError, match="needs a backbone"):  # the fixture's records name no backbone
        fit_grid(root, n_permutations=99, acoustic="embedding")
    emb = fit_grid(root, n_permutations=99, acoustic="embedding", backbone="demo-tiny")
    assert emb.acoustic.measure == "embedding" and "demo-tiny embeddings" in emb.acoustic.note
    assert emb.acoustic.matrix.shape == (6, 6) and np.allclose(emb.acoustic.matrix, emb.acoustic.matrix.T)
    assert not np.allclose(emb.acoustic.matrix, ltas.acoustic.matrix)  # another measure, another distance
    again = fit_grid(root, n_permutations=99, acoustic="embedding", backbone="demo-tiny")
    assert again.acoustic.cached and np.array_equal(again.acoustic.matrix, emb.acoustic.matrix)
    with pytest.raises(UserError, match="--acoustic must be one of"):
        fit_grid(root, n_permutations=99, acoustic="mfcc")
    with pytest.raises(UserError, match="could not be loaded"):
        fit_grid(root, n_permutations=99, acoustic="embedding", backbone=str(tmp_path / "no-such-model"))
