"""Build the paper's model: a stock ``Wav2Vec2ForSequenceClassification``.

XLS-R encoder -> per-frame linear projector to 256-d -> mean pooling over the
attention mask -> linear classifier. The projector is linear, so projecting then
pooling equals the paper's pooling then projecting. No custom class: every
checkpoint loads in ``pipeline("audio-classification")`` without remote code.
"""

from __future__ import annotations

import logging

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForSequenceClassification,
)

from .labels import EMOTIONS, SAMPLING_RATE

logger = logging.getLogger(__name__)

DEFAULT_BACKBONE = "facebook/wav2vec2-xls-r-300m"
DEMO_BACKBONE = "demo-tiny"  # a small random config, built locally
XLSR_300M_RANDOM = "xls-r-300m-random"  # XLS-R 300M architecture, random weights (speed/memory work)


def label_maps() -> tuple[dict[int, str], dict[str, int]]:
    """id2label / label2id over the six emotions."""
    return {i: e for i, e in enumerate(EMOTIONS)}, {e: i for i, e in enumerate(EMOTIONS)}


def demo_config() -> Wav2Vec2Config:
    """A ~0.3M-parameter wav2vec2 (hidden 96, 3 layers, 32-channel convs, 20 ms frames) that learns on a CPU.

    Same architecture family as XLS-R (layer-norm feature encoder, stable layer norm), so the demo
    exercises the real code paths.
    """
    return Wav2Vec2Config(
        hidden_size=96, num_hidden_layers=3, num_attention_heads=4, intermediate_size=192,
        conv_dim=(32,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_bias=True, feat_extract_norm="layer", do_stable_layer_norm=True,
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
        final_dropout=0.0, layerdrop=0.0, mask_time_prob=0.05, mask_time_length=5,
        vocab_size=32,
    )


def xlsr_300m_config() -> Wav2Vec2Config:
    """The XLS-R 300M architecture (as in facebook/wav2vec2-xls-r-300m's config), built without a download."""
    return Wav2Vec2Config(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
        conv_dim=(512,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_bias=True, feat_extract_norm="layer", do_stable_layer_norm=True,
        num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16, hidden_act="gelu",
        hidden_dropout=0.1, attention_dropout=0.1, activation_dropout=0.0, feat_proj_dropout=0.1,
        final_dropout=0.0, layerdrop=0.1, mask_time_prob=0.075, mask_time_length=10,
        vocab_size=32,
    )


def feature_extractor() -> Wav2Vec2FeatureExtractor:
    """16 kHz extractor with per-utterance mean-variance normalisation and attention masks."""
    return Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLING_RATE, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )


def build_model(
    model_name_or_path: str = DEFAULT_BACKBONE,
    classifier_proj_size: int = 256,
    attn_implementation: str | None = "sdpa",
    layerdrop: float | None = None,
    cache_dir: str | None = None,
) -> tuple[Wav2Vec2ForSequenceClassification, Wav2Vec2FeatureExtractor]:
    """Model + feature extractor from a backbone id/dir, or from ``demo-tiny`` / ``xls-r-300m-random`` configs."""
    id2label, label2id = label_maps()
    head = dict(
        num_labels=len(EMOTIONS), id2label=id2label, label2id=label2id,
        classifier_proj_size=classifier_proj_size, use_weighted_layer_sum=False,
    )
    if model_name_or_path in (DEMO_BACKBONE, XLSR_300M_RANDOM):
        config = demo_config() if model_name_or_path == DEMO_BACKBONE else xlsr_300m_config()
        for k, v in head.items():
            setattr(config, k, v)
        if layerdrop is not None:
            config.layerdrop = layerdrop
        model = Wav2Vec2ForSequenceClassification._from_config(config, attn_implementation=attn_implementation)
        return model, feature_extractor()
    try:
        config = AutoConfig.from_pretrained(model_name_or_path, cache_dir=cache_dir, **head)
        if layerdrop is not None:
            config.layerdrop = layerdrop
        model = Wav2Vec2ForSequenceClassification.from_pretrained(
            model_name_or_path, config=config, cache_dir=cache_dir, attn_implementation=attn_implementation,
            ignore_mismatched_sizes=True,
        )
    except OSError as e:
        raise OSError(
            f"could not load the backbone {model_name_or_path!r}: {e}\n"
            f"Give a local folder with --model_name_or_path, make it available in the Hugging Face cache "
            f"(`hf download {DEFAULT_BACKBONE}` on a machine with network), or run with --demo."
        ) from None
    try:
        extractor = AutoFeatureExtractor.from_pretrained(model_name_or_path, cache_dir=cache_dir)
    except OSError:
        logger.warning("%s has no feature extractor config; using the 16 kHz default", model_name_or_path)
        extractor = feature_extractor()
    if not getattr(extractor, "do_normalize", True) or not getattr(extractor, "return_attention_mask", True):
        logger.info("enabling do_normalize and return_attention_mask on the feature extractor (the paper's MVN)")
        extractor.do_normalize, extractor.return_attention_mask = True, True
    return model, extractor
