"""`vwaza doctor`: is everything set up right? Each failing line says how to fix it."""

from __future__ import annotations

from typing import Any

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import Json

STATUS = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def _render(report: dict[str, Any]) -> None:
    rows = [
        [c["name"], STATUS[c["status"]], output.escape(c["detail"]), output.escape(c["fix"])]
        for c in report["checks"]
    ]
    output.table(["check", "status", "detail", "how to fix"], rows)


def doctor(json: Json = False) -> None:
    """Check config, store, spool, storage, SMTP, daemon, jobs, team server: exit 0 if all is well.

    Exits 7 when a check fails.

    Example: vwaza doctor --json
    """
    from vwaza_cli.services.doctor import run_checks

    report = run_checks()
    output.emit(report, _render)
    if not report["ok"]:
        raise typer.Exit(7)
