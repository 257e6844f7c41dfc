"""The streaming meter against EBU Tech 3341/3342 signals, pyloudnorm and crafted edge cases."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import tracemalloc
from collections.abc import Callable

import numpy as np
import pyloudnorm
import pytest
from numpy.typing import NDArray

from vwaza_cli.processing import measure
from vwaza_cli.processing.measure import Measured, Meter

Signal = NDArray[np.float32]

EBU_RATE = 48000
EBU_TOLERANCE = 0.1  # LU and dB, spec/processing.md
PYLOUDNORM_TOLERANCE = 0.2


def tone(
    seconds: float,
    dbfs: float,
    *,
    rate: int = EBU_RATE,
    hz: float = 1000.0,
    phase: float = 0.0,
    channels: int = 2,
) -> Signal:
    """A sine whose peak is at `dbfs`, the same in every channel (Tech 3341's signals)."""
    t = np.arange(round(seconds * rate)) / rate
    wave = 10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * t + phase)
    return np.tile(wave.astype(np.float32), (channels, 1))


def sequence(*parts: tuple[float, float]) -> Signal:
    """Stereo 1 kHz tones of (dBFS, seconds) one after another."""
    return np.concatenate([tone(seconds, dbfs) for dbfs, seconds in parts], axis=1)


def measured(signal: Signal, rate: int = EBU_RATE, chunk: int = 4096) -> Measured:
    meter = Meter(rate, signal.shape[0])
    for start in range(0, signal.shape[1], chunk):
        meter.feed(signal[:, start : start + chunk])
    return meter.result()


def white_noise(rate: int, channels: int, seconds: float = 10.0) -> Signal:
    rng = np.random.default_rng(1770)
    return (0.1 * rng.standard_normal((channels, round(seconds * rate)))).astype(np.float32)


def pink_noise(rate: int, channels: int, seconds: float = 10.0) -> Signal:
    rng = np.random.default_rng(3341)
    frames = round(seconds * rate)
    spectrum = np.fft.rfft(rng.standard_normal((channels, frames)), axis=1)
    spectrum[:, 1:] /= np.sqrt(np.arange(1, spectrum.shape[1]))
    spectrum[:, 0] = 0
    noise = np.fft.irfft(spectrum, frames, axis=1)
    return (0.25 * noise / np.abs(noise).max()).astype(np.float32)


def music_like(rate: int, channels: int, seconds: float = 10.0) -> Signal:
    """A few tones under a swelling envelope, over a little noise."""
    rng = np.random.default_rng(3342)
    t = np.arange(round(seconds * rate)) / rate
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 0.2 * t) * np.sin(2 * np.pi * 2.1 * t)
    tones = ((0.25, 110.0), (0.15, 330.0), (0.1, 880.0), (0.05, 5000.0))
    rows = [
        envelope * sum(a * np.sin(2 * np.pi * hz * t + c) for a, hz in tones)
        + 0.02 * rng.standard_normal(t.size)
        for c in range(channels)
    ]
    return np.asarray(rows, dtype=np.float32)


def pyloudnorm_lufs(signal: Signal, rate: int) -> float:
    data = signal[0] if signal.shape[0] == 1 else signal.T
    return float(pyloudnorm.Meter(rate).integrated_loudness(data.astype(np.float64)))


# --- EBU Tech 3341: integrated loudness ------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "parts"),
    [
        (1, [(-23.0, 20.0)]),
        (2, [(-33.0, 20.0)]),
        (3, [(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)]),
        (4, [(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)]),
        (5, [(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)]),
    ],
)
def test_tech_3341_stereo_tones_read_their_integrated_loudness(
    case: int, parts: list[tuple[float, float]]
) -> None:
    expected = -33.0 if case == 2 else -23.0
    assert measured(sequence(*parts)).integrated_lufs == pytest.approx(expected, abs=EBU_TOLERANCE)


