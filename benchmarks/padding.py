"""Padding, input shapes and contrastive-pair statistics of corpus-balanced batches for several length windows.

For each `length_window` W (in optimizer steps), builds `hf_ser.train.sampling.CorpusBalancedBatchSampler` plans with
contrastive groups of `--group_size` (16) and `--groups_per_step` (4) groups per optimizer step, and measures, for
each micro-batch size in `--micro_batches` (16 = the paper's 16 x 4 accumulation, 64 = 64 x 1; both train the same
groups): the fraction of padded frames when each micro-batch is padded to its longest row and when it is padded to
its length bucket (`--length_buckets` geometric buckets, `hf_ser.train.sampling.length_buckets`, the recipe's default),
and the number of distinct padded input shapes per epoch. Per W it also gives the share of same-label pairs inside
a group that come from different corpora and the largest deviation from equal corpus shares per window.

Durations are synthetic (one log-normal per corpus, the paper's corpus sizes, 6 random labels) unless
`--data_root` names prepared corpora: then the training split of the recipe's data path (`hf_ser.data.dataset.
load_languages` + `split_dataset`, the same preparation cache) is measured, and a missing corpus is an error.

    python benchmarks/padding.py [--data_root DIR [--corpora ...]] [--windows 1 4 16 32] [--micro_batches 16 64]

The last line printed is one JSON object, `{"benchmark": "padding", "default_window": W, "padded_fraction": ...,
"distinct_shapes_per_epoch": ...}`; the headline figures are at the recipe's defaults (W, buckets), the worse of
the micro-batch sizes.
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

from hf_ser.errors import UserError
from hf_ser.labels import EMOTIONS, SAMPLING_RATE
from hf_ser.train.sampling import (
    DEFAULT_LENGTH_BUCKETS,
    DEFAULT_LENGTH_WINDOW,
    CorpusBalancedBatchSampler,
    corpus_share_error,
    cross_corpus_positive_share,
    distinct_shapes,
    length_buckets,
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


def real_columns(data_root: str, corpora: list[str] | None, cache_dir: str | None) -> tuple[np.ndarray, ...]:
    """Corpus ids, lengths (samples) and labels of the training split that the recipe would train on.

    Loads the prepared corpora under `data_root` the recipe's way (`dataset.load_languages`, all languages, the
    default paper split); a missing or unpreparable corpus raises `UserError` (no silent synthetic fallback).
    """
    from hf_ser.data.dataset import DataArguments, load_languages, split_dataset
    from hf_ser.labels import groups

    args = DataArguments(data_root=data_root, corpora=corpora, cache_dir=cache_dir)
    languages = [code for codes in groups().values() for code in codes]
    dataset, _ = load_languages(languages, args)
    if len(dataset) == 0:
        raise UserError(f"--data_root {data_root}: no prepared utterances found; check the folder and --corpora.")
    train, _, _ = split_dataset(dataset, args)
    names = np.asarray(train["corpus"])
    return np.unique(names, return_inverse=True)[1], np.asarray(train["length"]), np.asarray(train["label"])


def measure(
    corpus_ids: np.ndarray,
    lengths: np.ndarray,
    labels: np.ndarray,
    window: int,
    micro_batches: list[int],
    group_size: int,
    groups_per_step: int,
    buckets: list[int],
    epochs: int,
    seed: int,
) -> dict:
    """Statistics of `epochs` epochs of corpus-balanced plans with length window `window` (optimizer steps)."""

    def sampler(batch: int) -> CorpusBalancedBatchSampler:
        return CorpusBalancedBatchSampler(
            corpus_ids,
            lengths,
            batch,
            length_window=window,
            seed=seed,
            group_size=group_size,
            groups_per_step=groups_per_step,
        )

    plan = sampler(group_size)
    windows = [w for epoch in range(epochs) for w in plan.plan(epoch)]
    groups = [g for w in windows for g in w]
    result: dict = {
        "cross_corpus_positive_share": round(cross_corpus_positive_share(groups, corpus_ids, labels), 4),
        "corpus_share_error": round(corpus_share_error(windows, corpus_ids), 4),
        "group_corpus_share_error": round(corpus_share_error(groups, corpus_ids), 4),
        "by_micro_batch": {},
    }
    for batch in micro_batches:
        per_epoch = [sampler(batch).micro_batches(epoch) for epoch in range(epochs)]
        flat = [b for epoch in per_epoch for b in epoch]
        result["by_micro_batch"][str(batch)] = {
            "padded_fraction_longest": round(padded_fraction(flat, lengths), 4),
            "padded_fraction": round(padded_fraction(flat, lengths, buckets), 4),
            "distinct_shapes_per_epoch": max(distinct_shapes(e, lengths, buckets) for e in per_epoch),
            "distinct_shapes_per_epoch_longest": max(distinct_shapes(e, lengths) for e in per_epoch),
        }
    return result


def random_batches(n: int, batch_size: int, epochs: int, seed: int) -> list[np.ndarray]:
    """Plain shuffled batches (no balancing, no length windows), for reference."""
    rng = np.random.default_rng(seed)
    return [b for _ in range(epochs) for b in np.array_split(rng.permutation(n), range(batch_size, n, batch_size))]


def worst(stats: dict, key: str) -> float:
    """The largest `key` over the measured micro-batch sizes."""
    return max(m[key] for m in stats["by_micro_batch"].values())


def choose_window(by_window: dict[int, dict]) -> int | None:
    """Smallest window with bucketed padding <= 15% at every micro-batch size and cross-corpus share > 0.5."""
    good = [
        w
        for w, s in by_window.items()
        if s["cross_corpus_positive_share"] > MIN_CROSS_CORPUS_SHARE and worst(s, "padded_fraction") <= MAX_PADDING
    ]
    return min(good) if good else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_root", default=None, help="prepared corpora to take real lengths from")
    parser.add_argument("--corpora", nargs="+", default=None, help="with --data_root: these corpora only")
    parser.add_argument("--cache_dir", default=None, help="with --data_root: the preparation cache")
    parser.add_argument("--group_size", type=int, default=16, help="contrastive group (the paper's micro-batch)")
    parser.add_argument("--groups_per_step", type=int, default=4, help="groups per optimizer step (effective 64)")
    parser.add_argument("--micro_batches", type=int, nargs="+", default=[16, 64], help="micro-batch sizes")
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 4, 16, DEFAULT_LENGTH_WINDOW])
    parser.add_argument("--length_buckets", type=int, default=DEFAULT_LENGTH_BUCKETS, help="0 = no buckets")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of batches measured per window")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if DEFAULT_LENGTH_WINDOW not in args.windows:
        args.windows.append(DEFAULT_LENGTH_WINDOW)

    if args.data_root:
        try:
            corpus_ids, lengths, labels = real_columns(args.data_root, args.corpora, args.cache_dir)
        except UserError as error:  # one clear error (exit 2), never a silent fallback to synthetic durations
            print(f"benchmarks/padding.py: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        source = "prepared"
    else:
        corpus_ids, lengths, labels = synthetic_columns(args.seed)
        source = "synthetic"
    corpora = np.unique(corpus_ids)
    buckets = length_buckets(args.length_buckets, int(lengths.max())) if args.length_buckets else []
    print(
        f"{source} data: {len(corpus_ids)} utterances in {len(corpora)} corpora; groups of {args.group_size}, "
        f"{args.groups_per_step} per step; {len(buckets)} buckets "
        f"({buckets[0] / SAMPLING_RATE if buckets else 0:.2f}-{buckets[-1] / SAMPLING_RATE if buckets else 0:.2f} s)"
    )

    by_window = {
        w: measure(
            corpus_ids,
            lengths,
            labels,
            w,
            args.micro_batches,
            args.group_size,
            args.groups_per_step,
            buckets,
            args.epochs,
            args.seed,
        )
        for w in args.windows
    }
    reference = random_batches(len(corpus_ids), args.group_size, args.epochs, args.seed)
    unbalanced = {
        "padded_fraction": round(padded_fraction(reference, lengths), 4),
        "cross_corpus_positive_share": round(cross_corpus_positive_share(reference, corpus_ids, labels), 4),
        "batch_corpus_share_error": round(corpus_share_error(reference, corpus_ids), 4),
    }
    chosen = choose_window(by_window)

    header = f"{'W':>4} {'mb':>4} {'pad longest':>12} {'pad buckets':>12} {'shapes/epoch':>13} {'x-corpus':>9}"
    print(header)
    print("-" * len(header))
    for w, s in by_window.items():
        for batch, m in s["by_micro_batch"].items():
            mark = "  <- default" if w == DEFAULT_LENGTH_WINDOW else ""
            print(
                f"{w:>4} {batch:>4} {m['padded_fraction_longest']:>12.1%} {m['padded_fraction']:>12.1%} "
                f"{m['distinct_shapes_per_epoch']:>5} ({m['distinct_shapes_per_epoch_longest']:>5}) "
                f"{s['cross_corpus_positive_share']:>9.1%}{mark}"
            )
    print(
        f"{'rand':>4} {args.group_size:>4} {unbalanced['padded_fraction']:>12.1%} {'':>12} {'':>13} "
        f"{unbalanced['cross_corpus_positive_share']:>9.1%}  (unbalanced shuffled batches)"
    )
    print(
        f"W in optimizer steps; shapes = distinct (rows, padded length) per epoch with buckets (without); smallest W "
        f"with bucketed padding <= {MAX_PADDING:.0%} at every micro-batch and cross-corpus positives > "
        f"{MIN_CROSS_CORPUS_SHARE:.0%}: {chosen}"
    )
    default = by_window[DEFAULT_LENGTH_WINDOW]
    print(
        json.dumps(
            {
                "benchmark": "padding",
                "source": source,
                "group_size": args.group_size,
                "groups_per_step": args.groups_per_step,
                "length_buckets": len(buckets),
                "default_window": DEFAULT_LENGTH_WINDOW,
                "smallest_good_window": chosen,
                "padded_fraction": worst(default, "padded_fraction"),
                "padded_fraction_longest": worst(default, "padded_fraction_longest"),
                "distinct_shapes_per_epoch": worst(default, "distinct_shapes_per_epoch"),
                "cross_corpus_positive_share": default["cross_corpus_positive_share"],
                "by_window": {str(w): s for w, s in by_window.items()},
                "random_batches": unbalanced,
            }
        )
    )


if __name__ == "__main__":
    main()
