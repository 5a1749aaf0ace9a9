"""Emotion over time on long recordings: ``python benchmarks/long_audio.py [--seconds 60] [--quick]``.

Builds a speech track from eSpeak NG sentences (real synthetic speech, so the VAD fires) with pauses of
0.4-1.5 s, and measures, side by side on one CPU thread:

- the real-time factor (audio seconds per second of CPU time) of ``hf_ser.infer.predict`` with the VAD on
  (``--segment vad``: speech segments only) and off (``--segment fixed``, 4 s windows every 4 s over the
  whole file), for the demo model and for the XLS-R 300M architecture with random weights;
- the VAD's own share of the time of a VAD run (its pass over the file alone, timed apart);
- the peak RSS of ``python -m hf_ser.infer.predict`` (each in a fresh process) on a 1-minute and on a 1-hour
  16 kHz file with the demo model (``--segment vad``): the streamed design keeps them within 300 MB.

Prints the figures and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from common import add_common_args, clock, emit, set_threads

from hf_ser.data.corpora.synthetic.build import plan_utterances
from hf_ser.data.corpora.synthetic.espeak import get_engine
from hf_ser.data.corpora.synthetic.profiles import emotion_profile
from hf_ser.data.corpora.synthetic.render import render_utterance
from hf_ser.infer import segments
from hf_ser.infer.predict.model import load_classifier
from hf_ser.infer.predict.options import PredictOptions
from hf_ser.infer.predict.predictor import classify
from hf_ser.train.modeling import DEMO_BACKBONE, XLSR_300M_RANDOM, build_model

ROOT = Path(__file__).resolve().parents[1]
SR = 16_000
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a 2 GB
# parent (XLS-R loaded) reports 2 GB whatever it does; VmHWM belongs to the new address space.
RSS_SCRIPT = (
    "import sys\n"
    "from hf_ser.infer.predict.__main__ import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
    "print('PEAK_RSS_KB', hwm, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def speech_track(seed: int = 0) -> np.ndarray:
    """About 30 s of eSpeak NG sentences (English and French, six emotions) separated by 0.4-1.5 s pauses."""
    rng = np.random.default_rng(seed)
    engine = get_engine()
    parts = []
    for u in plan_utterances(["ENG", "FRE"], 1, 2):
        pcm, _ = render_utterance(engine, u, emotion_profile(u.emotion, "others"), seed=seed)
        parts += [pcm.astype(np.float32) / 32768, np.zeros(int(rng.uniform(0.4, 1.5) * SR), np.float32)]
    return np.concatenate(parts)


def write_long(path: Path, track: np.ndarray, seconds: float) -> Path:
    """A `seconds`-long 16 kHz PCM_16 WAV repeating `track`, written block by block (never whole in memory)."""
    total = int(seconds * SR)
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
        written = 0
        while written < total:
            block = track[: total - written]
            f.write(block)
            written += len(block)
    return path


def save_model(name: str, folder: Path) -> Path:
    """A random-weight model of the architecture `name` saved as a pipeline-loadable folder."""
    model, extractor = build_model(name)
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder


def realtime(path: Path, model_dir: Path, audio_seconds: float, clock_kind: str) -> dict:
    """RTF with the VAD on and off, and the VAD's share of the VAD run, for one model on one file."""
    classifier = load_classifier(str(model_dir), "cpu")
    out = {}
    for name, options in (
        ("vad", PredictOptions(segment="vad")),
        ("fixed", PredictOptions(segment="fixed", window=4.0, hop=4.0)),
    ):
        start = clock(clock_kind)
        rows = classify([path], classifier, options)
        seconds = clock(clock_kind) - start
        assert rows[-1]["error"] is None, rows[-1]["error"]
        out[f"rtf_{name}"] = audio_seconds / seconds
        out[f"segments_{name}"] = sum(r["kind"] == "segment" for r in rows)
        out[f"seconds_{name}"] = seconds
    start = clock(clock_kind)
    segments.vad_segments(path)
    out["vad_seconds"] = clock(clock_kind) - start
    out["vad_share"] = out["vad_seconds"] / out["seconds_vad"]
    return out


def peak_rss_mb(path: Path, model_dir: Path, work: Path) -> float:
    """Peak RSS (MB) of a fresh ``hf_ser.infer.predict --segment vad`` process on `path`."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            RSS_SCRIPT,
            str(path),
            "--model",
            str(model_dir),
            "--segment",
            "vad",
            "--device",
            "cpu",
            "--no_progress",
            "--output",
            str(work / f"{path.stem}.csv"),
        ],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "OMP_NUM_THREADS": "1",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    kb = [line.split()[1] for line in result.stderr.splitlines() if line.startswith("PEAK_RSS_KB")]
    return int(kb[-1]) / 1024


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    parser.add_argument("--seconds", type=float, default=60.0, help="audio for the demo model's RTF")
    parser.add_argument("--xlsr_seconds", type=float, default=30.0, help="audio for XLS-R 300M (slow on CPU)")
    parser.add_argument("--long_minutes", type=float, default=60.0, help="the long file of the RSS comparison")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.xlsr_seconds, args.long_minutes = 10.0, 4.0, 3.0
    set_threads(args.threads)
    track = speech_track(args.seed)
    result: dict = {"benchmark": "long_audio", "clock": args.clock, "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, key, seconds in (
            (DEMO_BACKBONE, "demo", args.seconds),
            (XLSR_300M_RANDOM, "xlsr", args.xlsr_seconds),
        ):
            model_dir = save_model(name, work / name)
            path = write_long(work / f"{key}_{seconds:g}s.wav", track, seconds)
            r = realtime(path, model_dir, seconds, args.clock)
            print(
                f"{name:>18} on {seconds:g} s: RTF {r['rtf_vad']:8.1f}x with the VAD ({r['segments_vad']} segments), "
                f"{r['rtf_fixed']:8.1f}x without ({r['segments_fixed']} windows of 4 s); "
                f"VAD share {100 * r['vad_share']:.0f} % ({r['vad_seconds']:.2f} s)",
                flush=True,
            )
            result.update(
                {
                    f"rtf_{key}_vad": r["rtf_vad"],
                    f"rtf_{key}_fixed": r["rtf_fixed"],
                    f"vad_share_{key}": r["vad_share"],
                    f"audio_seconds_{key}": seconds,
                }
            )
            if key == "xlsr":
                (work / name / "model.safetensors").unlink()  # 1.2 GB of temp disk back before the long file
        demo_dir = work / DEMO_BACKBONE
        short = write_long(work / "one_minute.wav", track, 60.0)
        long = write_long(work / "long.wav", track, args.long_minutes * 60)
        rss_short = peak_rss_mb(short, demo_dir, work)
        rss_long = peak_rss_mb(long, demo_dir, work)
    print(
        f"peak RSS of predict --segment vad: {rss_short:.0f} MB on 1 min, {rss_long:.0f} MB on "
        f"{args.long_minutes:g} min: +{rss_long - rss_short:.0f} MB (target: within 300 MB)",
        flush=True,
    )
    result.update(
        {
            "peak_rss_mb_short": rss_short,
            "peak_rss_mb_long": rss_long,
            "long_minutes": args.long_minutes,
            "rss_delta_mb": rss_long - rss_short,
        }
    )
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
