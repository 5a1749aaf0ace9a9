"""hf_ser.infer.evaluate: label mapping of foreign label sets, metrics equal to a reference from the same logits."""

import json
import re

import numpy as np
import pytest
import torch
from transformers import pipeline

from hf_ser.data.audio import decode_wav
from hf_ser.data.dataset import DataArguments, load_languages, split_dataset
from hf_ser.errors import UserError
from hf_ser.infer import evaluate as E
from hf_ser.labels import EMOTIONS
from hf_ser.metrics import per_language_metrics
from hf_ser.train.modeling import feature_extractor, tiny_config
from hf_ser.train.runs import RunRecord, read_predictions

# eight classes in an unusual order, with names that differ from ours, calm and surprised among them
EIGHT = ["surprised", "Sad", "calm", "ANGRY", "fearful", "neutral", "joy", "disgusted"]


def _checkpoint(folder, labels, seed=0):
    """A tiny random wav2vec2 audio classifier with `labels` saved in `folder` (local, no download)."""
    from transformers import Wav2Vec2ForSequenceClassification

    torch.manual_seed(seed)
    config = tiny_config("wav2vec2")
    config.num_labels = len(labels)
    config.id2label = dict(enumerate(labels))
    config.label2id = {l: i for i, l in enumerate(labels)}
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    feature_extractor().save_pretrained(folder)
    return str(folder)


def test_default_mapping_aliases_and_calm():
    m = E.resolve_label_map(EIGHT)
    assert m == {
        "surprised": None,
        "Sad": "sadness",
        "calm": None,
        "ANGRY": "anger",
        "fearful": "fear",
        "neutral": "neutral",
        "joy": "happiness",
        "disgusted": "disgust",
    }
    assert E.resolve_label_map(["ang", "hap", "neu", "sad", "fea", "dis"]) == dict(
        zip(["ang", "hap", "neu", "sad", "fea", "dis"], ["anger", "happiness", "neutral", "sadness", "fear", "disgust"])
    )
    over = E.resolve_label_map(EIGHT, '{"calm": "neutral", "neutral": "neutral", "joy": null}')
    assert over["calm"] == "neutral" and over["joy"] is None


def test_bad_maps_are_user_errors_naming_labels():
    with pytest.raises(UserError, match="LABEL_0, LABEL_1"):
        E.resolve_label_map(["LABEL_0", "LABEL_1"])
    with pytest.raises(UserError, match="not a label of the model.*surprised"):
        E.resolve_label_map(EIGHT, {"boredom": "neutral"})
    with pytest.raises(UserError, match="none of the six"):
        E.resolve_label_map(EIGHT, {"calm": "relaxed"})
    with pytest.raises(UserError, match="valid JSON"):
        E.resolve_label_map(EIGHT, "{calm: neutral}")


def test_probabilities_renormalise_and_miss():
    logits = np.log(np.array([[0.45, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]]))  # 'surprised' wins
    m = E.resolve_label_map(EIGHT)
    six, pred = E.emotion_probabilities(logits, EIGHT, m, "renormalise")
    assert (
        abs(six.sum() - 1) < 1e-9
        and EMOTIONS[pred[0]] == "sadness"
        and abs(six[0, EMOTIONS.index("sadness")] - 0.15 / 0.45) < 1e-9
    )
    _, pred = E.emotion_probabilities(logits, EIGHT, m, "miss")
    assert pred[0] == E.OTHER
    both = E.resolve_label_map(EIGHT, {"calm": "neutral"})  # two classes on one emotion add up
    six, _ = E.emotion_probabilities(logits, EIGHT, both)
    assert abs(six[0, EMOTIONS.index("neutral")] - 0.15 / 0.55) < 1e-9


