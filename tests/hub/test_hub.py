"""Tests for hf_ser.hub: the model card, the staged upload folder, and the push and its failures (no network)."""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import re
import shutil
import socket
import threading
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest
import soundfile as sf
import soxr
import torch
from huggingface_hub import HfApi, ModelCard, metadata_load
from transformers import pipeline

from hf_ser.data.audio import AudioError, PreprocessConfig, prepare_for_pipeline, preprocess
from hf_ser.data.corpora.synthetic.build import build_synthetic_corpus
from hf_ser.errors import UserError
from hf_ser.hub.__main__ import main
from hf_ser.hub.card import build_model_card
from hf_ser.hub.errors import HubError, HubUnreachable
from hf_ser.hub.gap import _raw_pipeline_input, measure_pipeline_gap
from hf_ser.hub.licences import corpus_card, resolve_licence
from hf_ser.hub.push import hub_repo_for_run, push_run
from hf_ser.hub.scrub import scrub_paths
from hf_ser.infer.predict.model import load_classifier
from hf_ser.infer.predict.predictor import classify
from hf_ser.labels import CORPORA, EMOTIONS, LANGUAGES
from hf_ser.metrics import uar
from hf_ser.train.modeling import build_model
from hf_ser.train.runs import read_predictions

NEO = ["FRE", "ITA", "POR", "ROM", "SPA"]
FAKE_TOKEN = "hf_FakeTokenForTests0123456789abcdef"
STAGED_FILES = {
    ".hf_ser-staging",
    "README.md",
    "config.json",
    "model.safetensors",
    "preprocessor_config.json",
    "metrics.json",
    "training_args.json",
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A demo-tiny checkpoint saved as Trainer.save_model does (model + feature extractor + training_args.bin)."""
    out = tmp_path_factory.mktemp("template") / "model"
    torch.manual_seed(0)
    model, extractor = build_model("demo-tiny")
    model.save_pretrained(out)
    extractor.save_pretrained(out)
    (out / "training_args.bin").write_bytes(b"pickled TrainingArguments with output_dir=/home/someone/runs")
    return out


def make_run(
    root: Path,
    model_dir: Path,
    name: str = "multi-neo_latin-seed0",
    family: str = "multilingual",
    train: list[str] = NEO,
    evals: list[str] | None = None,
    corpora: list[str] | None = None,
    backbone: str = "demo-tiny",
    demo: bool = True,
    heldout: str | None = None,
) -> Path:
    """A finished run folder as the recipe writes it, with local absolute paths in its config and predictions."""
    evals = evals or train
    corpora = corpora or [f"synth_{l.lower()}" for l in train]
    run = root / name
    shutil.copytree(model_dir, run / "model")
    per_lang = {l: {"uar": 0.5 + 0.05 * i, "f1": 0.45 + 0.05 * i, "n": 12} for i, l in enumerate(evals)}
    per_lang["all"] = {"uar": 0.61, "f1": 0.58, "n": 12 * len(evals)}
    run_info = {
        "name": name.rsplit("-seed", 1)[0],
        "family": family,
        "train_languages": train,
        "eval_languages": evals,
        "group": "neo_latin",
        "heldout_language": heldout,
        "seed": 0,
    }
    metrics = {
        **run_info,
        "run": name,
        "metrics": per_lang,
        "confusion": {"labels": list(EMOTIONS), "matrix": [[2] * 6 for _ in range(6)]},
        "train_size": 120,
        "test_size": 12 * len(evals),
        "train_corpora": corpora,
        "split_notes": {l: "stratified per emotion, random utterances" for l in set(train) | set(evals)},
        "train_loss": 1.5,
        "train_seconds": 8.1,
        "config": {
            "run": run_info,
            "model": {
                "model_name_or_path": backbone,
                "classifier_proj_size": 256,
                "attn_implementation": "sdpa",
                "freeze_feature_encoder": False,
                "layerdrop": None,
            },
            "data": {
                "data_root": str(root / "corpora"),
                "corpora": [str(root / "manifests" / "red.csv")],
                "cache_dir": str(root / "cache"),
                "split": "paper",
                "test_size": 0.3,
                "split_seed": 0,
                "max_seconds": 20.0,
                "num_proc": None,
                "demo": demo,
                "synthetic_per_cell": 6,
                "lineage_shift": 0.0,
            },
            "ser": {
                "experiment": family,
                "groups": ["neo_latin"],
                "contrastive_weight": 0.1,
                "temperature": 0.07,
                "class_weighting": True,
                "corpus_weighting": True,
                "balanced_sampling": True,
                "length_window": 16,
                "augment": True,
                "mixed_precision": "no",
                "pad_to_multiple_of": None,
            },
            "training": {
                "learning_rate": 0.001,
                "weight_decay": 1e-05,
                "per_device_train_batch_size": 16,
                "gradient_accumulation_steps": 1,
                "max_grad_norm": 1.0,
                "num_train_epochs": 1.0,
                "warmup_steps": 0.1,
                "lr_scheduler_type": "cosine",
                "fp16": False,
                "bf16": False,
                "optim": "adamw_torch_fused",
            },
        },
        "config_hash": "e28b85be5accecc0",
        "versions": {"hf_ser": "0.1.0", "transformers": "5.24.0", "torch": "2.13.0+cpu", "python": "3.11.7"},
    }
    (run / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    by_lang = {l: [c for c in corpora if corpus_card(c).language == l] or [corpora[0]] for l in evals}
    with (run / "predictions.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "language", "corpus", "speaker", "label", "pred"])
        for l in evals:
            for c in by_lang[l]:
                w.writerow([str(root / "cache" / c / "a.wav"), l, c, "spk1", "anger", "anger"])
    return run


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below `folder`."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_no_local_path(text: str, root: Path) -> None:
    assert str(root) not in text
    assert "/home/" not in text and "/tmp/" not in text


# ----------------------------------------------------------------------------- licences and paths


@pytest.mark.parametrize(
    "corpora, expected",
    [
        (["oreau", "emozionalmente"], "cc-by-4.0"),
        (["oreau", "cafe"], "cc-by-nc-sa-4.0"),
        (["resd"], "mit"),
        (["resd", "subesco"], "cc-by-4.0"),
        (["crema_d"], "odbl"),
        (["crema_d", "cafe"], "other"),  # two different share-alike licences
        (["mesd", "emofilm"], "other"),  # research-only EULA
        (["red"], "other"),  # licence unknown
        (["emovdb", "oreau"], "other"),  # EmoV-DB's own non-commercial licence
        (["turevdb"], "other"),  # CC-BY-NC-ND-4.0: no derivatives, no Hub id of ours
        (["my_own_manifest"], "other"),  # not in the registry
        (["synth_fre", "synth_ita"], "apache-2.0"),
    ],
)
def test_resolve_licence_takes_the_most_restrictive(corpora, expected):
    licence, note = resolve_licence(corpora)
    assert licence == expected
    assert f"`{expected}`" in note


def test_scrub_paths_keeps_names_and_hub_ids_only():
    cfg = {
        "data": {
            "data_root": "/home/u/corpora",
            "cache_dir": "~/cache/hf_ser",
            "corpora": ["/x/y/red.csv", "cafe"],
            "split": "paper",
        },
        "model": {"model_name_or_path": "facebook/wav2vec2-xls-r-300m"},
        "other": {
            "model_name_or_path": "/models/xlsr-local",
            "note": "70/30 split",
            "predictions": "runs/a/p.csv",
            "win": "C:\\Users\\me\\data",
        },
    }
    out = scrub_paths(cfg)
    assert out["data"] == {
        "data_root": "corpora",
        "cache_dir": "hf_ser",
        "corpora": ["red.csv", "cafe"],
        "split": "paper",
    }
    assert out["model"]["model_name_or_path"] == "facebook/wav2vec2-xls-r-300m"
    assert out["other"] == {
        "model_name_or_path": "xlsr-local",
        "note": "70/30 split",
        "predictions": "p.csv",
        "win": "data",
    }


# ----------------------------------------------------------------------------- model card


def test_demo_card_metadata_round_trips_and_says_random_init(tmp_path, model_dir):
    run = make_run(tmp_path, model_dir)
    card = build_model_card(run, "someone/ser-demo")
    path = tmp_path / "README.md"
    card.save(path)
    expected = card.data.to_dict()
    assert ModelCard.load(path).data.to_dict() == expected
    assert metadata_load(path) == expected
    assert expected["language"] == [LANGUAGES[l].iso639_1 for l in NEO]
    assert expected["license"] == "apache-2.0"
    assert expected["library_name"] == "transformers"
    assert expected["pipeline_tag"] == "audio-classification"
    assert "speech-emotion-recognition" in expected["tags"] and "demo" in expected["tags"]
    assert "base_model" not in expected and "datasets" not in expected
    text = path.read_text(encoding="utf-8")
    assert "random initial weights" in text and "demonstration model" in text
    assert all(e in text for e in EMOTIONS)
    assert "someone/ser-demo" in text
    assert_no_local_path(text, tmp_path)


def test_card_model_index_has_uar_and_f1_per_evaluated_language(tmp_path, model_dir):
    run = make_run(tmp_path, model_dir)
    metrics = json.loads((run / "metrics.json").read_text())
    card = build_model_card(run, "someone/ser-demo")
    index = card.data.to_dict()["model-index"]
    assert len(index) == 1 and index[0]["name"] == "ser-demo"
    results = index[0]["results"]
    assert len(results) == len(NEO)
    for lang, result in zip(NEO, results):
        assert result["task"]["type"] == "audio-classification"
        assert result["dataset"]["split"] == "test"
        assert result["dataset"]["config"] == LANGUAGES[lang].iso639_3
        assert LANGUAGES[lang].name in result["dataset"]["name"]
        values = {m["type"]: m["value"] for m in result["metrics"]}
        assert values == {
            "recall": round(metrics["metrics"][lang]["uar"], 4),
            "f1": round(metrics["metrics"][lang]["f1"], 4),
        }
        assert {m["name"] for m in result["metrics"]} == {"UAR (unweighted average recall)", "Macro F1"}
    # the prose table repeats the numbers in percent
    assert "| French | fra | yes | hf_ser synthetic corpus, French part | 12 | 50.0 | 45.0 |" in str(card)


def test_card_for_real_corpora_names_base_model_licence_and_citations(tmp_path, model_dir):
    run = make_run(
        tmp_path,
        model_dir,
        corpora=["oreau", "cafe", "emozionalmente", "mesd"],
        train=["FRE", "ITA", "SPA"],
        backbone="facebook/wav2vec2-xls-r-300m",
        demo=False,
    )
    card = build_model_card(run, "org/xlsr-ser-neo-latin")
    data = card.data.to_dict()
    assert data["base_model"] == "facebook/wav2vec2-xls-r-300m"
    assert data["license"] == "cc-by-nc-sa-4.0"  # CaFE is CC-BY-NC-SA
    assert data["language"] == ["fr", "it", "es"]
    assert "datasets" not in data  # none of these corpora is on the Hub
    text = str(card)
    assert "demo" not in data["tags"] and "demonstration" not in text
    for name in ("oreau", "cafe", "emozionalmente", "mesd"):
        assert CORPORA[name].citation in text and CORPORA[name].licence in text
    assert "CaFE: Canadian French Emotional speech dataset, Oréau French emotional speech database" in text  # FRE test
    assert "Portuguese, Romanian" in text  # languages not covered
    assert_no_local_path(text, tmp_path)


def test_card_for_cross_group_run_marks_zero_shot_languages(tmp_path, model_dir):
    run = make_run(
        tmp_path,
        model_dir,
        name="xgroup-others-minus-CHI-seed0",
        family="cross_group",
        train=["BEN", "RUS"],
        evals=["CHI", "BEN", "RUS"],
        corpora=["subesco", "resd"],
        backbone="facebook/wav2vec2-xls-r-300m",
        demo=False,
        heldout="CHI",
    )
    card = build_model_card(run, "org/xgroup")
    data = card.data.to_dict()
    assert data["language"] == ["bn", "ru"]  # training languages only
    assert data["datasets"] == ["Aniemore/resd", "sajid73/SUBESCO-audio-dataset"]
    assert data["license"] == "cc-by-4.0"  # CC-BY-4.0 + MIT
    results = {r["dataset"]["config"]: r for r in data["model-index"][0]["results"]}
    assert set(results) == {"cmn", "ben", "rus"}
    assert "not seen in training" in results["cmn"]["dataset"]["name"]
    assert "not seen in training" not in results["ben"]["dataset"]["name"]
    assert results["ben"]["dataset"]["type"] == "sajid73/SUBESCO-audio-dataset"
    assert "| Mandarin Chinese | cmn | no (zero-shot) |" in str(card)


def test_card_without_jinja_is_identical(tmp_path, model_dir, monkeypatch):
    run = make_run(tmp_path, model_dir)
    with_jinja = str(build_model_card(run, "someone/ser-demo"))
    monkeypatch.setattr("hf_ser.hub.card._jinja_available", lambda: False)
    assert str(build_model_card(run, "someone/ser-demo")) == with_jinja


def test_licence_other_ships_terms_file(tmp_path, model_dir):
    run = make_run(
        tmp_path,
        model_dir,
        corpora=["mesd", "emofilm"],
        train=["SPA"],
        demo=False,
        backbone="facebook/wav2vec2-xls-r-300m",
    )
    staged = push_run(run, "org/spa", dry_run=True)
    data = ModelCard.load(staged / "README.md").data.to_dict()
    assert data["license"] == "other" and data["license_link"] == "LICENSE.md"
    terms = (staged / "LICENSE.md").read_text()
    assert "EULA (research only)" in terms and "EmoFilm" in terms


# ----------------------------------------------------------------------------- dry run


def test_dry_run_folder_loads_offline_with_stock_transformers(tmp_path, model_dir, monkeypatch):
    run = make_run(tmp_path, model_dir)
    before = snapshot(run)
    staged = push_run(run, "someone/ser-demo", dry_run=True)
    assert staged == run / "hub"
    assert {p.name for p in staged.iterdir()} == STAGED_FILES
    after = snapshot(run)
    assert {k: v for k, v in after.items() if not k.startswith("hub/")} == before  # run folder untouched

    # metrics.json and training_args.json: complete but without local paths
    metrics = json.loads((staged / "metrics.json").read_text())
    original = json.loads((run / "metrics.json").read_text())
    assert metrics["metrics"] == original["metrics"] and metrics["confusion"] == original["confusion"]
    assert metrics["config"]["data"]["data_root"] == "corpora" and metrics["config"]["data"]["cache_dir"] == "cache"
    args = json.loads((staged / "training_args.json").read_text())
    assert args["training"] == original["config"]["training"] and args["run"]["seed"] == 0
    for name in STAGED_FILES - {"model.safetensors"}:
        assert_no_local_path((staged / name).read_text(encoding="utf-8"), tmp_path)

    # the consumer side: transformers only, offline
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForAudioClassification, pipeline

    model = AutoModelForAudioClassification.from_pretrained(staged).eval()
    reference = AutoModelForAudioClassification.from_pretrained(run / "model").eval()
    wave = torch.randn(1, 8000)
    with torch.no_grad():
        assert torch.allclose(model(wave).logits, reference(wave).logits)
    classifier = pipeline("audio-classification", model=str(staged), device="cpu")
    out = classifier({"raw": wave[0].numpy(), "sampling_rate": 16000}, top_k=None)
    assert sorted(o["label"] for o in out) == sorted(EMOTIONS)
    card = ModelCard.load(staged / "README.md")
    langs = {r.dataset_config for r in card.data.eval_results}
    assert langs == {LANGUAGES[l].iso639_3 for l in NEO}
    assert {(r.dataset_config, r.metric_type) for r in card.data.eval_results} == {
        (LANGUAGES[l].iso639_3, m) for l in NEO for m in ("recall", "f1")
    }


def test_cli_dry_run_lists_and_replaces_its_own_folder(tmp_path, model_dir, capsys):
    run = make_run(tmp_path, model_dir)
    out = tmp_path / "upload"
    assert main(["push", str(run), "--repo_id", "someone/ser-demo", "--dry_run", "--output_dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in STAGED_FILES - {".hf_ser-staging"})
    first = snapshot(out)
    assert (
        main(["push", str(run / "model"), "--repo_id", "someone/ser-demo", "--dry_run", "--output_dir", str(out)]) == 0
    )
    assert snapshot(out) == first  # same folder, rebuilt, from RUN_DIR/model too
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("mine")
    assert main(["push", str(run), "--repo_id", "someone/ser-demo", "--dry_run", "--output_dir", str(foreign)]) == 2
    assert "not an earlier hf_ser staging folder" in capsys.readouterr().err
    assert (foreign / "todo.txt").read_text() == "mine"


def test_incomplete_runs_are_refused_with_the_fix(tmp_path, model_dir):
    with pytest.raises(UserError, match="metrics.json not found"):
        push_run(tmp_path, "someone/x", dry_run=True)
    run = make_run(tmp_path, model_dir)
    (run / "model" / "preprocessor_config.json").unlink()
    with pytest.raises(HubError, match="preprocessor_config.json is missing"):
        push_run(run, "someone/x", dry_run=True)
    with pytest.raises(HubError, match="not a Hub model id"):
        push_run(run, "a/b/c", dry_run=True)


# ----------------------------------------------------------------------------- push


class RecordingApi:
    """Stands in for HfApi at the network boundary: records calls and a copy of the uploaded folder."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.uploaded: dict[str, bytes] = {}

    def whoami(self):
        self.calls.append(("whoami", {}))
        return {"name": "someone", "type": "user"}

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return huggingface_hub.RepoUrl(f"https://huggingface.co/{repo_id}")

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        folder = Path(kwargs["folder_path"])
        self.uploaded = {p.name: p.read_bytes() for p in folder.iterdir()}
        return huggingface_hub.CommitInfo(
            commit_url=f"https://huggingface.co/{kwargs['repo_id']}/commit/abc123",
            commit_message=kwargs["commit_message"],
            commit_description="",
            oid="abc123",
        )


@pytest.fixture
def no_stored_token(tmp_path, monkeypatch):
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no_token_here"))


@pytest.fixture
def fake_token(no_stored_token, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)


def test_push_is_one_commit_of_the_dry_run_folder(tmp_path, model_dir, fake_token, capsys):
    run = make_run(tmp_path, model_dir)
    api = RecordingApi()
    url = push_run(run, "someone/ser-demo", private=True, revision="experiments", api=api)
    assert url == "https://huggingface.co/someone/ser-demo/commit/abc123"
    assert [c[0] for c in api.calls] == ["create_repo", "create_branch", "upload_folder"]
    assert api.calls[0][1] == {"repo_id": "someone/ser-demo", "private": True, "exist_ok": True, "repo_type": "model"}
    assert api.calls[1][1]["branch"] == "experiments" and api.calls[1][1]["exist_ok"] is True
    upload = api.calls[2][1]
    assert upload["repo_id"] == "someone/ser-demo" and upload["revision"] == "experiments"
    assert "UAR 61.0%" in upload["commit_message"]
    assert not Path(upload["folder_path"]).exists()  # staged in a temporary folder, removed after
    assert not (run / "hub").exists()
    dry = push_run(run, "someone/ser-demo", dry_run=True, output_dir=tmp_path / "dry")
    assert api.uploaded == {p.name: p.read_bytes() for p in dry.iterdir()}
    # the token is read by huggingface_hub only: in no file and in no output
    captured = capsys.readouterr()
    assert FAKE_TOKEN not in captured.out + captured.err
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert FAKE_TOKEN.encode() not in p.read_bytes()


def test_push_with_a_bare_name_uses_the_token_owner_namespace(tmp_path, model_dir, fake_token):
    run = make_run(tmp_path, model_dir)
    api = RecordingApi()
    assert push_run(run, "ser-demo", api=api) == "https://huggingface.co/someone/ser-demo/commit/abc123"
    assert [c[0] for c in api.calls] == ["whoami", "create_repo", "upload_folder"]
    assert api.calls[1][1]["repo_id"] == "someone/ser-demo" and api.calls[2][1]["revision"] is None
    assert b'model="someone/ser-demo"' in api.uploaded["README.md"]


def test_push_without_token_says_how_to_log_in(tmp_path, model_dir, no_stored_token):
    run = make_run(tmp_path, model_dir)
    before = snapshot(run)
    api = RecordingApi()
    with pytest.raises(HubError) as err:
        push_run(run, "someone/ser-demo", api=api)
    assert "hf auth login" in str(err.value) and "HF_TOKEN" in str(err.value)
    assert api.calls == [] and snapshot(run) == before
    assert main(["push", str(run), "--repo_id", "someone/ser-demo"]) == 2  # a missing login is the user's to fix


def test_push_offline_fails_cleanly(tmp_path, model_dir, fake_token, monkeypatch):
    run = make_run(tmp_path, model_dir)
    before = snapshot(run)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(HubUnreachable, match="could not reach the Hugging Face Hub") as err:
        push_run(run, "someone/ser-demo")  # the real HfApi
    assert "HF_HUB_OFFLINE" in str(err.value) and FAKE_TOKEN not in str(err.value)
    assert snapshot(run) == before
    assert list((tmp_path / "tmp").iterdir()) == []  # staging removed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_push_connection_refused_fails_cleanly(tmp_path, model_dir, fake_token):
    run = make_run(tmp_path, model_dir)
    before = snapshot(run)
    api = HfApi(endpoint=f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    with pytest.raises(HubUnreachable, match="could not reach the Hugging Face Hub"):
        push_run(run, "someone/ser-demo", api=api)
    assert snapshot(run) == before


@pytest.mark.parametrize("status", [401, 403])
def test_push_refused_token_fails_cleanly(tmp_path, model_dir, fake_token, status):
    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server naming)
            body = json.dumps({"error": "Invalid credentials in Authorization header"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = make_run(tmp_path, model_dir)
        before = snapshot(run)
        api = HfApi(endpoint=f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(HubError) as err:
            push_run(run, "someone/ser-demo", api=api)
    finally:
        server.shutdown()
        server.server_close()
    message = str(err.value)
    assert f"HTTP {status}" in message and "hf auth login" in message and "'someone'" in message
    assert FAKE_TOKEN not in message
    assert snapshot(run) == before


def test_hub_repo_for_run():
    assert hub_repo_for_run("me/ser", "multi-neo_latin-seed0", 1) == "me/ser"
    assert hub_repo_for_run("me/ser", "multi-neo_latin-seed1", 2) == "me/ser-multi-neo_latin-seed1"


def test_dry_run_can_stage_a_space_next_to_the_model(tmp_path, model_dir, capsys):
    from hf_ser.train.runs import find_run_folders

    run = make_run(tmp_path, model_dir)
    assert main(["push", str(run), "--repo_id", "someone/ser-demo", "--dry_run", "--space"]) == 0
    space = run / "space"
    readme = (space / "README.md").read_text()
    assert (
        (space / "app.py").is_file()
        and "sdk: gradio" in readme
        and "someone/ser-demo" in (space / "app.py").read_text()
    )
    assert "Space for someone/ser-demo staged" in capsys.readouterr().out
    assert find_run_folders(tmp_path) == [run]  # neither hub/ nor space/ is ever read as a run
    assert main(["push", str(run), "--repo_id", "someone/ser-demo", "--space"]) == 2  # --space needs --dry_run


# ----------------------------------------------------------------------------- pipeline() against predict


@pytest.fixture(scope="module")
def raw_test_run(tmp_path_factory, model_dir) -> Path:
    """A run whose predictions.csv names raw synthetic clips (FRE + ITA, 2 per emotion), rewritten as a user's
    recordings would come: levels spread over -30..0 dB and 0-1 s of extra low-noise silence on each side,
    at 16 or 44.1 kHz, mono or stereo."""
    root = tmp_path_factory.mktemp("pipeline_gap")
    manifest = build_synthetic_corpus(root / "synthetic", per_cell=2, languages=["FRE", "ITA"])
    rng = np.random.default_rng(0)
    rows = []
    with manifest.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            wave, sr = sf.read(manifest.parent / row["path"], dtype="float32")
            pads = [0.002 * rng.standard_normal(int(rng.uniform(0, 1) * sr)).astype(np.float32) for _ in range(2)]
            wave = np.concatenate([pads[0], wave, pads[1]]) * np.float32(10 ** (rng.uniform(-30, 0) / 20))
            out_sr = 44100 if i % 3 == 0 else sr
            wave = soxr.resample(wave, sr, out_sr).astype(np.float32) if out_sr != sr else wave
            if i % 4 == 0:
                wave = np.stack([wave, 0.8 * wave], axis=1)
            path = root / "raw" / f"clip{i:03d}.wav"
            path.parent.mkdir(exist_ok=True)
            sf.write(path, wave, out_sr, subtype="FLOAT")
            rows.append([str(path), row["language"], "synth_" + row["language"].lower(), row["speaker"], row["label"]])
    run = make_run(root, model_dir, train=["FRE", "ITA"])
    with (run / "predictions.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "language", "corpus", "speaker", "label", "pred"])
        w.writerows(r + [r[-1]] for r in rows)
    return run


def test_pipeline_on_raw_files_is_measured_against_predict_and_stated_in_the_card(raw_test_run, tmp_path):
    gap, note = measure_pipeline_gap(raw_test_run)
    assert note == "measured" and gap is not None and gap.n == gap.n_test == 24
    # the prepared side is hf-ser predict itself, file by file ...
    preds = read_predictions(raw_test_run)
    classifier = load_classifier(str(raw_test_run / "model"), "cpu")
    rows = classify(list(preds["path"]), classifier, segment="none")
    labels = [EMOTIONS.index(r["label"]) for r in rows]
    assert gap.uar_prepared == pytest.approx(uar(list(preds["y_true"]), labels))
    # ... and prepare_for_pipeline + stock pipeline() gives predict's probabilities (the promise the card makes)
    stock = pipeline("audio-classification", model=str(raw_test_run / "model"), device="cpu")
    for row in rows[:6]:
        wave, sr = sf.read(row["path"], dtype="float32")
        out = stock({"raw": prepare_for_pipeline(wave, sr), "sampling_rate": 16000}, top_k=None)
        for d in out:
            assert d["score"] == pytest.approx(row["probs"][d["label"]], abs=1e-4)
    # the raw side really is a different input: untrimmed audio gives other probabilities
    wave, sr = sf.read(rows[0]["path"], dtype="float32")
    raw = stock(_raw_pipeline_input(rows[0]["path"], 16000), top_k=None)
    assert max(abs(d["score"] - rows[0]["probs"][d["label"]]) for d in raw) > 1e-3
    # the card states both numbers and no longer claims the extractor alone reproduces training
    text = build_model_card(raw_test_run, "someone/ser-demo").text
    assert f"UAR {100 * gap.uar_raw:.1f}% through `pipeline()`" in text
    assert f"against {100 * gap.uar_prepared:.1f}% with the training preparation" in text
    assert "all 24 test files" in text and "prepare_for_pipeline(wave, sr)" in text
    assert "feature extractor prepares it exactly as in training" not in text and "ffmpeg" in text
    # not measurable: said so, never a made-up number
    skipped = build_model_card(raw_test_run, "someone/ser-demo", pipeline_files=0).text
    assert "not measured (`--pipeline_check 0`)" in skipped


def test_prepare_for_pipeline_is_the_training_preparation():
    rng = np.random.default_rng(1)
    t = np.arange(44100) / 44100
    tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    wave = np.concatenate([np.zeros(22050, np.float32), tone, np.zeros(11025, np.float32)])
    stereo = np.stack([wave, wave + 0.001 * rng.standard_normal(len(wave)).astype(np.float32)], axis=1)
    out = prepare_for_pipeline(stereo, 44100)
    np.testing.assert_array_equal(out, preprocess(stereo, 44100, PreprocessConfig()))
    assert out.dtype == np.float32 and abs(len(out) / 16000 - 1.0) < 0.06  # the silences are gone
    pcm = (wave * 32767).astype(np.int16)  # integer PCM is scaled like soundfile's float decoding
    np.testing.assert_allclose(prepare_for_pipeline(pcm, 44100), prepare_for_pipeline(wave, 44100), atol=1e-3)
    assert len(prepare_for_pipeline(np.tile(tone, 30), 44100, max_seconds=5)) == 5 * 16000
    with pytest.raises(AudioError, match="silent"):
        prepare_for_pipeline(np.zeros(16000, np.float32), 16000)


def test_card_uses_iso_codes_not_the_papers(tmp_path, model_dir):
    """The paper's ROM is Romany in ISO 639; cards name Romanian by its ISO codes (ro, ron) only."""
    run = make_run(tmp_path, model_dir)
    card = build_model_card(run, "someone/ser-demo", pipeline_files=0)
    text = card.content.split("---", 2)[2]
    assert re.search(r"\b(FRE|ITA|POR|ROM|SPA)\b", text) is None
    assert "Romanian (ro)" in text and "| ron |" in text and "ro" in card.data.language


def test_card_of_a_label_set_model_lists_its_own_classes(tmp_path):
    """A 4-class model's card: its id -> label table, '4 classes' and chance 25% (never the six emotions)."""
    four = ["anger", "happiness", "neutral", "sadness"]
    torch.manual_seed(0)
    model, extractor = build_model("demo-tiny", labels=four)
    model.save_pretrained(tmp_path / "four")
    extractor.save_pretrained(tmp_path / "four")
    run = make_run(tmp_path / "runs", tmp_path / "four")
    text = str(build_model_card(run, "someone/ser-four", pipeline_files=0))
    assert "one of 4 classes (anger, happiness, neutral, sadness) per utterance" in text
    assert "chance is 25.0% with 4" in text and "| 3 | sadness |" in text
    assert "| 0 | anger |" in text and "disgust" not in text.split("## Model details")[1].split("##")[0]
