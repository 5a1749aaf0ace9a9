"""The paper's model on any speech backbone: a stock ``*ForSequenceClassification`` / ``WhisperForAudioClassification``.

Encoder -> per-frame linear projector to 256-d -> mean pooling -> linear classifier. The projector is linear, so
projecting then pooling equals the paper's pooling then projecting. Every family below is a stock
``AutoModelForAudioClassification`` class with that head (``classifier_proj_size``), so every checkpoint loads
in ``pipeline("audio-classification")`` without remote code:

=================  =======================================  ===============================================
family             class                                    input / pooling
=================  =======================================  ===============================================
wav2vec2 (XLS-R)   Wav2Vec2ForSequenceClassification        MVN waveform; mean over the attention mask
hubert             HubertForSequenceClassification          MVN waveform; mean over the attention mask
wavlm              WavLMForSequenceClassification           MVN waveform; mean over the attention mask
data2vec-audio     Data2VecAudioForSequenceClassification   MVN waveform; mean over the attention mask
whisper            WhisperForAudioClassification            log-mel of a fixed window; mean over *all* frames
=================  =======================================  ===============================================

Whisper's encoder only accepts its full window (30 s for OpenAI checkpoints) and its stock head pools over every
frame, padded ones included; the pipeline pads the same way, so training does too (train and inference agree).
``whisper_window_seconds`` shortens the window (positional table cut, feature extractor ``chunk_length`` changed,
both saved with the checkpoint, still stock) to save the padding cost on short utterances; see docs/backbones.md.

Demo aliases build tiny random configs locally (no download): ``demo-tiny`` (wav2vec2), ``demo-tiny-hubert``,
``demo-tiny-wavlm``, ``demo-tiny-data2vec``, ``demo-tiny-whisper``.
"""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import Iterator, Sequence

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModelForAudioClassification,
    Data2VecAudioConfig,
    FeatureExtractionMixin,
    HubertConfig,
    PretrainedConfig,
    PreTrainedModel,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    WavLMConfig,
    WhisperConfig,
    WhisperFeatureExtractor,
)

from hf_ser.errors import UserError
from hf_ser.labels import EMOTIONS, SAMPLING_RATE

logger = logging.getLogger(__name__)

DEFAULT_BACKBONE = "facebook/wav2vec2-xls-r-300m"
DEMO_BACKBONE = "demo-tiny"  # a small random wav2vec2, built locally
XLSR_300M_RANDOM = "xls-r-300m-random"  # XLS-R 300M architecture, random weights (speed/memory work)
DEMO_BACKBONES = {  # alias -> model_type of the tiny random config
    DEMO_BACKBONE: "wav2vec2",
    "demo-tiny-wav2vec2": "wav2vec2",
    "demo-tiny-hubert": "hubert",
    "demo-tiny-wavlm": "wavlm",
    "demo-tiny-data2vec": "data2vec-audio",
    "demo-tiny-whisper": "whisper",
}
RANDOM_BACKBONES = (*DEMO_BACKBONES, XLSR_300M_RANDOM)
WAVEFORM_FAMILIES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio")
SUPPORTED_MODEL_TYPES = (*WAVEFORM_FAMILIES, "whisper")
DEMO_WHISPER_SECONDS = 8  # demo corpus utterances average 2-4.6 s: an 8 s window holds them with 2-4x padding, not 10x
WHISPER_FRAMES_PER_SECOND = 50  # 100 mel frames/s, conv2 stride 2

# Licence of the pretrained weights, by Hub id prefix (checked on the model cards / the authors' repositories).
BACKBONE_LICENCES = (
    ("facebook/wav2vec2", "apache-2.0"),
    ("facebook/hubert", "apache-2.0"),
    ("facebook/data2vec-audio", "apache-2.0"),
    ("microsoft/wavlm", "mit"),  # the Hub cards name none; the authors released WavLM under MIT (microsoft/unilm)
    ("openai/whisper", "apache-2.0"),
)


