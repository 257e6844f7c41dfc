"""The store metadata (spec/distribution.md) in catalog files, both ways: import sets it,
validation refuses a bad value as a problem on its field, export writes it back; on both
engines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, spool_files, store_snapshot
from tests.support.media_factory import make_cover, make_wav

pytestmark = pytest.mark.both_modes

CSV_HEADER = (
    "external_id,artist_email,title,genre,cover_art,submit,track_order,track_title,file,isrc,"
    "upc,release_date,original_release_date,label,p_line,c_line,language,"
    "explicit,featured_artists,composers,lyricists,producers"
)
RELEASE_FIELDS = (
    "upc",
    "release_date",
    "original_release_date",
    "label",
    "p_line",
    "c_line",
    "language",
)
STORED_RELEASE = {
    "upc": "0036000291452",  # given as the UPC-A 036000291452
    "release_date": "2026-03-01",
    "original_release_date": "1999-10-12",
    "label": "Night Owl Records",
    "p_line": "2026 Night Owl Records",
    "c_line": "2026 Night Owl Records",
    "language": "pt",
}
STORED_TRACK = {
    "explicit": "explicit",
    "featured_artists": ["Bo", "Cy"],
    "contributors": [
        {"name": "Ada", "role": "composer"},
        {"name": "Eve", "role": "lyricist"},
        {"name": "Dee", "role": "producer"},
    ],
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "label"
    path.mkdir()
    make_wav(path / "01.wav", seconds=0.3, channels=1)
    make_wav(path / "02.wav", seconds=0.3, channels=1)
    make_cover(path / "cover.jpg", size=1000)
    return path


def release(**metadata: Any) -> dict[str, Any]:
    return {
        "external_id": "LBL-0001",
        "title": "Night Drive",
        "genre": "Electronic",
        "cover_art": "cover.jpg",
        **metadata,
        "tracks": [
            {"order": 1, "title": "Intro", "file": "01.wav"},
            {"order": 2, "title": "Highway", "file": "02.wav"},
        ],
    }


def full_release() -> dict[str, Any]:
    """Every store field, as a label would type them."""
    entry = release(
        upc="036000291452",
        release_date="2026-03-01",
        original_release_date="1999-10-12",
        label="Night Owl Records",
        p_line="2026 Night Owl Records",
        c_line="2026 Night Owl Records",
        language="PT",
    )
    entry["tracks"][0] |= {
        "explicit": "explicit",
        "featured_artists": ["Bo", "Cy"],
        "contributors": [
            {"name": "Dee", "role": "producer"},
            {"name": "Ada", "role": "composer"},
        ],
        "lyricists": ["Eve"],  # a role's list, as in CSV, is taken in JSON too
    }
    entry["tracks"][1]["explicit"] = "clean"
    return entry


def write_json(folder: Path, *releases: dict[str, Any], name: str = "c.json") -> Path:
    path = folder / name
    path.write_text(json.dumps({"releases": list(releases)}), encoding="utf-8")
    return path


def write_rows(folder: Path, rows: list[dict[str, str]], name: str = "c.csv") -> Path:
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, CSV_HEADER.split(","))
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_row(order: int, file: str, **cells: str) -> dict[str, str]:
    base = {"external_id": "LBL-0001", "title": "Night Drive", "genre": "Electronic"}
    return base | {"cover_art": "cover.jpg", "track_order": str(order), "file": file} | cells


def only_release(cli: Cli) -> dict[str, Any]:
    (listed,) = cli.ok("release", "list")
    return cli.ok("release", "show", listed["id"])


def store_fields(view: dict[str, Any]) -> dict[str, Any]:
    return {key: view[key] for key in RELEASE_FIELDS}


def track_fields(track: dict[str, Any]) -> dict[str, Any]:
    return {key: track[key] for key in ("explicit", "featured_artists", "contributors")}


# --- import ----------------------------------------------------------------------------------


def test_a_json_catalog_sets_every_store_field(ada: Cli, folder: Path) -> None:
    ada.ok("catalog", "import", str(write_json(folder, full_release())))
    shown = only_release(ada)
    assert store_fields(shown) == STORED_RELEASE
    first, second = shown["tracks"]
    assert track_fields(first) == STORED_TRACK
    assert track_fields(second) == {
        "explicit": "clean",
        "featured_artists": [],
        "contributors": [],
    }


def test_a_csv_catalog_sets_every_store_field(ada: Cli, folder: Path) -> None:
    release_cells = {
        "upc": "036000291452",
        "release_date": "2026-03-01",
        "original_release_date": "1999-10-12",
        "label": "Night Owl Records",
        "p_line": "2026 Night Owl Records",
        "c_line": "2026 Night Owl Records",
        "language": "pt",
    }
    rows = [
        csv_row(
            1,
            "01.wav",
            track_title="Intro",
            explicit="explicit",
            featured_artists="Bo; Cy",
            composers="Ada",
            lyricists="Eve",
            producers="Dee;",
            **release_cells,
        ),
        csv_row(2, "02.wav", track_title="Highway", explicit="clean", **release_cells),
    ]
    ada.ok("catalog", "import", str(write_rows(folder, rows)))
    shown = only_release(ada)
    assert store_fields(shown) == STORED_RELEASE
    assert track_fields(shown["tracks"][0]) == STORED_TRACK
    assert shown["tracks"][1]["explicit"] == "clean"


def test_a_catalog_without_store_fields_leaves_them_empty(ada: Cli, folder: Path) -> None:
    ada.ok("catalog", "import", str(write_json(folder, release())))
    shown = only_release(ada)
    assert store_fields(shown) == dict.fromkeys(RELEASE_FIELDS)
    assert track_fields(shown["tracks"][0]) == {
        "explicit": None,
        "featured_artists": [],
        "contributors": [],
    }


# --- refused values --------------------------------------------------------------------------

BAD_RELEASES = {
    "upc check digit": ({"upc": "036000291453"}, "upc", "invalid UPC '036000291453'"),
    "upc too short": ({"upc": "12345"}, "upc", "invalid UPC '12345'"),
    "upc a number": ({"upc": 36000291452}, "upc", "expected text, got int"),
    "no such date": ({"release_date": "2026-02-30"}, "release_date", "invalid --release-date"),
    "not iso": ({"original_release_date": "12/10/1999"}, "original_release_date", "invalid"),
    "original after release": (
        {"release_date": "2026-03-01", "original_release_date": "2026-04-01"},
        "original_release_date",
        "the original release date 2026-04-01 is after the release date 2026-03-01",
    ),
    "language": ({"language": "xx"}, "language", "unknown language 'xx'"),
    "label a list": ({"label": ["Night Owl"]}, "label", "expected text, got list"),
}


@pytest.mark.parametrize("case", BAD_RELEASES, ids=list(BAD_RELEASES))
def test_a_bad_release_value_refuses_the_import_naming_its_field(
    ada: Cli, folder: Path, env: Path, store_url: str, case: str
) -> None:
    metadata, field, message = BAD_RELEASES[case]
    before = store_snapshot(store_url)
    problem = one_problem(ada, write_json(folder, release(**metadata)))
    assert (problem["release"], problem["track"], problem["field"]) == ("LBL-0001", None, field)
    assert message in problem["message"]
    assert_nothing_written(ada, env, store_url, before)


BAD_TRACKS = {
    "explicit": ({"explicit": "maybe"}, "explicit", "unknown explicit"),
    "explicit a boolean": ({"explicit": True}, "explicit", "expected text, got bool"),
    "featured a string": (
        {"featured_artists": "Bo"},
        "featured_artists",
        "expected a list of names, got 'Bo'",
    ),
    "featured a number": (
        {"featured_artists": ["Bo", 7]},
        "featured_artists",
        "expected a list of names, got a list holding 7",
    ),
    "unknown role": (
        {"contributors": [{"name": "Ada", "role": "drummer"}]},
        "contributors",
        'item 1 is not {"name": text, "role": composer, lyricist or producer}',
    ),
    "contributors an object": (
        {"contributors": {"name": "Ada", "role": "composer"}},
        "contributors",
        "expected a list of",
    ),
    "a control character": ({"composers": ["Ada\x07"]}, "composers", "composer"),
    "a bad name under contributors": (
        {"contributors": [{"name": "Ada\x07", "role": "producer"}]},
        "contributors",
        "producer",
    ),
}


@pytest.mark.parametrize("case", BAD_TRACKS, ids=list(BAD_TRACKS))
def test_a_bad_track_value_refuses_the_import_naming_its_field(
    ada: Cli, folder: Path, env: Path, store_url: str, case: str
) -> None:
    metadata, field, message = BAD_TRACKS[case]
    entry = release()
    entry["tracks"][1] |= metadata
    before = store_snapshot(store_url)
    problem = one_problem(ada, write_json(folder, entry))
    assert (problem["release"], problem["track"], problem["field"]) == ("LBL-0001", 2, field)
    assert message in problem["message"]
    assert_nothing_written(ada, env, store_url, before)


def test_bad_csv_values_are_problems_on_their_columns(
    ada: Cli, folder: Path, env: Path, store_url: str
) -> None:
    rows = [
        csv_row(1, "01.wav", track_title="Intro", language="xx", explicit="sometimes"),
        csv_row(2, "02.wav", track_title="Highway", language="xx", composers="Ada\x07"),
    ]
    before = store_snapshot(store_url)
    outcome = ada("catalog", "import", str(write_rows(folder, rows)))
    assert outcome.exit_code == 6
    assert [line.split(":")[0] for line in outcome.stderr.splitlines()[1:]] == [
        "  LBL-0001 language",
        "  LBL-0001 track 1 explicit",
        "  LBL-0001 track 2 composers",
    ]
    assert_nothing_written(ada, env, store_url, before)


def test_csv_rows_of_a_release_must_agree_on_its_store_fields(ada: Cli, folder: Path) -> None:
    rows = [
        csv_row(1, "01.wav", track_title="Intro", upc="036000291452"),
        csv_row(2, "02.wav", track_title="Highway", upc="4006381333931"),
    ]
    problem = one_problem(ada, write_rows(folder, rows))
    assert (problem["field"], problem["message"]) == (
        "upc",
        "line 3 repeats the release with other release columns",
    )


def test_problems_come_in_file_order_and_a_dry_run_refuses_alike(
    ada: Cli, folder: Path, env: Path, store_url: str
) -> None:
    entry = release(upc="1", language="xx", colour="blue")
    entry["tracks"][0] |= {"explicit": "maybe", "featured_artists": "Bo"}
    entry["tracks"][1] |= {"producers": ["Dee\x07"]}
    path = write_json(folder, entry)
    before = store_snapshot(store_url)
    for dry_run in ((), ("--dry-run",)):
        outcome = ada("catalog", "import", str(path), *dry_run)
        assert outcome.exit_code == 6
        lines = outcome.stderr.splitlines()
        assert lines[0].endswith("c.json: 6 problems")
        assert [line.split(":")[0] for line in lines[1:]] == [
            "  LBL-0001 upc",
            "  LBL-0001 language",
            "  LBL-0001 colour",
            "  LBL-0001 track 1 explicit",
            "  LBL-0001 track 1 featured_artists",
            "  LBL-0001 track 2 producers",
        ]
    assert_nothing_written(ada, env, store_url, before)


def one_problem(cli: Cli, path: Path) -> dict[str, Any]:
    outcome = cli("catalog", "import", str(path), "--json")
    assert outcome.exit_code == 6, outcome.stdout
    (problem,) = outcome.error()["problems"]
    return problem


def assert_nothing_written(cli: Cli, env: Path, store_url: str, before: Any) -> None:
    assert cli.ok("release", "list") == []
    assert store_snapshot(store_url) == before
    assert spool_files(env) == []


# --- export ----------------------------------------------------------------------------------


def exported(cli: Cli, target: Path) -> Path:
    cli.ok("catalog", "export", "--output", str(target))
    return target


def test_export_writes_the_store_fields(ada: Cli, folder: Path, tmp_path: Path) -> None:
    ada.ok("catalog", "import", str(write_json(folder, full_release())))
    document = json.loads(exported(ada, tmp_path / "out.json").read_text(encoding="utf-8"))
    (entry,) = document["releases"]
    assert store_fields(entry) == STORED_RELEASE
    assert track_fields(entry["tracks"][0]) == STORED_TRACK
    with exported(ada, tmp_path / "out.csv").open(newline="", encoding="utf-8") as rows:
        assert next(csv.reader(rows)) == [*CSV_HEADER.split(","), "status"]
        first = next(csv.DictReader(rows, [*CSV_HEADER.split(","), "status"]))
    assert {key: first[key] for key in RELEASE_FIELDS} == STORED_RELEASE
    assert (first["explicit"], first["featured_artists"]) == ("explicit", "Bo;Cy")
    assert (first["composers"], first["lyricists"], first["producers"]) == ("Ada", "Eve", "Dee")


def as_bo(document_path: Path, folder: Path) -> Path:
    """The exported catalog as Bo's: the same releases, files and store fields."""
    if document_path.suffix == ".json":
        document = json.loads(document_path.read_text(encoding="utf-8"))
        for entry in document["releases"]:
            entry["artist_email"] = "bo@example.com"
        return write_json(folder, *document["releases"], name="bo.json")
    with document_path.open(newline="", encoding="utf-8") as source:
        rows = [row | {"artist_email": "bo@example.com"} for row in csv.DictReader(source)]
    target = folder / "bo.csv"
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def tricky_release() -> dict[str, Any]:
    """Every field, and text a spreadsheet would run as a formula."""
    entry = full_release()
    entry["label"] = "=Night Owl"
    entry["tracks"][1] |= {"featured_artists": ["-Dash", "@Handle"], "composers": ["+Plus"]}
    return entry


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_export_then_import_round_trips_the_store_fields(
    ada: Cli, initialised: Cli, people: dict[str, str], folder: Path, tmp_path: Path, suffix: str
) -> None:
    bare = release() | {"external_id": "LBL-0002", "title": "Bare"}
    ada.ok("catalog", "import", str(write_json(folder, tricky_release(), bare)))
    first = exported(ada, tmp_path / f"ada{suffix}")
    if suffix == ".csv":
        assert "'=Night Owl" in first.read_text(encoding="utf-8")  # formula-escaped
    bo = initialised.as_user(people["bo"])
    assert bo.ok("catalog", "import", str(as_bo(first, folder)))["created"] == 2
    again = exported(bo, tmp_path / "bo.json")
    before = exported(ada, tmp_path / "ada.json")

    def facts(path: Path) -> list[Any]:
        releases = json.loads(path.read_text(encoding="utf-8"))["releases"]
        return [
            (store_fields(r), [(t["title"], track_fields(t)) for t in r["tracks"]])
            for r in releases
        ]

    assert facts(again) == facts(before)
    assert facts(before)[0][0]["label"] == "=Night Owl"
    assert facts(before)[1][0] == dict.fromkeys(RELEASE_FIELDS)


