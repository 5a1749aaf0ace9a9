"""A run's label set: which classes a model learns, and how each corpus's native labels map into them.

``--label_set`` takes ``paper`` (the six :data:`hf_ser.labels.EMOTIONS`, the default: the paper's rows, exactly as
before label sets existed), an explicit list of canonical names (``anger happiness neutral sadness``: a native
label whose canonical name is in the list maps to it, so IEMOCAP's 'excited' joins happiness; the others are
dropped) or ``native`` (one corpus's own classes, EmoBox's intra-corpus setting). The prepared rows carry their
native label and canonical name (:func:`hf_ser.data.corpora.prepare.prepared_view`); :func:`apply_label_set` maps
them to the set's class ids and :func:`label_report` says, per corpus, what each class merged and what was dropped;
:func:`corpus_class_counts` says it of one prepared corpus (``hf-ser corpora prepare --label_set``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import datasets
import numpy as np

from hf_ser.data.corpora.prepare import LABEL_COLUMNS
from hf_ser.errors import UserError
from hf_ser.labels import CANONICAL_EMOTIONS, EMOTIONS, SAMPLING_RATE

PAPER = "paper"
NATIVE = "native"


@dataclass(frozen=True)
class LabelSet:
    """A parsed ``--label_set``: its kind ('paper', 'list' or 'native') and its class names (empty for 'native'
    until the corpus is known: :func:`apply_label_set` returns them)."""

    kind: str
    names: tuple[str, ...]

    @property
    def is_paper(self) -> bool:
        """True for the paper's six classes (the default): the data path of the paper, unchanged."""
        return self.kind == PAPER


def parse_label_set(value: str | list[str] | tuple[str, ...] | None) -> LabelSet:
    """The label set `value` names: None/'paper', 'native' or canonical names (a list, or one string split on
    spaces and commas; any case). UserError, one line, for an unknown name, a repeat or a mix with paper/native."""
    if value is None:
        return LabelSet(PAPER, EMOTIONS)
    items = [value] if isinstance(value, str) else list(value)
    words = [w.strip().lower() for v in items for w in str(v).replace(",", " ").split() if w.strip()]
    if not words or words == [PAPER]:
        return LabelSet(PAPER, EMOTIONS)
    if words == [NATIVE]:
        return LabelSet(NATIVE, ())
    unknown = [w for w in words if w not in CANONICAL_EMOTIONS]
    if unknown:
        raise UserError(
            f"--label_set: unknown class {unknown[0]!r}; give 'paper', 'native' or names from: "
            + " ".join(CANONICAL_EMOTIONS)
        )
    repeated = [w for w, n in Counter(words).items() if n > 1]
    if repeated:
        raise UserError(f"--label_set names {repeated[0]!r} twice; list each class once")
    if len(words) < 2:
        raise UserError(f"--label_set {words[0]} has one class; a classifier needs at least two")
    return LabelSet("list", tuple(words))


def native_classes(natives: list[str], canonicals: list[str]) -> tuple[str, ...]:
    """A corpus's own classes, in the shared order: by canonical name (CANONICAL_EMOTIONS order: the paper's six
    first), then by native name (two native labels with one canonical name, e.g. IEMOCAP 'other' and 'no
    agreement', stay two classes)."""
    pairs = set(zip(natives, canonicals))
    order = sorted(pairs, key=lambda p: (CANONICAL_EMOTIONS.index(p[1]), p[0]))
    return tuple(n for n, _ in order)


def apply_label_set(ds: datasets.Dataset, spec: LabelSet) -> tuple[datasets.Dataset, tuple[str, ...], dict]:
    """(rows mapped to the set's class ids, the class names, rows dropped per corpus and native label).

    `ds` is the 'all' view of the prepared corpora. Rows outside the set are removed (order kept); ``label``
    becomes a ClassLabel over the set's names; ``native``/``canonical`` stay for :func:`label_report`.
    'native' on rows of several corpora is a UserError naming the flag and the corpora.
    """
    natives, canonicals = list(ds["native"]), list(ds["canonical"])
    corpora = list(ds["corpus"])
    if spec.kind == NATIVE:
        present = sorted(set(corpora))
        if len(present) > 1:
            raise UserError(
                f"--label_set native takes one corpus's own classes, but this run has {len(present)} corpora "
                f"({', '.join(present)}); name one with --corpora, or give a list of classes"
            )
        names = native_classes(natives, canonicals)
        ids = [names.index(n) for n in natives]
    else:
        names = spec.names
        ids = [names.index(c) if c in names else -1 for c in canonicals]
    ids_arr = np.asarray(ids, dtype=np.int64)
    dropped: dict[str, Counter] = {}
    for i in np.flatnonzero(ids_arr < 0):
        dropped.setdefault(corpora[i], Counter())[natives[i]] += 1
    keep = np.flatnonzero(ids_arr >= 0)
    ds = ds.select(keep).remove_columns("label")
    ds = ds.add_column("label", ids_arr[keep].tolist())
    ds = ds.cast_column("label", datasets.ClassLabel(names=list(names)))
    dropped_out = {c: dict(sorted(v.items())) for c, v in sorted(dropped.items())}
    return ds, tuple(names), dropped_out


