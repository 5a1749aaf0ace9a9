"""``hf-ser recipe upstream [--backbones ...] [--languages ...] [--demo]``: the frozen-upstream benchmark.

SUPERB / EmoBox style: each backbone stays frozen (``freeze_base_model``) and only the learnable layer weights
(``use_weighted_layer_sum``), the projector and the classifier of the stock head train, with the paper's loss
(class-weighted CE x corpus weight + 0.1 SupCon) and corpus-balanced batches (:class:`hf_ser.train.trainer.SERTrainer`).

**Features once per backbone.** With the base frozen, the head's input is a fixed function of the audio. Because
the weighted layer sum, the projector and mean pooling are all linear, ``mean_t(P(sum_l w_l h_lt)) =
P(sum_l w_l mean_t(h_lt))``: the stock head on the full model equals the same head on the *pooled* hidden states of
every layer. So each split is embedded once (one forward pass with ``output_hidden_states``, every layer
mean-pooled over the frames the stock head pools over; :func:`pooled_layer_features`), cached as one
``(n, layers + 1, hidden)`` ``.npy`` per split under ``<output_dir>/features/<backbone>/``, and every epoch trains
the head on those rows (:class:`PooledHead` shares the model's own parameters, so the saved checkpoint is the
stock model). Cached features are eval-mode: no augmentation, no time masking and no LayerDrop during training
(SUPERB's frozen-upstream protocol).

Writes, under ``--output_dir``: one run folder per (backbone, run) with ``metrics.json`` (RunRecord; details hold
the backbone and the learned layer weights), ``predictions.csv`` and the stock ``model/``; ``upstream.csv`` /
``upstream.md`` (backbone x language UAR/F1) and ``layer_weights.png`` (learned weights per backbone).
Defaults come from ``recipes/upstream.yaml`` (``--demo``: its ``demo_overrides``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from importlib import resources
from pathlib import Path

import datasets
import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader
from transformers import TrainingArguments, set_seed
from transformers.modeling_outputs import SequenceClassifierOutput

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.data.dataset import DataArguments, DataMissing, load_languages, split_dataset, subset, with_corpus_ids
from hf_ser.data.fingerprint import data_fingerprint
from hf_ser.errors import UserError
from hf_ser.figures import new_figure, save_figure
from hf_ser.infer.evaluate import add_data_flags
from hf_ser.labels import LANGUAGES, check_languages, study_languages
from hf_ser.metrics import confusion, per_language_metrics
from hf_ser.safe_io import atomic_write_json, atomic_write_text, display_path, safe_name
from hf_ser.train.losses import class_weights, corpus_weights
from hf_ser.train.modeling import backbone_info, build_model, frame_mask, freeze
from hf_ser.train.runs import RunRecord, config_hash, write_predictions
from hf_ser.train.sampling import length_sorted_order
from hf_ser.train.trainer import SERCollator, SERTrainer, make_transform

logger = logging.getLogger("hf_ser.experiments.upstream")
RECIPE = Path(str(resources.files("hf_ser"))) / "recipes" / "upstream.yaml"
EXPERIMENTS = ("multilingual", "single_language")


# ----------------------------------------------------------------------------- features


def pooled_layer_features(
    model,
    extractor,
    dataset: datasets.Dataset,
    path: str | Path | None = None,
    batch_size: int = 8,
    device: str = "cpu",
) -> np.ndarray:
    """(n, num_hidden_layers + 1, hidden) hidden states of every layer, mean-pooled as the stock head pools.

    One forward pass per length-sorted batch with ``output_hidden_states=True``; pooling uses
    :func:`hf_ser.train.modeling.frame_mask` (the attention mask's frames; every frame of Whisper's window). Written
    into a ``.npy`` memmap at `path` when given (rows in dataset order), else returned in memory.
    """
    config = model.config
    shape = (len(dataset), int(config.num_hidden_layers) + 1, int(config.hidden_size))
    out = (
        np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
        if path is not None
        else np.zeros(shape, dtype=np.float32)
    )
    order = length_sorted_order(np.asarray(dataset["length"]))
    ordered = dataset.select(order).with_transform(make_transform(None, extractor))
    loader = DataLoader(ordered, batch_size=batch_size, collate_fn=SERCollator(extractor))
    net = model.to(device).eval()
    start = 0
    with torch.inference_mode():
        for batch in loader:
            inputs = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "corpus_id")}
            hidden = net(**inputs, output_hidden_states=True).hidden_states
            stacked = torch.stack([h.float() for h in hidden], dim=1)  # (b, layers, frames, hidden)
            mask = frame_mask(net, stacked.shape[2], inputs.get("attention_mask"), stacked.shape[0]).to(stacked.device)
            pooled = (stacked * mask[:, None, :, None]).sum(2) / mask.sum(1).clamp(min=1.0)[:, None, None]
            rows = order[start : start + len(pooled)]
            out[rows] = pooled.cpu().numpy()
            start += len(pooled)
    if path is not None:
        out.flush()
    return out


def cached_features(
    model, extractor, dataset: datasets.Dataset, folder: Path, split: str, backbone: str, batch_size: int, device: str
) -> tuple[np.ndarray, float, bool]:
    """Features of one split from ``folder/<split>.npy`` when its key (backbone + split rows) matches, else extracted.

    Returns (features memmap, seconds spent extracting (0 when reused), reused?).
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = {
        "backbone": backbone,
        "split": split,
        "rows": data_fingerprint({c: dataset[c] for c in ("path", "label", "language", "corpus", "speaker", "length")}),
        "pooling": "stock head frames, mean",
    }
    key_path, npy = folder / f"{split}.json", folder / f"{split}.npy"
    if key_path.is_file() and npy.is_file():
        try:
            if json.loads(key_path.read_text()) == key:
                return np.load(npy, mmap_mode="r"), 0.0, True
        except json.JSONDecodeError:
            pass
    key_path.unlink(missing_ok=True)
    start = time.perf_counter()
    pooled_layer_features(model, extractor, dataset, npy, batch_size, device)
    seconds = time.perf_counter() - start
    atomic_write_json(key_path, key)  # written last: a killed extraction is redone
    return np.load(npy, mmap_mode="r"), seconds, False


