"""`vwaza track`: the ordered tracks of a release."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vwaza_cli.cli import output, progress
from vwaza_cli.cli.options import Json
from vwaza_cli.cli.store_options import (
    Clean,
    Composer,
    Explicit,
    Featuring,
    Lyricist,
    NotExplicit,
    Producer,
    explicit_value,
    track_change,
)
from vwaza_cli.client import connect

app = typer.Typer(help="Add, list, edit, reorder and remove tracks.", no_args_is_help=True)

TrackId = Annotated[str, typer.Argument(help="Track ID (or a unique prefix of 8+ characters).")]
ReleaseId = Annotated[str, typer.Argument(help="Release ID (or a unique prefix of 8+ characters).")]


@app.command()
def add(
    release_id: ReleaseId,
    path: Annotated[Path, typer.Argument(help="WAV, FLAC, AIFF, M4A, MP3, Ogg Vorbis or Opus.")],
    title: Annotated[str | None, typer.Option("--title", help="Default: the file's name.")] = None,
    order: Annotated[
        int | None,
        typer.Option("--order", help="Track number, 1..n+1 (a taken one: exit 5); default: next."),
    ] = None,
    isrc: Annotated[str | None, typer.Option("--isrc", help="e.g. USRC17607839.")] = None,
    explicit: Explicit = False,
    clean: Clean = False,
    not_explicit: NotExplicit = False,
    featuring: Featuring = None,
    composer: Composer = None,
    lyricist: Lyricist = None,
    producer: Producer = None,
    json: Json = False,
) -> None:
    """Add a track; its duration is read from the file, and it uploads in the background.

    Example: vwaza track add 1f2e3d4c audio/01-intro.flac --title Intro --isrc USRC17607839
    --not-explicit --composer "Ada Obi"
    """
    flag = explicit_value(explicit, clean, not_explicit)
    change = track_change(flag, featuring, composer, lyricist, producer)
    with progress.taking_in(path) as told:
        track = connect().add_track(release_id, path, title, order, isrc, told, change)
    output.emit(track, output.show_track)


@app.command("list")
def list_(release_id: ReleaseId, json: Json = False) -> None:
    """List a release's tracks in order.

    Example: vwaza track list 1f2e3d4c
    """
    output.emit(connect().list_tracks(release_id), output.tracks_table)


@app.command()
def show(track_id: TrackId, json: Json = False) -> None:
    """Show a track: its upload, its measurements (loudness, peaks, silences) with their
    warnings, and its renditions once made.

    Example: vwaza track show 9a8b7c6d
    """
    output.emit(connect().show_track(track_id), output.show_track)


@app.command()
def edit(
    track_id: TrackId,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    isrc: Annotated[str | None, typer.Option("--isrc", help="New ISRC ('' clears it).")] = None,
    preview_start: Annotated[
        float | None,
        typer.Option(
            "--preview-start",
            min=0,
            metavar="SECONDS",
            help="Where the 30-second preview starts; the daemon makes it again.",
        ),
    ] = None,
    explicit: Explicit = False,
    clean: Clean = False,
    not_explicit: NotExplicit = False,
    featuring: Featuring = None,
    composer: Composer = None,
    lyricist: Lyricist = None,
    producer: Producer = None,
    json: Json = False,
) -> None:
    """Change a track's title, ISRC, preview start or store metadata; a list option
    replaces that list (give it empty to clear it: --featuring '').

    Example: vwaza track edit 9a8b7c6d --isrc US-RC1-76-07839 --preview-start 62.5 --clean
    """
    flag = explicit_value(explicit, clean, not_explicit)
    change = track_change(flag, featuring, composer, lyricist, producer)
    changed = connect().edit_track(track_id, title, isrc, preview_start, change)
    output.emit(changed, output.show_track)


@app.command()
def move(
    track_id: TrackId,
    to: Annotated[int, typer.Option("--to", help="New track number; the others shift.")],
    json: Json = False,
) -> None:
    """Move a track to another position; the others shift so numbers stay 1..n.

    Example: vwaza track move 9a8b7c6d --to 1
    """
    output.emit(connect().move_track(track_id, to), output.tracks_table)


@app.command()
def remove(track_id: TrackId, json: Json = False) -> None:
    """Remove a track (and its staged file); the others close the gap.

    Example: vwaza track remove 9a8b7c6d
    """
    result = connect().remove_track(track_id)
    output.emit(result, output.done(f"removed track {result['id'][:8]}"))
