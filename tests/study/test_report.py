"""Tests for hf_ser.study.report: tables 2/3 from fake metrics.json files, paper rows, claim check, CLI."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest
from matplotlib.image import imread

from hf_ser import labels
from hf_ser.console import run_command
from hf_ser.study import paper_results
from hf_ser.study.report.__main__ import main, write_report
from hf_ser.study.report.cells import Cell, Table
from hf_ser.study.report.claim_text import claim_line, claim_summary, conditional_summary, lineage_text
from hf_ser.study.report.claims import check_lineage_claim, lineage_test, paper_runs
from hf_ser.study.report.heatmap import table_figure
from hf_ser.study.report.render import CI_NOTE, to_cells_csv, to_csv, to_json, to_latex, to_markdown
from hf_ser.study.report.runs import NoRuns, load_runs, report_groups
from hf_ser.study.report.tables import table2, table3

NEO = ["FRE", "ITA", "POR", "ROM", "SPA"]
OTHERS = ["ARA", "BEN", "CHI", "ENG", "RUS"]


def write_run(
    root: Path,
    name: str,
    family: str,
    train: list[str],
    group: str,
    metrics: dict,
    seed: int = 0,
    heldout: str | None = None,
) -> Path:
    """One metrics.json as the trainer writes it; `metrics` maps language -> (uar, f1) fractions."""
    path = root / name / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "run": name.split("/")[-1],
        "family": family,
        "train_languages": train,
        "eval_languages": [k for k in metrics if k != "all"],
        "group": group,
        "heldout_language": heldout,
        "seed": seed,
        "metrics": {lang: {"uar": u, "f1": f, "n": 100} for lang, (u, f) in metrics.items()},
        "confusion": {"labels": list(labels.EMOTIONS), "matrix": [[0] * 6 for _ in range(6)]},
        "config": {},
        "versions": {},
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    # Table 2 --------------------------------------------------------------------------------------
    write_run(root, "single-FRE-seed0", "single_language", ["FRE"], "neo_latin", {"FRE": (0.60, 0.58)}, seed=0)
    write_run(root, "seed1/single-FRE-seed1", "single_language", ["FRE"], "neo_latin", {"FRE": (0.62, 0.60)}, seed=1)
    write_run(root, "single-ARA-seed0", "single_language", ["ARA"], "others", {"ARA": (0.40, 0.35)})
    write_run(
        root,
        "multi-neo_latin-seed0",
        "multilingual",
        NEO,
        "neo_latin",
        {
            "FRE": (0.70, 0.69),
            "ITA": (0.75, 0.74),
            "POR": (0.80, 0.79),
            "ROM": (0.90, 0.89),
            "SPA": (0.65, 0.64),
            "all": (0.76, 0.75),
        },
    )
    base = dict(zip(NEO + OTHERS, (0.70, 0.72, 0.74, 0.76, 0.78, 0.60, 0.62, 0.64, 0.66, 0.68)))
    for seed in (0, 1):
        shift = 0.02 * seed
        write_run(
            root,
            f"multi-all-seed{seed}",
            "multilingual",
            NEO + OTHERS,
            "all",
            {lang: (u + shift, u - 0.01 + shift) for lang, u in base.items()},
            seed=seed,
        )
    # Table 3 (written in an order different from the table's) --------------------------------------
    write_run(
        root,
        "xgroup-others-minus-ARA-seed0",
        "cross_group",
        ["RUS", "BEN", "ENG", "CHI"],
        "others",
        {
            "ARA": (0.30, 0.29),
            "FRE": (0.55, 0.54),
            "ITA": (0.52, 0.51),
            "POR": (0.60, 0.59),
            "ROM": (0.58, 0.57),
            "SPA": (0.40, 0.39),
        },
        heldout="ARA",
    )
    write_run(
        root,
        "xgroup-neo_latin-minus-ITA-seed0",
        "cross_group",
        ["FRE", "POR", "ROM", "SPA"],
        "neo_latin",
        {"ITA": (0.50, 0.48), "ARA": (0.25, 0.24), "BEN": (0.61, 0.60)},
        heldout="ITA",
    )
    other_group = {
        "ARA": (0.37, 0.36),
        "BEN": (0.50, 0.49),
        "CHI": (0.45, 0.44),
        "ENG": (0.55, 0.54),
        "RUS": (0.30, 0.29),
    }
    for seed, fre in ((0, (0.58, 0.57)), (1, (0.60, 0.59))):
        write_run(
            root,
            f"xgroup-neo_latin-minus-FRE-seed{seed}",
            "cross_group",
            ["SPA", "ITA", "ROM", "POR"],
            "neo_latin",
            {"FRE": fre, **other_group},
            seed=seed,
            heldout="FRE",
        )
    # Not part of the tables ---------------------------------------------------------------------------
    write_run(root, "fewshot-FRE-seed0", "few_shot", ["ITA", "POR", "ROM", "SPA"], "neo_latin", {"FRE": (0.9, 0.9)})
    write_run(root, "report", "single_language", ["BEN"], "others", {"BEN": (0.99, 0.99)})  # skipped folder
    return root


F1_NOTE = "F1 = macro-F1 over the classes present in each language's test labels."
SEEDS = f"Mean ± std over 1–2 seeds per cell (0, 1); plain values come from one seed. {F1_NOTE} // = not evaluated."

EXPECTED_TABLE2 = f"""\
**Table 2. UAR / F1 of single-language and multilingual models (%, higher is better).** {SEEDS}

