"""Padding and contrastive-pair statistics of corpus-balanced batches for several length windows.

For each `length_window` W, builds `hf_ser.sampling.CorpusBalancedBatchSampler` batches and measures the fraction
of padded frames, the share of same-label pairs inside a micro-batch that come from different corpora, and the
largest deviation from equal corpus shares per window. Durations are synthetic (one log-normal per corpus, the
paper's corpus sizes, 6 random labels) unless `--data_root` points at prepared data that
`hf_ser.corpora.load_prepared` can read.

    python benchmarks/padding.py [--data_root DIR] [--batch_size 16] [--windows 1 2 4 8 16]

The last line printed is one JSON object, `{"benchmark": "padding", "default_window": W, ...}`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

try:
    import hf_ser  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hf_ser.labels import EMOTIONS, SAMPLING_RATE
from hf_ser.sampling import (
    CorpusBalancedBatchSampler,
    corpus_share_error,
    cross_corpus_positive_share,
    padded_fraction,
)

# corpus: (utterances, mean duration s, sd duration s)
SYNTHETIC_CORPORA: dict[str, tuple[int, float, float]] = {
    "crema_d": (7442, 2.5, 0.5),
    "subesco": (6000, 4.0, 0.5),
    "emozionalmente": (5916, 3.5, 1.2),
    "mesd": (862, 0.9, 0.2),
    "emofilm": (309, 2.5, 1.3),
    "cafe": (792, 2.2, 0.5),
    "oreau": (372, 2.5, 0.8),
    "resd": (1198, 4.5, 1.5),
}
MAX_PADDING = 0.15
MIN_CROSS_CORPUS_SHARE = 0.5


def synthetic_columns(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corpus ids, lengths (samples at 16 kHz) and random labels drawn from the per-corpus duration models."""
    rng = np.random.default_rng(seed)
    corpus_ids, lengths = [], []
    for k, (size, mean, sd) in enumerate(SYNTHETIC_CORPORA.values()):
        sigma2 = np.log1p((sd / mean) ** 2)  # log-normal with this mean and standard deviation
        seconds = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), size)
        corpus_ids.append(np.full(size, k))
        lengths.append(np.maximum(1, np.round(seconds * SAMPLING_RATE)).astype(np.int64))
    corpus_ids = np.concatenate(corpus_ids)
    return corpus_ids, np.concatenate(lengths), rng.integers(0, len(EMOTIONS), len(corpus_ids))


def _column(dataset, candidates: tuple[str, ...], data_root: str) -> np.ndarray:
    for name in candidates:
        if name in dataset.column_names:
            return np.asarray(dataset[name])
    raise SystemExit(
        f"benchmarks/padding.py: the prepared training split under {data_root} has columns {dataset.column_names}, "
        f"none of {candidates}; prepare the data with the hf_ser data preparation recipe."
    )


