"""Linguistic distances between languages from URIEL+, the paper's binary lineage, and their missing values.

URIEL+ (Khan et al., COLING 2025; the ``urielplus`` wheel ships its data and works offline) gives, for about
8,000 languages identified by ISO 639-3 code, angular distances in [0, 1] between their feature vectors:

- ``genetic`` (Glottolog family-tree membership), ``geographic`` (location), ``syntactic``, ``phonological``,
  ``inventory`` (sound inventory), ``featural`` (all typological features together).

Each pair is computed on the features *both* languages have; a pair with no shared feature is returned as -1.
:func:`language_distances` adds the paper's **lineage** (0 when two languages are in the same ``group`` of
:data:`hf_ser.labels.LANGUAGES`, 1 otherwise) and applies :data:`MISSING_RULE`:

- a pair that URIEL+ marks -1 gets the **mean of the available pairs** of that distance among the languages asked
  for (a constant that adds no spurious structure: it moves that pair to the middle of the scale), and the pairs
  touched are recorded in :attr:`DistanceSet.imputed`;
- a distance with more than :data:`MAX_MISSING_SHARE` of its pairs missing is **dropped** (recorded in
  :attr:`DistanceSet.dropped`): its values would be mostly the imputed constant.

Phonological distance of the paper's ten languages is the case in point: Italian and Portuguese have no
phonological features in URIEL+, so their 17 of 45 pairs are imputed.

Distances are cached by pair (``<cache_dir>/urielplus-<version>-distances.json``): a pair's value depends only on
the two languages, so a new target reuses every cached pair of the study's languages. The genetic distance takes
about 4 s of CPU for the 45 pairs of ten languages (25 s on a busy machine), 0.1 s per pair; the others are fast.
"""

from __future__ import annotations

import csv
import difflib
import functools
import importlib.metadata
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hf_ser.errors import UserError
from hf_ser.labels import LANGUAGES, Language
from hf_ser.safe_io import atomic_write_json, storage_error

URIEL_DISTANCES: tuple[str, ...] = ("genetic", "geographic", "syntactic", "phonological", "inventory", "featural")
LINEAGE = "lineage"
ALL_DISTANCES: tuple[str, ...] = (*URIEL_DISTANCES, LINEAGE)
MISSING = -1.0  # URIEL+'s mark for a pair without shared features
MAX_MISSING_SHARE = 0.5  # above this share of missing pairs a distance is mostly imputed: drop it
MISSING_RULE = (
    f"a pair URIEL+ marks -1 (no shared features) gets the mean of that distance's available pairs; a distance "
    f"with more than {MAX_MISSING_SHARE:.0%} of its pairs missing is dropped"
)
INSTALL_HINT = "pip install 'hf_ser[transfer]' (urielplus>=1.3.2)"
PAPER_SNAPSHOT = Path(__file__).with_name("paper_distances.json")
STUDY_SNAPSHOT = Path(__file__).with_name("study_distances.json")  # the table's 17 languages (the transfer demo's)


