"""Share a finished run on the Hugging Face Hub: a truthful model card and a one-commit upload.

``hf-ser hub push RUN_DIR --repo_id USER/NAME [--private] [--revision BRANCH] [--dry_run] [--output_dir DIR]
[--pipeline_check N]``

A run folder (written by the recipe) holds ``metrics.json`` and ``model/``. :func:`stage_run` turns it
into the folder that goes to the Hub: the model and feature extractor files, a ``README.md`` model card
rendered from ``model_cards/ser_model_card.md``, ``metrics.json`` and ``training_args.json`` with local paths
removed (and ``LICENSE.md`` when the licence is ``other``). :func:`push_run` uploads it with
``HfApi.create_repo(exist_ok=True)`` + ``HfApi.upload_folder`` (one commit), or with ``dry_run`` writes it to
``RUN_DIR/hub/`` for inspection (marked as a staging folder, so reports never read it as a run). Consumers need
only ``transformers``: ``pipeline("audio-classification", model=USER/NAME)``; the card shows the array form that
needs no ffmpeg, the training preparation (:func:`hf_ser.data.audio.prepare_for_pipeline`) and, measured on the run's
test files when they are readable, the UAR that skipping that preparation costs (:func:`measure_pipeline_gap`).

Tokens are read by ``huggingface_hub`` itself (``hf auth login`` or ``HF_TOKEN``) or passed in memory by the recipe
(``--hub_token``, which never reaches the Trainer); this module never prints or writes one.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData, get_token
from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError
from transformers import PretrainedConfig

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.data.audio import AudioError, PreprocessConfig, read_audio, resample, to_mono
from hf_ser.errors import EXIT_FAILED, EXIT_OK, UserError
from hf_ser.infer.app import stage_space
from hf_ser.infer.predict.model import load_classifier
from hf_ser.infer.predict.predictor import classify
from hf_ser.labels import CORPORA, EMOTIONS, LANGUAGES
from hf_ser.metrics import F1_DEFINITION, uar
from hf_ser.safe_io import display_path
from hf_ser.train.modeling import RANDOM_BACKBONES, backbone_info
from hf_ser.train.runs import STAGING_MARKER, RunRecord, RunRecordError, read_predictions

TEMPLATE_PATH = Path(str(resources.files("hf_ser"))) / "model_cards" / "ser_model_card.md"
# Files of model/ that never go to the Hub: the pickled TrainingArguments hold local paths.
EXCLUDED_MODEL_FILES = frozenset({"training_args.bin"})
# Keys whose values are local paths: only the last component is kept.
PATH_KEYS = frozenset(
    {
        "data_root",
        "cache_dir",
        "output_dir",
        "logging_dir",
        "predictions",
        "predictions_path",
        "path",
        "run_dir",
        "corpora",
        "resume_from_checkpoint",
    }
)
# Test files classified both ways when a card is written (a seeded sample above this): the demo's 270 take a few
# seconds on a CPU; 500 XLS-R 300M clips about 5 minutes on one CPU core (seconds on a GPU).
PIPELINE_CHECK_FILES = 500
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
SYNTHETIC_PREFIX = "synth_"
TASK_NAME = "Speech Emotion Recognition"

# Hub licence ids, from least to most restrictive; share-alike licences cannot be combined with each other.
LICENCE_RANK = {
    "mit": 0,
    "apache-2.0": 0,
    "cc-by-4.0": 1,
    "cc-by-sa-4.0": 2,
    "odbl": 2,
    "cc-by-nc-4.0": 3,
    "cc-by-nc-sa-4.0": 4,
    "other": 5,
}
SHARE_ALIKE = frozenset({"cc-by-sa-4.0", "odbl", "cc-by-nc-sa-4.0"})
_LICENCE_IDS = {
    "cc-by-4.0": "cc-by-4.0",
    "cc-by-sa-4.0": "cc-by-sa-4.0",
    "cc-by-nc-4.0": "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0",
    "mit": "mit",
    "apache-2.0": "apache-2.0",
    "odbl-1.0": "odbl",
    "odbl": "odbl",
}


class HubError(UserError):
    """A push that cannot go on because of what was given (run folder, repo id, token); the message says what to do.
    The run folder is left as it was."""


class HubUnreachable(RuntimeError):
    """The Hub could not be reached or refused the upload for its own reasons: the work failed (exit 1)."""


# ----------------------------------------------------------------------------- corpora and licences


@dataclass(frozen=True)
class CorpusCard:
    """What the card says about one training or test corpus."""

    name: str
    title: str
    language: str | None
    licence: str
    hub_licence: str
    url: str
    citation: str
    hub_id: str | None = None
    note: str = ""


def hub_licence_id(licence: str) -> str:
    """A registry licence string ('CC-BY-4.0', 'ODbL-1.0', 'EULA (research only)') -> Hub licence id or 'other'."""
    return _LICENCE_IDS.get(licence.strip().lower(), "other")


def corpus_card(name: str) -> CorpusCard:
    """Card facts of a corpus: from labels.CORPORA, the built-in synthetic corpus, or 'unknown' for others."""
    if name in CORPORA:
        c = CORPORA[name]
        return CorpusCard(
            c.name, c.title, c.language, c.licence, hub_licence_id(c.licence), c.url, c.citation, c.hub_id, c.note
        )
    if name.startswith(SYNTHETIC_PREFIX) and name[len(SYNTHETIC_PREFIX) :].upper() in LANGUAGES:
        code = name[len(SYNTHETIC_PREFIX) :].upper()
        return CorpusCard(
            name,
            f"hf_ser synthetic corpus, {LANGUAGES[code].name} part",
            code,
            "Apache-2.0 (synthesised by hf_ser, no recordings of people)",
            "apache-2.0",
            "hf_ser.data.corpora.synthetic",
            "hf_ser synthetic emotional speech (eSpeak NG voices), hf_ser.data.corpora.synthetic.",
        )
    return CorpusCard(name, name, None, "unknown (not in the hf_ser corpus registry)", "other", "", "")


def resolve_licence(corpora: list[str]) -> tuple[str, str]:
    """(Hub licence id, explanation) for weights trained on `corpora`: the most restrictive of their licences.

    Two different share-alike licences cannot both be honoured, and an unknown or research-only licence has no
    Hub id: both give 'other'.
    """
    cards = [corpus_card(n) for n in corpora]
    if not cards:
        return "other", "The training corpora are not recorded in metrics.json, so no licence can be derived."
    ids = {c.hub_licence for c in cards}
    share_alike = sorted(ids & SHARE_ALIKE)
    by_licence: dict[str, list[str]] = {}
    for c in cards:
        by_licence.setdefault(c.licence, []).append(c.title)
    listing = "; ".join(f"{lic}: {', '.join(titles)}" for lic, titles in by_licence.items())
    if "other" in ids:
        unclear = ", ".join(c.title for c in cards if c.hub_licence == "other")
        return "other", (
            f"Licence `other`: the terms of {unclear} are unknown, research-only or unverified, so the weights "
            f"carry no standard licence. Use them only as every training corpus allows ({listing}); ask the "
            f"corpus owners before any use beyond research."
        )
    if len(share_alike) > 1:
        return "other", (
            f"Licence `other`: the training corpora carry different share-alike licences ({', '.join(share_alike)}), "
            f"which cannot both be honoured by one licence. Use the weights only as every training corpus allows "
            f"({listing})."
        )
    chosen = max(ids, key=lambda i: (LICENCE_RANK[i], i))
    return chosen, (
        f"Licence `{chosen}`: the weights are derived from the training corpora and take the most restrictive of "
        f"their licences ({listing})."
    )


# ----------------------------------------------------------------------------- run folder


def _load_metrics(run_dir: Path) -> dict:
    """The run's record as the dict the card is rendered from (RunRecordError, a UserError, when unusable)."""
    return RunRecord.load(run_dir).to_dict()


