"""The in-language upper bound of the few-shot curve: the best Table 2 run that trained on the language."""

from __future__ import annotations

import statistics
from pathlib import Path

from hf_ser.labels import LANGUAGES
from hf_ser.train.runs import load_records


def upper_bound(parent: Path, language: str) -> tuple[dict | None, list[dict]]:
    """(chosen in-language reference, all candidates) among the runs under `parent` (Table 2 style).

    Priority: the single_language run of `language`; else a multilingual run of its group; else any multilingual
    run that trained on it. Seeds are averaged.
    """
    group = LANGUAGES[language].group if language in LANGUAGES else None
    by_name: dict[str, list[dict]] = {}
    for _, rec in load_records(parent):
        if rec.family not in ("single_language", "multilingual") or language not in rec.metrics:
            continue
        if language not in rec.train_languages:
            continue
        r = {
            "run": rec.run,
            "family": rec.family,
            "group": rec.group,
            "train_languages": rec.train_languages,
            "metrics": rec.metrics,
        }
        by_name.setdefault(rec.name or rec.run, []).append(r)
    candidates = []
    for name, rs in by_name.items():
        r0 = rs[0]
        rank = 0 if r0["family"] == "single_language" else (1 if r0.get("group") == group else 2)
        uars = [100 * r["metrics"][language]["uar"] for r in rs]
        f1s = [100 * r["metrics"][language]["f1"] for r in rs]
        candidates.append(
            {
                "name": name,
                "family": r0["family"],
                "train_languages": r0["train_languages"],
                "rank": rank,
                "runs": [r["run"] for r in rs],
                "n_seeds": len(rs),
                "uar": statistics.fmean(uars),
                "uar_std": statistics.stdev(uars) if len(uars) > 1 else 0.0,
                "f1": statistics.fmean(f1s),
                "f1_std": statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
            }
        )
    candidates.sort(key=lambda c: (c["rank"], -c["uar"]))
    return (candidates[0] if candidates else None), candidates
