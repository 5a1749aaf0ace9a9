"""hf_ser: multilingual and cross-lingual speech emotion recognition on Hugging Face.

Importing the package points matplotlib's config and font cache at a per-process temporary folder (removed at
exit) unless ``MPLCONFIGDIR`` is set: matplotlib would otherwise write ``~/.config/matplotlib`` and a font list in
``~/.cache/matplotlib`` of a fresh HOME, outside every folder the user named. Rebuilding the font list costs about
0.25 s per process that draws; set ``MPLCONFIGDIR`` to keep one. This is done here, in the one module every
command imports first, because matplotlib reads the variable the first time it is imported.
"""

import atexit
import os
import shutil
import tempfile

__version__ = "0.1.0"

# MPLCONFIGDIR values this package chose (a child process inherits its parent's and makes its own instead)
_OWNED_MARKER = "HF_SER_OWNED_MPLCONFIGDIR"


def _private_matplotlib_dir() -> None:
    """Set MPLCONFIGDIR to a temporary path removed at exit, unless the user set it (matplotlib creates it on use)."""
    current = os.environ.get("MPLCONFIGDIR")
    if current and current != os.environ.get(_OWNED_MARKER):
        return  # the user's choice
    path = os.path.join(tempfile.gettempdir(), f"hf_ser-matplotlib-{os.getpid()}-{os.urandom(4).hex()}")
    os.environ["MPLCONFIGDIR"] = os.environ[_OWNED_MARKER] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)


_private_matplotlib_dir()