def find_run_dir(path: str | Path) -> Path:
    """The run folder for `path` (a run folder, or its model/ sub-folder)."""
    p = Path(path)
    if p.name == "model" and (p.parent / "metrics.json").is_file():
        p = p.parent
    if not p.is_dir():
        raise HubError(f"run folder {p} does not exist")
    return p


def _model_files(run_dir: Path) -> list[Path]:
    model_dir = run_dir / "model"
    for needed in ("config.json", "preprocessor_config.json"):
        if not (model_dir / needed).is_file():
            raise HubError(
                f"{model_dir / needed} is missing: the run saved no complete model "
                f"(Trainer.save_model writes it at the end of training); train the run again"
            )
    weights = list(model_dir.glob("*.safetensors")) + list(model_dir.glob("pytorch_model*.bin"))
    if not weights:
        raise HubError(f"{model_dir} holds no weights (*.safetensors); train the run again")
    return sorted(
        p
        for p in model_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name not in EXCLUDED_MODEL_FILES
    )


def is_hub_id(name: str | None) -> bool:
    """True for 'owner/name' ids that are not local paths."""
    return bool(name) and bool(HUB_ID.match(name)) and not Path(name).expanduser().exists()


def _is_local_path(value: str) -> bool:
    """Absolute, home-relative, dot-relative or Windows-drive paths (relative 'a/b' strings are left alone)."""
    return (
        os.path.isabs(value)
        or value.startswith(("~", "./", "../", ".\\", "..\\"))
        or bool(re.match(r"^[A-Za-z]:[\\/]", value))
    )


def _last_part(value: str) -> str:
    return re.split(r"[\\/]", value.rstrip("/\\"))[-1] or value


