"""Scanning a corpus: the typed records a loader returns, and the folder walking every loader shares.

A corpus loader only *scans*: it walks the folder, reads metadata, and returns :class:`Scan` (one
:class:`Item` per audio file with its native label, and the native-label -> emotion map).
:mod:`hf_ser.data.corpora.prepare` does the rest for every corpus alike.

An :class:`Item` usually names an audio file. It can also name one cell of a table (a parquet or
Arrow file, as the Hugging Face Hub ships audio): then ``path`` is ``"<table file>::<row>"`` and
``column`` names the audio column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import soundfile as sf

from hf_ser.data.audio import AudioError, check_audio_file
from hf_ser.errors import UserError
from hf_ser.labels import CANONICAL_EMOTIONS, EMOTIONS
from hf_ser.safe_io import display_path

# The formats this soundfile build decodes (MP3 only with libsndfile >= 1.1): what loaders and predict look for.
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".aif", ".aiff", ".ogg") + (
    (".mp3",) if "MP3" in sf.available_formats() else ()
)
# Folders that never hold corpus audio: macOS zip metadata and VCS internals.
IGNORED_DIRS = frozenset({"__MACOSX", ".git", ".svn", ".hg"})
TABLE_ROW_SEP = "::"  # "<table file>::<row>" names one row of a table
LFS_POINTER_MAX_BYTES = 1024  # the git-LFS spec keeps pointer files below 1024 bytes


@dataclass(frozen=True)
class NativeLabel:
    """One class of a corpus as the corpus names it (lower case: 'excited', 'calm', 'pleasant surprise') and
    the name it maps into in the shared vocabulary :data:`hf_ser.labels.CANONICAL_EMOTIONS`."""

    name: str
    canonical: str

    def __post_init__(self) -> None:
        """Reject a canonical name outside the shared vocabulary (a typo would silently drop a class)."""
        if self.canonical not in CANONICAL_EMOTIONS:
            raise ValueError(f"native label {self.name!r}: {self.canonical!r} is not in labels.CANONICAL_EMOTIONS")


def paper_label_map(labels: dict[str, NativeLabel]) -> dict[str, str | None]:
    """The paper's six-class map of a corpus: label code -> its canonical emotion when that is one of the six
    :data:`hf_ser.labels.EMOTIONS`, else None (dropped and counted, as every class outside the six)."""
    return {code: (lab.canonical if lab.canonical in EMOTIONS else None) for code, lab in labels.items()}


@dataclass
class Item:
    """One audio file (or one table row, see the module docstring) found by a scan, with its native label."""

    path: str
    label: str
    language: str
    speaker: str
    corpus: str
    column: str | None = None  # audio column when ``path`` is "<table file>::<row>"
    native: str | None = None  # set by preparation: the native label's name (NativeLabel.name, or the label)
    canonical: str | None = None  # set by preparation: its name in hf_ser.labels.CANONICAL_EMOTIONS


@dataclass
class Scan:
    """What a loader found: items, files it could not use, and its native label map."""

    corpus: str
    items: list[Item]
    label_map: dict[str, str | None]
    skipped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    labels: dict[str, NativeLabel] = field(default_factory=dict)  # the loader's native labels (Loader.labels)


class CorpusError(UserError):
    """A corpus, manifest or label map that cannot be used as given; the message names the file and the fix."""


class CorpusNotFound(CorpusError):
    """A corpus folder (or its audio) is missing; the message says where it looked and what to do.

    ``report`` holds the preparation report when files were scanned but none was usable.
    """

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report


# ----------------------------------------------------------------------------- folder walking


def is_hidden(name: str) -> bool:
    """True for names a loader ignores silently: dot files such as ``.DS_Store`` and the
    ``._foo.wav`` AppleDouble resource forks that macOS puts in zips."""
    return name.startswith(".")


def _walk(root: str | Path):
    """os.walk that follows symlinked folders (corpora are often linked in) but never loops."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        yield dirpath, dirnames, filenames


def walk_files(root: str | Path, extensions: Iterable[str] = AUDIO_EXTENSIONS) -> tuple[list[Path], int]:
    """Every file below `root` whose suffix is in `extensions` (case-insensitive), sorted by path,
    and how many hidden/macOS-metadata files were ignored on the way."""
    exts = tuple(e.lower() for e in extensions)
    found, ignored = [], 0
    for dirpath, dirnames, filenames in _walk(root):
        kept_dirs = []
        for d in dirnames:
            if d in IGNORED_DIRS or is_hidden(d):
                ignored += sum(len(f) for _, _, f in os.walk(os.path.join(dirpath, d)))
            else:
                kept_dirs.append(d)
        dirnames[:] = sorted(kept_dirs)
        for name in filenames:
            if not name.lower().endswith(exts):
                continue
            if is_hidden(name):
                ignored += 1
                continue
            found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: os.fsencode(p)), ignored


def walk_dirs(folders: Iterable[Path], extensions: Iterable[str] = AUDIO_EXTENSIONS) -> tuple[list[Path], int]:
    """:func:`walk_files` over several folders (e.g. every release folder a loader found), concatenated."""
    files: list[Path] = []
    ignored = 0
    for folder in folders:
        found, skipped = walk_files(folder, extensions)
        files += found
        ignored += skipped
    return files, ignored


