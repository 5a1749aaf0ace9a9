"""From data arguments to the train / test datasets of an experiment.

Real corpora are found under ``--data_root`` by language (or picked with ``--corpora``);
``--demo`` swaps in the synthetic eSpeak corpus. All languages are split once, per
language and seeded, and every run of a grid takes its languages from that one split.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np

from hf_ser.data.audio import PreprocessConfig
from hf_ser.data.corpora import CorpusError, corpus_folder, default_cache_dir, load_corpus, prepare_scan, scan_manifest
from hf_ser.data.corpora.synthetic.build import build_synthetic_corpus
from hf_ser.data.emobox import emobox_notes, emobox_split
from hf_ser.data.label_set import apply_label_set, parse_label_set
from hf_ser.data.sessions import session_indices
from hf_ser.data.splits import UNKNOWN_SPEAKERS, achieved_fractions, dev_indices, kfold_indices, split_indices
from hf_ser.errors import UserError
from hf_ser.labels import CORPORA, corpora_for_languages

logger = logging.getLogger(__name__)


@dataclass
class DataArguments:
    """Where the audio comes from and how it is split."""

    data_root: str = field(default="data", metadata={"help": "Folder holding one sub-folder per corpus."})
    corpora: list[str] | None = field(default=None, metadata={"help": "Explicit corpus names (default: by language)."})
    cache_dir: str | None = field(default=None, metadata={"help": "Prepared-audio cache (default ~/.cache/hf_ser)."})
    split: str = field(
        default="paper",
        metadata={
            "help": "'paper' (stratified 70/30), 'speaker' "
            "(speaker-independent), "
            "'kfold' (--folds/--fold), 'emobox' (EmoBox folds, "
            "--emobox_dir/--fold) or 'session' (leave-one-session-out, IEMOCAP's 5 sessions: --folds/--fold)."
        },
    )
    test_size: float = field(
        default=0.3,
        metadata={
            "help": "Test share per emotion x language; with --split speaker, whole speakers holding the closest "
            "achievable share of each language's utterances (the achieved share is recorded)."
        },
    )
    split_seed: int = field(default=0, metadata={"help": "Seed of the split (fixed across training seeds)."})
    max_seconds: float = field(default=20.0, metadata={"help": "Crop utterances to this duration."})
    num_proc: int | None = field(default=None, metadata={"help": "Processes for audio preparation."})
    demo: bool = field(
        default=False,
        metadata={
            "help": "Tiny model and demo settings, on the built-in synthetic corpus unless --corpora names your own."
        },
    )
    synthetic_per_cell: int = field(default=30, metadata={"help": "Demo: utterances per language x emotion."})
    lineage_shift: float = field(default=0.0, metadata={"help": "Demo: strength of the planted lineage effect."})
    genetic_shift: float = field(
        default=0.0,
        metadata={"help": "Demo: strength of the planted genetic-distance effect (0 = the corpus as without it)."},
    )
    synthetic_languages: list[str] | None = field(
        default=None,
        metadata={
            "help": "Demo: the synthetic corpus's languages (default the paper's ten; DEU ELL AMH FAS POL TUR URD "
            "add EmoBox's seven, as the transfer recipe's demo does)."
        },
    )
    # --- issue 14: development split, k-fold and EmoBox folds (hf_ser.data.splits / hf_ser.data.emobox) ---
    dev_size: float = field(
        default=0.0,
        metadata={
            "help": "Share of each language's training part held out as a "
            "dev split for model selection (0 = none, the paper's protocol); whole speakers, never one with test "
            "utterances, unless --split paper."
        },
    )
    folds: int = field(default=5, metadata={"help": "--split kfold / session: number of folds K (session: sessions)."})
    fold: int = field(
        default=1,
        metadata={
            "help": "--split kfold / session / emobox: which fold is the test part (1-based); --fold 0 runs every "
            "fold in turn, into <output_dir>/fold<k> (emobox: every corpus's folds, into "
            "<output_dir>/<corpus>/fold<k>)."
        },
    )
    emobox_dir: str | None = field(
        default=None, metadata={"help": "--split emobox: a clone of github.com/emo-box/EmoBox (or its data/ folder)."}
    )
    # --- issue 26: the run's classes (hf_ser.data.label_set) ---
    label_set: list[str] = field(
        default_factory=lambda: ["paper"],
        metadata={
            "help": "The classes a run learns: 'paper' (the six emotions, default), canonical names (e.g. anger "
            "happiness neutral sadness: native labels map into them, IEMOCAP excited -> happiness; others are "
            "dropped) or 'native' (one corpus's own classes)."
        },
    )


class DataMissing(UserError):
    """No usable corpus for the requested languages; the message says what was looked for and where."""


def missing_message(names: list[str], data_root: str | Path) -> str:
    """Explain which corpora were looked for, where, and how to get them."""
    lines = [f"No corpus found under --data_root {Path(data_root).resolve()} for this recipe. Looked for:"]
    for n in names:
        info = CORPORA.get(n)
        where = corpus_folder(data_root, n)
        lines.append(
            f"  - {n:15s} ({info.language if info else '?'}) in {where}/  <- {info.url if info else 'manifest.csv'}"
        )
    lines.append(
        "Download each corpus (most need a licence click), extract it into the folder shown, then run "
        "`hf-ser corpora list` to check. Or run the recipe with --demo to use the built-in "
        "synthetic corpus."
    )
    return "\n".join(lines)


def load_synthetic(args: DataArguments) -> tuple[datasets.Dataset, dict]:
    """The demo corpus in all languages; each language is its own 'corpus' so balancing is exercised."""
    cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    manifest = build_synthetic_corpus(
        cache / "synthetic",
        per_cell=args.synthetic_per_cell,
        seed=0,
        lineage_shift=args.lineage_shift,
        genetic_shift=args.genetic_shift,
        languages=args.synthetic_languages,
    )
    scan = scan_manifest(manifest, corpus=f"synthetic-{Path(manifest).parent.name}")
    for it in scan.items:
        it.corpus = f"synth_{it.language.lower()}"
    cfg = PreprocessConfig(max_seconds=args.max_seconds)
    ds, report = prepare_scan(scan, cache / "prepared", cfg, args.num_proc, _view(args))
    return ds, {"synthetic": report}


def _view(args: DataArguments) -> str:
    """The prepared view a run needs: the paper's rows for ``--label_set paper``, every row otherwise."""
    return "paper" if parse_label_set(args.label_set).is_paper else "all"