def test_tech_3341_case_6_weights_the_surround_channels() -> None:
    # L and R at -28 dBFS, C at -24, Ls and Rs at -30, in FFmpeg's order L R C Ls Rs.
    levels = (-28.0, -28.0, -24.0, -30.0, -30.0)
    five_channels = np.concatenate([tone(20.0, level, channels=1) for level in levels])
    result = measured(five_channels)
    assert result.integrated_lufs == pytest.approx(-23.0, abs=EBU_TOLERANCE)


# --- EBU Tech 3342: loudness range -----------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([(-20.0, 20.0), (-30.0, 20.0)], 10.0),
        ([(-20.0, 20.0), (-15.0, 20.0)], 5.0),
        ([(-40.0, 20.0), (-20.0, 20.0)], 20.0),
        ([(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)], 15.0),
    ],
    ids=["case-1", "case-2", "case-3", "case-4"],
)
def test_tech_3342_tone_steps_read_their_loudness_range(
    parts: list[tuple[float, float]], expected: float
) -> None:
    result = measured(sequence(*parts))
    assert result.loudness_range_lu == pytest.approx(expected, abs=EBU_TOLERANCE)


def test_a_steady_tone_has_no_loudness_range() -> None:
    assert measured(tone(20.0, -23.0)).loudness_range_lu == pytest.approx(0.0, abs=1e-9)


def test_a_track_shorter_than_a_short_term_window_has_no_loudness_range() -> None:
    result = measured(tone(2.5, -23.0))
    assert result.loudness_range_lu is None
    assert result.integrated_lufs is not None


# --- EBU Tech 3341: true peak ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "hz", "phase_degrees", "amplitude", "expected_dbtp"),
    [
        (15, EBU_RATE / 4, 0.0, 0.5, -6.0),
        (16, EBU_RATE / 4, 45.0, 0.5, -6.0),
        (17, EBU_RATE / 6, 60.0, 0.5, -6.0),
        (18, EBU_RATE / 8, 67.5, 0.5, -6.0),
        (19, EBU_RATE / 4, 45.0, 1.41, 3.0),
    ],
)
def test_tech_3341_true_peak_tones(
    case: int, hz: float, phase_degrees: float, amplitude: float, expected_dbtp: float
) -> None:
    signal = tone(5.0, 20 * math.log10(amplitude), hz=hz, phase=math.radians(phase_degrees))
    true_peak = measured(signal).true_peak_dbtp
    # Tech 3341 rounds to -6.0 / +3.0; the exact peaks are 20 log10 of the amplitude.
    assert true_peak == pytest.approx(20 * math.log10(amplitude), abs=EBU_TOLERANCE)
    assert true_peak == pytest.approx(expected_dbtp, abs=EBU_TOLERANCE)


def test_a_peak_between_samples_reads_above_the_sample_peak() -> None:
    # fs/4 at 45 degrees: every sample is amplitude * cos(45°), the wave peaks between them.
    result = measured(tone(5.0, -1.0, hz=EBU_RATE / 4, phase=math.pi / 4))
    assert result.sample_peak_dbfs == pytest.approx(-1.0 + 20 * math.log10(math.cos(math.pi / 4)))
    assert result.true_peak_dbtp == pytest.approx(-1.0, abs=EBU_TOLERANCE)


def test_the_true_peak_is_never_below_the_sample_peak() -> None:
    result = measured(white_noise(44100, 2))
    assert result.true_peak_dbtp is not None
    assert result.sample_peak_dbfs is not None
    assert result.true_peak_dbtp >= result.sample_peak_dbfs


def test_a_tone_cut_off_abruptly_is_not_read_as_overshooting() -> None:
    # Padding the ends with silence would invent a step, and the step's ringing a peak.
    cut = tone(1.0, -6.0, hz=EBU_RATE / 8, phase=math.radians(67.5))
    assert measured(cut).true_peak_dbtp == pytest.approx(-6.02, abs=EBU_TOLERANCE)


