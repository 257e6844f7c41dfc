"""One decode pass over a staged master: its measurements and its three renditions.

Runs in a daemon worker process. FFmpeg (through PyAV) decodes the master, resamples it and
encodes the AAC renditions; the same decoded samples feed the meter (``measure.py``) and the
waveform, so a master is read once whatever is made from it. Every output is written to a
temp file in the folder it is given, fsynced, and named in the returned ``Outcome``; nothing
here touches the store or the spool's committed files.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import mutagen
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

from vwaza_cli.enums import JobType
from vwaza_cli.processing.measure import Meter
from vwaza_cli.processing.work import Outcome, Rendition, Request, UndecodableMaster

STREAM_RATES = (44100, 48000)
FALLBACK_RATE = 48000
STREAM_BITRATE = {1: 128_000, 2: 256_000}
PREVIEW_BITRATE = 128_000
PREVIEW_SECONDS = 30.0
FADE_SECONDS = 1.0
SHORT_TRACK_SECONDS = 60.0  # a preview of a track this short starts at 0
WAVEFORM_POINTS = 1500  # aimed at; the spec allows 1000..2000
WAVEFORM_FINE = 6000  # bins kept while decoding, merged to about WAVEFORM_POINTS at the end
M4A = "audio/mp4"
WAVEFORM_TYPE = "application/json"
_LOSSLESS_DEPTH_CODECS = {"flac", "alac", "wavpack", "ape", "tta"}


def process_master(request: Request) -> Outcome:
    """Decode the master once and make what ``request`` asks for."""
    try:
        container = av.open(request.master)
    except (av.FFmpegError, OSError) as exc:
        raise UndecodableMaster(f"cannot open the master: {exc}") from None
    made: list[_Output] = []
    check = _MasterCheck.start(request)
    try:
        stream = _audio_stream(container)
        source = _Source.of(stream, container)
        outputs = _outputs(request, source)
        made = list(outputs.values())
        meter = Meter(source.sample_rate, source.channels) if request.measure else None
        depth = _BitDepth()
        _pump(container, stream, source, outputs, meter, depth)
        bit_depth = _stored_bit_depth(stream.codec_context, request.master)
        check.verify()  # what was decoded is the file accepted, or nothing is made
        renditions = tuple(output.finish() for output in made)
    except BaseException:
        for output in made:
            output.abandon()
        raise
    finally:
        container.close()
    analysis = _analysis(source, meter, bit_depth, depth) if meter is not None else None
    return Outcome(analysis, renditions)


class _MasterCheck:
    """Hashes the master on a thread of its own while it is decoded (hashlib lets go of
    the GIL): a staged copy that changed since it was accepted makes nothing."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.found: tuple[str, int] | None = None
        self.thread = threading.Thread(target=self._hash, daemon=True)

    @classmethod
    def start(cls, request: Request) -> _MasterCheck:
        check = cls(request)
        if request.sha256 is not None:
            check.thread.start()
        return check

    def _hash(self) -> None:
        try:
            self.found = _sha256(Path(self.request.master))
        except OSError:
            self.found = None

    def verify(self) -> None:
        if self.request.sha256 is None:
            return
        self.thread.join()
        expected = (self.request.sha256, self.request.size)
        if self.found is None or self.found != expected:
            got = "an unreadable file" if self.found is None else f"SHA-256 {self.found[0]}"
            raise UndecodableMaster(
                f"the staged master changed after it was accepted (SHA-256 {expected[0]} "
                f"expected, {got} found): add the track again"
            )


# --- the source ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    sample_rate: int
    channels: int
    duration: float  # from the container: sizes the waveform and places the preview

    @classmethod
    def of(cls, stream: Any, container: Any) -> _Source:
        ctx = stream.codec_context
        rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
        if rate <= 0 or channels <= 0:
            raise UndecodableMaster("the master has no sample rate or channel count")
        return cls(rate, channels, _duration(stream, container))

    @property
    def stream_rate(self) -> int:
        return self.sample_rate if self.sample_rate in STREAM_RATES else FALLBACK_RATE

    @property
    def layout(self) -> str:
        return "mono" if self.channels == 1 else "stereo"


def _audio_stream(container: Any) -> Any:
    streams = container.streams.audio
    if not streams:
        raise UndecodableMaster("the master holds no audio stream")
    return streams[0]


def _stored_bit_depth(ctx: Any, master: str) -> int | None:
    """Bits per sample as the file stores them (the container says, through mutagen);
    None for lossy and floating-point audio."""
    name = str(ctx.name)
    if name.startswith(("pcm_f", "pcm_alaw", "pcm_mulaw")):
        return None
    if not name.startswith("pcm_") and name not in _LOSSLESS_DEPTH_CODECS:
        return None
    found = mutagen.File(master)
    bits = int(getattr(found.info, "bits_per_sample", 0) or 0) if found is not None else 0
    return bits or None


