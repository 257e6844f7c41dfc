"""A release as a DDEX ERN 4.3 ``NewReleaseMessage``: pure, no I/O, the caller writes the bytes.

The message follows the schema's strict sequences (release-notification.xsd, AVS version 9)::

    NewReleaseMessage  AvsVersionId, LanguageAndScriptCode (the release language or "en")
      MessageHeader    MessageId, MessageSender, MessageRecipient, MessageCreatedDateTime
      PartyList        one Party per distinct name: artist, featured, contributors, label (P1..)
      ResourceList     a SoundRecording per track (A1..An), the cover Image (A<n+1>)
      ReleaseList      the Release R0 (the ordered tracks, then the cover), a TrackRelease per
                       track (R1..Rn)
      DealList         a ReleaseDeal per release: worldwide on-demand streams, subscription and
                       ad-supported, from the release date

Only the root element is in the ERN namespace: the schema's elementFormDefault is
"unqualified", so every child is written without one. Identifiers the catalogue lacks (ISRC,
UPC, the cover's id) become a ``ProprietaryId`` in the ``vwaza`` namespace; a TrackRelease's
ReleaseId has no ISRC element, so its ISRC is a ``ProprietaryId`` too. The schema requires a
``Genre`` on every release, so a release without one says ``Unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

NAMESPACE = "http://ddex.net/xml/ern/43"
AVS_VERSION = "9"  # the allowed-value-sets.xsd the schema imports
PROPRIETARY_NAMESPACE = "vwaza"
UNKNOWN_GENRE = "Unknown"
MAIN_RELEASE = "R0"

RELEASE_TYPES = {"SINGLE": "Single", "EP": "EP", "ALBUM": "Album"}
PARENTAL_WARNINGS = {
    "explicit": "Explicit",
    "clean": "ExplicitContentEdited",
    "not_explicit": "NotExplicit",
    None: "NoAdviceAvailable",
}
CONTRIBUTOR_ROLES = {"composer": "Composer", "lyricist": "Lyricist", "producer": "StudioProducer"}
AUDIO_CODECS = {
    "wav": "PCM",
    "aiff": "PCM",
    "flac": "FLAC",
    "mp3": "MP3",
    "aac": "AAC",
    "ogg": "Vorbis",
}
IMAGE_CODECS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".gif": "GIF", ".tif": "TIFF"}
LEADING_YEAR = re.compile(r"^(?:℗|©|\([PC]\))?\s*(\d{4})\b\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Party:
    """A DDEX party: its DPID (``PADPIDA...``) and its name."""

    dpid: str
    name: str


@dataclass(frozen=True)
class Envelope:
    """Who sends the message to whom, and the message's own identity."""

    sender: Party
    recipient: Party
    message_id: str
    created: datetime  # timezone-aware


class MissingForDdex(ValueError):
    """The release lacks what a store needs; ``fields`` names it."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__("missing for DDEX: " + ", ".join(fields))
        self.fields = fields


def missing_fields(release: dict[str, Any]) -> list[str]:
    """The empty ones of release_date, p_line, c_line, in that order."""
    return [name for name in ("release_date", "p_line", "c_line") if not release.get(name)]


def new_release_message(release: dict[str, Any], envelope: Envelope) -> bytes:
    """The NewReleaseMessage of ``release`` (as ``describe()`` gives it), UTF-8 with a
    declaration. Raises MissingForDdex before building anything."""
    missing = missing_fields(release)
    if missing:
        raise MissingForDdex(missing)
    tracks = sorted(release["tracks"], key=lambda track: track["order"])
    parties = _Parties()
    root = etree.Element(
        f"{{{NAMESPACE}}}NewReleaseMessage",
        nsmap={"ern": NAMESPACE},
        AvsVersionId=AVS_VERSION,
        LanguageAndScriptCode=release.get("language") or "en",
    )
    _message_header(root, envelope)
    party_list = _sub(root, "PartyList")  # filled last: the parties are met on the way
    _resource_list(root, release, tracks, parties)
    _release_list(root, release, tracks, parties)
    _deal_list(root, release, len(tracks))
    parties.write(party_list)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# --- building blocks ----------------------------------------------------------------------------


def _sub(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    """A child element: unqualified, as the schema's elementFormDefault says."""
    element = etree.SubElement(parent, name, **attributes)
    if text is not None:
        element.text = text
    return element