# --- against pyloudnorm ----------------------------------------------------------------------


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("make", [white_noise, pink_noise, music_like])
def test_integrated_loudness_agrees_with_pyloudnorm(
    rate: int, channels: int, make: Callable[[int, int], Signal]
) -> None:
    signal = make(rate, channels)
    ours = measured(signal, rate).integrated_lufs
    assert ours == pytest.approx(pyloudnorm_lufs(signal, rate), abs=PYLOUDNORM_TOLERANCE)


# --- silence ---------------------------------------------------------------------------------


def test_digital_silence_has_no_loudness_and_no_peaks() -> None:
    result = measured(np.zeros((2, 5 * EBU_RATE), dtype=np.float32))
    assert result == Measured(
        integrated_lufs=None,
        loudness_range_lu=None,
        true_peak_dbtp=None,
        sample_peak_dbfs=None,
        clipped_samples=0,
        leading_silence=5.0,
        trailing_silence=5.0,
        mono_as_stereo=True,
        duration=5.0,
    )


def test_a_track_quieter_than_the_absolute_gate_has_no_integrated_loudness() -> None:
    result = measured(tone(10.0, -80.0))
    assert result.integrated_lufs is None
    assert result.sample_peak_dbfs == pytest.approx(-80.0, abs=1e-3)