# ----------------------------------------------------------------------------- head on cached features


class PooledHead(torch.nn.Module):
    """The stock head (softmax layer weights -> projector -> classifier) applied to pooled per-layer features.

    It holds the model's own ``layer_weights``, ``projector`` and ``classifier`` modules, so training it trains
    the stock model; ``classifier``'s input is the pooled projection, which SERTrainer's hook reads for SupCon.
    """

    def __init__(self, model):
        super().__init__()
        self.layer_weights = model.layer_weights
        self.projector = model.projector
        self.classifier = model.classifier

    def forward(self, layer_features: torch.Tensor, labels: torch.Tensor | None = None) -> SequenceClassifierOutput:
        """Logits from (batch, layers, hidden) pooled features, exactly as the full model computes them."""
        weights = torch.softmax(self.layer_weights, dim=-1)
        pooled = self.projector((layer_features * weights[None, :, None]).sum(1))
        return SequenceClassifierOutput(logits=self.classifier(pooled))


class FeatureRows(torch.utils.data.Dataset):
    """Rows of a cached feature array with their labels (and corpus ids) for the Trainer."""

    def __init__(self, features: np.ndarray, labels, corpus_ids=None):
        self.features, self.labels, self.corpus_ids = features, list(labels), corpus_ids

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        """One row: features, label and (when known) corpus id."""
        row = {"layer_features": torch.from_numpy(np.array(self.features[i])), "labels": int(self.labels[i])}
        if self.corpus_ids is not None:
            row["corpus_id"] = int(self.corpus_ids[i])
        return row


def collate_rows(rows: list[dict]) -> dict[str, torch.Tensor]:
    """Stack FeatureRows rows into one batch."""
    out = {
        "layer_features": torch.stack([r["layer_features"] for r in rows]),
        "labels": torch.tensor([r["labels"] for r in rows]),
    }
    if "corpus_id" in rows[0]:
        out["corpus_id"] = torch.tensor([r["corpus_id"] for r in rows])
    return out


# ----------------------------------------------------------------------------- one backbone


@dataclasses.dataclass
class UpstreamArguments:
    """The benchmark's own settings (data flags are DataArguments)."""

    backbones: list[str]
    languages: list[str]
    experiment: str = "multilingual"
    learning_rate: float = 1e-3
    num_train_epochs: int = 30
    per_device_train_batch_size: int = 32
    contrastive_weight: float = 0.1
    temperature: float = 0.07
    seed: int = 0
    batch_size: int = 8
    output_dir: str = "runs/upstream"
    device: str | None = None