class _Parties:
    """Party references by name, P1.. in the order the names are first met."""

    def __init__(self) -> None:
        self._references: dict[str, str] = {}

    def reference(self, name: str) -> str:
        return self._references.setdefault(name, f"P{len(self._references) + 1}")

    def write(self, party_list: Any) -> None:
        for name, reference in self._references.items():
            party = _sub(party_list, "Party")
            _sub(party, "PartyReference", reference)
            _sub(_sub(party, "PartyName"), "FullName", name)


def _message_header(root: Any, envelope: Envelope) -> None:
    header = _sub(root, "MessageHeader")
    _sub(header, "MessageId", envelope.message_id)
    _messaging_party(header, "MessageSender", envelope.sender)
    _messaging_party(header, "MessageRecipient", envelope.recipient)
    _sub(header, "MessageCreatedDateTime", _utc_timestamp(envelope.created))


def _messaging_party(header: Any, name: str, party: Party) -> None:
    element = _sub(header, name)
    _sub(element, "PartyId", party.dpid)
    _sub(_sub(element, "PartyName"), "FullName", party.name)


def _utc_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("the message's created time must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_duration(seconds: float) -> str:
    """205.5 -> "PT3M25.500S", to the millisecond; hours and minutes only when needed."""
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if hours or minutes else "")
    return f"{text}{whole}.{fraction:03d}S"


def _year_line(parent: Any, kind: str, text: str) -> None:
    """A PLine / CLine: "2026 Night Owl Records" gives Year 2026 and its company."""
    symbol = "℗" if kind == "PLine" else "©"
    line = _sub(parent, kind)
    match = LEADING_YEAR.match(text.strip())
    if match:
        _sub(line, "Year", match.group(1))
        if match.group(2):
            _sub(line, f"{kind}Company", match.group(2))
    already_marked = text.lstrip().startswith((symbol, "(P)", "(C)", "(p)", "(c)"))
    _sub(line, f"{kind}Text", text.strip() if already_marked else f"{symbol} {text.strip()}")


def _titles(parent: Any, title: str) -> None:
    _sub(parent, "DisplayTitleText", title)
    _sub(_sub(parent, "DisplayTitle"), "TitleText", title)


def _display_artists(
    parent: Any, artist: str, featured: Iterable[str], parties: _Parties, *, name: str
) -> None:
    _sub(parent, "DisplayArtistName", name)
    roles = [(artist, "MainArtist"), *((guest, "FeaturedArtist") for guest in featured)]
    for number, (who, role) in enumerate(roles, start=1):
        display = _sub(parent, "DisplayArtist", SequenceNumber=str(number))
        _sub(display, "ArtistPartyReference", parties.reference(who))
        _sub(display, "DisplayArtistRole", role)


def _proprietary_id(parent: Any, value: str) -> None:
    _sub(parent, "ProprietaryId", value, Namespace=PROPRIETARY_NAMESPACE)


def _file(parent: Any, uri: str, sha256: str | None) -> None:
    file = _sub(parent, "File")
    _sub(file, "URI", uri)
    if sha256:
        hash_sum = _sub(file, "HashSum")
        _sub(hash_sum, "Algorithm", "SHA-256")
        _sub(hash_sum, "DataType", "HexBinary")
        _sub(hash_sum, "HashSumValue", sha256)


# --- resources ----------------------------------------------------------------------------------


def _resource_list(
    root: Any, release: dict[str, Any], tracks: list[dict[str, Any]], parties: _Parties
) -> None:
    resources = _sub(root, "ResourceList")
    parties.reference(release["artist_name"])  # the main artist is P1
    for number, track in enumerate(tracks, start=1):
        _sound_recording(resources, release, track, number, parties)
    if release.get("cover_art"):
        _cover_image(resources, release, len(tracks) + 1)