def label_maps(labels: Sequence[str] = EMOTIONS) -> tuple[dict[int, str], dict[str, int]]:
    """id2label / label2id over a run's classes (the six emotions of ``--label_set paper`` by default)."""
    return {i: e for i, e in enumerate(labels)}, {e: i for i, e in enumerate(labels)}


def _tiny_waveform_kwargs() -> dict:
    """Shared shape of the tiny wav2vec2-style configs: hidden 96, 3 layers, 32-channel convs, 20 ms frames."""
    return {
        "hidden_size": 96,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "intermediate_size": 192,
        "conv_dim": (32,) * 7,
        "conv_kernel": (10, 3, 3, 3, 3, 2, 2),
        "conv_stride": (5, 2, 2, 2, 2, 2, 2),
        "conv_bias": True,
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 4,
        "hidden_dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "feat_proj_dropout": 0.0,
        "final_dropout": 0.0,
        "layerdrop": 0.0,
        "mask_time_prob": 0.05,
        "mask_time_length": 5,
        "vocab_size": 32,
    }


def demo_config() -> Wav2Vec2Config:
    """A ~0.3M-parameter wav2vec2 (hidden 96, 3 layers, 32-channel convs, 20 ms frames) that learns on a CPU.

    Same architecture family as XLS-R (layer-norm feature encoder, stable layer norm), so the demo
    exercises the real code paths.
    """
    return Wav2Vec2Config(**_tiny_waveform_kwargs(), feat_extract_norm="layer", do_stable_layer_norm=True)


def tiny_config(model_type: str) -> PretrainedConfig:
    """A tiny random config of one family (built locally, no download), for demos and tests.

    The four waveform families share the demo wav2vec2's shape; HuBERT / WavLM use their base layout
    (group-norm feature encoder, post-LN), data2vec-audio its own (layer-norm convs, 5 positional convs);
    Whisper has 2 encoder layers of width 64, 80 mel bins and an 8 s window (DEMO_WHISPER_SECONDS).
    """
    if model_type == "wav2vec2":
        return demo_config()
    if model_type == "hubert":
        return HubertConfig(**_tiny_waveform_kwargs(), feat_extract_norm="group", do_stable_layer_norm=False)
    if model_type == "wavlm":
        return WavLMConfig(
            **_tiny_waveform_kwargs(),
            feat_extract_norm="group",
            do_stable_layer_norm=False,
            num_buckets=32,
            max_bucket_distance=100,
        )
    if model_type == "data2vec-audio":
        kw = _tiny_waveform_kwargs()
        kw.pop("num_conv_pos_embedding_groups"), kw.pop("num_conv_pos_embeddings")
        return Data2VecAudioConfig(
            **kw, num_conv_pos_embedding_groups=4, conv_pos_kernel_size=5, num_conv_pos_embeddings=2
        )
    if model_type == "whisper":
        return WhisperConfig(
            d_model=64,
            encoder_layers=2,
            encoder_attention_heads=4,
            encoder_ffn_dim=128,
            decoder_layers=1,
            decoder_attention_heads=4,
            decoder_ffn_dim=128,
            num_mel_bins=80,
            vocab_size=64,
            max_target_positions=16,
            max_source_positions=DEMO_WHISPER_SECONDS * WHISPER_FRAMES_PER_SECOND,
            dropout=0.0,
            attention_dropout=0.0,
            activation_dropout=0.0,
            encoder_layerdrop=0.0,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=1,
        )
    raise UserError(f"no tiny config for model type {model_type!r}; known: {', '.join(SUPPORTED_MODEL_TYPES)}")


