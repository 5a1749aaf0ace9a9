"""Where to classify inside a long recording: speech segments from the silero VAD, or fixed windows.

Both work on a file streamed block by block (:func:`hf_ser.data.audio.iter_mono_blocks`), so memory stays flat
whatever the length of the recording: the VAD keeps one speech probability per 32 ms frame (a 1-hour file is
112,500 floats), and :func:`iter_segment_audio` keeps at most one segment plus one decoding block of audio.

- :func:`vad_segments`: speech found by silero VAD (the model ships inside the ``silero-vad`` wheel; nothing
  is downloaded). The per-frame speech probabilities are computed here, block by block, and turned into
  segments by the package's own ``get_speech_timestamps_from_probs``; segments longer than ``max_segment``
  are split there (at the longest pause inside), then pauses shorter than ``merge_gap`` are closed when the
  merged segment still fits in ``max_segment``. Every parameter is a field of :class:`VadParams`.
- :func:`fixed_segments`: windows of ``window`` seconds every ``hop`` seconds, the last one aligned on
  the end of the file so every window has the full length and the whole file is covered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from hf_ser.data.audio import AudioError, iter_mono_blocks
from hf_ser.labels import SAMPLING_RATE

_THREADS = torch.get_num_threads()
from silero_vad import get_speech_timestamps_from_probs, load_silero_vad  # noqa: E402 (after _THREADS on purpose)

torch.set_num_threads(_THREADS)  # importing silero_vad.model sets torch's intra-op threads to 1; undo that

VAD_SAMPLING_RATE = 16_000  # silero VAD runs on 16 kHz frames of 512 samples
VAD_FRAME = 512  # samples per speech probability (32 ms at 16 kHz), fixed by the model


@dataclass(frozen=True)
class VadParams:
    """Parameters of the speech segmentation (seconds unless said otherwise).

    threshold: speech probability at or above which a 32 ms frame is speech (silero's default 0.5; a
        segment ends when the probability falls below ``threshold - 0.15``).
    min_speech: speech stretches shorter than this are dropped (silero's default, and the shortest clip
        the preparation keeps, ``PreprocessConfig.min_seconds``).
    min_silence: a pause must last this long to end a segment; 0.3 s keeps the short pauses inside a
        sentence (commas, breaths) in one segment, so a segment is a phrase rather than a word.
    speech_pad: added on both sides of each segment (silero's 30 ms default would clip soft onsets).
    merge_gap: after padding, neighbours closer than this are joined when the result fits ``max_segment``
        (0.1 s: only slivers left by the padding; a larger value would join sentences separated by a
        0.5 s pause, since the padding and silero's hangover eat about 0.3 s of every pause).
    max_segment: the longest segment (default 20 s, the training crop); longer speech is split at its
        longest inner pause, else cut hard. 0 means no limit.
    """

    threshold: float = 0.5
    min_speech: float = 0.25
    min_silence: float = 0.3
    speech_pad: float = 0.1
    merge_gap: float = 0.1
    max_segment: float = 20.0

    def to_dict(self) -> dict:
        """Plain dict (for logs and run records)."""
        return asdict(self)

    def check(self) -> None:
        """ValueError naming the first parameter out of range."""
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"VAD threshold must lie between 0 and 1, got {self.threshold}")
        for name in ("min_speech", "min_silence", "speech_pad", "merge_gap", "max_segment"):
            if getattr(self, name) < 0:
                raise ValueError(f"VAD {name} must not be negative, got {getattr(self, name)}")
        if self.max_segment and self.max_segment < 1.0:
            raise ValueError(f"the longest segment must be at least 1 s, got {self.max_segment}")


@functools.lru_cache(maxsize=1)
def load_vad():
    """The silero VAD model shipped in the ``silero-vad`` wheel (TorchScript, CPU), loaded once per process."""
    threads = torch.get_num_threads()
    model = load_silero_vad()
    torch.set_num_threads(threads)
    return model


def speech_probabilities(
    blocks: Iterable[np.ndarray], model=None, on_block: Callable[[int], None] | None = None
) -> np.ndarray:
    """One speech probability per 512-sample frame of a 16 kHz signal given as consecutive blocks of any size.

    The frames go one by one through the model's stateful call, exactly as silero's own
    ``get_speech_timestamps`` does over a whole signal, so the result does not depend on the block size
    (a reset per block, even after 1 s of replayed context, changed probabilities by up to 0.44 inside
    speech: the recurrent state remembers longer). The last partial frame is zero-padded, as there.
    Runs on one torch thread (as silero recommends): with 2 threads on 2 busy cores the per-frame calls
    were 20x slower (21.7 s vs 1.0 s for 81 s of audio); one thread gives 80x real time. `on_block(n)` is
    told the number of samples consumed after each block (a progress bar).
    """
    model = load_vad() if model is None else model
    model.reset_states()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        probs = _frame_probabilities(model, blocks, on_block)
    finally:
        torch.set_num_threads(threads)
    return probs


def _frame_probabilities(model, blocks: Iterable[np.ndarray], on_block: Callable[[int], None] | None) -> np.ndarray:
    """The loop of :func:`speech_probabilities`: frames through the stateful model, a partial last one padded."""
    probs: list[float] = []
    carry = np.zeros(0, dtype=np.float32)
    with torch.no_grad():
        for b in blocks:
            audio = np.concatenate([carry, np.asarray(b, dtype=np.float32)])
            usable = len(audio) // VAD_FRAME * VAD_FRAME
            frames = torch.from_numpy(np.ascontiguousarray(audio[:usable])).view(-1, VAD_FRAME)
            probs += [model(frame, VAD_SAMPLING_RATE).item() for frame in frames]
            carry = audio[usable:]
            if on_block:
                on_block(len(b))
        if len(carry):
            last = torch.from_numpy(np.pad(carry, (0, VAD_FRAME - len(carry))))
            probs.append(model(last, VAD_SAMPLING_RATE).item())
    return np.asarray(probs, dtype=np.float32)


def spans_from_probabilities(
    probs: Sequence[float], n_samples: int, params: VadParams = VadParams(), sr: int = VAD_SAMPLING_RATE
) -> list[tuple[float, float]]:
    """Speech (start s, end s) from per-frame probabilities: silero's own rules, then short gaps merged."""
    raw = get_speech_timestamps_from_probs(
        [float(p) for p in probs],
        sampling_rate=sr,
        threshold=params.threshold,
        min_speech_duration_ms=round(params.min_speech * 1000),
        max_speech_duration_s=params.max_segment or float("inf"),
        min_silence_duration_ms=round(params.min_silence * 1000),
        speech_pad_ms=round(params.speech_pad * 1000),
        audio_length_samples=int(n_samples),
    )
    spans = [(s["start"] / sr, s["end"] / sr) for s in raw if s["end"] > s["start"]]
    return merge_close(spans, params.merge_gap, params.max_segment)


def merge_close(spans: Sequence[tuple[float, float]], gap: float, max_len: float | None) -> list[tuple[float, float]]:
    """Join consecutive (start, end) spans separated by less than `gap` seconds when the join fits `max_len`."""
    out: list[tuple[float, float]] = []
    for start, end in spans:
        if out and start - out[-1][1] < gap and (not max_len or end - out[-1][0] <= max_len):
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def vad_segments(
    path: str | Path, params: VadParams = VadParams(), model=None, on_block: Callable[[int], None] | None = None
) -> list[tuple[float, float]]:
    """Speech segments (start s, end s) of an audio file, decoded block by block; AudioError for a bad file."""
    n = 0

    def counted() -> Iterator[np.ndarray]:
        """The decoded blocks, counting their samples (the file's length at 16 kHz)."""
        nonlocal n
        for b in iter_mono_blocks(path, VAD_SAMPLING_RATE):
            n += len(b)
            yield b

    probs = speech_probabilities(counted(), model, on_block)
    if n == 0:
        raise AudioError("empty audio", "0 frames")
    return spans_from_probabilities(probs, n, params)


def fixed_segments(duration: float, window: float, hop: float) -> list[tuple[float, float]]:
    """Windows of `window` s every `hop` s over `duration` s; the last is aligned on the end (all full length).

    A file shorter than one window is a single window over the whole file.
    """
    if window <= 0 or hop <= 0:
        raise ValueError(f"window and hop must be positive, got {window} and {hop}")
    if duration <= window:
        return [(0.0, float(duration))]
    spans = []
    k = 0
    while k * hop + window <= duration + 1e-9:
        spans.append((round(k * hop, 6), round(k * hop + window, 6)))
        k += 1
    if spans[-1][1] < duration - 1e-6:
        spans.append((round(duration - window, 6), round(float(duration), 6)))
    return spans


def iter_segment_audio(
    path: str | Path, spans: Sequence[tuple[float, float]], sr: int = SAMPLING_RATE
) -> Iterator[tuple[int, np.ndarray]]:
    """(index into `spans`, mono float32 samples) of every span, in order of start, from one streamed decode.

    Audio before the earliest span not yet emitted is dropped as decoding goes, so memory is the longest
    span plus one block. Spans may overlap (fixed windows with a hop shorter than the window); a span
    reaching past the decoded end (a header that rounded the length up) ends with the audio.
    """
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], spans[i][1]))
    bounds = [(round(spans[i][0] * sr), round(spans[i][1] * sr)) for i in order]
    if not order:
        return
    buf = np.zeros(0, dtype=np.float32)
    buf_start = pos = 0  # absolute sample index of buf[0] and of the next decoded sample
    nxt = 0
    keep_from = bounds[0][0]
    for block in iter_mono_blocks(path, sr, stop=max(e for _, e in bounds) / sr + 1.0):
        block_start, pos = pos, pos + len(block)
        if pos <= keep_from:
            continue  # before the next span: nothing to keep
        if len(buf) == 0:
            cut = max(0, keep_from - block_start)
            buf, buf_start = block[cut:], block_start + cut
        else:
            buf = np.concatenate([buf, block])
        while nxt < len(order) and bounds[nxt][1] <= pos:
            s, e = bounds[nxt]
            yield order[nxt], buf[s - buf_start : e - buf_start].copy()
            nxt += 1
        keep_from = bounds[nxt][0] if nxt < len(order) else pos
        drop = min(len(buf), max(0, keep_from - buf_start))
        buf, buf_start = buf[drop:], buf_start + drop
    while nxt < len(order):
        s, e = bounds[nxt]
        yield order[nxt], buf[max(0, s - buf_start) : max(0, e - buf_start)].copy()
        nxt += 1
