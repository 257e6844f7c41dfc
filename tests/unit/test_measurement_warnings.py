"""The warnings of spec/processing.md, one at a time: each fires on its measure only, and
names the track and the measure."""

from __future__ import annotations

from typing import Any

import pytest

from vwaza_cli.services.measurements import warnings_for

CLEAN: dict[str, Any] = {
    "integrated_lufs": -14.0,
    "loudness_range_lu": 6.0,
    "true_peak_dbtp": -1.5,
    "sample_peak_dbfs": -1.8,
    "clipped_samples": 0,
    "leading_silence": 0.2,
    "trailing_silence": 1.9,
    "channels": 2,
    "sample_rate": 48000,
    "bit_depth": 24,
    "effective_bit_depth": 24,
    "mono_as_stereo": False,
}


def test_a_clean_master_says_nothing() -> None:
    assert warnings_for(1, "Clean", CLEAN) == []
    assert warnings_for(1, "Unmeasured", None) == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"true_peak_dbtp": 0.4}, 'track 3 "Highway": true peak +0.4 dBTP above -1.0 dBTP'),
        ({"clipped_samples": 12}, 'track 3 "Highway": 12 clipped sample(s)'),
        ({"leading_silence": 2.5}, 'track 3 "Highway": 2.5 s of silence at the start'),
        ({"trailing_silence": 4.0}, 'track 3 "Highway": 4.0 s of silence at the end'),
        ({"mono_as_stereo": True}, 'track 3 "Highway": mono as stereo'),
        ({"effective_bit_depth": 16}, 'track 3 "Highway": effective bit depth 16 below'),
        ({"integrated_lufs": -4.2}, 'track 3 "Highway": integrated loudness -4.2 LUFS above'),
        ({"integrated_lufs": -31.0}, 'track 3 "Highway": integrated loudness -31.0 LUFS below'),
    ],
)
def test_each_problem_gives_its_one_warning(change: dict[str, Any], said: str) -> None:
    found = warnings_for(3, "Highway", {**CLEAN, **change})
    assert len(found) == 1
    assert found[0].startswith(said)


def test_limits_themselves_do_not_warn() -> None:
    edge = {**CLEAN, "true_peak_dbtp": -1.0, "leading_silence": 2.0, "integrated_lufs": -30.0}
    assert warnings_for(1, "Edge", edge) == []


def test_digital_silence_gives_no_loudness_warning() -> None:
    silent = {**CLEAN, "integrated_lufs": None, "true_peak_dbtp": None, "effective_bit_depth": 0}
    assert [w for w in warnings_for(1, "Quiet", silent) if "loudness" in w] == []
