"""Fig. 1: per-layer linear probes (UAR / macro-F1 against layer index, overall and per language).

For every hidden state of the backbone (layer 0 = CNN features after projection and positional convolution,
layer i = output of transformer block i) a scikit-learn logistic regression on standardised mean-pooled
embeddings is fitted on the run's train split and scored on its test split (``--split test``), or scored by
5-fold cross-validation inside the train split (``--split train``, the test split untouched).

    hf-ser analysis layers RUN_DIR [--split test] [--model ID_OR_DIR]
"""

from __future__ import annotations

import csv
import json
import logging
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from hf_ser.figures import language_colours, new_figure, save_figure
from hf_ser.labels import language_order
from hf_ser.metrics import per_language_metrics
from hf_ser.safe_io import atomic_write_json
from hf_ser.study.analysis.common import analysis_dir, feature_cache_dir, thread_limit
from hf_ser.study.analysis.features import FINETUNED, AnalysisError, SplitFeatures, model_tag, run_features

logger = logging.getLogger(__name__)

CV_FOLDS = 5


def make_probe(c: float = 1.0, max_iter: int = 2000) -> Pipeline:
    """StandardScaler -> multinomial logistic regression with balanced class weights (UAR is the metric)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced"))


def probe_scores(
    train_x: np.ndarray,
    train_y: np.ndarray,
    eval_x: np.ndarray | None,
    eval_y: np.ndarray,
    languages: np.ndarray,
    c: float = 1.0,
    seed: int = 0,
) -> dict:
    """Fit one probe on (train_x, train_y) and score it on eval_x (or by stratified CV when eval_x is None).

    Returns per_language_metrics ({'<LANG>': {uar, f1, n}, 'all': ...}) plus 'converged'.
    """
    probe = make_probe(c)
    with warnings.catch_warnings(record=True) as caught, thread_limit(len(train_y)):
        warnings.simplefilter("always", ConvergenceWarning)
        if eval_x is None:
            counts = np.bincount(train_y)
            folds = int(min(CV_FOLDS, counts[counts > 0].min()))
            if folds < 2:
                raise AnalysisError("cross-validation needs at least 2 utterances of every emotion in the train split")
            cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            pred = cross_val_predict(probe, np.asarray(train_x), train_y, cv=cv)
        else:
            probe.fit(np.asarray(train_x), train_y)
            pred = probe.predict(np.asarray(eval_x))
    result = per_language_metrics(eval_y, pred, languages)
    result["converged"] = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return result


def _entry(index: int | None, name: str, scores: dict) -> dict:
    per_language = {k: v for k, v in scores.items() if k not in ("all", "converged")}
    return {
        "layer": index,
        "name": name,
        "uar": scores["all"]["uar"],
        "f1": scores["all"]["f1"],
        "n": scores["all"]["n"],
        "per_language": per_language,
        "converged": scores.get("converged", True),
    }


def layer_probes(
    train: SplitFeatures, evaluation: SplitFeatures | None, c: float = 1.0, seed: int = 0, progress: bool = True
) -> dict:
    """Probe every layer (plus the final-LayerNorm output and the projector) and the model's own head."""
    eval_feats = evaluation if evaluation is not None else train
    y_train, y_eval, languages = train.labels, eval_feats.labels, eval_feats.languages
    names = train.meta["layer_names"]

    def score(get) -> dict:
        return probe_scores(
            get(train), y_train, None if evaluation is None else get(evaluation), y_eval, languages, c, seed
        )

    layers = []
    for i in tqdm(range(train.num_layers), desc="probes", unit="layer", leave=False, disable=not progress or None):
        layers.append(_entry(i, names[i], score(lambda f, i=i: f.layer(i))))
    extras = {}
    if train.final_norm() is not None:
        extras["final_norm"] = _entry(
            None, "last_hidden_state (after the encoder's final LayerNorm)", score(lambda f: f.final_norm())
        )
    extras["projector"] = _entry(None, "pooled projection (classifier input)", score(lambda f: f.projector()))
    head = per_language_metrics(y_eval, eval_feats.logits().argmax(-1), languages)
    extras["classifier"] = _entry(None, "the model's own classification head", head)
    best = max(layers, key=lambda e: (e["uar"], e["f1"]))
    return {
        "layers": layers,
        "reference": extras,
        "best_layer": best["layer"],
        "best_uar": best["uar"],
        "best_f1": best["f1"],
    }


