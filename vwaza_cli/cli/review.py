"""`vwaza review`: admins approve or reject submitted releases."""

from __future__ import annotations

from typing import Annotated

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import PAGE_SIZE, Json, Limit, Offset, Page, rows_to_skip
from vwaza_cli.client import connect

app = typer.Typer(help="Review submitted releases (admins).", no_args_is_help=True)

ReleaseId = Annotated[str, typer.Argument(help="Release ID (or a unique prefix of 8+ characters).")]


@app.command("list")
def list_(
    limit: Limit = PAGE_SIZE, offset: Offset = None, page: Page = None, json: Json = False
) -> None:
    """Releases waiting for review, oldest first, 100 at a time (--limit, --offset).

    Example: vwaza review list
    """
    skip = rows_to_skip(limit, offset, page)
    rows = connect().pending_review(limit, skip)
    output.emit(rows, output.releases_table)
    output.more_rows_hint(rows, limit, skip)


@app.command()
def show(release_id: ReleaseId, json: Json = False) -> None:
    """Look at a release before deciding.

    Example: vwaza review show 1f2e3d4c
    """
    output.emit(connect().review_show(release_id), output.show_review)


@app.command()
def approve(release_id: ReleaseId, json: Json = False) -> None:
    """Publish a release (PENDING_REVIEW -> PUBLISHED).

    Example: vwaza review approve 1f2e3d4c
    """
    release = connect().approve(release_id)
    output.emit(release, output.done(f"published {release['title']}"))


@app.command()
def reject(
    release_id: ReleaseId,
    reason: Annotated[str, typer.Option("--reason", help="What the artist should fix.")],
    json: Json = False,
) -> None:
    """Reject a release with a reason the artist will see.

    Example: vwaza review reject 1f2e3d4c --reason "Cover art is blurry"
    """
    release = connect().reject(release_id, reason)
    output.emit(release, output.done(f"rejected {release['title']}"))
