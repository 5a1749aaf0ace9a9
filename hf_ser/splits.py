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

logger = logging.getLogger(__name__)

UNKNOWN_SPEAKERS = {"", "unknown", "none", "nan"}


def _rng(seed: int, language: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(language.encode())])


def stratified_split(labels: np.ndarray, test_size: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean test mask: round(test_size * n) random utterances of every label cell go to test."""
    is_test = np.zeros(len(labels), dtype=bool)
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        n_test = int(round(test_size * len(idx)))
        if len(idx) >= 2:
            n_test = min(max(n_test, 1), len(idx) - 1)  # keep each class on both sides when possible
        is_test[rng.permutation(idx)[:n_test]] = True
    return is_test


def speaker_split(labels: np.ndarray, speakers: np.ndarray, test_size: float, seed: int) -> np.ndarray | None:
    """Boolean test mask with no speaker on both sides (stratified by label); None if fewer than 2 speakers."""
    if len(np.unique(speakers)) < 2:
        return None
    n_splits = max(2, min(int(round(1 / test_size)), len(np.unique(speakers))))
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
        raise ValueError(f"unknown split protocol {protocol!r}; use 'paper' or 'speaker'")
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
            mask = speaker_split(labels[idx[known]], speakers[idx[known]], test_size,
                                 seed + zlib.crc32(lang.encode()) % 10_000)
        if mask is None:
            is_test[idx] = stratified_split(labels[idx], test_size, _rng(seed, lang))
            notes[lang] = "speaker ids missing or fewer than 2 speakers: fell back to the paper protocol"
            logger.warning("%s: %s", lang, notes[lang])
            continue
        is_test[idx[known]] = mask
        notes[lang] = f"speaker-independent ({len(set(speakers[idx[known]][mask]))} test speakers)"
        if not known.all():
            is_test[idx[~known]] = stratified_split(labels[idx[~known]], test_size, _rng(seed, lang))
            notes[lang] += (f"; {int((~known).sum())} utterances without speaker ids fell back to the paper protocol")
            logger.warning("%s: %s", lang, notes[lang])
    return np.flatnonzero(~is_test), np.flatnonzero(is_test), notes