def test_silences_are_measured_at_either_end() -> None:
    # fs/4 at 45 degrees never comes near zero, so the audible part is exactly the tone.
    audible = tone(2.0, -20.0, hz=EBU_RATE / 4, phase=math.pi / 4)
    hiss = np.full((2, EBU_RATE // 2), 10 ** (-65 / 20), dtype=np.float32)  # below -60 dBFS
    silence = np.zeros((2, 3 * EBU_RATE // 4), dtype=np.float32)
    signal = np.concatenate([hiss, silence, audible, silence], axis=1)
    result = measured(signal)
    assert result.leading_silence == pytest.approx(1.25)
    assert result.trailing_silence == pytest.approx(0.75)
    assert result.duration == pytest.approx(4.0)


def test_one_audible_channel_ends_the_silence() -> None:
    signal = np.zeros((2, EBU_RATE), dtype=np.float32)
    signal[1, 4800] = 0.5
    result = measured(signal)
    assert result.leading_silence == pytest.approx(0.1)
    assert result.trailing_silence == pytest.approx((EBU_RATE - 4801) / EBU_RATE)


# --- clipping --------------------------------------------------------------------------------


def clipped_runs(frames: int, runs: dict[int, int], channel: int = 0) -> Signal:
    """A steady quarter-scale signal with runs of full-scale samples ({start: length}), the runs
    alternating in sign."""
    signal = np.full((2, frames), 0.25, dtype=np.float32)
    for number, (start, length) in enumerate(runs.items()):
        signal[channel, start : start + length] = 1.0 if number % 2 == 0 else -1.0
    return signal


def test_only_runs_of_two_or_more_full_scale_samples_count_as_clipped() -> None:
    signal = clipped_runs(10_000, {100: 1, 200: 2, 300: 3, 400: 1, 9_999: 1})
    assert measured(signal).clipped_samples == 5


def test_full_scale_samples_in_different_channels_are_not_one_run() -> None:
    signal = np.full((2, 1000), 0.25, dtype=np.float32)
    signal[0, 500] = 1.0
    signal[1, 501] = -1.0
    assert measured(signal).clipped_samples == 0


def test_a_sample_just_under_the_clip_level_breaks_a_run() -> None:
    signal = np.full((1, 1000), 0.25, dtype=np.float32)
    signal[0, 500:503] = [0.9999, 0.9998, 0.99995]
    assert measured(signal).clipped_samples == 0


@pytest.mark.parametrize("chunk", [1, 3, 1000, 4096, 1_000_000])
@pytest.mark.parametrize(
    "offset", [-2, -1, 0, 1], ids=["ends-on-last", "straddles", "starts-on-first", "inside"]
)
def test_clipped_runs_across_block_boundaries_count(chunk: int, offset: int) -> None:
    # A run of 2 and a run of 3 around the meter's own block boundaries (the caller's chunks
    # cut them too), and a lone full-scale sample to end the track.
    boundary = measure.PROCESSING_FRAMES
    runs = {boundary + offset: 2, 2 * boundary + offset - 1: 3, 3 * boundary - 1: 1}
    signal = clipped_runs(3 * boundary, runs)
    assert measured(signal, chunk=chunk).clipped_samples == 5


# --- mono as stereo --------------------------------------------------------------------------


def test_identical_channels_are_mono_as_stereo() -> None:
    assert measured(music_like(48000, 1).repeat(2, axis=0)).mono_as_stereo is True


def test_a_difference_at_minus_80_dbfs_is_real_stereo() -> None:
    signal = music_like(48000, 1).repeat(2, axis=0)
    signal[1, 12_345] += 10 ** (-80 / 20)
    assert measured(signal).mono_as_stereo is False


def test_a_difference_below_minus_90_dbfs_is_still_mono() -> None:
    signal = music_like(48000, 1).repeat(2, axis=0)
    signal[1, 12_345] += 10 ** (-100 / 20)
    assert measured(signal).mono_as_stereo is True


def test_a_mono_track_is_not_mono_as_stereo() -> None:
    assert measured(music_like(48000, 1)).mono_as_stereo is False


# --- streaming -------------------------------------------------------------------------------


def programme() -> Signal:
    """Half a minute with everything in it: silences, a quiet and a loud part, clipping."""
    body = np.concatenate([music_like(48000, 2, 12.0) * 0.3, music_like(48000, 2, 15.0)], axis=1)
    body[0, 100_000:100_004] = 1.0
    body[1, 400_000:400_002] = -1.0
    silence = np.zeros((2, EBU_RATE), dtype=np.float32)
    return np.concatenate([silence, body, silence, silence], axis=1)


@pytest.mark.parametrize("chunk", [1_000, 4_096, 1_000_000])
def test_chunk_size_does_not_change_the_results(chunk: int) -> None:
    signal = programme()
    reference = dataclasses.asdict(measured(signal, chunk=signal.shape[1]))
    result = dataclasses.asdict(measured(signal, chunk=chunk))
    assert result.keys() == reference.keys()
    for name, value in reference.items():
        assert result[name] == pytest.approx(value, abs=1e-6), name
    assert reference["clipped_samples"] == 6
    assert reference["leading_silence"] == pytest.approx(1.0, abs=1e-3)
    assert reference["trailing_silence"] == pytest.approx(2.0, abs=1e-3)


def test_results_midway_do_not_disturb_the_measurement() -> None:
    signal = programme()
    meter = Meter(EBU_RATE, 2)
    halfway = signal.shape[1] // 2 + 17
    meter.feed(signal[:, :halfway])
    early = meter.result()
    meter.feed(signal[:, halfway:])
    assert early.duration == pytest.approx(halfway / EBU_RATE)
    assert dataclasses.asdict(meter.result()) == pytest.approx(
        dataclasses.asdict(measured(signal)), abs=1e-9
    )


def test_results_are_plain_python_values_that_serialise_to_json() -> None:
    result = measured(programme())
    kinds = {name: type(value) for name, value in dataclasses.asdict(result).items()}
    assert kinds == {
        "integrated_lufs": float,
        "loudness_range_lu": float,
        "true_peak_dbtp": float,
        "sample_peak_dbfs": float,
        "clipped_samples": int,
        "leading_silence": float,
        "trailing_silence": float,
        "mono_as_stereo": bool,
        "duration": float,
    }
    assert json.loads(json.dumps(dataclasses.asdict(result))) == dataclasses.asdict(result)


def test_memory_stays_flat_however_long_the_track() -> None:
    second = music_like(48000, 2, 1.0)
    meter = Meter(EBU_RATE, 2)
    tracemalloc.start()
    try:
        for _ in range(300):  # five minutes: 115 MB of samples if they were kept
            for start in range(0, EBU_RATE, 4800):
                meter.feed(second[:, start : start + 4800])
        result = meter.result()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.duration == pytest.approx(300.0)
    assert peak < 12_000_000


def test_an_empty_chunk_is_nothing_and_a_wrong_shape_is_refused() -> None:
    meter = Meter(EBU_RATE, 2)
    meter.feed(np.zeros((2, 0), dtype=np.float32))
    assert meter.result().duration == 0.0
    with pytest.raises(ValueError, match=r"shape \(2, n\)"):
        meter.feed(np.zeros((1, 100), dtype=np.float32))
    with pytest.raises(ValueError, match=r"shape \(2, n\)"):
        meter.feed(np.zeros(100, dtype=np.float32))


# --- the K-weighting filter (FFmpeg's biquads, not SciPy) ------------------------------------


def k_weighted_power_one_sample_at_a_time(signal: Signal, rate: int) -> NDArray[np.float64]:
    """The reference: both sections in transposed direct form II (as SciPy's sosfilt), one
    sample after the other, then squared and weighted as BS.1770 weights the channels."""
    filtered = signal.astype(np.float64)
    for b0, b1, b2, _, a1, a2 in measure._k_weighting(rate).tolist():
        into = np.empty_like(filtered)
        z1, z2 = np.zeros(signal.shape[0]), np.zeros(signal.shape[0])
        for n in range(filtered.shape[1]):
            x = filtered[:, n]
            y = b0 * x + z1
            z1, z2 = b1 * x - a1 * y + z2, b2 * x - a2 * y
            into[:, n] = y
        filtered = into
    weights: NDArray[np.float64] = measure._channel_weights(signal.shape[0])
    return weights @ np.square(filtered)


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
@pytest.mark.parametrize("channels", [1, 2, 5, 6, 8, 10])
def test_the_k_weighting_matches_the_filter_run_one_sample_at_a_time(
    rate: int, channels: int
) -> None:
    # Every channel different, and a DC offset that only the high-pass takes away: a channel
    # left unfiltered (as FFmpeg leaves those of an unnamed layout) would show at once.
    # Chunks of one size in a row reuse the graph's input frame; 10 channels take two graphs.
    signal = white_noise(rate, channels, seconds=8000 / rate)
    signal[:, :2000] += 0.3
    chunks = [1000, 1000, 1, 999, 1000, 1000, 0, 3]
    chunks.append(signal.shape[1] - sum(chunks))
    k_weighting = measure._KWeighting(rate, measure._channel_weights(channels))
    powers, start = [], 0
    for size in chunks:
        powers.append(k_weighting.power(signal[:, start : start + size]).copy())
        start += size
    reference = k_weighted_power_one_sample_at_a_time(signal, rate)
    ours = np.concatenate(powers)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() <= 1e-9 * reference.max()
    # Within 1e-6 LU, where the spec asks for 0.1 and pyloudnorm agrees to about 0.01.
    assert 10 * math.log10(ours.sum() / reference.sum()) == pytest.approx(0.0, abs=1e-6)


def test_the_lfe_channel_is_left_out_of_the_loudness() -> None:
    signal = np.zeros((6, 10 * EBU_RATE), dtype=np.float32)
    signal[3] = tone(10.0, -10.0, hz=60.0, channels=1)[0]  # L R C LFE Ls Rs
    result = measured(signal)
    assert result.integrated_lufs is None
    assert result.sample_peak_dbfs == pytest.approx(-10.0, abs=0.01)


def test_the_renderer_is_imported_without_scipy() -> None:
    # SciPy costs every worker process about a second and 70 MiB to import.
    code = "import sys, vwaza_cli.processing.render; print('scipy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