@dataclass(frozen=True)
class DistanceSet:
    """Symmetric distance matrices between languages, after the missing-value rule, with what the rule did.

    ``labels`` name the rows (the study's codes such as ``FRE``, or ISO 639-3 codes for other languages),
    ``codes`` are their ISO 639-3 codes; ``matrices[name]`` is (n, n) with a zero diagonal; ``raw[name]`` keeps
    URIEL+'s values with -1 for missing pairs; ``imputed[name]`` lists the (label, label) pairs the rule filled;
    ``dropped`` the distances removed for too many missing pairs.
    """

    labels: tuple[str, ...]
    codes: tuple[str, ...]
    matrices: dict[str, np.ndarray]
    raw: dict[str, np.ndarray]
    imputed: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    source: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The distances kept, in :data:`ALL_DISTANCES` order."""
        return tuple(n for n in ALL_DISTANCES if n in self.matrices) + tuple(
            n for n in self.matrices if n not in ALL_DISTANCES
        )

    def index(self, label: str) -> int:
        """Row of `label` (a study code or an ISO 639-3 code)."""
        for i, (lab, code) in enumerate(zip(self.labels, self.codes)):
            if label in (lab, code):
                return i
        raise UserError(f"language {label!r} is not in this distance set ({', '.join(self.labels)})")

    def to_json(self) -> dict:
        """A JSON-ready dict (raw values, so the rule is re-applied on load)."""
        return {
            "labels": list(self.labels),
            "codes": list(self.codes),
            "raw": {k: np.round(v, 6).tolist() for k, v in self.raw.items()},
            "source": self.source,
        }


def uriel_version() -> str:
    """The installed urielplus version (the cache key: a new release may change the data)."""
    try:
        return importlib.metadata.version("urielplus")
    except importlib.metadata.PackageNotFoundError as err:
        raise UserError(f"the transfer analysis needs URIEL+: {INSTALL_HINT}") from err


@functools.lru_cache(maxsize=1)
def _uriel():
    """The URIEL+ database, loaded once (about 3 s), without leaving its INFO logging on the root logger.

    ``urielplus`` calls ``logging.basicConfig(level=INFO)`` at import; the handler and level it adds to an
    unconfigured root logger are removed again so hf_ser's output stays as it was.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from urielplus.urielplus import URIELPlus
    except ImportError as err:
        raise UserError(f"the transfer analysis needs URIEL+: {INSTALL_HINT}") from err
    for handler in root.handlers[len(handlers) :]:
        root.removeHandler(handler)
    root.setLevel(level)
    return URIELPlus()


def _quiet_call(fn, *args):
    """Call a URIEL+ function with its per-call INFO lines silenced (restored afterwards)."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        return fn(*args)
    finally:
        logging.disable(previous)


def _data_dir() -> Path:
    """URIEL+'s CSV folder (language names and glottocodes), found without loading the database."""
    try:
        import urielplus
    except ImportError as err:
        raise UserError(f"the transfer analysis needs URIEL+: {INSTALL_HINT}") from err
    return Path(urielplus.__file__).parent / "database" / "urielplus_csvs"


@functools.lru_cache(maxsize=1)
def uriel_names() -> dict[str, str]:
    """ISO 639-3 code -> language name for every language URIEL+ holds (its glottocode map joined to Glottolog's
    names); read from two CSVs in milliseconds, so resolving a code does not load the 3-s database."""
    folder = _data_dir()
    with open(folder / "lang_fam_geo.csv", newline="", encoding="utf-8") as f:
        glotto_name = {row["language_id"]: row["language_name"] for row in csv.DictReader(f)}
    with open(folder / "uriel_glottocode_map.csv", newline="", encoding="utf-8") as f:
        return {row["iso_code"]: glotto_name.get(row["glottocode"], row["iso_code"]) for row in csv.DictReader(f)}


def resolve_language(query: str) -> str:
    """The ISO 639-3 code URIEL+ knows for `query`: a study code (``FRE``), an ISO 639-3 code or a language name.

    An unknown one raises a one-line :class:`UserError` naming the closest codes and names (difflib).
    """
    text = str(query).strip()
    if text.upper() in LANGUAGES:
        return LANGUAGES[text.upper()].iso639_3
    names = uriel_names()
    if text.lower() in names:
        return text.lower()
    by_name = {name.lower(): code for code, name in sorted(names.items(), reverse=True)}
    if text.lower() in by_name:
        return by_name[text.lower()]
    close_codes = difflib.get_close_matches(text.lower(), names, n=3, cutoff=0.6)
    close_names = difflib.get_close_matches(text.lower(), by_name, n=3, cutoff=0.6)
    hints = [f"{c} ({names[c]})" for c in close_codes] + [f"{by_name[n]} ({names[by_name[n]]})" for n in close_names]
    hint = f"; closest: {', '.join(dict.fromkeys(hints))}" if hints else ""
    raise UserError(f"URIEL+ knows no language {text!r} (give an ISO 639-3 code or a language name){hint}")


def _label_and_code(language: str) -> tuple[str, str, str | None]:
    """(label, ISO 639-3 code, study group or None) of one language as the user named it."""
    text = str(language).strip()
    if text.upper() in LANGUAGES:
        lang = LANGUAGES[text.upper()]
        return lang.code, lang.iso639_3, _paper_side(lang)
    code = resolve_language(text)
    for lang in LANGUAGES.values():
        if lang.iso639_3 == code:
            return lang.code, code, _paper_side(lang)
    return code, code, None


