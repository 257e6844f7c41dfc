"""Media rules (shared/spec/catalog.md): audio and cover art accepted or refused by content."""

from __future__ import annotations

import csv
import errno
import functools
import os
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import media_factory as make
from vwaza_cli.errors import InvalidMedia
from vwaza_cli.media import AudioInfo, ImageInfo, display_name, inspect_audio, inspect_image

LOSSY_WARNING = "lossy format ({}): stores prefer lossless masters"

make_alac = functools.partial(make.make_m4a, codec="alac")
make_m4a_faststart = functools.partial(make.make_m4a, faststart=True)
make_alac_faststart = functools.partial(make.make_m4a, codec="alac", faststart=True)


def refusal(path: Path, inspect: Callable[[Path], object] = inspect_audio) -> str:
    """The refusal message, after checking it is one line naming the file."""
    with pytest.raises(InvalidMedia) as caught:
        inspect(path)
    message = caught.value.message
    assert caught.value.exit_code == 6
    assert "\n" not in message
    assert "\r" not in message
    assert message.startswith(f"{display_name(path)}: ")
    return message.removeprefix(f"{display_name(path)}: ")


# --- accepted audio ---------------------------------------------------------------------------

ACCEPTED = [
    pytest.param(make.make_wav, "wav", "audio/wav", "wav", None, id="wav"),
    pytest.param(make.make_flac, "flac", "audio/flac", "flac", None, id="flac"),
    pytest.param(make.make_aiff, "aiff", "audio/aiff", "aif", None, id="aiff"),
    pytest.param(make.make_m4a, "m4a", "audio/mp4", "m4a", "aac", id="m4a-aac"),
    pytest.param(make_alac, "m4a", "audio/mp4", "m4a", None, id="m4a-alac"),
    pytest.param(make.make_mp3, "mp3", "audio/mpeg", "mp3", "mp3", id="mp3"),
    pytest.param(make.make_ogg, "ogg", "audio/ogg", "ogg", "vorbis", id="ogg-vorbis"),
    pytest.param(make.make_opus, "opus", "audio/opus", "opus", "opus", id="opus"),
]


@pytest.mark.parametrize(("maker", "fmt", "content_type", "extension", "lossy_codec"), ACCEPTED)
def test_accepted_format_is_described_from_its_content(
    tmp_path: Path,
    maker: Callable[..., Path],
    fmt: str,
    content_type: str,
    extension: str,
    lossy_codec: str | None,
) -> None:
    info = inspect_audio(maker(tmp_path / "track.bin", seconds=2.0))

    assert info.format == fmt
    assert info.duration == pytest.approx(2.0, abs=0.03)
    assert info.channels == 2
    assert info.content_type == content_type
    assert info.extension == extension
    assert info.lossy is (lossy_codec is not None)
    expected = (LOSSY_WARNING.format(lossy_codec),) if lossy_codec else ()
    assert info.warnings == expected


def test_lossless_at_cd_rate_has_no_warning(tmp_path: Path) -> None:
    info = inspect_audio(make.make_flac(tmp_path / "master.flac", seconds=1.0))

    assert info == AudioInfo("flac", 1.0, 44100, 2, False, "audio/flac", "flac", ())


@pytest.mark.parametrize(
    "maker", [make.make_wav, make.make_flac, make.make_aiff], ids=["wav", "flac", "aiff"]
)
def test_low_sample_rate_is_accepted_with_a_warning(
    tmp_path: Path, maker: Callable[..., Path]
) -> None:
    info = inspect_audio(maker(tmp_path / "low", seconds=1.0, rate=22050, channels=1))

    assert info.sample_rate == 22050
    assert info.channels == 1
    assert info.warnings == ("sample rate 22050 Hz is below 44.1 kHz",)


def test_low_rate_mp3_carries_both_warnings(tmp_path: Path) -> None:
    info = inspect_audio(make.make_mp3(tmp_path / "low.mp3", rate=22050))

    assert info.warnings == (
        LOSSY_WARNING.format("mp3"),
        "sample rate 22050 Hz is below 44.1 kHz",
    )


