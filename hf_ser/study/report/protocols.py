"""The standard protocols' tables: IEMOCAP leave-one-session-out (SUPERB ER) and EmoBox's intra-corpus benchmark.

Runs split by ``--split session`` give one table per corpus and run: UA (UAR) and WA (plain accuracy) of every
fold, then their mean and standard deviation over folds. Runs split by EmoBox's folds give one row per corpus: UA,
WA and macro F1, each the mean over the corpus's folds (EmoBox's leaderboard averages its folds the same way),
each followed by a separate row labelled as EmoBox's published reference from ``emobox_reference.json`` (its
best model's numbers as EmoBox publishes them as text; a metric or corpus that file has no number for is shown as
not published as text). Written by ``hf-ser report`` as ``protocols.md``,
``protocols.csv`` and ``protocols.json`` when the runs folder holds such runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from hf_ser.experiments.recipe.benchmark import CORPORA_FILE
from hf_ser.safe_io import atomic_write_json, atomic_write_text

PROTOCOL_SPLITS = {"session": "leave-one-session-out", "emobox": "EmoBox intra-corpus"}
REFERENCE_FILE = "emobox_reference.json"
METRICS = ("uar", "wa", "f1")
NOT_PUBLISHED = "not published as text"


@dataclass(frozen=True)
class FoldResult:
    """One run's test result on one fold: UA (UAR), WA (accuracy), macro F1 and test utterances."""

    fold: int
    seed: int
    uar: float
    wa: float
    f1: float
    n: int
    run_folder: str


@dataclass
class ProtocolResult:
    """A protocol's runs of one corpus (or corpus set) and configuration, fold by fold."""

    split: str  # 'session' or 'emobox'
    corpus: str
    run: str
    folds: list[FoldResult] = field(default_factory=list)

    def mean(self, metric: str) -> float:
        """Mean of `metric` over the folds (and seeds)."""
        return float(np.mean([getattr(f, metric) for f in self.folds]))

    def std(self, metric: str) -> float:
        """Sample standard deviation of `metric` over the folds (0 with one fold)."""
        values = [getattr(f, metric) for f in self.folds]
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


@dataclass(frozen=True)
class Reference:
    """EmoBox's published best result on one corpus (fractions); None for a metric EmoBox does not publish as text."""

    corpus: str
    uar: float | None
    wa: float | None
    f1: float | None
    model: str | None
    source: str


def _corpus_of(run: dict) -> str:
    """The corpus (or '+'-joined corpora) a run trained and tested on: its --corpora, else its training corpora."""
    named = (run.get("data_args") or {}).get("corpora") or run.get("train_corpora") or []
    return "+".join(sorted(named)) or "?"


def _fold_result(run: dict) -> FoldResult:
    """A run record's overall test metrics as a :class:`FoldResult` (NaN for a metric an older record lacks)."""
    overall = run["metrics"]["all"]
    return FoldResult(
        fold=int(run["data_args"]["fold"]),
        seed=int(run.get("seed") or 0),
        uar=float(overall["uar"]),
        wa=float(overall["wa"]) if "wa" in overall else float("nan"),
        f1=float(overall["f1"]),
        n=int(overall.get("n", 0)),
        run_folder=str(run.get("_folder", "")),
    )


def protocol_results(runs: list[dict]) -> list[ProtocolResult]:
    """The runs split by a standard protocol (session, EmoBox folds), grouped by split, corpus and run name. An
    EmoBox-fold run trained on several corpora at once is left out (EmoBox's intra-corpus rows are one corpus each)."""
    groups: dict[tuple[str, str, str], ProtocolResult] = {}
    for run in runs:
        split = (run.get("data_args") or {}).get("split")
        if split not in PROTOCOL_SPLITS or "all" not in run.get("metrics", {}):
            continue
        corpus = _corpus_of(run)
        if split == "emobox" and "+" in corpus:  # several corpora in one model: not EmoBox's intra-corpus setting
            continue
        key = (split, corpus, run.get("name") or run["run"])
        groups.setdefault(key, ProtocolResult(*key)).folds.append(_fold_result(run))
    for result in groups.values():
        result.folds.sort(key=lambda f: (f.fold, f.seed))
    return [groups[k] for k in sorted(groups)]


def load_references(path: Path | None = None) -> tuple[dict[str, Reference], dict]:
    """(corpus -> :class:`Reference` for the corpora with published numbers, the file's source and status)."""
    path = path or Path(str(resources.files("hf_ser.study.report"))) / REFERENCE_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    refs = {}
    for corpus, entry in data["corpora"].items():
        if entry:
            refs[corpus] = Reference(
                corpus, entry.get("uar"), entry.get("wa"), entry.get("f1"), entry.get("model"), data["source"]
            )
    return refs, {"source": data["source"], "status": data.get("status", "")}


