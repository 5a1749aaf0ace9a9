"""What produced the runs (corpus, backbone, epochs, seeds, split, shift, test size), as data and as a sentence."""

from __future__ import annotations

from hf_ser.study.report.seeds import TABLE_FAMILIES, _backbone, _fold


def provenance(runs: list[dict]) -> dict:
    """What produced the runs, from their records: corpus, backbone, epochs, seeds, split, lineage_shift, test size.

    Every field is a sorted list of the distinct values found (empty when no record says); ``synthetic`` is True
    when every run used the built-in synthetic demo corpus, and ``simulated`` when the records come from
    :mod:`hf_ser.study.lineage_sim`.
    """
    table_runs = [r for r in runs if r["family"] in TABLE_FAMILIES] or runs

    def distinct(values) -> list:
        """The distinct values that are not None, sorted (as text, so mixed types sort)."""
        return sorted({v for v in values if v is not None}, key=str)

    def data(r: dict) -> dict:
        """The run's data arguments (``data_args``, else the config's ``data``), {} when none."""
        return r.get("data_args") or (r.get("config") or {}).get("data") or {}

    simulated = all("simulated" in (r.get("config") or {}) for r in table_runs)
    corpora = distinct(c for r in table_runs for c in r.get("train_corpora") or [])
    synthetic = bool(table_runs) and all(
        (data(r).get("demo") and not data(r).get("corpora"))
        or any("synthetic" in str(c) for c in r.get("train_corpora") or [])
        for r in table_runs
    )
    seeds_per_config: dict[tuple, int] = {}
    for r in table_runs:
        key = (r["family"], tuple(sorted(r["train_languages"])), r.get("heldout_language"), _backbone(r))
        seeds_per_config[key] = seeds_per_config.get(key, 0) + 1
    test_sizes = distinct(
        m.get("n") for r in table_runs for k, m in r["metrics"].items() if k != "all" and isinstance(m, dict)
    )
    return {
        "simulated": simulated,
        "synthetic": synthetic and not simulated,
        "corpora": corpora,
        "backbones": [] if simulated else distinct(_backbone(r) for r in table_runs if _backbone(r) != "?"),
        "epochs": distinct(((r.get("config") or {}).get("training") or {}).get("num_train_epochs") for r in table_runs),
        "seeds_per_configuration": distinct(seeds_per_config.values()),
        "folds": distinct(_fold(r) for r in table_runs),
        "split": distinct(data(r).get("split", "paper") for r in table_runs if data(r)) or [],
        "lineage_shift": distinct(data(r).get("lineage_shift") for r in table_runs if data(r).get("demo")),
        "test_utterances_per_language": [min(test_sizes), max(test_sizes)] if test_sizes else [],
        "n_runs": len(table_runs),
    }


def provenance_text(prov: dict) -> str:
    """One sentence: what the runs are (corpus, model, epochs, seeds, split, shift); '' when no record says."""

    def join(values: list) -> str:
        """Values joined by ', ', floats in their shortest form (0.5, not 0.500000)."""
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)

    parts = []
    if prov["simulated"]:
        parts.append("simulated predictions (hf_ser.study.lineage_sim), no trained model")
    elif prov["synthetic"]:
        parts.append("synthetic eSpeak demo corpus (not real emotional speech)")
    elif prov["corpora"]:
        parts.append(f"corpora {join(prov['corpora'])}")
    if prov["backbones"]:
        parts.append(f"backbone {join(prov['backbones'])}")
    if prov["epochs"]:
        parts.append(f"{join(prov['epochs'])} epochs")
    if prov["seeds_per_configuration"]:
        runs = join(prov["seeds_per_configuration"])
        folds = prov.get("folds")
        parts.append(
            f"{runs} runs per configuration (seeds x folds {join(folds)})"
            if folds
            else f"{runs} seed(s) per configuration"
        )
    if prov["split"]:
        parts.append(f"split {join(prov['split'])}")
    if prov["lineage_shift"]:
        parts.append(f"lineage_shift {join(prov['lineage_shift'])}")
    if prov["test_utterances_per_language"]:
        low, high = prov["test_utterances_per_language"]
        parts.append(f"{low if low == high else f'{low}-{high}'} test utterances per language")
    return ("Runs: " + "; ".join(parts) + ".") if parts else ""
