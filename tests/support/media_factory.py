"""Generate real test media into a folder: audio through soundfile and PyAV, images through Pillow.

Each maker writes one small, genuine file (a tone with a little noise, so lossy encoders have
something to encode) and returns its path. Nothing here is committed: tests write into tmp_path.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image


def tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    """A 440 Hz tone with a little noise, shaped (frames, channels), float32 in [-1, 1]."""
    frames = round(seconds * rate)
    t = np.arange(frames, dtype=np.float64) / rate
    wave = 0.3 * np.sin(2 * np.pi * 440.0 * t)
    noise = np.random.default_rng(7).normal(0.0, 0.01, size=(frames, channels))
    return (wave[:, None] + noise).astype(np.float32)


def make_soundfile(
    path: Path,
    fmt: str,
    subtype: str,
    seconds: float = 1.0,
    rate: int = 44100,
    channels: int = 2,
) -> Path:
    """Any container and encoding libsndfile writes (``sf.available_formats()``)."""
    # Written in blocks: libsndfile's Vorbis/Opus encoders crash on one large write.
    samples = tone(seconds, rate, channels)
    with sf.SoundFile(str(path), "w", rate, channels, subtype, format=fmt) as out:
        for start in range(0, len(samples), 4096):
            out.write(samples[start : start + 4096])
    return path


def make_wav(path: Path, seconds: float = 1.0, rate: int = 44100, channels: int = 2) -> Path:
    return make_soundfile(path, "WAV", "PCM_16", seconds, rate, channels)


def make_flac(path: Path, seconds: float = 1.0, rate: int = 44100, channels: int = 2) -> Path:
    return make_soundfile(path, "FLAC", "PCM_16", seconds, rate, channels)


def make_aiff(path: Path, seconds: float = 1.0, rate: int = 44100, channels: int = 2) -> Path:
    return make_soundfile(path, "AIFF", "PCM_16", seconds, rate, channels)


def make_ogg(path: Path, seconds: float = 1.0, rate: int = 44100, channels: int = 2) -> Path:
    return make_soundfile(path, "OGG", "VORBIS", seconds, rate, channels)


def make_opus(path: Path, seconds: float = 1.0, rate: int = 48000, channels: int = 2) -> Path:
    """Ogg Opus. libopus encodes at 8, 12, 16, 24 or 48 kHz only."""
    return make_soundfile(path, "OGG", "OPUS", seconds, rate, channels)


def make_mp3(
    path: Path, seconds: float = 1.0, rate: int = 44100, channels: int = 2, xing: bool = True
) -> Path:
    """MP3 through PyAV's LAME. With xing=True (as encoders do) an Info header holds the frame
    count; without it the only length is an estimate from the file size."""
    options = {} if xing else {"write_xing": "0"}
    return _encode_av(path, "mp3", "libmp3lame", seconds, rate, channels, options)


def make_mp2(path: Path, seconds: float = 1.0, rate: int = 44100, channels: int = 2) -> Path:
    """MPEG-1 layer II: an MPEG audio stream that is not MP3."""
    return _encode_av(path, "mp2", "mp2", seconds, rate, channels)


def make_m4a(
    path: Path,
    seconds: float = 1.0,
    rate: int = 44100,
    channels: int = 2,
    codec: str = "aac",
    faststart: bool = False,
) -> Path:
    """AAC (codec="aac") or Apple Lossless (codec="alac") in an M4A (ipod) container.

    faststart=True puts the moov atom first, so a truncated copy keeps its index and
    loses only audio data (the hard case for a validator).
    """
    options = {"movflags": "+faststart"} if faststart else {}
    return _encode_av(path, "ipod", codec, seconds, rate, channels, options)


def _encode_av(
    path: Path,
    container_format: str,
    codec: str,
    seconds: float,
    rate: int,
    channels: int,
    options: dict[str, str] | None = None,
) -> Path:
    samples = tone(seconds, rate, channels)
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w", format=container_format, options=options or {}) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        sample_format = stream.codec_context.codec.audio_formats[0].name
        for frame in _frames(samples, rate, layout, sample_format, 1024):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _frames(samples: np.ndarray, rate: int, layout: str, sample_format: str, size: int):
    """Yield av.AudioFrame blocks of ``size`` samples in the encoder's sample format."""
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
    for start in range(0, len(samples), size):
        block = np.ascontiguousarray(samples[start : start + size].T)
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        yield from resampler.resample(frame)
    yield from resampler.resample(None)


def make_video_mp4(path: Path, seconds: float = 1.0) -> Path:
    """An MP4 holding a small MPEG-4 video track and an AAC audio track."""
    rate = 44100
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = out.add_stream("aac", rate=rate, layout="stereo")
        for index in range(round(seconds * 10)):
            picture = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            picture.pts = index
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        for frame in _frames(tone(seconds, rate, 2), rate, "stereo", "fltp", 1024):
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def make_cover(
    path: Path, size: int | tuple[int, int] = 1000, mode: str = "RGB", fmt: str = "JPEG"
) -> Path:
    """A cover image: a gradient (so JPEG/PNG compress to a realistic size) in any Pillow mode."""
    width, height = (size, size) if isinstance(size, int) else size
    gradient = Image.linear_gradient("L")
    turns = (None, Image.Transpose.ROTATE_90, Image.Transpose.FLIP_TOP_BOTTOM)
    bands = [
        (gradient.transpose(turn) if turn else gradient).resize((width, height)) for turn in turns
    ]
    Image.merge("RGB", bands).convert(mode).save(path, format=fmt)
    return path


def truncate(path: Path, keep_fraction: float) -> Path:
    """Cut the file to ``keep_fraction`` of its bytes, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path
