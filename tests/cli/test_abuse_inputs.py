"""Hostile input, found by a probe: refused with one `error:` line and the documented exit
code, and the store and the spool exactly as they were. Inputs that used to exit 1 (deep
JSON, huge numbers, oversized CSV fields, NUL, lone surrogates), and the one text rule on
every field people type."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, Media, spool_files, store_snapshot
from tests.support.hostile import catalog, label_folder, one_error_line, problems


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return label_folder(tmp_path)


@pytest.fixture
def unchanged(people: dict[str, str], env: Path, store_url: str) -> Iterator[None]:
    """The test's refusals (after the accounts are made) leave every row and every staged
    file as they were."""
    before, staged = store_snapshot(store_url), spool_files(env)
    yield
    assert store_snapshot(store_url) == before
    assert spool_files(env) == staged


# --- inputs that used to exit 1 -----------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_deeply_nested_json_is_a_bad_catalog(ada: Cli, folder: Path) -> None:
    path = folder / "deep.json"
    path.write_text('{"releases": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    outcome = ada("catalog", "import", str(path))
    assert outcome.exit_code == 6
    assert problems(outcome.stderr) == ["catalog json: not a catalog: nested too deeply"]


@pytest.mark.usefixtures("unchanged")
def test_a_number_too_long_to_read_is_a_bad_catalog(ada: Cli, folder: Path) -> None:
    path = folder / "long.json"
    path.write_text('{"releases": [{"title": "T", "order": 1' + "0" * 5000 + "}]}")
    outcome = ada("catalog", "import", str(path))
    assert outcome.exit_code == 6
    assert problems(outcome.stderr) == ["catalog json: not valid JSON: a number far too long"]


@pytest.mark.usefixtures("unchanged")
def test_a_csv_field_over_the_csv_limit_is_a_bad_catalog(ada: Cli, folder: Path) -> None:
    path = folder / "big.csv"
    path.write_text(f'title,genre,track_title,file\nT,G,"{"x" * 200_000}",01.wav\n')
    outcome = ada("catalog", "import", str(path))
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    assert problem.startswith("catalog csv: not valid CSV: field larger than field limit")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("file", "a\x00b.wav", "track 1 file"),
        ("file", "a\ud800b.wav", "track 1 file"),  # no file system encoding can say it
        ("file", "file:///tmp/a%00b.wav", "track 1 file"),
        ("cover_art", "art\x00.jpg", "cover_art"),
    ],
)
def test_an_impossible_file_name_in_a_catalog_is_a_problem(
    ada: Cli, folder: Path, field: str, value: str, where: str
) -> None:
    outcome = ada("catalog", "import", str(catalog(folder, **{field: value})))
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    assert problem.startswith(f"LBL-1 {where}: ")
    assert problem.endswith(("a file name cannot contain NUL", "not a valid file name"))


@pytest.mark.usefixtures("unchanged")
def test_a_nul_in_a_csv_file_column_is_a_problem(ada: Cli, folder: Path) -> None:
    path = folder / "c.csv"
    path.write_text("external_id,title,genre,track_title,file\nLBL-1,T,G,Intro,a\x00b.wav\n")
    outcome = ada("catalog", "import", str(path))
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    assert problem.endswith("a\\x00b.wav: a file name cannot contain NUL")


@pytest.mark.usefixtures("unchanged")
def test_a_nul_in_the_catalog_path_is_refused(ada: Cli, folder: Path) -> None:
    from vwaza_cli.errors import InvalidCatalog
    from vwaza_cli.services.catalog_format import read_catalog

    outcome = ada("catalog", "import", str(folder / "c\x00.json"))
    assert outcome.exit_code == 2  # Click's path type, before our code
    with pytest.raises(InvalidCatalog) as caught:  # and our reader, given it another way
        read_catalog(folder / "c\x00.json")
    assert caught.value.details["lines"] == ["catalog file: not a valid file name"]


@pytest.mark.both_modes
@pytest.mark.parametrize(
    "command",
    [
        ["track", "add", "{release}", "{folder}/a\x00b.wav"],
        ["release", "cover", "{release}", "{folder}/c\x00.jpg"],
        ["release", "create", "X", "--genre", "G", "--cover", "{folder}/c\x00.jpg"],
    ],
)
def test_a_nul_in_a_file_argument_is_a_usage_error(
    ada: Cli, folder: Path, env: Path, store_url: str, command: list[str]
) -> None:
    """Click's path type refuses it (exit 2) before any of our code runs."""
    release = ada.ok("release", "create", "Night", "--genre", "Pop")["id"]
    before = store_snapshot(store_url)
    outcome = ada(*[a.format(release=release, folder=folder) for a in command])
    assert outcome.exit_code == 2
    assert "embedded null byte" in outcome.stderr
    assert store_snapshot(store_url) == before
    assert spool_files(env) == []


