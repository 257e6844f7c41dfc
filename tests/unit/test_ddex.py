"""The DDEX ERN 4.3 export (spec/distribution.md, `release export --ddex`): every message
validates against the official XSD, and says what the release says, where a store reads it."""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from vwaza_cli.services.ddex import (
    Envelope,
    MissingForDdex,
    Party,
    missing_fields,
    new_release_message,
)

SCHEMA_PATH = Path(
    os.environ.get("VWAZA_DDEX_SCHEMA")
    or Path(__file__).resolve().parents[2].parent
    / "shared"
    / "ddex"
    / "ern43"
    / "release-notification.xsd"
)
ERN = "http://ddex.net/xml/ern/43"
SENDER = Party("PADPIDA2014120301K", "Vwaza Distribution")
RECIPIENT = Party("PADPIDA2011072101T", "Some Store")
ENVELOPE = Envelope(
    SENDER, RECIPIENT, "0f4c5e6a7b8c4d9e8f0a1b2c3d4e5f60", datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
)
AWKWARD = "Beyoncé & Jay-Z <live> \"quoted\" 'single' 🦉"


@pytest.fixture(scope="module")
def schema() -> Any:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"no DDEX schema at {SCHEMA_PATH}")
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA_PATH), allow="local")


def assert_valid(schema: Any, xml: bytes) -> None:
    reasons = [f"{error.path}: {error.reason}" for error in schema.iter_errors(xml)]
    assert schema.is_valid(xml), "\n".join(reasons)


def track(order: int, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"7d9f0c52-0000-4000-8000-00000000000{order}",
        "title": f"Song {order}",
        "audio_file": f"supabase://masters/track-{order}.wav",
        "duration": 205.5,
        "order": order,
        "isrc": f"USRC1760783{order}",
        "format": "wav",
        "explicit": "not_explicit",
        "featured_artists": [],
        "contributors": [],
        "sample_rate": 44100,
        "audio_sha256": f"{order:x}" * 64,
        "analysis": {"bit_depth": 24, "channels": 2},
    }
    record.update(changes)
    return record


def full_release() -> dict[str, Any]:
    """Three tracks, a cover, a UPC, every credit, and each explicit answer across the set."""
    credits = [
        {"name": "Ada Composer", "role": "composer"},
        {"name": "Lee Lyricist", "role": "lyricist"},
        {"name": "Pat Producer", "role": "producer"},
    ]
    return {
        "id": "3b1e2c44-1111-4000-8000-000000000001",
        "artist_id": "a1",
        "title": "Night Songs",
        "genre": "Electronic",
        "cover_art": "supabase://covers/night-songs.jpg",
        "status": "PUBLISHED",
        "artist_name": "Night Owl",
        "upc": "0602445790128",
        "release_date": "2026-06-12",
        "original_release_date": "2025-01-03",
        "label": "Night Owl Records",
        "p_line": "2026 Night Owl Records",
        "c_line": "2025 Night Owl Records",
        "language": "en",
        "cover_width": 3000,
        "cover_height": 3000,
        "cover_sha256": "c0" * 32,
        "release_type": "EP",
        "tracks": [
            track(1, explicit="explicit", featured_artists=["Guest One", "Guest Two"]),
            track(2, explicit="clean", contributors=credits, format="flac", duration=59.9996),
            track(3, explicit=None, contributors=credits[:1], duration=3600),
        ],
    }


def minimal_release() -> dict[str, Any]:
    """Only what DDEX cannot do without: no UPC, cover, ISRC, genre, label, language, credits."""
    release = full_release()
    release.update(upc=None, cover_art=None, cover_width=None, cover_height=None, genre=None)
    release.update(cover_sha256=None, label=None, language=None, original_release_date=None)
    release["tracks"] = [
        track(n, isrc=None, audio_sha256=None, sample_rate=None, analysis=None) for n in (1, 2)
    ]
    return release


def parse(xml: bytes) -> Any:
    return etree.fromstring(xml)


def texts(root: Any, path: str) -> list[str]:
    return [str(element.text) for element in root.xpath(path, namespaces={"ern": ERN})]


def party_name(root: Any, reference: str) -> str:
    (name,) = texts(root, f"PartyList/Party[PartyReference='{reference}']/PartyName/FullName")
    return name


# --- validity ---------------------------------------------------------------------------------


