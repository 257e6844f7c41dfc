"""`vwaza serve` records in the store that it serves it, so that `vwaza doctor` on another
machine holding the store's URL can say to work through the server instead."""

from __future__ import annotations

from vwaza_cli import clock
from vwaza_cli.db import team_servers
from vwaza_cli.db.models import TeamServer
from vwaza_cli.services.context import Context


def record_start(ctx: Context, address: str) -> None:
    """This machine's server has started at ``address`` (one row per machine)."""
    row = TeamServer(machine_id=ctx.settings.machine_id, address=address, started_at=clock.now())
    with ctx.tx() as session:
        team_servers.record_start(session, row)


def record_stop(ctx: Context) -> None:
    """Stopped cleanly: no longer a server that uses the store (a crash leaves it one)."""
    with ctx.tx() as session:
        team_servers.record_stop(session, ctx.settings.machine_id, clock.now())