def test_the_path_rule_refuses_what_the_os_cannot_be_asked(tmp_path: Path) -> None:
    """The check every file taken in passes (catalog entries, and paths from the API)."""
    from vwaza_cli.errors import InvalidMedia
    from vwaza_cli.services.spool import usable_path

    assert usable_path(tmp_path / "ok \x1b.wav") == tmp_path / "ok \x1b.wav"
    for bad in ("a\x00b.wav", "a\ud800b.wav"):
        with pytest.raises(InvalidMedia):
            usable_path(tmp_path / bad)


# --- the one text rule ----------------------------------------------------------------------


@pytest.mark.both_modes
def test_joiners_and_visible_spaces_stay_allowed(ada: Cli) -> None:
    for good in ("\U0001f468\u200d\U0001f3a4", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"):
        assert ada.ok("release", "create", good, "--genre", "Pop")["title"] == good


@pytest.mark.both_modes
def test_lone_surrogates_are_said_to_be_an_encoding_problem(ada: Cli) -> None:
    outcome = ada("release", "create", "Night\udcff", "--genre", "Pop")
    assert one_error_line(outcome.stderr) == (
        "error: title is not valid UTF-8 text: check the encoding of your terminal or file"
    )


@pytest.mark.both_modes
@pytest.mark.parametrize("bad", ["\udcff", "\u202e", "\u200b", "\x00"])
def test_every_field_people_type_goes_through_the_text_rule(
    ada: Cli, admin: Cli, media: Media, env: Path, store_url: str, bad: str
) -> None:
    release = ada.ok("release", "create", "Night", "--genre", "Pop")["id"]
    track = ada.ok("track", "add", release, str(media.wav()))["id"]
    before, staged = store_snapshot(store_url), spool_files(env)
    attempts = [
        ada("release", "create", f"T{bad}", "--genre", "Pop"),
        ada("release", "create", "T", "--genre", f"Pop{bad}"),
        ada("release", "edit", release, "--title", f"N{bad}"),
        ada("release", "edit", release, "--genre", f"G{bad}"),
        ada("track", "add", release, str(media.wav("2.wav")), "--title", f"T{bad}"),
        ada("track", "edit", track, "--title", f"T{bad}"),
        ada("track", "edit", track, "--isrc", f"USRC1760783{bad}"),
        admin("review", "reject", release, "--reason", f"no{bad}"),
        ada(
            "auth", "register", "--email", "new@example.com", "--artist-name", f"A{bad}",
            "--password-stdin", input="long enough password\n",
        ),
        ada(
            "auth", "register", "--email", f"n{bad}w@example.com", "--artist-name", "A",
            "--password-stdin", input="long enough password\n",
        ),
    ]  # fmt: skip
    assert [a.exit_code for a in attempts] == [6] * len(attempts), [a.stderr for a in attempts]
    for attempt in attempts:
        one_error_line(attempt.stderr)
    assert store_snapshot(store_url) == before
    assert spool_files(env) == staged


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "fields",
    [
        {"title": "Night\ud800"},
        {"genre": "Pop\u2028Rock"},
        {"external_id": "LBL\x00-1"},
        {"external_id": "LBL-\u202e1"},
        {"artist_email": "ada\u200b@example.com"},
        {"track_title": "Intro\x1b[31m"},
        {"isrc": "USRC1760783\x00"},
        {"external_id": "x" * 201},  # over its column: a DataError on PostgreSQL, once
        {"artist_email": "a" * 400 + "@example.com"},
    ],
)
def test_catalog_fields_go_through_the_text_rule(ada: Cli, folder: Path, fields: dict) -> None:
    outcome = ada("catalog", "import", str(catalog(folder, **fields)))
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    key = "title" if "track_title" in fields else next(iter(fields))
    assert f" {key}: " in problem


def test_the_external_id_limit_is_its_column_length() -> None:
    from vwaza_cli.db.models import Release
    from vwaza_cli.services.catalog_format import SCREENED_KEYS

    column = Release.__table__.c.external_id
    assert SCREENED_KEYS["external_id"] == column.type.length
