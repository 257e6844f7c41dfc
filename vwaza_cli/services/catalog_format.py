"""Reading catalog files (JSON or CSV, shared/spec/catalog.md) into plain entries, with every
structural problem collected (never the first one only)."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, NoReturn
from urllib.parse import unquote, urlparse

from vwaza_cli.emails import email_key
from vwaza_cli.enums import ContributorRole
from vwaza_cli.errors import InvalidCatalog, InvalidInput
from vwaza_cli.media import display_name
from vwaza_cli.services.metadata import ReleaseChange, TrackChange, credited
from vwaza_cli.services.text import clean_text
from vwaza_cli.storage.download import is_url
from vwaza_cli.textsafe import printable

# the store metadata (spec/distribution.md): each key a field of ReleaseChange / TrackChange
RELEASE_METADATA = (
    "upc",
    "release_date",
    "original_release_date",
    "label",
    "p_line",
    "c_line",
    "language",
)
CREDIT_KEYS = {  # a role's names as one list: CSV's columns, and accepted in JSON too
    "composers": ContributorRole.COMPOSER,
    "lyricists": ContributorRole.LYRICIST,
    "producers": ContributorRole.PRODUCER,
}
NAME_LISTS = ("featured_artists", *CREDIT_KEYS)
LIST_SEPARATOR = ";"  # between the names of a CSV list cell
RELEASE_KEYS = {
    "external_id",
    "artist_email",
    "title",
    "genre",
    "cover_art",
    "submit",
    "tracks",
    *RELEASE_METADATA,
}
TRACK_KEYS = {"order", "title", "file", "isrc", "explicit", "contributors", *NAME_LISTS}
# key -> its longest: releases.external_id is VARCHAR(200); an email address is at most 320
SCREENED_KEYS = {"external_id": 200, "artist_email": 320}
SHOWN_LENGTH = 40  # characters of a bad value quoted in a problem
IGNORED_KEYS = {"status", "id"}  # written by `catalog export`, ignored on import
CSV_COLUMNS = (
    "external_id",
    "artist_email",
    "title",
    "genre",
    "cover_art",
    "submit",
    "track_order",
    "track_title",
    "file",
    "isrc",
    *RELEASE_METADATA,
    "explicit",
    *NAME_LISTS,
)
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


# the order of a release's (then a track's) keys in the file: problems come out in this order
RELEASE_RANK = (
    "release",
    "external_id",
    "artist_email",
    "title",
    "genre",
    "cover_art",
    "submit",
    *RELEASE_METADATA,
    "tracks",
    "order",
)
TRACK_RANK = (
    "track",
    "order",
    "title",
    "file",
    "isrc",
    "explicit",
    "featured_artists",
    "contributors",
    *CREDIT_KEYS,
)
CATALOG = (-1, 0)  # where a problem of the whole file sits: before every release


@dataclass(frozen=True)
class Problem:
    release: str
    track: int | None
    field: str
    message: str
    at: tuple[int, int] = CATALOG  # (release's index, track's 1-based place; 0: the release)

    def sort_key(self) -> tuple[int, int, int]:
        ranks = TRACK_RANK if self.at[1] else RELEASE_RANK
        rank = ranks.index(self.field) if self.field in ranks else len(ranks)
        return (*self.at, rank)

    def line(self) -> str:
        where = f"{self.release} track {self.track}" if self.track is not None else self.release
        return f"{where} {self.field}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "track": self.track,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class TrackEntry:
    order: int | None
    title: str | None
    file: str | None
    isrc: str | None
    position: int = 0  # 1-based place in the list: names the track when its order is bad
    bad: set[str] = field(default_factory=set)  # fields already reported as malformed
    change: TrackChange = field(default_factory=TrackChange)  # the store metadata, as given
    # a field of ``change`` given under another key (a role's names in `contributors`)
    given_as: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> int:
        return self.order if self.order is not None else self.position


@dataclass
class ReleaseEntry:
    external_id: str | None
    artist_email: str | None
    title: str | None
    genre: str | None
    cover_art: str | None
    submit: bool
    change: ReleaseChange = field(default_factory=ReleaseChange)  # the store metadata, as given
    tracks: list[TrackEntry] = field(default_factory=list)
    index: int = 0
    bad: set[str] = field(default_factory=set)  # fields already reported as malformed
    digest: bytes = b""  # of the entry's text in the file: the same file read twice agrees

    @property
    def label(self) -> str:
        return self.external_id or self.title or f"release #{self.index + 1}"


class Collector:
    """Problems found so far, reported all at once."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.problems: list[Problem] = []
        # (release index, track place) -> how to tell the track from another of its order
        self.told_apart: dict[tuple[int, int], str] = {}

    def add(
        self,
        release: str,
        track: int | None,
        field_name: str,
        message: str,
        at: tuple[int, int] = CATALOG,
    ) -> None:
        self.problems.append(Problem(release, track, field_name, message, at))

    def on_release(self, entry: ReleaseEntry, field_name: str, message: str) -> None:
        self.add(entry.label, None, field_name, message, (entry.index, 0))

    def on_track(
        self, entry: ReleaseEntry, track: TrackEntry, field_name: str, message: str
    ) -> None:
        self.add(entry.label, track.where, field_name, message, (entry.index, track.position))

    def tell_apart(self, entry: ReleaseEntry, track: TrackEntry) -> None:
        """The track shares its order with another: its problems also say which it is."""
        title = f'"{printable(track.title[:SHOWN_LENGTH])}", ' if track.title else ""
        self.told_apart[(entry.index, track.position)] = f"{title}#{track.position} in the list"

    def in_file_order(self) -> list[Problem]:
        ordered = sorted(self.problems, key=Problem.sort_key)  # stable: ties keep their order
        return [self._told_apart(p) for p in ordered]

    def _told_apart(self, problem: Problem) -> Problem:
        which = self.told_apart.get(problem.at)
        if which is None:
            return problem
        return replace(problem, message=f"{problem.message} (the track {which})")

    def raise_if_any(self) -> None:
        if self.problems:
            raise catalog_error(self.source, self.in_file_order())

    def fail(self, field_name: str, message: str) -> NoReturn:
        """The file cannot be read on: this is the one problem that matters."""
        raise catalog_error(self.source, [Problem("catalog", None, field_name, message)])