def test_a_full_release_validates(schema: Any) -> None:
    xml = new_release_message(full_release(), ENVELOPE)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert_valid(schema, xml)
    root = parse(xml)
    assert root.tag == f"{{{ERN}}}NewReleaseMessage"
    assert root.get("LanguageAndScriptCode") == "en"
    assert root.get("AvsVersionId")
    assert len(root.xpath("ResourceList/SoundRecording")) == 3
    assert texts(root, "ResourceList/Image/Type") == ["FrontCoverImage"]


def test_a_minimal_release_validates(schema: Any) -> None:
    release = minimal_release()
    xml = new_release_message(release, ENVELOPE)
    assert_valid(schema, xml)
    root = parse(xml)
    assert root.get("LanguageAndScriptCode") == "en"
    assert root.xpath("ResourceList/Image") == []
    assert texts(root, "ReleaseList/Release/ReleaseId/ProprietaryId") == [release["id"]]
    assert texts(root, "ResourceList/SoundRecording/SoundRecordingEdition/ResourceId/*") == [
        t["id"] for t in release["tracks"]
    ]
    assert root.xpath("//HashSum") == []
    assert root.xpath("//Contributor") == []


def test_awkward_text_round_trips_and_validates(schema: Any) -> None:
    release = full_release()
    release.update(title=AWKWARD, artist_name=AWKWARD, label=f"{AWKWARD} Records", genre=AWKWARD)
    release["p_line"] = f"2026 {AWKWARD}"
    release["tracks"][0].update(title=AWKWARD, featured_artists=[f"{AWKWARD} (guest)"])
    xml = new_release_message(release, ENVELOPE)
    assert_valid(schema, xml)
    root = parse(xml)
    assert texts(root, "ReleaseList/Release/DisplayTitleText") == [AWKWARD]
    assert texts(root, "ReleaseList/Release/DisplayArtistName") == [AWKWARD]
    assert texts(root, "ReleaseList/Release/Genre/GenreText") == [AWKWARD]
    assert texts(root, "ResourceList/SoundRecording[1]/DisplayTitle/TitleText") == [AWKWARD]
    assert texts(root, "ReleaseList/Release/PLine/PLineText") == [f"℗ 2026 {AWKWARD}"]
    assert party_name(root, "P1") == AWKWARD
    assert f"{AWKWARD} (guest)" in texts(root, "PartyList/Party/PartyName/FullName")
    (label,) = texts(root, "ReleaseList/Release/ReleaseLabelReference")
    assert party_name(root, label) == f"{AWKWARD} Records"


@pytest.mark.parametrize("explicit", ["explicit", "clean", "not_explicit", None])
def test_each_explicit_answer_validates(schema: Any, explicit: str | None) -> None:
    release = full_release()
    release["tracks"] = [track(1, explicit=explicit)]
    assert_valid(schema, new_release_message(release, ENVELOPE))


# --- content ----------------------------------------------------------------------------------


def test_the_header_names_sender_recipient_and_message() -> None:
    root = parse(new_release_message(full_release(), ENVELOPE))
    assert texts(root, "MessageHeader/MessageId") == [ENVELOPE.message_id]
    assert texts(root, "MessageHeader/MessageSender/PartyId") == [SENDER.dpid]
    assert texts(root, "MessageHeader/MessageSender/PartyName/FullName") == [SENDER.name]
    assert texts(root, "MessageHeader/MessageRecipient/PartyId") == [RECIPIENT.dpid]
    assert texts(root, "MessageHeader/MessageRecipient/PartyName/FullName") == [RECIPIENT.name]
    assert texts(root, "MessageHeader/MessageCreatedDateTime") == ["2026-05-01T09:30:00Z"]


