"""``hf-ser evaluate MODEL --languages ... | --demo``: score an existing audio-classification model as it is.

Any checkpoint that ``AutoModelForAudioClassification`` loads (a Hub id or a folder) is run, without training,
on the package's test splits (:func:`~hf_ser.data.dataset.load_languages` + :func:`~.split_dataset` with the
same data flags as the recipes; ``--demo`` uses the synthetic corpus). Its ``id2label`` is mapped onto the six
emotions; the mapping is printed and can be overridden with ``--label_map '{"ang": "anger", "calm": "neutral"}'``
(a value of null drops a class). Common aliases are recognised (ang/angry, dis/disgusted, fea/fearful/afraid,
hap/happy/joy, neu, sad); ``calm`` is *not* neutral unless mapped.

Model classes outside the six (surprise, calm, contempt, ...): by default (``--unmapped renormalise``) their
probability is removed and the rest renormalised, so the prediction is the most probable *mapped* emotion;
with ``--unmapped miss`` an utterance whose top class is unmapped is predicted as "other", a miss for UAR (and,
as scikit-learn does for any predicted label, an extra class in macro-F1). Several model classes mapped to one
emotion add their probabilities. An emotion no model class maps to is never predicted (its utterances are misses).

Writes ``--output_dir/<name>/``: ``metrics.json`` (a :class:`hf_ser.train.runs.RunRecord`, family ``external``, shown
by ``hf-ser report`` as a Table 2 row), ``predictions.csv`` (six-emotion probabilities) and ``logits.npy`` (the
model's raw logits, rows in predictions.csv order, columns in its id2label order). ``<name>`` is the model's
folder (the run folder for a run's ``model/``) or ``external-ORG--NAME`` for a Hub id. The record says whether the
evaluation is zero-shot: only when the model is an hf_ser run whose training languages are known and none of them
is tested (``protocol.zero_shot`` true); a model trained on a tested language is "scored as is", and a model whose
training data is unknown says so (``zero_shot`` null).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
import sys
import typing
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

from hf_ser.console import ArgumentParser, check_local_folder, command, setup_logging
from hf_ser.data.audio import decode_wav
from hf_ser.data.dataset import DataArguments, DataMissing, load_languages, split_dataset
from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.errors import UserError
from hf_ser.labels import EMOTION_ALIASES, EMOTIONS, LANGUAGES, check_languages, study_languages
from hf_ser.metrics import confusion, per_language_metrics
from hf_ser.safe_io import display_path, safe_name
from hf_ser.train.modeling import padding_invariant
from hf_ser.train.runs import RunRecord, RunRecordError, config_hash, write_predictions
from hf_ser.train.sampling import length_sorted_order

logger = logging.getLogger("hf_ser.infer.evaluate")

# lower-case, letters only -> emotion; "calm" is deliberately absent (it is not neutral unless the user says so)
ALIASES = EMOTION_ALIASES  # the package's one alias table (hf_ser.labels)
UNMAPPED_POLICIES = ("renormalise", "miss")
OTHER = len(EMOTIONS)  # prediction index of "an unmapped class won" under --unmapped miss (paper: the six)


def _key(label: str) -> str:
    """'Happy ' -> 'happy', 'HAP' -> 'hap', '03-fearful' -> 'fearful' (letters only, lower case)."""
    return re.sub(r"[^a-z]", "", str(label).lower())


def _class_for(label: str, classes: Sequence[str]) -> str | None:
    """The class of `classes` a model label names: the same letters ('Happy' -> 'happy'), else the same emotion
    through ALIASES ('hap' -> 'happiness', and 'joy' -> a native 'happy' class); None when none matches."""
    key = _key(label)
    by_key = {_key(c): c for c in classes}
    if key in by_key:
        return by_key[key]
    emotion = ALIASES.get(key)
    if emotion is None:
        return None
    return next((c for c in classes if c == emotion or ALIASES.get(_key(c)) == emotion), None)


def default_label_map(model_labels: list[str], classes: Sequence[str] = EMOTIONS) -> dict[str, str | None]:
    """Model label -> one of `classes` (the run's label set; the six emotions by default) or None, by
    :func:`_class_for`; labels it does not know map to None."""
    return {label: _class_for(label, classes) for label in model_labels}


def resolve_label_map(
    model_labels: list[str], override: dict | str | None = None, classes: Sequence[str] = EMOTIONS
) -> dict[str, str | None]:
    """The default mapping with `override` (a dict or its JSON) applied; UserError on bad keys, values, or no mapping.

    Override keys are model labels (matched exactly, else case-insensitively); values are one of `classes` (the
    label set the model is scored on: the six emotions by default), an alias of one, or null to drop the class.
    """
    mapping = default_label_map(model_labels, classes)
    wanted = ("the six emotions" if list(classes) == list(EMOTIONS) else "the classes") + f" ({', '.join(classes)})"
    if isinstance(override, str):
        try:
            override = json.loads(override)
        except json.JSONDecodeError as e:
            raise UserError(f'--label_map is not valid JSON ({e}); e.g. \'{{"ang": "anger", "calm": null}}\'') from None
        if not isinstance(override, dict):
            raise UserError("--label_map must be a JSON object mapping model labels to emotions")
    by_lower = {str(l).lower(): l for l in model_labels}
    for key, value in (override or {}).items():
        label = key if key in mapping else by_lower.get(str(key).lower())
        if label is None:
            raise UserError(
                f"--label_map names {key!r}, which is not a label of the model; its labels: "
                f"{', '.join(map(str, model_labels))}"
            )
        if value is None:
            mapping[label] = None
            continue
        emotion = value if value in classes else _class_for(value, classes)
        if emotion is None:
            raise UserError(f"--label_map maps {key!r} to {value!r}, which is none of {wanted} nor null")
        mapping[label] = emotion
    if not any(mapping.values()):
        raise UserError(
            f"no class of the model maps to {wanted}; its labels: "
            f"{', '.join(map(str, model_labels))}. Map them with --label_map "
            f'\'{{"LABEL": "anger", ...}}\''
        )
    return mapping


def format_label_map(mapping: dict[str, str | None], policy: str, classes: Sequence[str] = EMOTIONS) -> str:
    """The mapping as printed: one line per model class, then the classes of the label set no model class covers."""
    lines = ["label mapping (model class -> emotion):"]
    for label, emotion in mapping.items():
        lines.append(f"  {label!s:>14} -> {emotion if emotion else '(unmapped: ' + policy + ')'}")
    uncovered = [e for e in classes if e not in mapping.values()]
    if uncovered:
        lines.append(
            f"  no model class for: {', '.join(uncovered)} (never predicted; their utterances count as misses)"
        )
    return "\n".join(lines)


def emotion_probabilities(
    logits: np.ndarray,
    model_labels: list[str],
    mapping: dict[str, str | None],
    policy: str = "renormalise",
    classes: Sequence[str] = EMOTIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities over `classes`, predicted index) from a model's logits (columns in id2label order).

    Softmax over the model's classes; probabilities of classes mapped to one class of the label set are added;
    unmapped ones are removed and the rest renormalised. The prediction is the most probable class, or
    len(classes) (OTHER for the six) under policy 'miss' when the model's own top class is unmapped.
    """
    logits = np.asarray(logits, dtype=np.float64)
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = z / z.sum(axis=1, keepdims=True)
    six = np.zeros((len(probs), len(classes)))
    for j, label in enumerate(model_labels):
        if mapping.get(label):
            six[:, list(classes).index(mapping[label])] += probs[:, j]
    six /= np.clip(six.sum(axis=1, keepdims=True), 1e-300, None)
    pred = six.argmax(axis=1)
    if policy == "miss":
        mapped = np.array([bool(mapping.get(label)) for label in model_labels])
        pred = np.where(mapped[logits.argmax(axis=1)], pred, len(classes))
    return six, pred


@dataclasses.dataclass(frozen=True)
class ModelOrigin:
    """Where an evaluated model comes from: the folder to load, the row's name, and the languages it was trained
    on when that is known (an hf_ser run folder's metrics.json), else None."""

    path: str
    name: str
    trained_on: list[str] | None


def model_origin(model: str) -> ModelOrigin:
    """The :class:`ModelOrigin` of a MODEL argument: a run folder, its model/ folder, another local folder or a Hub
    id. A path-looking value that is no folder is a UserError (never sent to the Hub)."""
    check_local_folder(model, "MODEL")
    p = Path(model).expanduser()
    if not p.is_dir():
        return ModelOrigin(model, safe_name(f"external-{model.rstrip('/').replace('/', '--')}"), None)
    if (p / "model" / "config.json").is_file() and not (p / "config.json").is_file():
        p = p / "model"
    run_dir = p.parent if p.name == "model" else p
    try:
        trained = RunRecord.load(run_dir).train_languages or None
    except RunRecordError:
        trained = None
    return ModelOrigin(str(p), safe_name(run_dir.resolve().name), trained)


def protocol_row(origin: ModelOrigin, tested: list[str]) -> tuple[bool | None, str]:
    """(zero_shot, the row's description): zero-shot only for a model known not to be trained on any tested
    language."""
    if origin.trained_on is None:
        return None, "existing model scored as is (its training languages unknown)"
    seen = sorted(set(origin.trained_on) & set(tested))
    if seen:
        return False, f"hf_ser model trained on {' '.join(origin.trained_on)}, scored as is"
    return True, f"hf_ser model trained on {' '.join(origin.trained_on)}, zero-shot on {' '.join(tested)}"


def load_external(model: str, device: str = "cpu"):
    """(model, feature extractor) of an audio-classification checkpoint, in eval mode; UserError when unloadable."""
    try:
        config = AutoConfig.from_pretrained(model)
        net = AutoModelForAudioClassification.from_pretrained(model, config=config)
        extractor = AutoFeatureExtractor.from_pretrained(model)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"cannot load {model!r} as an audio-classification model: {str(e).splitlines()[0]}") from None
    return net.to(device).eval(), extractor


