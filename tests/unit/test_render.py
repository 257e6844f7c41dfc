"""The one decode pass (vwaza_cli/processing/render.py) on generated masters: what it says
about the file, and the renditions it writes (decoded back with PyAV)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from vwaza_cli.enums import RENDITIONS, JobType
from vwaza_cli.processing.render import preview_window, process_master
from vwaza_cli.processing.work import Outcome, Request, UndecodableMaster


def tones(seconds: float, rate: int, channels: int = 2, level: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave = level * np.sin(2 * np.pi * 440 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    noise = np.random.default_rng(1).normal(0.0, 0.01, size=(t.size, channels))
    return wave[:, None] + noise


def run(master: Path, tmp_path: Path, make: tuple[JobType, ...] = RENDITIONS) -> Outcome:
    return process_master(Request(str(master), str(tmp_path), "t", True, make))


def rendition(outcome: Outcome, kind: JobType) -> Path:
    return Path(next(r.path for r in outcome.renditions if r.kind == kind))


def audio_of(path: Path) -> tuple[int, int, float, str]:
    """(sample rate, channels, seconds, codec) of a rendition."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = sum(f.samples for f in container.decode(stream))
        ctx = stream.codec_context
        return ctx.sample_rate, ctx.channels, frames / ctx.sample_rate, ctx.name


@pytest.mark.parametrize(
    ("duration", "chosen", "expected"),
    [
        (90.0, None, (30.0, 30.0)),  # a third of the way in
        (45.0, None, (0.0, 30.0)),  # a minute or less: from the start
        (20.0, None, (0.0, 20.0)),  # shorter than a preview: the whole track
        (90.0, 80.0, (60.0, 30.0)),  # kept inside the track
        (90.0, 5.0, (5.0, 30.0)),
    ],
)
def test_the_preview_window(
    duration: float, chosen: float | None, expected: tuple[float, float]
) -> None:
    assert preview_window(duration, chosen) == expected


def test_a_padded_24_bit_master_says_it_uses_16_bits(tmp_path: Path) -> None:
    samples = np.round(tones(2, 44100) * 32767) / 32768  # 16-bit values in a 24-bit file
    master = tmp_path / "padded.wav"
    sf.write(str(master), samples, 44100, subtype="PCM_24")
    analysis = run(master, tmp_path, ()).analysis
    assert analysis is not None
    assert (analysis["bit_depth"], analysis["effective_bit_depth"]) == (24, 16)


def test_a_real_24_bit_flac_uses_24_bits(tmp_path: Path) -> None:
    master = tmp_path / "real.flac"
    sf.write(str(master), tones(2, 48000), 48000, subtype="PCM_24")
    analysis = run(master, tmp_path, ()).analysis
    assert analysis is not None
    assert (analysis["bit_depth"], analysis["effective_bit_depth"]) == (24, 24)


def test_a_lossy_master_has_no_bit_depth(tmp_path: Path) -> None:
    master = tmp_path / "lossy.ogg"
    sf.write(str(master), tones(2, 44100), 44100, format="OGG", subtype="VORBIS")
    analysis = run(master, tmp_path, ()).analysis
    assert analysis is not None
    assert analysis["bit_depth"] is None
    assert analysis["effective_bit_depth"] is None


def test_a_96_khz_master_streams_at_48_khz_and_a_mono_one_in_mono(tmp_path: Path) -> None:
    hi = tmp_path / "hi.flac"
    sf.write(str(hi), tones(3, 96000), 96000, subtype="PCM_24")
    outcome = run(hi, tmp_path, (JobType.STREAM,))
    rate, channels, seconds, codec = audio_of(rendition(outcome, JobType.STREAM))
    assert (rate, channels, codec) == (48000, 2, "aac")
    assert seconds == pytest.approx(3.0, abs=0.05)

    mono = tmp_path / "mono.wav"
    sf.write(str(mono), tones(3, 44100, channels=1), 44100, subtype="PCM_16")
    outcome = process_master(Request(str(mono), str(tmp_path), "m", True, (JobType.STREAM,)))
    rate, channels, _, _ = audio_of(rendition(outcome, JobType.STREAM))
    assert (rate, channels) == (44100, 1)
    assert outcome.analysis is not None
    assert outcome.analysis["mono_as_stereo"] is False  # one channel is not mono-as-stereo


