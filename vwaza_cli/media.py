"""Audio and cover-art checks: the one module that calls mutagen, soundfile, PyAV and Pillow.

Headers lie: a truncated file keeps the duration its header claims. So a file is accepted only
after its audio has been decoded to the end and the decoded length agrees with the header's.

- mutagen decides the format from the file's content (never its name) and reads the header.
- libsndfile (python-soundfile) decodes WAV, AIFF and FLAC: libFLAC checks every frame's CRC,
  where FFmpeg's FLAC decoder quietly drops damaged frames.
- FFmpeg (PyAV) decodes MP3, M4A (AAC, ALAC), Ogg Vorbis and Opus: it is the only decoder here
  for M4A; it drops damaged Ogg pages (so the length check sees them) where libvorbis/libopus
  behind libsndfile conceal them; it decodes valid MP3s libsndfile's mpg123 refuses, without
  mpg123's chatter on stderr; and it is two to three times faster on lossy audio.

The third-party modules are imported inside the functions so that importing this module (and
so ``vwaza --help``) stays fast.
"""

from __future__ import annotations

import math
import os
import stat
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from vwaza_cli.errors import InvalidMedia
from vwaza_cli.textsafe import printable

MIN_SAMPLE_RATE = 44_100
COVER_MIN_SIDE = 1000
COVER_ASKED_SIDE = 3000
COVER_MAX_BYTES = 20_000_000
AUDIO_MAX_BYTES = 8 * 1024**3
DECODE_BLOCK_FRAMES = 65_536
AV_FRAMES_A_TICK = 64  # decoded frames between two looks at how far FFmpeg has read
ACCEPTED_AUDIO = "WAV, FLAC, AIFF, M4A (AAC or ALAC), MP3, Ogg Vorbis, Opus"

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    RuntimeError,
    ValueError,
    IndexError,
    KeyError,
    struct.error,
    ArithmeticError,
)


def _decode_errors(*more: type[Exception]) -> tuple[type[Exception], ...]:
    """A library's own errors with ``_DECODE_ERRORS``, as one tuple: mypy cannot read a
    starred tuple written inside an ``except`` clause as exception classes."""
    return (*more, *_DECODE_ERRORS)


@dataclass(frozen=True)
class AudioInfo:
    format: str
    duration: float
    sample_rate: int | None
    channels: int | None
    lossy: bool
    content_type: str
    extension: str
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    size_bytes: int
    content_type: str
    extension: str
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _AudioFormat:
    name: str
    content_type: str
    extension: str
    decoder: str  # "soundfile" or "av"
    av_format: str | None = None
    slack: float | None = None  # seconds decoded and header lengths may differ; None: no frame


@dataclass(frozen=True)
class _Probe:
    """What the header says, before any audio is decoded."""

    fmt: _AudioFormat
    codec: str
    lossy: bool
    header_seconds: float | None  # None: the header holds no length, only an estimate


@dataclass(frozen=True)
class _Decoded:
    seconds: float
    sample_rate: int
    channels: int


# Keyed by the mutagen class that recognised the content. Lossless headers count every sample;
# lossy ones may count encoder delay and padding (up to ~0.1 s) that the decoder drops.
_AUDIO_FORMATS: dict[str, _AudioFormat] = {
    "WAVE": _AudioFormat("wav", "audio/wav", "wav", "soundfile"),
    "FLAC": _AudioFormat("flac", "audio/flac", "flac", "soundfile"),
    "AIFF": _AudioFormat("aiff", "audio/aiff", "aif", "soundfile"),
    "MP4": _AudioFormat("m4a", "audio/mp4", "m4a", "av", "mov", 0.2),
    "MP3": _AudioFormat("mp3", "audio/mpeg", "mp3", "av", "mp3", 0.2),
    "OggVorbis": _AudioFormat("ogg", "audio/ogg", "ogg", "av", "ogg", 0.2),
    "OggOpus": _AudioFormat("opus", "audio/opus", "opus", "av", "ogg", 0.2),
}
_SOUNDFILE_CONTAINERS = {"wav": {"WAV", "WAVEX"}, "aiff": {"AIFF"}, "flac": {"FLAC"}}
_PCM_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}
_OTHER_FORMAT_LABELS = {
    "ASF": "ASF/WMA",
    "AAC": "raw AAC stream (not in an M4A container)",
    "AC3": "AC-3",
    "APEv2File": "APEv2 tag without audio",
    "DSDIFF": "DSD (DSDIFF)",
    "DSF": "DSD (DSF)",
    "ID3FileType": "ID3 tag without audio",
    "MonkeysAudio": "Monkey's Audio",
    "OggFLAC": "FLAC in Ogg",
    "OggSpeex": "Ogg Speex",
    "OggTheora": "Ogg Theora video",
    "SMF": "MIDI",
}


