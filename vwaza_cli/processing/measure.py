"""Streaming measurements of decoded audio: loudness, peaks, clipping, silence (spec: Measurements).

The caller decodes and feeds float32 planar chunks of any length; only filter states, a few
samples of history and one energy per 100 ms of audio are kept, so memory stays flat whatever
the length. Loudness is ITU-R BS.1770-4 / EBU R128 (integrated) and EBU Tech 3342 (range);
the true peak is 4x oversampled as in BS.1770-4 Annex 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.audio.plane import AudioPlane
from numpy.typing import NDArray

Samples = NDArray[np.float32]
Floats = NDArray[np.float64]

CLIP_LEVEL = 0.9999
SILENCE_LEVEL = 10 ** (-60 / 20)
MONO_DIFFERENCE_LEVEL = 10 ** (-90 / 20)

LOUDNESS_OFFSET = -0.691  # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LUFS
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0  # integrated loudness (BS.1770-4)
RANGE_GATE_LU = -20.0  # loudness range (Tech 3342)
RANGE_PERCENTILES = (10.0, 95.0)

SEGMENTS_PER_SECOND = 10  # energies are kept per 100 ms; blocks are whole numbers of segments
SEGMENTS_PER_GATING_BLOCK = 4  # 400 ms blocks overlapping by 75 %
SEGMENTS_PER_SHORT_TERM_BLOCK = 30  # 3 s windows, one every 100 ms

# Work is done on blocks this long: long enough that NumPy's per-call cost is small next to
# the arithmetic (decoders hand over ~1k-frame chunks), short enough to stay in cache.
PROCESSING_FRAMES = 1 << 16


@dataclass(frozen=True)
class Measured:
    """What one pass over a track measured; nothing is rounded (the caller rounds)."""

    integrated_lufs: float | None
    loudness_range_lu: float | None
    true_peak_dbtp: float | None
    sample_peak_dbfs: float | None
    clipped_samples: int
    leading_silence: float
    trailing_silence: float
    mono_as_stereo: bool
    duration: float


class Meter:
    """Measures a track fed in order as float32 planar chunks of shape (channels, n)."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        if sample_rate <= 0 or channels <= 0:
            raise ValueError(f"cannot measure {channels} channel(s) at {sample_rate} Hz")
        self._sample_rate = sample_rate
        self._channels = channels
        self._staging = _Staging(channels)
        self._loudness = _Loudness(sample_rate, channels)
        self._true_peak = _TruePeak(channels)
        self._clipping = _ClipCounter(channels)
        self._silence = _SilenceFinder()
        self._sample_peak = 0.0
        self._alike_so_far = channels == 2

    def feed(self, samples: np.ndarray) -> None:
        """samples: float32, planar, shape (channels, n), full scale = ±1.0; chunks of any length
        (1 .. 1_000_000 frames), in order."""
        if samples.ndim != 2 or samples.shape[0] != self._channels:
            raise ValueError(
                f"expected samples of shape ({self._channels}, n), got {samples.shape}"
            )
        for block in self._staging.add(samples):
            self._measure(block)

    def result(self) -> Measured:
        """The measurements of everything fed so far (more may be fed afterwards)."""
        for block in self._staging.drain():
            self._measure(block)
        frames = self._silence.frames
        peak = max(self._true_peak.peak(), self._sample_peak)
        return Measured(
            integrated_lufs=self._loudness.integrated(),
            loudness_range_lu=self._loudness.range(),
            true_peak_dbtp=_decibels(peak),
            sample_peak_dbfs=_decibels(self._sample_peak),
            clipped_samples=self._clipping.count,
            leading_silence=self._silence.leading() / self._sample_rate,
            trailing_silence=self._silence.trailing() / self._sample_rate,
            mono_as_stereo=self._alike_so_far,
            duration=frames / self._sample_rate,
        )

    def _measure(self, block: Samples) -> None:
        magnitudes = np.abs(block)
        block_peak = float(magnitudes.max())
        self._sample_peak = max(self._sample_peak, block_peak)
        if block_peak >= CLIP_LEVEL:
            self._clipping.feed(magnitudes >= CLIP_LEVEL)
        else:
            self._clipping.feed_unclipped()
        self._silence.feed(magnitudes > SILENCE_LEVEL)
        if self._alike_so_far:
            self._alike_so_far = float(np.abs(block[0] - block[1]).max()) < MONO_DIFFERENCE_LEVEL
        self._loudness.feed(block)
        self._true_peak.feed(block)


