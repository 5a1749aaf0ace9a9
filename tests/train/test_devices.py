"""Every inference path feeds a model its inputs on the model's own device, checked without a GPU.

On a GPU these paths put the model on CUDA; a batch left on the CPU fails there with ``Input type
(torch.FloatTensor) and weight type (torch.cuda.FloatTensor)``, an error no CPU run can show, since there model and
inputs share the one device. Here the model is moved to PyTorch's ``meta`` device instead (parameters without
data), and a forward pre-hook asserts that every tensor reaching it is on the parameters' device, then stops the
call (nothing after the forward can run on data-less tensors). A path that forgets to move its inputs feeds CPU
tensors to the meta model and fails the assertion.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import tone_dataset

from hf_ser.data.dataset import DataArguments
from hf_ser.experiments import upstream as U
from hf_ser.infer import evaluate as E
from hf_ser.study.analysis import features as F
from hf_ser.train.modeling import build_model, freeze


class Reached(Exception):
    """The model's forward was reached with every input on the model's device."""


def check_inputs_follow(module: torch.nn.Module) -> list[list[torch.device]]:
    """Make `module` assert, at each forward, that its tensor inputs are on its parameters' device, then stop.

    Returns the list the devices seen at each call are appended to.
    """
    seen: list[list[torch.device]] = []

    def hook(mod, args, kwargs):
        """Record the input devices; fail unless they match the parameters', else stop the call."""
        device = next(mod.parameters()).device
        devices = [t.device for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor)]
        seen.append(devices)
        assert devices and all(d == device for d in devices), f"inputs on {devices}, model on {device}"
        raise Reached

    module.register_forward_pre_hook(hook, with_kwargs=True)
    return seen


@pytest.fixture(scope="module")
def tiny():
    """The demo-tiny extractor and six tone clips."""
    return build_model("demo-tiny")[1], tone_dataset(6)


def fresh_meta_model(tiny):
    """A demo-tiny model (weighted layer sum) on the meta device, checked at each forward; extractor, clips."""
    extractor, ds = tiny
    net, _ = build_model("demo-tiny", use_weighted_layer_sum=True)
    net.to("meta")
    return net, extractor, ds, check_inputs_follow(net)


def test_evaluate_model_logits_moves_inputs_to_the_model(tiny):
    net, extractor, ds, seen = fresh_meta_model(tiny)
    waves = [np.zeros(8000, np.float32), np.zeros(12000, np.float32)]
    with pytest.raises(Reached):
        E.model_logits(net, extractor, waves, batch_size=2, device="meta")
    assert seen and all(d.type == "meta" for d in seen[0])


def test_upstream_layer_features_move_inputs_to_the_model(tiny):
    net, extractor, ds, seen = fresh_meta_model(tiny)
    with pytest.raises(Reached):
        U.pooled_layer_features(net, extractor, ds, batch_size=2, device="meta")
    assert seen


@pytest.mark.parametrize("path", ["extract", "predict_logits"])
def test_analysis_passes_move_inputs_to_the_model(tiny, tmp_path, path):
    net, extractor, ds, seen = fresh_meta_model(tiny)
    model = F.AnalysisModel(net, extractor, "t", "demo-tiny", "0", False)
    with pytest.raises(Reached):
        if path == "extract":
            F.extract(model, ds, tmp_path, batch_size=2, device="meta", num_workers=0)
        else:
            F.predict_logits(model, ds, batch_size=2, device="meta", num_workers=0)
    assert seen


def test_upstream_head_is_evaluated_on_the_device_the_trainer_moved_it_to(tiny, tmp_path, monkeypatch):
    """The Trainer puts the head on CUDA when there is one; the test split's features must follow it there.

    This is the bug the CUDA audit found: ``head(torch.as_tensor(test_x))`` kept the features on the CPU.
    """
    extractor, ds = tiny
    net, _ = build_model("demo-tiny", use_weighted_layer_sum=True)
    freeze(net, feature_encoder=True, base_model=True)
    seen: list = []

    def train_on_another_device(trainer):
        """Stand-in for SERTrainer.train on a GPU: the model ends up on a device other than the CPU."""
        trainer.model.to("meta")
        seen.append(check_inputs_follow(trainer.model))

    monkeypatch.setattr(U.SERTrainer, "train", train_on_another_device)
    layers = net.config.num_hidden_layers + 1
    x = np.zeros((len(ds), layers, net.config.hidden_size), np.float32)
    args = U.UpstreamArguments(["demo-tiny"], ["FRE", "ITA"], output_dir=str(tmp_path), num_train_epochs=1)
    with pytest.raises(Reached):
        U.train_head("h", "demo-tiny", net, extractor, ds, x, ds, x, args, DataArguments(), {})
    assert seen and seen[0]
