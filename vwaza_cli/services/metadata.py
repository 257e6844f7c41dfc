"""What the stores require of a release and its tracks (spec/distribution.md): the values
people give (`release create/edit`, `track add/edit`, catalog files), checked here once.

A change is a `ReleaseChange` or `TrackChange`: a field left None is not changed; an empty
text or an empty list clears it. `checked_release` / `checked_track` turn a change into the
column values to write, or refuse it (`InvalidInput`, exit 6) before anything is written.
A light module (stdnum and the standard library), so the command line can name the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from stdnum import ean
from stdnum.exceptions import ValidationError

from vwaza_cli.enums import ContributorRole, Explicit, ReleaseType
from vwaza_cli.errors import InvalidInput
from vwaza_cli.services.text import clean_text
from vwaza_cli.textsafe import printable

# Lengths of the columns (db/models.py takes them from here: this module loads no ORM).
NAME_LENGTH = 200  # a label's, a featured artist's or a contributor's name
LINE_LENGTH = 300  # a (P) or (C) line
MAX_NAMES = 50  # featured artists, or contributors of one role, on one track

# ISO 639-1: the two-letter language codes (the standard's 183 and `sh`, still in use).
LANGUAGES = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho
    hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv
    kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr
    nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so
    sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo
    xh yi yo za zh zu""".split()
)