def _paper_side(lang: Language) -> str:
    """A table language's side of the paper's binary lineage: its group, and for a language outside the paper's
    split (EmoBox's German, Greek, ...) the side it falls on by family: a Romance language is Neo-Latin, any other
    is among the others (German and Turkish are not one lineage because neither is in the paper)."""
    if lang.group:
        return lang.group
    return "neo_latin" if lang.family == "Romance" else "others"


def _pair_key(a: str, b: str) -> str:
    """The cache key of an unordered pair."""
    return "|".join(sorted((a, b)))


def _read_cache(path: Path | None, version: str) -> dict[str, dict[str, float]]:
    """The cached pair values by distance ({} when there is no cache, or it is of another URIEL+ version)."""
    if path is None or not path.is_file():
        return {}
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged cache is recomputed, not an error
    return payload.get("distances", {}) if payload.get("urielplus") == version else {}


def _compute_pairs(kind: str, pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
    """URIEL+'s `kind` distance of each pair, as {pair key: value} (-1 where the two share no feature).

    One URIEL+ call per pair: its matrix call builds every language's vector once per pair anyway (n^2 builds
    for n languages), so a new target's ten pairs cost 0.9 s of genetic distance instead of 5 s for the
    11-language matrix, and the values are the same (each pair is computed on the features both languages have).
    """
    out = {}
    uriel = _uriel()
    for a, b in pairs:
        try:
            out[_pair_key(a, b)] = float(_quiet_call(uriel.new_distance, kind, [a, b]))
        except ValueError:  # URIEL+ raises for a pair without shared features where its matrix call gives -1
            out[_pair_key(a, b)] = MISSING
    return out


def uriel_distances(
    codes: Sequence[str], kinds: Sequence[str] = URIEL_DISTANCES, cache_dir: str | Path | None = None
) -> dict[str, np.ndarray]:
    """URIEL+'s raw distance matrices (n, n) for ISO 639-3 `codes`, -1 where a pair has no shared feature.

    Pairs already in the cache (``<cache_dir>/urielplus-<version>-distances.json``) are not recomputed; only
    the missing pairs are passed to URIEL+, and the cache is rewritten with the new pairs.
    """
    unknown = [c for c in codes if c not in uriel_names()]
    if unknown:
        resolve_language(unknown[0])  # raises the one-line error with the closest matches
    version = uriel_version()
    path = Path(cache_dir) / f"urielplus-{version}-distances.json" if cache_dir is not None else None
    cache = _read_cache(path, version)
    changed = False
    out = {}
    for kind in kinds:
        known = cache.setdefault(kind, {})
        todo = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :] if a != b and _pair_key(a, b) not in known]
        if todo:
            known.update(_compute_pairs(kind, todo))
            changed = True
        matrix = np.zeros((len(codes), len(codes)))
        for i, a in enumerate(codes):
            for j, b in enumerate(codes):
                if a != b:
                    matrix[i, j] = known[_pair_key(a, b)]
        out[kind] = matrix
    if path is not None and changed:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(path, {"urielplus": version, "distances": cache})
        except OSError as err:
            friendly = storage_error(err, path.parent)
            if friendly is None:
                raise
            raise friendly from err
    return out


def lineage_matrix(groups: Sequence[str | None]) -> np.ndarray:
    """The paper's binary lineage: 0 for two languages of one group, 1 otherwise; -1 (missing) where a language
    has no group (a language outside the study's table, unless the caller names its group)."""
    g = list(groups)
    out = np.array([[0.0 if a == b else 1.0 for b in g] for a in g])
    unknown = np.array([x is None for x in g])
    out[unknown, :] = MISSING
    out[:, unknown] = MISSING
    np.fill_diagonal(out, 0.0)
    return out