def ancestor_named(path: Path, names: Iterable[str], levels: int = 3) -> str | None:
    """The name (lower case) of the nearest of `path`'s `levels` parent folders whose lower-cased name is one
    of `names` (a corpus whose label or speaker is a folder: ``0001/Angry/train/x.wav``), or None."""
    wanted = {n.lower() for n in names}
    for parent in list(path.parents)[:levels]:
        if parent.name.lower() in wanted:
            return parent.name.lower()
    return None


def hidden_note(ignored: int) -> list[str]:
    """A scan note for ignored macOS metadata / hidden files (empty when there were none)."""
    if not ignored:
        return []
    return [f"ignored {ignored} hidden or macOS metadata file(s) (._*, .DS_Store, __MACOSX/)"]


def find_named_dirs(root: Path, pattern: str) -> list[Path]:
    """Outermost folders below `root` whose name matches the regex `pattern` (case-insensitive)."""
    rx = re.compile(pattern, re.IGNORECASE)
    out: list[Path] = []
    for dirpath, dirnames, _ in _walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS and not is_hidden(d))
        matched = [d for d in dirnames if rx.search(display_path(d))]
        out += [Path(dirpath) / d for d in matched]
        dirnames[:] = [d for d in dirnames if d not in matched]  # do not descend into a match
    return out


def read_metadata_csv(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """A corpus's metadata CSV as strings, with lower-cased, stripped column names.

    Comma first (most distributed files are comma separated), then ``|`` (EMNS's ``metadata.csv``); if neither
    gives every `required` column the delimiter is sniffed. Raises CorpusError naming the file and its columns.
    """
    required = [c.lower() for c in required]
    df = None
    for sep in (",", "|", None):
        df = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            sep=sep,
            engine="python" if sep is None else "c",
            encoding="utf-8-sig",
        )
        df.columns = [str(c).strip().lower() for c in df.columns]
        if all(c in df.columns for c in required):
            return df
    raise CorpusError(
        f"{display_path(path)} lacks column(s) {', '.join(c for c in required if c not in df.columns)}; "
        f"it has {', '.join(df.columns)}"
    )


ParseFn = Callable[[Path], "tuple[str, str] | None"]


def scan_files(
    root: Path,
    corpus: str,
    language: str,
    label_map: dict[str, str | None],
    parse: ParseFn,
    expected: str,
    extensions: Iterable[str] = (".wav",),
    files: list[Path] | None = None,
    ignored: int = 0,
) -> Scan:
    """Scan a corpus whose labels are in its file names: ``parse(path) -> (native label, speaker)``
    or None for a name that does not follow the corpus convention (skipped, with `expected` in the reason)."""
    if files is None:
        files, ignored = walk_files(root, extensions)
    items, skipped = [], []
    for p in files:
        parsed = parse(p)
        if parsed is None:
            skipped.append({"path": str(p), "reason": f"unrecognised file name (expected {expected})"})
            continue
        label, speaker = parsed
        items.append(Item(str(p), label, language, speaker, corpus))
    return Scan(corpus, items, dict(label_map), skipped, hidden_note(ignored))


def is_lfs_pointer_file(path: str | Path) -> bool:
    """True when `path` is a git-LFS pointer file standing in for audio.

    The file type is checked before anything opens the file, by predict's own :func:`check_audio_file` (a FIFO
    named ``x.wav`` would otherwise block the scan forever). Only files under the spec's 1024-byte pointer limit
    are checked: a stat costs ~2 us where check_audio_file's header read costs ~38 us per file (measured on 2000
    wav files), and a FIFO reports size 0 so it is still checked (and is not a pointer).
    """
    try:
        if os.path.getsize(path) >= LFS_POINTER_MAX_BYTES:
            return False
        check_audio_file(path)
    except OSError:
        return False
    except AudioError as e:
        return e.reason == "git-LFS pointer"
    return False


def lfs_pointer_note(scan: Scan, hint: str = "") -> None:
    """Add a note to `scan` when most of its audio files are git-LFS pointers (a clone without `git lfs pull`)."""
    files = [it.path for it in scan.items if it.column is None]
    if not files:
        return
    pointers = sum(is_lfs_pointer_file(p) for p in files)
    if pointers and pointers * 2 >= len(files):
        scan.notes.append(
            f"{pointers} of {len(files)} audio files are git-LFS pointer files, not audio: run "
            "`git lfs install && git lfs pull` inside the clone to fetch the audio" + (f" ({hint})" if hint else "")
        )


ScanFn = Callable[..., Scan]


@dataclass(frozen=True)
class Loader:
    """A corpus layout loader: the corpus name, its scan function ``scan(root, **options) -> Scan``, the
    native-label map into the paper's six classes (also used when the corpus is read from the Hub) and the
    corpus's native labels (label code -> :class:`NativeLabel`; empty for a user's own loader)."""

    name: str
    scan: ScanFn
    label_map: dict[str, str | None]
    labels: dict[str, NativeLabel] = field(default_factory=dict)
