"""Time of the transfer tests: 9,999 permutations over the paper's 10 languages (target: under 5 s on 2 cores).

One :func:`hf_ser.study.transfer.model.fit_transfer` on a simulated 10 x 10 transfer grid with the paper's real
URIEL+ distances (the shipped snapshot) and an acoustic control: for each of the 7 distances and the control, the
MRQAP double-semi-partialling p-value, the Mantel and partial Mantel p-values (each 9,999 relabellings, vectorised
as one matrix product), plus the 10 jackknife refits. The wall clock is the figure (the target is a wall-clock
one); the best of ``--repeats`` runs is printed, and the median.

    python benchmarks/transfer_perm.py [--permutations 9999] [--repeats 3] [--quick]

The last line is the JSON object ``{"benchmark": "transfer_perm", ...}`` as every benchmark prints.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

try:
    import hf_ser  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from hf_ser.study.transfer.distances import paper_distances  # noqa: E402
from hf_ser.study.transfer.model import fit_transfer  # noqa: E402

TARGET_S = 5.0


def main(argv: list[str] | None = None) -> dict:
    """Time `--repeats` fits and print the best and median wall-clock seconds, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--permutations", type=int, default=9_999)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="999 permutations, one repeat: checks the script")
    args = parser.parse_args(argv)
    if args.quick:
        args.permutations, args.repeats = 999, 1
    ds = paper_distances()
    rng = np.random.default_rng(0)
    n = len(ds.labels)  # source and target effects of 6 and 8 points, genetic effect, cell noise of 2 points
    values = 50 + rng.normal(0, 6, (n, 1)) + rng.normal(0, 8, (1, n)) - 8 * ds.matrices["genetic"]
    values = values + rng.normal(0, 2, (n, n))
    corpus = rng.normal(size=(n, 2))
    acoustic = np.sqrt(((corpus[:, None] - corpus[None]) ** 2).sum(-1))
    times = []
    for r in range(args.repeats):
        start = time.perf_counter()
        fit = fit_transfer(values, ds.labels, ds.matrices, {"acoustic": acoustic}, args.permutations, seed=r)
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(
        f"{len(fit.labels)} languages, {len(fit.effects)} predictors, {fit.n_permutations} permutations: "
        f"best {best:.2f} s, median {median:.2f} s (target < {TARGET_S:.0f} s)"
    )
    result = {
        "benchmark": "transfer_perm",
        "permutations": fit.n_permutations,
        "languages": len(fit.labels),
        "predictors": len(fit.effects),
        "best_s": round(best, 3),
        "median_s": round(median, 3),
        "target_met": best < TARGET_S,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