| Train Set | FRE | ITA | POR | ROM | SPA | ARA | BEN | CHI | ENG | RUS |
|---|---|---|---|---|---|---|---|---|---|---|
| Individual | 61.0±1.4 / 59.0±1.4 | // | // | // | // | 40.0 / 35.0 | // | // | // | // |
| Neo-Latin | 70.0 / 69.0 | 75.0 / 74.0 | 80.0 / 79.0 | 90.0 / 89.0 | 65.0 / 64.0 | // | // | // | // | // |
| All | 71.0±1.4 / 70.0±1.4 | 73.0±1.4 / 72.0±1.4 | 75.0±1.4 / 74.0±1.4 | 77.0±1.4 / 76.0±1.4 \
| 79.0±1.4 / 78.0±1.4 | 61.0±1.4 / 60.0±1.4 | 63.0±1.4 / 62.0±1.4 | 65.0±1.4 / 64.0±1.4 | 67.0±1.4 / 66.0±1.4 \
| 69.0±1.4 / 68.0±1.4 |
"""

EXPECTED_TABLE3 = f"""\
**Table 3. UAR / F1 cross-lingual generalization across unseen languages (%, higher is better).** {SEEDS}

| Train Set | FRE | ITA | POR | ROM | SPA | ARA | BEN | CHI | ENG | RUS |
|---|---|---|---|---|---|---|---|---|---|---|
| ITA, POR, ROM, SPA | 59.0±1.4 / 58.0±1.4 | // | // | // | // | 37.0±0.0 / 36.0±0.0 | 50.0±0.0 / 49.0±0.0 \
| 45.0±0.0 / 44.0±0.0 | 55.0±0.0 / 54.0±0.0 | 30.0±0.0 / 29.0±0.0 |
| FRE, POR, ROM, SPA | // | 50.0 / 48.0 | // | // | // | 25.0 / 24.0 | 61.0 / 60.0 | // | // | // |
| BEN, CHI, ENG, RUS | 55.0 / 54.0 | 52.0 / 51.0 | 60.0 / 59.0 | 58.0 / 57.0 | 40.0 / 39.0 | 30.0 / 29.0 | // | // | // | // |
"""


def test_table2_markdown_exact(runs_dir: Path) -> None:
    table = table2(load_runs(runs_dir))
    assert to_markdown(table) == EXPECTED_TABLE2


def test_table3_markdown_exact(runs_dir: Path) -> None:
    table = table3(load_runs(runs_dir))
    assert to_markdown(table) == EXPECTED_TABLE3


def test_single_seed_cells_are_plain(tmp_path: Path) -> None:
    write_run(tmp_path, "single-SPA-seed3", "single_language", ["SPA"], "neo_latin", {"SPA": (0.584, 0.574)}, seed=3)
    table = table2(load_runs(tmp_path))
    assert table.rows == [("Individual", [None, None, None, None, Cell(58.4, 57.4), *[None] * 5])]
    assert str(table.rows[0][1][4]) == "58.4 / 57.4"
    assert "One seed per cell (3)." in to_markdown(table)


def test_csv_and_latex_contain_the_cells(runs_dir: Path) -> None:
    runs = load_runs(runs_dir)
    rows = list(csv.reader(io.StringIO(to_csv(table2(runs)))))
    assert rows[0] == ["Train Set", *labels.study_languages()]
    by_label = {row[0]: dict(zip(rows[0][1:], row[1:])) for row in rows[1:]}
    assert by_label["Individual"]["FRE"] == "61.0±1.4 / 59.0±1.4"
    assert by_label["Individual"]["ARA"] == "40.0 / 35.0"
    assert by_label["Neo-Latin"]["RUS"] == "//"
    assert set(by_label) == {"Individual", "Neo-Latin", "All"}

    tex = to_latex(table3(runs, paper=True))
    assert "\\begin{tabular}{l" + "c" * len(labels.study_languages()) + "}" in tex
    assert "ITA, POR, ROM, SPA & 59.0$\\pm$1.4 / 58.0$\\pm$1.4 & // &" in tex
    assert "BEN, CHI, ENG, RUS & 55.0 / 54.0 & 52.0 / 51.0" in tex
    body = tex.splitlines()
    first_paper = next(i for i, line in enumerate(body) if line.startswith("Paper: "))
    assert body[first_paper - 1] == "\\midrule"
    assert "Paper: ARA, BEN, CHI, ENG & 58.2 / 57.1 & 62.3 / 61.1" in tex
    assert "1--2 seeds" in tex and "\\%" in tex


def test_paper_rows(runs_dir: Path) -> None:
    runs = load_runs(runs_dir)
    md2 = to_markdown(table2(runs, paper=True))
    assert "| Paper: Individual | 66.4 / 65.6 | 81.0 / 81.1 | 75.1 / 72.7 |" in md2
    assert "| Paper: Baseline (Wav2Vec) [15] | 41.4 / 40.2 | 56.7 / 56.6 | // | // | 62.9 / 62.8 |" in md2
    assert "| **— paper —** |" in md2
    assert md2.index("| All |") < md2.index("**— paper —**") < md2.index("Paper: Individual")
    assert paper_results.TABLE2_SOURCE in md2
    md3 = to_markdown(table3(runs, paper=True))
    assert "| Paper: ITA, POR, ROM, SPA | 58.4 / 57.4 | // | // | // | // | 37.4 / 37.3 |" in md3
    assert md3.count("| Paper: ") == len(paper_results.TABLE3)


def test_paper_results_are_consistent() -> None:
    for train, cells in paper_results.TABLE3.items():
        heldout = paper_results.TABLE3_HELDOUT[train]
        group = labels.groups()[labels.LANGUAGES[heldout].group]
        assert heldout in cells and heldout not in train
        assert sorted([*train, heldout]) == sorted(group)
        assert not set(train) & set(cells)
    assert paper_results.TABLE2["Individual"]["FRE"] == (66.4, 65.6)
    assert "Neo-Latin" in paper_results.PAPER


def test_speaker_split_and_its_fallbacks_are_stated(tmp_path: Path) -> None:
    notes = {
        "FRE": "speaker-independent (3 test speakers)",
        "ITA": "speaker ids missing or fewer than 2 speakers: fell back to the paper protocol",
    }
    path = write_run(
        tmp_path,
        "multi-neo_latin-seed0",
        "multilingual",
        ["FRE", "ITA"],
        "neo_latin",
        {"FRE": (0.5, 0.5), "ITA": (0.4, 0.4)},
    )
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["config"], payload["split_notes"] = {"data": {"split": "speaker"}}, notes
    path.write_text(json.dumps(payload), encoding="utf-8")
    caption = table2(load_runs(tmp_path)).caption
    assert "Speaker-independent split" in caption
    assert "fallback: ITA (speaker ids missing or fewer than 2 speakers: fell back to the paper protocol)" in caption
    assert "FRE (" not in caption


def test_claim_check_on_constructed_runs(runs_dir: Path) -> None:
    claims = {c["language"]: c for c in check_lineage_claim(load_runs(runs_dir))}
    assert list(claims) == ["FRE", "ITA", "ARA"]
    assert claims["FRE"]["verdict"] == "yes" and claims["FRE"]["best_is_own_group"]
    assert claims["FRE"]["margin"] == pytest.approx(4.0)
    assert claims["ITA"]["verdict"] == "no" and claims["ITA"]["best_train"] == "BEN, CHI, ENG, RUS"
    assert claims["ITA"]["margin"] == pytest.approx(-2.0)
    assert claims["ARA"]["verdict"] == "no" and claims["ARA"]["best_train"] == "ITA, POR, ROM, SPA"
    assert claims["ARA"]["margin"] == pytest.approx(-7.0)
    assert claim_line(claims["FRE"]) == (
        "FRE: best unseen UAR 59.0 from ITA, POR, ROM, SPA (own group) -> yes "
        "(margin +4.0 points: own group 59.0 vs best other 55.0 from BEN, CHI, ENG, RUS; "
        "other-group mean 55.0 of 1 configuration, margin over mean +4.0; own rank 1 of 2)"
    )
    assert claims["FRE"]["rank"] == 1 and claims["FRE"]["p_rank"] == pytest.approx(0.5)
    assert claims["ARA"]["rank"] == 2 and claims["ARA"]["n_configs"] == 3
    # ARA is evaluated by two Neo-Latin configurations (37.0 and 25.0): the mean margin is fairer than the max's
    assert claims["ARA"]["n_other"] == 2 and claims["ARA"]["mean_other_uar"] == pytest.approx(31.0)
    assert claims["ARA"]["std_other_uar"] == pytest.approx(8.485, abs=1e-3)
    assert claims["ARA"]["mean_margin"] == pytest.approx(-1.0)
    assert claim_summary(list(claims.values())) == (
        "Lineage claim (Sec. 4.3): 1 of 3 held-out languages transfer best within their own group "
        "(Neo-Latin 1/2, Others 0/1). Own group above the other group's mean: Neo-Latin 1/2, mean +1.0 points; "
        "Others 0/1, mean -1.0 points."
    )


def test_claim_check_on_the_papers_table3() -> None:
    claims = {c["language"]: c["verdict"] for c in check_lineage_claim(paper_runs())}
    assert claims == {
        "FRE": "yes",
        "ITA": "tie",
        "POR": "yes",
        "ROM": "yes",
        "SPA": "yes",
        "ARA": "no",
        "BEN": "no",
        "CHI": "no",
        "ENG": "yes",
        "RUS": "yes",
    }


def test_write_report_files_and_cli(runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(runs_dir), "--paper"]) == 0
    out = runs_dir / "report"
    for name in ("table2", "table3"):
        for ext in ("md", "csv", "tex", "png", "json"):
            assert (out / f"{name}.{ext}").stat().st_size > 0
        image = imread(out / f"{name}.png")
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert image[..., :3].std() > 0.05  # colours and text, not a blank canvas
    md2 = (out / "table2.md").read_text(encoding="utf-8")
    assert md2.startswith(EXPECTED_TABLE2.splitlines()[0] + " Rows prefixed 'Paper:'")
    assert "| Paper: Individual | 66.4 / 65.6 |" in md2
    printed = capsys.readouterr().out
    assert "| Individual | 61.0±1.4 / 59.0±1.4 |" in printed
    assert "FRE: best unseen UAR 59.0 from ITA, POR, ROM, SPA (own group) -> yes" in printed
    assert "1 of 3 held-out languages" in printed
    claims = json.loads((out / "claims.json").read_text(encoding="utf-8"))
    assert [c["verdict"] for c in claims["languages"]] == ["yes", "no", "no"]
    assert claims["paper"]["languages"][0]["language"] == "FRE"
    md = (out / "claims.md").read_text(encoding="utf-8")
    assert (
        "| FRE | Neo-Latin | 59.0 (ITA, POR, ROM, SPA) | 55.0 (BEN, CHI, ENG, RUS) | +4.0 | yes "
        "| 55.0 ± 0.0 (1) | +4.0 | 1 of 2 | 0.500 |"
    ) in md
    # every p-value says which null it tests; the paper's own statistic keeps its exact p
    assert "Null tested: lineage does not matter" in md and "p-values: *p (rank null)*" in md
    assert "own group best for 4 of 5 (the paper's statistic), p = 0.003" in md
    assert claims["p_value_nulls"]["p_rank"].startswith("lineage does not matter")
    # Re-running reads the runs again but never the report folder it wrote.
    assert main([str(runs_dir), "--output_dir", str(runs_dir / "elsewhere")]) == 0
    assert main([str(runs_dir), "--out", str(runs_dir / "old-flag")]) == 2  # one spelling: --output_dir
    assert "paper's Table 3" not in (runs_dir / "elsewhere" / "claims.md").read_text(encoding="utf-8")


def test_corrupt_and_partial_files_are_skipped(runs_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = runs_dir / "broken-run" / "metrics.json"
    broken.parent.mkdir()
    broken.write_text('{"run": "broken", "metrics": {', encoding="utf-8")
    partial = write_run(runs_dir, "partial-run", "single_language", ["ITA"], "neo_latin", {"ITA": (0.5, 0.5)})
    data = json.loads(partial.read_text(encoding="utf-8"))
    del data["metrics"]["ITA"]["f1"]
    partial.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="hf_ser.study.report"):
        runs = load_runs(runs_dir)
    assert str(broken) in caplog.text and str(partial) in caplog.text
    assert "'f1'" in caplog.text
    assert {r["run"] for r in runs} >= {"single-FRE-seed0", "multi-all-seed1"}
    assert to_markdown(table2(runs)) == EXPECTED_TABLE2


def test_no_metrics_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(NoRuns, match="hf-ser recipe"):
        load_runs(tmp_path)
    assert run_command(main, [str(tmp_path / "missing")]) == 2
    assert run_command(main, [str(tmp_path), "--n_resamples", "-1"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "missing") in err and "hf-ser recipe" in err


def test_user_added_language_gets_a_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(labels.LANGUAGES, "CAT", labels.Language("CAT", "Catalan", "ca", "cat", "neo_latin", "Romance"))
    write_run(tmp_path, "single-CAT-seed0", "single_language", ["CAT"], "neo_latin", {"CAT": (0.5, 0.45)})
    table = table2(load_runs(tmp_path))
    assert table.columns[-1] == "CAT"
    assert to_markdown(table).splitlines()[-1] == "| Individual |" + " // |" * 10 + " 50.0 / 45.0 |"


def test_group_row_from_a_language_subset(tmp_path: Path) -> None:
    write_run(
        tmp_path,
        "multi-others-seed0",
        "multilingual",
        ["BEN", "ARA"],
        "others",
        {"ARA": (0.9, 0.8), "BEN": (0.7, 0.6), "all": (0.8, 0.7)},
    )
    write_run(tmp_path, "multi-custom-seed0", "multilingual", ["SPA", "FRE"], "custom", {"FRE": (0.5, 0.4)})
    table = table2(load_runs(tmp_path))
    assert [(label, [str(c) for c in cells if c]) for label, cells in table.rows] == [
        ("Others", ["90.0 / 80.0", "70.0 / 60.0"]),
        ("FRE, SPA", ["50.0 / 40.0"]),
    ]


def write_grid_with_predictions(root: Path, shift: float, n: int = 150, seed: int = 0) -> None:
    """A full cross_group grid (10 runs) with predictions.csv; own-group runs are `shift` more often right.

    Every language has one fixed test set (same paths in every run that evaluates it); with shift 0 all runs are
    draws of the same model quality, differing only by chance, like seeds.
    """
    import numpy as np

    from hf_ser.metrics import per_language_metrics
    from hf_ser.train.runs import RunRecord, write_predictions

    rng = np.random.default_rng(seed)
    tests = {lang: (rng.integers(0, 6, n), rng.beta(2, 1.5, n)) for lang in NEO + OTHERS}
    for group, members, others in (("neo_latin", NEO, OTHERS), ("others", OTHERS, NEO)):
        for held in members:
            train = [m for m in members if m != held]
            meta = {k: [] for k in ("path", "language", "corpus", "speaker", "label")}
            logits = []
            for lang in (held, *others):
                y, ease = tests[lang]
                ok = rng.random(n) < np.clip(ease + (shift if lang == held else 0.0), 0, 1)
                pred = np.where(ok, y, (y + rng.integers(1, 6, n)) % 6)
                meta["path"] += [f"/data/{lang}/utt{i:03d}.wav" for i in range(n)]
                meta["language"] += [lang] * n
                meta["corpus"] += [lang.lower()] * n
                meta["speaker"] += ["s1"] * n
                meta["label"] += y.tolist()
                logits.append(np.eye(6)[pred] * 5.0)
            logits = np.concatenate(logits)
            name = f"xgroup-{group}-minus-{held}-seed0"
            folder = root / name
            folder.mkdir(parents=True)
            write_predictions(folder / "predictions.csv", meta, logits)
            metrics = per_language_metrics(meta["label"], logits.argmax(-1), meta["language"])
            RunRecord(
                run=name,
                family="cross_group",
                train_languages=train,
                eval_languages=[held, *others],
                metrics=metrics,
                group=group,
                heldout_language=held,
                seed=0,
            ).save(folder)


def test_cells_carry_bootstrap_cis_from_predictions(tmp_path: Path) -> None:
    write_grid_with_predictions(tmp_path, shift=0.0)
    table = table3(load_runs(tmp_path), n_resamples=300)
    cells = [c for _, row in table.rows for c in row if c is not None]
    assert len(cells) == 60 and all(c.uar_ci and c.uar_ci[0] < c.uar < c.uar_ci[1] for c in cells)
    assert all(c.f1_ci[0] < c.f1 < c.f1_ci[1] and c.wa is not None and c.n == 150 for c in cells)
    md = to_markdown(table, ci=True)
    assert CI_NOTE in md and "[" in md.splitlines()[-1]
    assert "[" not in to_markdown(table).splitlines()[-1]  # CIs only when asked in Markdown
    rows = list(csv.DictReader(io.StringIO(to_cells_csv(table))))
    assert len(rows) == 60 and float(rows[0]["uar_low"]) < float(rows[0]["uar"]) < float(rows[0]["uar_high"])
    assert to_json(table)["rows"][0]["cells"]["FRE"]["uar_ci"] is not None


def test_planted_lineage_effect_is_significant_and_every_p_value_names_its_null(tmp_path: Path) -> None:
    write_grid_with_predictions(tmp_path, shift=0.3)
    claims = check_lineage_claim(load_runs(tmp_path), n_resamples=300)
    assert len(claims) == 10
    assert all(c["rank"] == 1 and c["mean_margin_ci"][0] > 0 for c in claims)
    assert all(c["p_conditional_holm"] >= c["p_conditional"] for c in claims)
    assert not any(c["significant"] for c in claims)  # one language of six configurations: p >= 1/6
    check = lineage_test(claims)
    assert check["test"]["significant"] and check["test"]["rank_sum"] == 10
    assert check["test"]["p"] == pytest.approx(6.0**-10)
    assert check["groups"]["neo_latin"]["best_count"] == 5 and "significant" not in check["groups"]["neo_latin"]
    text = "\n".join(lineage_text(check))
    assert "significant at 0.05" in text and "Null tested: lineage does not matter" in text
    assert "Assumption: apart from lineage" in text
    conditional = conditional_summary(claims)
    assert conditional.startswith("Conditional on these trained networks") and "significant" not in conditional


def test_null_lineage_grid_is_not_called_significant(tmp_path: Path) -> None:
    """Runs that differ only by chance: the configuration-level test does not fire and says which null it tests."""
    write_grid_with_predictions(tmp_path, shift=0.0, seed=1)
    assert main([str(tmp_path), "--n_resamples", "200"]) == 0
    claims = json.loads((tmp_path / "report" / "claims.json").read_text(encoding="utf-8"))
    assert claims["lineage_test"]["test"]["significant"] is False
    assert not any(c["significant"] for c in claims["languages"])
    assert claims["lineage_test"]["test"]["null"].startswith("lineage does not matter")
    md = (tmp_path / "report" / "claims.md").read_text(encoding="utf-8")
    assert "not significant at 0.05" in md and "Conditional on these trained networks" in md
    assert "| Own rank | p (rank null) | 95% CI | p (conditional) | Holm p (conditional) |" in md


def test_kfold_runs_merge_like_seeds(tmp_path: Path) -> None:
    for fold, u in ((1, 0.50), (2, 0.60)):
        path = write_run(
            tmp_path / f"fold{fold}", "single-FRE-seed0", "single_language", ["FRE"], "neo_latin", {"FRE": (u, u)}
        )
        payload = json.loads(path.read_text(encoding="utf-8"))
        payload["data_args"] = {"split": "kfold", "folds": 2, "fold": fold}
        path.write_text(json.dumps(payload), encoding="utf-8")
    table = table2(load_runs(tmp_path))
    cell = table.rows[0][1][0]
    assert cell.n_seeds == 2 and cell.uar == pytest.approx(55.0)
    assert "x folds 1, 2" in table.caption


def test_balancing_ablation_variants_get_their_own_rows(tmp_path: Path) -> None:
    for variant, u in (("both", 0.7), ("weights_only", 0.6), ("sampler_only", 0.65), ("neither", 0.5)):
        path = write_run(
            tmp_path / variant,
            "multi-neo_latin-seed0",
            "multilingual",
            NEO,
            "neo_latin",
            {"FRE": (u, u), "all": (u, u)},
        )
        payload = json.loads(path.read_text(encoding="utf-8"))
        payload["variant"] = variant
        path.write_text(json.dumps(payload), encoding="utf-8")
    table = table2(load_runs(tmp_path))
    assert sorted(label for label, _ in table.rows) == [
        "Neo-Latin [both]",
        "Neo-Latin [neither]",
        "Neo-Latin [sampler_only]",
        "Neo-Latin [weights_only]",
    ]


def test_external_models_are_their_own_zero_shot_rows_and_frozen_upstream_runs_stay_out(tmp_path):
    from hf_ser.train.runs import RunRecord

    def save(folder, **kw):
        metrics = {"FRE": {"uar": 0.4, "f1": 0.3, "n": 9}, "ITA": {"uar": 0.5, "f1": 0.45, "n": 9}}
        RunRecord(train_languages=kw.pop("train", []), eval_languages=["FRE", "ITA"], metrics=metrics, **kw).save(
            tmp_path / folder
        )

    save("ext-a", run="ext-a", family="external", name="someone/ser-a", protocol={"zero_shot": True})
    save("ext-b", run="ext-b", family="external", name="someone/ser-b")  # training languages unknown
    save("ext-c", run="ext-c", family="external", name="mine", protocol={"zero_shot": False})
    save(
        "frozen", run="frozen", family="multilingual", name="up", train=["FRE", "ITA"], protocol={"upstream": "frozen"}
    )
    table = table2(load_runs(tmp_path))
    rows = dict(table.rows)
    assert list(rows) == [
        "Existing model, trained on a tested language, scored as is: mine",
        "External model, zero-shot: someone/ser-a",
        "Existing model (training languages unknown), scored as is: someone/ser-b",
    ]
    assert str(rows["External model, zero-shot: someone/ser-a"][0]) == "40.0 / 30.0"


def test_runs_that_differ_only_in_backbone_are_rows_side_by_side(tmp_path):
    from hf_ser.train.runs import RunRecord

    for backbone, uar in (("facebook/wav2vec2-xls-r-300m", 0.6), ("microsoft/wavlm-large", 0.7)):
        for lang in ("FRE", "ITA"):
            RunRecord(
                run=f"single-{lang}-seed0",
                family="single_language",
                name=f"single-{lang}",
                group="neo_latin",
                seed=0,
                train_languages=[lang],
                eval_languages=[lang],
                metrics={lang: {"uar": uar, "f1": uar, "n": 9}, "all": {"uar": uar, "f1": uar, "n": 9}},
                config={"model": {"model_name_or_path": backbone}},
            ).save(tmp_path / backbone.split("/")[-1] / f"single-{lang}-seed0")
    rows = dict(table2(load_runs(tmp_path)).rows)
    assert set(rows) == {"Individual [wav2vec2-xls-r-300m]", "Individual [wavlm-large]"}
    assert str(rows["Individual [wavlm-large]"][0]) == "70.0 / 70.0"


def _any_significant(payload) -> bool:
    """Whether `"significant": true` appears anywhere in a claims.json payload."""
    if isinstance(payload, dict):
        return payload.get("significant") is True or any(_any_significant(v) for v in payload.values())
    if isinstance(payload, list):
        return any(_any_significant(v) for v in payload)
    return False


@pytest.mark.slow
def test_simulated_null_grids_are_rarely_and_planted_effects_usually_significant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20's bar, end to end through `hf-ser report` on run folders (300 utterances/language, 2 seeds).

    16 grids with no lineage effect (configurations 3.5 points SD apart, seeds 1.2): at most 2 may show any
    `"significant": true` in claims.json; 6 grids with +11 points planted on the own-group cells: at least 5
    must. The verdict needs no bootstrap (the rank test uses the runs' UARs), so only the first grid of each kind
    has predictions.csv and bootstrap CIs; the heat maps are not drawn here (other tests draw them). ~15 s.
    """
    from hf_ser.study.lineage_sim import GridSpec, write_grid

    monkeypatch.setattr("hf_ser.study.report.__main__.plot_table", lambda table, path: Path(path))
    flagged = {}
    for effect, grids in ((0.0, 16), (11.0, 6)):
        hits = 0
        for g in range(grids):
            root = write_grid(
                tmp_path / f"e{effect:g}-{g}", GridSpec(effect=effect), seed=1000 * int(effect) + g, predictions=g == 0
            )
            assert main([str(root), "--n_resamples", "20" if g == 0 else "0"]) == 0
            hits += _any_significant(json.loads((root / "report" / "claims.json").read_text(encoding="utf-8")))
        flagged[effect] = hits
    capsys.readouterr()
    assert flagged[0.0] <= 2 and flagged[11.0] >= 5, flagged


