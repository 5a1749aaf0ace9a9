"""experiments.upstream: the head on cached pooled features equals the frozen stock model; features reused; table."""

import json

import numpy as np
import pytest
import torch
from conftest import tone_dataset
from transformers import pipeline

from hf_ser.experiments import upstream as U
from hf_ser.train.modeling import build_model, freeze
from hf_ser.train.trainer import SERCollator, make_transform

FAMILIES = ["demo-tiny", "demo-tiny-hubert", "demo-tiny-wavlm", "demo-tiny-data2vec", "demo-tiny-whisper"]


@pytest.mark.parametrize("alias", FAMILIES)
def test_pooled_head_equals_full_model(alias, one_torch_thread):
    """Linear weighted sum + projector + mean pooling commute: head(pooled layers) == stock model logits."""
    torch.manual_seed(0)
    model, fe = build_model(alias, use_weighted_layer_sum=True)
    freeze(model, base_model=True)
    with torch.no_grad():
        model.layer_weights.copy_(torch.randn_like(model.layer_weights))  # not the uniform init
    model.eval()
    ds = tone_dataset(5)
    feats = U.pooled_layer_features(model, fe, ds, batch_size=1)
    assert feats.shape == (5, model.config.num_hidden_layers + 1, model.config.hidden_size)
    with torch.no_grad():
        head = U.PooledHead(model)(torch.as_tensor(feats)).logits
        full = torch.cat(
            [
                model(
                    **{
                        k: v
                        for k, v in SERCollator(fe)(
                            [{k: v[0] for k, v in make_transform(None, fe)(ds[i : i + 1]).items()}]
                        ).items()
                        if k != "labels"
                    }
                ).logits
                for i in range(5)
            ]
        )
    torch.testing.assert_close(head, full, rtol=1e-4, atol=1e-5)


def test_features_cached_once_and_reused(tmp_path, one_torch_thread):
    model, fe = build_model("demo-tiny", use_weighted_layer_sum=True)
    ds = tone_dataset(6)
    a, seconds, reused = U.cached_features(model, fe, ds, tmp_path, "train", "demo-tiny", 4, "cpu")
    assert not reused and seconds > 0
    b, seconds, reused = U.cached_features(model, fe, ds, tmp_path, "train", "demo-tiny", 4, "cpu")
    assert reused and seconds == 0.0 and np.array_equal(a, b)
    _, _, reused = U.cached_features(model, fe, ds.select(range(5)), tmp_path, "train", "demo-tiny", 4, "cpu")
    assert not reused  # other rows: extracted again


def test_upstream_command_table_plot_and_stock_model(tmp_path, hf_ser_cache, capsys, one_torch_thread):
    out = tmp_path / "up"
    argv = [
        "--demo",
        "--backbones",
        "demo-tiny",
        "demo-tiny-whisper",
        "--languages",
        "FRE",
        "ITA",
        "--synthetic_per_cell",
        "3",
        "--num_train_epochs",
        "2",
        "--output_dir",
        str(out),
    ]
    assert U.main(argv) == 0
    text = capsys.readouterr().out
    assert "| demo-tiny |" in text and "| demo-tiny-whisper |" in text
    csv = (out / "upstream.csv").read_text().splitlines()
    assert csv[0] == "backbone,FRE_uar,FRE_f1,ITA_uar,ITA_f1,all_uar,all_f1" and len(csv) == 3
    assert (out / "layer_weights.png").stat().st_size > 1000
    run = out / "upstream-demo-tiny-multi"
    record = json.loads((run / "metrics.json").read_text())
    weights = record["layer_weights"]
    assert len(weights) == 4 and abs(sum(weights) - 1) < 1e-5 and record["backbone"]["family"] == "wav2vec2"
    # the saved checkpoint is the stock model with the learned weights: the pipeline loads and runs it
    clf = pipeline("audio-classification", model=str(run / "model"), device="cpu")
    assert len(clf({"raw": np.zeros(16000, np.float32) + 0.01, "sampling_rate": 16000}, top_k=None)) == 6
    assert clf.model.config.use_weighted_layer_sum
    assert U.main(argv) == 0  # rerun: features reused from the cache
    assert "features reused" in capsys.readouterr().out
