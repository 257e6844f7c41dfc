"""Daemon heartbeats and `vwaza daemon status`: is one alive, how deep is the queue,
what failed last."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vwaza_cli import clock
from vwaza_cli.db import heartbeats, job_counts, job_targets, jobs
from vwaza_cli.db.models import DaemonHeartbeat
from vwaza_cli.services.accounts import current_actor
from vwaza_cli.services.context import Context
from vwaza_cli.services.releases import owner_filter
from vwaza_cli.services.views import job_view

HEARTBEAT_SECONDS = 5.0
ALIVE_WITHIN = timedelta(seconds=HEARTBEAT_SECONDS * 4)
EARLIER = timedelta(days=1)  # daemons gone since are counted in `daemon status`
FORGET_AFTER = timedelta(days=7)  # heartbeats of daemons long gone


def beat(ctx: Context, daemon_id: str, pid: int, in_flight: int, stopped: bool = False) -> None:
    moment = clock.now()
    row = DaemonHeartbeat(
        id=daemon_id,
        machine_id=ctx.settings.machine_id,
        pid=pid,
        started_at=moment,
        last_seen=moment,
        in_flight=in_flight,
        stopped_at=moment if stopped else None,
    )
    with ctx.tx() as session:
        heartbeats.beat(session, row)
        heartbeats.forget_before(session, moment - FORGET_AFTER)


def status(ctx: Context) -> dict[str, Any]:
    """Anyone logged in may look. An admin sees the whole store's queue; an artist only the
    jobs of their own releases, also in what each daemon is uploading."""
    actor = current_actor(ctx)
    owner = owner_filter(actor)
    moment = clock.now()
    with ctx.tx() as session:
        seen = [_daemon_view(b, moment) for b in heartbeats.recent(session, moment - EARLIER)]
        daemons = shown_daemons(seen)
        if owner is not None:
            _only_own_uploads(daemons, job_counts.uploading_by_daemon(session, owner))
        errors = jobs.latest_errors(session, owner)
        titles = job_targets.titles_of(session, errors)
        return {
            "alive": any(d["alive"] for d in daemons),
            "daemons": daemons,
            "earlier_daemons": len(seen) - len(daemons),
            "queue": job_counts.count_by_status(session, owner),
            "last_errors": [job_view(j, titles.get(j.id)) for j in errors],
        }


def shown_daemons(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The daemons alive now (the rule of the no-daemon warning); when none is, only the
    last one seen, to say when uploads last ran. Each `--once` run is a daemon of its own:
    the others are only counted."""
    alive = [d for d in seen if d["alive"]]
    return alive or seen[:1]


def _only_own_uploads(daemons: list[dict[str, Any]], uploading: dict[str, int]) -> None:
    """A daemon's heartbeat counts everyone's uploads: an artist is shown their own."""
    for daemon in daemons:
        daemon["in_flight"] = uploading.get(daemon["id"], 0)


def _daemon_view(row: Any, moment: Any) -> dict[str, Any]:
    age = (moment - clock.as_utc(row.last_seen)).total_seconds()
    return {
        "id": row.id,
        "machine_id": row.machine_id,
        "pid": row.pid,
        "last_seen": clock.iso(row.last_seen),
        "age_seconds": round(age, 1),
        "in_flight": row.in_flight,
        "alive": row.stopped_at is None and age <= ALIVE_WITHIN.total_seconds(),
        "stopped_at": clock.iso(row.stopped_at),
    }