def _decibels(amplitude: float) -> float | None:
    return 20 * math.log10(amplitude) if amplitude > 0 else None


class _Staging:
    """Cuts the caller's chunks into blocks of PROCESSING_FRAMES frames (the last one shorter).

    Blocks always start at multiples of PROCESSING_FRAMES, so how the caller chunks the audio
    changes nothing. A yielded block is only valid until the next one is asked for.
    """

    def __init__(self, channels: int) -> None:
        self._buffer = np.empty((channels, PROCESSING_FRAMES), dtype=np.float32)
        self._filled = 0

    def add(self, samples: np.ndarray) -> Iterator[Samples]:
        taken, frames = 0, samples.shape[1]
        while taken < frames:
            if self._filled == 0 and frames - taken >= PROCESSING_FRAMES:
                yield np.asarray(samples[:, taken : taken + PROCESSING_FRAMES], dtype=np.float32)
                taken += PROCESSING_FRAMES
                continue
            count = min(PROCESSING_FRAMES - self._filled, frames - taken)
            self._buffer[:, self._filled : self._filled + count] = samples[:, taken : taken + count]
            self._filled += count
            taken += count
            if self._filled == PROCESSING_FRAMES:
                self._filled = 0
                yield self._buffer

    def drain(self) -> Iterator[Samples]:
        if self._filled:
            filled, self._filled = self._filled, 0
            yield self._buffer[:, :filled]


class _ClipCounter:
    """Counts clipped samples that have a clipped neighbour in their channel.

    A sample's right neighbour arrives with the next block, so the last sample of a block
    whose left neighbour is not clipped waits ("pending") until then.
    """

    def __init__(self, channels: int) -> None:
        self._last_clipped = np.zeros(channels, dtype=bool)
        self._pending = np.zeros(channels, dtype=bool)
        self.count = 0

    def feed(self, clipped: NDArray[np.bool_]) -> None:
        runs = np.concatenate([self._last_clipped[:, None], clipped], axis=1)
        self.count += int(np.count_nonzero(self._pending & runs[:, 1]))
        inner = runs[:, 1:-1] & (runs[:, :-2] | runs[:, 2:])
        last = runs[:, -1] & runs[:, -2]
        self.count += int(np.count_nonzero(inner)) + int(np.count_nonzero(last))
        self._pending = runs[:, -1] & ~runs[:, -2]
        self._last_clipped = runs[:, -1].copy()

    def feed_unclipped(self) -> None:
        """A block with no clipped sample: it only ends the run, if any, of the one before."""
        self._pending[:] = False
        self._last_clipped[:] = False


class _SilenceFinder:
    """Finds the first and last frame with any channel above SILENCE_LEVEL."""

    def __init__(self) -> None:
        self.frames = 0
        self._first: int | None = None
        self._last: int | None = None

    def feed(self, audible: NDArray[np.bool_]) -> None:
        """audible: (channels, n), whether each sample is above SILENCE_LEVEL."""
        frames = audible.shape[1]
        if self._first is None:
            first = _first_true(audible)
            self._first = None if first is None else self.frames + first
        last = _first_true(audible[:, ::-1])
        if last is not None:
            self._last = self.frames + frames - 1 - last
        self.frames += frames

    def leading(self) -> int:
        return self.frames if self._first is None else self._first

    def trailing(self) -> int:
        return self.frames if self._last is None else self.frames - 1 - self._last


def _first_true(flags: NDArray[np.bool_]) -> int | None:
    """The first column with a True in any row; argmax stops at a row's first True, so audio
    that is audible from the start of a block costs next to nothing."""
    firsts = []
    for row in flags:
        index = int(np.argmax(row))
        if row[index]:
            firsts.append(index)
    return min(firsts, default=None)


# --- loudness (BS.1770-4, Tech 3342) ------------------------------------------------------


def _k_weighting(sample_rate: int) -> Floats:
    """The K-weighting filter (shelf, then high-pass) as second-order sections for any rate,
    one row (b0, b1, b2, a0, a1, a2) each, a0 = 1.

    The analogue parameters are those that reproduce BS.1770's published 48 kHz coefficients
    (as derived for libebur128), so other rates get the same curve.
    """
    shelf_k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    shelf_q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + shelf_k / shelf_q + shelf_k**2
    shelf = [
        (vh + vb * shelf_k / shelf_q + shelf_k**2) / a0,
        2 * (shelf_k**2 - vh) / a0,
        (vh - vb * shelf_k / shelf_q + shelf_k**2) / a0,
        1.0,
        2 * (shelf_k**2 - 1) / a0,
        (1 - shelf_k / shelf_q + shelf_k**2) / a0,
    ]
    pass_k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    pass_q = 0.5003270373238773
    b0 = 1 + pass_k / pass_q + pass_k**2
    high_pass = [
        1.0,
        -2.0,
        1.0,
        1.0,
        2 * (pass_k**2 - 1) / b0,
        (1 - pass_k / pass_q + pass_k**2) / b0,
    ]
    return np.array([shelf, high_pass])