def _sound_recording(
    resources: Any, release: dict[str, Any], track: dict[str, Any], number: int, parties: _Parties
) -> None:
    recording = _sub(resources, "SoundRecording")
    _sub(recording, "ResourceReference", f"A{number}")
    _sub(recording, "Type", "MusicalWorkSoundRecording")
    edition = _sub(recording, "SoundRecordingEdition")
    resource_id = _sub(edition, "ResourceId")
    if track.get("isrc"):
        _sub(resource_id, "ISRC", track["isrc"])
    else:
        _proprietary_id(resource_id, track["id"])
    _year_line(edition, "PLine", release["p_line"])
    _audio_details(edition, track, number)
    _titles(recording, track["title"])
    featured = list(track.get("featured_artists") or [])
    shown = release["artist_name"] + (f" feat. {', '.join(featured)}" if featured else "")
    _display_artists(recording, release["artist_name"], featured, parties, name=shown)
    _contributors(recording, track.get("contributors") or [], parties)
    _sub(recording, "Duration", iso_duration(float(track["duration"])))
    _sub(recording, "ParentalWarningType", PARENTAL_WARNINGS[track.get("explicit")])


def _contributors(recording: Any, credits: list[dict[str, str]], parties: _Parties) -> None:
    """One Contributor per person, with each of their roles."""
    roles: dict[str, list[str]] = {}
    for credit in credits:
        roles.setdefault(credit["name"], []).append(credit["role"])
    for number, (name, own) in enumerate(roles.items(), start=1):
        contributor = _sub(recording, "Contributor", SequenceNumber=str(number))
        _sub(contributor, "ContributorPartyReference", parties.reference(name))
        for role in dict.fromkeys(own):
            if role in CONTRIBUTOR_ROLES:
                _sub(contributor, "Role", CONTRIBUTOR_ROLES[role])
            else:
                _sub(contributor, "Role", "UserDefined", UserDefinedValue=role)


def _audio_details(edition: Any, track: dict[str, Any], number: int) -> None:
    details = _sub(edition, "TechnicalDetails")
    _sub(details, "TechnicalResourceDetailsReference", f"T{number}")
    delivery = _sub(details, "DeliveryFile")
    _sub(delivery, "Type", "AudioFile")
    codec = AUDIO_CODECS.get(str(track.get("format") or "").lower())
    if codec:
        _sub(delivery, "AudioCodecType", codec)
    analysis = track.get("analysis") or {}
    if analysis.get("channels"):
        _sub(delivery, "NumberOfChannels", str(analysis["channels"]))
    if track.get("sample_rate"):
        _sub(delivery, "SamplingRate", str(track["sample_rate"]), UnitOfMeasure="Hz")
    if analysis.get("bit_depth"):
        _sub(delivery, "BitsPerSample", str(analysis["bit_depth"]))
    _file(delivery, track["audio_file"], track.get("audio_sha256"))


def _cover_image(resources: Any, release: dict[str, Any], number: int) -> None:
    image = _sub(resources, "Image")
    _sub(image, "ResourceReference", f"A{number}")
    _sub(image, "Type", "FrontCoverImage")
    _proprietary_id(_sub(image, "ResourceId"), f"{release['id']}-cover")
    details = _sub(image, "TechnicalDetails")
    _sub(details, "TechnicalResourceDetailsReference", f"T{number}")
    codec = IMAGE_CODECS.get(PurePosixPath(release["cover_art"]).suffix.lower())
    if codec:
        _sub(details, "ImageCodecType", codec)
    if release.get("cover_height"):
        _sub(details, "ImageHeight", str(release["cover_height"]), UnitOfMeasure="Pixel")
    if release.get("cover_width"):
        _sub(details, "ImageWidth", str(release["cover_width"]), UnitOfMeasure="Pixel")
    _file(details, release["cover_art"], release.get("cover_sha256"))


# --- releases and deals -------------------------------------------------------------------------