def test_a_semicolon_in_a_name_is_kept_in_json_and_noted_in_csv(
    ada: Cli, initialised: Cli, people: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    from vwaza_cli.services.catalog_format import write_catalog

    entry = release()
    entry["tracks"][0]["featured_artists"] = ["Earth; Wind & Fire"]
    ada.ok("catalog", "import", str(write_json(folder, entry)))
    document = json.loads(exported(ada, tmp_path / "out.json").read_text(encoding="utf-8"))
    assert document["releases"][0]["tracks"][0]["featured_artists"] == ["Earth; Wind & Fire"]
    assert write_catalog(document, tmp_path / "again.json") == []
    assert write_catalog(document, tmp_path / "out.csv") == [
        "LBL-0001 track 1 featured_artists: 'Earth; Wind & Fire' has a ';', which separates "
        "names in CSV: it imports back as several names (export to .json to keep it)"
    ]
    # written anyway: a CSV list cell is split on ';', so it comes back as two names
    bo = initialised.as_user(people["bo"])
    bo.ok("catalog", "import", str(as_bo(tmp_path / "out.csv", folder)))
    assert only_release(bo)["tracks"][0]["featured_artists"] == ["Earth", "Wind & Fire"]


def test_an_export_without_the_new_keys_still_renders(tmp_path: Path) -> None:
    """A document from an older server (no store fields) still renders as CSV."""
    from vwaza_cli.services.catalog_format import render_catalog

    document = {
        "releases": [
            {
                "external_id": None,
                "artist_email": "ada@example.com",
                "title": "Old",
                "genre": "Jazz",
                "cover_art": None,
                "submit": False,
                "status": "DRAFT",
                "tracks": [{"order": 1, "title": "One", "file": "/x/1.wav", "isrc": None}],
            }
        ]
    }
    (row,) = csv.DictReader(io.StringIO(render_catalog(document, "csv")))
    assert row["upc"] == row["explicit"] == row["composers"] == ""