def _channel_weights(channels: int) -> Floats:
    """BS.1770 channel weights in FFmpeg's channel order: surrounds 1.41, LFE left out."""
    layouts = {
        5: [1.0, 1.0, 1.0, 1.41, 1.41],  # L R C Ls Rs
        6: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41],  # L R C LFE Ls Rs
        8: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.41, 1.41],  # 7.1
    }
    return np.array(layouts.get(channels, [1.0] * channels))


# Channels per filter graph: PyAV's AudioFrame.planes reads past FFmpeg's eight inline data
# pointers when a frame has eight planes or more. 7.1 fits in one (its LFE is not filtered).
GRAPH_CHANNELS = 7


class _KWeighting:
    """Channel-weighted power of the K-weighted signal, frame by frame.

    FFmpeg's own `biquad` filter runs the sections in double precision, each graph keeping
    the filters' state from block to block (SciPy's sosfilt did the same sums but cost a
    second and some 70 MiB to import in every worker process). Channels weighted 0 (LFE) are
    left out. Nothing large is allocated per block: fresh megabytes every 65k frames cost more
    in page faults than the filtering itself.
    """

    def __init__(self, sample_rate: int, weights: Floats) -> None:
        sections = _k_weighting(sample_rate)
        weighted = [channel for channel, weight in enumerate(weights) if weight]
        self._groups = [
            weighted[first : first + GRAPH_CHANNELS]
            for first in range(0, len(weighted), GRAPH_CHANNELS)
        ]
        self._graphs = [_FilterGraph(sample_rate, len(group), sections) for group in self._groups]
        self._weights = [float(weight) for weight in weights]
        self._power = np.empty(0)
        self._squares = np.empty(0)

    def power(self, block: Samples) -> Floats:
        """Sum over channels of weight x (K-weighted sample)^2, for each frame of the block;
        only valid until the next call."""
        frames = block.shape[1]
        if frames == 0:
            return np.zeros(0)
        if self._power.size < frames:
            self._power, self._squares = np.empty(frames), np.empty(frames)
        power, squares = self._power[:frames], self._squares[:frames]
        power.fill(0.0)
        for group, graph in zip(self._groups, self._graphs, strict=True):
            filtered = graph.filter([block[channel] for channel in group])
            for channel, samples in zip(group, filtered, strict=True):
                np.square(samples, out=squares)
                if self._weights[channel] != 1.0:
                    squares *= self._weights[channel]
                power += squares
        return power


class _FilterGraph:
    """abuffer -> one biquad per section -> abuffersink, for up to GRAPH_CHANNELS channels."""

    def __init__(self, sample_rate: int, channels: int, sections: Floats) -> None:
        # A named layout ("mono" .. "6.1"): given an unnamed one ("2C"), the biquad filter
        # leaves every channel unfiltered.
        self._layout = av.AudioLayout(f"{channels}c")
        self._sample_rate = sample_rate
        self._frames = 0
        # The filter contexts live only as long as the graph: it must be kept with them.
        self._graph = av.filter.Graph()
        self._graph.threads = 1  # a thread pool per graph would only fight the other workers
        self._source = self._graph.add_abuffer(
            sample_rate=sample_rate,
            format="dblp",
            layout=self._layout,
            time_base=Fraction(1, sample_rate),
        )
        last = self._source
        for b0, b1, b2, a0, a1, a2 in sections.tolist():
            # repr() of a float is the shortest text that reads back as the same double.
            coefficients = {"b0": b0, "b1": b1, "b2": b2, "a0": a0, "a1": a1, "a2": a2}
            options = {name: repr(value) for name, value in coefficients.items()}
            biquad = self._graph.add("biquad", precision="f64", **options)
            last.link_to(biquad)
            last = biquad
        self._sink = self._graph.add("abuffersink")
        last.link_to(self._sink)
        self._graph.configure()
        self._input: av.AudioFrame | None = None

    def filter(self, channels: list[Samples]) -> list[Floats]:
        """The channels (one array of n samples each) filtered: views of the output frame,
        which they keep alive."""
        frames = channels[0].size
        if self._input is None or self._input.samples != frames:
            self._input = av.AudioFrame(format="dblp", layout=self._layout, samples=frames)
        frame = self._input
        # FFmpeg copies a pushed frame whose buffers it did not allocate (as PyAV's own are)
        # into fresh ones, megabytes and page faults every block; one it did allocate it only
        # references, and the biquads write to frames from the graph's pool instead. This
        # moves the frame into FFmpeg's buffers once, and copies again only if the graph
        # still held a reference to it.
        frame.make_writable()
        for plane, samples in zip(frame.planes, channels, strict=True):
            np.copyto(_samples_of(plane, frames), samples)
        frame.sample_rate = self._sample_rate
        frame.pts = self._frames
        self._frames += frames
        self._source.push(frame)
        output = self._sink.pull()
        # The biquad hands each frame on as it comes; anything else would shift the segments.
        if not isinstance(output, av.AudioFrame) or output.samples != frames:
            raise RuntimeError(f"the K-weighting graph gave {output} for {frames} frames")
        return [_samples_of(plane, frames) for plane in output.planes]


