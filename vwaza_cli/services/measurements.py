"""What a track's measurements say to people: the warnings of spec/processing.md.

Measured problems never block anything; they are said to the artist (`release show`,
`release submit`) and the reviewer (`review show`), each naming the track and the measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TRUE_PEAK_LIMIT = -1.0  # dBTP
SILENCE_LIMIT = 2.0  # seconds, at either end
LOUDEST = -5.0  # LUFS
QUIETEST = -30.0  # LUFS


@dataclass(frozen=True)
class Rule:
    """One warning: when it applies to an analysis, and what it says."""

    applies: Callable[[dict[str, Any]], bool]
    says: Callable[[dict[str, Any]], str]


def _number(analysis: dict[str, Any], key: str) -> float | None:
    value = analysis.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _above(key: str, limit: float) -> Callable[[dict[str, Any]], bool]:
    return lambda a: (v := _number(a, key)) is not None and v > limit


def _below(key: str, limit: float) -> Callable[[dict[str, Any]], bool]:
    return lambda a: (v := _number(a, key)) is not None and v < limit


def _fewer_bits(analysis: dict[str, Any]) -> bool:
    used, stored = analysis.get("effective_bit_depth"), analysis.get("bit_depth")
    return isinstance(used, int) and isinstance(stored, int) and used < stored


RULES = (
    Rule(
        _above("true_peak_dbtp", TRUE_PEAK_LIMIT),
        lambda a: f"true peak {a['true_peak_dbtp']:+.1f} dBTP above {TRUE_PEAK_LIMIT:.1f} dBTP",
    ),
    Rule(
        _above("clipped_samples", 0),
        lambda a: f"{a['clipped_samples']} clipped sample(s) (runs at full scale)",
    ),
    Rule(
        _above("leading_silence", SILENCE_LIMIT),
        lambda a: (
            f"{a['leading_silence']:.1f} s of silence at the start "
            f"(more than {SILENCE_LIMIT:.0f} s)"
        ),
    ),
    Rule(
        _above("trailing_silence", SILENCE_LIMIT),
        lambda a: (
            f"{a['trailing_silence']:.1f} s of silence at the end (more than {SILENCE_LIMIT:.0f} s)"
        ),
    ),
    Rule(
        lambda a: a.get("mono_as_stereo") is True,
        lambda a: "mono as stereo: both channels carry the same signal",
    ),
    Rule(
        _fewer_bits,
        lambda a: (
            f"effective bit depth {a['effective_bit_depth']} below its "
            f"{a['bit_depth']}-bit format (padded)"
        ),
    ),
    Rule(
        _above("integrated_lufs", LOUDEST),
        lambda a: f"integrated loudness {a['integrated_lufs']:.1f} LUFS above {LOUDEST:.0f} LUFS",
    ),
    Rule(
        _below("integrated_lufs", QUIETEST),
        lambda a: f"integrated loudness {a['integrated_lufs']:.1f} LUFS below {QUIETEST:.0f} LUFS",
    ),
)


def warnings_for(order: int, title: str, analysis: dict[str, Any] | None) -> list[str]:
    """The warnings of one track's analysis (none before it is measured)."""
    if not analysis:
        return []
    named = f'track {order} "{title}"'
    return [f"{named}: {rule.says(analysis)}" for rule in RULES if rule.applies(analysis)]