def scrub_paths(obj: Any, key: str | None = None) -> Any:
    """Copy of a JSON-like object with local paths cut to their last component (a folder or file name)."""
    if isinstance(obj, dict):
        return {k: scrub_paths(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub_paths(v, key) for v in obj]
    if not isinstance(obj, str):
        return obj
    has_sep = "/" in obj or "\\" in obj
    if (key in PATH_KEYS and has_sep) or _is_local_path(obj):
        return _last_part(obj)
    if key == "model_name_or_path" and has_sep and not is_hub_id(obj):
        return _last_part(obj)
    return obj


def evaluation_corpora(run_dir: Path, metrics: dict) -> dict[str, list[str]]:
    """Language -> corpora of its test split: from predictions.csv when present, else from the training corpora."""
    out: dict[str, list[str]] = {}
    pred = run_dir / "predictions.csv"
    if pred.is_file():
        with pred.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                lang, corpus = row.get("language"), row.get("corpus")
                if lang and corpus and corpus not in out.setdefault(lang, []):
                    out[lang].append(corpus)
    if not out:
        for name in metrics.get("train_corpora", []):
            lang = corpus_card(name).language
            if lang:
                out.setdefault(lang, []).append(name)
    return {lang: sorted(names) for lang, names in out.items()}


# ----------------------------------------------------------------------------- pipeline() against predict


@dataclass(frozen=True)
class PipelineGap:
    """UAR of the run's model on its own test files, fed two ways; measured when the card is written.

    ``uar_raw``: stock ``pipeline("audio-classification")`` on each file decoded by soundfile, averaged to mono and
    resampled to 16 kHz, nothing else (the card's plain snippet). ``uar_prepared``: ``hf-ser predict`` on the same
    files, i.e. the training preparation (:func:`hf_ser.data.audio.prepare_for_pipeline`) before the same pipeline.
    """

    n: int  # files classified both ways
    n_test: int  # rows of predictions.csv
    uar_raw: float
    uar_prepared: float
    uar_recorded: float | None  # the run's own test UAR on the same files (from predictions.csv)
    agreement: float  # share of the files given the same label both ways

    @property
    def gap_points(self) -> float:
        """Prepared minus raw UAR, in percentage points."""
        return 100 * (self.uar_prepared - self.uar_raw)


def _raw_pipeline_input(path: str, sampling_rate: int) -> dict:
    """A file as the card's plain snippet feeds it: soundfile decode, channel mean, soxr resample; nothing else."""
    data, sr = read_audio(path)
    return {"raw": resample(to_mono(data), sr, sampling_rate), "sampling_rate": sampling_rate}


def measure_pipeline_gap(
    run_dir: str | Path, max_files: int = PIPELINE_CHECK_FILES, seed: int = 0, device: str | None = None
) -> tuple[PipelineGap | None, str]:
    """Classify the run's test files through plain ``pipeline()`` and through ``hf-ser predict``; (gap, note).

    The files are those listed in ``predictions.csv`` that are readable here (a seeded sample of `max_files` when
    there are more). Returns (None, why) when nothing could be measured: no predictions, files not on this
    machine (the card was written elsewhere), `max_files` 0.
    """
    run_dir = find_run_dir(run_dir)
    if max_files <= 0:
        return None, "not measured (`--pipeline_check 0`)"
    try:
        preds = read_predictions(run_dir)
    except RunRecordError:
        return None, "not measured: the run has no predictions.csv"
    readable = preds[[Path(p).is_file() for p in preds["path"]]]
    if readable.empty:
        return None, (
            f"not measured: none of the {len(preds)} test files named in predictions.csv is readable where the card "
            "was written"
        )
    if len(readable) > max_files:
        readable = readable.sample(n=max_files, random_state=seed).sort_index()
    data_cfg = RunRecord.load(run_dir).config.get("data", {})
    max_seconds = data_cfg.get("max_seconds", PreprocessConfig().max_seconds)
    classifier = load_classifier(str(run_dir / "model"), device)
    sr = int(classifier.feature_extractor.sampling_rate)
    paths = list(readable["path"])
    prepared = {row["path"]: row for row in classify(paths, classifier, segment="none", max_seconds=max_seconds)}
    labels = {e: i for i, e in enumerate(EMOTIONS)}
    y_true, y_raw, y_prep, y_rec = [], [], [], []
    for path, truth, recorded in zip(paths, readable["y_true"], readable["y_pred"]):
        row = prepared.get(path)
        if row is None or row["error"]:
            continue
        try:
            out = classifier(_raw_pipeline_input(path, sr), top_k=1)
        except AudioError:
            continue
        y_true.append(int(truth))
        y_raw.append(labels[out[0]["label"]])
        y_prep.append(labels[row["label"]])
        y_rec.append(int(recorded))
    if not y_true:
        return None, "not measured: no test file could be classified both ways"
    gap = PipelineGap(
        n=len(y_true),
        n_test=len(preds),
        uar_raw=uar(y_true, y_raw),
        uar_prepared=uar(y_true, y_prep),
        uar_recorded=uar(y_true, y_rec),
        agreement=float(np.mean(np.array(y_raw) == np.array(y_prep))),
    )
    return gap, "measured"


def pipeline_note(gap: PipelineGap | None, note: str) -> str:
    """The card's paragraph on what skipping the preparation costs (or why it was not measured)."""
    if gap is None:
        return (
            f"**What skipping the preparation costs:** {note}. `hf-ser hub push` measures it on the run's test "
            "files when they are readable."
        )
    sample = "all" if gap.n == gap.n_test else f"a seeded sample of {gap.n} of the"
    return (
        f"**What skipping the preparation costs** (measured when this card was written, on {sample} {gap.n_test} "
        f"test files of the run): UAR {_pct(gap.uar_raw)}% through `pipeline()` on the decoded audio as in the "
        f"first snippet, against {_pct(gap.uar_prepared)}% with the training preparation (`prepare_for_pipeline`, "
        f"which is what `hf-ser predict` does); {gap.gap_points:+.1f} points for the preparation, and the two "
        f"gave the same label for {100 * gap.agreement:.0f}% of the files."
    )


# ----------------------------------------------------------------------------- card


def is_demo_run(metrics: dict) -> bool:
    """True for runs on the built-in synthetic corpus (``--demo``)."""
    names = metrics.get("train_corpora") or []
    return bool(metrics.get("config", {}).get("data", {}).get("demo")) or (
        bool(names) and all(n.startswith(SYNTHETIC_PREFIX) for n in names)
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * float(x):.1f}"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _lang_name(code: str) -> str:
    return LANGUAGES[code].name if code in LANGUAGES else code


def _base_model(model_name: str) -> tuple[str | None, str]:
    """(Hub id of the backbone or None, how the card describes the initialisation)."""
    if model_name in RANDOM_BACKBONES:
        kind = "a tiny 3-layer wav2vec2 configuration" if model_name == "demo-tiny" else "the XLS-R 300M architecture"
        return None, f"{kind} with **random initial weights** (no pre-trained backbone, `{model_name}`)"
    if is_hub_id(model_name):
        return model_name, f"pre-trained [`{model_name}`](https://huggingface.co/{model_name})"
    return None, f"a local pre-trained checkpoint (`{_last_part(model_name)}`), not a Hub model"


def _eval_results(metrics: dict, run: dict, tests: dict[str, list[str]], data_cfg: dict) -> list[EvalResult]:
    """Two results (UAR, macro-F1) per evaluated language, on its test split."""
    results = []
    trained = set(run.get("train_languages", []))
    for lang in run.get("eval_languages", []):
        m = metrics.get("metrics", {}).get(lang)
        if not m:
            continue
        names = tests.get(lang, [])
        cards = [corpus_card(n) for n in names]
        if len(cards) == 1 and cards[0].hub_id:
            dataset_type = cards[0].hub_id
        elif cards and all(n.startswith(SYNTHETIC_PREFIX) for n in names):
            dataset_type = "hf_ser-synthetic"
        else:
            dataset_type = "+".join(names) or "unrecorded"
        zero_shot = "" if lang in trained else ", not seen in training"
        dataset_name = (
            f"{_lang_name(lang)} test split ({', '.join(c.title for c in cards) or 'corpora not recorded'}{zero_shot})"
        )
        common = dict(
            task_type="audio-classification",
            task_name=TASK_NAME,
            dataset_type=dataset_type,
            dataset_name=dataset_name,
            dataset_config=LANGUAGES[lang].iso639_3 if lang in LANGUAGES else lang.lower(),
            dataset_split="test",
            dataset_args={
                "protocol": data_cfg.get("split", "paper"),
                "test_size": data_cfg.get("test_size"),
                "split_seed": data_cfg.get("split_seed"),
                "n_test": m.get("n"),
            },
        )
        results.append(
            EvalResult(
                **common,
                metric_type="recall",
                metric_name="UAR (unweighted average recall)",
                metric_value=round(float(m["uar"]), 4),
                metric_args={"average": "macro"},
            )
        )
        results.append(
            EvalResult(
                **common,
                metric_type="f1",
                metric_name="Macro F1",
                metric_value=round(float(m["f1"]), 4),
                metric_args={"average": "macro"},
            )
        )
    return results


def build_card_data(metrics: dict, tests: dict[str, list[str]], model_name: str) -> ModelCardData:
    """The YAML metadata of the card (language, license, base_model, datasets, tags, model-index)."""
    config = metrics.get("config", {})
    run = config.get("run", metrics)
    backbone = config.get("model", {}).get("model_name_or_path", "")
    base_model, _ = _base_model(backbone)
    train_corpora = metrics.get("train_corpora", [])
    licence, _ = resolve_licence(train_corpora)
    languages = [LANGUAGES[l].iso639_1 for l in run.get("train_languages", []) if l in LANGUAGES]
    datasets = sorted({c.hub_id for c in map(corpus_card, train_corpora) if c.hub_id})
    demo = is_demo_run(metrics)
    tags = ["speech-emotion-recognition", "audio-classification", "wav2vec2", "hf_ser", run.get("family", "")]
    if len(languages) > 1:
        tags.append("multilingual")
    if demo:
        tags += ["synthetic-data", "demo"]
    extra: dict[str, Any] = {}
    if licence == "other":
        extra = {"license_name": "training-corpora-terms", "license_link": "LICENSE.md"}
    return ModelCardData(
        language=sorted(set(languages), key=languages.index) or None,
        license=licence,
        library_name="transformers",
        pipeline_tag="audio-classification",
        tags=[t for t in tags if t],
        base_model=base_model,
        datasets=datasets or None,
        metrics=["recall", "f1"],
        model_name=model_name,
        eval_results=_eval_results(metrics, run, tests, config.get("data", {})) or None,
        **extra,
    )


def _hyperparameters(config: dict, run: dict) -> str:
    t, s, m = config.get("training", {}), config.get("ser", {}), config.get("model", {})
    bs, acc = t.get("per_device_train_batch_size"), t.get("gradient_accumulation_steps")
    precision = "bf16" if t.get("bf16") else "fp16" if t.get("fp16") else "fp32"
    rows = [
        (
            "optimizer",
            f"{t.get('optim', 'adamw')}, learning rate {t.get('learning_rate')}, weight decay {t.get('weight_decay')}",
        ),
        ("schedule", f"{t.get('lr_scheduler_type')}, warm-up {t.get('warmup_steps')}"),
        ("epochs", t.get("num_train_epochs")),
        (
            "batch",
            f"{bs} per device x {acc} accumulation "
            "steps" + (f" (= {bs * acc} per device and step)" if bs and acc else ""),
        ),
        ("gradient clipping", t.get("max_grad_norm")),
        ("precision", precision),
        (
            "loss",
            f"cross-entropy + {s.get('contrastive_weight')} x supervised contrastive (temperature "
            f"{s.get('temperature')})",
        ),
        ("class weighting", s.get("class_weighting")),
        ("corpus weighting", s.get("corpus_weighting")),
        ("corpus-balanced batches", f"{s.get('balanced_sampling')} (length window {s.get('length_window')})"),
        ("augmentation", "light Gaussian noise and random gain" if s.get("augment") else "none"),
        ("feature encoder frozen", m.get("freeze_feature_encoder")),
        ("projector width", m.get("classifier_proj_size")),
        ("seed", run.get("seed")),
    ]
    return _md_table(["setting", "value"], [[k, "" if v is None else v] for k, v in rows])


def _split_protocol(data_cfg: dict, metrics: dict) -> str:
    protocol, test_size, seed = (
        data_cfg.get("split", "paper"),
        data_cfg.get("test_size", 0.3),
        data_cfg.get("split_seed", 0),
    )
    train_pct, test_pct = round(100 * (1 - float(test_size))), round(100 * float(test_size))
    if protocol == "speaker":
        text = (
            f"Speaker-independent: for each language, whole speakers went to the test split (one fold of a "
            f"label-stratified group k-fold over speakers, about {test_pct}% of the utterances, seed {seed}); no "
            "test "
            f"speaker was heard in training."
        )
    else:
        text = (
            f"Per language, each emotion's utterances were shuffled (seed {seed}) and cut {train_pct}/{test_pct} "
            "into "
            f"train and test, so every language keeps its class proportions in both splits. The split is the same "
            f"for every training seed. It is not speaker-independent: one speaker's utterances can be on both "
            "sides, "
            f"so the scores below are likely higher than on voices the model has never heard."
        )
    default_note = "stratified per emotion, random utterances"
    notes = {l: n for l, n in (metrics.get("split_notes") or {}).items() if n and n != default_note}
    if notes:
        text += "\n\n" + "\n".join(f"- {_lang_name(l)}: {n}" for l, n in sorted(notes.items()))
    return text


def _limitations(run: dict, train_cards: list[CorpusCard], demo: bool) -> str:
    trained = list(run.get("train_languages", []))
    missing = [LANGUAGES[c].name for c in LANGUAGES if c not in trained]
    items = []
    if demo:
        items.append(
            "**Demo checkpoint.** It learnt from a few minutes of synthetic eSpeak NG speech, starting from "
            "random weights. Its outputs on human speech carry no information; use it only to test tooling."
        )
    items += [
        "**Acted or simulated emotions.** The training "
        + (
            "utterances are synthesised with emotion profiles"
            if demo
            else "recordings are portrayals: actors or volunteers producing each emotion on request"
        )
        + ", mostly on fixed sentences. Everyday speech shows emotion more weakly and in mixtures, so expect lower "
        "scores on it than in the table above.",
        "**Corpus and language are confounded.** Each language comes from one or a few corpora, each with its own "
        "speakers, microphones, rooms and sentences. A score for a language measures those corpora as much as the "
        "language, and a new recording setup can lower accuracy.",
        "**Six categories only.** Every input is forced into anger, disgust, fear, happiness, neutral or sadness; "
        "other states (surprise, boredom, contempt, mixed feelings) and non-speech input get one of these labels too.",
        "**Languages not covered.** Only "
        + (", ".join(_lang_name(l) for l in trained) or "the training languages")
        + " were seen in training"
        + (f"; {', '.join(missing)} and all other languages were not" if missing else "")
        + ". Quality on them is unknown unless the table above reports it.",
        "**Untested groups.** Results were not broken down by gender, age, accent or recording quality.",
        "**Not for decisions about people.** The model estimates how an emotion is portrayed in a short utterance, "
        "not what someone feels. Do not use it to assess individuals (hiring, health, education, security).",
    ]
    notes = [f"{c.title}: {c.note}" for c in train_cards if c.note]
    if notes:
        items.append("**Corpus notes.** " + "; ".join(notes) + ".")
    return "\n".join(f"- {i}" for i in items)


def _langs(codes: list[str]) -> str:
    """'French (fr), Italian (it)' for language codes (unknown codes as given)."""
    return ", ".join(f"{_lang_name(c)} ({LANGUAGES[c].iso639_1})" if c in LANGUAGES else c for c in codes) or "none"


def _card_summary(metrics: dict, run: dict, init: str, random_init: bool, demo: bool) -> str:
    """The card's first paragraph: languages, backbone, headline scores, and the demo warning."""
    per_lang = metrics.get("metrics", {})
    verb = "trained from" if random_init else "fine-tuned from"
    summary = (
        f"A speech emotion recognition model for {_langs(list(run.get('train_languages', [])))}, {verb} "
        f"{init} with hf_ser (experiment `{metrics.get('run', run.get('name', ''))}`, {run.get('family', '')})."
    )
    if "all" in per_lang:
        summary += (
            f" On the held-out test splits it reaches {_pct(per_lang['all']['uar'])}% UAR and "
            f"{_pct(per_lang['all']['f1'])}% macro-F1 over {per_lang['all'].get('n', '?')} utterances."
        )
    if demo:
        summary += " **This is a demonstration model trained on synthetic speech: do not use it on real data.**"
    return summary


def _card_results(metrics: dict, run: dict, tests: dict[str, list[str]]) -> tuple[str, int]:
    """The per-language results table (UAR, present-class macro-F1, WA) and how many languages it lists."""
    per_lang, trained = metrics.get("metrics", {}), list(run.get("train_languages", []))
    rows = []
    for lang in run.get("eval_languages", []):
        m = per_lang.get(lang)
        if not m:
            continue
        corp = ", ".join(corpus_card(n).title for n in tests.get(lang, [])) or "not recorded"
        rows.append(
            [
                _lang_name(lang),
                LANGUAGES[lang].iso639_3 if lang in LANGUAGES else "",
                "yes" if lang in trained else "no (zero-shot)",
                corp,
                m.get("n", ""),
                _pct(m.get("uar")),
                _pct(m.get("f1")),
                _pct(m.get("wa")),
            ]
        )
    n_languages = len(rows)
    if "all" in per_lang:
        a = per_lang["all"]
        rows.append(
            ["**all (pooled)**", "", "", "", a.get("n", ""), _pct(a.get("uar")), _pct(a.get("f1")), _pct(a.get("wa"))]
        )
    table = _md_table(
        [
            "language",
            "ISO 639-3",
            "in training",
            "test corpora",
            "test utterances",
            "UAR (%)",
            "macro-F1 (%)",
            "WA (%)",
        ],
        rows,
    )
    return table, n_languages


def _card_corpora(metrics: dict, train_cards: list[CorpusCard]) -> str:
    """The training-corpora table with licences and Hub datasets, and the split sizes."""
    rows = [
        [
            f"[{c.title}]({c.url})" if c.url.startswith("http") else c.title,
            _lang_name(c.language) if c.language else "?",
            c.licence,
            f"[{c.hub_id}](https://huggingface.co/datasets/{c.hub_id})" if c.hub_id else "-",
        ]
        for c in train_cards
    ]
    text = (
        _md_table(["corpus", "language", "licence", "Hub dataset"], rows)
        if rows
        else "The training corpora were not recorded in metrics.json."
    )
    return text + (
        f"\n\n{metrics.get('train_size', '?')} training and {metrics.get('test_size', '?')} test "
        f"utterances in six classes; other classes of the corpora were left out."
    )


def _card_architecture(model_config: dict, init: str, backbone: dict) -> str:
    """The stock class, head and backbone (with the pretrained weights' licence) of the checkpoint."""
    cls = (model_config.get("architectures") or ["an audio-classification model"])[0]
    pooling = "a learned weighted sum of all layers, " if model_config.get("use_weighted_layer_sum") else ""
    return (
        f"`{cls}` ({backbone['family']} encoder, {pooling}per-frame linear projection to "
        f"{model_config.get('classifier_proj_size', 256)} dimensions, mean pooling over time, linear classifier), "
        f"initialised from {init}; backbone weights' licence: {backbone['licence']}"
    )


def _card_procedure(metrics: dict, run: dict) -> str:
    """How the uploaded weights were chosen: the run, its duration and the model-selection rule of its protocol."""
    selection = (metrics.get("protocol") or {}).get("model_selection", "last epoch")
    rule = (
        "the weights after the last epoch are the ones uploaded (no model selection on the test split)"
        if selection == "last epoch"
        else f"the uploaded weights were selected by {selection}, never on test"
    )
    return (
        f"One run (seed {run.get('seed')}) of the `{run.get('family', '')}` experiment, trained for "
        f"{metrics.get('train_seconds', '?')} s; {rule}. All settings are in `training_args.json`."
    )


def card_context(
    metrics: dict,
    tests: dict[str, list[str]],
    repo_id: str,
    model_config: dict | None = None,
    pipeline_check: str | None = None,
) -> dict[str, str]:
    """Template variables of ser_model_card.md (every value is final Markdown); `pipeline_check` is the
    :func:`pipeline_note` paragraph (default: not measured)."""
    config = metrics.get("config", {})
    run = config.get("run", metrics)
    data_cfg, model_cfg = config.get("data", {}), config.get("model", {})
    model_config = {**model_cfg, **(model_config or {})}
    versions = metrics.get("versions", {})
    backbone_name = model_cfg.get("model_name_or_path", "")
    _, init = _base_model(backbone_name)
    backbone = backbone_info(
        PretrainedConfig(hf_ser_backbone=backbone_name, model_type=model_config.get("model_type", "wav2vec2"))
    )
    train_corpora = metrics.get("train_corpora", [])
    train_cards = [corpus_card(n) for n in train_corpora]
    demo = is_demo_run(metrics)
    licence, licence_note = resolve_licence(train_corpora)
    trained, evaluated = list(run.get("train_languages", [])), list(run.get("eval_languages", []))
    results_table, n_languages = _card_results(metrics, run, tests)
    citations = [
        'The method follows F. A. Dal Rì, N. Garau, N. Conci, "Tackling cross-lingual generalization in '
        'speech emotion recognition via linguistic grouping: a spotlight on Neo-Latin languages".'
    ]
    citations += list(dict.fromkeys(c.citation for c in train_cards if c.citation))
    pp = PreprocessConfig()
    max_seconds = data_cfg.get("max_seconds", pp.max_seconds)
    intended = (
        "Research on speech emotion recognition: labelling or analysing short single-speaker utterances in the "
        "training languages, comparing languages and corpora, or a starting point for fine-tuning on new data. "
        "Inputs should be a few seconds of speech from one speaker; longer recordings are best cut into speech "
        "segments (`hf-ser predict --segment vad`)."
    )
    if demo:
        intended = (
            "Testing and demonstrating tooling (training, sharing and inference scripts) end to end. "
            "The model has no practical use on human speech."
        )
    return {
        "title": f"Speech emotion recognition: {repo_id.split('/')[-1]}",
        "summary": _card_summary(metrics, run, init, backbone_name in RANDOM_BACKBONES, demo),
        "architecture": _card_architecture(model_config, init, backbone),
        "trained_on": _langs(trained),
        "evaluated_on": _langs(evaluated) + f" (test split of each language, {n_languages} languages)",
        "licence_line": f"`{licence}` (see [Training data](#training-data))",
        "hf_ser_version": str(versions.get("hf_ser", "?")),
        "transformers_version": str(versions.get("transformers", "?")),
        "torch_version": str(versions.get("torch", "?")),
        "intended_use": intended,
        "repo_id": repo_id,
        "target_lufs": f"{pp.target_lufs:g}",
        "max_seconds": f"{max_seconds:g} s" if max_seconds else "no limit",
        "prepare_call": (
            "prepare_for_pipeline(wave, sr)"
            if max_seconds == pp.max_seconds
            else f"prepare_for_pipeline(wave, sr, max_seconds={max_seconds if max_seconds else None!r})"
        ),
        "pipeline_check": pipeline_check or pipeline_note(None, "not measured"),
        "labels_table": _md_table(["id", "label"], [[i, e] for i, e in enumerate(EMOTIONS)]),
        "corpora_table": _card_corpora(metrics, train_cards),
        "licence_note": licence_note,
        "split_protocol": _split_protocol(data_cfg, metrics),
        "training_procedure": _card_procedure(metrics, run),
        "hyperparameters": _hyperparameters(config, run),
        "results_intro": (
            "UAR is the unweighted average recall (the mean of the per-class recalls over the classes "
            "a language's test split has; chance is 16.7% with six). "
            "" + F1_DEFINITION[0].upper() + F1_DEFINITION[1:] + "; WA is plain "
            "accuracy, as SUPERB and EmoBox report it. Numbers come from one training seed; "
            "`hf-ser report` gives 95% bootstrap confidence intervals. Languages marked zero-shot were "
            "evaluated on their test split without any of their data in training. Per-class confusion "
            "matrices are in `metrics.json`."
        ),
        "results_table": results_table,
        "limitations": _limitations(run, train_cards, demo),
        "citations": "\n".join(f"- {c}" for c in citations),
    }


def _jinja_available() -> bool:
    return importlib.util.find_spec("jinja2") is not None


def render_template(template: str, card_data: ModelCardData, context: dict[str, str]) -> str:
    """Fill ``{{ name }}`` fields without Jinja (same output as Jinja for a template of plain variables)."""
    values = {**card_data.to_dict(), **context, "card_data": card_data.to_yaml()}

    def field(m: re.Match) -> str:
        if m.group(1) not in values:
            raise KeyError(f"{TEMPLATE_PATH.name}: no value for template field {m.group(1)!r}")
        return str(values[m.group(1)])

    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", field, template)
    return text[:-1] if text.endswith("\n") else text  # Jinja drops one trailing newline


def _model_config(run_dir: Path) -> dict:
    """The run's model/config.json as a dict (empty when unreadable: the card then says less, nothing breaks)."""
    try:
        return json.loads((run_dir / "model" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def build_model_card(run_dir: str | Path, repo_id: str, pipeline_files: int = PIPELINE_CHECK_FILES) -> ModelCard:
    """The model card of a finished run (metadata + prose), for the Hub repo `repo_id`.

    Up to `pipeline_files` of the run's test files are classified through plain ``pipeline()`` and through
    ``hf-ser predict`` (:func:`measure_pipeline_gap`), and the card states the UAR difference (0: not measured).
    """
    run_dir = find_run_dir(run_dir)
    metrics = _load_metrics(run_dir)
    tests = evaluation_corpora(run_dir, metrics)
    card_data = build_card_data(metrics, tests, repo_id.split("/")[-1])
    gap, note = measure_pipeline_gap(run_dir, pipeline_files)
    context = card_context(metrics, tests, repo_id, _model_config(run_dir), pipeline_note(gap, note))
    if _jinja_available():
        return ModelCard.from_template(card_data, template_path=str(TEMPLATE_PATH), **context)
    return ModelCard(render_template(TEMPLATE_PATH.read_text(encoding="utf-8"), card_data, context))


# ----------------------------------------------------------------------------- staging and upload


def _training_args(metrics: dict) -> dict:
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
    metrics = _load_metrics(run_dir)
    files = _model_files(run_dir)
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


# "The Hub could not be reached": huggingface_hub >= 2 talks to it through httpx2 (setup.cfg requires it).
NETWORK_ERRORS = (ConnectionError, TimeoutError, httpx2.TransportError)


def _login_hint() -> str:
    return (
        "log in with `hf auth login` (a token with write access from https://huggingface.co/settings/tokens) "
        "or set the HF_TOKEN environment variable"
    )


def _upload(api: HfApi, staged: Path, repo_id: str, private: bool, revision: str | None, message: str) -> str:
    url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    full_id = getattr(url, "repo_id", None) or repo_id
    if revision and revision != "main":
        api.create_branch(full_id, branch=revision, exist_ok=True, repo_type="model")
    info = api.upload_folder(
        repo_id=full_id,
        folder_path=str(staged),
        commit_message=message,
        revision=revision,
        repo_type="model",
        ignore_patterns=[STAGING_MARKER],
    )
    return str(getattr(info, "commit_url", None) or getattr(url, "url", None) or f"https://huggingface.co/{full_id}")


def push_run(
    run_dir: str | Path,
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
    dry_run: bool = False,
    output_dir: str | Path | None = None,
    api: HfApi | None = None,
    token: str | None = None,
    pipeline_files: int = PIPELINE_CHECK_FILES,
) -> Path | str:
    """Upload a finished run to `repo_id` in one commit and return the commit URL.

    With ``dry_run`` write the folder that would be uploaded to `output_dir` (default ``RUN_DIR/hub``) and return its
    path. `token` (kept in memory only) overrides the stored login. `pipeline_files`: test files the card's
    ``pipeline()`` check classifies (0: skip it; the card then says it was not measured).
    """
    run_dir = find_run_dir(run_dir)
    if not repo_id or repo_id.count("/") > 1 or not re.match(r"^[\w./-]+$", repo_id):
        raise HubError(f"--repo_id {repo_id!r} is not a Hub model id; use USER/NAME or ORG/NAME")
    if dry_run:
        return stage_run(run_dir, repo_id, Path(output_dir) if output_dir else run_dir / "hub", pipeline_files)
    metrics = _load_metrics(run_dir)
    _model_files(run_dir)  # fail on an incomplete run before asking about tokens
    if (token or get_token()) is None:
        raise HubError(
            f"no Hugging Face token found: {_login_hint()}. Nothing was uploaded; `--dry_run` shows what would be."
        )
    uar = metrics.get("metrics", {}).get("all", {}).get("uar")
    message = f"hf_ser: {metrics.get('run', run_dir.name)}" + (f" (UAR {_pct(uar)}%)" if uar is not None else "")
    api = api if api is not None else HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="hf_ser_push_") as tmp:
        try:
            if "/" not in repo_id:  # a bare name goes to the token owner's namespace, as create_repo would do
                repo_id = f"{api.whoami()['name']}/{repo_id}"
            staged = stage_run(run_dir, repo_id, Path(tmp) / "upload", pipeline_files)
            return _upload(api, staged, repo_id, private, revision, message)
        except LocalTokenNotFoundError:
            raise HubError(f"no Hugging Face token found: {_login_hint()}") from None
        except HfHubHTTPError as e:
            status = getattr(getattr(e, "response", None), "status_code", None)
            if status in (401, 403):
                raise HubError(
                    f"the Hub refused the upload to {repo_id} (HTTP {status}): the token is invalid, read-only, or "
                    f"may not write to the namespace {repo_id.split('/')[0]!r}; {_login_hint()}. "
                    f"The run folder {run_dir} is unchanged."
                ) from None
            raise HubUnreachable(
                f"the Hub answered HTTP {status} for {repo_id}: {e.server_message or e}. "
                f"The run folder {run_dir} is unchanged; try again later."
            ) from None
        except NETWORK_ERRORS as e:
            raise HubUnreachable(
                f"could not reach the Hugging Face Hub ({type(e).__name__}: {e}). Check the network or proxy, or unset "
                f"HF_HUB_OFFLINE. Nothing was uploaded and the run folder {run_dir} is unchanged; `--dry_run "
                "--output_dir DIR` "
                f"writes the upload folder, which `hf upload {repo_id} DIR` can send later."
            ) from None


def hub_repo_for_run(hub_model_id: str, run_name: str, n_runs: int) -> str:
    """Repo id for one run of a recipe: `hub_model_id` itself for a single run, `hub_model_id-RUN` otherwise."""
    return hub_model_id if n_runs == 1 else f"{hub_model_id}-{run_name}"


# ----------------------------------------------------------------------------- CLI


HUB_EXAMPLES = """examples:
  hf-ser hub push runs/demo/multi-neo_latin-seed0 --repo_id me/ser-demo --dry_run    # look first: nothing uploaded
  hf-ser hub push runs/demo/multi-neo_latin-seed0 --repo_id me/ser-demo --private    # after `hf auth login`
"""


@command
def main(argv: list[str] | None = None) -> int:
    """CLI entry point: 0 pushed (or staged), 1 the Hub could not be reached, 2 a user mistake."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = ArgumentParser(
        prog="hf-ser hub", description=__doc__.split("\n\n")[0], epilog=HUB_EXAMPLES, formatter_class=raw
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "push",
        help="upload a finished run (model, feature extractor, card, metrics) in one commit",
        description="Upload a finished run (model, feature extractor, model card, metrics) to the Hub in one commit.",
        epilog=HUB_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("run_dir", help="run folder <output_dir>/<run> holding metrics.json and model/")
    p.add_argument("--repo_id", required=True, help="USER/NAME or ORG/NAME on the Hub")
    p.add_argument("--private", action="store_true", help="create the repo as private")
    p.add_argument("--revision", default=None, help="branch to commit to (created if missing; default main)")
    p.add_argument("--dry_run", action="store_true", help="write the upload folder and list it; upload nothing")
    p.add_argument("--output_dir", default=None, help="with --dry_run: folder to write (default RUN_DIR/hub)")
    p.add_argument(
        "--pipeline_check",
        type=int,
        default=PIPELINE_CHECK_FILES,
        metavar="N",
        help="classify up to N of the run's test files through plain pipeline() and through hf-ser predict, and "
        f"state the UAR difference in the card (default {PIPELINE_CHECK_FILES}, a seeded sample above; 0 skips it)",
    )
    p.add_argument(
        "--space",
        action="store_true",
        help="with --dry_run: also stage a Gradio Space for the model in RUN_DIR/space (upload it with "
        "`hf upload USER/NAME RUN_DIR/space --repo-type space`)",
    )
    args = parser.parse_args(argv)
    if args.space and not args.dry_run:
        raise HubError("--space stages the Space folder with --dry_run; upload it yourself afterwards")
    setup_logging()
    try:
        result = push_run(
            args.run_dir,
            args.repo_id,
            private=args.private,
            revision=args.revision,
            dry_run=args.dry_run,
            output_dir=args.output_dir,
            pipeline_files=args.pipeline_check,
        )
    except HubUnreachable as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    if args.dry_run:
        print(f"dry run: would upload {result}/ to {args.repo_id} in one commit:")
        print(list_folder(result))
        if args.space:
            space = stage_space(args.repo_id, find_run_dir(args.run_dir) / "space")
            print(f"Space for {args.repo_id} staged in {display_path(space)}:")
            print(list_folder(space))
    else:
        print(f"uploaded {args.run_dir} to {args.repo_id}: {result}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