def test_report_files_carry_their_provenance_and_the_paper_is_a_separate_panel(tmp_path: Path) -> None:
    from hf_ser.study.lineage_sim import GridSpec, write_grid

    root = write_grid(tmp_path / "grid", GridSpec(n_utterances=24, n_seeds=1), seed=3)
    for folder in root.iterdir():  # as a --demo grid records it
        record = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        record["config"] = {
            "model": {"model_name_or_path": "hf-internal/demo-tiny"},
            "training": {"num_train_epochs": 5},
            "data": {"demo": True, "lineage_shift": 0.5, "split": "paper"},
        }
        (folder / "metrics.json").write_text(json.dumps(record), encoding="utf-8")
    out = write_report(root, paper=True, n_resamples=0)
    context = (
        "Runs: synthetic eSpeak demo corpus (not real emotional speech); backbone demo-tiny; 5 epochs; "
        "1 seed(s) per configuration; split paper; lineage_shift 0.5; 24 test utterances per language."
    )
    claims_md = (out / "claims.md").read_text(encoding="utf-8")
    assert context in claims_md and "Null tested:" in claims_md
    assert json.loads((out / "claims.json").read_text(encoding="utf-8"))["provenance"]["lineage_shift"] == [0.5]
    for name in ("table3.md", "table3.tex", "table3.csv", "table3_cells.csv"):
        assert "shift 0.5" in (out / name).read_text(encoding="utf-8"), name  # LaTeX escapes the underscore
    assert json.loads((out / "table3.json").read_text(encoding="utf-8"))["provenance"]["synthetic"] is True
    table = table3(load_runs(root), paper=True, n_resamples=0)
    figure = table_figure(table)
    panels = [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title(loc="left") for ax in panels] == [
        "these runs (own colour scale)",
        "the paper's published numbers (own colour scale)",
    ]
    assert len(figure.axes) == 4  # two panels, two colour bars
    scales = [ax.images[0].get_clim() for ax in panels]
    assert scales[0] != scales[1]