def class_counts(ds: datasets.Dataset) -> dict[str, dict[str, dict[str, int]]]:
    """corpus -> class -> native label -> rows, over the rows of `ds` (one split of a run)."""
    if not len(ds):
        return {}
    names = ds.features["label"].names
    out: dict[str, dict[str, dict[str, int]]] = {}
    for (corpus, label, native), n in sorted(Counter(zip(ds["corpus"], ds["label"], ds["native"])).items()):
        out.setdefault(corpus, {}).setdefault(names[label], {})[native] = n
    return out


def label_report(spec: LabelSet, names: tuple[str, ...], dropped: dict, splits: dict[str, datasets.Dataset]) -> dict:
    """The data report of a label set: the classes, per corpus the rows dropped (outside the set, in no split),
    and per split (train, dev, test) and corpus the rows of each class by native label; ``merged`` names, per
    corpus, the classes that more than one native label went into (IEMOCAP: happiness <- happy + excited)."""
    counts = {split: class_counts(ds) for split, ds in splits.items()}
    merged: dict[str, dict[str, list[str]]] = {}
    for by_corpus in counts.values():
        for corpus, classes in by_corpus.items():
            for cls, natives in classes.items():
                seen = merged.setdefault(corpus, {}).setdefault(cls, [])
                seen += [n for n in natives if n not in seen]
    merged = {c: {k: sorted(v) for k, v in m.items() if len(v) > 1} for c, m in merged.items()}
    return {
        "label_set": spec.kind,
        "classes": list(names),
        "dropped": dropped,
        "merged": {c: m for c, m in merged.items() if m},
        **counts,
    }


def _summed(per_corpus: dict) -> dict[str, dict[str, int]]:
    """{corpus: {key: {native: rows}}} summed over corpora into {key: {native: rows}} (keys and natives sorted)."""
    out: dict[str, Counter] = {}
    for by_key in per_corpus.values():
        for key, natives in by_key.items():
            out.setdefault(key, Counter()).update(natives)
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def corpus_class_counts(ds: datasets.Dataset, spec: LabelSet, never_prepared: dict[str, int]) -> dict:
    """What `spec` makes of one prepared corpus (`ds`: its 'all' view), by :func:`apply_label_set` and
    :func:`class_counts`: its classes, rows kept per class (``natives``: per native label; ``merged``: the classes
    more than one native label went into), rows dropped per native label (outside the set, and `never_prepared`:
    the labels no set keeps), and the kept rows' speakers and hours."""
    if len(ds):
        mapped, names, dropped = apply_label_set(ds, spec)
        counted = _summed(class_counts(mapped))
        natives = {n: counted.get(n, {}) for n in names}
        speakers, samples = len(set(mapped["speaker"])), int(np.sum(mapped["length"]))
    else:
        names, natives, dropped, speakers, samples = spec.names, {n: {} for n in spec.names}, {}, 0, 0
    lost = Counter(never_prepared)
    for by_native in dropped.values():
        lost.update(by_native)
    kept = {n: sum(natives[n].values()) for n in names}
    return {
        "label_set": spec.kind,
        "classes": list(names),
        "kept": kept,
        "kept_total": sum(kept.values()),
        "natives": natives,
        "merged": {n: sorted(v) for n, v in natives.items() if len(v) > 1},
        "dropped": dict(sorted(lost.items())),
        "speakers": speakers,
        "hours": round(samples / SAMPLING_RATE / 3600, 4),
    }


def check_training_classes(train: datasets.Dataset, names: tuple[str, ...], where: str) -> None:
    """UserError naming the corpora of `train` and the set's classes that have no training row (`where`: the
    run). A model cannot learn a class it never sees, and its recall would be 0 by construction."""
    present = set(np.asarray(train["label"]).tolist()) if len(train) else set()
    missing = [names[i] for i in range(len(names)) if i not in present]
    if missing:
        corpora = ", ".join(sorted(set(train["corpus"]))) or "no corpus"
        raise UserError(
            f"{where}: class(es) {', '.join(missing)} of --label_set have no training row in {corpora}; drop them "
            "from --label_set or add a corpus that has them"
        )


def drop_label_columns(ds: datasets.Dataset) -> datasets.Dataset:
    """`ds` without the native/canonical columns (the common schema, once the label report is made)."""
    return ds.remove_columns([c for c in LABEL_COLUMNS if c in ds.column_names])