@pytest.mark.parametrize("seconds", [1.0, 7.3, 61.0])
def test_the_waveform_has_between_1000_and_2000_points(tmp_path: Path, seconds: float) -> None:
    master = tmp_path / "w.wav"
    sf.write(str(master), tones(seconds, 22050), 22050, subtype="PCM_16")
    path = rendition(run(master, tmp_path, (JobType.WAVEFORM,)), JobType.WAVEFORM)
    waveform = json.loads(path.read_text())
    assert 1000 <= waveform["length"] <= 2000
    assert waveform["length"] * waveform["samples_per_pixel"] >= seconds * 22050
    data = np.array(waveform["data"]).reshape(-1, 2)
    assert np.all(data[:, 0] <= data[:, 1])  # min before max at each point
    assert data.min() >= -128
    assert data.max() <= 127


def test_digital_silence_is_measured_without_an_error(tmp_path: Path) -> None:
    master = tmp_path / "silence.wav"
    sf.write(str(master), np.zeros((44100 * 3, 2)), 44100, subtype="PCM_16")
    outcome = run(master, tmp_path)
    analysis = outcome.analysis
    assert analysis is not None
    assert analysis["integrated_lufs"] is None
    assert analysis["true_peak_dbtp"] is None
    assert analysis["leading_silence"] == pytest.approx(3.0, abs=0.01)
    assert len(outcome.renditions) == 3  # a silent track still gets its renditions


def test_a_damaged_master_is_undecodable_and_leaves_no_file(tmp_path: Path) -> None:
    master = tmp_path / "broken.wav"
    master.write_bytes(b"RIFF" + bytes(range(256)) * 400)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UndecodableMaster):
        process_master(Request(str(master), str(out), "b", True, RENDITIONS))
    assert list(out.iterdir()) == []


def test_every_rendition_is_written_whole_and_hashed(tmp_path: Path) -> None:
    import hashlib

    master = tmp_path / "m.wav"
    sf.write(str(master), tones(5, 48000), 48000, subtype="PCM_16")
    outcome = run(master, tmp_path)
    assert [r.kind for r in outcome.renditions] == list(RENDITIONS)
    for made in outcome.renditions:
        data = Path(made.path).read_bytes()
        assert made.size == len(data)
        assert made.sha256 == hashlib.sha256(data).hexdigest()
    assert {r.content_type for r in outcome.renditions} == {"audio/mp4", "application/json"}


def _loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    import subprocess
    import sys

    code = f"import sys; {statement}; print(' '.join(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_a_worker_starts_without_the_store_and_the_daemon_without_ffmpeg() -> None:
    """The worker's target lives in a light module (it is unpickled in every worker), and
    the daemon names it without loading the renderer (only its forkserver preloads it)."""
    heavy_store = ("sqlalchemy", "sqlmodel", "pydantic", "httpx")
    assert _loaded_after("import vwaza_cli.processing.entry", heavy_store) == []
    renderer = ("av", "numpy", "scipy", "vwaza_cli.processing.render")
    assert _loaded_after("import daemon.main", renderer) == []


def test_a_surround_master_is_measured_whole_and_rendered_in_stereo(tmp_path: Path) -> None:
    master = tmp_path / "surround.wav"
    sf.write(str(master), tones(2, 48000, channels=8), 48000, subtype="PCM_16")
    outcome = run(master, tmp_path, (JobType.STREAM,))
    assert outcome.analysis is not None
    assert outcome.analysis["channels"] == 8
    assert outcome.analysis["integrated_lufs"] is not None
    rate, channels, _, _ = audio_of(rendition(outcome, JobType.STREAM))
    assert (rate, channels) == (48000, 2)
