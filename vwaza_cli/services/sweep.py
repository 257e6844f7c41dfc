"""Repairs after a crash, run by the daemon at start-up and periodically.

Every step is safe to repeat and safe to run while a CLI is staging files:
- temp files in ``spool/.incoming`` older than the grace period are removed;
- spool files no unfinished job refers to (a crash between the file and its row) are
  removed once older than the grace period;
- staged files of COMPLETED jobs (a crash between the commit and the delete) are removed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from vwaza_cli.db import jobs
from vwaza_cli.enums import JobStatus
from vwaza_cli.services import spool
from vwaza_cli.services.context import Context

GRACE_SECONDS = 3600.0


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


def sweep(ctx: Context, grace_seconds: float = GRACE_SECONDS) -> SweepReport:
    folder = ctx.settings.spool_dir
    if not folder.exists():
        return SweepReport(0, 0, 0)
    incoming = folder / spool.INCOMING
    stale = [p for p in incoming.glob("*") if _older_than(p, grace_seconds)]
    files = [str(p) for p in folder.iterdir() if p.is_file()]
    with ctx.tx() as session:
        status = jobs.status_of_paths(session, files)
    leftovers = [p for p in files if status.get(p) == JobStatus.COMPLETED]
    orphans = [p for p in files if p not in status and _older_than(Path(p), grace_seconds)]
    return SweepReport(spool.discard(stale), spool.discard(orphans), spool.discard(leftovers))
