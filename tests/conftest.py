"""Shared fixtures: a tiny prepared synthetic corpus, a tiny in-memory dataset in the common schema, a tiny trained
grid, and a check that a figure is not blank (every stage's tests import these from here)."""

import logging
import os
from pathlib import Path

import datasets
import numpy as np
import pytest
from matplotlib.image import imread

from hf_ser.data.audio import encode_wav
from hf_ser.data.corpora import FEATURES
from hf_ser.labels import EMOTIONS, SAMPLING_RATE

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def tone_dataset(n: int = 48, languages=("FRE", "ITA"), corpora=("c1", "c2"), seed: int = 0) -> datasets.Dataset:
    """Utterances in the prepared schema whose pitch depends on the emotion: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    rows = {k: [] for k in FEATURES}
    for i in range(n):
        label = i % len(EMOTIONS)
        dur = rng.uniform(0.4, 1.2)
        t = np.arange(int(dur * SAMPLING_RATE)) / SAMPLING_RATE
        wave = 0.3 * np.sin(2 * np.pi * (120 + 60 * label) * t) + 0.01 * rng.standard_normal(len(t))
        rows["audio"].append({"bytes": encode_wav(wave.astype(np.float32)), "path": f"utt{i}.wav"})
        rows["label"].append(label)
        rows["language"].append(languages[i % len(languages)])
        rows["corpus"].append(corpora[(i // 3) % len(corpora)])
        rows["speaker"].append(f"s{i % 4}")
        rows["path"].append(f"utt{i}.wav")
        rows["length"].append(len(t))
    return wav_rows_to_dataset(rows)


def wav_rows_to_dataset(rows: dict) -> datasets.Dataset:
    """Build a Dataset with the prepared schema (Audio.encode_example would need torchcodec; casting does not)."""
    raw = datasets.Features(
        {**FEATURES, "audio": {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}}
    )
    return datasets.Dataset.from_dict(rows, features=raw).cast(FEATURES)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on shared cores: one intra-op thread avoids spinning thread pools (restored afterwards)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def hf_ser_cache(tmp_path_factory):
    """A session-wide HF_SER_CACHE so the synthetic corpus is synthesised once per test run."""
    path = tmp_path_factory.mktemp("hf_ser_cache")
    old = os.environ.get("HF_SER_CACHE")
    os.environ["HF_SER_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("HF_SER_CACHE", None)
    else:
        os.environ["HF_SER_CACHE"] = old


@pytest.fixture(autouse=True)
def restore_logging():
    """Commands call setup_logging(), which installs a handler on the current stderr: under pytest that is a capture
    stream closed after the test, so later log records would print 'Logging error'. Put the handlers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hf_level = logging.getLogger("hf_ser").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("hf_ser").setLevel(hf_level)


def assert_png_not_blank(path: Path) -> None:
    """The PNG opens and shows something (pixel variance well above a flat image's)."""
    assert path.is_file(), f"{path} was not written"
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert float(image[..., :3].var()) > 1e-3, f"{path} looks blank"


def train_tiny_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-epoch demo multilingual run on FRE + ITA (3 utterances per cell), trained once per test session."""
    from hf_ser.experiments.recipe.__main__ import main

    out = tmp_path_factory.getbasetemp() / "analysis_tiny_grid"
    code = main(
        [
            "neo_latin",
            "--demo",
            "--languages",
            "FRE",
            "ITA",
            "--synthetic_per_cell",
            "3",
            "--num_train_epochs",
            "1",
            "--output_dir",
            str(out),
        ]
    )  # a finished run is reused, not retrained
    assert code == 0
    return out