OnBytes = Callable[[int], None]  # bytes of the file done since the last call


class _ReadProgress:
    """How far a decoder has read into the file, said as byte counts: called after each
    block decoded, and once at the end with the rest, so that the counts sum to the size."""

    def __init__(self, fd: int, size: int, on_bytes: OnBytes | None) -> None:
        self.fd, self.size, self.on_bytes = fd, size, on_bytes
        self.reported = 0

    def tick(self) -> None:
        if self.on_bytes is not None:
            self._report_up_to(os.lseek(self.fd, 0, os.SEEK_CUR))

    def finish(self) -> None:
        if self.on_bytes is not None:
            self._report_up_to(self.size)

    def _report_up_to(self, position: int) -> None:
        position = min(position, self.size)
        if position > self.reported and self.on_bytes is not None:
            self.on_bytes(position - self.reported)
            self.reported = position


class _Unusable(Exception):
    """A reason to refuse, raised below the public functions, which add the file's name."""


# --- names ------------------------------------------------------------------------------------


def display_name(path: Path) -> str:
    """The path as the user gave it, on one line, with control and format characters escaped.

    Bytes that are not UTF-8 (kept by Python as lone surrogates) come out as ``\\xNN``, so the
    result can always be printed.
    """
    return printable(os.fspath(path))


def _one_line(text: object, limit: int = 120) -> str:
    """A third party's message, made safe to quote in ours."""
    flat = " ".join(str(text).split())
    return printable(flat[:limit]) if flat else "no detail"


def _refuse(path: Path, reason: str) -> InvalidMedia:
    return InvalidMedia(f"{display_name(path)}: {reason}")


# --- opening ----------------------------------------------------------------------------------