def catalog_error(source: Path, problems: list[Problem]) -> InvalidCatalog:
    error = InvalidCatalog(
        f"{display_name(source)}: {len(problems)} problem{'s' if len(problems) != 1 else ''}",
        [p.as_json() for p in problems],
    )
    error.details["lines"] = [p.line() for p in problems]
    return error


MAX_CATALOG_BYTES = 200 * 1024 * 1024
READ_BYTES = 1024 * 1024  # catalog bytes read at a time while streaming its releases


def resolve_source(catalog: Path, value: str) -> str | Path:
    """A catalog's file reference: an absolute path, a path relative to the catalog's folder,
    a file:// URL, or an https URL (streamed down; an http one is refused when fetched)."""
    if is_url(value):
        return value
    if value.startswith("file://"):
        return Path(unquote(urlparse(value).path))
    path = Path(value).expanduser()
    return path if path.is_absolute() else catalog.parent / path


def read_catalog(path: Path) -> tuple[list[ReleaseEntry], Collector]:
    """Parse a whole catalog; structural problems are collected, not raised (except when
    the file cannot be read as a catalog at all)."""
    reader = CatalogReader(path)
    return list(reader.entries()), reader.problems


class CatalogReader:
    """A catalog's releases one at a time, each screened, with its problems collected.

    A JSON catalog is streamed: memory holds one release, never the whole document. Each
    entry carries a digest of its text, so that a second pass can tell the same file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems = Collector(path)

    def entries(self) -> Iterator[ReleaseEntry]:
        collector = self.problems
        suffix = self.path.suffix.lower()
        if suffix not in (".json", ".csv"):
            collector.add("catalog", None, "file", "use a .json or .csv catalog file")
            collector.raise_if_any()
        with _open_catalog(self.path, collector) as handle:
            if suffix == ".json":
                found: Iterable[ReleaseEntry] = _JsonReleases(handle, collector).entries()
            else:
                found = _from_csv(_decode(handle.read(MAX_CATALOG_BYTES + 1), collector), collector)
            for entry in found:
                if not entry.digest:
                    entry.digest = _digest(repr(entry))
                _screen(entry, collector)
                yield entry


@contextmanager
def open_catalog(path: Path) -> Iterator[BinaryIO]:
    """The catalog file opened for reading, refused as an import would refuse it (its name
    gives no format, it cannot be read, it is no regular file or too big)."""
    collector = Collector(path)
    if path.suffix.lower() not in (".json", ".csv"):
        collector.fail("file", "use a .json or .csv catalog file")
    with _open_catalog(path, collector) as handle:
        yield handle


@contextmanager
def _open_catalog(path: Path, collector: Collector) -> Iterator[BinaryIO]:
    """A regular file of bounded size only: a FIFO would hang, /dev/zero would never end."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        collector.add("catalog", None, "file", "no such file")
    except IsADirectoryError:
        collector.add("catalog", None, "file", "is a folder, not a catalog file")
    except OSError as exc:
        collector.add("catalog", None, "file", f"cannot read it ({exc.strerror})")
    except ValueError:  # a NUL in the name, or a name the file system cannot encode
        collector.add("catalog", None, "file", "not a valid file name")
    collector.raise_if_any()
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            collector.add("catalog", None, "file", "not a regular file")
        elif info.st_size > MAX_CATALOG_BYTES:
            collector.add("catalog", None, "file", "too big for a catalog (over 200 MB)")
        collector.raise_if_any()
        yield handle


