"""Fig. 2 / Fig. 4: t-SNE maps of utterance embeddings, coloured by emotion and by language, with a number.

Each map has two panels (the same points coloured by emotion, then by language). Beside it, the silhouette
score of the emotion labels and of the language labels, computed on the standardised embedding itself (before
t-SNE, euclidean), goes in the title and in the JSON, so the picture comes with a cluster-separation number.

    hf-ser analysis tsne RUN_DIR --layers 4 18          # Fig. 2: hidden states of layers 4 and 18
    hf-ser analysis tsne RUN_DIR --space projector      # Fig. 4: the 256-d pooled projection
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from hf_ser.figures import emotion_colours, language_colours, new_figure, save_figure
from hf_ser.labels import EMOTIONS, language_order
from hf_ser.safe_io import atomic_write_json
from hf_ser.study.analysis.common import analysis_dir, feature_cache_dir, thread_limit
from hf_ser.study.analysis.features import FINETUNED, AnalysisError, check_layers, model_config, model_tag, run_features
from hf_ser.train.runs import RunRecord

logger = logging.getLogger(__name__)

SPACES = ("layers", "projector")
PCA_DIMS = 50


def default_layers(depth: int) -> list[int]:
    """Two layers scaled to the model depth like the paper's 4 and 18 of 24 (at least 1)."""
    return sorted({max(1, round(depth * 4 / 24)), max(1, round(depth * 18 / 24))})


def silhouette(x: np.ndarray, groups: np.ndarray) -> float | None:
    """Silhouette of `groups` on `x` (euclidean); None when there are fewer than 2 groups or no spare point."""
    n_groups = len(np.unique(groups))
    if n_groups < 2 or n_groups >= len(groups):
        return None
    return float(silhouette_score(x, groups))


def embedding_map(
    x: np.ndarray,
    labels: np.ndarray,
    languages: np.ndarray,
    seed: int = 0,
    max_points: int = 2000,
    perplexity: float = 30.0,
) -> dict:
    """t-SNE coordinates and silhouettes of (a seeded subsample of at most `max_points` rows of) `x`.

    Features are standardised; silhouettes are computed on them; t-SNE runs on their first 50 principal
    components (all of them when the embedding is smaller).
    """
    rng = np.random.default_rng(seed)
    n = len(x)
    rows = np.sort(rng.choice(n, max_points, replace=False)) if n > max_points else np.arange(n)
    if len(rows) < 5:
        raise AnalysisError(f"t-SNE needs at least 5 utterances, got {len(rows)}")
    z = StandardScaler().fit_transform(np.asarray(x[rows], dtype=np.float64))
    y, lang = np.asarray(labels)[rows], np.asarray(languages)[rows]
    perp = float(min(perplexity, max(2.0, (len(rows) - 1) / 3.0)))
    with thread_limit(len(rows)):
        reduced = (
            PCA(n_components=min(PCA_DIMS, len(rows) - 1), random_state=seed).fit_transform(z)
            if z.shape[1] > PCA_DIMS
            else z
        )
        coords = TSNE(
            n_components=2, perplexity=perp, init="pca", learning_rate="auto", random_state=seed
        ).fit_transform(reduced)
        sil_emotion, sil_language = silhouette(z, y), silhouette(z, lang)
    return {
        "rows": rows,
        "coords": coords,
        "labels": y,
        "languages": lang,
        "n": int(len(rows)),
        "n_total": int(n),
        "perplexity": perp,
        "seed": seed,
        "silhouette_emotion": sil_emotion,
        "silhouette_language": sil_language,
        "dim": int(z.shape[1]),
    }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def map_title(m: dict) -> str:
    """'layer 4: silhouette emotion 0.123 | language 0.045'."""
    return (
        f"{m['title']}: silhouette emotion {_fmt(m['silhouette_emotion'])} | language {_fmt(m['silhouette_language'])}"
    )


def plot_maps(maps: list[dict], path: str | Path, suptitle: str) -> Path:
    """One row per map: points coloured by class (left: the run's label set, ``m['classes']``, the six emotions
    by default) and by language (right)."""
    classes = maps[0].get("classes", EMOTIONS)
    e_colours = emotion_colours(classes)
    langs = language_order([l for m in maps for l in m["languages"]])
    l_colours = language_colours(langs)
    fig = new_figure(11.0, 4.6 * len(maps))
    axes = np.atleast_2d(fig.subplots(len(maps), 2))
    for row, m in zip(axes, maps):
        xy = m["coords"]
        size = 24 if m["n"] <= 300 else (10 if m["n"] <= 1500 else 5)
        for k, emotion in enumerate(classes):
            sel = m["labels"] == k
            if sel.any():
                row[0].scatter(xy[sel, 0], xy[sel, 1], s=size, alpha=0.8, color=e_colours[emotion], label=emotion, lw=0)
        for lang in langs:
            sel = m["languages"] == lang
            if sel.any():
                row[1].scatter(xy[sel, 0], xy[sel, 1], s=size, alpha=0.8, color=l_colours[lang], label=lang, lw=0)
        row[0].set_title(f"{m['title']}, by emotion (silhouette {_fmt(m['silhouette_emotion'])})", fontsize=9)
        row[1].set_title(f"{m['title']}, by language (silhouette {_fmt(m['silhouette_language'])})", fontsize=9)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.legend(fontsize=7, markerscale=1.8, loc="best", framealpha=0.7)
    fig.suptitle(suptitle, fontsize=10)
    return save_figure(fig, path)