@contextmanager
def _open_media(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """Open a regular, non-empty file once; every reader then works on this one handle.

    O_NONBLOCK keeps a FIFO from hanging the open; the type is then checked on the open
    descriptor, so the file cannot be swapped between the check and the read.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _Unusable(_open_error_reason(exc)) from None
    try:
        size = _regular_file_size(fd)
    except _Unusable:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        yield handle, size


def _regular_file_size(fd: int) -> int:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise _Unusable("is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise _Unusable("not a regular file")
    if info.st_size == 0:
        raise _Unusable("empty file (0 bytes)")
    return info.st_size


def _open_error_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "cannot be read (permission denied)"
    return f"cannot be read ({exc.strerror or type(exc).__name__})"


# --- audio ------------------------------------------------------------------------------------


def inspect_audio(path: Path, on_bytes: OnBytes | None = None) -> AudioInfo:
    """Identify the audio in ``path`` by content, decode it through, and describe it;
    ``on_bytes`` is told how many bytes each step of the decoding got through.

    Raises InvalidMedia("<name>: <reason>") for anything the media rules refuse.
    """
    try:
        with _open_media(path) as (handle, size):
            probe = _probe_audio(handle)
            progress = _ReadProgress(handle.fileno(), size, on_bytes)
            decoded = _decode(handle, probe, progress.tick)
        _check_length(probe, decoded)
        progress.finish()
    except _Unusable as exc:
        raise _refuse(path, str(exc)) from None
    return _audio_info(probe, decoded)


def _probe_audio(handle: IO[bytes]) -> _Probe:
    found = _mutagen_file(handle)
    kind = type(found).__name__
    fmt = _AUDIO_FORMATS.get(kind)
    if fmt is None:
        label = _OTHER_FORMAT_LABELS.get(kind, kind)
        raise _Unusable(f"unsupported format ({label}); accepted: {ACCEPTED_AUDIO}")
    codec, lossy = _codec(fmt, found.info)
    header_seconds = _header_seconds(handle, fmt, found.info)
    if fmt.name in ("ogg", "opus"):
        _check_ogg_end(handle, found.info.serial)
    return _Probe(fmt, codec, lossy, header_seconds)


def _mutagen_file(handle: IO[bytes]) -> Any:
    """mutagen's guess from content alone: the handle's name is a descriptor number, so the
    file name's extension (which mutagen would otherwise score) plays no part."""
    import mutagen

    handle.seek(0)
    try:
        found = _by_magic(handle)
        if found is None:  # not `or`: a file without tags is falsy
            found = mutagen.File(handle)
        if found is None:
            found = _mpeg_stream(handle)
    except _decode_errors(mutagen.MutagenError) as exc:
        raise _Unusable(f"truncated or damaged header ({_one_line(exc)})") from None
    if found is None:
        raise _Unusable(f"not a recognised audio file; accepted: {ACCEPTED_AUDIO}")
    return found


def _by_magic(handle: IO[bytes]) -> Any:
    """WAV and FLAC, known by their first bytes: mutagen.File would first score every format
    it knows, which costs as much as reading a small WAV's header and data chunks."""
    head = handle.read(12)
    handle.seek(0)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        from mutagen.wave import WAVE

        return WAVE(handle)
    if head[:4] == b"fLaC":
        from mutagen.flac import FLAC

        return FLAC(handle)
    return None


def _mpeg_stream(handle: IO[bytes]) -> Any:
    """A bare MPEG audio stream mutagen's content score misses: MPEG-2.5 MP3 and ADTS AAC
    start with frame syncs it only credits when the file name says .mp3 or .aac."""
    from mutagen.aac import AAC
    from mutagen.mp3 import MP3

    handle.seek(0)
    start = handle.read(2)
    if len(start) < 2 or start[0] != 0xFF or start[1] & 0xE0 != 0xE0:
        return None
    handle.seek(0)
    layer_bits = start[1] & 0x06
    return MP3(handle) if layer_bits else AAC(handle)


def _codec(fmt: _AudioFormat, info: Any) -> tuple[str, bool]:
    """The codec inside the container, and whether it is lossy."""
    if fmt.name == "mp3":
        if info.layer != 3:
            raise _Unusable(f"MPEG layer {info.layer} audio; only MP3 (layer III) is accepted")
        return "mp3", True
    if fmt.name == "m4a":
        return _mp4_codec(info.codec)
    lossy_codecs = {"ogg": "vorbis", "opus": "opus"}
    if fmt.name in lossy_codecs:
        return lossy_codecs[fmt.name], True
    return fmt.name, False


def _mp4_codec(codec: str) -> tuple[str, bool]:
    if codec == "alac":
        return "alac", False
    if codec.startswith("mp4a.40."):
        return "aac", True
    raise _Unusable(f"MP4 holding {_one_line(codec)}; M4A must hold AAC or ALAC")


def _header_seconds(handle: IO[bytes], fmt: _AudioFormat, info: Any) -> float | None:
    if fmt.name == "mp3" and not _mp3_has_frame_count(handle, info):
        return None
    length = info.length
    if not (isinstance(length, float | int) and math.isfinite(length) and length > 0):
        raise _Unusable(
            f"zero or unknown duration in its header ({_one_line(length)} s): "
            "the file is empty, truncated or damaged"
        )
    return float(length)


def _mp3_has_frame_count(handle: IO[bytes], info: Any) -> bool:
    """Whether a Xing/Info/VBRI header gives the frame count. Without one, mutagen's length is
    an estimate from the file size, which truncation shrinks too: there is nothing to check."""
    offset = getattr(info, "frame_offset", None)
    if not isinstance(offset, int):
        return True
    handle.seek(offset)
    first_frame = handle.read(200)
    return any(marker in first_frame for marker in (b"Xing", b"Info", b"VBRI"))


def _check_ogg_end(handle: IO[bytes], serial: int) -> None:
    """An Ogg stream ends with a page flagged end-of-stream. A cut file has lengths that agree
    (the last surviving page carries the length), so only this flag shows the cut."""
    from mutagen.ogg import OggPage, error

    handle.seek(0)
    try:
        last = OggPage.find_last(handle, serial)
    except _decode_errors(error):
        last = None
    if last is None or not last.last:
        raise _Unusable("truncated: the Ogg stream has no end-of-stream page")


def _decode(handle: IO[bytes], probe: _Probe, tick: Callable[[], None]) -> _Decoded:
    header = probe.header_seconds
    limit = None if header is None else header + (probe.fmt.slack or 0.01)
    if probe.fmt.decoder == "soundfile":
        return _decode_with_soundfile(handle, probe.fmt, limit, tick)
    return _decode_with_av(handle, probe.fmt, limit, tick)


def _decode_with_soundfile(
    handle: IO[bytes], fmt: _AudioFormat, limit: float | None, tick: Callable[[], None]
) -> _Decoded:
    import soundfile

    # libsndfile reads the descriptor itself: through the file object it would call back
    # into Python (taking the GIL) for every read, seek and tell.
    fd = handle.fileno()
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        with soundfile.SoundFile(fd, closefd=False) as sound:
            _check_soundfile_encoding(fmt, sound.format, sound.subtype)
            frames = _count_soundfile_frames(sound, limit, tick)
            return _Decoded(frames / sound.samplerate, sound.samplerate, sound.channels)
    except soundfile.LibsndfileError as exc:
        raise _Unusable(_damaged(exc.error_string)) from None
    except _DECODE_ERRORS as exc:
        raise _Unusable(_damaged(exc)) from None


def _check_soundfile_encoding(fmt: _AudioFormat, container: str, subtype: str) -> None:
    if container not in _SOUNDFILE_CONTAINERS[fmt.name]:
        raise _Unusable(f"the decoder reads this {fmt.name.upper()} file as {container}")
    if subtype not in _PCM_SUBTYPES and fmt.name != "flac":
        raise _Unusable(f"{fmt.name.upper()} holding {subtype} audio; only PCM is accepted")


def _count_soundfile_frames(sound: Any, limit: float | None, tick: Callable[[], None]) -> int:
    """Decode block by block into one reused buffer, so memory stays flat."""
    import numpy

    buffer = numpy.empty((DECODE_BLOCK_FRAMES, sound.channels), dtype=numpy.int32)
    max_frames = math.inf if limit is None else limit * sound.samplerate
    frames = 0
    while frames <= max_frames:
        read = len(sound.read(DECODE_BLOCK_FRAMES, dtype="int32", out=buffer))
        frames += read
        tick()
        if read < DECODE_BLOCK_FRAMES:
            break
    return frames


def _decode_with_av(
    handle: IO[bytes], fmt: _AudioFormat, limit: float | None, tick: Callable[[], None]
) -> _Decoded:
    import av

    handle.seek(0)
    try:
        with av.open(handle, format=fmt.av_format, metadata_errors="replace") as container:
            stream = _audio_stream(container)
            return _count_av_seconds(container, stream, limit, tick)
    except av.FFmpegError as exc:
        raise _Unusable(_damaged(exc.strerror or exc)) from None
    except _DECODE_ERRORS as exc:
        raise _Unusable(_damaged(exc)) from None


def _audio_stream(container: Any) -> Any:
    import av.stream

    attached_pic = av.stream.Disposition.attached_pic
    if any(not stream.disposition & attached_pic for stream in container.streams.video):
        raise _Unusable("contains video; only audio files are accepted")
    if not container.streams.audio:
        raise _Unusable("no audio stream")
    return container.streams.audio[0]


def _count_av_seconds(
    container: Any, stream: Any, limit: float | None, tick: Callable[[], None]
) -> _Decoded:
    seconds, rate, channels = 0.0, stream.codec_context.sample_rate, stream.codec_context.channels
    for count, frame in enumerate(container.decode(stream)):
        if count % AV_FRAMES_A_TICK == 0:
            tick()
        seconds += frame.samples / frame.sample_rate
        rate, channels = frame.sample_rate, frame.layout.nb_channels
        if limit is not None and seconds > limit:
            break
    return _Decoded(seconds, rate, channels)


def _damaged(detail: object) -> str:
    return f"audio data is truncated or damaged ({_one_line(detail)})"


def _check_length(probe: _Probe, decoded: _Decoded) -> None:
    if decoded.seconds <= 0:
        raise _Unusable("no audio could be decoded (zero duration)")
    header = probe.header_seconds
    # Lossless: a partial frame left by a sloppy writer is tolerated, a missing frame is not.
    slack = probe.fmt.slack or 0.999 / decoded.sample_rate
    if header is None or abs(decoded.seconds - header) < slack:
        return
    if decoded.seconds < header:
        raise _Unusable(
            f"truncated or damaged: the header says {header:.3f} s "
            f"but only {decoded.seconds:.3f} s of audio could be decoded"
        )
    raise _Unusable(
        f"damaged header: it says {header:.3f} s but {decoded.seconds:.3f} s of audio decoded"
    )


def _audio_info(probe: _Probe, decoded: _Decoded) -> AudioInfo:
    # Opus always decodes at 48 kHz whatever the source was: it has no rate of its own.
    rate = None if probe.fmt.name == "opus" else decoded.sample_rate
    return AudioInfo(
        format=probe.fmt.name,
        duration=round(decoded.seconds, 6),  # frame by frame sums drift in the 11th digit
        sample_rate=rate,
        channels=decoded.channels,
        lossy=probe.lossy,
        content_type=probe.fmt.content_type,
        extension=probe.fmt.extension,
        warnings=_audio_warnings(probe, rate),
    )


def _audio_warnings(probe: _Probe, rate: int | None) -> tuple[str, ...]:
    found = []
    if probe.lossy:
        found.append(f"lossy format ({probe.codec}): stores prefer lossless masters")
    if rate is not None and rate < MIN_SAMPLE_RATE:
        found.append(f"sample rate {rate} Hz is below 44.1 kHz")
    return tuple(found)


# --- cover art --------------------------------------------------------------------------------

_IMAGE_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png"}  # MPO: a JPEG with extra frames


def inspect_image(path: Path, on_bytes: OnBytes | None = None) -> ImageInfo:
    """Check cover art: JPEG or PNG, RGB, square, 1000 px or more, 20 MB at most, intact;
    ``on_bytes`` is told the file's size once it is checked (a cover takes a moment).

    Raises InvalidMedia("<name>: <reason>") for anything the media rules refuse.
    """
    try:
        with _open_media(path) as (handle, size):
            _check_image_size(size)
            fmt, width, height = _check_image(handle)
    except _Unusable as exc:
        raise _refuse(path, str(exc)) from None
    if on_bytes is not None:
        on_bytes(size)
    return ImageInfo(
        format=fmt,
        width=width,
        height=height,
        size_bytes=size,
        content_type=f"image/{fmt}",
        extension="jpg" if fmt == "jpeg" else fmt,
        warnings=_image_warnings(width),
    )


def _check_image_size(size: int) -> None:
    if size > COVER_MAX_BYTES:
        raise _Unusable(f"too big ({size / 1e6:.1f} MB); cover art may be at most 20 MB")


def _check_image(handle: IO[bytes]) -> tuple[str, int, int]:
    from PIL import Image

    # Pillow warns about decompression bombs (and odd metadata); a bomb must refuse the file,
    # and nothing may print on the user's terminal.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _read_image(handle)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _Unusable("too big (too many pixels to decode safely)") from None
        except _decode_errors(SyntaxError) as exc:
            raise _Unusable(_image_error(exc)) from None


def _read_image(handle: IO[bytes]) -> tuple[str, int, int]:
    from PIL import Image

    handle.seek(0)
    with Image.open(handle) as image:
        fmt = _image_format(image.format)
        _check_image_shape(image.mode, image.width, image.height)
        image.verify()
    handle.seek(0)
    with Image.open(handle) as image:  # verify() leaves the image unusable: open it again
        width, height = image.size
        if fmt == "jpeg":
            # Every byte is still entropy-decoded, so a cut or damaged file is refused as
            # before; pixels come out at 1/8 scale, a third of the work for a 1000 px cover.
            image.draft("RGB", (width // 8, height // 8))
        image.load()
        return fmt, width, height


def _image_error(exc: Exception) -> str:
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "not an image; cover art must be JPEG or PNG"
    return f"image data is truncated or damaged ({_one_line(exc)})"


def _image_format(pillow_format: str | None) -> str:
    fmt = _IMAGE_FORMATS.get(pillow_format or "")
    if fmt is None:
        raise _Unusable(f"wrong format ({pillow_format}); cover art must be JPEG or PNG")
    return fmt


def _check_image_shape(mode: str, width: int, height: int) -> None:
    if mode == "CMYK":
        raise _Unusable("CMYK colour; cover art must be RGB")
    if mode != "RGB":
        raise _Unusable(f"colour mode {mode}; cover art must be RGB")
    if width != height:
        raise _Unusable(f"not square ({width} x {height} px)")
    if width < COVER_MIN_SIDE:
        raise _Unusable(f"too small ({width} x {height} px); at least 1000 x 1000 px")


def _image_warnings(side: int) -> tuple[str, ...]:
    if side >= COVER_ASKED_SIDE:
        return ()
    return (f"cover is {side} x {side} px; Apple Music asks for 3000 x 3000",)