def xlsr_300m_config() -> Wav2Vec2Config:
    """The XLS-R 300M architecture (as in facebook/wav2vec2-xls-r-300m's config), built without a download."""
    return Wav2Vec2Config(
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        conv_dim=(512,) * 7,
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_bias=True,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        num_conv_pos_embeddings=128,
        num_conv_pos_embedding_groups=16,
        hidden_act="gelu",
        hidden_dropout=0.1,
        attention_dropout=0.1,
        activation_dropout=0.0,
        feat_proj_dropout=0.1,
        final_dropout=0.0,
        layerdrop=0.1,
        mask_time_prob=0.075,
        mask_time_length=10,
        vocab_size=32,
    )


def feature_extractor() -> Wav2Vec2FeatureExtractor:
    """16 kHz extractor with per-utterance mean-variance normalisation and attention masks."""
    return Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLING_RATE, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )


def whisper_feature_extractor(num_mel_bins: int = 80, seconds: int = 30) -> WhisperFeatureExtractor:
    """16 kHz log-mel extractor with a `seconds` window (Whisper's own preprocessing)."""
    return WhisperFeatureExtractor(feature_size=num_mel_bins, sampling_rate=SAMPLING_RATE, chunk_length=int(seconds))


def is_whisper(config: PretrainedConfig) -> bool:
    """True for Whisper-encoder models (log-mel input, fixed window, no attention mask)."""
    return getattr(config, "model_type", None) == "whisper"


def padding_invariant(config: PretrainedConfig) -> bool:
    """True when zero padding in a batch leaves each utterance's logits unchanged (up to float error).

    Whisper pads every input to its window anyway; layer-norm feature encoders (XLS-R, large/conformer models,
    data2vec-audio) see the attention mask. Group-norm feature encoders (wav2vec2-base, HuBERT/WavLM base) normalise
    each channel over the whole padded length, so padding shifts their outputs: score those one utterance at a time
    when exact per-utterance logits matter (measured on the tiny HuBERT: up to 0.03 in logits).
    """
    if is_whisper(config) or config.model_type == "data2vec-audio":
        return True
    return getattr(config, "feat_extract_norm", "layer") == "layer"


def input_name(extractor: FeatureExtractionMixin) -> str:
    """The model input the extractor produces: 'input_values' (waveform) or 'input_features' (log-mel)."""
    return extractor.model_input_names[0]


def set_whisper_window(model: PreTrainedModel, extractor: WhisperFeatureExtractor, seconds: int) -> None:
    """Cut a Whisper encoder's window to `seconds` (<= its own): positional table, config and extractor, all saved.

    The stock encoder insists on exactly ``max_source_positions`` frames, so shortening the window is the only stock
    way to avoid computing (and pooling over) 30 s of padding for a 3 s utterance; longer inputs are cut by the
    extractor, as the pipeline does. The first `seconds` x 50 sinusoidal positions are kept unchanged.
    """
    frames = int(seconds) * WHISPER_FRAMES_PER_SECOND
    if int(seconds) != seconds or not 0 < frames <= model.config.max_source_positions:
        raise UserError(
            f"whisper_window_seconds must be a whole number of seconds in "
            f"1..{model.config.max_source_positions // WHISPER_FRAMES_PER_SECOND}, not {seconds}"
        )
    embed = model.encoder.embed_positions
    new = torch.nn.Embedding(frames, embed.embedding_dim).to(embed.weight.device, embed.weight.dtype)
    new.weight.data.copy_(embed.weight.data[:frames])
    new.requires_grad_(False)
    model.encoder.embed_positions = new
    model.encoder.max_source_positions = frames
    model.config.max_source_positions = frames
    fresh = whisper_feature_extractor(extractor.feature_size, int(seconds))
    extractor.__dict__.update(
        {k: v for k, v in fresh.__dict__.items() if k != "mel_filters"} | {"mel_filters": fresh.mel_filters}
    )


