"""`vwaza daemon status`: is an upload daemon alive, how deep is the queue, what failed."""

from __future__ import annotations

from typing import Any

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.common import context
from vwaza_cli.cli.options import Json

app = typer.Typer(help="The upload daemon (run it with `vwaza-daemon`).", no_args_is_help=True)


def _render(status: dict[str, Any]) -> None:
    alive = "[green]yes[/]" if status["alive"] else "[red]no[/]: start `vwaza-daemon`"
    queue = ", ".join(f"{n} {s}" for s, n in status["queue"].items())
    output.fields([("daemon alive", alive), ("queue", queue)])
    if status["daemons"]:
        rows = [
            [
                output.escape(d["machine_id"]),
                str(d["pid"]),
                f"{d['age_seconds']:.0f}s ago",
                str(d["in_flight"]),
                "yes" if d["alive"] else "no",
            ]
            for d in status["daemons"]
        ]
        output.table(["machine", "pid", "last heartbeat", "uploading", "alive"], rows)
    if status["last_errors"]:
        output.jobs_table(status["last_errors"])


@app.command()
def status(json: Json = False) -> None:
    """Whether a daemon is alive, the queue depth and the last errors.

    Example: vwaza daemon status --json
    """
    from vwaza_cli.services import daemon_status

    output.emit(daemon_status.status(context()), _render)
