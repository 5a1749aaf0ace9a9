"""SERTrainer: the pooled embedding hook, the loss scale under gradient accumulation, pipeline loading."""

import numpy as np
import soundfile as sf
import torch
from conftest import tone_dataset
from transformers import TrainingArguments, pipeline

from hf_ser.audio import TrainAugment, decode_wav
from hf_ser.labels import EMOTIONS
from hf_ser.losses import class_weights, corpus_weights
from hf_ser.modeling import build_model
from hf_ser.trainer import SERCollator, SERTrainer, make_transform


def _trainer(tmp_path, ds, **kw):
    torch.manual_seed(0)
    model, fe = build_model("demo-tiny")
    model.config.mask_time_prob = 0.0
    train = ds.add_column("corpus_id", [0 if c == "c1" else 1 for c in ds["corpus"]])
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        report_to="none",
        remove_unused_columns=False,
        use_cpu=True,
        dataloader_pin_memory=False,
        logging_steps=1,
        save_strategy="no",
        **kw,
    )
    trainer = SERTrainer(
        model=model,
        args=args,
        train_dataset=train.with_transform(make_transform(None)),
        eval_dataset=ds.with_transform(make_transform(None)),
        data_collator=SERCollator(fe),
        processing_class=fe,
        class_weight=class_weights(ds["label"], 6),
        corpus_weight=corpus_weights(train["corpus_id"]),
        contrastive_weight=0.0,
        train_corpus_ids=None,
    )
    return trainer, model, fe


def _features(ds, n):
    return [
        dict(input_values=make_transform(None)(ds[i : i + 1])["input_values"][0], labels=ds[i]["label"])
        for i in range(n)
    ]


def test_hook_captures_pooled_projection(tmp_path):
    ds = tone_dataset(8)
    trainer, model, fe = _trainer(tmp_path, ds, max_steps=1)
    batch = SERCollator(fe)(_features(ds, 4))
    model.eval()
    with torch.no_grad():
        out = model(input_values=batch["input_values"], attention_mask=batch["attention_mask"])
        pooled = trainer._pooled
        # reference: project every frame, then mean over the real (unpadded) frames
        hidden = model.projector(
            model.wav2vec2(batch["input_values"], attention_mask=batch["attention_mask"]).last_hidden_state
        )
        mask = model._get_feature_vector_attention_mask(hidden.shape[1], batch["attention_mask"])
        ref = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    assert pooled.shape == (4, 256)
    torch.testing.assert_close(pooled, ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(model.classifier(pooled), out.logits, rtol=1e-4, atol=1e-5)


def test_padding_does_not_change_predictions(tmp_path):
    """Attention masks keep padded samples out of pooling: a padded utterance scores as it does alone."""
    ds = tone_dataset(6)
    _, model, fe = _trainer(tmp_path, ds, max_steps=1)
    model.eval()
    feats = _features(ds, 6)
    with torch.no_grad():
        together = model(**{k: v for k, v in SERCollator(fe)(feats).items() if k != "labels"}).logits
        alone = torch.cat(
            [model(**{k: v for k, v in SERCollator(fe)([f]).items() if k != "labels"}).logits for f in feats]
        )
    torch.testing.assert_close(together, alone, rtol=1e-3, atol=1e-4)


def test_train_loss_scale_matches_eval_with_accumulation(tmp_path):
    """With lr 0 the logged train loss (GA 4) must equal the eval loss scale, not 1/4 or 4x of it."""
    ds = tone_dataset(64)
    trainer, _, _ = _trainer(tmp_path, ds, learning_rate=0.0, gradient_accumulation_steps=4, max_steps=2)
    train_loss = trainer.train().training_loss
    eval_loss = trainer.evaluate()["eval_loss"]
    assert 0.8 < train_loss / eval_loss < 1.25, (train_loss, eval_loss)


def test_saved_model_runs_in_pipeline(tmp_path):
    ds = tone_dataset(16)
    trainer, model, fe = _trainer(tmp_path, ds, max_steps=2)
    trainer.train()
    trainer.save_model(str(tmp_path / "model"))
    wav = tmp_path / "x.wav"
    sf.write(wav, decode_wav(ds[0]["audio"]), 16000)
    data, sr = sf.read(wav, dtype="float32")
    clf = pipeline("audio-classification", model=str(tmp_path / "model"), device="cpu")
    out = clf({"raw": data, "sampling_rate": sr}, top_k=6)
    assert sorted(o["label"] for o in out) == sorted(EMOTIONS)
    assert abs(sum(o["score"] for o in out) - 1) < 1e-4


def test_two_process_ddp_training_step(tmp_path):
    """torchrun --nproc_per_node 2 on CPU (gloo): a real SERTrainer step, LayerDrop disabled, disjoint batches."""
    import json
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(__file__).parent / "ddp_train_check.py"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            str(port),
            str(script),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["layerdrop"] == 0.0 and np.isfinite(r["loss"]) for r in ranks)
    a = {i for b in ranks[0]["batches"] for i in b}
    b = {i for b in ranks[1]["batches"] for i in b}
    assert not (a & b) and len(a | b) == 48  # two corpora of 24: one epoch covers each utterance once


def test_log_mel_transform_follows_the_model_extractor():
    """Whisper-style extractor: the transform gives its fixed-window log-mel of the raw (not MVN'd) waveform."""
    model, fe = build_model("demo-tiny-whisper")
    ds = tone_dataset(3)
    rows = make_transform(None, fe)(ds[:3])
    wave = decode_wav(ds[0]["audio"])
    expected = fe(wave, sampling_rate=16000, return_tensors="np")["input_features"][0]
    np.testing.assert_allclose(rows["input_features"][0], expected, rtol=1e-5, atol=1e-5)
    batch = SERCollator(fe)([{k: v[i] for k, v in rows.items()} for i in range(3)])
    assert batch["input_features"].shape == (3, 80, 800) and "attention_mask" not in batch
    with torch.no_grad():
        assert model(input_features=batch["input_features"]).logits.shape == (3, 6)
    augmented = make_transform(TrainAugment(noise_p=0.0, gain_p=1.0), fe)(ds[:1])["input_features"][0]
    assert not np.allclose(augmented, rows["input_features"][0])  # gain changes the log-mel level: no MVN undoes it