def _pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal ('' for None / NaN)."""
    return "" if value is None or value != value else f"{100 * value:.1f}"


def session_markdown(result: ProtocolResult) -> str:
    """Per-fold UA/WA of a leave-one-session-out result, then mean ± std over folds (Markdown)."""
    lines = [
        f"### {result.corpus}: {result.run}, leave-one-session-out ({len(result.folds)} runs)",
        "",
        "| fold | seed | UA (%) | WA (%) | F1 (%) | test utterances |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {f.fold} | {f.seed} | {_pct(f.uar)} | {_pct(f.wa)} | {_pct(f.f1)} | {f.n} |" for f in result.folds]
    lines.append(
        "| **mean ± std** | | "
        + " | ".join(f"**{_pct(result.mean(m))} ± {_pct(result.std(m))}**" for m in METRICS)
        + " | |"
    )
    return "\n".join(lines) + "\n"


def _reference_cell(value: float | None) -> str:
    """A reference metric as a percentage, or '—' where EmoBox does not publish it as text."""
    return "—" if value is None or value != value else _pct(value)


def benchmark_markdown(results: list[ProtocolResult], references: dict[str, Reference], meta: dict) -> str:
    """One row per corpus (UA/WA/F1, mean over its folds), each followed by EmoBox's published reference row."""
    lines = [
        "### EmoBox intra-corpus benchmark (mean over each corpus's EmoBox folds)",
        "",
        "| corpus | row | folds | UA (%) | WA (%) | F1 (%) |",
        "|---|---|---|---|---|---|",
    ]
    missing, partial = [], []
    for r in results:
        lines.append(
            f"| {r.corpus} | these runs ({r.run}) | {len(r.folds)} | "
            + " | ".join(_pct(r.mean(m)) for m in METRICS)
            + " |"
        )
        ref = references.get(r.corpus)
        if ref is None:
            missing.append(r.corpus)
            lines.append(f"| {r.corpus} | *EmoBox published best (reference): {NOT_PUBLISHED}* | | | | |")
            continue
        if any(getattr(ref, m) is None for m in METRICS):
            partial.append(r.corpus)
        lines.append(
            f"| {r.corpus} | *EmoBox published best (reference{', ' + ref.model if ref.model else ''})* | | "
            + " | ".join(_reference_cell(getattr(ref, m)) for m in METRICS)
            + " |"
        )
    lines += ["", f"Reference rows: {meta['source']}."]
    if partial:
        lines.append(f"— in a reference row ({', '.join(partial)}): {NOT_PUBLISHED} by EmoBox.")
    if missing:
        lines.append(f"No published number in the package for {', '.join(missing)}.")
    if missing or partial:
        lines.append(f"Reference status: {meta['status']}")
    return "\n".join(lines) + "\n"


def skipped_corpora(runs_dir: Path) -> dict[str, str]:
    """The corpora the benchmark recipe skipped (-> why), from ``benchmark_corpora.json`` when the folder has it."""
    path = runs_dir / CORPORA_FILE
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("skipped", {}))


def skipped_text(skipped: dict[str, str]) -> str:
    """The corpora the benchmark skipped: those with a reason of their own each named with it, then the ones not
    present under the data root in one list."""
    absent = sorted(c for c, why in skipped.items() if why.startswith("not present"))
    other = [f"{c} ({why})" for c, why in skipped.items() if c not in absent]
    lines = ["Corpora skipped by the benchmark:"]
    if other:
        lines.append("- " + "; ".join(other))
    if absent:
        lines.append(f"- not present under --data_root ({len(absent)}): {', '.join(absent)}")
    return "\n".join(lines) + "\n"


def write_protocol_report(runs: list[dict], runs_dir: str | Path, out: Path) -> str | None:
    """Write ``protocols.md/.csv/.json`` into `out` for the runs split by a standard protocol; returns the
    Markdown (None, and nothing written, when no run was)."""
    results = protocol_results(runs)
    if not results:
        return None
    references, meta = load_references()
    parts = ["## Standard protocols\n"]
    parts += [session_markdown(r) for r in results if r.split == "session"]
    bench = [r for r in results if r.split == "emobox"]
    skipped = skipped_corpora(Path(runs_dir))
    if bench:
        parts.append(benchmark_markdown(bench, references, meta))
    if skipped:
        parts.append(skipped_text(skipped))
    markdown = "\n".join(parts) + "\n"
    csv = ["split,corpus,run,fold,seed,uar,wa,f1,n"]
    csv += [
        f"{r.split},{r.corpus},{r.run},{f.fold},{f.seed},{f.uar:.6f},{f.wa:.6f},{f.f1:.6f},{f.n}"
        for r in results
        for f in r.folds
    ]
    payload = {
        "results": [
            {
                "split": r.split,
                "protocol": PROTOCOL_SPLITS[r.split],
                "corpus": r.corpus,
                "run": r.run,
                "mean": {m: r.mean(m) for m in METRICS},
                "std": {m: r.std(m) for m in METRICS},
                "folds": [asdict(f) for f in r.folds],
                "reference": asdict(references[r.corpus]) if r.split == "emobox" and r.corpus in references else None,
            }
            for r in results
        ],
        "reference_source": meta,
        "skipped": skipped,
    }
    atomic_write_text(out / "protocols.md", markdown)
    atomic_write_text(out / "protocols.csv", "\n".join(csv) + "\n")
    atomic_write_json(out / "protocols.json", payload)
    return markdown
