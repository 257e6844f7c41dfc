"""`release list` and `review list` read through db.reads (plain DB-API, no ORM) whenever
they can, and through the services otherwise: the two must answer alike on both engines,
page alike, and leave every refusal to the services' words and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.conftest import Cli

STATUSES = ("DRAFT", "PENDING_REVIEW", "PUBLISHED", "REJECTED")


def _release(cli: Cli, title: str) -> dict:
    return cli.ok("release", "create", title, "--genre", "Electronic")


def _set_rows(store_url: str, sql: str, **params: object) -> None:
    """Test set-up only: shape the store directly (statuses, tied timestamps)."""
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(sql), params)
    finally:
        engine.dispose()


@pytest.fixture
def catalogue(initialised: Cli, people: dict[str, str], store_url: str) -> dict[str, Cli]:
    """Ada's nine releases and Bo's three, in every status, some created at the same instant
    (so the order's tie-break on id shows), a few pending review."""
    ada, bo, admin = (initialised.as_user(people[k]) for k in ("ada", "bo", "admin"))
    made = [_release(ada, f"Ada {n}")["id"] for n in range(9)]
    made += [_release(bo, f"Bo {n}")["id"] for n in range(3)]
    for n, release_id in enumerate(made):
        _set_rows(
            store_url,
            "UPDATE releases SET status = :status, created_at = :created, updated_at = :updated "
            "WHERE id = :id",
            status=STATUSES[n % len(STATUSES)],
            created=f"2026-01-0{1 + n // 3} 10:00:00",  # three releases an instant
            updated=f"2026-02-01 10:00:{59 - n:02d}",
            id=release_id,
        )
    return {"ada": ada, "bo": bo, "admin": admin}


def _orm_answers(mocker) -> None:
    """Make db.reads unable to answer, as for a store it does not know: the services do."""
    from vwaza_cli.db import reads

    mocker.patch.object(reads.Reader, "schema_is_current", return_value=False)


def _plain_answers_only(mocker) -> None:
    """Fail loudly if a listing goes to the services: the plain read must have answered."""
    from vwaza_cli.services import releases, review

    mocker.patch.object(releases, "list_releases", side_effect=AssertionError("ORM path"))
    mocker.patch.object(review, "pending", side_effect=AssertionError("ORM path"))


LISTINGS = (
    ("ada", ("release", "list")),
    ("ada", ("release", "list", "--limit", "4")),
    ("ada", ("release", "list", "--limit", "4", "--offset", "3")),
    ("ada", ("release", "list", "--limit", "2", "--page", "3")),
    ("ada", ("release", "list", "--status", "draft")),
    ("ada", ("release", "list", "--status", "PENDING_REVIEW", "--limit", "1", "--offset", "1")),
    ("bo", ("release", "list")),
    ("admin", ("release", "list", "--all")),
    ("admin", ("release", "list", "--all", "--limit", "5", "--offset", "5")),
    ("admin", ("release", "list", "--all", "--status", "published")),
    ("admin", ("release", "list", "--all", "--offset", "100")),
    ("admin", ("review", "list")),
    ("admin", ("review", "list", "--limit", "2", "--offset", "1")),
)


@pytest.mark.parametrize(("who", "args"), LISTINGS, ids=[" ".join(a) for _, a in LISTINGS])
def test_the_plain_read_answers_as_the_services_do(
    catalogue: dict[str, Cli], who: str, args: tuple[str, ...], mocker
) -> None:
    cli = catalogue[who]
    _plain_answers_only(mocker)
    plain = cli.ok(*args)
    mocker.stopall()
    _orm_answers(mocker)
    by_services = cli.ok(*args)
    assert plain == by_services
    assert plain or args[-1] == "100"  # every case but the page past the end lists something


def test_pages_follow_each_other_newest_first_without_gap_or_repeat(
    catalogue: dict[str, Cli], mocker
) -> None:
    _plain_answers_only(mocker)
    admin = catalogue["admin"]
    whole = admin.ok("release", "list", "--all")
    pages = [
        admin.ok("release", "list", "--all", "--limit", "5", "--page", str(n)) for n in (1, 2, 3)
    ]
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in whole]
    assert len(whole) == 12
    keys = [(r["created_at"], r["id"]) for r in whole]
    assert keys == sorted(keys, reverse=True)