def _set_head(
    config: PretrainedConfig,
    classifier_proj_size: int,
    use_weighted_layer_sum: bool,
    layerdrop: float | None,
    labels: Sequence[str] = EMOTIONS,
) -> None:
    """The run's labels, projector width, weighted layer sum and LayerDrop on a backbone config (in place)."""
    id2label, label2id = label_maps(labels)
    config.num_labels = len(labels)
    config.id2label, config.label2id = id2label, label2id
    config.classifier_proj_size = classifier_proj_size
    config.use_weighted_layer_sum = use_weighted_layer_sum
    if layerdrop is not None:
        setattr(config, "encoder_layerdrop" if is_whisper(config) else "layerdrop", layerdrop)


def attention_for(config: PretrainedConfig, requested: str | None) -> str | None:
    """`requested`, or 'eager' when it is 'sdpa' and the family's class has no SDPA path (WavLM in transformers 5)."""
    if requested == "sdpa":
        cls = AutoModelForAudioClassification._model_mapping[type(config)]
        if not getattr(cls, "_supports_sdpa", False):
            logger.info("%s has no SDPA attention: using eager attention", cls.__name__)
            return "eager"
    return requested


# --------------------------------------------------------------------------------------------- attention kernels

SDPA_BACKENDS = ("auto", "flash_efficient", "cudnn", "math", "default")
# Each choice keeps the math kernel as a fallback for inputs its fast kernels do not take (e.g. cuDNN on a CPU).
_SDPA_KERNELS = {
    "flash_efficient": [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH],
    "cudnn": [SDPBackend.CUDNN_ATTENTION, SDPBackend.MATH],
    "math": [SDPBackend.MATH],
}
SDPA_BACKEND_HELP = (
    "SDPA kernels the attention may use: 'auto' (flash + memory-efficient on CUDA, torch's choice on CPU), "
    "'flash_efficient', 'cudnn', 'math' or 'default' (torch's own priority, which picks cuDNN on an H200). "
    "Measured on an H200, XLS-R 300M, variable lengths: flash/efficient 165 samples/s vs cuDNN 71 (cuDNN builds "
    "a graph per new sequence length). WavLM has no SDPA path: it always runs its own attention with the "
    "relative-position bias (F.multi_head_attention_forward, full T x T weights), so this key does not apply."
)


def resolve_sdpa_backend(choice: str, cuda: bool) -> str:
    """The concrete SDPA choice: 'auto' is 'flash_efficient' on CUDA (measured 2.3x cuDNN on an H200 for variable
    shapes) and 'default' elsewhere; UserError for an unknown name."""
    if choice not in SDPA_BACKENDS:
        raise UserError(f"--sdpa_backend must be one of {', '.join(SDPA_BACKENDS)}, not {choice!r}")
    if choice == "auto":
        return "flash_efficient" if cuda else "default"
    return choice


@contextlib.contextmanager
def sdpa_backends(choice: str = "auto", cuda: bool | None = None) -> Iterator[str]:
    """Context in which ``scaled_dot_product_attention`` uses only the kernels of `choice`; yields the resolved
    name. The backward pass follows the kernel its forward picked, so wrapping ``trainer.train()`` covers both.
    `cuda` defaults to ``torch.cuda.is_available()``."""
    resolved = resolve_sdpa_backend(choice, torch.cuda.is_available() if cuda is None else cuda)
    if resolved == "default":
        yield resolved
        return
    with sdpa_kernel(_SDPA_KERNELS[resolved]):
        yield resolved


def attention_kernel(model: PreTrainedModel) -> str:
    """What attention a built model runs, in words (for logs and docs): its attention implementation, and for
    WavLM the relative-position-bias path that has no SDPA/flash kernel."""
    if getattr(model.config, "model_type", None) == "wavlm":
        return "eager (WavLM relative-position bias: F.multi_head_attention_forward, no SDPA/flash)"
    return str(getattr(model.config, "_attn_implementation", None) or "eager")


# --------------------------------------------------------------------------------------------- SpecAugment


