"""The one source of "now", so tests can move the clock instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Current time, timezone-aware UTC (the store keeps UTC on every engine)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` made timezone-aware; a naive one is taken as UTC, as the store's columns
    keep UTC without a zone and so hand rows back naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a trailing Z, as the JSON output promises."""
    if moment is None:
        return None
    return as_utc(moment).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
