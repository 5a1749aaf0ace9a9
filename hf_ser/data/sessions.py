"""Leave-one-session-out folds (``--split session --fold k``): SUPERB's emotion-recognition protocol for IEMOCAP.

A corpus whose speaker ids carry a recording session declares a rule speaker -> session here (IEMOCAP's
:func:`hf_ser.data.corpora.iemocap.session_of`: ``Ses01F`` -> ``Ses01``); a user's own corpus adds one with
:func:`register_session_rule`. Fold k tests the k-th session (in sorted order) of every such corpus, so each fold's
test speakers all come from one session, and that session has no utterance in train. IEMOCAP's five sessions give
five folds; ``--fold 0`` runs every fold in turn (:func:`hf_ser.experiments.recipe.passes.fold_grid`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from hf_ser.data.corpora.iemocap import session_of as iemocap_session
from hf_ser.errors import UserError

logger = logging.getLogger(__name__)

# corpus name -> speaker id -> session id; corpora without a rule have no sessions
SESSION_RULES: dict[str, Callable[[str], str]] = {"iemocap": iemocap_session}


def register_session_rule(corpus: str, rule: Callable[[str], str]) -> None:
    """Declare how a corpus's speaker ids name their session (``rule(speaker) -> session``), for ``--split session``."""
    SESSION_RULES[corpus] = rule


def corpus_sessions(corpora: Sequence[str], speakers: Sequence[str]) -> np.ndarray:
    """The session of every row as ``"<corpus>/<session>"`` ('' for a corpus without a session rule)."""
    out = []
    for corpus, speaker in zip(corpora, speakers):
        rule = SESSION_RULES.get(str(corpus))
        out.append(f"{corpus}/{rule(str(speaker))}" if rule is not None else "")
    return np.asarray(out, dtype=object)


def session_indices(
    corpora: Sequence[str], speakers: Sequence[str], languages: Sequence[str], folds: int, fold: int
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train, test, notes per language) of fold `fold` (1..folds) of the leave-one-session-out protocol.

    Every corpus loaded must have a session rule with exactly `folds` sessions (IEMOCAP: 5); fold k tests the
    k-th session of each, in sorted order, and trains on the others. UserError naming the corpus and the fix
    otherwise (a corpus without sessions would otherwise leak into train or test silently).
    """
    corpora_arr = np.asarray([str(c) for c in corpora])
    sessions = corpus_sessions(corpora_arr, speakers)
    without = sorted(set(corpora_arr[sessions == ""].tolist()))
    if without:
        raise UserError(
            f"--split session: {', '.join(without)} has no sessions (corpora with sessions: "
            f"{', '.join(sorted(SESSION_RULES))}); pick those with --corpora, or use --split kfold"
        )
    if not 1 <= fold <= folds:
        raise UserError(f"--fold must be between 1 and --folds ({folds}) for --split session, got {fold}")
    is_test = np.zeros(len(corpora_arr), dtype=bool)
    tested: dict[str, str] = {}
    for corpus in sorted(set(corpora_arr.tolist())):
        rows = corpora_arr == corpus
        names = sorted(set(sessions[rows].tolist()))
        if len(names) != folds:
            found = ", ".join(n.split("/", 1)[1] for n in names)
            raise UserError(
                f"--split session: {corpus} has {len(names)} sessions here ({found}), "
                f"not --folds {folds}; set --folds {len(names)}"
            )
        is_test |= rows & (sessions == names[fold - 1])
        tested[corpus] = names[fold - 1].split("/", 1)[1]
    languages_arr = np.asarray(languages)
    speakers_arr = np.asarray([str(s) for s in speakers])
    notes = {}
    for lang in sorted(set(languages_arr.tolist())):
        in_lang = languages_arr == lang
        parts = []
        for corpus in sorted(set(corpora_arr[in_lang].tolist())):
            test_spk = sorted(set(speakers_arr[in_lang & is_test & (corpora_arr == corpus)].tolist()))
            parts.append(f"{corpus} session {tested[corpus]} in test (speakers {', '.join(test_spk) or 'none'})")
        notes[lang] = f"leave-one-session-out, fold {fold} of {folds}: " + "; ".join(parts)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test), notes
