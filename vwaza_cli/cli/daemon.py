"""`vwaza daemon status`: is an upload daemon alive, how deep is the queue, what failed."""

from __future__ import annotations

from typing import Any

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import Json
from vwaza_cli.client import connect

app = typer.Typer(help="The upload daemon (run it with `vwaza-daemon`).", no_args_is_help=True)


def _render(status: dict[str, Any]) -> None:
    alive = "[green]yes[/]" if status["alive"] else "[red]no[/]: start `vwaza-daemon`"
    queue = ", ".join(f"{n} {s}" for s, n in status["queue"].items())
    summary = [("daemon alive", alive), ("queue", queue), ("last errors", _errors(status))]
    if status["earlier_daemons"]:
        summary.append(("earlier", f"{status['earlier_daemons']} more daemon(s) in the last day"))
    output.fields(summary)
    if status["daemons"]:
        rows = [
            [
                output.escape(d["machine_id"]),
                str(d["pid"]),
                _ago(d["age_seconds"]),
                str(d["in_flight"]),
                "yes" if d["alive"] else "no",
            ]
            for d in status["daemons"]
        ]
        output.table(["machine", "pid", "last heartbeat", "uploading", "alive"], rows)
    if status["last_errors"]:
        output.jobs_table(status["last_errors"])


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"


def _errors(status: dict[str, Any]) -> str:
    shown = len(status["last_errors"])
    return f"{shown}, newest first (below)" if shown else "none"


@app.command()
def status(json: Json = False) -> None:
    """Whether a daemon is alive, the queue depth and the last errors.

    Example: vwaza daemon status --json
    """
    output.emit(connect().daemon_status(), _render)