def test_opus_has_no_sample_rate_of_its_own(tmp_path: Path) -> None:
    info = inspect_audio(make.make_opus(tmp_path / "a.opus"))

    assert info.sample_rate is None
    assert info.warnings == (LOSSY_WARNING.format("opus"),)


@pytest.mark.parametrize(
    ("maker", "name", "fmt"),
    [
        (make.make_flac, "really-flac.mp3", "flac"),
        (make.make_wav, "no-extension", "wav"),
        (make.make_mp3, "song.WAV", "mp3"),
        (make.make_m4a, "song.flac", "m4a"),
    ],
)
def test_format_comes_from_content_not_extension(
    tmp_path: Path, maker: Callable[..., Path], name: str, fmt: str
) -> None:
    assert inspect_audio(maker(tmp_path / name)).format == fmt


def test_long_file_duration_is_read_through(tmp_path: Path) -> None:
    info = inspect_audio(make.make_flac(tmp_path / "long.flac", seconds=30.0))

    assert info.duration == pytest.approx(30.0, abs=1e-6)


# --- truncated and damaged audio --------------------------------------------------------------

TRUNCATABLE = [
    pytest.param(make.make_wav, id="wav"),
    pytest.param(make.make_flac, id="flac"),
    pytest.param(make.make_aiff, id="aiff"),
    pytest.param(make.make_m4a, id="m4a-aac"),
    pytest.param(make_m4a_faststart, id="m4a-aac-moov-first"),
    pytest.param(make_alac, id="m4a-alac"),
    pytest.param(make_alac_faststart, id="m4a-alac-moov-first"),
    pytest.param(make.make_mp3, id="mp3"),
    pytest.param(make.make_ogg, id="ogg-vorbis"),
    pytest.param(make.make_opus, id="opus"),
]


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.9])
@pytest.mark.parametrize("maker", TRUNCATABLE)
def test_truncated_file_of_every_accepted_format_is_refused(
    tmp_path: Path, maker: Callable[..., Path], keep: float
) -> None:
    path = make.truncate(maker(tmp_path / "cut", seconds=3.0), keep)

    assert "truncated" in refusal(path)


@pytest.mark.parametrize(
    "maker",
    [make.make_wav, make.make_flac, make.make_aiff, make.make_ogg, make.make_opus, make_alac],
    ids=["wav", "flac", "aiff", "ogg-vorbis", "opus", "m4a-alac"],
)
def test_losing_the_last_percent_is_refused(tmp_path: Path, maker: Callable[..., Path]) -> None:
    path = make.truncate(maker(tmp_path / "cut", seconds=3.0), 0.99)

    assert "truncated" in refusal(path)


def test_wav_losing_a_single_frame_is_refused(tmp_path: Path) -> None:
    path = make.make_wav(tmp_path / "a.wav")
    path.write_bytes(path.read_bytes()[:-4])

    assert refusal(path).startswith("truncated or damaged: the header says 1.000 s")


def test_cut_mp3_without_a_frame_count_cannot_be_told_from_a_short_one(tmp_path: Path) -> None:
    # No Xing/Info/VBRI header: the header's length is a size estimate that shrinks with the
    # cut, so the file is accepted at the length it decodes to. A known limit, kept visible.
    path = make.truncate(make.make_mp3(tmp_path / "a.mp3", seconds=3.0, xing=False), 0.5)

    assert inspect_audio(path).duration == pytest.approx(1.5, abs=0.05)


def test_cut_ogg_page_is_refused_even_though_lengths_agree(tmp_path: Path) -> None:
    path = make.truncate(make.make_ogg(tmp_path / "a.ogg", seconds=3.0), 0.7)

    assert refusal(path) == "truncated: the Ogg stream has no end-of-stream page"


def test_corrupt_flac_frame_is_refused(tmp_path: Path) -> None:
    path = make.make_flac(tmp_path / "a.flac", seconds=3.0)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))

    assert "truncated or damaged" in refusal(path)