def _samples_of(plane: AudioPlane, frames: int) -> Floats:
    """A view of a dblp plane's samples (its buffer is padded to FFmpeg's alignment)."""
    return np.frombuffer(memoryview(plane), dtype=np.float64, count=frames)


class _Loudness:
    """K-weighted, channel-weighted energy summed per 100 ms segment; the gates at the end."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self._k_weighting = _KWeighting(sample_rate, _channel_weights(channels))
        self._segment_frames = max(1, round(sample_rate / SEGMENTS_PER_SECOND))
        self._segments: list[Floats] = []
        self._open_energy = 0.0
        self._open_frames = 0

    def feed(self, block: Samples) -> None:
        self._add_to_segments(self._k_weighting.power(block))

    def _add_to_segments(self, power: Floats) -> None:
        start = min(self._segment_frames - self._open_frames, power.size)
        self._open_energy += float(power[:start].sum())
        self._open_frames += start
        if self._open_frames < self._segment_frames:
            return
        self._segments.append(np.array([self._open_energy]))
        whole = (power.size - start) // self._segment_frames
        end = start + whole * self._segment_frames
        if whole:
            self._segments.append(power[start:end].reshape(whole, -1).sum(axis=1))
        self._open_energy = float(power[end:].sum())
        self._open_frames = power.size - end

    def integrated(self) -> float | None:
        blocks = self._block_energies(SEGMENTS_PER_GATING_BLOCK)
        return _gated_mean_loudness(blocks, RELATIVE_GATE_LU)

    def range(self) -> float | None:
        blocks = _above(
            self._block_energies(SEGMENTS_PER_SHORT_TERM_BLOCK), _energy(ABSOLUTE_GATE_LUFS)
        )
        if blocks.size == 0:
            return None
        kept = _above(blocks, blocks.mean() * _ratio(RANGE_GATE_LU))
        low, high = np.percentile(_loudness(kept), RANGE_PERCENTILES)
        return float(high - low)

    def _block_energies(self, segments_per_block: int) -> Floats:
        """Mean-square energy of each block that lies wholly inside what was fed."""
        segments = np.concatenate(self._segments) if self._segments else np.zeros(0)
        if segments.size < segments_per_block:
            return np.zeros(0)
        sums = np.convolve(segments, np.ones(segments_per_block), mode="valid")
        return sums / (segments_per_block * self._segment_frames)


def _gated_mean_loudness(blocks: Floats, relative_gate_lu: float) -> float | None:
    audible = _above(blocks, _energy(ABSOLUTE_GATE_LUFS))
    if audible.size == 0:
        return None
    kept = _above(audible, audible.mean() * _ratio(relative_gate_lu))
    return float(_loudness(np.array([kept.mean()]))[0])


def _above(energies: Floats, threshold: float) -> Floats:
    return energies[energies > threshold]


def _energy(lufs: float) -> float:
    return 10 ** ((lufs - LOUDNESS_OFFSET) / 10)


def _ratio(lu: float) -> float:
    return 10 ** (lu / 10)


def _loudness(energies: Floats) -> Floats:
    return LOUDNESS_OFFSET + 10 * np.log10(energies)


# --- true peak (BS.1770-4 Annex 2) --------------------------------------------------------

TAPS_PER_PHASE = 12
KAISER_BETA = 5.0
HISTORY = TAPS_PER_PHASE - 1  # samples carried from block to block
PAIRS = TAPS_PER_PHASE // 2
# Columns per matrix product: OpenBLAS turns to threads for longer ones, which on two cores
# spin against everything else and cost several times the work.
BLAS_COLUMNS = 1 << 15


def _interpolation_taps(phase: float) -> Floats:
    """Kaiser-windowed sinc taps for the value `phase` (0..1) of the way from one sample to the
    next, weighting the six samples up to that one and the six after it.

    Annex 2's example filter delays by 5.875 samples, so none of its four phases falls on a
    sample and it reads a full-scale fs/4 tone up to 0.17 dB low; these phases fall at 0,
    1/4, 1/2 and 3/4 and are flat within 0.02 dB up to fs/4.
    """
    half = TAPS_PER_PHASE // 2
    distance = phase - np.arange(-half + 1, half + 1)
    window = np.i0(KAISER_BETA * np.sqrt(1 - (distance / half) ** 2)) / np.i0(KAISER_BETA)
    return np.asarray(np.sinc(distance) * window, dtype=np.float64)


class _TruePeak:
    """The largest magnitude of the 4x oversampled signal between the samples.

    Only values with all their taps inside the track are taken: padding either end with
    silence would invent a step, and a step overshoots (a tone cut off at full scale would read
    about 1 dB over). The samples themselves (phase 0) are the sample peak, kept by the meter.
    """

    def __init__(self, channels: int) -> None:
        quarter, half = _interpolation_taps(0.25), _interpolation_taps(0.5)
        # Phase 3 is phase 1 mirrored and phase 2 is symmetric, so all three are weighted sums
        # of the sums and differences of the sample pairs equally far either side.
        mirrored = quarter[::-1]
        self._on_sums = np.array([(quarter + mirrored) / 2, half])[:, :PAIRS].astype(np.float32)
        self._on_differences = ((quarter - mirrored) / 2)[None, :PAIRS].astype(np.float32)
        self._frames_per_product = max(1, BLAS_COLUMNS // channels)
        self._buffers = _Buffers(channels * self._frames_per_product)
        self._history = np.zeros((channels, 0), dtype=np.float32)
        self._peak = 0.0

    def feed(self, block: Samples) -> None:
        extended = np.concatenate([self._history, block], axis=1)
        step = self._frames_per_product
        for start in range(0, extended.shape[1] - HISTORY, step):
            part = extended[:, start : start + step + HISTORY]
            self._peak = max(self._peak, self._between_samples(part))
        self._history = extended[:, -HISTORY:].copy()

    def peak(self) -> float:
        return self._peak

    def _between_samples(self, extended: Samples) -> float:
        """Peak between samples k+5 and k+6 of `extended`, for every k with 12 samples at hand."""
        channels, count = extended.shape[0], extended.shape[1] - HISTORY
        sums = self._buffers.take("sums", PAIRS, channels * count)
        differences = self._buffers.take("differences", PAIRS, channels * count)
        for k in range(PAIRS):
            near = extended[:, k : k + count]
            far = extended[:, HISTORY - k : HISTORY - k + count]
            np.add(near, far, out=sums[k].reshape(channels, count))
            np.subtract(near, far, out=differences[k].reshape(channels, count))
        symmetric = self._buffers.take("symmetric", 2, channels * count)
        antisymmetric = self._buffers.take("antisymmetric", 1, channels * count)
        np.matmul(self._on_sums, sums, out=symmetric)
        np.matmul(self._on_differences, differences, out=antisymmetric)
        np.abs(symmetric, out=symmetric)
        np.abs(antisymmetric, out=antisymmetric)
        # Phases 1 and 3 are symmetric[0] + and - antisymmetric: the larger magnitude is the sum.
        antisymmetric += symmetric[0]
        return max(float(antisymmetric.max()), float(symmetric[1].max()))


class _Buffers:
    """Scratch arrays reused from block to block (fresh ones cost page faults every time)."""

    def __init__(self, columns: int) -> None:
        self._columns = columns
        self._flat: dict[str, Samples] = {}

    def take(self, name: str, rows: int, columns: int) -> Samples:
        if name not in self._flat:
            self._flat[name] = np.empty(rows * self._columns, dtype=np.float32)
        return self._flat[name][: rows * columns].reshape(rows, columns)