def test_report_writes_every_file_before_printing(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hf-ser report RUNS | head -1`: a closed stdout must not cost the files."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    with pytest.raises(BrokenPipeError):
        write_report(runs_dir, n_resamples=0)
    for name in ("claims.md", "claims.json", "table2.md", "table3.png", "table3_cells.csv"):
        assert (runs_dir / "report" / name).stat().st_size > 0


def test_help_shows_plain_text_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "95% bootstrap" in text and "%%" not in text and "``" not in text
    assert "examples:" in text and "hf-ser report runs/" in text


def test_analysis_index_shows_the_claim_check_under_a_heading_that_matches(tmp_path: Path) -> None:
    from hf_ser.study.analysis import index

    write_grid_with_predictions(tmp_path / "grid", shift=0.3, n=60)
    runs = load_runs(tmp_path / "grid")
    table = table3(runs, n_resamples=0)
    claims = check_lineage_claim(runs, n_resamples=50)
    page = index.build_page(tmp_path / "grid", tmp_path / "out", {}, [], [table], None, claims).markdown()
    assert "## Table 3\n" in page and "Tables 2 and 3" not in page
    assert "## Section 4.3 lineage claim" in page and "Lineage test (configuration level" in page
    assert "| FRE | Neo-Latin |" in page and "1 of 6" in page
    assert index.tables_heading([Table("", [], name="table2"), table]) == "Tables 2 and 3"


def test_displayed_and_tested_margins_are_one_definition_with_unequal_seed_counts(tmp_path: Path) -> None:
    """Configurations weigh the same whatever their seed count: the table's margin is the bootstrapped one."""
    import shutil

    from hf_ser.study.lineage_sim import GridSpec, write_grid

    root = write_grid(tmp_path / "grid", GridSpec(n_utterances=30, n_seeds=3), seed=5)
    for held in ("ARA", "BEN", "FRE"):  # one seed left in a few configurations, three in the others
        for seed in (1, 2):
            shutil.rmtree(next(root.glob(f"xgroup-*-minus-{held}-seed{seed}")))
    claims = check_lineage_claim(load_runs(root), n_resamples=20)
    for c in claims:
        assert c["tested_margin"] == pytest.approx(c["mean_margin"], abs=1e-9)


def test_runs_with_different_label_sets_are_never_mixed_in_one_table(tmp_path: Path, capsys) -> None:
    """A paper run and a 4-class run of the same language: two reports, one per label set, each saying its set."""
    write_run(tmp_path, "paper/single-ENG-seed0", "single_language", ["ENG"], "others", {"ENG": (0.5, 0.4)})
    four = write_run(tmp_path, "four/single-ENG-seed0", "single_language", ["ENG"], "others", {"ENG": (0.7, 0.6)})
    record = json.loads(four.read_text())
    names = ["anger", "happiness", "neutral", "sadness"]
    record["confusion"] = {"labels": names, "matrix": [[0] * 4 for _ in range(4)]}
    record["label_set"] = {"label_set": "list", "classes": names}
    four.write_text(json.dumps(record))
    out = write_report(tmp_path, n_resamples=0)
    text = capsys.readouterr().out
    assert "2 runs with 2 label sets: each is reported on its own" in text
    paper_md = (out / "label_set-paper" / "table2.md").read_text()
    four_md = (out / "label_set-anger-happiness-neutral-sadness" / "table2.md").read_text()
    assert "50.0 / 40.0" in paper_md and "70.0" not in paper_md
    assert (
        "70.0 / 60.0" in four_md and "50.0" not in four_md and "Label set: anger happiness neutral sadness" in four_md
    )


def test_a_grid_over_lineages_is_read_over_its_own_groups(tmp_path: Path) -> None:
    cells = {"ENG": (0.6, 0.5), "DEU": (0.5, 0.4), "RUS": (0.3, 0.2), "POL": (0.35, 0.3)}
    for group, members, others in (
        ("germanic", ["ENG", "DEU"], ["RUS", "POL"]),
        ("slavic", ["RUS", "POL"], ["ENG", "DEU"]),
    ):
        for held in members:
            train = [m for m in members if m != held]
            metrics = {lang: cells[lang] for lang in (held, *others)}
            write_run(
                tmp_path, f"xgroup-{group}-minus-{held}-seed0", "cross_group", train, group, metrics, heldout=held
            )
    runs = load_runs(tmp_path)
    assert report_groups(runs) == {"germanic": ["ENG", "DEU"], "slavic": ["RUS", "POL"]}
    table = table3(runs)
    assert table.columns == ["ENG", "RUS", "DEU", "POL"]  # only the grid's languages, in table order
    results = check_lineage_claim(runs)
    assert [(r["language"], r["group"]) for r in results] == [
        ("ENG", "germanic"),
        ("DEU", "germanic"),
        ("RUS", "slavic"),
        ("POL", "slavic"),
    ]
