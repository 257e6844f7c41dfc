"""`vwaza catalog import/export` as catalog.md specifies, on both engines."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import Cli, sign_up, spool_files, store_snapshot
from tests.support.media_factory import make_cover, make_flac, make_wav

pytestmark = pytest.mark.both_modes


@pytest.fixture
def label(tmp_path: Path) -> Path:
    """A label's folder with real audio and covers next to the catalog."""
    folder = tmp_path / "label"
    (folder / "audio").mkdir(parents=True)
    (folder / "art").mkdir()
    make_cover(folder / "art" / "night.jpg", size=1000)
    make_cover(folder / "art" / "day.png", size=1000, fmt="PNG")
    make_cover(folder / "art" / "wide.jpg", size=(1200, 1000))
    for n in range(1, 4):
        make_wav(folder / "audio" / f"0{n}.wav", seconds=0.3, channels=1)
    make_flac(folder / "audio" / "04.flac", seconds=0.3, channels=1)
    (folder / "audio" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return folder


def good_catalog(artist: str | None = "ada@example.com") -> dict:
    releases = [
        {
            "external_id": "LBL-0001",
            "title": "Night Drive",
            "genre": "Electronic",
            "cover_art": "art/night.jpg",
            "submit": True,
            "tracks": [
                {"order": 1, "title": "Intro", "file": "audio/01.wav", "isrc": "us-rc1-76-07839"},
                {"order": 2, "title": "Highway", "file": "audio/02.wav"},
            ],
        },
        {
            "external_id": "LBL-0002",
            "title": "Day Trip",
            "genre": "Ambient",
            "cover_art": "art/day.png",
            "tracks": [{"title": "Morning", "file": "audio/04.flac"}],
        },
    ]
    if artist:
        for release in releases:
            release["artist_email"] = artist
    return {"releases": releases}


def write(folder: Path, name: str, document: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def write_csv(folder: Path, name: str, document: dict) -> Path:
    from vwaza_cli.services.catalog_format import render_catalog

    path = folder / name
    path.write_text(
        render_catalog(
            document
            | {
                "releases": [
                    {
                        **r,
                        "external_id": r.get("external_id"),
                        "artist_email": r.get("artist_email", ""),
                        "cover_art": r.get("cover_art"),
                        "submit": r.get("submit", False),
                        "status": "",
                        "tracks": [
                            {"order": t.get("order", i + 1), "isrc": t.get("isrc"), **t}
                            for i, t in enumerate(r["tracks"])
                        ],
                    }
                    for r in document["releases"]
                ]
            },
            "csv",
        ),
        encoding="utf-8",
    )
    return path


def test_a_good_catalog_imports_release_by_release(ada: Cli, label: Path, env: Path) -> None:
    report = ada.ok("catalog", "import", str(write(label, "c.json", good_catalog())))
    assert (report["created"], report["skipped"]) == (2, 0)
    first, second = report["releases"]
    assert (first["external_id"], first["status"], first["tracks"], first["result"]) == (
        "LBL-0001",
        "PROCESSING",
        2,
        "created",
    )
    assert (second["status"], second["tracks"]) == ("DRAFT", 1)
    shown = ada.ok("release", "show", first["id"])
    assert [(t["order"], t["title"], t["isrc"]) for t in shown["tracks"]] == [
        (1, "Intro", "USRC17607839"),
        (2, "Highway", None),
    ]
    assert shown["tracks"][0]["duration"] == pytest.approx(0.3, abs=0.01)
    assert len(ada.ok("jobs", "list")) == 5  # 3 tracks, 2 covers
    assert len(spool_files(env)) == 5


def test_rerunning_a_catalog_skips_what_exists(
    ada: Cli, label: Path, env: Path, store_url: str
) -> None:
    path = write(label, "c.json", good_catalog())
    ada.ok("catalog", "import", str(path))
    before, staged = store_snapshot(store_url), spool_files(env)
    again = ada.ok("catalog", "import", str(path))
    assert (again["created"], again["skipped"]) == (0, 2)
    assert [r["result"] for r in again["releases"]] == ["skipped", "skipped"]
    assert all(r["id"] for r in again["releases"])
    assert store_snapshot(store_url) == before
    assert spool_files(env) == staged


def test_every_problem_is_reported_at_once_and_nothing_is_written(
    ada: Cli, label: Path, env: Path, store_url: str
) -> None:
    document = good_catalog()
    first, second = document["releases"]
    first["tracks"][1]["order"] = 1  # duplicate order
    first["tracks"][0]["isrc"] = "XX"  # bad ISRC
    first["tracks"].append({"order": 3, "title": "Gone", "file": "audio/missing.wav"})
    first["tracks"].append({"order": 4, "title": "Broken", "file": "audio/broken.wav"})
    second["submit"] = True
    second["cover_art"] = "art/wide.jpg"  # not square
    second["colour"] = "blue"  # unknown field
    document["releases"].append({"external_id": "LBL-0003", "genre": "Pop", "tracks": []})
    before = store_snapshot(store_url)
    outcome = ada("catalog", "import", str(write(label, "bad.json", document)))
    assert outcome.exit_code == 6
    lines = outcome.stderr.splitlines()
    assert lines[0].startswith("error: ")
    assert lines[0].endswith("bad.json: 8 problems")
    # in file order, and the two tracks numbered 1 told apart by title and place
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  LBL-0001 track 1 order",
        "  LBL-0001 track 1 isrc",
        "  LBL-0001 track 1 order",
        "  LBL-0001 track 3 file",
        "  LBL-0001 track 4 file",
        "  LBL-0002 cover_art",
        "  LBL-0002 colour",
        "  LBL-0003 title",
    ]
    assert lines[1] == (
        '  LBL-0001 track 1 order: 1 is used by another track (the track "Intro", #1 in the list)'
    )
    assert lines[2].startswith("  LBL-0001 track 1 isrc: invalid ISRC")
    assert lines[2].endswith('(the track "Intro", #1 in the list)')
    assert lines[3] == (
        '  LBL-0001 track 1 order: 1 is used by another track (the track "Highway", #2 in the list)'
    )
    assert lines[-2:] == [
        "  LBL-0002 colour: unknown field (a typo?)",
        "  LBL-0003 title: required",
    ]
    assert store_snapshot(store_url) == before
    assert spool_files(env) == []
    # with the structure fixed, the file problems remain, in JSON too
    first["tracks"][1]["order"], first["tracks"][0]["isrc"] = 2, None
    del second["colour"]
    document["releases"].pop()
    outcome = ada("catalog", "import", str(write(label, "bad.json", document)), "--json")
    assert outcome.exit_code == 6
    error = outcome.error()
    assert error["type"] == "invalid"
    where = {(p["release"], p["track"], p["field"]) for p in error["problems"]}
    assert where == {
        ("LBL-0001", 3, "file"),
        ("LBL-0001", 4, "file"),
        ("LBL-0002", None, "cover_art"),
    }
    assert store_snapshot(store_url) == before
    assert spool_files(env) == []


def test_submit_requires_a_complete_release_in_validation(ada: Cli, label: Path) -> None:
    document = good_catalog()
    del document["releases"][1]["cover_art"]
    outcome = ada("catalog", "import", str(write(label, "c.json", document)), "--submit", "--json")
    assert outcome.exit_code == 6
    assert [(p["release"], p["field"]) for p in outcome.error()["problems"]] == [
        ("LBL-0002", "submit")
    ]


def test_dry_run_writes_nothing(ada: Cli, label: Path, env: Path, store_url: str) -> None:
    path = write(label, "c.json", good_catalog())
    before = store_snapshot(store_url)
    report = ada.ok("catalog", "import", str(path), "--dry-run")
    assert (report["would_create"], report["would_skip"]) == (2, 0)
    assert {r["result"] for r in report["releases"]} == {"would_create"}
    assert store_snapshot(store_url) == before
    assert spool_files(env) == []
    ada.ok("catalog", "import", str(path))
    assert ada.ok("catalog", "import", str(path), "--dry-run")["would_skip"] == 2


def test_csv_imports_like_json(ada: Cli, label: Path) -> None:
    path = write_csv(label, "c.csv", good_catalog())
    with path.open(newline="") as rows:
        assert next(csv.reader(rows))[:10] == [
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
        ]
    report = ada.ok("catalog", "import", str(path))
    assert (report["created"], [r["tracks"] for r in report["releases"]]) == (2, [2, 1])
    assert ada.ok("catalog", "import", str(path))["skipped"] == 2


def test_an_interrupted_import_finishes_on_the_next_run(
    ada: Cli, label: Path, env: Path, mocker, cli_mode: str
) -> None:
    if cli_mode != "local":
        pytest.skip("Ctrl-C stops an import on this machine; tests/server has the server's case")
    from vwaza_cli.services import catalog

    real = catalog._write_release
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    path = write(label, "c.json", good_catalog())
    mocker.patch.object(catalog, "_write_release", side_effect=crash_on_second)
    assert ada("catalog", "import", str(path)).exit_code == 130
    mocker.stopall()
    assert len(ada.ok("release", "list")) == 1
    assert len(spool_files(env)) == 3  # the first release's files only: nothing half-made
    report = ada.ok("catalog", "import", str(path))
    assert [r["result"] for r in report["releases"]] == ["skipped", "created"]
    assert len(ada.ok("release", "list")) == 2
    assert len(spool_files(env)) == 5


def test_an_artist_imports_only_for_themselves(ada: Cli, label: Path) -> None:
    outcome = ada(
        "catalog", "import", str(write(label, "c.json", good_catalog("bo@example.com"))), "--json"
    )
    assert outcome.exit_code == 6
    assert {p["field"] for p in outcome.error()["problems"]} == {"artist_email"}
    assert (
        ada.ok("catalog", "import", str(write(label, "own.json", good_catalog(None))))["created"]
        == 2
    )


def test_an_artist_names_their_own_email_in_any_case_beyond_ascii(
    initialised: Cli, label: Path
) -> None:
    """Their own email, compared as the store compares it (NFKC, case-folded): not refused
    as someone else's because SQL's or Python's lower() differ beyond ASCII."""
    token = sign_up(initialised, "straße@example.com", "Straße")
    artist = Cli(token=token, server=initialised.server)
    report = artist.ok(  # ß folds to ss, which lower() does not do
        "catalog", "import", str(write(label, "c.json", good_catalog("STRASSE@example.com")))
    )
    assert report["created"] == 2


def test_an_admin_imports_for_several_artists(
    admin: Cli, ada: Cli, initialised: Cli, people: dict[str, str], label: Path
) -> None:
    document = good_catalog()
    document["releases"][1]["artist_email"] = "BO@example.com"
    report = admin.ok("catalog", "import", str(write(label, "c.json", document)))
    assert report["created"] == 2
    assert [r["title"] for r in ada.ok("release", "list")] == ["Night Drive"]
    bo = initialised.as_user(people["bo"])
    assert [r["title"] for r in bo.ok("release", "list")] == ["Day Trip"]
    nobody = admin("catalog", "import", str(write(label, "n.json", good_catalog(None))), "--json")
    assert nobody.exit_code == 6
    unknown = admin(
        "catalog", "import", str(write(label, "u.json", good_catalog("zed@example.com"))), "--json"
    )
    assert {p["field"] for p in unknown.error()["problems"]} == {"artist_email"}


def test_malformed_files_are_invalid(ada: Cli, label: Path) -> None:
    (label / "x.json").write_text("{not json", encoding="utf-8")
    (label / "x.txt").write_text("{}", encoding="utf-8")
    (label / "y.json").write_text('{"releases": {}}', encoding="utf-8")
    for name in ("x.json", "x.txt", "y.json", "missing.json"):
        outcome = ada("catalog", "import", str(label / name))
        assert outcome.exit_code == 6, name
        assert "Traceback" not in outcome.stderr


def test_not_logged_in_cannot_import(initialised: Cli, people: dict[str, str], label: Path) -> None:
    path = write(label, "c.json", good_catalog())
    assert initialised("catalog", "import", str(path), token="").exit_code == 4


def test_export_then_import_into_an_empty_store_round_trips(
    ada: Cli, label: Path, tmp_path: Path, monkeypatch
) -> None:
    ada.ok("catalog", "import", str(write(label, "c.json", good_catalog())))
    extra = ada.ok("release", "create", "No External Id", "--genre", "Jazz")
    ada.ok("track", "add", extra["id"], str(label / "audio" / "03.wav"), "--isrc", "GBAAA9900001")
    exported = tmp_path / "export.json"
    ada.ok("catalog", "export", "--output", str(exported))
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert [r["status"] for r in document["releases"]] == ["PROCESSING", "DRAFT", "DRAFT"]

    # a brand-new store and home for the same artist
    from tests.conftest import sign_up
    from tests.support import db as testdb

    fresh_home = tmp_path / "fresh-home"
    monkeypatch.setenv("VWAZA_HOME", str(fresh_home))
    monkeypatch.setenv("VWAZA_DATABASE_URL", f"sqlite:///{fresh_home / 'fresh.db'}")
    cli = Cli()
    cli.ok("init")
    token = sign_up(cli, "ada@example.com", "Ada")
    report = cli.ok("catalog", "import", str(exported), token=token)
    assert report["created"] == 3
    again = tmp_path / "again.json"
    cli.ok("catalog", "export", "--output", str(again), token=token)

    def facts(doc: dict) -> list:
        return [
            (
                r["external_id"],
                r["title"],
                r["genre"],
                r["submit"],
                [(t["order"], t["title"], t["isrc"]) for t in r["tracks"]],
            )
            for r in doc["releases"]
        ]

    assert facts(json.loads(again.read_text(encoding="utf-8"))) == facts(document)
    del testdb


def test_export_to_csv_and_stdout(ada: Cli, label: Path, tmp_path: Path) -> None:
    ada.ok("catalog", "import", str(write(label, "c.json", good_catalog())))
    out = ada("catalog", "export")
    assert out.exit_code == 0
    assert len(json.loads(out.stdout)["releases"]) == 2
    target = tmp_path / "out.csv"
    assert ada.ok("catalog", "export", "-o", str(target))["releases"] == 2
    with target.open(newline="") as rows:
        assert len(list(csv.DictReader(rows))) == 3  # one row per track


def test_file_problems_are_reported_with_structural_ones_without_contradictions(
    ada: Cli, label: Path, env: Path
) -> None:
    document = good_catalog()
    first, second = document["releases"]
    first["genre"] = 7  # malformed, not also "required"
    first["tracks"][1]["order"] = "two"  # named by its place in the list
    second["cover_art"] = "art/wide.jpg"  # a file problem, reported in the same run
    second["submit"] = "yes"  # JSON wants true or false
    outcome = ada("catalog", "import", str(write(label, "c.json", document)), "--json")
    assert outcome.exit_code == 6
    problems = {(p["release"], p["track"], p["field"]) for p in outcome.error()["problems"]}
    assert problems == {
        ("LBL-0001", None, "genre"),
        ("LBL-0001", 2, "order"),
        ("LBL-0002", None, "cover_art"),
        ("LBL-0002", None, "submit"),
    }
    assert spool_files(env) == []
