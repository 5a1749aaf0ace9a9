"""The registry of corpus layout loaders: corpus name -> :class:`~hf_ser.data.corpora.scan.Loader`.

One module per corpus under ``hf_ser/data/corpora/`` defines a ``LOADER``; this module lists them. RED, the
Moroccan Arabic set (mder), MCAESD and three of EmoBox's corpora (hf_ser.corpus_info's MANIFEST_NOTE) have no
layout a loader can read: they load through ``<data_root>/<name>/manifest.csv`` (docs/manifests.md). A user's
own layout is added with :func:`register_loader`, with no change to the package.
"""

from __future__ import annotations

from collections.abc import Callable

from hf_ser.data.corpora.aesdd import LOADER as AESDD
from hf_ser.data.corpora.ased import LOADER as ASED
from hf_ser.data.corpora.asvp_esd import LOADER as ASVP_ESD
from hf_ser.data.corpora.cafe import LOADER as CAFE
from hf_ser.data.corpora.casia import LOADER as CASIA
from hf_ser.data.corpora.crema_d import LOADER as CREMA_D
from hf_ser.data.corpora.emns import LOADER as EMNS
from hf_ser.data.corpora.emodb import LOADER as EMODB
from hf_ser.data.corpora.emofilm import LOADER as EMOFILM
from hf_ser.data.corpora.emoprosody import LOADER as EMOPROSODY
from hf_ser.data.corpora.emouerj import LOADER as EMOUERJ
from hf_ser.data.corpora.emovdb import LOADER as EMOVDB
from hf_ser.data.corpora.emovo import LOADER as EMOVO
from hf_ser.data.corpora.emozionalmente import LOADER as EMOZIONALMENTE
from hf_ser.data.corpora.enterface import LOADER as ENTERFACE
from hf_ser.data.corpora.esd import LOADER as ESD
from hf_ser.data.corpora.iemocap import LOADER as IEMOCAP
from hf_ser.data.corpora.jl_corpus import LOADER as JL_CORPUS
from hf_ser.data.corpora.mead import LOADER as MEAD
from hf_ser.data.corpora.meld import LOADER as MELD
from hf_ser.data.corpora.mesd import LOADER as MESD
from hf_ser.data.corpora.msp_podcast import LOADER as MSP_PODCAST
from hf_ser.data.corpora.oreau import LOADER as OREAU
from hf_ser.data.corpora.polish import LOADER as POLISH
from hf_ser.data.corpora.ravdess import LOADER as RAVDESS
from hf_ser.data.corpora.resd import LOADER as RESD
from hf_ser.data.corpora.savee import LOADER as SAVEE
from hf_ser.data.corpora.scan import Loader, ScanFn
from hf_ser.data.corpora.shemo import LOADER as SHEMO
from hf_ser.data.corpora.subesco import LOADER as SUBESCO
from hf_ser.data.corpora.tess import LOADER as TESS
from hf_ser.data.corpora.turevdb import LOADER as TUREVDB
from hf_ser.data.corpora.urdu import LOADER as URDU

PAPER_LOADERS = (OREAU, CAFE, EMOZIONALMENTE, EMOUERJ, EMOPROSODY, MESD, EMOFILM, SUBESCO, CREMA_D, RESD)
# EmoBox's corpora beyond the paper's, in hf_ser.corpus_info's order; M3ED, MER2023 and PAVOQUE load through a
# manifest (docs/manifests.md says why).
EMOBOX_LOADERS = (
    IEMOCAP, RAVDESS, EMODB, TESS, SAVEE, ESD, CASIA, SHEMO, AESDD, POLISH, URDU, JL_CORPUS, EMOVDB, ENTERFACE, MEAD,
    MSP_PODCAST, MELD, EMNS, ASVP_ESD, ASED, TUREVDB, EMOVO,
)  # fmt: skip
LOADERS: dict[str, Loader] = {loader.name: loader for loader in (*PAPER_LOADERS, *EMOBOX_LOADERS)}


def register_loader(name: str, label_map: dict[str, str | None] | None = None) -> Callable[[ScanFn], ScanFn]:
    """Decorator for a user's own layout: register ``fn(root: Path, **options) -> Scan`` as corpus `name`."""

    def deco(fn: ScanFn) -> ScanFn:
        LOADERS[name] = Loader(name, fn, dict(label_map or {}))
        return fn

    return deco
