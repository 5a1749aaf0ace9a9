"""Staging a run for the Hub: the folder that is uploaded (model files, card, metrics and training arguments
without local paths, LICENSE.md when the licence is ``other``), written whole or not at all."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from hf_ser.hub.card import build_model_card
from hf_ser.hub.errors import HubError
from hf_ser.hub.gap import PIPELINE_CHECK_FILES
from hf_ser.hub.licences import corpus_card, resolve_licence
from hf_ser.hub.run_folder import find_run_dir, load_metrics, model_files
from hf_ser.hub.scrub import scrub_paths
from hf_ser.train.runs import STAGING_MARKER


def _training_args(metrics: dict) -> dict:
    """training_args.json: the run's configuration, config hash and versions, local paths scrubbed."""
    config = metrics.get("config", {})
    return scrub_paths(
        {
            "run": config.get("run", {}),
            "model": config.get("model", {}),
            "data": config.get("data", {}),
            "ser": config.get("ser", {}),
            "training": config.get("training", {}),
            "config_hash": metrics.get("config_hash"),
            "versions": metrics.get("versions", {}),
        }
    )


def _write_staged(run_dir: Path, repo_id: str, target: Path, pipeline_files: int = PIPELINE_CHECK_FILES) -> None:
    """Write the upload folder into `target`: model files, card, scrubbed metrics and training args, LICENSE.md."""
    metrics = load_metrics(run_dir)
    files = model_files(run_dir)
    card = build_model_card(run_dir, repo_id, pipeline_files)
    target.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, target / f.name)
    card.save(target / "README.md")
    (target / "metrics.json").write_text(
        json.dumps(scrub_paths(metrics), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (target / "training_args.json").write_text(
        json.dumps(_training_args(metrics), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (target / STAGING_MARKER).write_text("a copy of a run staged for the Hub; never read as a run\n")
    if card.data.license == "other":
        _, note = resolve_licence(metrics.get("train_corpora", []))
        lines = ["# Terms of use", "", note, "", "| corpus | licence | source |", "|---|---|---|"]
        lines += [
            f"| {c.title} | {c.licence} | {c.url or '-'} |" for c in map(corpus_card, metrics.get("train_corpora", []))
        ]
        (target / "LICENSE.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _looks_staged(folder: Path) -> bool:
    """True for a folder an earlier dry run wrote (safe to replace)."""
    names = {p.name for p in folder.iterdir()}
    if STAGING_MARKER in names:
        return True
    return {"README.md", "metrics.json", "training_args.json", "config.json"} <= names and not any(
        p.is_dir() for p in folder.iterdir()
    )


def stage_run(run_dir: str | Path, repo_id: str, out: str | Path, pipeline_files: int = PIPELINE_CHECK_FILES) -> Path:
    """Write the folder that would be uploaded to `out` (replacing an earlier staging there); returns it.

    `pipeline_files`: how many test files the card's pipeline() check classifies (0: none)."""
    run_dir = find_run_dir(run_dir)
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _looks_staged(out))):
        raise HubError(f"{out} exists and is not an earlier hf_ser staging folder; give another --output_dir")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write_staged(run_dir, repo_id, tmp, pipeline_files)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def list_folder(folder: str | Path) -> str:
    """One line per file: size and name (what `--dry_run` prints)."""
    folder = Path(folder)
    rows = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != STAGING_MARKER:
            size = p.stat().st_size
            human = (
                f"{size / 2**20:.1f} MiB"
                if size >= 2**20
                else f"{size / 2**10:.1f} KiB"
                if size >= 2**10
                else f"{size} B"
            )
            rows.append(f"  {human:>10}  {p.relative_to(folder).as_posix()}")
    return "\n".join(rows)
