"""Fixtures shared by every test: a store on each engine, an isolated VWAZA_HOME, the CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support import db as testdb

pytest_plugins = ["tests.support.storage_fixtures"]

ENGINES = ("sqlite", "postgresql")
TEST_BCRYPT_ROUNDS = "4"
_CLEARED_ENV = (
    "VWAZA_TOKEN",
    "VWAZA_STORAGE",
    "SUPABASE_URL",
    "SUPABASE_KEY",
    "VWAZA_BUCKET",
    "VWAZA_SMTP_HOST",
    "VWAZA_SMTP_PORT",
    "VWAZA_SMTP_USER",
    "VWAZA_SMTP_PASSWORD",
    "VWAZA_SMTP_FROM",
    "VWAZA_SMTP_SECURITY",
    "VWAZA_DEBUG",
    "VWAZA_MACHINE_ID",
)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    url, explicit = testdb.pg_server_url()
    if not testdb.pg_reachable(url):
        if explicit:
            pytest.fail(f"VWAZA_TEST_PG_URL={url} is set but PostgreSQL does not answer")
        yield None
        return
    with testdb.fresh_pg_database(url) as database_url:
        from vwaza_cli.db.schema import upgrade

        upgrade(database_url)
        yield database_url


@pytest.fixture(scope="session")
def pg_empty_url() -> Iterator[str | None]:
    """A PostgreSQL database with no schema at all (never migrated)."""
    url, _ = testdb.pg_server_url()
    if not testdb.pg_reachable(url):
        yield None
        return
    with testdb.fresh_pg_database(url) as database_url:
        yield database_url


@pytest.fixture(params=ENGINES)
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path, pg_empty_url: str | None) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    if pg_empty_url is None:
        pytest.skip("PostgreSQL is not reachable")
    return pg_empty_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return testdb.sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(params=ENGINES)
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_url: str | None
) -> Iterator[str]:
    """A migrated, empty store on each engine."""
    from vwaza_cli.db.engine import dispose_engines

    if request.param == "sqlite":
        yield testdb.sqlite_copy(sqlite_template, tmp_path)
        dispose_engines()
        return
    if pg_url is None:
        pytest.skip("PostgreSQL is not reachable (set VWAZA_TEST_PG_URL to require it)")
    testdb.empty_pg(pg_url)
    yield pg_url


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated VWAZA_HOME with low bcrypt cost and no stray settings."""
    root = tmp_path / "home"
    monkeypatch.setenv("VWAZA_HOME", str(root))
    monkeypatch.setenv("VWAZA_BCRYPT_ROUNDS", TEST_BCRYPT_ROUNDS)
    monkeypatch.setenv("VWAZA_MACHINE_ID", "test-machine")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in _CLEARED_ENV:
        if name != "VWAZA_MACHINE_ID":
            monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture
