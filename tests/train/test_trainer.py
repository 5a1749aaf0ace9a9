"""SERTrainer: the pooled embedding hook, the loss scale under gradient accumulation, pipeline loading."""

import numpy as np
import soundfile as sf
import torch
from conftest import tone_dataset
from transformers import TrainerCallback, TrainingArguments, pipeline

from hf_ser.data.audio import TrainAugment, decode_wav
from hf_ser.labels import EMOTIONS
from hf_ser.train.losses import class_weights, corpus_weights, mean_drawn_weight
from hf_ser.train.modeling import build_model
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform


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
    script = Path(__file__).resolve().parents[1] / "ddp_train_check.py"
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


class _RecordingTrainer(SERTrainer):
    """SERTrainer that keeps each micro-batch's (GA-scaled) loss and the rows' real lengths and labels."""

    def training_step(self, model, inputs, num_items_in_batch=None):
        self.rows.append(torch.stack([inputs["attention_mask"].sum(1), inputs["labels"]], 1))
        loss = super().training_step(model, inputs, num_items_in_batch)
        self.losses.append(loss.detach().clone())
        return loss


class _GradientsBeforeStep(TrainerCallback):
    """Copy every gradient just before each optimizer step (parameters without one, e.g. the unused SpecAugment
    embedding, are left out in both runs)."""

    def __init__(self):
        self.steps: list[torch.Tensor] = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        grads = [p.grad.detach().ravel().clone() for p in model.parameters() if p.grad is not None]
        self.steps.append(torch.cat(grads))


def _train_two_steps(tmp_path, ds, batch_size: int, accumulation: int, padded: int, group: int = 16):
    """Two optimizer steps of the paper's objective (class + corpus weights, fixed normaliser, SupCon 0.1 over groups
    of 16, balanced length-windowed sampler) on demo-tiny in fp32; returns (step losses, step gradients, rows)."""
    torch.manual_seed(0)
    model, fe = build_model("demo-tiny", layerdrop=0.0)
    model.config.mask_time_prob = 0.0  # no random SpecAugment: the two runs must see identical forwards
    corpus = np.searchsorted(["c1", "c2", "c3", "c4"], ds["corpus"])
    labels = np.asarray(ds["label"])
    cw, kw = class_weights(labels, 6), corpus_weights(corpus)
    train = ds.add_column("corpus_id", corpus.tolist())
    args = TrainingArguments(
        output_dir=str(tmp_path / f"out{batch_size}"),
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=accumulation,
        learning_rate=1e-3,
        max_steps=2,
        report_to="none",
        remove_unused_columns=False,
        use_cpu=True,
        dataloader_pin_memory=False,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    grads = _GradientsBeforeStep()
    trainer = _RecordingTrainer(
        model=model,
        args=args,
        train_dataset=train.with_transform(make_transform(None)),
        data_collator=SERCollator(fe, bucket_lengths=[padded]),  # one padded length: the same shapes in both runs
        class_weight=cw,
        corpus_weight=kw,
        mean_sample_weight=mean_drawn_weight(corpus, labels, kw, cw),
        contrastive_weight=0.1,
        temperature=0.07,
        contrastive_group_size=group,
        train_corpus_ids=corpus,
        train_lengths=np.asarray(ds["length"]),
        length_window=2,
        callbacks=[grads],
    )
    trainer.rows, trainer.losses = [], []
    trainer.train()
    losses = torch.stack(trainer.losses).reshape(2, accumulation).sum(1)
    return losses, torch.stack(grads.steps), torch.cat(trainer.rows)


def test_contrastive_group_micro_batch_64_trains_exactly_16_x_4_accumulation(tmp_path):
    """--per_device_train_batch_size 64 --gradient_accumulation_steps 1 with groups of 16 gives the loss and the
    gradients of 16 x 4 accumulation (through the real Trainer's accumulation), in fp32 to 1e-5; one group of 64
    over the same rows does not."""
    ds = tone_dataset(128, corpora=("c1", "c2", "c3", "c4"))
    padded = -(-max(ds["length"]) // 320) * 320
    loss_acc, grad_acc, rows_acc = _train_two_steps(tmp_path, ds, 16, 4, padded)
    loss_big, grad_big, rows_big = _train_two_steps(tmp_path, ds, 64, 1, padded)
    assert torch.equal(rows_acc, rows_big)  # the sampler laid out the same rows in the same groups
    assert grad_acc.shape == grad_big.shape and grad_acc.shape[0] == 2
    torch.testing.assert_close(loss_big, loss_acc, rtol=1e-5, atol=0)
    for step in range(2):
        relative = (grad_big[step] - grad_acc[step]).norm() / grad_acc[step].norm()
        assert relative <= 1e-5, (step, float(relative))
    assert float(grad_acc[0].norm()) > 0