def load_languages(languages: list[str], args: DataArguments) -> tuple[datasets.Dataset, dict]:
    """All prepared utterances of `languages` (concatenated corpora) and the preparation reports.

    With a ``--label_set`` other than paper the rows are mapped to its classes (``label`` a ClassLabel over them,
    ``native``/``canonical`` kept for the label report) and reports['label_set'] holds the classes and the rows
    dropped per corpus (hf_ser.data.label_set)."""
    spec = parse_label_set(args.label_set)
    if args.demo and not args.corpora:  # --demo with --corpora: the demo's settings on the user's own data
        ds, reports = load_synthetic(args)
    else:
        names = args.corpora or corpora_for_languages(languages)
        unknown = [n for n in names if n not in CORPORA and not Path(n).exists()]
        if unknown:
            raise DataMissing(f"unknown corpus name(s) {', '.join(unknown)}; known: {', '.join(CORPORA)}")
        found = [
            n for n in names if corpus_folder(args.data_root, n).is_dir() or (n not in CORPORA and Path(n).exists())
        ]
        if not found:
            raise DataMissing(missing_message(names, args.data_root))
        missing = [n for n in names if n not in found]
        if missing:
            logger.warning(
                "missing corpora (their languages will have less data or none): %s\n%s",
                ", ".join(missing),
                missing_message(missing, args.data_root),
            )
        parts, reports = [], {}
        cfg = PreprocessConfig(max_seconds=args.max_seconds)
        for n in found:
            try:
                cache = Path(args.cache_dir) / "prepared" if args.cache_dir else None
                d, rep = load_corpus(n, args.data_root, cache, cfg, args.num_proc, _view(args))
            except CorpusError as e:
                logger.error("%s skipped: %s", n, e)
                reports[n] = {"error": str(e)}
                continue
            parts.append(d)
            reports[n] = rep
        if not parts:
            raise DataMissing(
                "none of the corpora found could be prepared:\n"
                + "\n".join(f"  - {n}: {r.get('error')}" for n, r in reports.items())
            )
        ds = datasets.concatenate_datasets(parts)
    keep = np.flatnonzero(np.isin(np.asarray(ds["language"]), languages))
    ds = ds.select(keep)
    present = sorted(set(ds["language"]))
    absent = [l for l in languages if l not in present]
    if absent:
        logger.warning("no data for language(s) %s: runs that need them are skipped", ", ".join(absent))
    if not spec.is_paper:
        ds, names, dropped = apply_label_set(ds, spec)
        reports["label_set"] = {"label_set": spec.kind, "classes": list(names), "dropped": dropped}
        logger.info("label set %s: %s; dropped %s", spec.kind, " ".join(names), dropped or "nothing")
    return ds, reports


def split_dataset(ds: datasets.Dataset, args: DataArguments) -> tuple[datasets.Dataset, datasets.Dataset, dict]:
    """(train, test, notes) with the chosen protocol; seeded, per language (no dev split: see split_dataset_dev)."""
    tr, _, te, notes = split_index_sets(ds, args, with_dev=False)
    return ds.select(tr), ds.select(te), notes


