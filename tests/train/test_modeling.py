"""Every backbone family: tiny demo run with the paper's loss, stock pipeline reload, hook, freezing, card info."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import tone_dataset
from transformers import pipeline

from hf_ser.errors import UserError
from hf_ser.experiments.recipe import __main__ as recipe
from hf_ser.labels import EMOTIONS
from hf_ser.study.analysis.layers import run_layers
from hf_ser.train.modeling import (
    DEMO_BACKBONES,
    SDPA_BACKENDS,
    attention_kernel,
    backbone_info,
    build_model,
    check_backbone,
    frame_mask,
    freeze,
    is_whisper,
    resolve_sdpa_backend,
    sdpa_backends,
    span_mask,
    tiny_config,
)
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform

FAMILY_ALIASES = ["demo-tiny", "demo-tiny-hubert", "demo-tiny-wavlm", "demo-tiny-data2vec", "demo-tiny-whisper"]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory, hf_ser_cache, one_torch_thread):
    """One tiny single-language --demo run per family (paper's loss: CE_w + 0.1 SupCon), trained once per module."""
    out = tmp_path_factory.mktemp("backbones")
    runs = {}
    for alias in FAMILY_ALIASES:
        code = recipe.main(
            [
                "single_language",
                "--demo",
                "--languages",
                "FRE",
                "--synthetic_per_cell",
                "3",
                "--num_train_epochs",
                "1",
                "--model_name_or_path",
                alias,
                "--output_dir",
                str(out / alias),
            ]
        )
        assert code == 0, alias
        runs[alias] = out / alias / "single-FRE-seed0"
    return runs


@pytest.mark.parametrize("alias", FAMILY_ALIASES)
def test_demo_run_reloads_in_stock_pipeline(demo_runs, alias, tmp_path):
    """The saved model folder classifies a WAV through pipeline("audio-classification") with no custom code."""
    run = demo_runs[alias]
    m = json.loads((run / "metrics.json").read_text())
    assert m["config"]["ser"]["contrastive_weight"] == 0.1 and np.isfinite(m["train_loss"])
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["model_type"] == DEMO_BACKBONES[alias] and config["classifier_proj_size"] == 256
    wav = tmp_path / "x.wav"
    t = np.arange(24000) / 16000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    data, sr = sf.read(wav, dtype="float32")
    clf = pipeline("audio-classification", model=str(run / "model"), device="cpu")
    out = clf({"raw": data, "sampling_rate": sr}, top_k=None)
    assert sorted(o["label"] for o in out) == sorted(EMOTIONS)
    assert abs(sum(o["score"] for o in out) - 1) < 1e-4
    # the pipeline's scores are the model's own softmax on the extractor's input (preprocessing follows the model)
    inputs = clf.feature_extractor(data, sampling_rate=sr, return_tensors="pt")
    with torch.no_grad():
        probs = clf.model(**inputs).logits.softmax(-1)[0]
    best = max(out, key=lambda o: o["score"])
    assert abs(best["score"] - float(probs.max())) < 1e-5


@pytest.mark.parametrize("alias", FAMILY_ALIASES)
def test_hook_captures_pooled_projection_every_family(alias, tmp_path, one_torch_thread):
    """SERTrainer's pre-hook on model.classifier sees the pooled projection; its pooling is the stock head's."""
    from transformers import TrainingArguments

    torch.manual_seed(0)
    model, fe = build_model(alias)
    model.eval()
    ds = tone_dataset(4)
    feats = [dict(make_transform(None, fe)(ds[i : i + 1])) for i in range(4)]
    rows = [{k: v[0] for k, v in f.items()} for f in feats]
    batch = SERCollator(fe)(rows)
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    trainer = SERTrainer(model=model, args=args, data_collator=SERCollator(fe))
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
        pooled = trainer._pooled
        last = out.hidden_states[-1] if is_whisper(model.config) else None
        if last is None:  # waveform families: last_hidden_state, masked mean over real frames
            base = getattr(model, model.base_model_prefix)
            last = base(inputs["input_values"], attention_mask=inputs["attention_mask"]).last_hidden_state
        hidden = model.projector(last)
        mask = frame_mask(model, hidden.shape[1], inputs.get("attention_mask"), hidden.shape[0])
        ref = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    assert pooled.shape == (4, 256)
    torch.testing.assert_close(pooled, ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(model.classifier(pooled), out.logits, rtol=1e-4, atol=1e-5)
    if is_whisper(model.config):  # a fixed window: 80 mel bins x (8 s x 100 frames/s), no attention mask
        assert tuple(batch["input_features"].shape[1:]) == (80, 800) and "attention_mask" not in batch


@pytest.mark.parametrize("alias", FAMILY_ALIASES)
def test_freeze_base_model_leaves_layer_weights_and_head(alias):
    """--freeze_base_model --use_weighted_layer_sum: only layer_weights, projector and classifier train."""
    model, _ = build_model(alias, use_weighted_layer_sum=True)
    freeze(model, feature_encoder=True, base_model=True)
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"layer_weights", "projector", "classifier"}
    assert model.layer_weights.numel() == model.config.num_hidden_layers + 1


def test_whisper_window_is_cut_and_saved_stock(tmp_path):
    """whisper_window_seconds shortens the window; the saved folder reloads in the stock pipeline with that window."""
    model, fe = build_model("demo-tiny-whisper", whisper_window_seconds=2)
    assert model.config.max_source_positions == 100 and fe.n_samples == 32000 and fe.nb_max_frames == 200
    model.save_pretrained(tmp_path)
    fe.save_pretrained(tmp_path)
    clf = pipeline("audio-classification", model=str(tmp_path), device="cpu")
    out = clf({"raw": np.zeros(48000, dtype=np.float32) + 0.01, "sampling_rate": 16000}, top_k=None)
    assert len(out) == 6
    with pytest.raises(UserError, match="whole number"):
        build_model("demo-tiny-whisper", whisper_window_seconds=9)


def test_local_pretrained_backbones_load_through_auto_classes(tmp_path):
    """A saved base checkpoint (no head: wav2vec2 / whisper seq2seq) loads as its audio-classification class."""
    from transformers import Wav2Vec2Model, WhisperForConditionalGeneration

    for cls, model_type in ((Wav2Vec2Model, "wav2vec2"), (WhisperForConditionalGeneration, "whisper")):
        torch.manual_seed(0)
        base = cls(tiny_config(model_type))
        folder = tmp_path / model_type
        base.save_pretrained(folder)
        model, _ = build_model(str(folder))
        assert model.config.num_labels == 6 and backbone_info(model.config)["name"] == str(folder)
        enc = model.encoder if model_type == "whisper" else model.wav2vec2
        src = base.model.encoder if model_type == "whisper" else base
        name, param = next(iter(src.state_dict().items()))
        torch.testing.assert_close(enc.state_dict()[name], param)  # pretrained weights were loaded, not re-initialised


def test_backbone_info_and_unsupported_backbone():
    """backbone_info names backbone, family and licence; a model without the head is a UserError naming the choices."""
    config = tiny_config("wavlm")
    config.hf_ser_backbone = "microsoft/wavlm-base-plus"
    assert backbone_info(config) == {"name": "microsoft/wavlm-base-plus", "family": "wavlm", "licence": "mit"}
    config.hf_ser_backbone = "openai/whisper-small"
    assert backbone_info(config)["licence"] == "apache-2.0"
    config.hf_ser_backbone = "someone/odd-model"
    assert backbone_info(config)["licence"].startswith("unknown")
    from transformers import BertConfig

    with pytest.raises(UserError, match="wav2vec2, hubert, wavlm, data2vec-audio, whisper"):
        check_backbone(BertConfig(), "bert-base-uncased")


@pytest.mark.slow
@pytest.mark.parametrize("alias", FAMILY_ALIASES)
def test_per_layer_probe_every_family(demo_runs, alias):
    """hf_ser.study.analysis layers on each family's demo run: one probe per hidden state, finite scores."""
    payload = run_layers(demo_runs[alias])
    config = json.loads((demo_runs[alias] / "model" / "config.json").read_text())
    assert (
        len(payload["layers"]) == config["num_hidden_layers" if "num_hidden_layers" in config else "encoder_layers"] + 1
    )
    assert all(0 <= e["uar"] <= 1 for e in payload["layers"])


def test_tensor_spec_augment_matches_stock_mask_statistics():
    """span_mask (tensor ops) masks the same share of real frames in spans of the same length as transformers'
    numpy _compute_mask_indices, never a padded frame, and honours min_masks and short rows."""
    from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices

    torch.manual_seed(0)
    np.random.seed(0)
    width, prob, span = 300, 0.075, 10
    lengths = torch.tensor([300, 200, 80, 40, 9] * 40)
    real = (torch.arange(width)[None] < lengths[:, None]).numpy()
    stock = np.stack(
        [_compute_mask_indices((len(lengths), width), prob, span, torch.as_tensor(real).long(), 2) for _ in range(30)]
    )
    ours = torch.stack([span_mask(lengths, width, prob, span, 2) for _ in range(30)]).numpy()
    stock &= real[None]  # the stock code parks a dummy span on a padded frame for rows without spans

    def run_lengths(masks: np.ndarray) -> np.ndarray:
        edges = np.diff(np.pad(masks.reshape(-1, width).astype(int), ((0, 0), (1, 1))), axis=1)
        return np.nonzero(edges == -1)[1] - np.nonzero(edges == 1)[1]

    assert not (ours & ~real[None]).any()
    for length in (300, 200, 80, 40):  # masked share per real length within 5% of the stock share
        rows = (lengths == length).numpy()
        assert ours[:, rows].mean() == pytest.approx(stock[:, rows].mean(), rel=0.05)
    assert ours[:, (lengths == 9).numpy()].sum() == 0  # shorter than one span: no start position
    assert run_lengths(ours).mean() == pytest.approx(run_lengths(stock).mean(), rel=0.03)
    assert run_lengths(ours).min() >= span


@pytest.mark.parametrize("alias", ["demo-tiny", "demo-tiny-hubert", "demo-tiny-wavlm", "demo-tiny-data2vec"])
def test_tensor_spec_augment_is_bound_and_config_stays_stock(alias, tmp_path):
    """build_model binds the tensor mask to this instance only; the saved config keeps its SpecAugment keys and
    reloads in the stock class with the stock method; eval mode leaves the input untouched."""
    model, _ = build_model(alias)
    base = getattr(model, model.base_model_prefix)
    assert "_mask_hidden_states" in vars(base)
    model.save_pretrained(tmp_path)
    reloaded = type(model).from_pretrained(tmp_path)
    assert "_mask_hidden_states" not in vars(getattr(reloaded, reloaded.base_model_prefix))
    assert reloaded.config.mask_time_prob == model.config.mask_time_prob > 0
    hidden = torch.randn(2, 50, model.config.hidden_size)
    model.eval()
    assert torch.equal(base._mask_hidden_states(hidden.clone()), hidden)
    model.train()
    masked = base._mask_hidden_states(hidden.clone(), attention_mask=torch.ones(2, 50, dtype=torch.long))
    changed = (masked != hidden).any(-1)
    assert changed.any() and torch.allclose(masked[changed], base.masked_spec_embed.expand_as(masked)[changed])


def test_compiled_training_step_has_no_graph_break_at_the_mask(one_torch_thread):
    """With the tensor mask the whole training forward of wav2vec2 (frozen feature encoder, padded batch) compiles
    as one graph (fullgraph=True); the stock numpy mask breaks it in _compute_mask_indices. Backward runs too."""
    torch.manual_seed(0)
    model, _ = build_model("demo-tiny", layerdrop=0.0)
    freeze(model, feature_encoder=True)
    model.train()
    x, mask = torch.randn(4, 16000), torch.ones(4, 16000, dtype=torch.long)
    mask[1, 8000:] = 0

    def loss(m, x, mask):
        return m(input_values=x, attention_mask=mask).logits.square().mean()

    loss(model, x, mask)  # transformers installs its output-capture hooks (under a lock) on the first call
    torch._dynamo.reset()
    torch.compile(loss, backend="aot_eager", fullgraph=True)(model, x, mask).backward()
    assert model.classifier.weight.grad is not None
    del getattr(model, model.base_model_prefix)._mask_hidden_states  # back to the stock numpy mask
    torch._dynamo.reset()
    explained = torch._dynamo.explain(loss)(model, x, mask)
    assert explained.graph_break_count > 0
    assert any("_compute_mask_indices" in str(b.user_stack) for b in explained.break_reasons)
    torch._dynamo.reset()


def test_sdpa_backend_choice_and_wavlm_attention():
    """auto is flash+efficient on CUDA and torch's default on CPU; an unknown name is a UserError; every choice
    runs a forward on the CPU (math is the fallback); WavLM reports its own bias attention."""
    assert resolve_sdpa_backend("auto", cuda=True) == "flash_efficient"
    assert resolve_sdpa_backend("auto", cuda=False) == "default"
    with pytest.raises(UserError, match="--sdpa_backend"):
        resolve_sdpa_backend("fastest", cuda=True)
    model, _ = build_model("demo-tiny")
    model.eval()
    x = torch.randn(2, 8000)
    outputs = []
    for choice in SDPA_BACKENDS:
        with sdpa_backends(choice, cuda=False), torch.no_grad():
            outputs.append(model(input_values=x).logits)
    assert all(torch.allclose(o, outputs[0], atol=1e-5) for o in outputs)
    assert attention_kernel(model) == "sdpa"
    assert "relative-position bias" in attention_kernel(build_model("demo-tiny-wavlm")[0])
