"""The transfer family's source models: a language's single-language run that another grid (or this one) already
trained with the same configuration is evaluated on every target instead of being trained again.

A transfer run ``transfer-XXX`` trains exactly what ``single-XXX`` trains (same rows, model, options and seed); only
its name and test split differ. :func:`source_candidates` rebuilds the configuration ``single-XXX`` would have on
this data and looks for a finished run with that hash in the output dir and in ``--source_runs``.
"""

from __future__ import annotations

from pathlib import Path

from hf_ser.data.dataset import subset
from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.experiments.families import Run
from hf_ser.experiments.recipe.parse import Recipe
from hf_ser.experiments.recipe.plan import PlannedRun, run_config
from hf_ser.train.runs import config_hash, finished_record


def single_twin(job: PlannedRun) -> Run | None:
    """The single-language run a transfer run's source model equals (None for a per-corpus source, which trains
    on one corpus of its language, or for any other family)."""
    run = job.run
    if run.family != "transfer" or "train_corpus" in run.extra:
        return None
    lang = run.train_languages[0]
    return Run(f"single-{lang}", "single_language", (lang,), (lang,), run.group, None, run.seed)


def twin_hash(job: PlannedRun, recipe: Recipe, twin: Run) -> str:
    """The config hash ``twin`` has on this grid's data: the transfer run's train/dev fingerprints, its own test."""
    cols = ("path", "label", "language", "corpus", "speaker", "length")
    test = subset(job.test, twin.eval_languages)
    fingerprint = {**job.config["data_fingerprint"], "test": data_fingerprint({c: test[c] for c in cols})}
    return config_hash(run_config(twin, recipe, fingerprint))


def source_candidates(job: PlannedRun, recipe: Recipe) -> Path | None:
    """The folder of a finished single-language run (with its saved model) that this transfer run can reuse."""
    twin = single_twin(job)
    if twin is None:
        return None
    expected = twin_hash(job, recipe, twin)
    roots = [Path(recipe.training.output_dir), *(Path(r) for r in recipe.ser.source_runs or [])]
    for root in roots:
        folder = root / twin.dirname
        if (folder / "model").is_dir() and finished_record(folder, expected) is not None:
            return folder
    return None
