"""How far taking a file in got, for a progress display: the bytes copied (into the spool,
or to the team server), then the bytes of the copy checked; each step's counts sum to the
file's size. No third-party import: the CLI builds one whichever machine takes the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

OnBytes = Callable[[int], None]  # bytes done since the last call


@dataclass(frozen=True)
class Progress:
    copied: OnBytes | None = None
    checked: OnBytes | None = None
    # the copy is in and is being checked where no bytes can be counted (a team server)
    checked_elsewhere: Callable[[], None] | None = None
