"""What the daemon does, through the same service functions, in the test's own process and
without a network: process every staged master (measurements and renditions, in-process
instead of in a worker), then record every upload as done at a made-up URL."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from daemon.processing import record_outcome
from vwaza_cli.processing.render import process_master
from vwaza_cli.processing.work import Request
from vwaza_cli.services import processing, queue
from vwaza_cli.services.context import Context

OWNER = "test-worker"
LEASE = timedelta(minutes=5)


def process_everything(ctx: Context | None = None) -> int:
    """Measure and render every master waiting for it; returns how many."""
    ctx = ctx or Context.from_environment()
    done = 0
    with tempfile.TemporaryDirectory() as folder:
        while task := processing.claim(ctx, OWNER, LEASE):
            request = Request(
                task.master_path,
                folder,
                f"{task.track_id}.{done}",
                task.measure,
                task.make,
                task.preview_start,
            )
            assert record_outcome(ctx, task, OWNER, process_master(request), Path(folder))
            done += 1
    return done


def upload_everything(url: str = "https://cdn.test/") -> int:
    """Process what waits, then complete every due upload (renditions too); returns how
    many uploads were recorded."""
    ctx = Context.from_environment()
    process_everything(ctx)
    uploaded = 0
    while ticket := queue.claim(ctx, OWNER, LEASE):
        assert queue.complete(ctx, ticket, OWNER, f"{url}{ticket.object_key}")
        uploaded += 1
    return uploaded
