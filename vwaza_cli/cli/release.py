"""`vwaza release`: create and manage your releases."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import (
    PAGE_SIZE,
    Interrupted,
    Json,
    Limit,
    Offset,
    Page,
    ReleaseStatusOption,
    Yes,
    confirm,
    json_mode,
    rows_to_skip,
)
from vwaza_cli.cli.store_options import (
    CLine,
    Label,
    Language,
    OriginalDate,
    PLine,
    ReleaseDate,
    Upc,
    release_change,
)
from vwaza_cli.client import connect

if TYPE_CHECKING:
    from vwaza_cli.client.base import Backend
    from vwaza_cli.watching import UploadProgress

app = typer.Typer(help="Create, edit, submit and delete releases.", no_args_is_help=True)

ReleaseId = Annotated[str, typer.Argument(help="Release ID (or a unique prefix of 8+ characters).")]
CoverPath = Annotated[Path, typer.Argument(help="JPEG or PNG, square, at least 1000x1000.")]


@app.command()
def create(
    title: Annotated[str, typer.Argument(help="The release's title.")],
    genre: Annotated[str, typer.Option("--genre", help="Musical genre, e.g. 'Hip Hop'.")],
    cover: Annotated[Path | None, typer.Option("--cover", help="Cover art to stage now.")] = None,
    upc: Upc = None,
    release_date: ReleaseDate = None,
    original_release_date: OriginalDate = None,
    label: Label = None,
    p_line: PLine = None,
    c_line: CLine = None,
    language: Language = None,
    json: Json = False,
) -> None:
    """Create a release (status DRAFT).

    Give the store metadata known so far; `release edit` adds the rest.

    Example: vwaza release create "Night Drive" --genre Electronic --cover art.jpg
    --release-date 2026-03-01 --p-line "2026 Night Owl Records"
    """
    change = release_change(
        upc, release_date, original_release_date, label, p_line, c_line, language
    )
    release = connect().create_release(title, genre, cover, change)
    output.emit(release, output.show_release)
    output.say(f"next: `vwaza track add {release['id'][:8]} FILE`")


@app.command("list")
def list_(
    status: ReleaseStatusOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Everyone's releases (admins).")] = False,
    limit: Limit = PAGE_SIZE,
    offset: Offset = None,
    page: Page = None,
    json: Json = False,
) -> None:
    """List your releases, newest first, 100 at a time (--limit, --offset).

    Example: vwaza release list --status DRAFT --offset 100
    """
    skip = rows_to_skip(limit, offset, page)
    backend = connect()
    rows = backend.list_releases(status, all_, limit, skip)
    output.emit(rows, output.releases_table)
    output.more_rows_hint(rows, limit, skip)
    if not rows and not skip and not all_ and backend.may_list_all():
        output.say("hint: no releases of your own; `vwaza release list --all` lists everyone's")


@app.command()
def show(release_id: ReleaseId, json: Json = False) -> None:
    """Show a release with its tracks in order and their upload state.

    Example: vwaza release show 1f2e3d4c
    """
    output.emit(connect().show_release(release_id), output.show_release)


@app.command()
def edit(
    release_id: ReleaseId,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    genre: Annotated[str | None, typer.Option("--genre", help="New genre.")] = None,
    upc: Upc = None,
    release_date: ReleaseDate = None,
    original_release_date: OriginalDate = None,
    label: Label = None,
    p_line: PLine = None,
    c_line: CLine = None,
    language: Language = None,
    json: Json = False,
) -> None:
    """Change a release's title, genre or store metadata (DRAFT or REJECTED releases).

    Example: vwaza release edit 1f2e3d4c --title "Night Drive (Deluxe)" --upc 036000291452
    """
    change = release_change(
        upc, release_date, original_release_date, label, p_line, c_line, language
    )
    output.emit(connect().edit_release(release_id, title, genre, change), output.show_release)


@app.command()
def cover(release_id: ReleaseId, path: CoverPath, json: Json = False) -> None:
    """Stage cover art; it uploads in the background.

    Example: vwaza release cover 1f2e3d4c art/cover.jpg
    """
    release = connect().set_cover(release_id, path)
    output.emit(release, output.show_release)


@app.command()
def submit(
    release_id: ReleaseId,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Wait until the release is in review (exit 0) or an upload FAILED, it went "
            "back to DRAFT or the time ran out (exit 7).",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0, metavar="SECONDS", help="How long --wait waits."),
    ] = 600,
    json: Json = False,
) -> None:
    """Submit for review: PROCESSING until every file is uploaded, then PENDING_REVIEW.

    Uploads need a running daemon (`vwaza-daemon`); a warning says when none is.

    Example: vwaza release submit 1f2e3d4c --wait
    """
    backend = connect()
    release = backend.submit(release_id)
    if wait:
        release = _wait(backend, release, timeout)
    output.emit(release, output.done(f"release {release['id'][:8]} is {release['status']}"))


def _wait(backend: Backend, submitted: dict[str, Any], timeout: float) -> dict[str, Any]:
    """The release once in review. The submit's warnings are said now, before the wait."""
    warnings = submitted["warnings"]
    if not json_mode.get():
        output.warn(warnings)
        warnings = []
    try:
        with _progress_display() as show:
            waited = backend.wait_for_release(submitted["id"], timeout, show)
    except KeyboardInterrupt:
        short = submitted["id"][:8]
        raise Interrupted(
            f"stopped waiting; release {short} stays submitted (`vwaza release show {short}`)"
        ) from None
    return {**waited, "warnings": warnings}


@contextmanager
def _progress_display() -> Iterator[_UploadBar | None]:
    """A bar on stderr while waiting, for people at a terminal only."""
    if json_mode.get() or not sys.stderr.isatty():
        yield None
        return
    bar = _UploadBar()
    try:
        yield bar
    finally:
        bar.progress.stop()


class _UploadBar:
    """`uploading Night Drive ━━━━━━━━━━ 2/3 files 0:00:12`, updated at each look."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TimeElapsedColumn(),
            console=output.stderr_console(),
            transient=True,
        )
        self.task = self.progress.add_task("uploading", total=None)
        self.progress.start()

    def __call__(self, now: UploadProgress) -> None:
        description = f"uploading {now.title}"
        self.progress.update(
            self.task, description=description, completed=now.uploaded, total=now.total
        )


@app.command()
def delete(release_id: ReleaseId, yes: Yes = False, json: Json = False) -> None:
    """Delete a release, its tracks, jobs and staged files.

    Declining the question deletes nothing and exits 0.

    Example: vwaza release delete 1f2e3d4c --yes
    """
    backend = connect()
    if not confirm(f"Delete release {release_id} and its tracks?", yes):
        output.emit({"deleted": False}, output.done("nothing deleted"))
        return
    result = backend.delete_release(release_id)
    output.emit(result, output.done(f"deleted release {result['id'][:8]}"))
