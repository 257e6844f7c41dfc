"""`vwaza jobs`: the upload queue."""

from __future__ import annotations

from typing import Annotated

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import JobStatusOption, Json
from vwaza_cli.client import connect

app = typer.Typer(help="See and retry upload jobs.", no_args_is_help=True)


@app.command("list")
def list_(
    status: JobStatusOption = None,
    json: Json = False,
) -> None:
    """List upload jobs (yours; an admin sees all).

    Example: vwaza jobs list --status FAILED
    """
    output.emit(connect().list_jobs(status), output.jobs_table)


@app.command()
def retry(
    job_id: Annotated[str | None, typer.Argument(help="A FAILED job's ID.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Retry every FAILED job.")] = False,
    json: Json = False,
) -> None:
    """Queue FAILED uploads again.

    Example: vwaza jobs retry --failed
    """
    from vwaza_cli.cli import clicks

    if bool(job_id) == failed:
        raise clicks.UsageError("give either a JOB_ID or --failed")
    result = connect().retry_jobs(job_id)
    message = f"{result['retried']} job(s) queued again" if failed else "queued again"
    output.emit(result, output.done(message))
