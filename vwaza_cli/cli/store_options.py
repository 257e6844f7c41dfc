"""The store metadata options (spec/distribution.md), defined once: `release create/edit`
take the release's, `track add/edit` the track's. Values are passed on as typed; the
services check them (services/metadata.py) and refuse bad ones with exit 6."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vwaza_cli.cli import clicks

if TYPE_CHECKING:
    from vwaza_cli.services.metadata import ReleaseChange, TrackChange

STORE = "Store metadata"  # the help panel these options are listed under


def _text(flag: str, text: str, metavar: str = "TEXT") -> typer.models.OptionInfo:
    return typer.Option(flag, help=text, metavar=metavar, rich_help_panel=STORE)


Upc = Annotated[
    str | None, _text("--upc", "UPC-A or EAN-13 with its check digit ('' clears).", "CODE")
]
ReleaseDate = Annotated[str | None, _text("--release-date", "YYYY-MM-DD ('' clears).", "DATE")]
OriginalDate = Annotated[
    str | None,
    _text(
        "--original-release-date", "YYYY-MM-DD, for a reissue; not after --release-date.", "DATE"
    ),
]
Label = Annotated[
    str | None, _text("--label", "The label's name (default in exports: the artist).")
]
PLine = Annotated[
    str | None, _text("--p-line", "e.g. '2026 Night Owl Records' (the (P) is implied).")
]
CLine = Annotated[
    str | None, _text("--c-line", "e.g. '2026 Night Owl Records' (the (C) is implied).")
]
Language = Annotated[
    str | None, _text("--language", "ISO 639-1 code of the titles: en, pt, ...", "CODE")
]


def release_change(
    upc: str | None,
    release_date: str | None,
    original_release_date: str | None,
    label: str | None,
    p_line: str | None,
    c_line: str | None,
    language: str | None,
) -> ReleaseChange:
    from vwaza_cli.services.metadata import ReleaseChange

    return ReleaseChange(upc, release_date, original_release_date, label, p_line, c_line, language)


def _flag(flag: str, text: str) -> typer.models.OptionInfo:
    return typer.Option(flag, help=text, rich_help_panel=STORE)


def _names(flag: str, text: str) -> typer.models.OptionInfo:
    return typer.Option(flag, help=text, metavar="NAME", rich_help_panel=STORE)


Explicit = Annotated[bool, _flag("--explicit", "The track has explicit content.")]
Clean = Annotated[bool, _flag("--clean", "An edited version of explicit content.")]
NotExplicit = Annotated[bool, _flag("--not-explicit", "No explicit content.")]
Featuring = Annotated[
    list[str] | None,
    _names("--featuring", "A featured artist (repeat; on edit replaces; '' clears)."),
]
Composer = Annotated[
    list[str] | None, _names("--composer", "A composer (repeat; on edit replaces).")
]
Lyricist = Annotated[
    list[str] | None, _names("--lyricist", "A lyricist (repeat; on edit replaces).")
]
Producer = Annotated[
    list[str] | None, _names("--producer", "A producer (repeat; on edit replaces).")
]


def explicit_value(explicit: bool, clean: bool, not_explicit: bool) -> str | None:
    """The one flag given, as its value; two at once is a usage error."""
    given = [name for name, on in (("explicit", explicit), ("clean", clean),
                                   ("not_explicit", not_explicit)) if on]  # fmt: skip
    if len(given) > 1:
        raise clicks.UsageError("give one of --explicit, --clean and --not-explicit")
    return given[0] if given else None


def track_change(
    explicit: str | None,
    featuring: list[str] | None,
    composers: list[str] | None,
    lyricists: list[str] | None,
    producers: list[str] | None,
) -> TrackChange:
    from vwaza_cli.services.metadata import TrackChange

    # typer gives an empty list for a repeatable option not given: that is "not given"
    return TrackChange(explicit, featuring or None, composers or None, lyricists or None,
                       producers or None)  # fmt: skip