def _decode(data: bytes, collector: Collector) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        collector.fail("file", "not UTF-8 text")


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _screen(entry: ReleaseEntry, collector: Collector) -> None:
    """The text rule for the release's keys, which are looked up before anything else is
    checked: a refused value is reported and dropped. Titles and genres get the same rule,
    with their lengths, when the catalog is validated."""
    for key, limit in SCREENED_KEYS.items():
        value = getattr(entry, key)
        if value is None:
            continue
        try:
            clean_text(value, key, limit)
        except InvalidInput as exc:
            setattr(entry, key, None)
            entry.bad.add(key)
            collector.on_release(entry, key, exc.message)


# --- JSON ----------------------------------------------------------------------------------


_SPACE = re.compile(r"[ \t\n\r]*")


class _JsonReleases:
    """The releases of a JSON catalog, decoded one at a time from a moving window of the
    file's text: ``{"releases": [ ... ]}``, other top-level keys read and ignored."""

    def __init__(self, handle: BinaryIO, collector: Collector) -> None:
        self.handle, self.collector = handle, collector
        self.text = codecs.getincrementaldecoder("utf-8-sig")()
        self.decoder = json.JSONDecoder()
        self.buffer, self.pos, self.line, self.eof = "", 0, 1, False
        self.last = (0, 0)  # where the value read last lies in the window

    def entries(self) -> Iterator[ReleaseEntry]:
        found, listed = 0, False
        if self._peek() != "{":
            self._value()  # not JSON at all, or JSON of the wrong shape: say which
            self.collector.fail("releases", 'expected {"releases": [...]}')
        self.pos += 1
        while self._peek() != "}":
            key = self._value()
            if not isinstance(key, str):
                self._malformed("Expecting property name enclosed in double quotes")
            self._expect(":")
            if key == "releases" and self._peek() == "[":
                listed = True
                for index, (raw, digest) in enumerate(self._items(), start=found):
                    entry = _json_release(index, raw, self.collector)
                    entry.digest = digest
                    found = index + 1
                    yield entry
            elif key == "releases":
                self._value()
                self.collector.fail("releases", 'expected {"releases": [...]}')
            else:
                self._value()
            if self._peek() != "}":
                self._expect(",")
        self.pos += 1
        if self._peek():
            self._malformed("Extra data")
        if not listed:
            self.collector.fail("releases", 'expected {"releases": [...]}')

    def _items(self) -> Iterator[tuple[Any, bytes]]:
        self.pos += 1  # the [
        if self._peek() == "]":
            self.pos += 1
            return
        while True:
            value = self._value()
            start, end = self.last
            yield value, _digest(self.buffer[start:end])
            if self._peek() == "]":
                self.pos += 1
                return
            self._expect(",")

    def _value(self) -> Any:
        """The next JSON value, reading on until the window holds all of it."""
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                cut_short = exc.pos == len(self.buffer) or exc.msg.startswith("Unterminated")
                if cut_short and self._more():
                    continue
                self._malformed(exc.msg, exc.pos)
            except RecursionError:
                self.collector.fail("json", "not a catalog: nested too deeply")
            except ValueError:  # the one other failure: more digits than Python converts
                self.collector.fail("json", "not valid JSON: a number far too long")
            if end < len(self.buffer) or not self._more():  # a number may go on
                self.last, self.pos = (self.pos, end), end
                return value

    def _peek(self) -> str:
        """The next character after white space ("" at the end), without taking it."""
        while True:
            self.pos = _SPACE.match(self.buffer, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buffer) or not self._more():
                return self.buffer[self.pos : self.pos + 1]

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            self._malformed(f"Expecting {char!r} delimiter")
        self.pos += 1

    def _more(self) -> bool:
        """Read on into the window (dropping what was taken); False at the end."""
        if self.eof:
            return False
        taken = self.buffer[: self.pos]
        self.line += taken.count("\n")
        wanted = max(READ_BYTES, len(self.buffer) - self.pos)  # a long value: read in doubles
        data = self.handle.read(wanted)
        try:
            more = self.text.decode(data, final=not data)
        except UnicodeDecodeError:
            self.collector.fail("file", "not UTF-8 text")
        self.eof = not data
        self.buffer, self.pos = self.buffer[self.pos :] + more, 0
        return bool(data)

    def _malformed(self, message: str, pos: int | None = None) -> NoReturn:
        where = self.pos if pos is None else pos
        line = self.line + self.buffer.count("\n", 0, where)
        self.collector.fail("json", f"not valid JSON: {message} (line {line})")