def plot_layers(payload: dict, path: str | Path, compare: dict | None = None) -> Path:
    """Two panels (UAR, macro-F1) against layer index: overall (bold) and per language; `compare` dashed."""
    layers = payload["layers"]
    x = [e["layer"] for e in layers]
    langs = language_order([l for e in layers for l in e["per_language"]])
    colours = language_colours(langs)
    fig = new_figure(11.0, 4.2)
    axes = fig.subplots(1, 2, sharex=True)
    for ax, metric, title in zip(axes, ("uar", "f1"), ("UAR", "macro-F1")):
        if len(langs) > 1:
            for lang in langs:
                y = [100 * e["per_language"][lang][metric] if lang in e["per_language"] else np.nan for e in layers]
                ax.plot(x, y, "-", lw=1.0, alpha=0.75, color=colours[lang], label=lang)
        y_all = [100 * e[metric] for e in layers]
        ax.plot(x, y_all, "o-", lw=2.4, color="black", label=f"all ({payload['model_label']})")
        best = int(np.nanargmax(y_all))
        ax.plot([x[best]], [y_all[best]], "*", ms=16, color="gold", mec="black", zorder=5)
        ax.annotate(
            f"layer {x[best]}: {y_all[best]:.1f}",
            (x[best], y_all[best]),
            textcoords="offset points",
            xytext=(6, 8),
            ha="left",
            fontsize=8,
        )
        head = payload["reference"].get("classifier")
        if payload.get("finetuned") and head is not None:
            ax.axhline(100 * head[metric], ls=":", color="grey", lw=1.2, label="fine-tuned head")
        if compare is not None:
            ax.plot(
                [e["layer"] for e in compare["layers"]],
                [100 * e[metric] for e in compare["layers"]],
                "s--",
                lw=1.8,
                color="tab:red",
                ms=4,
                label=f"all ({compare['model_label']})",
            )
        ax.axhline(100 / 6, ls="--", color="lightgrey", lw=1.0, label="chance (6 classes)")
        ax.set_xlabel("layer (0 = CNN features + pos. conv, i = transformer block i)")
        ax.set_ylabel(f"{title} (%)")
        ax.set_title(f"Per-layer probe {title} on {payload['split_label']}")
        ax.set_xticks(x if len(x) <= 13 else x[::2])
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc="best", ncol=2)
    fig.suptitle(f"{payload['run']}: linear probes per layer ({payload['model_label']})", fontsize=10)
    return save_figure(fig, path)


def write_csv(payload: dict, path: str | Path) -> Path:
    """One row per (layer, language) with UAR, F1 and n; language 'all' = every test utterance."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["layer", "name", "language", "uar", "f1", "n"])
        for e in payload["layers"] + list(payload["reference"].values()):
            writer.writerow(
                [
                    e["layer"] if e["layer"] is not None else "",
                    e["name"],
                    "all",
                    round(e["uar"], 5),
                    round(e["f1"], 5),
                    e["n"],
                ]
            )
            for lang, m in e["per_language"].items():
                writer.writerow(
                    [
                        e["layer"] if e["layer"] is not None else "",
                        e["name"],
                        lang,
                        round(m["uar"], 5),
                        round(m["f1"], 5),
                        m["n"],
                    ]
                )
    return path


def run_layers(
    run_dir: str | Path,
    *,
    split: str = "test",
    model: str | None = None,
    out: str | Path | None = None,
    batch_size: int = 8,
    device: str | None = None,
    c: float = 1.0,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Extract (or reuse) every layer's features, probe them, write layers[-TAG][-train].{json,csv,png}.

    Features are cached in `cache_dir` (default ``<output folder>/features``).

    The fine-tuned model writes ``layers.*``; ``--model`` writes ``layers-<tag>.*`` with the fine-tuned curve (when
    ``layers.json`` exists) dashed beside it, to compare frozen with fine-tuned. Returns the JSON payload.
    """
    run_dir = Path(run_dir)
    feats = run_features(
        run_dir,
        ("train", "test") if split == "test" else ("train",),
        model,
        batch_size,
        device,
        cache_dir=feature_cache_dir(run_dir, out, cache_dir),
        progress=progress,
    )
    out_dir = analysis_dir(run_dir, out)
    result = layer_probes(feats["train"], feats.get("test") if split == "test" else None, c, seed, progress)
    tag = model_tag(model)
    finetuned = tag == FINETUNED
    payload = {
        "figure": "Fig. 1: per-layer linear probes",
        "run": run_dir.name,
        "run_dir": str(run_dir),
        "model": feats["train"].meta["model"],
        "model_tag": tag,
        "model_label": "fine-tuned" if finetuned else f"{model}, not fine-tuned",
        "finetuned": finetuned,
        "split": split,
        "split_label": "the test split" if split == "test" else f"the train split ({CV_FOLDS}-fold CV)",
        "num_hidden_layers": feats["train"].meta["num_hidden_layers"],
        "num_layer_entries": feats["train"].num_layers,
        "layer_naming": "layer 0 = CNN features after the feature projection and positional convolution (input of "
        "block 1); layer i = output of transformer block i. With stable layer norm the last layer is "
        "before the encoder's final LayerNorm; 'reference.final_norm' is after it.",
        "probe": {
            "model": "StandardScaler + LogisticRegression(class_weight='balanced')",
            "C": c,
            "fit_on": "train",
            "features": "mean-pooled hidden states over the attention mask",
        },
        "n_train": len(feats["train"].labels),
        **result,
    }
    stem = "layers" + ("" if finetuned else f"-{tag}") + ("" if split == "test" else f"-{split}")
    atomic_write_json(out_dir / f"{stem}.json", payload)
    write_csv(payload, out_dir / f"{stem}.csv")
    compare = None
    other = out_dir / ("layers.json" if split == "test" else f"layers-{split}.json")
    if not finetuned and other.is_file():
        compare = json.loads(other.read_text())
    plot_layers(payload, out_dir / f"{stem}.png", compare)
    print(summary_line(payload))
    print(f"written: {out_dir / stem}.{{json,csv,png}}")
    return payload


def summary_line(payload: dict) -> str:
    """'best layer 2 of 0..3: UAR 61.2 / F1 60.0 (fine-tuned head 58.1)'."""
    text = (
        f"{payload['run']} [{payload['model_label']}]: best layer {payload['best_layer']} of "
        f"0..{payload['num_hidden_layers']}: UAR {100 * payload['best_uar']:.1f} / F1 "
        f"{100 * payload['best_f1']:.1f}"
    )
    head = payload["reference"].get("classifier")
    if payload.get("finetuned") and head:
        text += f" (fine-tuned head {100 * head['uar']:.1f} / {100 * head['f1']:.1f})"
    return text
