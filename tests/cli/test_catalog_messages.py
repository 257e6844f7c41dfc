"""What catalog import says: media warnings carried into its output, problems that tell the
user what to do (issue 12), on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, spool_files, store_snapshot
from tests.support.media_factory import make_cover, make_mp3, make_wav

pytestmark = pytest.mark.both_modes

LOSSY = "lossy format (mp3): stores prefer lossless masters"
SMALL_COVER = "cover is 1500 x 1500 px; Apple Music asks for 3000 x 3000"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "label"
    path.mkdir()
    make_wav(path / "01.wav", seconds=0.3, channels=1)
    make_mp3(path / "02.mp3", seconds=0.5)
    make_cover(path / "big.jpg", size=1500)
    make_cover(path / "fine.jpg", size=3000)
    return path


def catalog(folder: Path, releases: list[dict]) -> Path:
    path = folder / "c.json"
    path.write_text(json.dumps({"releases": releases}), encoding="utf-8")
    return path


def release(external_id: str, cover: str, *files: str, **more: object) -> dict:
    tracks = [{"title": f"Song {n}", "file": name} for n, name in enumerate(files, start=1)]
    return {
        "external_id": external_id,
        "title": f"Title {external_id}",
        "genre": "Pop",
        "cover_art": cover,
        "tracks": tracks,
        **more,
    }


def test_media_warnings_reach_the_json_report_per_release(ada: Cli, folder: Path) -> None:
    path = catalog(
        folder,
        [release("A-1", "big.jpg", "01.wav", "02.mp3"), release("A-2", "fine.jpg", "01.wav")],
    )
    report = ada.ok("catalog", "import", str(path))
    first, second = report["releases"]
    assert first["warnings"] == [f"cover_art: {SMALL_COVER}", f"track 2: {LOSSY}"]
    assert second["warnings"] == []


def test_media_warnings_are_warning_lines_on_stderr(ada: Cli, folder: Path) -> None:
    path = catalog(folder, [release("A-1", "big.jpg", "02.mp3", "01.wav")])
    outcome = ada("catalog", "import", str(path))
    assert outcome.exit_code == 0
    warnings = [line for line in outcome.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: A-1 cover_art: {SMALL_COVER}", f"warning: A-1 track 1: {LOSSY}"]


def test_a_dry_run_says_the_warnings_too(ada: Cli, folder: Path) -> None:
    path = catalog(folder, [release("A-1", "fine.jpg", "02.mp3")])
    report = ada.ok("catalog", "import", str(path), "--dry-run")
    assert report["releases"][0]["warnings"] == [f"track 1: {LOSSY}"]


def test_an_unknown_artist_email_says_how_to_create_the_artist(
    admin: Cli, folder: Path, store_url: str
) -> None:
    path = catalog(folder, [release("A-1", "fine.jpg", "01.wav", artist_email="zed@example.com")])
    before = store_snapshot(store_url)
    outcome = admin("catalog", "import", str(path))
    assert outcome.exit_code == 6
    assert outcome.stderr.splitlines()[1:] == [
        '  A-1 artist_email: no artist with email zed@example.com: create the account with "vwaza'
        ' admin user create --email zed@example.com --role ARTIST --artist-name NAME", or have the'
        ' artist sign up with "vwaza auth register"'
    ]
    assert store_snapshot(store_url) == before


def test_an_admin_email_is_not_taken_for_an_artist(admin: Cli, folder: Path, env: Path) -> None:
    path = catalog(folder, [release("A-1", "fine.jpg", "01.wav", artist_email="admin@example.com")])
    outcome = admin("catalog", "import", str(path), "--json")
    assert outcome.exit_code == 6
    assert [p["message"] for p in outcome.error()["problems"]] == [
        "admin@example.com is an ADMIN account, not an artist's: releases belong to artists"
    ]
    assert spool_files(env) == []


def test_problems_come_out_in_file_order(ada: Cli, folder: Path) -> None:
    """Files are checked in parallel and structure first; the report follows the file."""
    releases = [
        release("A-1", "fine.jpg", "missing-1.wav", "01.wav"),
        release("A-2", "nope.jpg", "01.wav", colour="blue"),
        release("A-3", "fine.jpg", "01.wav", "missing-3.wav"),
    ]
    releases[2]["tracks"][0]["isrc"] = "XX"
    outcome = ada("catalog", "import", str(catalog(folder, releases)), "--json")
    assert outcome.exit_code == 6
    assert [(p["release"], p["track"], p["field"]) for p in outcome.error()["problems"]] == [
        ("A-1", 1, "file"),
        ("A-2", None, "cover_art"),
        ("A-2", None, "colour"),
        ("A-3", 1, "isrc"),
        ("A-3", 2, "file"),
    ]


def test_two_tracks_of_one_order_are_told_apart(ada: Cli, folder: Path) -> None:
    entry = release("A-1", "fine.jpg", "01.wav", "missing.wav")
    for track in entry["tracks"]:
        track["order"] = 1
    outcome = ada("catalog", "import", str(catalog(folder, [entry])), "--json")
    messages = [(p["track"], p["field"], p["message"]) for p in outcome.error()["problems"]]
    assert messages[0] == (
        1,
        "order",
        '1 is used by another track (the track "Song 1", #1 in the list)',
    )
    assert messages[1] == (
        1,
        "order",
        '1 is used by another track (the track "Song 2", #2 in the list)',
    )
    assert messages[2][:2] == (1, "file")
    assert messages[2][2].endswith('(the track "Song 2", #2 in the list)')
