"""The standard protocols' report from written run records: per-fold and mean UA/WA of leave-one-session-out runs,
and the EmoBox benchmark's per-corpus means beside a separate, labelled reference row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_ser import labels
from hf_ser.study.report.__main__ import write_report
from hf_ser.study.report.protocols import (
    METRICS,
    NOT_PUBLISHED,
    Reference,
    benchmark_markdown,
    load_references,
    protocol_results,
)


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
    # the reference row is separate, names EmoBox's best model and shows what EmoBox publishes as text (WA only)
    assert "| iemocap | *EmoBox published best (reference, Whisper large v3)* | | — | 72.9 | — |" in md
    assert "| ravdess | *EmoBox published best (reference, Whisper large v3)* | | — | 75.9 | — |" in md
    assert f"— in a reference row (iemocap, ravdess): {NOT_PUBLISHED} by EmoBox." in md
    assert "emo-box.github.io/leaderboard1.html" in md and "No published number" not in md
    assert "- emodb (no EmoBox fold files for emodb under EmoBox)" in md
    assert "- not present under --data_root (1): tess" in md
    payload = json.loads((out / "protocols.json").read_text())
    assert payload["skipped"]["emodb"] == "no EmoBox fold files for emodb under EmoBox"
    assert {r["corpus"] for r in payload["results"]} == {"iemocap", "ravdess"}


def test_reference_rows_come_from_the_data_file(tmp_path, runs_dir):
    refs, meta = load_references()
    assert "emo-box/EmoBox" in meta["source"] and "leaderboard1.html" in meta["source"] and meta["status"]
    assert all(getattr(r, m) is None or 0 < getattr(r, m) <= 1 for r in refs.values() for m in METRICS)
    assert len(refs) == 32 and all(r.wa is not None and r.model for r in refs.values())  # WA: the 'ALL' tab
    full = {c for c, r in refs.items() if None not in (r.uar, r.wa, r.f1)}
    assert full == {"aesdd", "ased", "asvp_esd"}  # the only per-dataset tabs that give UA and F1 as text
    assert (refs["asvp_esd"].uar, refs["asvp_esd"].wa, refs["asvp_esd"].model) == (0.6114, 0.7152, "Whisper large v3")
    custom = tmp_path / "ref.json"
    custom.write_text(json.dumps({"source": "S", "corpora": {"ravdess": {"uar": 0.5, "wa": 0.6, "f1": 0.4}}}))
    refs, meta = load_references(custom)
    assert refs["ravdess"].wa == 0.6 and meta["source"] == "S"


def test_other_runs_give_no_protocol_table(runs_dir):
    assert protocol_results([{"run": "x", "data_args": {"split": "paper"}, "metrics": {"all": {"uar": 1}}}]) == []
    several = {"run": "x", "data_args": {"split": "emobox", "fold": 1, "corpora": ["cafe", "oreau"]}}
    assert protocol_results([{**several, "metrics": {"all": {"uar": 1, "f1": 1, "wa": 1}}}]) == []


def test_reference_row_shows_published_numbers_and_says_when_there_are_none():
    """Published metrics render as percentages, unpublished ones as '—', a corpus without an entry says so."""
    result = protocol_results(
        [
            {
                "run": f"r-{c}",
                "name": "r",
                "data_args": {"split": "emobox", "fold": 1, "corpora": [c]},
                "metrics": {"all": {"uar": 0.5, "wa": 0.5, "f1": 0.5}},
            }
            for c in ("aesdd", "cafe", "tess")
        ]
    )
    refs = {
        "aesdd": Reference("aesdd", 0.844, 0.8449, 0.8419, "WavLM large", "S"),
        "cafe": Reference("cafe", None, 0.6884, None, "Whisper large v3", "S"),
    }
    md = benchmark_markdown(result, refs, {"source": "S", "status": "WA only for most corpora"})
    assert "| aesdd | *EmoBox published best (reference, WavLM large)* | | 84.4 | 84.5 | 84.2 |" in md
    assert "| cafe | *EmoBox published best (reference, Whisper large v3)* | | — | 68.8 | — |" in md
    assert f"| tess | *EmoBox published best (reference): {NOT_PUBLISHED}* | | | | |" in md
    assert f"— in a reference row (cafe): {NOT_PUBLISHED} by EmoBox." in md
    assert "No published number in the package for tess." in md and "Reference status: WA only" in md
    complete = benchmark_markdown(result[:1], refs, {"source": "S", "status": "x"})
    assert "—" not in complete and "Reference status" not in complete