# --- issue 14 hook: dev split, k-fold and EmoBox folds -------------------------------------------------------


def split_index_sets(
    ds: datasets.Dataset, args: DataArguments, with_dev: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(train, dev, test) row indices and notes per language for ``args.split`` (+ ``args.dev_size``).

    'emobox' follows EmoBox's fold for the corpora it covers (notes['emobox'] holds the matching report) and
    splits the other corpora by the paper protocol, saying so per language. notes['achieved_fractions'] holds,
    per language, the test and dev shares the split achieved (:class:`hf_ser.data.splits.AchievedFractions`). The
    test part does not depend on `with_dev` (a k-fold language cut at utterance level holds its dev speakers out
    of the folds whenever ``args.dev_size`` > 0), so a run's test set can be rebuilt without its dev split.
    """
    # speaker ids are unique only within a corpus ('10' in Oreau is not '10' elsewhere): group by both
    speakers = [s if s.strip().lower() in UNKNOWN_SPEAKERS else f"{c}/{s}" for c, s in zip(ds["corpus"], ds["speaker"])]
    labels, languages = np.asarray(ds["label"]), np.asarray(ds["language"])
    if args.split == "session":
        tr, te, notes = session_indices(ds["corpus"], ds["speaker"], languages, args.folds, args.fold)
    elif args.split == "kfold":
        tr, te, notes = kfold_indices(
            labels, languages, speakers, args.folds, args.fold, args.split_seed, dev_size=args.dev_size
        )
    elif args.split == "emobox":
        if not args.emobox_dir:
            raise UserError("--split emobox needs --emobox_dir (a clone of https://github.com/emo-box/EmoBox)")
        canonical = ds["canonical"] if "canonical" in ds.column_names else None  # a label set other than paper
        tr, te, covered, report = emobox_split(
            ds["path"], ds["corpus"], labels, speakers, args.emobox_dir, args.fold, canonical
        )
        rest = np.flatnonzero(~covered)
        notes = emobox_notes(languages, np.asarray(ds["corpus"]), covered, report)
        if len(rest):
            rtr, rte, rnotes = split_indices(
                labels[rest], languages[rest], np.asarray(speakers)[rest], "paper", args.test_size, args.split_seed
            )
            tr, te = np.sort(np.r_[tr, rest[rtr]]), np.sort(np.r_[te, rest[rte]])
            for lang in rnotes:
                extra = "corpora without EmoBox folds: " + rnotes[lang]
                notes[lang] = f"{notes[lang]}; {extra}" if lang in notes else extra
        notes["emobox"] = report
    else:
        tr, te, notes = split_indices(labels, languages, speakers, args.split, args.test_size, args.split_seed)
    dev = np.zeros(0, dtype=np.int64)
    if with_dev and args.dev_size > 0:
        protocol: str | dict[str, str] = args.split
        if args.split == "emobox":  # whole speakers where EmoBox's fold decides; the paper protocol elsewhere
            grouped = set(languages[covered].tolist())
            protocol = {lang: "emobox" if lang in grouped else "paper" for lang in set(languages.tolist())}
        tr, dev, dev_notes = dev_indices(labels, languages, speakers, tr, te, args.dev_size, protocol, args.split_seed)
        for lang, note in dev_notes.items():
            notes[lang] = f"{notes.get(lang, '')}; {note}".lstrip("; ")
    notes["achieved_fractions"] = achieved_fractions(languages, speakers, tr, dev, te)
    return np.asarray(tr), dev, np.asarray(te), notes


def split_dataset_dev(
    ds: datasets.Dataset, args: DataArguments
) -> tuple[datasets.Dataset, datasets.Dataset, datasets.Dataset, dict]:
    """(train, dev, test, notes): as split_dataset, with ``args.dev_size`` of each language's train part as dev."""
    tr, dev, te, notes = split_index_sets(ds, args, with_dev=True)
    return ds.select(tr), ds.select(dev), ds.select(te), notes


def subset(ds: datasets.Dataset, languages: list[str] | tuple[str, ...]) -> datasets.Dataset:
    """Rows whose language is in `languages` (order kept)."""
    return ds.select(np.flatnonzero(np.isin(np.asarray(ds["language"]), list(languages))))


def with_corpus_ids(ds: datasets.Dataset) -> tuple[datasets.Dataset, list[str]]:
    """Add an integer ``corpus_id`` column; returns the dataset and the id -> corpus name list."""
    names = sorted(set(ds["corpus"]))
    ids = np.searchsorted(np.asarray(names), np.asarray(ds["corpus"]))
    return ds.add_column("corpus_id", ids.tolist()), names
