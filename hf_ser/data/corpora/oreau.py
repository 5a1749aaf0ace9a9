"""Oréau (French): ``OréauFR_0x/{m,f}/sess?/SSxNNEv.wav``, e.g. ``10a02Ja.wav``.

Speaker = the leading digits (``10``), sentence ``a02`` (some stems use ``z`` for ``a``),
emotion = the capital letter after the sentence number (``stem[-2]``). Two releases ship:
``OréauFR_01`` (502 files) and ``OréauFR_02`` (434 validated files, the default); the
release folder is recognised by its ``_01``/``_02`` suffix whatever the encoding of ``é``.
"""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.data.corpora.scan import (
    CorpusError,
    CorpusNotFound,
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
STEM = re.compile(r"^(?P<speaker>\d+)(?P<sentence>[A-Za-z]\d+)(?P<emotion>[A-Z])(?P<take>[A-Za-z0-9]?)$")
RELEASE_DIR = r"_0?([12])$"
EXPECTED = "SSxNNEv.wav, e.g. 10a02Ja.wav"


def _release(value: str | int) -> str:
    digits = re.sub(r"\D", "", str(value)).lstrip("0")
    if digits not in ("1", "2"):
        raise CorpusError(f"oreau: release must be '_01' or '_02', not {value!r}")
    return digits


def parse(path: Path) -> tuple[str, str] | None:
    """(emotion letter, speaker) from an Oréau file name, or None."""
    m = STEM.match(path.stem)
    return (m["emotion"], m["speaker"]) if m else None


def scan_oreau(root: Path, release: str | int = "_02") -> Scan:
    """Scan Oréau; `release` picks ``_02`` (validated, default) or ``_01`` when both are present."""
    want = _release(release)
    dirs = find_named_dirs(root, RELEASE_DIR)
    by_release: dict[str, list[Path]] = {}
    for d in dirs:
        by_release.setdefault(re.search(RELEASE_DIR, display_path(d.name))[1], []).append(d)
    notes = []
    if by_release:
        if want not in by_release:
            found = ", ".join(display_path(d.name) for ds in by_release.values() for d in ds)
            raise CorpusNotFound(
                f"oreau: release _0{want} not found under {display_path(root)} (found {found}); "
                f"pass release='_0{next(iter(by_release))}' or extract OréauFR_0{want}.zip there"
            )
        files, ignored = walk_dirs(by_release[want], (".wav",))
        notes.append(f"release _0{want} ({', '.join(display_path(d.name) for d in by_release[want])})")
    else:
        files, ignored = walk_files(root, (".wav",))
        notes.append("no OréauFR_01/_02 folder found: using every .wav below the corpus folder")
    scan = scan_files(root, "oreau", LANGUAGE, LABEL_MAP, parse, EXPECTED, files=files, ignored=ignored)
    scan.notes = notes + scan.notes
    return scan


LOADER = Loader("oreau", scan_oreau, LABEL_MAP, LABELS)
