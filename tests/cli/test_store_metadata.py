"""The store metadata of spec/distribution.md through `release create/edit` and `track add/edit`,
on both engines, on one machine and through a team server."""

from __future__ import annotations

import pytest

from tests.conftest import Cli, Media, store_snapshot

pytestmark = pytest.mark.both_modes

RELEASE_OPTIONS = (
    "--upc",
    "036000291452",
    "--release-date",
    "2026-03-01",
    "--original-release-date",
    "2025-12-31",
    "--label",
    "Night Owl Records",
    "--p-line",
    "2026 Night Owl Records",
    "--c-line",
    "2026 Night Owl Cover Co",
    "--language",
    "pt",
)


def test_release_options_set_their_fields(ada: Cli) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Pop", *RELEASE_OPTIONS)
    shown = ada.ok("release", "show", release["id"])
    assert shown["upc"] == "0036000291452"  # UPC-A stored as 13 digits
    assert shown["release_date"] == "2026-03-01"
    assert shown["original_release_date"] == "2025-12-31"
    assert shown["label"] == "Night Owl Records"
    assert shown["p_line"] == "2026 Night Owl Records"
    assert shown["c_line"] == "2026 Night Owl Cover Co"
    assert shown["language"] == "pt"
    assert shown["release_type"] == "SINGLE"  # no track yet counts as a single


def test_release_edit_changes_one_field_and_clears_with_empty(ada: Cli) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Pop", *RELEASE_OPTIONS)
    edited = ada.ok("release", "edit", release["id"], "--label", "")
    assert edited["label"] is None
    assert edited["upc"] == "0036000291452"
    assert ada.ok("release", "edit", release["id"], "--language", "EN")["language"] == "en"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--upc", "036000291453"),  # wrong check digit
        ("--upc", "12345"),
        ("--release-date", "2026-02-30"),
        ("--release-date", "March 1st"),
        ("--language", "xx"),
        ("--original-release-date", "2027-01-01"),  # after the release date
    ],
)
def test_bad_release_values_exit_6_and_change_nothing(
    ada: Cli, store_url: str, option: str, value: str
) -> None:
    release = ada.ok(
        "release", "create", "Night Drive", "--genre", "Pop", "--release-date", "2026-03-01"
    )
    before = store_snapshot(store_url)
    outcome = ada("release", "edit", release["id"], option, value)
    assert outcome.exit_code == 6, outcome.stderr
    assert outcome.stderr.startswith("error:")
    assert "Traceback" not in outcome.stderr
    assert store_snapshot(store_url) == before


def test_track_credits_and_explicit(ada: Cli, media: Media) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Pop")
    track = ada.ok(
        "track",
        "add",
        release["id"],
        str(media.wav()),
        "--title",
        "Glow",
        "--explicit",
        "--featuring",
        "Beyoncé",
        "--featuring",
        "Jay-Z",
        "--composer",
        "Ada",
        "--lyricist",
        "Bo",
        "--producer",
        "Cy",
    )
    assert track["explicit"] == "explicit"
    assert track["featured_artists"] == ["Beyoncé", "Jay-Z"]
    assert {(c["name"], c["role"]) for c in track["contributors"]} == {
        ("Ada", "composer"),
        ("Bo", "lyricist"),
        ("Cy", "producer"),
    }
    edited = ada.ok("track", "edit", track["id"], "--clean", "--featuring", "", "--producer", "Di")
    assert edited["explicit"] == "clean"
    assert edited["featured_artists"] == []
    # replacing producers leaves the songwriters as they were
    assert {(c["name"], c["role"]) for c in edited["contributors"]} == {
        ("Ada", "composer"),
        ("Bo", "lyricist"),
        ("Di", "producer"),
    }
    assert ada.ok("track", "edit", track["id"], "--not-explicit")["explicit"] == "not_explicit"
    shown = ada.ok("release", "show", release["id"])
    assert shown["release_type"] == "SINGLE"
    assert shown["tracks"][0]["audio_sha256"]
    assert shown["tracks"][0]["sample_rate"] == 44100
    assert shown["tracks"][0]["lossy"] is False


def test_two_explicit_flags_are_a_usage_error(ada: Cli, media: Media, store_url: str) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Pop")
    before = store_snapshot(store_url)
    outcome = ada("track", "add", release["id"], str(media.wav()), "--explicit", "--clean")
    assert outcome.exit_code == 2
    assert store_snapshot(store_url) == before


def test_a_new_track_has_no_explicit_answer(ada: Cli, media: Media) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Pop")
    track = ada.ok("track", "add", release["id"], str(media.wav()))
    assert track["explicit"] is None
    assert track["featured_artists"] == []
    assert track["contributors"] == []
