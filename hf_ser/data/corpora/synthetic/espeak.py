"""eSpeak NG through ctypes: a private copy of the library, loaded and unloaded around every utterance."""

from __future__ import annotations

import _ctypes
import atexit
import ctypes
import functools
import os
import shutil
import tempfile
from pathlib import Path

import espeakng_loader
import numpy as np


class ESpeakError(RuntimeError):
    """eSpeak NG could not be loaded, did not know a voice, or produced no audio."""


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4}


class ESpeakNG:
    """eSpeak NG through ctypes, synchronous mode; every utterance on a freshly loaded library.

    eSpeak keeps C statics from one utterance to the next, so the output of an utterance
    would depend on what was said before it. Loading a private copy of the library and
    unloading it (``dlclose``) after each utterance makes every utterance history-free.
    """

    def __init__(self) -> None:
        self._data = espeakng_loader.get_data_path().encode()
        self._private = Path(tempfile.mkdtemp(prefix="hf_ser-espeak-"))
        atexit.register(shutil.rmtree, self._private, True)
        self._lib_path = str(self._private / "libespeak-ng.so")
        shutil.copyfile(espeakng_loader.get_library_path(), self._lib_path)
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced for the library's lifetime
        lib = self._load()
        try:
            version = ctypes.c_char_p()
            lib.espeak_Info.restype = ctypes.c_char_p
            lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
            self.version: str = (lib.espeak_Info(ctypes.byref(version)) or b"?").decode()
        finally:
            self._unload(lib)

    def _collect(self, wav, n: int, events) -> int:
        """The synthesis callback: keeps a copy of each chunk of samples; 0 tells eSpeak to go on."""
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def _load(self) -> ctypes.CDLL:
        """Load the private copy of the library, initialise it (synchronous, callback, seeded) and type its calls."""
        lib = ctypes.CDLL(self._lib_path, mode=getattr(os, "RTLD_LOCAL", 0))
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, self._data, _INITIALIZE_DONT_EXIT)
        if sr <= 0:
            raise ESpeakError(f"espeak_Initialize failed ({sr}) with data {self._data.decode()}")
        self.sample_rate = int(sr)
        lib.espeak_SetSynthCallback(self._callback)
        if hasattr(lib, "espeak_ng_SetRandSeed"):
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            lib.espeak_ng_SetRandSeed(0)
        return lib

    @staticmethod
    def _unload(lib: ctypes.CDLL) -> None:
        """Terminate eSpeak and dlclose the library, so the next load starts from fresh C statics."""
        lib.espeak_Terminate()
        dlclose = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
        if dlclose is not None:
            dlclose(lib._handle)

    def has_voice(self, voice: str) -> bool:
        """Whether eSpeak knows `voice` (a name like ``fr`` or ``fr+f2``)."""
        lib = self._load()
        try:
            return lib.espeak_SetVoiceByName(voice.encode()) == 0
        finally:
            self._unload(lib)

    def synthesize(
        self, text: str, voice: str, *, rate: float, pitch: float, pitch_range: float, volume: float
    ) -> np.ndarray:
        """Int16 samples at :attr:`sample_rate` for `text` spoken by `voice` with this prosody."""
        lib = self._load()
        try:
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ESpeakError(f"eSpeak NG has no voice {voice!r}; see espeak-ng-data/voices and lang/")
            for name, value in (("rate", rate), ("pitch", pitch), ("range", pitch_range), ("volume", volume)):
                lib.espeak_SetParameter(_PARAM[name], int(round(value)), 0)
            self._chunks = []
            buf = text.encode("utf-8") + b"\0"
            err = lib.espeak_Synth(buf, len(buf), 0, 0, 0, _CHARS_UTF8, None, None)
            if err != 0:
                raise ESpeakError(f"espeak_Synth failed ({err}) for voice {voice!r}, text {text!r}")
            wav = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        finally:
            self._unload(lib)
        self._chunks = []
        if not np.any(np.abs(wav.astype(np.int32)) > 16):
            raise ESpeakError(f"eSpeak NG produced no audio for voice {voice!r}, text {text!r}")
        return wav


@functools.lru_cache(maxsize=1)
def get_engine() -> ESpeakNG:
    """The process-wide :class:`ESpeakNG` (one private copy of the library)."""
    return ESpeakNG()