def _write_points(m: dict, rows_frame, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "y", "emotion", "language", "path"])
        paths = rows_frame["path"].to_numpy()
        classes = m.get("classes", EMOTIONS)
        for (x, y), label, lang, r in zip(m["coords"], m["labels"], m["languages"], m["rows"]):
            writer.writerow([round(float(x), 4), round(float(y), 4), classes[int(label)], lang, paths[r]])


def _payload(m: dict, run_dir: Path, space: str, layer: int | None, split: str, tag: str, model: str) -> dict:
    return {
        "figure": "Fig. 2: t-SNE per layer" if space == "layers" else "Fig. 4: t-SNE of the projector space",
        "run": run_dir.name,
        "run_dir": str(run_dir),
        "space": space,
        "layer": layer,
        "split": split,
        "model": model,
        "model_tag": tag,
        "title": m["title"],
        "n": m["n"],
        "n_total": m["n_total"],
        "dim": m["dim"],
        "seed": m["seed"],
        "perplexity": m["perplexity"],
        "silhouette_emotion": m["silhouette_emotion"],
        "silhouette_language": m["silhouette_language"],
        "silhouette_space": "standardised embedding before t-SNE (euclidean)",
        "tsne": f"sklearn TSNE on the first {PCA_DIMS} principal components, init='pca'",
    }


def run_tsne(
    run_dir: str | Path,
    *,
    layers: list[int] | None = None,
    space: str = "layers",
    split: str = "test",
    model: str | None = None,
    out: str | Path | None = None,
    batch_size: int = 8,
    device: str | None = None,
    seed: int = 0,
    max_points: int = 2000,
    perplexity: float = 30.0,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> list[dict]:
    """Write tsne-layerNN[-TAG].{png,json,csv} per layer (and tsne-layers-A-B.png), or tsne-projector[-TAG].*.

    Features are cached in `cache_dir` (default ``<output folder>/features``).
    """
    if space not in SPACES:
        raise AnalysisError(f"--space must be one of {', '.join(SPACES)}, not {space!r}")
    run_dir = Path(run_dir)
    config = model_config(run_dir, model)
    if space == "layers":
        layers = check_layers(layers if layers else default_layers(int(config.num_hidden_layers)), config)
    elif model is not None:
        logger.warning("--model %s was never fine-tuned: its projector is randomly initialised", model)
    cache = feature_cache_dir(run_dir, out, cache_dir)
    feats = run_features(run_dir, (split,), model, batch_size, device, cache_dir=cache, progress=progress)[split]
    out_dir = analysis_dir(run_dir, out)
    classes = RunRecord.load(run_dir).labels  # the run's label set: what feats.labels index
    tag = model_tag(model)
    suffix = "" if tag == FINETUNED else f"-{tag}"
    source = "fine-tuned" if tag == FINETUNED else f"{model}, not fine-tuned"
    jobs = (
        [(f"layer {l}", l, feats.layer(l), f"tsne-layer{l:02d}{suffix}") for l in layers]
        if space == "layers"
        else [("projector", None, feats.projector(), f"tsne-projector{suffix}")]
    )
    payloads, maps = [], []
    for title, layer, x, stem in jobs:
        m = embedding_map(x, feats.labels, feats.languages, seed, max_points, perplexity)
        m["title"] = title
        m["classes"] = classes
        payload = _payload(m, run_dir, space, layer, split, tag, feats.meta["model"])
        payload["png"] = f"{stem}.png"
        plot_maps([m], out_dir / f"{stem}.png", f"{run_dir.name} ({source}), {split} split, n={m['n']}: t-SNE")
        _write_points(m, feats.rows, out_dir / f"{stem}.csv")
        atomic_write_json(out_dir / f"{stem}.json", payload)
        print(f"{run_dir.name} [{source}] {map_title(m)} -> {out_dir / stem}.png")
        payloads.append(payload)
        maps.append(m)
    if len(maps) > 1:
        stem = f"tsne-layers-{'-'.join(str(l) for l in layers)}{suffix}"
        plot_maps(maps, out_dir / f"{stem}.png", f"{run_dir.name} ({source}), {split} split: t-SNE per layer")
        for p in payloads:
            p["combined_png"] = f"{stem}.png"
            atomic_write_json(out_dir / p["png"].replace(".png", ".json"), p)
    return payloads