def _duration(stream: Any, container: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return 0.0


# --- decoding ------------------------------------------------------------------------------


def _pump(
    container: Any,
    stream: Any,
    source: _Source,
    outputs: dict[JobType, _Output],
    meter: Meter | None,
    depth: _BitDepth,
) -> None:
    """Decode every frame once and hand it to everything that wants it."""
    waveform = outputs.get(JobType.WAVEFORM)
    encoded = [o for kind, o in outputs.items() if kind != JobType.WAVEFORM]
    resampler = AudioResampler(format="fltp", layout=source.layout, rate=source.stream_rate)
    for frame in _frames(container, stream):
        samples, integers = _planar(frame, source.channels)
        if meter is not None:
            meter.feed(samples)
            depth.feed(integers)
        if isinstance(waveform, _Waveform):
            waveform.feed(samples)
        if encoded:
            for out in resampler.resample(frame):
                _feed_encoders(encoded, out)
    if encoded:
        for out in resampler.resample(None):
            _feed_encoders(encoded, out)


def _feed_encoders(encoded: list[_Output], frame: AudioFrame) -> None:
    samples = frame.to_ndarray()
    for output in encoded:
        output.feed(samples)


def _frames(container: Any, stream: Any) -> Iterator[AudioFrame]:
    try:
        yield from container.decode(stream)
    except av.FFmpegError as exc:
        raise UndecodableMaster(f"cannot decode the master: {exc}") from None


@dataclass(frozen=True)
class _Integers:
    values: np.ndarray
    bits: int  # of the container type (16 or 32)


def _planar(frame: AudioFrame, channels: int) -> tuple[np.ndarray, _Integers | None]:
    """The frame as float32 planar (channels, n) at full scale 1.0, and its integer samples
    when the decoder gives integers (for the effective bit depth)."""
    name = frame.format.name
    data = frame.to_ndarray()
    planar = data if frame.format.is_planar else data.reshape(-1, channels).T
    if name.startswith("s16"):
        return planar.astype(np.float32) / 32768.0, _Integers(planar, 16)
    if name.startswith("s32"):
        return (planar.astype(np.float64) / 2147483648.0).astype(np.float32), _Integers(planar, 32)
    if name.startswith("u8"):
        return (planar.astype(np.float32) - 128.0) / 128.0, None
    return planar.astype(np.float32, copy=False), None


class _BitDepth:
    """The bits a PCM master really uses: the lowest bit set in any sample."""

    def __init__(self) -> None:
        self.bits: int | None = None
        self.seen = 0

    def feed(self, integers: _Integers | None) -> None:
        if integers is None or integers.values.size == 0:
            return
        self.bits = integers.bits
        self.seen |= int(np.bitwise_or.reduce(integers.values.ravel().astype(np.int64)))

    def effective(self, stored: int | None) -> int | None:
        if stored is None or self.bits is None:
            return None
        if self.seen == 0:
            return 0
        low_zero_bits = (self.seen & -self.seen).bit_length() - 1
        return min(stored, self.bits - low_zero_bits)


def _analysis(
    source: _Source, meter: Meter, bit_depth: int | None, depth: _BitDepth
) -> dict[str, Any]:
    measured = meter.result()
    return {
        "integrated_lufs": _rounded(measured.integrated_lufs, 2),
        "loudness_range_lu": _rounded(measured.loudness_range_lu, 2),
        "true_peak_dbtp": _rounded(measured.true_peak_dbtp, 2),
        "sample_peak_dbfs": _rounded(measured.sample_peak_dbfs, 2),
        "clipped_samples": measured.clipped_samples,
        "leading_silence": round(measured.leading_silence, 3),
        "trailing_silence": round(measured.trailing_silence, 3),
        "channels": source.channels,
        "sample_rate": source.sample_rate,
        "bit_depth": bit_depth,
        "effective_bit_depth": depth.effective(bit_depth),
        "mono_as_stereo": measured.mono_as_stereo,
        "duration": round(measured.duration, 3),
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# --- outputs ---------------------------------------------------------------------------------


class _Output:
    """One rendition being written to its temp file."""

    kind: JobType
    path: Path

    def feed(self, samples: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def finish(self) -> Rendition:
        self.close()
        _fsync(self.path)
        digest, size = _sha256(self.path)
        content_type, extension = (
            (WAVEFORM_TYPE, "json") if self.kind == JobType.WAVEFORM else (M4A, "m4a")
        )
        return Rendition(self.kind, str(self.path), digest, size, content_type, extension)

    def abandon(self) -> None:
        try:
            self.close()
        except Exception:
            pass
        self.path.unlink(missing_ok=True)


def _outputs(request: Request, source: _Source) -> dict[JobType, _Output]:
    folder = Path(request.temp_dir)
    outputs: dict[JobType, _Output] = {}
    try:
        for kind in request.make:
            path = folder / f"{request.token}.{kind.value.lower()}.part"
            outputs[kind] = _output(kind, path, source, request.preview_start)
    except BaseException:
        for output in outputs.values():
            output.abandon()
        raise
    return outputs


def _output(kind: JobType, path: Path, source: _Source, preview_start: float | None) -> _Output:
    if kind == JobType.STREAM:
        return _Aac(kind, path, source, STREAM_BITRATE[1 if source.channels == 1 else 2])
    if kind == JobType.PREVIEW:
        start, length = preview_window(source.duration, preview_start)
        return _Aac(kind, path, source, PREVIEW_BITRATE, _Window(source.stream_rate, start, length))
    if kind == JobType.WAVEFORM:
        return _Waveform(path, source)
    raise ValueError(f"not a rendition: {kind}")


def preview_window(duration: float, preview_start: float | None) -> tuple[float, float]:
    """(start, length) of the preview: 30 s from ``preview_start`` (default a third of the
    way in, 0 for a track of a minute or less), kept inside the track."""
    length = min(PREVIEW_SECONDS, duration) if duration > 0 else PREVIEW_SECONDS
    if preview_start is None:
        preview_start = 0.0 if duration <= SHORT_TRACK_SECONDS else duration / 3
    start = max(0.0, min(preview_start, duration - length)) if duration > 0 else 0.0
    return start, length


@dataclass
class _Window:
    """The preview's samples of the stream-rate signal, faded in and out."""

    rate: int
    start_seconds: float
    length_seconds: float
    offset: int = 0  # samples of the signal seen so far

    def __post_init__(self) -> None:
        self.first = round(self.start_seconds * self.rate)
        self.count = max(1, round(self.length_seconds * self.rate))
        self.fade = max(1, min(int(FADE_SECONDS * self.rate), self.count // 2))

    def cut(self, samples: np.ndarray) -> np.ndarray | None:
        n = samples.shape[1]
        lo, hi = max(self.first - self.offset, 0), min(self.first + self.count - self.offset, n)
        begin = self.offset + lo - self.first  # position in the preview of the first kept
        self.offset += n
        if hi <= lo:
            return None
        kept = samples[:, lo:hi].astype(np.float32, copy=True)
        return kept * self._gain(begin, hi - lo)

    def _gain(self, begin: int, n: int) -> np.ndarray:
        positions = np.arange(begin, begin + n, dtype=np.float64)
        fade_in = np.clip((positions + 1) / self.fade, 0.0, 1.0)
        fade_out = np.clip((self.count - positions) / self.fade, 0.0, 1.0)
        return np.minimum(fade_in, fade_out).astype(np.float32)


class _Aac(_Output):
    """AAC-LC in an MP4 container (.m4a), moov atom first so players can start at once."""

    def __init__(
        self,
        kind: JobType,
        path: Path,
        source: _Source,
        bit_rate: int,
        window: _Window | None = None,
    ) -> None:
        self.kind, self.path, self.window = kind, path, window
        self.rate, self.layout = source.stream_rate, source.layout
        self.written = 0
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.stream = self.container.add_stream("aac", rate=self.rate, layout=self.layout)
        self.stream.bit_rate = bit_rate
        self.closed = False

    def feed(self, samples: np.ndarray) -> None:
        if self.window is not None:
            cut = self.window.cut(samples)
            if cut is None:
                return
            samples = cut
        frame = AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=self.layout
        )
        frame.sample_rate = self.rate
        frame.pts = self.written
        self.written += samples.shape[1]
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        finally:
            self.container.close()


class _Waveform(_Output):
    """Peaks of the mono mix, in the BBC audiowaveform data format (version 2, 8 bits)."""

    def __init__(self, path: Path, source: _Source) -> None:
        self.kind, self.path = JobType.WAVEFORM, path
        self.rate = source.sample_rate
        expected = max(1, int(source.duration * source.sample_rate))
        self.fine = max(1, expected // WAVEFORM_FINE)  # samples per fine bin
        self.mins: list[float] = []
        self.maxs: list[float] = []
        self.carry = np.zeros(0, dtype=np.float32)
        self.closed = False

    def feed(self, samples: np.ndarray) -> None:
        mono = samples.mean(axis=0, dtype=np.float32)
        joined = np.concatenate((self.carry, mono)) if self.carry.size else mono
        whole = joined.size - joined.size % self.fine
        if whole:
            bins = joined[:whole].reshape(-1, self.fine)
            self.mins.extend(bins.min(axis=1).tolist())
            self.maxs.extend(bins.max(axis=1).tolist())
        self.carry = joined[whole:].copy()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.carry.size:
            self.mins.append(float(self.carry.min()))
            self.maxs.append(float(self.carry.max()))
        self.path.write_text(json.dumps(self.document(), separators=(",", ":")))

    def document(self) -> dict[str, Any]:
        merge = max(1, math.ceil(len(self.mins) / WAVEFORM_POINTS))
        mins = [min(self.mins[i : i + merge]) for i in range(0, len(self.mins), merge)]
        maxs = [max(self.maxs[i : i + merge]) for i in range(0, len(self.maxs), merge)]
        data: list[int] = []
        for low, high in zip(mins, maxs, strict=True):
            data += [_eight_bits(low), _eight_bits(high)]
        return {
            "version": 2,
            "channels": 1,
            "sample_rate": self.rate,
            "samples_per_pixel": self.fine * merge,
            "bits": 8,
            "length": len(mins),
            "data": data,
        }


def _eight_bits(value: float) -> int:
    return max(-128, min(127, round(value * 127)))


# --- files ---------------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