def real_columns(data_root: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Corpus ids, lengths and labels of the prepared training split, or None when no loader is available."""
    try:
        from hf_ser.corpora import load_prepared
    except ImportError as error:
        print(
            f"--data_root {data_root}: hf_ser.corpora.load_prepared is not available ({error}); "
            "falling back to synthetic durations."
        )
        return None
    dataset = load_prepared(data_root)
    if hasattr(dataset, "keys"):  # DatasetDict
        if "train" not in dataset:
            raise SystemExit(f"benchmarks/padding.py: no 'train' split under {data_root} (found {list(dataset)}).")
        dataset = dataset["train"]
    corpus_ids = _column(dataset, ("corpus", "corpus_id"), data_root)
    lengths = _column(dataset, ("length", "input_length", "num_samples", "duration"), data_root)
    labels = _column(dataset, ("label", "labels"), data_root)
    return corpus_ids, lengths, labels


def measure(
    corpus_ids: np.ndarray,
    lengths: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    window: int,
    epochs: int,
    seed: int,
) -> dict[str, float]:
    """Statistics of `epochs` epochs of corpus-balanced batches with the given length window."""
    sampler = CorpusBalancedBatchSampler(corpus_ids, lengths, batch_size, length_window=window, seed=seed)
    windows = [w for epoch in range(epochs) for w in sampler.plan(epoch)]
    batches = [b for w in windows for b in w]
    return {
        "padded_fraction": round(padded_fraction(batches, lengths), 4),
        "cross_corpus_positive_share": round(cross_corpus_positive_share(batches, corpus_ids, labels), 4),
        "corpus_share_error": round(corpus_share_error(windows, corpus_ids), 4),
        "batch_corpus_share_error": round(corpus_share_error(batches, corpus_ids), 4),
    }


def random_batches(n: int, batch_size: int, epochs: int, seed: int) -> list[np.ndarray]:
    """Plain shuffled batches (no balancing, no length windows), for reference."""
    rng = np.random.default_rng(seed)
    return [b for _ in range(epochs) for b in np.array_split(rng.permutation(n), range(batch_size, n, batch_size))]


def choose_window(by_window: dict[int, dict[str, float]]) -> int:
    """Smallest window with padding <= 15% and cross-corpus positive share > 0.5 (else least padding, else 1)."""
    mixed = {w: s for w, s in by_window.items() if s["cross_corpus_positive_share"] > MIN_CROSS_CORPUS_SHARE}
    good = [w for w, s in mixed.items() if s["padded_fraction"] <= MAX_PADDING]
    if good:
        return min(good)
    if mixed:
        return min(mixed, key=lambda w: mixed[w]["padded_fraction"])
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_root", default=None, help="prepared data to take real lengths from")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of batches measured per window")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    columns = real_columns(args.data_root) if args.data_root else None
    source = "prepared" if columns is not None else "synthetic"
    corpus_ids, lengths, labels = columns if columns is not None else synthetic_columns(args.seed)
    corpora, sizes = np.unique(corpus_ids, return_counts=True)
    print(f"{source} data: {len(corpus_ids)} utterances in {len(corpora)} corpora, micro-batch {args.batch_size}")

    by_window = {
        w: measure(corpus_ids, lengths, labels, args.batch_size, w, args.epochs, args.seed) for w in args.windows
    }
    reference = random_batches(len(corpus_ids), args.batch_size, args.epochs, args.seed)
    unbalanced = {
        "padded_fraction": round(padded_fraction(reference, lengths), 4),
        "cross_corpus_positive_share": round(cross_corpus_positive_share(reference, corpus_ids, labels), 4),
        "batch_corpus_share_error": round(corpus_share_error(reference, corpus_ids), 4),
    }
    default_window = choose_window(by_window)

    header = f"{'window':>8} {'padded frames':>14} {'cross-corpus positives':>23} {'share error/window':>19}"
    print(header)
    print("-" * len(header))
    for w, s in by_window.items():
        mark = "  <- default" if w == default_window else ""
        print(
            f"{w:>8} {s['padded_fraction']:>14.1%} {s['cross_corpus_positive_share']:>23.1%} "
            f"{s['corpus_share_error']:>19.2f}{mark}"
        )
    print(
        f"{'random':>8} {unbalanced['padded_fraction']:>14.1%} {unbalanced['cross_corpus_positive_share']:>23.1%} "
        f"{unbalanced['batch_corpus_share_error']:>19.2f}  (unbalanced shuffled batches; error per batch)"
    )
    print(
        f"default window: smallest with padding <= {MAX_PADDING:.0%} and cross-corpus positives > "
        f"{MIN_CROSS_CORPUS_SHARE:.0%}; share error is the largest |count - size/K| in samples"
    )
    print(
        json.dumps(
            {
                "benchmark": "padding",
                "source": source,
                "batch_size": args.batch_size,
                "default_window": default_window,
                "padded_fraction": by_window[default_window]["padded_fraction"],
                "cross_corpus_positive_share": by_window[default_window]["cross_corpus_positive_share"],
                "by_window": {str(w): s for w, s in by_window.items()},
                "random_batches": unbalanced,
            }
        )
    )


if __name__ == "__main__":
    main()