def release_warning(tracks: list[dict[str, Any]]) -> str:
    """Explicit if any track is, NotExplicit when every track answered, else NoAdviceAvailable."""
    answers = [track.get("explicit") for track in tracks]
    if "explicit" in answers:
        return "Explicit"
    return "NotExplicit" if answers and None not in answers else "NoAdviceAvailable"


def _release_list(
    root: Any, release: dict[str, Any], tracks: list[dict[str, Any]], parties: _Parties
) -> None:
    releases = _sub(root, "ReleaseList")
    label = parties.reference(release.get("label") or release["artist_name"])
    genre = release.get("genre") or UNKNOWN_GENRE
    _main_release(releases, release, tracks, parties, label, genre)
    for number, track in enumerate(tracks, start=1):
        _track_release(releases, track, number, label, genre)


def _main_release(
    releases: Any,
    release: dict[str, Any],
    tracks: list[dict[str, Any]],
    parties: _Parties,
    label: str,
    genre: str,
) -> None:
    main = _sub(releases, "Release")
    _sub(main, "ReleaseReference", MAIN_RELEASE)
    _sub(main, "ReleaseType", RELEASE_TYPES.get(release.get("release_type") or "", "Album"))
    release_id = _sub(main, "ReleaseId")
    if release.get("upc"):
        _sub(release_id, "ICPN", release["upc"])
    else:
        _proprietary_id(release_id, release["id"])
    _titles(main, release["title"])
    artist = release["artist_name"]
    _display_artists(main, artist, [], parties, name=artist)
    _sub(main, "ReleaseLabelReference", label)
    _year_line(main, "PLine", release["p_line"])
    _year_line(main, "CLine", release["c_line"])
    _sub(main, "Duration", iso_duration(sum(float(track["duration"]) for track in tracks)))
    _sub(_sub(main, "Genre"), "GenreText", genre)
    _sub(main, "ReleaseDate", release["release_date"])
    if release.get("original_release_date"):
        _sub(main, "OriginalReleaseDate", release["original_release_date"])
    _sub(main, "ParentalWarningType", release_warning(tracks))
    _resource_group(main, len(tracks), has_cover=bool(release.get("cover_art")))


def _resource_group(main: Any, track_count: int, *, has_cover: bool) -> None:
    """The tracks in order, then the cover: each with its sequence number."""
    group = _sub(main, "ResourceGroup")
    for number in range(1, track_count + 1 + int(has_cover)):
        item = _sub(group, "ResourceGroupContentItem")
        _sub(item, "SequenceNumber", str(number))
        _sub(item, "ReleaseResourceReference", f"A{number}")


def _track_release(
    releases: Any, track: dict[str, Any], number: int, label: str, genre: str
) -> None:
    track_release = _sub(releases, "TrackRelease")
    _sub(track_release, "ReleaseReference", f"R{number}")
    # ReleaseId has no ISRC element: the ISRC goes in as a proprietary id
    _proprietary_id(_sub(track_release, "ReleaseId"), track.get("isrc") or track["id"])
    _titles(track_release, track["title"])
    _sub(track_release, "ReleaseResourceReference", f"A{number}")
    _sub(track_release, "ReleaseLabelReference", label)
    _sub(_sub(track_release, "Genre"), "GenreText", genre)


def _deal_list(root: Any, release: dict[str, Any], track_count: int) -> None:
    deals = _sub(root, "DealList")
    for number in range(track_count + 1):
        release_deal = _sub(deals, "ReleaseDeal")
        _sub(release_deal, "DealReleaseReference", f"R{number}")
        terms = _sub(_sub(release_deal, "Deal"), "DealTerms")
        _sub(terms, "TerritoryCode", "Worldwide")
        _sub(_sub(terms, "ValidityPeriod"), "StartDate", release["release_date"])
        _sub(terms, "CommercialModelType", "SubscriptionModel")
        _sub(terms, "CommercialModelType", "AdvertisementSupportedModel")
        _sub(terms, "UseType", "OnDemandStream")