def test_the_created_time_is_written_in_utc() -> None:
    plus_two = datetime(2026, 5, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    envelope = Envelope(SENDER, RECIPIENT, "m1", plus_two)
    root = parse(new_release_message(full_release(), envelope))
    assert texts(root, "MessageHeader/MessageCreatedDateTime") == ["2026-05-01T09:30:00Z"]


def test_the_upc_is_the_icpn() -> None:
    root = parse(new_release_message(full_release(), ENVELOPE))
    assert texts(root, "ReleaseList/Release/ReleaseId/ICPN") == ["0602445790128"]


def test_the_isrcs_follow_the_track_order() -> None:
    release = full_release()
    release["tracks"].reverse()  # describe() orders them; the message must not depend on it
    root = parse(new_release_message(release, ENVELOPE))
    isrcs = ["USRC17607831", "USRC17607832", "USRC17607833"]
    assert texts(root, "ResourceList/SoundRecording/SoundRecordingEdition/ResourceId/ISRC") == isrcs
    assert texts(root, "ReleaseList/TrackRelease/ReleaseId/ProprietaryId") == isrcs
    assert texts(root, "ReleaseList/Release/ResourceGroup/*/ReleaseResourceReference") == [
        "A1",
        "A2",
        "A3",
        "A4",
    ]
    assert texts(root, "ReleaseList/Release/ResourceGroup/*/SequenceNumber") == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("seconds", "iso"),
    [(205.5, "PT3M25.500S"), (59.9996, "PT1M0.000S"), (3600, "PT1H0M0.000S"), (0.25, "PT0.250S")],
)
def test_durations_are_iso_8601(schema: Any, seconds: float, iso: str) -> None:
    release = full_release()
    release["tracks"] = [track(1, duration=seconds)]
    xml = new_release_message(release, ENVELOPE)
    assert texts(parse(xml), "ResourceList/SoundRecording/Duration") == [iso]
    assert_valid(schema, xml)


@pytest.mark.parametrize(
    ("explicit", "warning"),
    [
        ("explicit", "Explicit"),
        ("clean", "ExplicitContentEdited"),
        ("not_explicit", "NotExplicit"),
        (None, "NoAdviceAvailable"),
    ],
)
def test_the_parental_warning_of_a_recording(explicit: str | None, warning: str) -> None:
    release = full_release()
    release["tracks"] = [track(1, explicit=explicit)]
    root = parse(new_release_message(release, ENVELOPE))
    assert texts(root, "ResourceList/SoundRecording/ParentalWarningType") == [warning]


@pytest.mark.parametrize(
    ("answers", "warning"),
    [
        (["not_explicit", "explicit", None], "Explicit"),
        (["not_explicit", "clean"], "NotExplicit"),
        (["not_explicit", None], "NoAdviceAvailable"),
    ],
)
def test_the_parental_warning_of_the_release(answers: list[str | None], warning: str) -> None:
    release = full_release()
    release["tracks"] = [track(n, explicit=a) for n, a in enumerate(answers, start=1)]
    root = parse(new_release_message(release, ENVELOPE))
    assert texts(root, "ReleaseList/Release/ParentalWarningType") == [warning]


def test_credits_name_their_parties_and_roles() -> None:
    root = parse(new_release_message(full_release(), ENVELOPE))
    second = "ResourceList/SoundRecording[ResourceReference='A2']/Contributor"
    credited = {
        party_name(root, c.findtext("ContributorPartyReference")): c.findtext("Role")
        for c in root.xpath(second)
    }
    assert credited == {
        "Ada Composer": "Composer",
        "Lee Lyricist": "Lyricist",
        "Pat Producer": "StudioProducer",
    }
    first = "ResourceList/SoundRecording[ResourceReference='A1']/DisplayArtist"
    shown = [
        (party_name(root, d.findtext("ArtistPartyReference")), d.findtext("DisplayArtistRole"))
        for d in root.xpath(first)
    ]
    assert shown == [
        ("Night Owl", "MainArtist"),
        ("Guest One", "FeaturedArtist"),
        ("Guest Two", "FeaturedArtist"),
    ]


def test_one_person_with_two_roles_is_one_contributor(schema: Any) -> None:
    release = full_release()
    both = [{"name": "Sam", "role": "composer"}, {"name": "Sam", "role": "producer"}]
    release["tracks"] = [track(1, contributors=both)]
    xml = new_release_message(release, ENVELOPE)
    assert_valid(schema, xml)
    assert texts(parse(xml), "ResourceList/SoundRecording/Contributor/Role") == [
        "Composer",
        "StudioProducer",
    ]


def test_the_label_is_the_label_party() -> None:
    root = parse(new_release_message(full_release(), ENVELOPE))
    references = texts(root, "ReleaseList/*/ReleaseLabelReference")
    assert len(references) == 4  # the release and its three track releases
    assert {party_name(root, reference) for reference in references} == {"Night Owl Records"}


