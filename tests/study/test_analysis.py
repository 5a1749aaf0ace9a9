"""hf_ser.study.analysis: layer naming against transformers, one-pass extraction, probes, t-SNE, confusion, `all`."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_png_not_blank, tone_dataset, train_tiny_grid

from hf_ser.labels import EMOTIONS
from hf_ser.study.analysis import __main__ as cli
from hf_ser.study.analysis.confusion import confusion_panels, row_normalize, run_confusion, top_pairs
from hf_ser.study.analysis.features import AnalysisError, check_layers, extract, load_model, num_layer_entries
from hf_ser.study.analysis.index import Page
from hf_ser.study.analysis.tsne import default_layers, embedding_map
from hf_ser.train.modeling import build_model, demo_config
from hf_ser.train.runs import write_predictions

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def grid(tmp_path_factory, hf_ser_cache) -> Path:
    return train_tiny_grid(tmp_path_factory)


# ----------------------------------------------------------------------------- transformers contract


def test_hidden_states_are_block_inputs_then_outputs_and_last_is_before_final_norm():
    torch.manual_seed(0)
    model, _ = build_model("demo-tiny")
    model.eval()
    encoder = model.wav2vec2.encoder
    seen: dict[str, torch.Tensor] = {}
    encoder.layers[0].register_forward_pre_hook(
        lambda m, args, kwargs: seen.__setitem__("in", args[0] if args else kwargs["hidden_states"]), with_kwargs=True
    )
    for i, layer in enumerate(encoder.layers):
        layer.register_forward_hook(lambda m, a, o, i=i: seen.__setitem__(i, o[0] if isinstance(o, tuple) else o))
    x = torch.randn(2, 8000)
    mask = torch.ones(2, 8000, dtype=torch.long)
    mask[1, 5000:] = 0
    with torch.no_grad():
        out = model.wav2vec2(x, attention_mask=mask, output_hidden_states=True)
    hs = out.hidden_states
    assert len(hs) == model.config.num_hidden_layers + 1 == num_layer_entries(model.config)
    assert torch.equal(hs[0], seen["in"])  # layer 0 = input of block 1 (CNN + projection + positional conv)
    for i in range(model.config.num_hidden_layers):
        assert torch.equal(hs[i + 1], seen[i])  # layer i = output of block i
    assert model.config.do_stable_layer_norm
    assert not torch.allclose(hs[-1], out.last_hidden_state)  # before the final LayerNorm ...
    assert torch.allclose(encoder.layer_norm(hs[-1]), out.last_hidden_state, atol=1e-6)  # ... which gives it


def test_extraction_is_one_pass_pooled_over_the_mask_and_in_row_order(tmp_path):
    ds = tone_dataset(n=10)
    loaded = load_model(None, "demo-tiny", "cpu")
    calls = []
    loaded.model.wav2vec2.register_forward_hook(lambda *a: calls.append(1))
    feats = extract(loaded, ds, tmp_path / "f", batch_size=4, device="cpu")
    assert len(calls) == 3  # ceil(10 / 4) forward passes for every layer together
    entries = loaded.config.num_hidden_layers + 1
    assert feats.num_layers == entries and len(list((tmp_path / "f").glob("layer_*.npy"))) == entries
    assert feats.layer(0).shape == (10, loaded.config.hidden_size)
    assert feats.projector().shape == (10, loaded.config.classifier_proj_size)
    assert list(feats.labels) == ds["label"] and list(feats.rows["path"]) == ds["path"]
    net, extractor = loaded.model, loaded.extractor
    from hf_ser.train.trainer import make_transform

    for row in (0, 7):  # one utterance alone: no padding, so a plain mean over frames
        wave = make_transform(None)(ds[row : row + 1])["input_values"][0]
        inputs = extractor(wave, sampling_rate=16000, return_tensors="pt", return_attention_mask=True)
        with torch.no_grad():
            out = net(**inputs, output_hidden_states=True)
            final = net.wav2vec2.encoder.layer_norm(out.hidden_states[-1])
        for i in range(entries):
            np.testing.assert_allclose(feats.layer(i)[row], out.hidden_states[i][0].mean(0).numpy(), atol=2e-4)
        np.testing.assert_allclose(feats.final_norm()[row], final[0].mean(0).numpy(), atol=2e-4)
        np.testing.assert_allclose(feats.logits()[row], out.logits[0].numpy(), atol=2e-4)


def test_layer_range_errors_name_the_valid_range():
    config = demo_config()
    assert check_layers([0, 3], config) == [0, 3]
    with pytest.raises(AnalysisError, match=r"valid layers are 0\.\.3"):
        check_layers([4, 18], config)


def test_default_tsne_layers_scale_like_4_and_18_of_24():
    assert default_layers(24) == [4, 18]
    assert default_layers(12) == [2, 9]
    assert default_layers(3) == [1, 2]
    assert default_layers(1) == [1]


def test_embedding_map_silhouette_sees_separated_clusters():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    x = rng.normal(size=(60, 4)) + 10.0 * np.eye(4)[labels]
    languages = np.array(["FRE", "ITA"] * 30)
    m = embedding_map(x, labels, languages, seed=0)
    assert m["coords"].shape == (60, 2)
    assert m["silhouette_emotion"] > 0.5 and abs(m["silhouette_language"]) < 0.1, m
    again = embedding_map(x, labels, languages, seed=0)
    np.testing.assert_allclose(m["coords"], again["coords"])  # seeded


# ----------------------------------------------------------------------------- confusion


def fake_predictions(path: Path) -> Path:
    """Predictions where sadness and fear are swapped a third of the time, in both groups."""
    rows = []
    for lang in ("FRE", "ITA", "ENG"):
        for e in EMOTIONS:
            for i in range(6):
                pred = e
                if e == "sadness" and i < 2:
                    pred = "fear"
                elif e == "fear" and i < 2:
                    pred = "sadness"
                elif e == "anger" and i == 0:
                    pred = "disgust"
                rows.append(
                    {
                        "path": f"{lang}{e}{i}.wav",
                        "language": lang,
                        "corpus": "c",
                        "speaker": "s",
                        "label": e,
                        "pred": pred,
                    }
                )
    path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path / "predictions.csv", index=False)
    return path


def test_confusion_rows_sum_to_one_and_names_sadness_fear(tmp_path, capsys):
    run = fake_predictions(tmp_path / "run")
    payload = run_confusion(run)
    assert [p["name"] for p in payload["panels"]] == ["all", "neo_latin", "others"]
    for p in payload["panels"]:
        norm = np.array(p["normalised"], dtype=float)
        np.testing.assert_allclose(norm.sum(1), 1.0)
        assert p["top_pairs"][0]["pair"] == ["fear", "sadness"] and p["top_pairs"][0]["rate"] == pytest.approx(1 / 3)
    assert set(payload["per_language"]) == {"FRE", "ITA", "ENG"}
    assert "sadness->fear" in payload["caption"] and "fear<->sadness" in capsys.readouterr().out
    assert_png_not_blank(run / "analysis" / "confusion.png")
    assert json.loads((run / "analysis" / "confusion.json").read_text())["caption"] == payload["caption"]


def test_rows_without_utterances_are_nan_not_zero():
    counts = np.array([[3, 1], [0, 0]])
    norm = row_normalize(counts)
    assert norm[0].tolist() == [0.75, 0.25] and np.isnan(norm[1]).all()
    df = pd.DataFrame({"language": ["FRE"] * 2, "y_true": [0, 0], "y_pred": [0, 5]})
    panels, _ = confusion_panels(df)
    assert len(panels) == 1 and panels[0]["normalised"][1] == [None] * len(EMOTIONS)
    assert top_pairs(np.full((6, 6), np.nan)) == []


def test_page_renders_markdown_and_html_with_relative_images():
    page = Page("t <&>")
    page.heading(2, "Fig. 1")
    page.text("a < b")
    page.images([("run a/layers.png", "alt")])
    page.table(["k", "UAR"], [["0", "16.7"]], "caption")
    md, html = page.markdown(), page.html()
    assert "![alt](run%20a/layers.png)" in md and "| 0 | 16.7 |" in md
    assert "<h1>t &lt;&amp;&gt;</h1>" in html and 'src="run%20a/layers.png"' in html and "a &lt; b" in html


def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["layers", str(tmp_path / "nope")]) == 2
    assert "not a finished hf_ser run" in capsys.readouterr().err
    assert not (tmp_path / "nope").exists()  # nothing written for a wrong path
    assert cli.main(["confusion", str(tmp_path)]) == 2
    assert "predictions.csv not found" in capsys.readouterr().err


# ----------------------------------------------------------------------------- on a trained demo run


def test_layers_on_a_demo_run_has_one_entry_per_layer(grid):
    run = grid / "multi-neo_latin-seed0"
    assert cli.main(["layers", str(run)]) == 0
    payload = json.loads((run / "analysis" / "layers.json").read_text())
    depth = json.loads((run / "model" / "config.json").read_text())["num_hidden_layers"]
    assert len(payload["layers"]) == depth + 1 == payload["num_layer_entries"]
    assert [e["layer"] for e in payload["layers"]] == list(range(depth + 1))
    assert set(payload["layers"][0]["per_language"]) == {"FRE", "ITA"}
    assert {"final_norm", "projector", "classifier"} <= set(payload["reference"])
    # the model's own head on the cached logits reproduces the run's test metrics
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]["all"]
    assert payload["reference"]["classifier"]["uar"] == pytest.approx(metrics["uar"], abs=1e-6)
    assert len(pd.read_csv(run / "analysis" / "layers.csv")) > depth
    assert_png_not_blank(run / "analysis" / "layers.png")
    # a never fine-tuned backbone on the same splits, plotted beside the fine-tuned curve
    assert cli.main(["layers", str(run), "--model", "demo-tiny"]) == 0
    frozen = json.loads((run / "analysis" / "layers-demo-tiny.json").read_text())
    assert frozen["finetuned"] is False and frozen["n_train"] == payload["n_train"]
    assert_png_not_blank(run / "analysis" / "layers-demo-tiny.png")


def test_tsne_on_a_demo_run(grid, capsys):
    run = grid / "multi-neo_latin-seed0"
    assert cli.main(["tsne", str(run), "--layers", "1", "3"]) == 0
    printed = capsys.readouterr().out
    for layer in (1, 3):
        payload = json.loads((run / "analysis" / f"tsne-layer{layer:02d}.json").read_text())
        assert payload["layer"] == layer and payload["silhouette_emotion"] is not None
        assert f"layer {layer}: silhouette emotion {payload['silhouette_emotion']:.3f}" in printed
        assert_png_not_blank(run / "analysis" / f"tsne-layer{layer:02d}.png")
    assert_png_not_blank(run / "analysis" / "tsne-layers-1-3.png")
    assert cli.main(["tsne", str(run), "--space", "projector"]) == 0
    assert json.loads((run / "analysis" / "tsne-projector.json").read_text())["dim"] == 256
    assert_png_not_blank(run / "analysis" / "tsne-projector.png")
    assert cli.main(["tsne", str(run), "--layers", "4", "18"]) == 2
    assert "valid layers are 0..3" in capsys.readouterr().err


def test_confusion_and_all_on_a_demo_grid(grid):
    run = grid / "multi-neo_latin-seed0"
    assert cli.main(["confusion", str(run)]) == 0
    assert_png_not_blank(run / "analysis" / "confusion.png")
    assert cli.main(["all", str(grid)]) == 0
    out = grid / "analysis"
    index = (out / "index.md").read_text()
    assert "Table 2" in index and (out / "index.html").is_file()
    for name in ("layers.png", "tsne-layers-1-2.png", "tsne-projector.png", "confusion.png"):
        assert f"multi-neo_latin-seed0/{name}" in index
        assert_png_not_blank(out / "multi-neo_latin-seed0" / name)
    assert_png_not_blank(out / "table2.png")
    summary = json.loads((out / "index.json").read_text())
    assert set(summary["runs"]["multi-neo_latin-seed0"].values()) == {"ok"}


@pytest.mark.slow
def test_layer_probe_benchmark_quick(capsys):
    sys.path.insert(0, str(BENCH_DIR))
    returned = importlib.import_module("layer_probe").main(["--quick"])
    printed = json.loads([l for l in capsys.readouterr().out.splitlines() if l.strip()][-1])
    assert printed == json.loads(json.dumps(returned)) and printed["benchmark"] == "layer_probe"
    assert printed["ratio"] > 0 and printed["peak_rss_mb"] > 0
    assert printed["same_logits"] is True and printed["layer_files"] == printed["layer_entries"] == 4


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (size, mtime_ns) of every file below `folder`."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_report_and_analysis_write_nothing_under_home_nor_into_the_runs(grid, tmp_path):
    """A fresh HOME stays empty (matplotlib's font cache included) and `analysis all` keeps its feature caches
    under its --output_dir: the run folders are only read. One subprocess, as a user's shell would start it."""
    home, out, report_dir = tmp_path / "home", tmp_path / "analysis", tmp_path / "report"
    home.mkdir()
    run = grid / "multi-neo_latin-seed0"
    before = _snapshot(run)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MPLCONFIGDIR", "HF_SER_OWNED"))}
    env.update(HOME=str(home), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    env.pop("HF_HOME", None)
    script = (
        "import sys; from hf_ser.study.report.__main__ import main as report; "
        "from hf_ser.study.analysis.__main__ import main as analysis; "
        f"sys.exit(report([{str(grid)!r}, '--output_dir', {str(report_dir)!r}]) or analysis(['all', {str(grid)!r}, "
        f"'--output_dir', {str(out)!r}, '--only', 'layers', 'confusion', '--no_progress']))"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
    assert _snapshot(run) == before  # nothing added to or changed in the run folder
    assert (out / "multi-neo_latin-seed0" / "features" / "finetuned" / "test" / "meta.json").is_file()
    assert (out / "multi-neo_latin-seed0" / "layers.png").is_file() and (report_dir / "claims.md").is_file()
    assert "it/s" not in done.stderr and "batch/s" not in done.stderr  # --no_progress: no bars


def test_confusion_follows_a_runs_own_label_set(tmp_path: Path) -> None:
    """A 4-class run's predictions.csv gives 4 x 4 panels named by its classes, with its own confusions."""
    four = ["anger", "happiness", "neutral", "sadness"]
    truth = [0, 0, 1, 1, 2, 2, 3, 3]
    guess = [0, 0, 1, 3, 2, 2, 3, 3]  # one happiness -> sadness
    logits = np.eye(4)[guess] * 5.0
    meta = {"path": [f"u{i}.wav" for i in range(8)], "language": ["ENG"] * 8, "corpus": ["iemocap"] * 8}
    write_predictions(tmp_path / "predictions.csv", {**meta, "speaker": ["s"] * 8, "label": truth}, logits, four)
    payload = run_confusion(tmp_path, tmp_path / "out")
    panel = payload["panels"][0]
    assert panel["labels"] == four and np.asarray(panel["counts"]).shape == (4, 4)
    assert panel["top_confusions"][0] == {"true": "happiness", "pred": "sadness", "rate": 0.5, "count": 1}
    assert (tmp_path / "out" / "confusion.png").is_file()