def apply_missing_rule(raw: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray | None, tuple[tuple[str, str], ...]]:
    """(filled matrix or None when dropped, the pairs filled) under :data:`MISSING_RULE`.

    The mean of the available off-diagonal pairs replaces each -1; more than :data:`MAX_MISSING_SHARE` missing
    (or none available) drops the distance, since its values would be mostly that constant.
    """
    n = len(labels)
    upper = np.triu_indices(n, k=1)
    values = raw[upper]
    missing = values == MISSING
    pairs = tuple((labels[i], labels[j]) for i, j, m in zip(*upper, missing) if m)
    if not len(values) or missing.all() or missing.mean() > MAX_MISSING_SHARE:
        return None, pairs
    filled = raw.copy()
    filled[filled == MISSING] = float(values[~missing].mean())
    np.fill_diagonal(filled, 0.0)
    return filled, pairs


def language_distances(
    languages: Sequence[str],
    cache_dir: str | Path | None = None,
    kinds: Sequence[str] = ALL_DISTANCES,
    groups: Mapping[str, str] | None = None,
) -> DistanceSet:
    """The distances in `kinds` between `languages` (study codes, ISO 639-3 codes or names), rule applied.

    `groups` gives the lineage group of languages outside the study's table (label -> group); without one a
    language's lineage pairs are missing. Raises a one-line :class:`UserError` for a language URIEL+ does not know.
    """
    resolved = [_label_and_code(lang) for lang in languages]
    labels = tuple(r[0] for r in resolved)
    codes = tuple(r[1] for r in resolved)
    if len(set(codes)) != len(codes):
        raise UserError(f"a language is named twice in {', '.join(map(str, languages))}")
    raw = uriel_distances(codes, [k for k in kinds if k in URIEL_DISTANCES], cache_dir)
    if LINEAGE in kinds:
        raw[LINEAGE] = lineage_matrix([(groups or {}).get(r[0], r[2]) for r in resolved])
    return _finish(labels, codes, raw, f"urielplus {uriel_version()}")


def _finish(labels: tuple[str, ...], codes: tuple[str, ...], raw: dict[str, np.ndarray], source: str) -> DistanceSet:
    """Apply the missing-value rule to every raw matrix and assemble the :class:`DistanceSet`."""
    matrices, imputed, dropped = {}, {}, []
    for kind, matrix in raw.items():
        filled, pairs = apply_missing_rule(matrix, labels)
        if pairs:
            imputed[kind] = pairs
        if filled is None:
            dropped.append(kind)
        else:
            matrices[kind] = filled
    return DistanceSet(labels, codes, matrices, raw, imputed, tuple(dropped), source)


def unit_distances(ds: DistanceSet, units: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Distance matrices between units (corpora) from their languages' rows in `ds`; `units` maps each unit to
    its language (a label or code of `ds`), in the matrices' order. Two corpora of one language are at 0 on every
    linguistic distance, so what separates their transfer is the corpus (Oreau and CaFE, MESD and EmoFilm)."""
    idx = [ds.index(lang) for lang in units.values()]
    return {name: m[np.ix_(idx, idx)] for name, m in ds.matrices.items()}


def distance_set_from_json(payload: Mapping) -> DistanceSet:
    """A :class:`DistanceSet` from :meth:`DistanceSet.to_json`'s dict (the rule applied again)."""
    raw = {k: np.asarray(v, dtype=float) for k, v in payload["raw"].items()}
    return _finish(tuple(payload["labels"]), tuple(payload["codes"]), raw, str(payload.get("source", "")))


def paper_distances() -> DistanceSet:
    """The distances of the paper's ten languages as shipped with the package (a snapshot of URIEL+ 1.3.2 and
    the lineage groups; a test checks it against live URIEL+), for the simulator and the tests: loading URIEL+
    and computing the genetic distance would cost 10-25 s each time."""
    return distance_set_from_json(json.loads(PAPER_SNAPSHOT.read_text(encoding="utf-8")))


def study_distances() -> DistanceSet:
    """The distances of the table's seventeen languages (the paper's ten and EmoBox's seven) as shipped with the
    package (URIEL+ 1.3.2; a test checks it against live URIEL+): the synthetic corpus plants its genetic effect
    along them, and the transfer demo's grid is fitted on them, with no URIEL+ call."""
    return distance_set_from_json(json.loads(STUDY_SNAPSHOT.read_text(encoding="utf-8")))


def paper_languages() -> tuple[str, ...]:
    """The study's language codes in table order (the paper's ten unless the user registered more)."""
    return tuple(LANGUAGES)