def run_backbone(backbone: str, train_all, test_all, args: UpstreamArguments, data_args: DataArguments) -> list[dict]:
    """Extract once, train one head per run of the experiment, save runs; returns one summary per run."""
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    tag = safe_name(backbone.replace("/", "--"))
    classes = list(train_all.features["label"].names)  # the --label_set of the data arguments
    set_seed(args.seed)
    model, extractor = build_model(backbone, use_weighted_layer_sum=True, labels=classes)
    freeze(model, feature_encoder=True, base_model=True)
    folder = Path(args.output_dir) / "features" / tag
    train_x, train_s, train_reused = cached_features(
        model, extractor, train_all, folder, "train", backbone, args.batch_size, device
    )
    test_x, test_s, test_reused = cached_features(
        model, extractor, test_all, folder, "test", backbone, args.batch_size, device
    )
    logger.info(
        "%s: features %s (train %.1f s, test %.1f s)",
        backbone,
        "reused" if train_reused and test_reused else "extracted",
        train_s,
        test_s,
    )
    runs = (
        [(f"upstream-{tag}-multi", args.languages)]
        if args.experiment == "multilingual"
        else [(f"upstream-{tag}-{l}", [l]) for l in args.languages]
    )
    summaries = []
    for name, langs in runs:
        tr = np.flatnonzero(np.isin(np.asarray(train_all["language"]), langs))
        te = np.flatnonzero(np.isin(np.asarray(test_all["language"]), langs))
        if len(tr) == 0 or len(te) == 0:
            logger.warning("%s: no data for %s; skipped", name, " ".join(langs))
            continue
        set_seed(args.seed)
        model, extractor = build_model(backbone, use_weighted_layer_sum=True, labels=classes)  # a fresh head per run
        freeze(model, feature_encoder=True, base_model=True)
        summaries.append(
            train_head(
                name,
                backbone,
                model,
                extractor,
                train_all.select(tr),
                np.asarray(train_x)[tr],
                test_all.select(te),
                np.asarray(test_x)[te],
                args,
                data_args,
                {"train_s": round(train_s, 2), "test_s": round(test_s, 2), "reused": train_reused and test_reused},
            )
        )
    return summaries


def _head_trainer(
    head: PooledHead,
    out: Path,
    train_x,
    labels: np.ndarray,
    corpora: np.ndarray,
    n_corpora: int,
    args: UpstreamArguments,
) -> SERTrainer:
    """The SERTrainer of the stock head on cached features (cosine schedule, class and corpus weights, CPU or GPU)."""
    targs = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        per_device_train_batch_size=args.per_device_train_batch_size,
        num_train_epochs=args.num_train_epochs,
        learning_rate=args.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=0.1,
        weight_decay=1e-5,
        save_strategy="no",
        report_to="none",
        remove_unused_columns=False,
        use_cpu=not torch.cuda.is_available() or (args.device or "").startswith("cpu"),
        seed=args.seed,
        logging_steps=50,
        disable_tqdm=True,
        dataloader_pin_memory=False,
    )
    trainer = SERTrainer(
        model=head,
        args=targs,
        train_dataset=FeatureRows(train_x, labels, corpora),
        data_collator=collate_rows,
        class_weight=class_weights(labels, int(head.classifier.out_features)),  # the run's label set
        corpus_weight=corpus_weights(corpora, n_corpora),
        contrastive_weight=args.contrastive_weight,
        temperature=args.temperature,
        train_corpus_ids=corpora,
        train_lengths=np.ones(len(labels)),
    )
    return trainer


def _head_logits(head: PooledHead, test_x) -> np.ndarray:
    """The trained head's logits on the cached test features (float32 numpy, on the CPU)."""
    head.eval()
    with torch.no_grad():  # the Trainer moved the head to its device (CUDA when there is one): the inputs follow
        test_features = torch.as_tensor(np.asarray(test_x), device=next(head.parameters()).device)
        logits = head(test_features).logits.float().cpu().numpy()
    return logits


