"""Preparation speed and memory: ``python benchmarks/prepare_speed.py [--files 2000] [--num_proc 2]``.

Generates short files (1-3 s of voiced-like bursts with silent edges; mixed 44.1/48 kHz,
one in four stereo) in a temp dir, describes them with a manifest, and prepares them with
``load_corpus`` (scan, decode, mono, resample, trim, loudness-normalise, encode, cache).
Each size runs in a fresh process so its peak RSS (``resource.getrusage``: the process plus
its largest child, the ``datasets.map`` workers) is its own. Prints the real-time factor
(audio seconds / wall seconds) and the peak RSS for 500 vs all files, and as its last line
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]


def _voice(sr: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A voiced-like signal: four harmonics of a vibrato f0."""
    t = np.arange(int(sr * seconds)) / sr
    f0 = 180 * (1 + 0.1 * np.sin(2 * np.pi * 4 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    return (sum(np.sin(k * phase) / k for k in range(1, 5)) * 0.2).astype(np.float32)


def generate(folder: Path, n: int, seed: int = 0) -> list[tuple[str, float]]:
    """Write `n` files (random slices of a voiced signal, random gain, light noise, silent
    edges for the trimmer); returns [(path relative to `folder`, seconds)]."""
    rng = np.random.default_rng(seed)
    base = {sr: _voice(sr, 4.0, rng) for sr in (44100, 48000)}
    out = []
    for i in range(n):
        sr = 44100 if i % 2 else 48000
        length = int(sr * rng.uniform(1.0, 3.0))
        start = int(rng.integers(0, len(base[sr]) - length))
        x = base[sr][start : start + length] * np.float32(rng.uniform(0.2, 1.0))
        x += np.float32(0.005) * rng.standard_normal(length, dtype=np.float32)
        edge = int(0.15 * sr)
        x[:edge] *= np.float32(0.001)
        x[-edge:] *= np.float32(0.001)
        data = np.stack([x, 0.8 * x], axis=1) if i % 4 == 3 else x
        rel = f"audio/{i // 500:02d}/clip_{i:05d}.wav"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(folder / rel), data, sr, subtype="PCM_16")
        out.append((rel, length / sr))
    return out


def write_manifest(folder: Path, files: list[tuple[str, float]], name: str) -> Path:
    """A manifest.csv over `files` (labels cycle through the six emotions, 40 speakers)."""
    labels = ("anger", "disgust", "fear", "happiness", "neutral", "sadness")
    lines = ["path,label,language,speaker"]
    lines += [f"{rel},{labels[i % 6]},SPA,s{i % 40}" for i, (rel, _) in enumerate(files)]
    path = folder / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def worker(manifest: str, cache_dir: str, num_proc: int) -> dict:
    """Prepare one manifest in this process; returns wall time and peak RSS (self + largest child)."""
    sys.path.insert(0, str(ROOT))
    from hf_ser.data.corpora import load_corpus

    t0 = time.perf_counter()
    ds, report = load_corpus(manifest, ".", cache_dir=cache_dir, num_proc=num_proc)
    wall = time.perf_counter() - t0
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "wall_s": wall,
        "kept": report["kept_total"],
        "skipped": len(report["skipped"]),
        "peak_rss_mb": (self_kb + child_kb) / 1024,
        "self_rss_mb": self_kb / 1024,
        "child_rss_mb": child_kb / 1024,
    }


def run_worker(manifest: Path, cache_dir: Path, num_proc: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        str(manifest),
        "--cache_dir",
        str(cache_dir),
        "--num_proc",
        str(num_proc),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    }
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise SystemExit(f"worker failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--small", type=int, default=500)
    ap.add_argument("--num_proc", type=int, default=2)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--cache_dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.cache_dir, args.num_proc)))
        return
    with tempfile.TemporaryDirectory(prefix="hf_ser_bench_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        files = generate(folder, args.files)
        print(
            f"generated {len(files)} files ({sum(s for _, s in files) / 3600:.2f} h) in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        results = {}
        for n in (args.small, args.files):
            manifest = write_manifest(folder, files[:n], f"bench_{n}")
            r = run_worker(manifest, folder / f"cache_{n}", args.num_proc)
            audio_s = sum(s for _, s in files[:n])
            r["audio_s"] = audio_s
            r["rtf"] = audio_s / r["wall_s"]
            results[n] = r
            print(
                f"{n:5d} files: {audio_s:7.0f} s of audio in {r['wall_s']:6.1f} s wall -> {r['rtf']:6.1f}x real "
                "time; "
                f"peak RSS {r['peak_rss_mb']:.0f} MB (main {r['self_rss_mb']:.0f} + largest worker "
                f"{r['child_rss_mb']:.0f}); kept {r['kept']}, skipped {r['skipped']}",
                flush=True,
            )
    big = results[args.files]
    print(
        json.dumps(
            {
                "benchmark": "prepare_speed",
                "files": args.files,
                "num_proc": args.num_proc,
                "realtime_factor": round(big["rtf"], 1),
                "peak_rss_mb_500": round(results[args.small]["peak_rss_mb"], 1),
                "peak_rss_mb_2000": round(big["peak_rss_mb"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
