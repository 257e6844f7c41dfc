"""Edges of the store's settings (issue 12, "Contract edges"): an engine this tool does not
support is a usage error naming the supported ones, a PostgreSQL database that does not exist
says to create it (exit 7, no "retry later"), and `init` checks the first admin's email and
password before it creates or migrates anything."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.support import db as testdb

ADMIN_PASSWORD = "admin password\n"


@pytest.fixture
def store_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return home


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("mysql://root@127.0.0.1/test", "mysql"),
        ("mysql+pymysql://root@127.0.0.1/test", "mysql"),
        ("oracle://scott@127.0.0.1/orcl", "oracle"),
        ("mssql+pyodbc://sa@127.0.0.1/db", "mssql"),
    ],
)
@pytest.mark.parametrize("command", [("release", "list"), ("db", "current"), ("doctor",)])
def test_an_unsupported_engine_is_a_usage_error_naming_the_supported_ones(
    store_home: Path, monkeypatch: pytest.MonkeyPatch, url: str, named: str, command: tuple[str]
) -> None:
    monkeypatch.setenv("VWAZA_DATABASE_URL", url)
    outcome = Cli()(*command, "--json", token="t" * 43)  # the store is asked
    if command == ("doctor",):  # doctor reports every check, and exits with the worst
        report = outcome.json()
        store = next(check for check in report["checks"] if check["name"] == "store")
        assert named in store["detail"]
        assert "PostgreSQL" in store["detail"]
        return
    assert outcome.exit_code == 2, outcome.stderr
    error = outcome.error()
    assert error["type"] == "usage"
    assert named in error["message"]
    assert "SQLite" in error["message"]
    assert "PostgreSQL" in error["message"]
    assert "internal" not in error["message"]


def test_an_unsupported_engine_creates_nothing(
    store_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_DATABASE_URL", "mysql://root@127.0.0.1/test")
    outcome = Cli()(
        "init", "--admin-email", "admin@example.com", "--password-stdin", input=ADMIN_PASSWORD
    )
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: VWAZA_DATABASE_URL names mysql")
    assert len(outcome.stderr.splitlines()) == 1
    assert "Traceback" not in outcome.stderr


def test_text_that_is_no_url_is_a_usage_error(
    store_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_DATABASE_URL", "my database")
    outcome = Cli()("db", "current")
    assert outcome.exit_code == 2
    assert "sqlite:///PATH or postgresql://USER@HOST/DB" in outcome.stderr


def test_a_postgresql_database_that_does_not_exist_says_to_create_it(
    store_home: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str | None
) -> None:
    if pg_url is None:
        pytest.skip("PostgreSQL is not reachable")
    server, _ = testdb.pg_server_url()
    missing = f"vwaza_missing_{uuid.uuid4().hex[:12]}"
    url = server.rsplit("/", 1)[0] + "/" + missing
    monkeypatch.setenv("VWAZA_DATABASE_URL", url)
    for command in (("db", "current"), ("init",)):
        outcome = Cli()(*command)
        assert outcome.exit_code == 7, outcome.stderr
        line = outcome.stderr.strip()
        assert line.startswith("error: ")
        assert missing in line
        assert "create it" in line
        assert "createdb" in line
        assert "retry later" not in line


def test_a_server_that_does_not_answer_still_says_retry_later(
    store_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_DATABASE_URL", "postgresql://postgres@127.0.0.1:9/test")
    outcome = Cli()("db", "current")
    assert outcome.exit_code == 7
    assert "retry later" in outcome.stderr
    assert "create it" not in outcome.stderr


@pytest.mark.parametrize(
    ("email", "password", "code", "said"),
    [
        ("admin@example.com", "short\n", 6, "password too short"),
        ("admin@example.com", "x" * 73 + "\n", 6, "password too long"),
        ("not-an-email", ADMIN_PASSWORD, 6, "not a valid email address"),
    ],
)
def test_init_with_a_bad_first_admin_creates_nothing(
    store_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    email: str,
    password: str,
    code: int,
    said: str,
) -> None:
    store_file = tmp_path / "stores" / "new.db"
    monkeypatch.setenv("VWAZA_DATABASE_URL", f"sqlite:///{store_file}")
    outcome = Cli()("init", "--admin-email", email, "--password-stdin", input=password)
    assert outcome.exit_code == code, outcome.stderr
    assert said in outcome.stderr
    assert not store_file.parent.exists()
    assert not (store_home / "data" / "spool").exists()


def test_init_with_a_bad_first_admin_leaves_a_postgresql_database_unmigrated(
    store_home: Path, monkeypatch: pytest.MonkeyPatch, unmigrated_url: str
) -> None:
    from vwaza_cli.db import schema

    monkeypatch.setenv("VWAZA_DATABASE_URL", unmigrated_url)
    outcome = Cli()(
        "init", "--admin-email", "admin@example.com", "--password-stdin", input="short\n"
    )
    assert outcome.exit_code == 6
    assert schema.current_revision(unmigrated_url) is None
    good = Cli()(
        "init", "--admin-email", "admin@example.com", "--password-stdin", input=ADMIN_PASSWORD
    )
    assert good.exit_code == 0, good.stderr
    assert schema.current_revision(unmigrated_url) == schema.HEAD_REVISION