@pytest.mark.parametrize("label", [None, ""])
def test_without_a_label_the_artist_is_the_label(label: str | None) -> None:
    release = full_release()
    release["label"] = label
    root = parse(new_release_message(release, ENVELOPE))
    references = set(texts(root, "ReleaseList/*/ReleaseLabelReference"))
    assert {party_name(root, reference) for reference in references} == {"Night Owl"}


def test_every_release_has_a_deal_from_the_release_date() -> None:
    root = parse(new_release_message(full_release(), ENVELOPE))
    assert texts(root, "DealList/ReleaseDeal/DealReleaseReference") == ["R0", "R1", "R2", "R3"]
    starts = texts(root, "DealList/ReleaseDeal/Deal/DealTerms/ValidityPeriod/StartDate")
    assert starts == ["2026-06-12"] * 4
    assert texts(root, "ReleaseList/Release/ReleaseDate") == ["2026-06-12"]
    assert texts(root, "ReleaseList/Release/OriginalReleaseDate") == ["2025-01-03"]


def test_files_carry_their_uri_and_sha256() -> None:
    release = full_release()
    root = parse(new_release_message(release, ENVELOPE))
    files = root.xpath("ResourceList/SoundRecording//DeliveryFile/File")
    assert [f.findtext("URI") for f in files] == [t["audio_file"] for t in release["tracks"]]
    assert [f.findtext("HashSum/Algorithm") for f in files] == ["SHA-256"] * 3
    assert [f.findtext("HashSum/HashSumValue") for f in files] == [
        t["audio_sha256"] for t in release["tracks"]
    ]
    (cover,) = root.xpath("ResourceList/Image/TechnicalDetails")
    assert cover.findtext("File/URI") == release["cover_art"]
    assert cover.findtext("File/HashSum/Algorithm") == "SHA-256"
    assert cover.findtext("File/HashSum/HashSumValue") == release["cover_sha256"]
    assert (cover.findtext("ImageWidth"), cover.findtext("ImageHeight")) == ("3000", "3000")


def test_the_p_and_c_lines_carry_their_year() -> None:
    root = parse(new_release_message(full_release(), ENVELOPE))
    assert texts(root, "ReleaseList/Release/PLine/Year") == ["2026"]
    assert texts(root, "ReleaseList/Release/PLine/PLineText") == ["℗ 2026 Night Owl Records"]
    assert texts(root, "ReleaseList/Release/CLine/Year") == ["2025"]
    assert texts(root, "ReleaseList/Release/CLine/CLineText") == ["© 2025 Night Owl Records"]
    recordings = "ResourceList/SoundRecording/SoundRecordingEdition/PLine"
    assert texts(root, f"{recordings}/Year") == ["2026"] * 3


def test_a_line_without_a_year_has_no_year(schema: Any) -> None:
    release = full_release()
    release["p_line"] = "Night Owl Records"
    xml = new_release_message(release, ENVELOPE)
    assert_valid(schema, xml)
    root = parse(xml)
    assert root.xpath("ReleaseList/Release/PLine/Year") == []
    assert texts(root, "ReleaseList/Release/PLine/PLineText") == ["℗ Night Owl Records"]


def test_release_type_and_language_are_written_as_the_avs_spells_them() -> None:
    release = full_release()
    release.update(release_type="ALBUM", language="fr")
    root = parse(new_release_message(release, ENVELOPE))
    assert texts(root, "ReleaseList/Release/ReleaseType") == ["Album"]
    assert root.get("LanguageAndScriptCode") == "fr"


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing",
    [
        ["release_date"],
        ["p_line"],
        ["c_line"],
        ["release_date", "c_line"],
        ["release_date", "p_line", "c_line"],
    ],
)
@pytest.mark.parametrize("empty", [None, ""])
def test_a_release_missing_what_stores_need_is_refused(
    missing: list[str], empty: str | None
) -> None:
    release = full_release()
    for field in missing:
        release[field] = empty
    assert missing_fields(release) == missing
    with pytest.raises(MissingForDdex) as refused:
        new_release_message(copy.deepcopy(release), ENVELOPE)
    assert refused.value.fields == missing
    assert isinstance(refused.value, ValueError)


def test_a_complete_release_misses_nothing() -> None:
    assert missing_fields(full_release()) == []


def test_a_naive_created_time_is_refused() -> None:
    envelope = Envelope(SENDER, RECIPIENT, "m1", datetime(2026, 5, 1, 9, 30))
    with pytest.raises(ValueError, match="timezone"):
        new_release_message(full_release(), envelope)