def env(home: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VWAZA_DATABASE_URL", store_url)
    return home


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        return json.loads(self.stderr)["error"]


SERVER_MACHINE_COMMANDS = ("init", "db")  # run where the server runs (cli.md, team mode)


@dataclass
class Cli:
    """Runs `vwaza` in-process through Typer's runner, as a given user (or none); with a
    ``server``, as a client of that team server (VWAZA_SERVER), except the commands that
    belong to the server's machine, which run there."""

    runner: CliRunner = field(default_factory=CliRunner)
    token: str | None = None
    server: str | None = None

    def __call__(self, *args: str, input: str | None = None, token: str | None = None) -> Outcome:
        from vwaza_cli.cli.main import app

        env = {"VWAZA_TOKEN": token if token is not None else self.token}
        if self.server is not None and args and args[0] not in SERVER_MACHINE_COMMANDS:
            env["VWAZA_SERVER"] = self.server
        result = self.runner.invoke(app, list(args), input=input, env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Outcome(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, input: str | None = None, token: str | None = None) -> Any:
        """Run with --json, assert success, return the parsed output."""
        outcome = self(*args, "--json", input=input, token=token)
        assert outcome.exit_code == 0, outcome.stderr
        return outcome.json()

    def as_user(self, token: str) -> Cli:
        return Cli(self.runner, token, self.server)


MODES = ("local", "remote")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_modes` run as on one machine and through a team server."""
    if "cli_mode" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_modes") is not None
        metafunc.parametrize("cli_mode", MODES if both else MODES[:1], indirect=True)


@pytest.fixture
def cli_mode(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "local"))


@pytest.fixture
def cli(env: Path, cli_mode: str) -> Iterator[Cli]:
    """The CLI on this machine's store; in remote mode, the CLI as a client of a real
    `vwaza serve` (uvicorn on 127.0.0.1) over that same store and home."""
    if cli_mode == "local":
        yield Cli()
        return
    from tests.support.team_server import serving

    with serving() as base:
        yield Cli(server=base)


@pytest.fixture
def initialised(cli: Cli) -> Cli:
    cli.ok("init")
    return cli


def forget_saved_login() -> None:
    """As if the next login ran on another machine: a login revokes the session it replaces
    in the session file, and the helpers below hand out tokens that must all stay valid."""
    from vwaza_cli.settings import load_settings

    load_settings().session_file.unlink(missing_ok=True)


def sign_up(cli: Cli, email: str, name: str = "Artist", password: str = "correct horse") -> str:
    """Register and log in an artist; returns their session token (the saved login is theirs,
    the one saved before is left valid)."""
    cli.ok(
        "auth",
        "register",
        "--email",
        email,
        "--artist-name",
        name,
        "--password-stdin",
        input=password + "\n",
    )
    forget_saved_login()
    return cli.ok("auth", "login", "--email", email, "--password-stdin", input=password + "\n")[
        "token"
    ]


def make_admin(cli: Cli, email: str = "admin@example.com", password: str = "admin password") -> str:
    cli.ok("init", "--admin-email", email, "--password-stdin", input=password + "\n")
    forget_saved_login()
    return cli.ok("auth", "login", "--email", email, "--password-stdin", input=password + "\n")[
        "token"
    ]


@pytest.fixture
def people(cli: Cli) -> dict[str, str]:
    """Tokens of an admin and two artists on a fresh store; no saved login is left behind,
    so a command run without a token is run by nobody."""
    tokens = {
        "admin": make_admin(cli),
        "ada": sign_up(cli, "ada@example.com", "Ada"),
        "bo": sign_up(cli, "bo@example.com", "Bo"),
    }
    forget_saved_login()
    return tokens


@pytest.fixture
def ada(initialised: Cli, people: dict[str, str]) -> Cli:
    """The artist Ada, logged in."""
    return initialised.as_user(people["ada"])


@pytest.fixture
def admin(initialised: Cli, people: dict[str, str]) -> Cli:
    return initialised.as_user(people["admin"])


def pytest_report_header(config: pytest.Config) -> str:
    url, explicit = testdb.pg_server_url()
    return f"vwaza: PostgreSQL tests on {url} ({'required' if explicit else 'if reachable'})"


os.environ.setdefault("VWAZA_BCRYPT_ROUNDS", TEST_BCRYPT_ROUNDS)


@dataclass
class Media:
    """Small real media files for CLI tests."""

    folder: Path

    def wav(self, name: str = "song.wav", seconds: float = 0.5) -> Path:
        from tests.support.media_factory import make_wav

        return make_wav(self.folder / name, seconds=seconds, rate=44100, channels=1)

    def cover(self, name: str = "cover.jpg", size: int = 1000) -> Path:
        from tests.support.media_factory import make_cover

        return make_cover(self.folder / name, size=size)

    def junk(self, name: str = "junk.wav", content: bytes = b"not audio at all\n" * 10) -> Path:
        path = self.folder / name
        path.write_bytes(content)
        return path


@pytest.fixture
def media(tmp_path: Path) -> Media:
    folder = tmp_path / "media"
    folder.mkdir()
    return Media(folder)


def spool_files(home: Path) -> list[str]:
    """Names of the staged files (and temp files) in the spool, sorted."""
    spool = home / "data" / "spool"
    if not spool.exists():
        return []
    return sorted(str(p.relative_to(spool)) for p in spool.rglob("*") if p.is_file())


def store_snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of the content tables, to assert that a refused command changed nothing."""
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine

    snapshot = {}
    with get_engine(url).connect() as conn:
        for table in ("users", "releases", "tracks", "upload_jobs"):
            rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
            snapshot[table] = [tuple(row) for row in rows]
    return snapshot
