"""What predict is asked to do: :class:`PredictOptions` (segments, aggregation, batching) with its choices and
defaults, and :class:`PredictError`, the usage problem (no input, model not loadable) every step reports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hf_ser.data.audio import PreprocessConfig
from hf_ser.errors import UserError
from hf_ser.infer.segments import VadParams

SEGMENT_MODES = ("auto", "none", "vad", "fixed")
AGGREGATES = ("mean", "max", "vote")
DEFAULT_MAX_SECONDS = PreprocessConfig().max_seconds  # the training crop (20 s)
POOL_SECONDS = 300.0  # audio gathered (19 MB as float32) and sorted by length before each classifier pass;
# the files whose segments are in the pool are "in flight": a kill loses at most them
POOL_ITEMS = 512  # ... or this many segments, whichever comes first


class PredictError(UserError):
    """A usage problem (no input, model not loadable); the message names the cause and the fix."""


@dataclass(frozen=True)
class PredictOptions:
    """How files are cut into segments, classified and summarised (the CLI flags of the same names).

    hop None means half a window (overlapping windows: every moment is seen by two windows, so a change
    of emotion is not missed at a window edge). max_seconds is the crop for ``none`` and the longest
    VAD segment or window (0/None: no limit).
    """

    segment: str = "auto"
    window: float = 4.0
    hop: float | None = None
    vad: VadParams = field(default_factory=VadParams)
    max_seconds: float | None = DEFAULT_MAX_SECONDS
    aggregate: str = "mean"
    top_k: int | None = None
    batch_size: int = 8
    pool_seconds: float = POOL_SECONDS

    def checked(self) -> PredictOptions:
        """These options with the VAD's max segment tied to max_seconds; UserError naming a bad value."""
        if self.segment not in SEGMENT_MODES:
            raise UserError(f"--segment must be one of {', '.join(SEGMENT_MODES)}, got {self.segment!r}")
        if self.aggregate not in AGGREGATES:
            raise UserError(f"--aggregate must be one of {', '.join(AGGREGATES)}, got {self.aggregate!r}")
        if self.batch_size < 1 or (self.top_k is not None and self.top_k < 1):
            raise UserError("--batch_size and --top_k must be at least 1")
        if self.pool_seconds <= 0:
            raise UserError("--pool_seconds must be positive")
        if self.window <= 0 or (self.hop is not None and self.hop <= 0):
            raise UserError("--window and --hop must be positive")
        if self.segment == "fixed" and self.max_seconds and self.window > self.max_seconds:
            raise UserError(
                f"--window {self.window:g} is longer than --max_seconds {self.max_seconds:g} (the "
                "training crop); use a shorter window or raise --max_seconds"
            )
        vad = replace(self.vad, max_segment=float(self.max_seconds or 0))
        try:
            vad.check()
        except ValueError as e:
            raise UserError(str(e)) from None
        return replace(self, vad=vad, max_seconds=self.max_seconds or None)

    @property
    def window_hop(self) -> float:
        """The hop between fixed windows (half a window unless given)."""
        return self.hop if self.hop else self.window / 2
