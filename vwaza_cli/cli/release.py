"""`vwaza release`: create and manage your releases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.common import context
from vwaza_cli.cli.options import Json, Yes, confirm

app = typer.Typer(help="Create, edit, submit and delete releases.", no_args_is_help=True)

ReleaseId = Annotated[str, typer.Argument(help="Release ID (or a unique prefix of 8+ characters).")]
CoverPath = Annotated[Path, typer.Argument(help="JPEG or PNG, square, at least 1000x1000.")]


@app.command()
def create(
    title: Annotated[str, typer.Argument(help="The release's title.")],
    genre: Annotated[str, typer.Option("--genre", help="Musical genre, e.g. 'Hip Hop'.")],
    cover: Annotated[Path | None, typer.Option("--cover", help="Cover art to stage now.")] = None,
    json: Json = False,
) -> None:
    """Create a release (status DRAFT).

    Example: vwaza release create "Night Drive" --genre Electronic --cover art.jpg
    """
    from vwaza_cli.services import releases

    release = releases.create_release(context(), title, genre, cover)
    output.emit(release, output.show_release)
    output.say(f"next: `vwaza track add {release['id'][:8]} FILE`")


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Everyone's releases (admins).")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Page size.")] = 50,
    page: Annotated[int, typer.Option("--page", min=1, help="Page number, from 1.")] = 1,
    json: Json = False,
) -> None:
    """List your releases, newest first.

    Example: vwaza release list --status DRAFT
    """
    from vwaza_cli.services import releases

    rows = releases.list_releases(context(), status, all_, limit, (page - 1) * limit)
    output.emit(rows, output.releases_table)


@app.command()
def show(release_id: ReleaseId, json: Json = False) -> None:
    """Show a release with its tracks in order and their upload state.

    Example: vwaza release show 1f2e3d4c
    """
    from vwaza_cli.services import releases

    output.emit(releases.show_release(context(), release_id), output.show_release)


@app.command()
def edit(
    release_id: ReleaseId,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    genre: Annotated[str | None, typer.Option("--genre", help="New genre.")] = None,
    json: Json = False,
) -> None:
    """Change a release's title or genre (DRAFT or REJECTED releases).

    Example: vwaza release edit 1f2e3d4c --title "Night Drive (Deluxe)"
    """
    from vwaza_cli.services import releases

    output.emit(releases.edit_release(context(), release_id, title, genre), output.show_release)


@app.command()
def cover(release_id: ReleaseId, path: CoverPath, json: Json = False) -> None:
    """Stage cover art; it uploads in the background.

    Example: vwaza release cover 1f2e3d4c art/cover.jpg
    """
    from vwaza_cli.services import releases

    output.emit(releases.set_cover(context(), release_id, path), output.show_release)


@app.command()
def submit(release_id: ReleaseId, json: Json = False) -> None:
    """Submit for review: PROCESSING until every file is uploaded, then PENDING_REVIEW.

    Example: vwaza release submit 1f2e3d4c
    """
    from vwaza_cli.services import releases

    release = releases.submit(context(), release_id)
    output.emit(release, output.done(f"release {release['id'][:8]} is {release['status']}"))


@app.command()
def delete(release_id: ReleaseId, yes: Yes = False, json: Json = False) -> None:
    """Delete a release, its tracks, jobs and staged files.

    Example: vwaza release delete 1f2e3d4c --yes
    """
    from vwaza_cli.services import releases

    confirm(f"Delete release {release_id} and its tracks?", yes)
    result = releases.delete_release(context(), release_id)
    output.emit(result, output.done(f"deleted release {result['id'][:8]}"))