def test_review_list_is_the_pending_releases_longest_waiting_first(
    catalogue: dict[str, Cli], mocker
) -> None:
    _plain_answers_only(mocker)
    pending = catalogue["admin"].ok("review", "list")
    assert {r["status"] for r in pending} == {"PENDING_REVIEW"}
    assert len(pending) == 3  # releases 1, 5 and 9 of twelve
    keys = [(r["updated_at"], r["id"]) for r in pending]
    assert keys == sorted(keys)


def test_a_full_page_says_how_to_get_the_next_one(catalogue: dict[str, Cli]) -> None:
    admin = catalogue["admin"]
    full = admin("release", "list", "--all", "--limit", "5", "--offset", "5")
    assert full.exit_code == 0
    assert "--offset 10 for the next" in full.stderr
    last = admin("release", "list", "--all", "--limit", "5", "--offset", "10")
    assert last.exit_code == 0
    assert "--offset" not in last.stderr
    scripted = admin("release", "list", "--all", "--limit", "5", "--json")
    assert len(json.loads(scripted.stdout)) == 5
    assert scripted.stderr == ""  # --json: the document only, no hint for people


def test_offset_and_page_together_are_a_usage_error(catalogue: dict[str, Cli]) -> None:
    outcome = catalogue["ada"]("release", "list", "--offset", "2", "--page", "2")
    assert outcome.exit_code == 2
    assert "--offset" in outcome.stderr
    assert "--page" in outcome.stderr


@pytest.mark.parametrize("limit", ["0", "1001", "-1"])
def test_a_limit_out_of_range_is_a_usage_error(catalogue: dict[str, Cli], limit: str) -> None:
    assert catalogue["ada"]("release", "list", "--limit", limit).exit_code == 2


def test_refusals_are_the_services_words_and_codes(
    catalogue: dict[str, Cli], people: dict[str, str], store_url: str
) -> None:
    ada = catalogue["ada"]
    artist_all = ada("release", "list", "--all")
    assert artist_all.exit_code == 4
    assert artist_all.stderr.startswith("error:")
    assert catalogue["admin"]("review", "list").exit_code == 0
    assert ada("review", "list").exit_code == 4
    assert ada("release", "list", "--status", "NOPE").exit_code == 6
    assert Cli(ada.runner)("release", "list").exit_code == 4  # no session at all
    _set_rows(store_url, "UPDATE sessions SET expires_at = '2020-01-01 00:00:00'")
    expired = ada("release", "list")
    assert expired.exit_code == 4
    assert "Traceback" not in expired.stderr


def test_a_revoked_session_lists_nothing(catalogue: dict[str, Cli], store_url: str) -> None:
    _set_rows(store_url, "UPDATE sessions SET revoked_at = '2026-01-01 00:00:00'")
    outcome = catalogue["ada"]("release", "list", "--json")
    assert outcome.exit_code == 4
    assert outcome.stdout == ""


PROBE = """
import sys
sys.argv = ["vwaza", "release", "list", "--json"]
from vwaza_cli.cli.main import run
try:
    run()
except SystemExit as exc:
    code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "sqlmodel", "alembic"})
sys.stderr.write(f"LOADED={','.join(loaded)} CODE={code}\\n")
"""


def test_release_list_on_a_real_store_loads_no_orm(
    catalogue: dict[str, Cli], people: dict[str, str]
) -> None:
    environment = {**os.environ, "VWAZA_TOKEN": people["ada"]}
    environment.pop("VWAZA_SERVER", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=environment, timeout=60
    )
    assert "LOADED= CODE=0" in done.stderr, done.stderr
    assert len(json.loads(done.stdout)) == 9
