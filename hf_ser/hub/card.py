"""The model card of a run: its YAML metadata (licence, base model, datasets, model-index), its sections in
Markdown, and the card rendered from ``model_cards/ser_model_card.md``."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from transformers import PretrainedConfig

from hf_ser.data.audio import PreprocessConfig
from hf_ser.hub.gap import PIPELINE_CHECK_FILES, PipelineGap, measure_pipeline_gap
from hf_ser.hub.licences import SYNTHETIC_PREFIX, CorpusCard, corpus_card, resolve_licence
from hf_ser.hub.run_folder import find_run_dir, load_metrics
from hf_ser.hub.scrub import is_hub_id, last_part
from hf_ser.labels import EMOTIONS, LANGUAGES, study_languages
from hf_ser.metrics import F1_DEFINITION
from hf_ser.train.modeling import RANDOM_BACKBONES, backbone_info

TEMPLATE_PATH = Path(str(resources.files("hf_ser"))) / "model_cards" / "ser_model_card.md"
TASK_NAME = "Speech Emotion Recognition"


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
        f"test files of the run): UAR {pct(gap.uar_raw)}% through `pipeline()` on the decoded audio as in the "
        f"first snippet, against {pct(gap.uar_prepared)}% with the training preparation (`prepare_for_pipeline`, "
        f"which is what `hf-ser predict` does); {gap.gap_points:+.1f} points for the preparation, and the two "
        f"gave the same label for {100 * gap.agreement:.0f}% of the files."
    )


def is_demo_run(metrics: dict) -> bool:
    """True for runs on the built-in synthetic corpus (``--demo``)."""
    names = metrics.get("train_corpora") or []
    return bool(metrics.get("config", {}).get("data", {}).get("demo")) or (
        bool(names) and all(n.startswith(SYNTHETIC_PREFIX) for n in names)
    )


def pct(x: float | None) -> str:
    """A fraction as a percentage with one decimal ('n/a' for None)."""
    return "n/a" if x is None else f"{100 * float(x):.1f}"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table of `rows` under `header` (pipes in cells escaped)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _lang_name(code: str) -> str:
    """The English name of a language code (an unknown code as given)."""
    return LANGUAGES[code].name if code in LANGUAGES else code


def _base_model(model_name: str) -> tuple[str | None, str]:
    """(Hub id of the backbone or None, how the card describes the initialisation)."""
    if model_name in RANDOM_BACKBONES:
        kind = "a tiny 3-layer wav2vec2 configuration" if model_name == "demo-tiny" else "the XLS-R 300M architecture"
        return None, f"{kind} with **random initial weights** (no pre-trained backbone, `{model_name}`)"
    if is_hub_id(model_name):
        return model_name, f"pre-trained [`{model_name}`](https://huggingface.co/{model_name})"
    return None, f"a local pre-trained checkpoint (`{last_part(model_name)}`), not a Hub model"


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
    """The card's table of training settings (optimiser, schedule, batch, loss, sampling, seed...)."""
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
    """How the train/test split was made (per-emotion or speaker-independent), with the per-language notes."""
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
    """The card's list of limitations (demo, acted emotions, confounds, languages, untested groups, corpus notes)."""
    trained = list(run.get("train_languages", []))
    missing = [LANGUAGES[c].name for c in study_languages() if c not in trained]
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
            f" On the held-out test splits it reaches {pct(per_lang['all']['uar'])}% UAR and "
            f"{pct(per_lang['all']['f1'])}% macro-F1 over {per_lang['all'].get('n', '?')} utterances."
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
                pct(m.get("uar")),
                pct(m.get("f1")),
                pct(m.get("wa")),
            ]
        )
    n_languages = len(rows)
    if "all" in per_lang:
        a = per_lang["all"]
        rows.append(
            ["**all (pooled)**", "", "", "", a.get("n", ""), pct(a.get("uar")), pct(a.get("f1")), pct(a.get("wa"))]
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


def card_labels(metrics: dict, model_config: dict | None = None) -> list[str]:
    """The model's classes in id order: its config's id2label, else the run's label set, else the six emotions."""
    id2label = (model_config or {}).get("id2label") or {}
    if id2label:
        return [str(id2label.get(str(i), id2label.get(i))) for i in range(len(id2label))]
    label_set = metrics.get("label_set")
    if isinstance(label_set, dict) and label_set.get("classes"):
        return [str(c) for c in label_set["classes"]]
    return [str(c) for c in (metrics.get("confusion") or {}).get("labels") or EMOTIONS]


def _classes_phrase(labels: list[str], emotion_word: bool = True) -> str:
    """'six emotion categories' for the paper's six (the card's wording before label sets), else 'N classes'."""
    if labels == list(EMOTIONS):
        return "six emotion categories" if emotion_word else "six classes"
    return f"{len(labels)} classes ({', '.join(labels)})"


def _chance(labels: list[str]) -> str:
    """'chance is 16.7% with six' (the paper's wording), or the chance level of the run's own classes."""
    if labels == list(EMOTIONS):
        return "chance is 16.7% with six"
    return f"chance is {100 / len(labels):.1f}% with {len(labels)}"


def _card_corpora(metrics: dict, train_cards: list[CorpusCard], labels: list[str] = EMOTIONS) -> str:
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
        f"utterances in {_classes_phrase(list(labels), False)}; other classes of the corpora were left out."
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


def _citations(train_cards: list[CorpusCard]) -> list[str]:
    """The card's citations: the method's paper, then each training corpus's citation once, in corpus order."""
    citations = [
        'The method follows F. A. Dal Rì, N. Garau, N. Conci, "Tackling cross-lingual generalization in '
        'speech emotion recognition via linguistic grouping: a spotlight on Neo-Latin languages".'
    ]
    citations += list(dict.fromkeys(c.citation for c in train_cards if c.citation))
    return citations


def _intended_use(demo: bool) -> str:
    """The card's intended-use paragraph (a demo checkpoint only tests tooling)."""
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
    return intended


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
    labels = card_labels(metrics, model_config)
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
    citations = _citations(train_cards)
    pp = PreprocessConfig()
    max_seconds = data_cfg.get("max_seconds", pp.max_seconds)
    intended = _intended_use(demo)
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
        "labels_table": _md_table(["id", "label"], [[i, e] for i, e in enumerate(labels)]),
        "classes_phrase": _classes_phrase(labels),
        "corpora_table": _card_corpora(metrics, train_cards, labels),
        "licence_note": licence_note,
        "split_protocol": _split_protocol(data_cfg, metrics),
        "training_procedure": _card_procedure(metrics, run),
        "hyperparameters": _hyperparameters(config, run),
        "results_intro": (
            "UAR is the unweighted average recall (the mean of the per-class recalls over the classes "
            f"a language's test split has; {_chance(labels)}). "
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
    """True when jinja2 is installed (ModelCard.from_template needs it)."""
    return importlib.util.find_spec("jinja2") is not None


def render_template(template: str, card_data: ModelCardData, context: dict[str, str]) -> str:
    """Fill ``{{ name }}`` fields without Jinja (same output as Jinja for a template of plain variables)."""
    values = {**card_data.to_dict(), **context, "card_data": card_data.to_yaml()}

    def field(m: re.Match) -> str:
        """The value of one ``{{ name }}`` field; KeyError naming a field the context lacks."""
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
    metrics = load_metrics(run_dir)
    tests = evaluation_corpora(run_dir, metrics)
    card_data = build_card_data(metrics, tests, repo_id.split("/")[-1])
    gap, note = measure_pipeline_gap(run_dir, pipeline_files)
    context = card_context(metrics, tests, repo_id, _model_config(run_dir), pipeline_note(gap, note))
    if _jinja_available():
        return ModelCard.from_template(card_data, template_path=str(TEMPLATE_PATH), **context)
    return ModelCard(render_template(TEMPLATE_PATH.read_text(encoding="utf-8"), card_data, context))