def test_decoding_damage_prints_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = make.make_mp3(tmp_path / "a.mp3", seconds=3.0)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(4096)
    path.write_bytes(bytes(data))

    refusal(path)

    assert capfd.readouterr() == ("", "")


def _patch(path: Path, marker: bytes, offset: int, value: bytes) -> Path:
    data = bytearray(path.read_bytes())
    at = data.index(marker) + offset
    data[at : at + len(value)] = value
    path.write_bytes(bytes(data))
    return path


def test_wav_declaring_a_huge_length_is_refused(tmp_path: Path) -> None:
    path = _patch(make.make_wav(tmp_path / "a.wav"), b"data", 4, struct.pack("<I", 0xFFFFFFF0))

    assert refusal(path) == (
        "truncated or damaged: the header says 24347.887 s "
        "but only 1.000 s of audio could be decoded"
    )


def test_mp3_declaring_a_huge_frame_count_is_refused(tmp_path: Path) -> None:
    path = _patch(make.make_mp3(tmp_path / "a.mp3"), b"Info", 8, struct.pack(">I", 0x7FFFFFFF))

    assert refusal(path).startswith("truncated or damaged: the header says 56097532.")


def test_flac_declaring_a_huge_sample_count_is_refused(tmp_path: Path) -> None:
    path = make.make_flac(tmp_path / "a.flac")
    data = bytearray(path.read_bytes())
    streaminfo_counts = slice(18, 26)  # rate, channels, bits, then a 36-bit sample count
    counts = int.from_bytes(data[streaminfo_counts], "big") | (1 << 36) - 1
    data[streaminfo_counts] = counts.to_bytes(8, "big")
    path.write_bytes(bytes(data))

    assert "truncated or damaged" in refusal(path)


# --- formats outside the rules ----------------------------------------------------------------


def test_mpeg_layer_2_is_not_mp3(tmp_path: Path) -> None:
    path = make.make_mp2(tmp_path / "a.mp3")

    assert refusal(path) == "MPEG layer 2 audio; only MP3 (layer III) is accepted"


def test_non_pcm_wav_is_refused(tmp_path: Path) -> None:
    path = make.make_soundfile(tmp_path / "a.wav", "WAV", "ULAW", rate=8000, channels=1)

    assert refusal(path) == "WAV holding ULAW audio; only PCM is accepted"


def test_formats_libsndfile_writes_but_the_rules_refuse(tmp_path: Path) -> None:
    path = make.make_soundfile(tmp_path / "a.wav", "CAF", "PCM_16")

    assert refusal(path).startswith("not a recognised audio file; accepted: WAV, FLAC, AIFF")


def test_mp4_with_video_is_refused(tmp_path: Path) -> None:
    path = make.make_video_mp4(tmp_path / "clip.m4a")

    assert refusal(path) == "contains video; only audio files are accepted"


# --- hostile files ----------------------------------------------------------------------------


def test_random_bytes_are_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(bytes(range(256)) * 64)

    assert refusal(path).startswith("not a recognised audio file")


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.flac"
    path.touch()

    assert refusal(path) == "empty file (0 bytes)"


def test_text_named_mp3_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lyrics.mp3"
    path.write_text("Verse 1\nla la la\n" * 20)

    assert refusal(path).startswith("not a recognised audio file")


def test_png_named_wav_is_refused(tmp_path: Path) -> None:
    path = make.make_cover(tmp_path / "cover.wav", fmt="PNG")

    assert refusal(path).startswith("not a recognised audio file")


