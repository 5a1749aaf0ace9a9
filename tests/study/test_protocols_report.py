"""The standard protocols' report from written run records: per-fold and mean UA/WA of leave-one-session-out runs,
and the EmoBox benchmark's per-corpus means beside a separate, labelled reference row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_ser import labels
from hf_ser.study.report.__main__ import write_report
from hf_ser.study.report.protocols import load_references, protocol_results


def write_run(root: Path, folder: str, name: str, split: str, corpus: str, fold: int, uar: float, wa: float) -> None:
    """One metrics.json as the trainer writes it, split by `split` fold `fold` on `corpus` alone."""
    path = root / folder / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "run": f"{name}-seed0",
        "name": name,
        "family": "single_language" if name.startswith("single") else "multilingual",
        "train_languages": ["ENG"],
        "eval_languages": ["ENG"],
        "group": "germanic",
        "seed": 0,
        "metrics": {k: {"uar": uar, "f1": uar - 0.02, "wa": wa, "n": 50} for k in ("ENG", "all")},
        "confusion": {"labels": list(labels.EMOTIONS), "matrix": [[0] * 6 for _ in range(6)]},
        "train_corpora": [corpus],
        "data_args": {"split": split, "fold": fold, "folds": 5, "corpora": [corpus]},
        "config": {},
        "versions": {},
    }
    path.write_text(json.dumps(payload), encoding="utf-8")


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """Five leave-one-session-out IEMOCAP folds, and an EmoBox benchmark grid (IEMOCAP 2 folds, RAVDESS 1)."""
    root = tmp_path / "runs"
    for k, (uar, wa) in enumerate([(0.60, 0.58), (0.62, 0.61), (0.64, 0.60), (0.66, 0.65), (0.68, 0.66)], 1):
        write_run(root / "loso", f"fold{k}/single-ENG-seed0", "single-ENG", "session", "iemocap", k, uar, wa)
    for corpus, fold, uar in (("iemocap", 1, 0.70), ("iemocap", 2, 0.60), ("ravdess", 1, 0.80)):
        write_run(root / "bench", f"{corpus}/fold{fold}/multi-all-seed0", "multi-all", "emobox", corpus, fold, uar, uar)
    (root / "bench" / "benchmark_corpora.json").write_text(
        json.dumps(
            {
                "found": {},
                "skipped": {"emodb": "no EmoBox fold files for emodb under EmoBox", "tess": "not present: no folder"},
            }
        )
    )
    return root


def test_session_report_gives_each_fold_and_the_mean(runs_dir):
    out = write_report(runs_dir / "loso", n_resamples=0)
    md = (out / "protocols.md").read_text()
    assert "iemocap: single-ENG, leave-one-session-out (5 runs)" in md
    assert "| 1 | 0 | 60.0 | 58.0 | 58.0 | 50 |" in md and "| 5 | 0 | 68.0 | 66.0 | 66.0 | 50 |" in md
    assert "**64.0 ± 3.2**" in md and "**62.0 ± 3.2**" in md  # UA and WA: mean ± sample std over the 5 folds
    payload = json.loads((out / "protocols.json").read_text())
    (result,) = payload["results"]
    assert result["protocol"] == "leave-one-session-out" and result["mean"]["uar"] == pytest.approx(0.64)
    assert [f["fold"] for f in result["folds"]] == [1, 2, 3, 4, 5]
    rows = (out / "protocols.csv").read_text().splitlines()
    assert rows[0] == "split,corpus,run,fold,seed,uar,wa,f1,n" and len(rows) == 6


def test_benchmark_report_has_per_corpus_means_and_a_labelled_reference_row(runs_dir):
    out = write_report(runs_dir / "bench", n_resamples=0)
    md = (out / "protocols.md").read_text()
    assert "| iemocap | these runs (multi-all) | 2 | 65.0 | 65.0 | 63.0 |" in md
    assert "| ravdess | these runs (multi-all) | 1 | 80.0 | 80.0 | 78.0 |" in md
    # the reference row is separate and says what it is; the package has no published number for these yet
    assert "| iemocap | *EmoBox published best (reference): not available* |" in md
    assert "No published number in the package for iemocap, ravdess" in md
    assert "- emodb (no EmoBox fold files for emodb under EmoBox)" in md
    assert "- not present under --data_root (1): tess" in md
    payload = json.loads((out / "protocols.json").read_text())
    assert payload["skipped"]["emodb"] == "no EmoBox fold files for emodb under EmoBox"
    assert {r["corpus"] for r in payload["results"]} == {"iemocap", "ravdess"}


def test_reference_rows_come_from_the_data_file(tmp_path, runs_dir):
    refs, meta = load_references()
    assert "emo-box/EmoBox" in meta["source"] and meta["status"]
    assert all(r.uar is None or 0 < r.uar <= 1 for r in refs.values())
    custom = tmp_path / "ref.json"
    custom.write_text(json.dumps({"source": "S", "corpora": {"ravdess": {"uar": 0.5, "wa": 0.6, "f1": 0.4}}}))
    refs, meta = load_references(custom)
    assert refs["ravdess"].wa == 0.6 and meta["source"] == "S"


def test_other_runs_give_no_protocol_table(runs_dir):
    assert protocol_results([{"run": "x", "data_args": {"split": "paper"}, "metrics": {"all": {"uar": 1}}}]) == []
    several = {"run": "x", "data_args": {"split": "emobox", "fold": 1, "corpora": ["cafe", "oreau"]}}
    assert protocol_results([{**several, "metrics": {"all": {"uar": 1, "f1": 1, "wa": 1}}}]) == []
