"""The planted genetic-distance effect of the synthetic corpus (``genetic_shift``).

Where ``lineage_shift`` gives each lineage *group* its own emotional style, ``genetic_shift`` moves each *language*
along a low-dimensional embedding of the genetic distances between the paper's languages, so that transfer
decays smoothly with genetic distance (the effect ``hf-ser recipe transfer`` and ``hf-ser sources`` look for):

1. the languages' coordinates: classical (Torgerson) MDS, 2 dimensions, of URIEL+'s genetic distance between the
   paper's ten languages, read from the snapshot the package ships (``hf_ser/study/transfer/paper_distances.json``;
   no URIEL+ call at synthesis time), each axis scaled to [0, 1] with a fixed sign (the first language of the
   snapshot, FRE, at the low end); a language outside the snapshot sits at the centre (0.5, 0.5);
2. per non-neutral emotion, a pull a fraction ``min(1, s x u1)`` of the way towards the base profile of the next
   emotion of the fixed cycle :data:`GENETIC_CYCLE` (u1 the first coordinate: languages far apart on it express
   those emotions differently), and prosody offsets ``s x (W_e @ u - W_e @ 0.5) x LINEAGE_DELTA`` (``W_e`` a fixed
   4 x 2 matrix of U(-1, 1) per emotion, seeded by a constant), so two languages' profiles differ in proportion
   to their embedding distance.

Neutral never moves; at ``s = 0`` nothing moves and the corpus is byte-identical to a build without the option.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from hf_ser.data.corpora.synthetic.profiles import BASE_PROFILES, LINEAGE_DELTA, Profile

SNAPSHOT = Path(__file__).resolve().parents[3] / "study" / "transfer" / "paper_distances.json"
GENETIC_CYCLE = ("anger", "happiness", "fear", "sadness", "disgust")  # each pulled towards the next one
_SALT = "hf_ser.synthetic.genetic"


def classical_mds_coordinates(d: np.ndarray, dims: int = 2) -> np.ndarray:
    """Classical MDS of a distance matrix: (n, dims) coordinates (double-centred squared distances, top
    eigenvectors times the root of their eigenvalues, negatives clipped), each axis's sign fixed so that row 0 is
    not above the mean (eigenvectors have no sign of their own)."""
    n = len(d)
    j = np.eye(n) - 1.0 / n
    b = -0.5 * j @ (np.asarray(d, dtype=float) ** 2) @ j
    vals, vecs = np.linalg.eigh(b)
    top = np.argsort(vals)[::-1][:dims]
    x = vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0))
    return x * np.where(x[0] > x.mean(axis=0), -1.0, 1.0)


@lru_cache(maxsize=1)
def genetic_coordinates() -> dict[str, tuple[float, float]]:
    """Each snapshot language's 2-D genetic embedding, every axis scaled to [0, 1] (module docstring)."""
    payload = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    d = np.asarray(payload["raw"]["genetic"], dtype=float)
    d = np.where(d < 0, d[d >= 0].mean(), d)  # URIEL+'s -1 (no shared feature): the mean, as the study's rule
    x = classical_mds_coordinates(d)
    span = np.where(np.ptp(x, axis=0) > 0, np.ptp(x, axis=0), 1.0)
    u = (x - x.min(axis=0)) / span
    return {lab: (float(a), float(b)) for lab, (a, b) in zip(payload["labels"], u)}


def _weights(emotion: str) -> np.ndarray:
    """The fixed 4 x 2 map from embedding coordinates to (log-rate, pitch, range, volume) offsets of `emotion`."""
    digest = hashlib.sha256(f"{_SALT}:{emotion}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little")).uniform(-1.0, 1.0, (4, 2))


def genetic_profile(profile: Profile, emotion: str, language: str, genetic_shift: float) -> Profile:
    """`profile` moved for `language` by the planted genetic effect of strength `genetic_shift` (unchanged at 0 and
    for neutral)."""
    if genetic_shift <= 0 or emotion == "neutral" or emotion not in GENETIC_CYCLE:
        return profile
    u = np.asarray(genetic_coordinates().get(language, (0.5, 0.5)))
    v = profile.as_array()
    nxt = GENETIC_CYCLE[(GENETIC_CYCLE.index(emotion) + 1) % len(GENETIC_CYCLE)]
    w = min(1.0, genetic_shift * u[0])
    v = (1.0 - w) * v + w * BASE_PROFILES[nxt].as_array()
    d = genetic_shift * (_weights(emotion) @ (u - 0.5)) * LINEAGE_DELTA
    v[0] *= float(np.exp(d[0]))
    v[1:4] += d[1:4]
    return Profile.from_array(v)
