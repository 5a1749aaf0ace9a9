"""CaFE (Canadian French): ``CaFE_48k/<Émotion>/{Faible,Fort}/AA-E-I-S.wav`` (actor, emotion
letter, intensity 1/2, sentence); neutral sits directly in ``Neutre/`` as ``AA-N-I-S.wav``
(48 kHz release) or ``AA-N-S.aiff`` (192 kHz AIFF release).

The emotion folders often extract as mojibake (``Col├¿re``), so the label comes from the
file name only. When both releases are extracted, `release` picks one (48k by default).
"""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import (
    CorpusError,
    Loader,
    NativeLabel,
    Scan,
    display_path,
    find_named_dirs,
    paper_label_map,
    scan_files,
    walk_dirs,
    walk_files,
)

LANGUAGE = "FRE"
LABELS: dict[str, NativeLabel] = {
    "C": NativeLabel("anger", "anger"),  # colère
    "D": NativeLabel("disgust", "disgust"),  # dégoût
    "J": NativeLabel("joy", "happiness"),  # joie
    "N": NativeLabel("neutral", "neutral"),  # neutre
    "P": NativeLabel("fear", "fear"),  # peur
    "T": NativeLabel("sadness", "sadness"),  # tristesse
    "S": NativeLabel("surprise", "surprise"),  # surprise: outside the six, dropped in `paper`
}
LABEL_MAP: dict[str, str | None] = paper_label_map(LABELS)
STEM = re.compile(r"^(?P<actor>\d{1,2})-(?P<emotion>[A-Za-z])-(?P<rest>\d+(?:-\d+)?)$")
RELEASE_DIR = r"^cafe[ _-]?(\d+)k?$"
EXTENSIONS = (".wav", ".aif", ".aiff")
EXPECTED = "AA-E-I-S.wav or AA-N-S.aiff, e.g. 01-C-1-1.wav"


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, actor) from a CaFE file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"].upper(), m["actor"].zfill(2)) if m else None


def _rate(value: str | int) -> str:
    digits = re.sub(r"\D", "", str(value))
    if digits not in ("48", "192"):
        raise CorpusError(f"cafe: release must be '48k' or '192k', not {value!r}")
    return digits


def scan_cafe(root: Path, release: str | int = "48k") -> Scan:
    """Scan CaFE; `release` ('48k' WAV or '192k' AIFF) matters only when both are extracted."""
    want = _rate(release)
    dirs = {}
    for d in find_named_dirs(root, RELEASE_DIR):
        dirs.setdefault(re.search(RELEASE_DIR, display_path(d.name), re.IGNORECASE)[1], []).append(d)
    notes = []
    if dirs:
        use = want if want in dirs else next(iter(dirs))
        if use != want:
            notes.append(f"release {want}k not found; using the {use}k release that is there")
        files, ignored = walk_dirs(dirs[use], EXTENSIONS)
        if len(dirs) > 1:
            notes.append(f"several releases found ({', '.join(k + 'k' for k in dirs)}); using {use}k")
    else:
        files, ignored = walk_files(root, EXTENSIONS)
        wav = [f for f in files if f.suffix.lower() == ".wav"]
        aiff = [f for f in files if f.suffix.lower() in (".aif", ".aiff")]
        if wav and aiff:  # both releases extracted without their top folders: keep one
            files = wav if want == "48" else aiff
            notes.append(
                f"both WAV and AIFF files found; using the {'WAV (48k)' if want == '48' else 'AIFF (192k)'} ones"
            )
    scan = scan_files(root, "cafe", LANGUAGE, LABEL_MAP, parse, EXPECTED, files=files, ignored=ignored)
    scan.notes = notes + scan.notes
    return scan


LOADER = Loader("cafe", scan_cafe, LABEL_MAP, LABELS)
