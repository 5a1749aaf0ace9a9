"""Train/test split strategies, seeded and computed per language.

Each language is split on its own (seed derived from the split seed and the
language code), so a language's test utterances are the same in every
experiment, whichever other languages are loaded beside it.
"""

from __future__ import annotations

import logging
import zlib

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from .errors import UserError

logger = logging.getLogger(__name__)

UNKNOWN_SPEAKERS = {"", "unknown", "none", "nan"}


def _rng(seed: int, language: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(language.encode())])


def stratified_split(labels: np.ndarray, test_size: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean test mask: round(test_size * n) random utterances of every label cell go to test."""
    is_test = np.zeros(len(labels), dtype=bool)
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        n_test = round(test_size * len(idx))
        if len(idx) >= 2:
            n_test = min(max(n_test, 1), len(idx) - 1)  # keep each class on both sides when possible
        is_test[rng.permutation(idx)[:n_test]] = True
    return is_test


def speaker_split(labels: np.ndarray, speakers: np.ndarray, test_size: float, seed: int) -> np.ndarray | None:
    """Boolean test mask with no speaker on both sides (stratified by label); None if fewer than 2 speakers."""
    if len(np.unique(speakers)) < 2:
        return None
    n_splits = max(2, min(round(1 / test_size), len(np.unique(speakers))))
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, test_idx = next(iter(cv.split(np.zeros(len(labels)), labels, groups=speakers)))
    mask = np.zeros(len(labels), dtype=bool)
    mask[test_idx] = True
    return mask


def split_indices(
    labels, languages, speakers=None, protocol: str = "paper", test_size: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train indices, test indices, notes per language) for the 'paper' or 'speaker' protocol.

    With 'speaker', utterances without a speaker id (corpora that publish none) are split
    by the paper protocol beside the speaker-grouped rest, and the language's note says so.
    """
    if protocol not in ("paper", "speaker"):
        raise UserError(f"unknown split protocol {protocol!r}; use 'paper' or 'speaker' (kfold: kfold_indices)")
    labels, languages = np.asarray(labels), np.asarray(languages)
    speakers = np.asarray(speakers if speakers is not None else [""] * len(labels)).astype(str)
    is_test = np.zeros(len(labels), dtype=bool)
    notes: dict[str, str] = {}
    for lang in sorted(set(languages.tolist())):
        idx = np.flatnonzero(languages == lang)
        if protocol == "paper":
            is_test[idx] = stratified_split(labels[idx], test_size, _rng(seed, lang))
            notes[lang] = "stratified per emotion, random utterances"
            continue
        known = ~np.isin(np.char.lower(np.char.strip(speakers[idx])), list(UNKNOWN_SPEAKERS))
        mask = None
        if known.any():
            mask = speaker_split(
                labels[idx[known]], speakers[idx[known]], test_size, seed + zlib.crc32(lang.encode()) % 10_000
            )
        if mask is None:
            is_test[idx] = stratified_split(labels[idx], test_size, _rng(seed, lang))
            notes[lang] = "speaker ids missing or fewer than 2 speakers: fell back to the paper protocol"
            logger.warning("%s: %s", lang, notes[lang])
            continue
        is_test[idx[known]] = mask
        notes[lang] = f"speaker-independent ({len(set(speakers[idx[known]][mask]))} test speakers)"
        if not known.all():
            is_test[idx[~known]] = stratified_split(labels[idx[~known]], test_size, _rng(seed, lang))
            notes[lang] += f"; {int((~known).sum())} utterances without speaker ids fell back to the paper protocol"
            logger.warning("%s: %s", lang, notes[lang])
    return np.flatnonzero(~is_test), np.flatnonzero(is_test), notes


# ----------------------------------------------------------------------------- k-fold


def _groups(speakers: np.ndarray, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(group of each utterance, known mask): the speaker where known, else a group of its own."""
    known = ~np.isin(np.char.lower(np.char.strip(speakers.astype(str))), list(UNKNOWN_SPEAKERS))
    groups = np.where(
        known, speakers.astype(str), np.char.add("__utt", np.arange(offset, offset + len(speakers)).astype(str))
    )
    return groups, known


def kfold_indices(
    labels, languages, speakers=None, folds: int = 5, fold: int = 1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train, test, notes) of fold `fold` (1..folds) of a per-language stratified, speaker-grouped K-fold.

    Each language is cut into `folds` parts by ``StratifiedGroupKFold`` (shuffled, seeded per language): a
    speaker never sits in two parts; utterances without a speaker id are their own group. Over folds 1..K every
    utterance is in exactly one test fold. A language with fewer speakers than folds is cut into folds of
    utterances (stratified), and its note says speakers then sit in train and test.
    """
    if folds < 2:
        raise UserError(f"--folds must be >= 2, got {folds}")
    if not 1 <= fold <= folds:
        raise UserError(f"--fold must be between 1 and --folds ({folds}), got {fold}")
    labels, languages = np.asarray(labels), np.asarray(languages)
    speakers = np.asarray(speakers if speakers is not None else [""] * len(labels)).astype(str)
    is_test = np.zeros(len(labels), dtype=bool)
    notes: dict[str, str] = {}
    for lang in sorted(set(languages.tolist())):
        idx = np.flatnonzero(languages == lang)
        groups, known = _groups(speakers[idx])
        n_groups = len(np.unique(groups))
        grouped = n_groups >= folds
        if not grouped:  # fewer speakers than folds: folds of utterances, and the note says so
            if len(idx) < folds:
                raise UserError(f"{lang}: {len(idx)} utterances cannot fill {folds} folds; use fewer --folds")
            groups = np.arange(len(idx)).astype(str)
            logger.warning(
                "%s: %d speakers for %d folds: utterance-level folds (speakers in train and test)",
                lang,
                n_groups,
                folds,
            )
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=(seed + zlib.crc32(lang.encode())) % 2**31)
        _, test_idx = list(cv.split(np.zeros(len(idx)), labels[idx], groups=groups))[fold - 1]
        is_test[idx[test_idx]] = True
        if not grouped:
            spk = f"only {n_groups} speakers for {folds} folds: utterance-level, speakers in train and test"
        elif known.all():
            spk = "speaker-grouped"
        elif known.any():
            spk = f"speaker-grouped, {int((~known).sum())} utterances without speaker ids as their own groups"
        else:
            spk = "no speaker ids: utterance-level"
        notes[lang] = f"stratified {folds}-fold, fold {fold} ({spk})"
    return np.flatnonzero(~is_test), np.flatnonzero(is_test), notes


# ----------------------------------------------------------------------------- development split


def dev_indices(
    labels, languages, speakers, train_idx, dev_size: float, protocol: str = "paper", seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train, dev, notes): carve a development split out of each language's training part.

    Stratified by emotion (``round(dev_size * n)`` utterances of each emotion x language cell). Under the
    'speaker' protocol (and 'kfold' where speakers are known) the dev utterances are whole speakers
    (``StratifiedGroupKFold`` over the training part's speakers), so no speaker is in two of train/dev/test;
    utterances without a speaker id, or a language with fewer than 2 training speakers, fall back to the
    utterance-level stratified carve and the note says so.
    """
    if not 0.0 < dev_size < 1.0:
        raise UserError(f"--dev_size must be between 0 and 1 (exclusive), got {dev_size}")
    labels, languages = np.asarray(labels), np.asarray(languages)
    speakers = np.asarray(speakers if speakers is not None else [""] * len(labels)).astype(str)
    train_idx = np.asarray(train_idx, dtype=np.int64)
    is_dev = np.zeros(len(labels), dtype=bool)
    notes: dict[str, str] = {}
    grouped = protocol in ("speaker", "kfold")
    for lang in sorted(set(languages[train_idx].tolist())):
        idx = train_idx[languages[train_idx] == lang]
        rng = np.random.default_rng([seed, 7, zlib.crc32(lang.encode())])
        _, known = _groups(speakers[idx])
        if grouped and known.sum() and len(np.unique(speakers[idx[known]])) >= 2:
            mask = speaker_split(
                labels[idx[known]], speakers[idx[known]], dev_size, (seed + 7 + zlib.crc32(lang.encode())) % 2**31
            )
            is_dev[idx[known][mask]] = True
            notes[lang] = f"dev: {len(set(speakers[idx[known]][mask]))} held-out training speakers"
            if not known.all():
                rest = idx[~known]
                is_dev[rest[stratified_split(labels[rest], dev_size, rng)]] = True
                notes[lang] += f"; {int((~known).sum())} utterances without speaker ids carved at utterance level"
        else:
            is_dev[idx[stratified_split(labels[idx], dev_size, rng)]] = True
            notes[lang] = "dev: stratified per emotion, random utterances" + (
                " (fewer than 2 training speakers: not speaker-disjoint)" if grouped else ""
            )
    dev = np.flatnonzero(is_dev)
    return np.setdiff1d(train_idx, dev), dev, notes