def test_control_characters_in_the_name_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\nerror: all good\x1b[31m\r\t\x7f\u202e.wav"
    path.write_text("not audio")

    refusal(path)
    name = display_name(path)
    assert name.endswith("evil\\nerror: all good\\x1b[31m\\r\\t\\x7f\\u202e.wav")
    assert name.isprintable()


def test_undecodable_bytes_in_the_name_are_escaped(tmp_path: Path) -> None:
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/bad\xff\xfe.wav"))
    path.write_text("not audio")

    refusal(path)
    assert display_name(path).endswith("/bad\\xff\\xfe.wav")
    display_name(path).encode("utf-8")  # printable on any UTF-8 terminal


def test_dot_dot_names_are_shown_as_given(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    make.make_wav(tmp_path / "passwd.wav")
    path = tmp_path / "sub" / ".." / "passwd.wav"

    assert inspect_audio(path).format == "wav"
    assert display_name(path) == f"{tmp_path}/sub/../passwd.wav"


def test_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "album.wav"
    path.mkdir()

    assert refusal(path) == "is a directory, not a file"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path / "gone.wav") == "no such file"


def test_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make.make_wav(tmp_path / "locked.wav")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads any file: force the refusal the kernel would give
        real_open = os.open

        def refusing_open(target: Path, *args: int) -> int:
            if Path(target) == path:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
            return real_open(target, *args)

        monkeypatch.setattr(os, "open", refusing_open)

    assert refusal(path) == "cannot be read (permission denied)"


def test_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.wav").symlink_to(tmp_path / "b.wav")
    (tmp_path / "b.wav").symlink_to(tmp_path / "a.wav")

    assert refusal(tmp_path / "a.wav") == "cannot be read (Too many levels of symbolic links)"


def test_symlink_to_audio_is_followed(tmp_path: Path) -> None:
    make.make_flac(tmp_path / "real.flac")
    (tmp_path / "link.flac").symlink_to(tmp_path / "real.flac")

    assert inspect_audio(tmp_path / "link.flac").format == "flac"


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.wav"
    os.mkfifo(path)

    assert refusal(path) == "not a regular file"


def test_device_is_refused() -> None:
    assert refusal(Path(os.devnull)) == "not a regular file"


# --- fuzzing: damaged copies never escape as anything but InvalidMedia -----------------------

FUZZED = [make.make_wav, make.make_flac, make.make_mp3, make.make_m4a, make.make_opus]


@pytest.mark.parametrize("maker", FUZZED, ids=["wav", "flac", "mp3", "m4a", "opus"])
def test_damaged_copies_are_accepted_or_refused_never_crash(
    tmp_path: Path, maker: Callable[..., Path]
) -> None:
    original = maker(tmp_path / "original", seconds=0.5).read_bytes()
    rng = random.Random(2024)
    refusals = []
    for _ in range(25):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / "damaged"
        path.write_bytes(bytes(data[: rng.randint(len(data) // 2, len(data))]))
        try:
            inspect_audio(path)
        except InvalidMedia as refused:
            refusals.append(refused.message)
    assert refusals
    assert not [message for message in refusals if "\n" in message]


# --- cover art --------------------------------------------------------------------------------


def test_jpeg_of_1000_px_is_accepted_with_a_warning(tmp_path: Path) -> None:
    path = make.make_cover(tmp_path / "cover.jpg", size=1000)

    info = inspect_image(path)

    assert info == ImageInfo(
        "jpeg",
        1000,
        1000,
        path.stat().st_size,
        "image/jpeg",
        "jpg",
        ("cover is 1000 x 1000 px; Apple Music asks for 3000 x 3000",),
    )


def test_png_of_3000_px_is_accepted_without_warning(tmp_path: Path) -> None:
    info = inspect_image(make.make_cover(tmp_path / "cover.bin", size=3000, fmt="PNG"))

    assert (info.format, info.width, info.content_type, info.extension) == (
        "png",
        3000,
        "image/png",
        "png",
    )
    assert info.warnings == ()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "BMP", "TIFF"])
def test_other_image_formats_are_refused(tmp_path: Path, fmt: str) -> None:
    path = make.make_cover(tmp_path / "cover.jpg", fmt=fmt)

    assert refusal(path, inspect_image) == f"wrong format ({fmt}); cover art must be JPEG or PNG"


def test_not_square_is_refused(tmp_path: Path) -> None:
    path = make.make_cover(tmp_path / "c.jpg", size=(1200, 1000))

    assert refusal(path, inspect_image) == "not square (1200 x 1000 px)"


def test_too_small_is_refused(tmp_path: Path) -> None:
    path = make.make_cover(tmp_path / "c.png", size=999, fmt="PNG")

    assert refusal(path, inspect_image) == "too small (999 x 999 px); at least 1000 x 1000 px"


def test_cmyk_is_refused(tmp_path: Path) -> None:
    path = make.make_cover(tmp_path / "c.jpg", mode="CMYK")

    assert refusal(path, inspect_image) == "CMYK colour; cover art must be RGB"


@pytest.mark.parametrize(("mode", "fmt"), [("L", "JPEG"), ("RGBA", "PNG"), ("P", "PNG")])
def test_other_colour_modes_are_refused(tmp_path: Path, mode: str, fmt: str) -> None:
    path = make.make_cover(tmp_path / "c.img", mode=mode, fmt=fmt)

    assert refusal(path, inspect_image) == f"colour mode {mode}; cover art must be RGB"


def _pad_to(path: Path, size: int) -> Path:
    with path.open("r+b") as handle:
        handle.truncate(size)  # trailing bytes after the JPEG's end marker are ignored
    return path


def test_20_mb_is_accepted(tmp_path: Path) -> None:
    path = _pad_to(make.make_cover(tmp_path / "c.jpg"), 20_000_000)

    assert inspect_image(path).size_bytes == 20_000_000


def test_over_20_mb_is_refused(tmp_path: Path) -> None:
    path = _pad_to(make.make_cover(tmp_path / "c.jpg"), 20_000_001)

    assert refusal(path, inspect_image) == "too big (20.0 MB); cover art may be at most 20 MB"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image_is_refused(tmp_path: Path, fmt: str) -> None:
    path = make.truncate(make.make_cover(tmp_path / "c.img", fmt=fmt), 0.6)

    assert refusal(path, inspect_image).startswith("image data is truncated or damaged")


@pytest.mark.parametrize("content", [b"", b"hello", bytes(range(256)) * 8])
def test_not_an_image_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cover.jpg"
    path.write_bytes(content)

    reason = refusal(path, inspect_image)
    assert reason in ("empty file (0 bytes)", "not an image; cover art must be JPEG or PNG")


def test_audio_is_not_an_image(tmp_path: Path) -> None:
    path = make.make_flac(tmp_path / "cover.png")

    assert refusal(path, inspect_image) == "not an image; cover art must be JPEG or PNG"


def _png_declaring(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


@pytest.mark.parametrize("side", [10_000, 50_000])
def test_decompression_bomb_is_refused(tmp_path: Path, side: int) -> None:
    path = _png_declaring(tmp_path / "bomb.png", side, side)

    assert refusal(path, inspect_image) == "too big (too many pixels to decode safely)"


def test_hostile_image_names_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "cover\n\x1b[2J.gif"
    make.make_cover(path, fmt="GIF")

    assert refusal(path, inspect_image) == "wrong format (GIF); cover art must be JPEG or PNG"


def test_missing_cover_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path / "none.jpg", inspect_image) == "no such file"


# --- staying light ----------------------------------------------------------------------------


def test_importing_media_loads_no_decoder() -> None:
    from tests.support.imports import loaded_by_importing

    watched = ("mutagen", "soundfile", "av", "PIL", "numpy")
    assert loaded_by_importing(["vwaza_cli.media"], watched) == []


# --- the corpus -------------------------------------------------------------------------------

CORPUS = Path(
    os.environ.get("VWAZA_CORPUS")
    or Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "audio"
)
ACCEPTED_CORPUS_FORMATS = {
    "wav": "wav",
    "flac": "flac",
    "aiff": "aiff",
    "m4a-aac": "m4a",
    "m4a-alac": "m4a",
    "mp3": "mp3",
    "ogg-vorbis": "ogg",
    "opus": "opus",
    "m4b": "m4a",  # an audiobook brand of the same MP4 container
}

# Valid files of accepted formats that a decoder refuses, with the reason. None today: libsndfile
# refuses id3v1v2-combined.mp3 ("Unspecified internal error"), one reason MP3 goes to FFmpeg.
KNOWN_DECODER_REFUSALS: dict[str, str] = {}

# Each edge file's expected outcome, decided once: True accepted, False refused.
EDGE_OUTCOMES: dict[str, bool] = {
    "8k-4ch-1s-silence.aif": True,  # four channels at 8 kHz: whole, accepted with a rate warning
    "covr-with-name.m4a": True,  # odd cover atom, audio intact
    "adif.aac": False,  # raw AAC, not in an M4A container
    "mac-399.ape": False,  # Monkey's Audio is outside the rules (and has no audio)
    "vbri.mp3": False,  # VBRI says 222 s, 0.44 s decodes
    "bad-xing.mp3": False,  # Xing header counts zero frames: zero duration
    "lame397v9short.mp3": False,  # LAME 3.97 header gives zero duration
    "audacious-trailing-id32-id31.mp3": True,  # trailing tag, audio intact, no frame count
    "bad-TYER-frame.mp3": True,  # a bad tag frame does not harm the audio
    "bad-POPM-frame.mp3": False,  # 2 KB stub claiming 188 s: FFmpeg cannot decode it
    "97-unknown-23-update.mp3": True,  # unknown ID3 frames, audio intact
    "issue_21.id3": True,  # MP3 audio behind an odd ID3 header: content decides, not the name
    "variable-block.flac": False,  # 10 KB stub claiming 261 s: decoder loses sync
    "flac_application.flac": False,  # 13 KB stub claiming 273 s: decoder loses sync
    "multipagecomment.ogg": True,  # big comment across pages, audio intact
    "multipage-setup.ogg": True,  # setup header across pages, audio intact
    "multiplexed.spx": False,  # Speex is outside the rules
    "nero-chapters.m4b": False,  # claims ~169,000 s, no audio decodes
    "ep7.m4b": True,  # AAC in an audiobook-branded MP4: content decides, and it is whole
    "no-tags.3g2": False,  # 3GPP2: header says 15.00 s, decoder finds more
    "issue_29.wma": False,  # WMA is outside the rules
    "no_length.wv": False,  # WavPack is outside the rules
    "2822400-1ch-0s-silence.dsf": False,  # DSD is outside the rules
    "sample.mid": False,  # MIDI is not a recording
    "sample.oggtheora": False,  # Ogg video, not audio
    "145-invalid-item-count.apev2": False,  # a bare tag, no audio
    "image.jpg": False,  # an image
    "derived-jpeg-prefixed.mp3": False,  # JPEG bytes first: the content is not an MP3 stream
    "derived-mp3-zeroed-head.mp3": False,  # 4 KiB of zeros first: not an MP3 stream
}


def _manifest() -> list[dict[str, str]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as rows:
        return list(csv.DictReader(rows, delimiter="\t"))


MANIFEST = _manifest()


def _expected_accepted(row: dict[str, str]) -> bool:
    name = row["filename"]
    if row["class"] == "broken":
        return False
    if row["class"] == "edge":
        assert name in EDGE_OUTCOMES, f"decide the outcome for edge file {name}"
        return EDGE_OUTCOMES[name]
    return row["format"] in ACCEPTED_CORPUS_FORMATS and name not in KNOWN_DECODER_REFUSALS


@pytest.mark.skipif(not MANIFEST, reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize("row", MANIFEST, ids=[row["filename"] for row in MANIFEST])
def test_corpus_file_meets_its_expected_outcome(row: dict[str, str]) -> None:
    path = CORPUS / row["filename"]
    if not _expected_accepted(row):
        refusal(path)
        return
    info = inspect_audio(path)
    assert info.format == ACCEPTED_CORPUS_FORMATS[row["format"]]
    header = row["mutagen_result"].removesuffix(" s")
    assert info.duration == pytest.approx(float(header), abs=0.1)


def test_every_edge_outcome_names_a_corpus_file() -> None:
    if not MANIFEST:
        pytest.skip(f"no corpus at {CORPUS}")
    names = {row["filename"] for row in MANIFEST if row["class"] == "edge"}
    assert set(EDGE_OUTCOMES) == names
    assert set(KNOWN_DECODER_REFUSALS) <= {row["filename"] for row in MANIFEST}
