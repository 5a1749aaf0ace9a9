"""What the paths given to predict expand to: files, folders and manifests scanned into the files to classify
(:class:`Inputs`), and the files only ffmpeg decodes turned into a temporary WAV."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from hf_ser.data.audio import AudioError
from hf_ser.data.corpora.manifest import MANIFEST_SUFFIXES, read_manifest_rows
from hf_ser.data.corpora.scan import AUDIO_EXTENSIONS, walk_files
from hf_ser.infer.predict.options import PredictError
from hf_ser.safe_io import display_path

# Ogg Opus (.opus) is read by libsndfile >= 1.0.29 (soundfile lists OPUS among the OGG subtypes)
SOUNDFILE_OPUS = "OPUS" in sf.available_subtypes("OGG")
# what a folder scan classifies: the formats soundfile decodes, plus those only ffmpeg decodes (each of those
# files gets a row saying how to convert it when the ffmpeg binary is absent)
FFMPEG_EXTENSIONS: tuple[str, ...] = (".m4a", ".aac", ".mp4", ".wma", ".webm", ".amr", ".3gp", ".mka") + tuple(
    e for e, ok in ((".opus", SOUNDFILE_OPUS), (".mp3", ".mp3" in AUDIO_EXTENSIONS)) if not ok
)
SCAN_EXTENSIONS: tuple[str, ...] = AUDIO_EXTENSIONS + ((".opus",) if SOUNDFILE_OPUS else ()) + FFMPEG_EXTENSIONS
FFMPEG_TIMEOUT = 3600.0  # s: decoding an hour of AAC takes seconds; only a wedged ffmpeg takes this long
SKIPPED = "skipped"  # the reason of a folder file that is not audio (the error column of its row)


@dataclass
class Inputs:
    """What the paths given to predict expand to: the files to classify, in order, and why some are skipped.

    ``skipped`` maps a file found in a folder that is not audio (``notes.txt``) to the reason; such a file is
    still in ``files`` so that it gets its row in order (with the reason as its error). ``hidden`` counts the
    dot files and macOS metadata a folder scan ignores; ``empty`` lists the folders that hold no file at all.
    """

    files: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    hidden: int = 0
    empty: list[str] = field(default_factory=list)


def scan_inputs(paths: Sequence[str | Path]) -> Inputs:
    """Expand files, folders (recursive) and manifests into the files to classify, in the order given.

    In a folder every file is accounted for: audio files (SCAN_EXTENSIONS) are classified, any other file gets
    a ``skipped`` row naming its suffix. Only regular files are read as manifests; anything else (a missing
    path, a FIFO named ``x.wav``) is passed on and becomes an error row when it is checked.
    """
    out = Inputs()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found, hidden = walk_files(p, ("",))  # "" matches every name: nothing in the folder goes unseen
            out.hidden += hidden
            if not found:
                out.empty.append(display_path(p) + (f" ({hidden} hidden file(s) ignored)" if hidden else ""))
            for f in map(str, found):
                out.files.append(f)
                suffix = Path(f).suffix.lower()
                if suffix not in SCAN_EXTENSIONS:
                    out.skipped[f] = f"{SKIPPED}: not an audio file ({suffix or 'no suffix'})"
        elif p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES:
            try:
                rows = read_manifest_rows(p)
            except (ValueError, UnicodeDecodeError, csv.Error) as e:
                raise PredictError(f"cannot read the manifest {display_path(p)}: {display_path(str(e))}") from None
            if rows and "path" not in rows[0]:
                raise PredictError(
                    f"manifest {display_path(p)} has no 'path' column (columns: "
                    f"{', '.join(map(str, rows[0]))}); add one with the audio file of each row"
                )
            for row in rows:
                q = Path(str(row["path"]).strip())
                out.files.append(str(q if q.is_absolute() else p.parent / q))
        else:
            out.files.append(str(p))  # a missing, special or unreadable file becomes an error row
    return out


def collect_inputs(paths: Sequence[str | Path]) -> list[str]:
    """The audio files to classify from files, folders and manifests (:func:`scan_inputs` minus skipped files)."""
    inputs = scan_inputs(paths)
    return [f for f in inputs.files if f not in inputs.skipped]


def ffmpeg_decode(path: str, sampling_rate: int) -> str:
    """Decode a file libsndfile cannot read (AAC in .m4a, ...) with the ffmpeg binary into a temporary mono
    float32 WAV at `sampling_rate`; returns its path (the caller deletes it). AudioError when ffmpeg is absent
    (with the command that converts the file) or fails.
    """
    name = display_path(path)
    binary = shutil.which("ffmpeg")
    if binary is None:
        raise AudioError(
            "needs ffmpeg",
            f"libsndfile cannot read {Path(path).suffix or 'this format'} files; convert it with "
            f"`ffmpeg -i '{name}' '{Path(name).with_suffix('.wav')}'`, or install ffmpeg and hf-ser decodes it itself",
        )
    fd, tmp = tempfile.mkstemp(suffix=".wav", prefix="hf_ser-")
    os.close(fd)
    command = [binary, "-nostdin", "-v", "error", "-y", "-i", path, "-vn", "-ac", "1", "-ar", str(sampling_rate)]
    try:
        done = subprocess.run(
            [*command, "-c:a", "pcm_f32le", "-f", "wav", tmp], capture_output=True, timeout=FFMPEG_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        os.unlink(tmp)
        raise AudioError("unreadable", f"ffmpeg took over {FFMPEG_TIMEOUT:g} s on {name}") from None
    if done.returncode != 0:
        os.unlink(tmp)
        reason = " ".join(done.stderr.decode("utf-8", "replace").split())[-200:]
        raise AudioError("unreadable", f"ffmpeg could not decode it: {display_path(reason)}")
    return tmp