def _json_release(index: int, raw: Any, collector: Collector) -> ReleaseEntry:
    if not isinstance(raw, dict):
        collector.add(f"release #{index + 1}", None, "release", "expected an object", (index, 0))
        return ReleaseEntry(
            None, None, None, None, None, False, index=index, bad={"title", "genre"}
        )
    entry = ReleaseEntry(
        external_id=_text(raw, "external_id"),
        artist_email=_text(raw, "artist_email"),
        title=_text(raw, "title"),
        genre=_text(raw, "genre"),
        cover_art=_text(raw, "cover_art"),
        submit=False,
        change=ReleaseChange(**{key: _text(raw, key) for key in RELEASE_METADATA}),
        index=index,
    )
    at = (index, 0)
    entry.submit = _flag(raw.get("submit", False), entry.label, collector, at, strict=True)
    entry.bad = _check_types(
        raw,
        ("external_id", "artist_email", "title", "genre", "cover_art", *RELEASE_METADATA),
        (entry.label, None, at),
        collector,
    )
    _unknown_keys(raw, RELEASE_KEYS, (entry.label, None, at), collector)
    tracks = raw.get("tracks", [])
    if not isinstance(tracks, list):
        collector.on_release(entry, "tracks", "expected a list of tracks")
        tracks = []
    entry.tracks = [_json_track(entry, n, t, collector) for n, t in enumerate(tracks)]
    return entry


