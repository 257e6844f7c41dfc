"""Repairs after a crash, run by the daemon at start-up and periodically.

Every step is safe to repeat and safe to run while a CLI is staging files:
- temp files in ``spool/.incoming`` older than the grace period are removed;
- spool files no unfinished job refers to (a crash between the file and its row) are
  removed once older than the grace period;
- staged files of COMPLETED jobs (a crash between the commit and the delete) are removed,
  except masters that their track's processing has still to read.

A catalog import may hold files for longer than the grace period before their rows are
committed (a file named by several releases is copied once and kept until its last use):
while one runs it holds the staging lock, and the sweep leaves temp and unreferenced files
alone until no import holds it. The lock is an flock, so a killed import releases it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vwaza_cli.db import jobs
from vwaza_cli.db import processing as db_processing
from vwaza_cli.enums import JobStatus
from vwaza_cli.services import spool
from vwaza_cli.services.context import Context
from vwaza_cli.settings import Settings, ensure_private_dir

GRACE_SECONDS = 3600.0
LOCK_NAME = "staging.lock"  # in the data folder: never taken for a spool file


@dataclass(frozen=True)
class SweepReport:
    stale_temp_files: int
    orphan_files: int
    uploaded_leftovers: int

    @property
    def total(self) -> int:
        return self.stale_temp_files + self.orphan_files + self.uploaded_leftovers


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except FileNotFoundError:
        return False


def _open_lock(settings: Settings) -> int:
    if not settings.data_dir.exists():
        ensure_private_dir(settings.data_dir)
    return os.open(settings.data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def staging(settings: Settings) -> Iterator[None]:
    """Held while files are staged that no committed row refers to yet (several importers
    may hold it at once); the sweep waits for none of them, it skips."""
    fd = _open_lock(settings)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a sweep lists the spool
        yield
    finally:
        os.close(fd)


@contextmanager
def _nobody_staging(settings: Settings) -> Iterator[bool]:
    """True (and held) when no import is staging files; False when one is."""
    fd = _open_lock(settings)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


def sweep(ctx: Context, grace_seconds: float = GRACE_SECONDS) -> SweepReport:
    folder = ctx.settings.spool_dir
    if not folder.exists():
        return SweepReport(0, 0, 0)
    with _nobody_staging(ctx.settings) as free:
        incoming = folder / spool.INCOMING
        stale = [p for p in incoming.glob("*") if free and _older_than(p, grace_seconds)]
        files = [str(p) for p in folder.iterdir() if p.is_file()]
        with ctx.tx() as session:
            status = jobs.status_of_paths(session, files)
            uploaded = [p for p in files if status.get(p) == JobStatus.COMPLETED]
            still_read = db_processing.masters_in_use(session, uploaded)
        leftovers = [p for p in uploaded if p not in still_read]
        orphans = [
            p for p in files if free and p not in status and _older_than(Path(p), grace_seconds)
        ]
        return SweepReport(spool.discard(stale), spool.discard(orphans), spool.discard(leftovers))