def train_head(
    name,
    backbone,
    model,
    extractor,
    train,
    train_x,
    test,
    test_x,
    args: UpstreamArguments,
    data_args: DataArguments,
    extraction: dict,
) -> dict:
    """Train the stock head on cached features with SERTrainer, evaluate, save the stock model and the run record."""
    out = Path(args.output_dir) / name
    train, corpus_names = with_corpus_ids(train)
    labels, corpora = np.asarray(train["label"]), np.asarray(train["corpus_id"])
    head = PooledHead(model)
    trainer = _head_trainer(head, out, train_x, labels, corpora, len(corpus_names), args)
    start = time.perf_counter()
    result = trainer.train()
    head_s = time.perf_counter() - start
    logits = _head_logits(head, test_x)
    y_true, y_pred, langs = np.asarray(test["label"]), logits.argmax(1), np.asarray(test["language"])
    weights = torch.softmax(model.layer_weights.detach(), -1).tolist()
    model.save_pretrained(out / "model")
    extractor.save_pretrained(out / "model")
    meta = {k: test[k] for k in ("path", "language", "corpus", "speaker", "label", "length")}
    config = {
        "backbone": backbone,
        "upstream": "frozen, weighted layer sum",
        "args": dataclasses.asdict(args),
        "data": dataclasses.asdict(data_args),
    }
    eval_languages = sorted(set(langs.tolist()), key=list(LANGUAGES).index)
    record = RunRecord(
        run=name,
        name=name,
        family="multilingual" if len(eval_languages) > 1 else "single_language",
        train_languages=eval_languages,
        eval_languages=eval_languages,
        metrics=per_language_metrics(y_true, y_pred, langs),
        seed=args.seed,
        confusion=confusion(y_true, y_pred, list(test.features["label"].names)),
        train_size=len(train),
        test_size=len(test),
        train_corpora=corpus_names,
        train_loss=float(result.training_loss),
        train_seconds=round(head_s, 2),
        config=config,
        config_hash=config_hash({**config, "data_fingerprint": data_fingerprint(meta)}),
        data_args=dataclasses.asdict(data_args),
        protocol={"upstream": "frozen", "features": "pooled per layer, extracted once", "split": data_args.split},
        details={"backbone": backbone_info(model.config), "layer_weights": weights, "feature_extraction": extraction},
    )
    record.save(out)
    write_predictions(out / "predictions.csv", meta, logits, list(test.features["label"].names))
    logger.info(
        "%s: UAR %.1f, head trained in %.1f s on cached features", name, 100 * record.metrics["all"]["uar"], head_s
    )
    return {
        "run": name,
        "backbone": backbone,
        "metrics": record.metrics,
        "layer_weights": weights,
        "head_seconds": round(head_s, 2),
        "extraction": extraction,
    }


# ----------------------------------------------------------------------------- table and plot