def _json_track(entry: ReleaseEntry, position: int, raw: Any, collector: Collector) -> TrackEntry:
    if not isinstance(raw, dict):
        track = TrackEntry(None, None, None, None, position + 1, {"title", "file"})
        collector.on_track(entry, track, "track", "expected an object")
        return track
    order = raw.get("order", position + 1)
    track = TrackEntry(None, _text(raw, "title"), _text(raw, "file"), _text(raw, "isrc"))
    track.position = position + 1
    if isinstance(order, bool) or not isinstance(order, int):
        collector.on_track(entry, track, "order", f"expected a whole number, got {_shown(order)}")
    else:
        track.order = order
    where = (entry.label, track.where, (entry.index, track.position))
    track.bad = _check_types(raw, ("title", "file", "isrc", "explicit"), where, collector)
    _json_track_change(raw, track, where, collector)
    _unknown_keys(raw, TRACK_KEYS, where, collector)
    return track


def _json_track_change(
    raw: dict[str, Any], track: TrackEntry, where: Where, collector: Collector
) -> None:
    """The track's store metadata: `explicit`, the name lists, and `contributors` (whose
    names join their role's list, given under the key `contributors`)."""
    lists = {key: _name_list(raw, key, track, where, collector) for key in NAME_LISTS}
    for key, names in _contributors(raw, track, where, collector).items():
        if lists[key] is None:
            track.given_as[key] = "contributors"
        lists[key] = [*(lists[key] or []), *names]
    track.change = TrackChange(explicit=_text(raw, "explicit"), **lists)


def _name_list(
    raw: dict[str, Any], key: str, track: TrackEntry, where: Where, collector: Collector
) -> list[str] | None:
    """A list of names (None: not given, or reported as malformed)."""
    value = raw.get(key)
    if value is None or (isinstance(value, list) and all(isinstance(n, str) for n in value)):
        return value
    label, order, at = where
    collector.add(label, order, key, f"expected a list of names, got {_kind(value)}", at)
    track.bad.add(key)
    return None


def _kind(value: Any) -> str:
    """What a value that should be a list of text is, in a problem."""
    if isinstance(value, list):
        return "a list holding " + next(_shown(v) for v in value if not isinstance(v, str))
    return _shown(value)


CONTRIBUTOR = '{"name": text, "role": composer, lyricist or producer}'


def _contributors(
    raw: dict[str, Any], track: TrackEntry, where: Where, collector: Collector
) -> dict[str, list[str]]:
    """`contributors`, a list of {"name", "role"}, as each role's names (by CREDIT_KEYS key);
    every malformed item is reported."""
    value = raw.get("contributors")
    label, order, at = where
    if value is not None and not isinstance(value, list):
        collector.add(label, order, "contributors", f"expected a list of {CONTRIBUTOR}", at)
        track.bad.add("contributors")
        return {}
    credits: dict[str, list[str]] = {}
    for n, item in enumerate(value or [], start=1):
        key = _credit_key(item)
        if key is None:
            collector.add(label, order, "contributors", f"item {n} is not {CONTRIBUTOR}", at)
            track.bad.add("contributors")
        else:
            credits.setdefault(key, []).append(item["name"])
    return credits


def _credit_key(item: Any) -> str | None:
    """The CREDIT_KEYS key of one {"name", "role"} item; None if it is no such item."""
    if not isinstance(item, dict) or set(item) != {"name", "role"}:
        return None
    name, role = item["name"], item["role"]
    if not isinstance(name, str) or not isinstance(role, str):
        return None
    keys = {credit.value: key for key, credit in CREDIT_KEYS.items()}
    return keys.get(role.strip().lower())


def _shown(value: Any) -> str:
    """A value quoted in a problem: short, and never a walk through a nested structure."""
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "an object"
    text = repr(value)  # text, a number, a boolean or null: nothing nested
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 3] + "..."


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if isinstance(value, str):
        return value.strip() or None
    return None


# a problem's place: the release's label, the track's order (None: the release), sort key
Where = tuple[str, int | None, tuple[int, int]]


def _check_types(
    raw: dict[str, Any], keys: tuple[str, ...], where: Where, collector: Collector
) -> set[str]:
    """Report values that are not text; returns the keys reported."""
    label, track, at = where
    bad = set()
    for key in keys:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            collector.add(label, track, key, f"expected text, got {type(value).__name__}", at)
            bad.add(key)
    return bad