def model_logits(net, extractor, waves: list[np.ndarray], batch_size: int = 8, device: str = "cpu") -> np.ndarray:
    """Logits of every waveform, preprocessed by the model's own extractor exactly as the pipeline does.

    Length-sorted batches when padding changes nothing (a fixed window, or an attention mask with a layer-norm
    feature encoder: :func:`hf_ser.train.modeling.padding_invariant`); one utterance at a time otherwise, so every
    utterance gets the logits the pipeline gives it alone.
    """
    sr = extractor.sampling_rate
    fixed = extractor.model_input_names[0] == "input_features"
    masked = bool(getattr(extractor, "return_attention_mask", False))
    size = batch_size if fixed or (masked and padding_invariant(net.config)) else 1
    order = length_sorted_order([len(w) for w in waves])
    out = np.zeros((len(waves), int(net.config.num_labels)), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            inputs = extractor(
                [waves[i] for i in idx], sampling_rate=sr, return_tensors="pt", **({} if fixed else {"padding": True})
            )
            out[idx] = net(**{k: v.to(device) for k, v in inputs.items()}).logits.float().cpu().numpy()
    return out


def add_data_flags(parser: ArgumentParser) -> None:
    """One flag per DataArguments field, typed from its resolved annotation (the recipes' data flags)."""
    hints = typing.get_type_hints(DataArguments)
    for f in dataclasses.fields(DataArguments):
        kind = hints[f.name]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if args and typing.get_origin(kind) is not list:  # X | None -> X
            kind = args[0]
        helptext = f.metadata.get("help")
        if kind is bool:
            parser.add_argument(f"--{f.name}", action="store_true", help=helptext)
        elif typing.get_origin(kind) is list:
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
            parser.add_argument(f"--{f.name}", nargs="+", default=default, help=helptext)
        else:
            parser.add_argument(f"--{f.name}", type=kind, default=f.default, help=helptext)


EXAMPLES = """examples:
  hf-ser evaluate --demo runs/demo/multi-neo_latin-seed0 --languages fr it
  hf-ser evaluate org/ser-model --languages French Spanish --data_root data --label_map '{"calm": null}'
"""


def build_parser() -> ArgumentParser:
    """The command's flags (data flags as in the recipes)."""
    p = ArgumentParser(
        prog="hf-ser evaluate",
        description=__doc__.split("\n\n")[0],
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "model", nargs="?", default=None, help="Hub id, run folder or folder of an audio-classification model"
    )
    p.add_argument("--model", dest="model_flag", default=None, help="same as the positional MODEL")
    p.add_argument(
        "--languages",
        nargs="+",
        default=None,
        help="languages to test: codes (FRE), ISO 639 codes (fr, fra) or English names (default: all with data)",
    )
    p.add_argument("--label_map", default=None, help="JSON object: model label -> emotion (or null to drop)")
    p.add_argument(
        "--unmapped",
        choices=UNMAPPED_POLICIES,
        default="renormalise",
        help="classes outside the six: renormalise over mapped classes (default) or count as misses",
    )
    p.add_argument(
        "--name", default=None, help="result folder name (default: the model's folder name, or external-ORG--NAME)"
    )
    p.add_argument("--output_dir", default="runs/external", help="folder receiving <name>/ (default runs/external)")
    p.add_argument("--batch_size", type=int, default=8, help="utterances per forward pass (default 8)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    add_data_flags(p)
    return p


def _details(
    model: str, origin: ModelOrigin, model_labels: list[str], mapping: dict[str, str | None], classes: list[str]
) -> dict:
    """The record's details of an evaluation: the model, its labels, the mapping, the classes no model class covers
    and, for a label set other than the six emotions, that set (RunRecord.labels reads it)."""
    return {
        "model": model,
        "model_train_languages": origin.trained_on,
        "model_labels": model_labels,
        "label_map": mapping,
        "uncovered_emotions": [e for e in classes if e not in mapping.values()],
        **({} if classes == list(EMOTIONS) else {"label_set": {"label_set": "asked", "classes": classes}}),
    }


def evaluate_model(
    model: str,
    languages: list[str],
    data_args: DataArguments,
    output_dir: str | Path,
    name: str | None = None,
    label_map: dict | str | None = None,
    unmapped: str = "renormalise",
    batch_size: int = 8,
    device: str | None = None,
) -> RunRecord:
    """Run `model` on the test splits of `languages`, print the mapping, save and return the run record."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    origin = model_origin(model)
    net, extractor = load_external(origin.path, device)
    model_labels = [str(net.config.id2label[i]) for i in range(int(net.config.num_labels))]
    if int(extractor.sampling_rate) != 16_000:
        raise UserError(f"{model!r} expects {extractor.sampling_rate} Hz audio; hf_ser prepares 16 kHz")
    try:
        ds, _ = load_languages(languages, data_args)
    except DataMissing as e:
        raise UserError(str(e)) from None
    classes = list(ds.features["label"].names)  # the asked --label_set (the six emotions by default)
    mapping = resolve_label_map(model_labels, label_map, classes)
    print(format_label_map(mapping, unmapped, classes))
    _, test, notes = split_dataset(ds, data_args)
    if len(test) == 0:
        raise UserError(f"no test utterance for {', '.join(languages)}")
    waves = [decode_wav(a) for a in test["audio"]]
    logits = model_logits(net, extractor, waves, batch_size, device)
    six, y_pred = emotion_probabilities(logits, model_labels, mapping, unmapped, classes)
    y_true = np.asarray(test["label"])
    langs = np.asarray(test["language"])
    metrics = per_language_metrics(y_true, y_pred, langs)
    name = name or origin.name
    tested = sorted(set(langs.tolist()), key=list(LANGUAGES).index)
    zero_shot, row = protocol_row(origin, tested)
    out = Path(output_dir) / name
    out.mkdir(parents=True, exist_ok=True)
    meta = {k: test[k] for k in ("path", "language", "corpus", "speaker", "label", "length")}
    config = {
        "model": model,
        "label_map": mapping,
        "unmapped": unmapped,
        "data": dataclasses.asdict(data_args),
        "languages": sorted(set(langs.tolist())),
    }
    record = RunRecord(
        run=name,
        family="external",
        name=name,
        train_languages=[],
        eval_languages=tested,
        metrics=metrics,
        confusion=confusion(y_true, y_pred, classes),
        confusion_by_language={
            l: confusion(y_true[langs == l], y_pred[langs == l], classes)["matrix"] for l in set(langs)
        },
        test_size=len(test),
        split_notes={l: notes.get(l) for l in set(langs)},
        config=config,
        config_hash=config_hash({**config, "data_fingerprint": data_fingerprint(meta)}),
        versions={"torch": torch.__version__},
        data_args=dataclasses.asdict(data_args),
        protocol={
            "zero_shot": zero_shot,
            "split": data_args.split,
            "test_size": data_args.test_size,
            "unmapped": unmapped,
            "row": row,
        },
        details=_details(model, origin, model_labels, mapping, classes),
    )
    record.save(out)
    write_predictions(out / "predictions.csv", meta, np.log(np.clip(six, 1e-12, None)), classes)
    np.save(out / "logits.npy", logits)
    return record


@command
def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    setup_logging()
    args = build_parser().parse_args(argv)
    model = args.model or args.model_flag
    if not model:
        raise UserError("give the model to evaluate: hf-ser evaluate MODEL --languages ... | --demo")
    fields = {f.name for f in dataclasses.fields(DataArguments)}
    data_args = DataArguments(**{k: v for k, v in vars(args).items() if k in fields})
    try:
        languages = check_languages(args.languages) if args.languages else study_languages()
    except ValueError as e:
        raise UserError(str(e)) from None
    record = evaluate_model(
        model,
        languages,
        data_args,
        args.output_dir,
        args.name,
        args.label_map,
        args.unmapped,
        args.batch_size,
        args.device,
    )
    cells = "  ".join(f"{l} {m['uar'] * 100:.1f}/{m['f1'] * 100:.1f}" for l, m in record.metrics.items())
    print(f"{record.run} (UAR/F1 %): {cells}")
    print(f"written: {display_path(Path(args.output_dir) / record.run)}/metrics.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