def table(summaries: list[dict], languages: list[str]) -> tuple[str, str]:
    """(CSV, Markdown) of backbone x language UAR / F1 in percent (multilingual runs, or per-language runs merged)."""
    by_backbone: dict[str, dict] = {}
    for s in summaries:
        cells = by_backbone.setdefault(s["backbone"], {})
        for lang, m in s["metrics"].items():
            if lang != "all" or len(s["metrics"]) > 1:
                cells.setdefault(lang, m)
    cols = [l for l in languages if any(l in c for c in by_backbone.values())] + ["all"]
    csv_lines = ["backbone," + ",".join(f"{c}_uar,{c}_f1" for c in cols)]
    md = ["| Backbone | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for backbone, cells in by_backbone.items():
        fmt = [
            (f"{100 * cells[c]['uar']:.1f}", f"{100 * cells[c]['f1']:.1f}") if c in cells else ("", "") for c in cols
        ]
        csv_lines.append(backbone.replace(",", "_") + "," + ",".join(f"{u},{f}" for u, f in fmt))
        md.append(f"| {backbone} | " + " | ".join(f"{u} / {f}" if u else "-" for u, f in fmt) + " |")
    md.append(
        "\nUAR / macro-F1 (%) on the test split; frozen backbone, learned layer weights + projector + classifier."
    )
    return "\n".join(csv_lines) + "\n", "\n".join(md) + "\n"


def plot_layer_weights(summaries: list[dict], path: Path) -> Path:
    """One line per backbone (first run of each): softmax layer weight against relative depth (0 = input, 1 = last)."""
    fig = new_figure(7.5, 4.0)
    ax = fig.subplots()
    seen = set()
    for s in summaries:
        if s["backbone"] in seen:
            continue
        seen.add(s["backbone"])
        w = np.asarray(s["layer_weights"])
        ax.plot(np.linspace(0, 1, len(w)), w, "o-", ms=3, label=f"{s['backbone']} ({len(w) - 1} layers)")
    ax.set_xlabel("relative depth (0 = input of the first block, 1 = last block)")
    ax.set_ylabel("learned layer weight (softmax)")
    ax.set_title("Frozen upstream: learned layer weights per backbone")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


# ----------------------------------------------------------------------------- command


# the examples at the end of --help
EXAMPLES = """examples:
  hf-ser recipe upstream --demo --output_dir runs/upstream          # tiny backbones, synthetic corpus
  hf-ser recipe upstream --backbones microsoft/wavlm-large facebook/hubert-large-ll60k --languages FRE ITA
"""


def build_parser(defaults: dict) -> ArgumentParser:
    """Flags of the command; `defaults` (from recipes/upstream.yaml) fill what the command line leaves out."""
    p = ArgumentParser(
        prog="hf-ser upstream",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    p.add_argument("--backbones", nargs="+", help="Hub ids, folders or demo aliases")
    p.add_argument("--languages", nargs="+", help="language codes (default: all)")
    p.add_argument("--experiment", choices=EXPERIMENTS, help="one head over all languages, or one per language")
    p.add_argument("--learning_rate", type=float)
    p.add_argument("--num_train_epochs", type=int)
    p.add_argument("--per_device_train_batch_size", type=int)
    p.add_argument("--contrastive_weight", type=float)
    p.add_argument("--temperature", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch_size", type=int, default=8, help="utterances per forward pass during extraction")
    p.add_argument("--output_dir", default="runs/upstream")
    p.add_argument("--device", default=None)
    add_data_flags(p)
    p.set_defaults(**defaults)
    return p


def recipe_defaults(argv: list[str], path: Path = RECIPE) -> dict:
    """recipes/upstream.yaml, with its demo_overrides when --demo is on the command line."""
    recipe = yaml.safe_load(path.read_text()) or {}
    demo = recipe.pop("demo_overrides", None) or {}
    return {**recipe, **(demo if "--demo" in argv else {})}


@command
def main(argv: list[str] | None = None) -> int:
    """CLI entry point (also ``hf_ser.experiments.recipe upstream ...``); returns the exit code."""
    setup_logging()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(recipe_defaults(argv)).parse_args(argv)
    try:
        languages = check_languages(args.languages) if args.languages else study_languages()
    except ValueError as e:
        raise UserError(str(e)) from None
    fields = {f.name for f in dataclasses.fields(DataArguments)}
    data_args = DataArguments(**{k: v for k, v in vars(args).items() if k in fields})
    up = UpstreamArguments(
        **{k: v for k, v in vars(args).items() if k in {f.name for f in dataclasses.fields(UpstreamArguments)}}
        | {"languages": languages}
    )
    if not up.backbones:
        raise UserError("give at least one backbone with --backbones")
    try:
        ds, _ = load_languages(languages, data_args)
    except DataMissing as e:
        raise UserError(str(e)) from None
    train_all, test_all, _ = split_dataset(ds, data_args)
    train_all, test_all = subset(train_all, languages), subset(test_all, languages)
    summaries = []
    for backbone in up.backbones:
        summaries += run_backbone(backbone, train_all, test_all, up, data_args)
    if not summaries:
        return 1
    out = Path(up.output_dir)
    csv_text, md_text = table(summaries, languages)
    atomic_write_text(out / "upstream.csv", csv_text)
    atomic_write_text(out / "upstream.md", md_text)
    plot_layer_weights(summaries, out / "layer_weights.png")
    atomic_write_json(out / "upstream.json", summaries)
    print(md_text)
    for s in summaries:
        e = s["extraction"]
        print(
            f"{s['run']}: features {'reused' if e['reused'] else 'extracted once'} ({e['train_s']} s train, "
            f"{e['test_s']} s test); head {s['head_seconds']} s for {up.num_train_epochs} epochs"
        )
    print(f"written: {display_path(out)}/upstream.{{csv,md,json}}, layer_weights.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