def _unknown_keys(raw: dict[str, Any], known: set[str], where: Where, collector: Collector) -> None:
    label, track, at = where
    for key in sorted(set(raw) - known - IGNORED_KEYS):
        collector.add(label, track, str(key), "unknown field (a typo?)", at)


def _flag(
    value: Any, label: str, collector: Collector, at: tuple[int, int], strict: bool = False
) -> bool:
    """true/false; a CSV cell may also say yes/no/1/0 (``strict``: JSON booleans only)."""
    if isinstance(value, bool):
        return value
    if not strict and isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    collector.add(label, None, "submit", f"expected true or false, got {_shown(value)}", at)
    return False


# --- CSV -----------------------------------------------------------------------------------


# A cell a spreadsheet would run as a formula (OWASP, "CSV injection"): written with a leading
# apostrophe, which spreadsheets show as text; reading takes exactly that apostrophe off again,
# so an export imports back unchanged. A cell that itself starts with one gets another.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def csv_cell(value: str) -> str:
    return QUOTE + value if value.startswith((*FORMULA_STARTS, QUOTE)) else value


def csv_value(cell: str) -> str:
    rest = cell[1:]
    return rest if cell.startswith(QUOTE) and rest.startswith((*FORMULA_STARTS, QUOTE)) else cell


def _from_csv(text: str, collector: Collector) -> list[ReleaseEntry]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _csv_releases(reader, collector)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        collector.add("catalog", None, "csv", f"not valid CSV: {exc} (line {reader.line_num})")
        collector.raise_if_any()
    return []


def _csv_releases(reader: csv.DictReader[str], collector: Collector) -> list[ReleaseEntry]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("title", "genre", "track_title", "file") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS and c not in IGNORED_KEYS]
    for column in missing:
        collector.add("catalog", None, column, "missing CSV column")
    for column in unknown:
        collector.add("catalog", None, column, "unknown CSV column (a typo?)")
    collector.raise_if_any()
    releases: dict[tuple[str, ...], ReleaseEntry] = {}
    for line_no, row in enumerate(reader, start=2):
        row = {k.strip(): csv_value((v or "").strip()) for k, v in row.items() if k is not None}
        _csv_row(row, line_no, releases, collector)
    return list(releases.values())


def _csv_row(
    row: dict[str, str],
    line_no: int,
    releases: dict[tuple[str, ...], ReleaseEntry],
    collector: Collector,
) -> None:
    key = (
        (row.get("external_id", ""),)
        if row.get("external_id")
        else (email_key(row.get("artist_email", "")), row.get("title", ""))
    )
    entry = releases.get(key)
    if entry is None:
        entry = ReleaseEntry(
            external_id=row.get("external_id") or None,
            artist_email=row.get("artist_email") or None,
            title=row.get("title") or None,
            genre=row.get("genre") or None,
            cover_art=row.get("cover_art") or None,
            submit=_flag(
                row.get("submit", ""),
                row.get("external_id") or row.get("title") or f"line {line_no}",
                collector,
                (len(releases), 0),
            ),
            change=ReleaseChange(**{c: row.get(c) or None for c in RELEASE_METADATA}),
            index=len(releases),
        )
        releases[key] = entry
    elif (column := _differing_column(row, entry)) is not None:
        collector.on_release(
            entry, column, f"line {line_no} repeats the release with other release columns"
        )
    if not (row.get("track_title") or row.get("file") or row.get("track_order")):
        return  # a release row without a track
    entry.tracks.append(_csv_track(entry, row, line_no, collector))


def _differing_column(row: dict[str, str], entry: ReleaseEntry) -> str | None:
    """The first release column a further row of the release gives otherwise, if any."""
    kept = {"genre": entry.genre, "cover_art": entry.cover_art}
    kept |= {c: getattr(entry.change, c) for c in RELEASE_METADATA}
    return next((c for c, value in kept.items() if (row.get(c) or None) != value), None)