def span_mask(
    lengths: torch.Tensor, width: int, mask_prob: float, mask_length: int, min_masks: int = 0
) -> torch.Tensor:
    """(batch, width) bool mask of random spans with the statistics of transformers' ``_compute_mask_indices``,
    built from tensor ops only (no ``nonzero``, no host sync, no numpy), so ``torch.compile`` keeps one graph.

    Row b (real length ``lengths[b]``) gets ``floor(mask_prob * length / mask_length + eps)`` spans (eps ~ U(0, 1)
    shared by the batch, at least `min_masks`, at most ``width // mask_length`` and at most the number of start
    positions ``length - mask_length + 1``), starts drawn uniformly without replacement among those positions, each
    span `mask_length` frames long; spans may overlap, as in the stock function. Uses torch's generator on the
    lengths' device.
    """
    if mask_length > width:
        raise ValueError(f"`mask_length` ({mask_length}) has to be smaller than the sequence length ({width})")
    device = lengths.device
    lengths = lengths.to(torch.float32)
    eps = torch.rand((), device=device)
    spans = torch.floor(mask_prob * lengths / mask_length + eps).clamp_min(min_masks)
    spans = torch.where(spans * mask_length > width, torch.full_like(spans, width // mask_length), spans)
    starts = (lengths - (mask_length - 1)).clamp_min(0)
    spans = torch.minimum(spans, starts)
    position = torch.arange(width, device=device)
    keys = torch.where(position[None] < starts[:, None], torch.rand(len(lengths), width, device=device), 2.0)
    rank = keys.argsort(dim=-1).argsort(dim=-1)  # a uniformly random order of the valid starts, invalid ones last
    chosen = (rank < spans[:, None]).to(torch.int32)
    count = chosen.cumsum(-1)
    before = torch.nn.functional.pad(count, (mask_length, 0))[:, :width]
    return (count - before) > 0  # frame t is masked when a span starts in [t - mask_length + 1, t]


def tensor_mask_hidden_states(
    self: torch.nn.Module,
    hidden_states: torch.Tensor,
    mask_time_indices: torch.Tensor | None = None,
    attention_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Drop-in for the stock ``_mask_hidden_states`` of wav2vec2/HuBERT/WavLM/data2vec-audio (bound to the base
    model by :func:`use_tensor_spec_augment`): the same SpecAugment (time spans -> ``masked_spec_embed``,
    feature spans -> 0, training only, the same config keys) with masks from :func:`span_mask` and ``torch.where``
    instead of numpy masks and boolean index assignment (``aten.nonzero``, which breaks a compiled graph and
    syncs the host every step)."""
    if not getattr(self.config, "apply_spec_augment", True):
        return hidden_states
    batch, frames, hidden = hidden_states.shape
    if mask_time_indices is None and self.config.mask_time_prob > 0 and self.training:
        lengths = (
            attention_mask.sum(-1)
            if attention_mask is not None
            else torch.full((batch,), frames, device=hidden_states.device)
        )
        mask_time_indices = span_mask(
            lengths, frames, self.config.mask_time_prob, self.config.mask_time_length, self.config.mask_time_min_masks
        )
    if mask_time_indices is not None:
        embed = self.masked_spec_embed.to(hidden_states.dtype)
        hidden_states = torch.where(mask_time_indices.bool()[..., None], embed, hidden_states)
    if self.config.mask_feature_prob > 0 and self.training:
        channels = span_mask(
            torch.full((batch,), hidden, device=hidden_states.device),
            hidden,
            self.config.mask_feature_prob,
            self.config.mask_feature_length,
            self.config.mask_feature_min_masks,
        )
        hidden_states = hidden_states.masked_fill(channels[:, None, :], 0)
    return hidden_states


def use_tensor_spec_augment(model: PreTrainedModel) -> bool:
    """Give a waveform model's base module :func:`tensor_mask_hidden_states` in place of its numpy SpecAugment.

    Only this instance changes (an attribute on the base module): the class, the config (``mask_time_prob`` etc.,
    saved true to training) and the checkpoint stay stock, and a reloaded model masks with the stock code. Also
    moves ``masked_spec_embed`` to the model's device (a model built under ``with torch.device('cuda')`` leaves it
    on the CPU: it is created with ``torch.Tensor(...)``). True when the model has the stock method.
    """
    if is_whisper(model.config):
        return False
    base = getattr(model, model.base_model_prefix, None)
    if base is None or not hasattr(base, "_mask_hidden_states"):
        return False
    base._mask_hidden_states = types.MethodType(tensor_mask_hidden_states, base)
    embed = getattr(base, "masked_spec_embed", None)
    device = next((p.device for n, p in model.named_parameters() if not n.endswith("masked_spec_embed")), None)
    if embed is not None and device is not None and embed.device != device:
        embed.data = embed.data.to(device)
    return True


def check_backbone(config: PretrainedConfig, name: str) -> None:
    """UserError unless `config`'s AutoModelForAudioClassification class has the projector + classifier head."""
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        raise UserError(
            f"{name!r} is a {config.model_type!r} model; supported backbones have a stock audio-classification class "
            f"with a projector + classifier head: {', '.join(SUPPORTED_MODEL_TYPES)} (e.g. "
            "facebook/wav2vec2-xls-r-300m, "
            "microsoft/wavlm-base-plus, facebook/hubert-large-ll60k, facebook/data2vec-audio-base, "
            "openai/whisper-small)"
        )


def build_model(
    model_name_or_path: str = DEFAULT_BACKBONE,
    classifier_proj_size: int = 256,
    attn_implementation: str | None = "sdpa",
    layerdrop: float | None = None,
    cache_dir: str | None = None,
    use_weighted_layer_sum: bool = False,
    whisper_window_seconds: int | None = None,
    labels: Sequence[str] = EMOTIONS,
) -> tuple[PreTrainedModel, FeatureExtractionMixin]:
    """Model + feature extractor from a backbone id/dir, a demo alias (DEMO_BACKBONES) or ``xls-r-300m-random``.

    The classification head has one output per name of `labels` (the run's label set), in its order.

    The class is ``AutoModelForAudioClassification`` of the backbone's model type; the extractor is the backbone's
    own (log-mel for Whisper; for waveform models ``do_normalize`` and attention masks are switched on: the
    paper's per-utterance MVN). The backbone id is kept in ``config.hf_ser_backbone`` (read by backbone_info).
    Waveform models draw their SpecAugment masks with tensor ops (:func:`use_tensor_spec_augment`; class, config and
    checkpoint stay stock).
    """
    if model_name_or_path in RANDOM_BACKBONES:
        model_type = DEMO_BACKBONES.get(model_name_or_path, "wav2vec2")
        config = xlsr_300m_config() if model_name_or_path == XLSR_300M_RANDOM else tiny_config(model_type)
        _set_head(config, classifier_proj_size, use_weighted_layer_sum, layerdrop, labels)
        config.hf_ser_backbone = model_name_or_path
        model = AutoModelForAudioClassification.from_config(
            config, attn_implementation=attention_for(config, attn_implementation)
        )
        extractor = (
            whisper_feature_extractor(config.num_mel_bins, DEMO_WHISPER_SECONDS)
            if is_whisper(config)
            else feature_extractor()
        )
    else:
        try:
            config = AutoConfig.from_pretrained(model_name_or_path, cache_dir=cache_dir)
        except OSError as e:
            raise OSError(
                f"could not load the backbone {model_name_or_path!r}: {e}\n"
                f"Give a local folder with --model_name_or_path, make it available in the Hugging Face cache "
                f"(`hf download {model_name_or_path}` on a machine with network), or run with --demo."
            ) from None
        check_backbone(config, model_name_or_path)
        _set_head(config, classifier_proj_size, use_weighted_layer_sum, layerdrop, labels)
        config.hf_ser_backbone = getattr(config, "hf_ser_backbone", None) or str(model_name_or_path)
        model = AutoModelForAudioClassification.from_pretrained(
            model_name_or_path,
            config=config,
            cache_dir=cache_dir,
            attn_implementation=attention_for(config, attn_implementation),
            ignore_mismatched_sizes=True,
        )
        try:
            extractor = AutoFeatureExtractor.from_pretrained(model_name_or_path, cache_dir=cache_dir)
        except OSError:
            logger.warning("%s has no feature extractor config; using the 16 kHz default", model_name_or_path)
            extractor = (
                whisper_feature_extractor(config.num_mel_bins, config.max_source_positions // WHISPER_FRAMES_PER_SECOND)
                if is_whisper(config)
                else feature_extractor()
            )
        if not is_whisper(config) and (
            not getattr(extractor, "do_normalize", True) or not getattr(extractor, "return_attention_mask", True)
        ):
            logger.info("enabling do_normalize and return_attention_mask on the feature extractor (the paper's MVN)")
            extractor.do_normalize, extractor.return_attention_mask = True, True
    use_tensor_spec_augment(model)
    if whisper_window_seconds and is_whisper(config):
        set_whisper_window(model, extractor, whisper_window_seconds)
    elif whisper_window_seconds:
        logger.info("whisper_window_seconds ignored: %s is not a Whisper model", model_name_or_path)
    return model, extractor


def freeze(model: PreTrainedModel, feature_encoder: bool = False, base_model: bool = False) -> None:
    """Freeze the convolutional front end (`feature_encoder`) or the whole pretrained encoder (`base_model`).

    Waveform families use their own ``freeze_feature_encoder`` / ``freeze_base_model``; Whisper has
    ``freeze_encoder`` and, as its front end, the two input convolutions. Layer weights, projector and classifier
    stay trainable either way.
    """
    if is_whisper(model.config):
        if base_model:
            model.freeze_encoder()
        elif feature_encoder:
            for conv in (model.encoder.conv1, model.encoder.conv2):
                conv.requires_grad_(False)
        return
    if base_model:
        model.freeze_base_model()
    elif feature_encoder:
        model.freeze_feature_encoder()


def encoder_of(model: PreTrainedModel) -> torch.nn.Module:
    """The pretrained encoder module under the head (``model.wav2vec2``, ``model.wavlm``, ..., ``model.encoder``)."""
    return model.encoder if is_whisper(model.config) else getattr(model, model.base_model_prefix)


def frame_mask(model: PreTrainedModel, frames: int, attention_mask: torch.Tensor | None, batch: int) -> torch.Tensor:
    """(batch, frames) float mask of the frames the stock head averages over.

    Waveform families: the frames covered by the attention mask. Whisper: every frame of the window (its head
    pools over padding too), and likewise a waveform model given no attention mask.
    """
    if attention_mask is None or is_whisper(model.config):
        return torch.ones(batch, frames)
    return model._get_feature_vector_attention_mask(frames, attention_mask).to(torch.float32)


def backbone_info(config: PretrainedConfig) -> dict:
    """{'name', 'family', 'licence'} of the pretrained backbone under a checkpoint, for the model card.

    `name` is the id the model was built from (``config.hf_ser_backbone``, else ``_name_or_path``); `licence` is
    that of the pretrained weights when the id is a known family on the Hub, 'none (random initialisation)' for
    the demo configs, else 'unknown: see the backbone's model card'.
    """
    name = getattr(config, "hf_ser_backbone", None) or getattr(config, "_name_or_path", "") or config.model_type
    family = getattr(config, "model_type", "unknown")
    if name in RANDOM_BACKBONES:
        licence = "none (random initialisation)"
    else:
        licence = next(
            (lic for prefix, lic in BACKBONE_LICENCES if str(name).lower().startswith(prefix)),
            "unknown: see the backbone's model card",
        )
    return {"name": str(name), "family": family, "licence": licence}
