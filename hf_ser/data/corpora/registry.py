"""The registry of corpus layout loaders: corpus name -> :class:`~hf_ser.data.corpora.scan.Loader`.

One module per corpus under ``hf_ser/data/corpora/`` defines a ``LOADER``; this module lists them. RED, the
Moroccan Arabic set (mder) and MCAESD have no public layout: they load through
``<data_root>/<name>/manifest.csv`` (docs/manifests.md). A user's own layout is added with
:func:`register_loader`, with no change to the package.
"""

from __future__ import annotations

from collections.abc import Callable

from hf_ser.data.corpora.cafe import LOADER as CAFE
from hf_ser.data.corpora.crema_d import LOADER as CREMA_D
from hf_ser.data.corpora.emofilm import LOADER as EMOFILM
from hf_ser.data.corpora.emoprosody import LOADER as EMOPROSODY
from hf_ser.data.corpora.emouerj import LOADER as EMOUERJ
from hf_ser.data.corpora.emozionalmente import LOADER as EMOZIONALMENTE
from hf_ser.data.corpora.mesd import LOADER as MESD
from hf_ser.data.corpora.oreau import LOADER as OREAU
from hf_ser.data.corpora.resd import LOADER as RESD
from hf_ser.data.corpora.scan import Loader, ScanFn
from hf_ser.data.corpora.subesco import LOADER as SUBESCO

LOADERS: dict[str, Loader] = {
    loader.name: loader
    for loader in (OREAU, CAFE, EMOZIONALMENTE, EMOUERJ, EMOPROSODY, MESD, EMOFILM, SUBESCO, CREMA_D, RESD)
}


def register_loader(name: str, label_map: dict[str, str | None] | None = None) -> Callable[[ScanFn], ScanFn]:
    """Decorator for a user's own layout: register ``fn(root: Path, **options) -> Scan`` as corpus `name`."""

    def deco(fn: ScanFn) -> ScanFn:
        LOADERS[name] = Loader(name, fn, dict(label_map or {}))
        return fn

    return deco