def _csv_track(
    entry: ReleaseEntry, row: dict[str, str], line_no: int, collector: Collector
) -> TrackEntry:
    raw_order = row.get("track_order", "")
    track = TrackEntry(
        len(entry.tracks) + 1,
        row.get("track_title") or None,
        row.get("file") or None,
        row.get("isrc") or None,
        len(entry.tracks) + 1,
        change=_csv_track_change(row),
    )
    if raw_order:
        try:
            track.order = int(raw_order)
        except ValueError:
            track.order = None
            collector.on_track(
                entry,
                track,
                "order",
                f"line {line_no}: expected a whole number, got {_shown(raw_order)}",
            )
    return track


def _csv_track_change(row: dict[str, str]) -> TrackChange:
    lists = {column: split_names(row.get(column, "")) for column in NAME_LISTS}
    return TrackChange(explicit=row.get("explicit") or None, **lists)


def split_names(cell: str) -> list[str] | None:
    """A CSV list cell: names separated by `;`, each stripped (None: the cell is empty)."""
    if not cell:
        return None
    return [name.strip() for name in cell.split(LIST_SEPARATOR) if name.strip()]


# --- writing (export) ----------------------------------------------------------------------


def render_catalog(document: dict[str, Any], fmt: str) -> str:
    """The export document as JSON, or as CSV with one row per track."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "status"])
    for release in document["releases"]:
        for track in release["tracks"] or [None]:
            cells = [
                *_release_cells(release),
                *_track_cells(track),
                *_release_metadata_cells(release),
                *_track_metadata_cells(track),
                release["status"],
            ]
            writer.writerow([csv_cell(c) if isinstance(c, str) else c for c in cells])
    return buffer.getvalue()


def _release_cells(release: dict[str, Any]) -> list[Any]:
    return [
        release["external_id"] or "",
        release["artist_email"],
        release["title"],
        release["genre"],
        release["cover_art"] or "",
        "true" if release["submit"] else "false",
    ]


def _track_cells(track: dict[str, Any] | None) -> list[Any]:
    if track is None:
        return ["", "", "", ""]
    return [track["order"], track["title"], track["file"], track["isrc"] or ""]


def _release_metadata_cells(release: dict[str, Any]) -> list[str]:
    return [release.get(key) or "" for key in RELEASE_METADATA]


def _track_metadata_cells(track: dict[str, Any] | None) -> list[str]:
    if track is None:
        return [""] * (1 + len(NAME_LISTS))
    return [track.get("explicit") or "", *map(LIST_SEPARATOR.join, _name_lists(track))]


def _name_lists(track: dict[str, Any]) -> list[list[str]]:
    """An exported track's names by CSV list column: featured artists, then each role's."""
    credits = track.get("contributors")
    by_role = [credited(credits, role) for role in CREDIT_KEYS.values()]
    return [track.get("featured_artists") or [], *by_role]


def csv_list_notes(document: dict[str, Any]) -> list[str]:
    """Names a CSV export cannot keep whole: a `;` in a name separates names in a CSV list
    cell, so such a name imports back as several (JSON keeps it)."""
    return [
        note
        for release in document["releases"]
        for track in release["tracks"]
        for note in _list_notes(release, track)
    ]


def _list_notes(release: dict[str, Any], track: dict[str, Any]) -> list[str]:
    where = f"{release['external_id'] or release['title']} track {track['order']}"
    return [
        f"{where} {column}: '{printable(name)}' has a ';', which separates names in CSV: "
        "it imports back as several names (export to .json to keep it)"
        for column, names in zip(NAME_LISTS, _name_lists(track), strict=True)
        for name in names
        if LIST_SEPARATOR in name
    ]


def write_catalog(document: dict[str, Any], path: Path) -> list[str]:
    """Write atomically next to the target: a reader never sees half a catalog. Returns
    notes on what the file cannot hold as it is (``csv_list_notes``), to tell the user."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder: give a file name, e.g. {path / 'catalog.json'}")
    fmt = "csv" if path.suffix.lower() == ".csv" else "json"
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(render_catalog(document, fmt))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return csv_list_notes(document) if fmt == "csv" else []