def test_eight_class_checkpoint_on_demo_split(tmp_path, hf_ser_cache, capsys, one_torch_thread):
    """Printed mapping is right; metrics and predictions equal a reference computed from the saved logits."""
    model = _checkpoint(tmp_path / "eight", EIGHT)
    code = E.main(
        [
            model,
            "--demo",
            "--languages",
            "FRE",
            "ITA",
            "--synthetic_per_cell",
            "4",
            "--output_dir",
            str(tmp_path / "out"),
            "--name",
            "eight",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "surprised -> (unmapped: renormalise)" in text and "calm -> (unmapped: renormalise)" in text
    assert "ANGRY -> anger" in text and "joy -> happiness" in text and "disgusted -> disgust" in text
    run = tmp_path / "out" / "eight"
    rec = RunRecord.load(run)
    assert rec.family == "external" and rec.train_languages == [] and set(rec.eval_languages) == {"FRE", "ITA"}
    logits = np.load(run / "logits.npy")
    preds = read_predictions(run)
    # reference: softmax over the model's 8 classes, keep the six mapped ones in our order, argmax
    ref_cols = [EIGHT.index(n) for n in ("ANGRY", "disgusted", "fearful", "joy", "neutral", "Sad")]
    ref_pred = logits[:, ref_cols].argmax(1)
    np.testing.assert_array_equal(preds["y_pred"].to_numpy(), ref_pred)
    ref = per_language_metrics(preds["y_true"].to_numpy(), ref_pred, preds["language"].to_numpy())
    assert rec.metrics == json.loads(json.dumps(ref))
    # logits are the model's own on its extractor's input, utterance by utterance (no mask -> no batching)
    clf = pipeline("audio-classification", model=model, device="cpu")
    args = DataArguments(**rec.data_args)
    _, test, _ = split_dataset(load_languages(["FRE", "ITA"], args)[0], args)
    out = clf({"raw": decode_wav(test[0]["audio"]), "sampling_rate": 16000}, top_k=None)
    probs = torch.softmax(torch.as_tensor(logits[0]), -1)
    assert abs(max(o["score"] for o in out) - float(probs.max())) < 1e-5


def test_model_without_emotion_classes_is_a_user_error(tmp_path, hf_ser_cache, capsys):
    model = _checkpoint(tmp_path / "lid", ["en", "fr", "de"])
    argv = [model, "--demo", "--languages", "FRE", "--synthetic_per_cell", "2", "--output_dir", str(tmp_path)]
    assert E.main(argv) == 2  # one line, exit 2, as from the shell
    assert re.search(r"error: no class of the model maps.*en, fr, de", capsys.readouterr().err)


def test_a_local_model_is_named_by_its_folder_and_zero_shot_only_when_known(tmp_path):
    """A run's model/ gives the run folder's name; a model trained on a tested language is not "zero-shot"."""
    run = tmp_path / "runs" / "multi-neo_latin-seed0"
    (run / "model").mkdir(parents=True)
    (run / "model" / "config.json").write_text("{}")
    metrics = {"all": {"uar": 0.5, "f1": 0.5}, "FRE": {"uar": 0.5, "f1": 0.5}}
    record = {"run": run.name, "family": "multilingual", "train_languages": ["FRE", "ITA"], "metrics": metrics}
    (run / "metrics.json").write_text(json.dumps(record))
    for given in (run, run / "model"):
        origin = E.model_origin(str(given))
        assert origin.name == "multi-neo_latin-seed0" and origin.path == str(run / "model")
        assert origin.trained_on == ["FRE", "ITA"]
    assert E.protocol_row(origin, ["FRE"]) == (False, "hf_ser model trained on FRE ITA, scored as is")
    assert E.protocol_row(origin, ["SPA"])[0] is True and "zero-shot on SPA" in E.protocol_row(origin, ["SPA"])[1]
    other = tmp_path / "downloaded"
    other.mkdir()
    assert E.model_origin(str(other)).name == "downloaded" and E.model_origin(str(other)).trained_on is None
    assert E.protocol_row(E.model_origin(str(other)), ["FRE"])[0] is None
    assert E.model_origin("org/name").name == "external-org--name"
    with pytest.raises(UserError, match="MODEL /no/such/model: the folder does not exist"):
        E.model_origin("/no/such/model")


def test_label_mapping_onto_an_asked_label_set():
    """An external model's classes map onto the run's classes: by name, else by emotion through the aliases."""
    four = ["anger", "happiness", "neutral", "sadness"]
    model = ["Angry", "joy", "calm", "sad", "fearful"]
    assert E.resolve_label_map(model, None, four) == {
        "Angry": "anger",
        "joy": "happiness",
        "calm": None,
        "sad": "sadness",
        "fearful": None,
    }
    native = ["angry", "happy", "sad", "calm"]  # a RAVDESS-native run's own names
    assert E.resolve_label_map(model, '{"fearful": null}', native) == {
        "Angry": "angry",
        "joy": "happy",
        "calm": "calm",
        "sad": "sad",
        "fearful": None,
    }
    with pytest.raises(UserError, match=r"none of the classes \(anger, happiness, neutral, sadness\)"):
        E.resolve_label_map(model, '{"calm": "boredom"}', four)
    mapping = E.resolve_label_map(model, None, four)
    probs, pred = E.emotion_probabilities(np.log([[0.1, 0.2, 0.5, 0.1, 0.1]]), model, mapping, "miss", four)
    assert probs.shape == (1, 4) and pred.tolist() == [4]  # calm won: a miss, outside the four
    assert np.allclose(probs[0], [0.25, 0.5, 0.0, 0.25])
