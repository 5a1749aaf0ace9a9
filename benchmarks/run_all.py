"""Run the benchmarks as subprocesses, collect their JSON lines into one results file, and check the targets.

Each benchmark script prints human-readable lines and, as its last line, one JSON object `{"benchmark": NAME, ...}`.
This runner echoes their output, parses that line, writes `{NAME: result, ...}` to `--output` and prints one line
per target (met / NOT met). By default it runs the CPU benchmarks; `gpu` runs only when named with `--only`.
With `--only`, results already in `--output` for other benchmarks are kept.

    python benchmarks/run_all.py [--output benchmarks/results.json] [--only NAME ...] [--quick] [--strict]

Exit status: 1 when a benchmark failed (or, with `--strict`, when a target is not met), else 0.
"""

from __future__ import annotations

import argparse
import json
import operator
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CPU_BENCHMARKS: tuple[str, ...] = (
    "padding",
    "trainer_overhead",
    "host_ops",
    "eval_order",
    "input_pipeline",
    "prepare_speed",
    "layer_probe",
    "long_audio",
    "onnx",
    "transfer_perm",
)
ALL_BENCHMARKS: tuple[str, ...] = (*CPU_BENCHMARKS, "gpu")
# A script whose file name differs from its benchmark's: `onnx.py` would shadow the onnx package on sys.path.
SCRIPTS: dict[str, str] = {"onnx": "onnx_speed.py"}
# Arguments of a tiny run (`--quick`): the smoke test, not a measurement.
QUICK_ARGS: dict[str, list[str]] = {
    "padding": ["--epochs", "1", "--windows", "1"],
    "trainer_overhead": ["--quick"],
    "host_ops": ["--quick"],
    "eval_order": ["--quick"],
    "input_pipeline": ["--quick"],
    "prepare_speed": ["--files", "120", "--small", "40"],
    "layer_probe": ["--quick"],
    "long_audio": ["--quick"],
    "onnx": ["--quick"],
    "gpu": [],
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "padding": (
        "default_window",
        "padded_fraction",
        "distinct_shapes_per_epoch",
        "cross_corpus_positive_share",
        "by_window",
    ),
    "trainer_overhead": ("ratio",),
    "host_ops": ("ops_per_sample_before", "ops_per_sample_after", "ops_ratio"),
    "eval_order": ("speedup", "same_metrics"),
    "input_pipeline": ("samples_per_s", "cache_bytes_per_audio_second"),
    "prepare_speed": ("realtime_factor", "peak_rss_mb_500", "peak_rss_mb_2000"),
    "layer_probe": ("ratio", "peak_rss_mb"),
    "long_audio": (
        "rtf_demo_vad",
        "rtf_demo_fixed",
        "vad_share_demo",
        "rtf_xlsr_vad",
        "rtf_xlsr_fixed",
        "peak_rss_mb_short",
        "peak_rss_mb_long",
        "rss_delta_mb",
    ),
    "onnx": ("speedup_fp32", "speedup_int8", "max_abs_diff_fp32", "uar_change_int8_points"),
    "gpu": (),
}


@dataclass(frozen=True)
class Target:
    """One figure's target: `result[key] <op> value`."""

    benchmark: str
    key: str
    op: str  # "<=", ">=", "<", ">", "=="
    value: float | bool

    def check(self, result: dict) -> bool | None:
        """True/False when the figure is present, None when it is missing."""
        if self.key not in result:
            return None
        ops = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}
        return bool(ops[self.op](result[self.key], self.value))


TARGETS: tuple[Target, ...] = (
    Target("padding", "padded_fraction", "<=", 0.15),
    Target("padding", "distinct_shapes_per_epoch", "<=", 32),
    Target("padding", "cross_corpus_positive_share", ">", 0.5),
    Target("trainer_overhead", "ratio", "<=", 1.05),
    Target("host_ops", "ops_ratio", "<=", 0.5),
    Target("eval_order", "speedup", ">=", 1.5),
    Target("eval_order", "same_metrics", "==", True),
    Target("input_pipeline", "samples_per_s", ">=", 250.0),
    Target("prepare_speed", "realtime_factor", ">=", 50.0),
    Target("layer_probe", "ratio", "<=", 1.3),
    Target("long_audio", "rss_delta_mb", "<=", 300.0),
    Target("onnx", "max_abs_diff_fp32", "<", 1e-3),
    Target("onnx", "abs_uar_change_int8_points", "<", 1.0),
)


def run_benchmark(name: str, extra: list[str]) -> tuple[dict, float]:
    """Run `benchmarks/NAME.py`, echo its output, return (its last-line JSON or an error record, seconds)."""
    command = [sys.executable, str(BENCH_DIR / SCRIPTS.get(name, f"{name}.py")), *extra]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    last = ""
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.strip():
            last = line.strip()
    code = process.wait()
    seconds = time.perf_counter() - start
    if code != 0:
        return {"benchmark": name, "error": f"exit status {code}"}, seconds
    try:
        result = json.loads(last)
    except json.JSONDecodeError:
        return {"benchmark": name, "error": f"last line is not JSON: {last[:200]!r}"}, seconds
    if not isinstance(result, dict) or result.get("benchmark") != name:
        return {"benchmark": name, "error": f"last line is not this benchmark's result: {last[:200]!r}"}, seconds
    missing = [k for k in REQUIRED_KEYS[name] if k not in result and "skipped" not in result]
    if missing:
        result["error"] = f"missing keys {missing}"
    return result, seconds


def summary(results: dict[str, dict], seconds: dict[str, float]) -> tuple[list[str], bool]:
    """Lines of the target summary for the benchmarks run, and whether all their targets are met."""
    lines, all_met = [], True
    for name, result in results.items():
        took = f" ({seconds[name]:.0f} s)" if name in seconds else ""
        if "error" in result:
            lines.append(f"{name:>17}: FAILED: {result['error']}{took}")
            all_met = False
            continue
        if "skipped" in result:
            lines.append(f"{name:>17}: skipped: {result['skipped']}{took}")
            continue
        targets = [t for t in TARGETS if t.benchmark == name]
        if not targets:
            lines.append(f"{name:>17}: ran, no targets{took}")
        for t in targets:
            met = t.check(result)
            all_met &= bool(met)
            state = "missing" if met is None else ("met" if met else "NOT met")
            lines.append(f"{name:>17}: {t.key} = {result.get(t.key)} (target {t.op} {t.value}): {state}{took}")
            took = ""
    return lines, all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.json", help="results file (JSON)")
    parser.add_argument("--only", nargs="+", choices=ALL_BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--quick", action="store_true", help="tiny configurations (checks the scripts, not speed)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is not met")
    args = parser.parse_args(argv)

    names = list(args.only or CPU_BENCHMARKS)
    results: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    for name in names:
        results[name], seconds[name] = run_benchmark(name, QUICK_ARGS[name] if args.quick else [])

    stored: dict[str, dict] = {}
    if args.only and args.output.is_file():
        try:
            stored = json.loads(args.output.read_text())
        except json.JSONDecodeError:
            print(f"note: {args.output} is not valid JSON; it is replaced")
    stored.update(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(stored, indent=2) + "\n")

    lines, all_met = summary(results, seconds)
    print(f"\n=== summary ({time.perf_counter() - start:.0f} s in all; results in {args.output})")
    print("\n".join(lines))
    failed = any("error" in r for r in results.values())
    return 1 if failed or (args.strict and not all_met) else 0


if __name__ == "__main__":
    sys.exit(main())