@dataclass(frozen=True)
class ReleaseChange:
    """The store metadata given for a release, as typed (None: not given)."""

    upc: str | None = None
    release_date: str | None = None
    original_release_date: str | None = None
    label: str | None = None
    p_line: str | None = None
    c_line: str | None = None
    language: str | None = None

    def given(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def as_json(self) -> dict[str, str]:
        """The given fields (what the team server's request body carries)."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}


@dataclass(frozen=True)
class TrackChange:
    """The store metadata given for a track, as typed (None: not given; a list replaces
    that list, and a list of one empty name clears it)."""

    explicit: str | None = None
    featured_artists: list[str] | None = None
    composers: list[str] | None = None
    lyricists: list[str] | None = None
    producers: list[str] | None = None

    def given(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def as_json(self) -> dict[str, Any]:
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}

    def credits(self) -> dict[ContributorRole, list[str] | None]:
        return {
            ContributorRole.COMPOSER: self.composers,
            ContributorRole.LYRICIST: self.lyricists,
            ContributorRole.PRODUCER: self.producers,
        }


def track_change_from_json(body: dict[str, Any]) -> TrackChange:
    """A change as `as_json` wrote it (the team server's request body)."""
    known = {f.name for f in fields(TrackChange)}
    return TrackChange(**{k: v for k, v in body.items() if k in known})


def release_change_from_json(body: dict[str, Any]) -> ReleaseChange:
    known = {f.name for f in fields(ReleaseChange)}
    return ReleaseChange(**{k: v for k, v in body.items() if k in known})


# --- releases -----------------------------------------------------------------------------


def checked_release(change: ReleaseChange, current: dict[str, Any]) -> dict[str, Any]:
    """The release columns to write for ``change``; ``current`` holds the release's present
    `release_date` and `original_release_date` (dates or None) for the rule between them."""
    values: dict[str, Any] = {}
    if change.upc is not None:
        values["upc"] = normalise_upc(change.upc)
    for name in ("release_date", "original_release_date"):
        typed = getattr(change, name)
        if typed is not None:
            values[name] = parse_date(typed, name)
    for name, length in (("label", NAME_LENGTH), ("p_line", LINE_LENGTH), ("c_line", LINE_LENGTH)):
        typed = getattr(change, name)
        if typed is not None:
            values[name] = optional_text(typed, name, length)
    if change.language is not None:
        values["language"] = normalise_language(change.language)
    _check_dates_in_order({**current, **values})
    return values


def normalise_upc(value: str) -> str | None:
    """A UPC-A (12 digits) or EAN-13 with a valid check digit, as 13 digits; "" clears."""
    if not value.strip():
        return None
    try:
        code = str(ean.validate(value))
    except ValidationError:
        code = ""
    if len(code) not in (12, 13):
        raise InvalidInput(
            f"invalid UPC '{printable(value)}': expected a UPC-A (12 digits) or EAN-13 "
            "(13 digits) with its check digit, e.g. 036000291452"
        )
    return code.zfill(13)


def parse_date(value: str, field: str) -> date | None:
    """An ISO date YYYY-MM-DD; "" clears."""
    if not value.strip():
        return None
    try:
        if len(value.strip()) != 10:
            raise ValueError(value)
        return date.fromisoformat(value.strip())
    except ValueError:
        option = "--" + field.replace("_", "-")
        raise InvalidInput(
            f"invalid {option} '{printable(value)}': expected a date YYYY-MM-DD, e.g. 2026-03-01"
        ) from None


def _check_dates_in_order(values: dict[str, Any]) -> None:
    released, original = values.get("release_date"), values.get("original_release_date")
    if released is not None and original is not None and original > released:
        raise InvalidInput(
            f"the original release date {original.isoformat()} is after the release date "
            f"{released.isoformat()}: a reissue's original date comes first"
        )


def normalise_language(value: str) -> str | None:
    """An ISO 639-1 code (any case), lower-case; "" clears."""
    code = value.strip().lower()
    if not code:
        return None
    if code not in LANGUAGES:
        raise InvalidInput(
            f"unknown language '{printable(value)}': expected an ISO 639-1 code such as "
            "en, pt, fr, sw or yo"
        )
    return code


def optional_text(value: str, field: str, length: int) -> str | None:
    """Text by the text rule; blank clears."""
    return clean_text(value, field, length) if value.strip() else None


# --- tracks -------------------------------------------------------------------------------


def checked_track(change: TrackChange, contributors: list[dict[str, str]]) -> dict[str, Any]:
    """The track columns to write for ``change``; ``contributors`` are the track's present
    credits, of which each given role's list replaces that role's names."""
    values: dict[str, Any] = {}
    if change.explicit is not None:
        values["explicit"] = parse_explicit(change.explicit)
    if change.featured_artists is not None:
        values["featured_artists"] = names(change.featured_artists, "featured artist")
    if any(given is not None for given in change.credits().values()):
        values["contributors"] = _replace_credits(contributors, change)
    return values


def parse_explicit(value: str) -> Explicit | None:
    if not value.strip():
        return None
    wanted = value.strip().lower().replace("-", "_")
    if wanted not in {member.value for member in Explicit}:
        choices = ", ".join(member.value for member in Explicit)
        raise InvalidInput(f"unknown explicit value '{printable(value)}': expected {choices}")
    return Explicit(wanted)


def names(given: list[str], what: str) -> list[str]:
    """Names by the text rule, in order, repeats dropped; blanks dropped (so [""] clears)."""
    kept: list[str] = []
    for name in given:
        if name.strip():
            cleaned = clean_text(name, what, NAME_LENGTH)
            if cleaned not in kept:
                kept.append(cleaned)
    if len(kept) > MAX_NAMES:
        raise InvalidInput(f"too many {what}s: at most {MAX_NAMES}")
    return kept


def _replace_credits(current: list[dict[str, str]], change: TrackChange) -> list[dict[str, str]]:
    credits = change.credits()
    kept = [c for c in current if credits.get(ContributorRole(c["role"])) is None]
    for role, given in credits.items():
        if given is not None:
            kept += [{"name": name, "role": role.value} for name in names(given, role.value)]
    order = list(ContributorRole)
    return sorted(kept, key=lambda c: order.index(ContributorRole(c["role"])))


def credited(contributors: list[dict[str, str]] | None, role: ContributorRole) -> list[str]:
    return [c["name"] for c in contributors or [] if c["role"] == role.value]


# --- derived ------------------------------------------------------------------------------

TEN_MINUTES = 600.0
HALF_HOUR = 1800.0


def release_type(durations: list[float]) -> ReleaseType:
    """The stores' rule: 1-3 tracks each under 10 min and under 30 min in all: SINGLE;
    4-6 tracks under 30 min in all, or 1-3 with one of 10 min or more under 30 min in all:
    EP; anything else ALBUM (a release with no track yet counts as a SINGLE)."""
    total, count = sum(durations), len(durations)
    if total >= HALF_HOUR or count > 6:
        return ReleaseType.ALBUM
    if count <= 3 and all(d < TEN_MINUTES for d in durations):
        return ReleaseType.SINGLE
    return ReleaseType.EP
