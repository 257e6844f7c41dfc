"""A bar on stderr while a file is taken in (copied into the spool, then checked): a 1 GB
WAV takes seconds of each. For people at a terminal only: never with --json, never when
stderr is a file or a pipe."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vwaza_cli.cli import output
from vwaza_cli.cli.options import json_mode
from vwaza_cli.file_progress import Progress

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID


def wanted() -> bool:
    return not json_mode.get() and stderr_is_terminal()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def taking_in(path: Path) -> Iterator[Progress | None]:
    """The callbacks that move the bar, or None when no bar is wanted; the bar goes when
    the file is in (or refused)."""
    if not wanted():
        yield None
        return
    bar = _FileBar(path)
    try:
        yield bar.callbacks()
    finally:
        bar.progress.stop()


class _FileBar:
    """`copying song.wav ━━━━━━━━━━ 300.0/1.0 GB 95.2 MB/s 0:00:07`, then `checking ...`."""

    def __init__(self, path: Path) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.name = output.escape(path.name)
        self.progress: RichProgress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=output.stderr_console(),
            transient=True,
        )
        self.task: TaskID = self.progress.add_task(f"copying {self.name}", total=_size(path))
        self.checking = False
        self.progress.start()

    def callbacks(self) -> Progress:
        return Progress(
            copied=self.copied, checked=self.checked, checked_elsewhere=self.checked_elsewhere
        )

    def copied(self, done: int) -> None:
        self.progress.advance(self.task, done)

    def checked(self, done: int) -> None:
        if not self.checking:  # the copy is in: the same bytes again, decoded
            self.checking = True
            self.progress.reset(self.task, description=f"checking {self.name}")
        self.progress.advance(self.task, done)

    def checked_elsewhere(self) -> None:
        """Sent to a team server, which checks it: a bar without an end until it answers."""
        self.checking = True
        self.progress.reset(self.task, total=None, description=f"checking {self.name}")


def _size(path: Path) -> int | None:
    """None (a bar without an end) when it cannot be told: the copy will say why."""
    try:
        return path.stat().st_size or None
    except (OSError, ValueError):
        return None
